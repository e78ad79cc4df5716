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
    let (code, message) = match classify_sdk_error("SES", &err) {
        SdkFailure::Config { variable, message } => return StepError::config(variable, message),
        SdkFailure::Transient { message } => return StepError::transient(message),
        SdkFailure::Client { message } => ("ClientError".to_string(), message),
        SdkFailure::Service { code, message, .. } => (code, message),
    };
    match code.as_str() {
        "MessageRejected"
        | "MailFromDomainNotVerifiedException"
        | "AccountSuspendedException"
        | "SendingPausedException"
        | "NotFoundException" => StepError::EmailRejected {
            message: format!(
                "SES {code}: {message}. Check that FROM_EMAIL is a verified SES identity in this \
                 region and, while the account is in the SES sandbox, that every recipient is verified too"
            ),
        },
        _ => StepError::Aws {
            service: "SES",
            code,
            message,
        },
    }
}
