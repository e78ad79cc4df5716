//! The CloudFront link signer's private key, read once when SendReport (or
//! `s3la invoke SendReport`) starts, from the Secrets Manager secret that
//! `LINK_PRIVATE_KEY_SECRET` names (feature `cloudfront`).

use aws_sdk_secretsmanager::Client;

use super::sdk_error::{SdkFailure, classify_sdk_error};
use crate::error::StepError;
use crate::links::LinkConfig;
use crate::links::cloudfront::CloudFrontSigner;

const VARIABLE: &str = "LINK_PRIVATE_KEY_SECRET";

/// The signer for `config`, its key read from Secrets Manager. Any failure
/// names `LINK_PRIVATE_KEY_SECRET` (the secret, its access, its content),
/// except a fault a retry may cure.
pub async fn link_signer(
    config: &LinkConfig,
    sdk: &aws_config::SdkConfig,
) -> Result<CloudFrontSigner, StepError> {
    let secret = &config.private_key_secret;
    let answer = Client::new(sdk)
        .get_secret_value()
        .secret_id(secret)
        .send()
        .await
        .map_err(|e| match classify_sdk_error("Secrets Manager", &e) {
            SdkFailure::Config { variable, message } => StepError::config(variable, message),
            SdkFailure::Transient { message } => StepError::transient(message),
            SdkFailure::Client { message } => StepError::config(VARIABLE, message),
            SdkFailure::Service { code, message, .. } => StepError::config(
                VARIABLE,
                format!("GetSecretValue of {secret} failed: {code}: {message}"),
            ),
        })?;
    let pem = answer.secret_string().ok_or_else(|| {
        StepError::config(
            VARIABLE,
            format!("{secret} has no SecretString: store the private key PEM as text"),
        )
    })?;
    CloudFrontSigner::from_pem(config.clone(), pem)
        .map_err(|m| StepError::config(VARIABLE, format!("{secret} {m}")))
}
