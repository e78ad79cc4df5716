//! The report email through SES v2 SendEmail, as a raw MIME message (the
//! same bytes SMTP or the outbox get). The recipients are the message's
//! own To header: each batch has at most 50.

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::config::http::HttpResponse;
use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{EmailContent, RawMessage};

use crate::email::{MailTransport, Outgoing};
use crate::error::StepError;

use super::sdk_error::{SdkFailure, classify_sdk_error};

pub struct Ses {
    client: Client,
}

impl Ses {
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        Self {
            client: Client::new(config),
        }
    }
}

impl MailTransport for Ses {
    fn kind(&self) -> &'static str {
        "ses"
    }

    async fn send(&self, message: &Outgoing) -> Result<String, StepError> {
        let raw = RawMessage::builder()
            .data(Blob::new(message.raw.clone()))
            .build()
            .map_err(|e| StepError::invalid("email", e.to_string()))?;
        let out = self
            .client
            .send_email()
            .from_email_address(&message.from)
            .content(EmailContent::builder().raw(raw).build())
            .send()
            .await
            .map_err(classify)?;
        Ok(out.message_id().unwrap_or_default().to_string())
    }
}

/// The shared rule ([`classify_sdk_error`]: no credentials or region is
/// `ConfigError`; throttling, 5xx and network faults are `Transient`), then
/// SES's refusals, which say what to fix (verify the identity, leave the
/// sandbox).
fn classify<E>(err: SdkError<E, HttpResponse>) -> StepError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match classify_sdk_error("SES", &err) {
        SdkFailure::Service { code, message, .. } if REFUSALS.contains(&code.as_str()) => {
            StepError::EmailRejected {
                message: format!(
                    "SES {code}: {message}. Check that FROM_EMAIL is a verified SES identity in \
                     this region and, while the account is in the SES sandbox, that every \
                     recipient is verified too"
                ),
            }
        }
        other => other.into_step_error("SES"),
    }
}

/// SES's answers that a setting or the account's state must change.
const REFUSALS: [&str; 5] = [
    "MessageRejected",
    "MailFromDomainNotVerifiedException",
    "AccountSuspendedException",
    "SendingPausedException",
    "NotFoundException",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::sdk_error::samples::{answer, no_credentials};
    use aws_sdk_sesv2::operation::send_email::SendEmailError;

    #[test]
    fn each_failure_gets_the_name_the_definition_matches() {
        let refused = |status, code| answer(SendEmailError::generic, status, code, "m");
        for (e, name) in [
            (refused(400, "TooManyRequestsException"), "Transient"),
            (refused(503, "ServiceUnavailable"), "Transient"),
            (no_credentials(), "ConfigError"),
            (refused(400, "MessageRejected"), "EmailRejected"),
            (refused(400, "NotFoundException"), "EmailRejected"),
            (refused(403, "AccessDeniedException"), "AwsError"),
        ] {
            assert_eq!(classify(e).name(), name);
        }
    }
}
