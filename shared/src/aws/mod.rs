//! Production adapters over the AWS SDK (feature `aws`). Lambdas and `s3la`
//! build clients once at start with [`sdk_config`]; the handlers only see the
//! ports.

pub mod athena;
// Needs feature `smtp` for the SMTP choice.
#[cfg(feature = "smtp")]
pub mod mail_transport;
pub mod s3;
pub mod sdk_error;
#[cfg(feature = "cloudfront")]
pub mod secrets;
pub mod ses;

use aws_config::BehaviorVersion;

/// The SDK's standard configuration chain: `AWS_REGION`, `AWS_PROFILE`,
/// credentials from the environment, profile, SSO or the Lambda role, and
/// endpoint overrides such as `AWS_ENDPOINT_URL` (used by the tests).
pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}
