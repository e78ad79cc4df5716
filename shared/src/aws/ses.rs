//! The report email through SES v2 SendEmail, as a raw MIME message (the
//! same bytes SMTP or the outbox get). The recipients are the message's
//! own To header: each batch has at most 50.

use aws_sdk_sesv2::Client;
use aws_sdk_sesv2::config::http::HttpResponse;
use aws_sdk_sesv2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{EmailContent, RawMessage};

use crate::email::{MailTransport, Outgoing};
use crate::error::StepError;

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

/// SES's refusals say what to fix (verify the identity, leave the sandbox);
/// throttling and outages are retried.
fn classify<E>(err: SdkError<E, HttpResponse>) -> StepError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let detail = DisplayErrorContext(&err).to_string();
    let SdkError::ServiceError(service) = &err else {
        return StepError::transient(format!("SES did not answer: {detail}"));
    };
    let e = service.err();
    let code = e.code().unwrap_or("Unknown").to_string();
    let message = e.message().unwrap_or(&detail).to_string();
    match code.as_str() {
        "TooManyRequestsException" | "LimitExceededException" | "ThrottlingException" => {
            StepError::transient(format!("SES {code}: {message}"))
        }
        _ if service.raw().status().is_server_error() => {
            StepError::transient(format!("SES {code}: {message}"))
        }
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
