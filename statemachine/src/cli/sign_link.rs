//! `s3la sign-cloudfront-url` (hidden): the CloudFront signer SendReport
//! uses, on a URL and an expiry given here, so the e2e tests can hold its
//! output to an independent implementation (botocore's CloudFrontSigner).

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::Args;
use s3la_shared::links::LinkConfig;
use s3la_shared::links::cloudfront::CloudFrontSigner;

#[derive(Debug, Args)]
pub struct SignArgs {
    /// The URL to sign (the canned policy's Resource).
    #[arg(long)]
    url: String,
    /// When the link stops working, in seconds since the epoch.
    #[arg(long)]
    expires: u64,
    /// The CloudFront public key ID.
    #[arg(long)]
    key_pair_id: String,
    /// The RSA private key, PEM (PKCS#1 or PKCS#8).
    #[arg(long)]
    private_key: PathBuf,
}

pub fn run(args: SignArgs) -> anyhow::Result<ExitCode> {
    let pem = std::fs::read_to_string(&args.private_key)
        .with_context(|| format!("reading {}", args.private_key.display()))?;
    let config = LinkConfig {
        base_url: String::new(),
        key_pair_id: args.key_pair_id,
        private_key_secret: String::new(),
    };
    let signer = CloudFrontSigner::from_pem(config, &pem)
        .map_err(|m| anyhow!("{} {m}", args.private_key.display()))?;
    println!("{}", signer.sign_url(&args.url, args.expires));
    Ok(ExitCode::SUCCESS)
}
