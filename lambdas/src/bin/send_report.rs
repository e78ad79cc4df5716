//! SendReport Lambda: the period's report by email, through SES v2, or over
//! SMTP when SMTP_HOST is set; with a link to the csv.gz: a CloudFront signed
//! URL for a week when LINK_BASE_URL, LINK_KEY_PAIR_ID and
//! LINK_PRIVATE_KEY_SECRET are set (the key read from Secrets Manager once,
//! here), else a presigned S3 URL that lives no longer than the role's
//! credentials (an hour when their expiry is unknown).

use s3la_shared::aws::mail_transport::Transport;
use s3la_shared::aws::s3::S3Store;
use s3la_shared::aws::sdk_config;
use s3la_shared::aws::secrets::link_signer;
use s3la_shared::aws::ses::Ses;
use s3la_shared::config::ProcessEnv;
use s3la_shared::email::EmailConfig;
use s3la_shared::email::smtp::SmtpConfig;
use s3la_shared::links::{LinkConfig, SignLink};
use s3la_shared::steps::send_report::send_report;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let config = s3la_lambdas::config_or_exit(EmailConfig::from_env(&ProcessEnv));
    let links = s3la_lambdas::config_or_exit(LinkConfig::from_env(&ProcessEnv));
    let sdk = sdk_config().await;
    let store = S3Store::from_config(&sdk);
    let smtp = s3la_lambdas::config_or_exit(SmtpConfig::from_env(&ProcessEnv));
    let transport = s3la_lambdas::config_or_exit(Transport::smtp_or(smtp.as_ref(), || {
        Transport::Ses(Ses::from_config(&sdk))
    }));
    let signer = match &links {
        Some(links) => Some(s3la_lambdas::config_or_exit(link_signer(links, &sdk).await)),
        None => None,
    };
    let signer = signer.as_ref().map(|s| s as &dyn SignLink);
    let (config, store, transport) = (&config, &store, &transport);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
            send_report(event.payload, config, store, transport, signer)
                .await
                .map_err(s3la_lambdas::StepFailure)
        },
    ))
    .await
}
