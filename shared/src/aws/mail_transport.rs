//! The one choice of mail transport every runner makes the same way: SMTP
//! when `SMTP_HOST` is set, else the runner's default (SES v2 on AWS, the
//! outbox folder locally). It lives beside the SES adapter, not in `email`,
//! so that `email` knows only its [`MailTransport`] port and no AWS adapter.

use super::ses::Ses;
use crate::email::outbox::Outbox;
use crate::email::smtp::{Smtp, SmtpConfig};
use crate::email::{MailTransport, Outgoing};
use crate::error::StepError;

pub enum Transport {
    Ses(Ses),
    Smtp(Smtp),
    Outbox(Outbox),
}

impl Transport {
    /// SMTP when `smtp` is set (from [`SmtpConfig::from_env`]), else `default()`.
    pub fn smtp_or(
        smtp: Option<&SmtpConfig>,
        default: impl FnOnce() -> Transport,
    ) -> Result<Self, StepError> {
        Ok(match smtp {
            Some(c) => Transport::Smtp(Smtp::new(c)?),
            None => default(),
        })
    }
}

impl MailTransport for Transport {
    fn kind(&self) -> &'static str {
        match self {
            Transport::Ses(t) => t.kind(),
            Transport::Smtp(t) => t.kind(),
            Transport::Outbox(t) => t.kind(),
        }
    }

    async fn send(&self, message: &Outgoing) -> Result<String, StepError> {
        match self {
            Transport::Ses(t) => t.send(message).await,
            Transport::Smtp(t) => t.send(message).await,
            Transport::Outbox(t) => t.send(message).await,
        }
    }
}
