//! The report email: settings ([`EmailConfig`]), recipients checked one by
//! one and sent in batches of at most [`MAX_RECIPIENTS`], and one MIME
//! message (HTML with a plain-text alternative) that every transport sends
//! as the same bytes: SES v2 (`aws::ses`), SMTP ([`smtp`], feature `smtp`)
//! or the local outbox ([`outbox`]). This module knows no AWS adapter: they
//! implement its [`MailTransport`], and `aws::mail_transport` picks one.

pub mod outbox;
#[cfg(feature = "smtp")]
pub mod smtp;

use std::future::Future;

use lettre::Message;
use lettre::message::{Mailbox, MultiPart};

use crate::config::Env;
use crate::error::StepError;

/// SES's limit of recipients per message; more are sent in batches.
pub const MAX_RECIPIENTS: usize = 50;

/// Who sends the report and to whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmailConfig {
    /// `FROM_EMAIL`: a verified SES identity (an address or one of a verified domain).
    pub from: Mailbox,
    /// `REPLY_TO_EMAIL`, optional.
    pub reply_to: Option<Mailbox>,
    /// `TARGET_EMAIL_ADDRESS`: a comma-separated list.
    pub to: Vec<Mailbox>,
}

fn mailbox(variable: &str, text: &str) -> Result<Mailbox, StepError> {
    let text = text.trim();
    text.parse::<Mailbox>().map_err(|e| {
        StepError::config(
            variable,
            format!("'{text}' is not an email address ({e}); expected name@example.com"),
        )
    })
}

/// A comma-separated list of addresses, each checked; duplicates dropped.
pub fn recipients(variable: &str, list: &str) -> Result<Vec<Mailbox>, StepError> {
    let mut out: Vec<Mailbox> = Vec::new();
    for item in list.split(',') {
        if item.trim().is_empty() {
            continue;
        }
        let m = mailbox(variable, item)?;
        if !out.iter().any(|o| o.email == m.email) {
            out.push(m);
        }
    }
    if out.is_empty() {
        return Err(StepError::config(
            variable,
            "lists no address; expected a comma-separated list like ops@example.com,finops@example.com",
        ));
    }
    Ok(out)
}

impl EmailConfig {
    pub fn from_env(env: &dyn Env) -> Result<Self, StepError> {
        let get = |name: &str| env.get(name).filter(|v| !v.trim().is_empty());
        let from = get("FROM_EMAIL").ok_or_else(|| {
            StepError::config(
                "FROM_EMAIL",
                "is not set (a verified SES identity, e.g. reports@example.com)",
            )
        })?;
        let to = get("TARGET_EMAIL_ADDRESS").ok_or_else(|| {
            StepError::config(
                "TARGET_EMAIL_ADDRESS",
                "is not set (a comma-separated list, e.g. ops@example.com,finops@example.com)",
            )
        })?;
        Ok(Self {
            from: mailbox("FROM_EMAIL", &from)?,
            reply_to: get("REPLY_TO_EMAIL")
                .map(|r| mailbox("REPLY_TO_EMAIL", &r))
                .transpose()?,
            to: recipients("TARGET_EMAIL_ADDRESS", &to)?,
        })
    }
}

/// Locally the report goes to an outbox folder, so the addresses only fill
/// the headers: unset ones default to local placeholders.
pub const LOCAL_FROM: &str = "S3 Logs Analyzer <s3la@localhost>";
pub const LOCAL_TO: &str = "you@localhost";

impl EmailConfig {
    /// [`EmailConfig::from_env`] with [`LOCAL_FROM`] and [`LOCAL_TO`] for
    /// unset addresses (`s3la run --email`).
    pub fn local(env: &dyn Env) -> Result<Self, StepError> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for (name, default) in [
            ("FROM_EMAIL", LOCAL_FROM),
            ("REPLY_TO_EMAIL", ""),
            ("TARGET_EMAIL_ADDRESS", LOCAL_TO),
        ] {
            let v = env.get(name).filter(|v| !v.trim().is_empty());
            pairs.push((name.to_string(), v.unwrap_or_else(|| default.to_string())));
        }
        Self::from_env(&pairs)
    }
}

/// One message ready to send: its envelope and its bytes.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub from: String,
    pub recipients: Vec<String>,
    /// The whole MIME message (RFC 5322), as SES raw, SMTP DATA or a `.eml` file.
    pub raw: Vec<u8>,
    /// A name for this message, unique per execution and batch (`.eml` file
    /// names, Message-ID).
    pub name: String,
}

/// Sends a message; answers the id the service gave it (or where it went).
pub trait MailTransport {
    /// `ses`, `smtp` or `outbox`, for the step's output.
    fn kind(&self) -> &'static str;
    fn send(&self, message: &Outgoing) -> impl Future<Output = Result<String, StepError>> + Send;
}

/// The messages for `config.to`, [`MAX_RECIPIENTS`] recipients each.
pub fn compose(
    config: &EmailConfig,
    subject: &str,
    text: &str,
    html: &str,
    name: &str,
) -> Result<Vec<Outgoing>, StepError> {
    let domain = config.from.email.domain().to_string();
    config
        .to
        .chunks(MAX_RECIPIENTS)
        .enumerate()
        .map(|(n, batch)| {
            let name = format!("{name}-{}", n + 1);
            let mut b = Message::builder()
                .from(config.from.clone())
                .subject(subject)
                .date_now()
                // Stable per execution and batch: a resent message is
                // recognisable as the same one.
                .message_id(Some(format!("<s3la-{name}@{domain}>")));
            if let Some(r) = &config.reply_to {
                b = b.reply_to(r.clone());
            }
            for m in batch {
                b = b.to(m.clone());
            }
            let message = b
                .multipart(MultiPart::alternative_plain_html(
                    text.to_string(),
                    html.to_string(),
                ))
                .map_err(|e| StepError::invalid("email", format!("building the message: {e}")))?;
            Ok(Outgoing {
                from: config.from.email.to_string(),
                recipients: batch.iter().map(|m| m.email.to_string()).collect(),
                raw: message.formatted(),
                name,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(to: &str) -> Result<EmailConfig, StepError> {
        EmailConfig::from_env(&[
            ("FROM_EMAIL", "Reports <reports@example.com>"),
            ("REPLY_TO_EMAIL", "ops@example.com"),
            ("TARGET_EMAIL_ADDRESS", to),
        ])
    }

    #[test]
    fn each_recipient_is_checked_and_named() {
        let c = config(" a@example.com, b@example.org ,a@example.com,").unwrap();
        assert_eq!(c.to.len(), 2, "duplicates and empty items dropped");
        for bad in [
            "a@example.com, not-an-address",
            "a@@b",
            "x@example.com;y@example.com",
        ] {
            let e = config(bad).unwrap_err();
            assert_eq!(e.name(), "ConfigError");
            assert!(e.to_string().starts_with("TARGET_EMAIL_ADDRESS: '"), "{e}");
        }
        let e = config(" , ").unwrap_err();
        assert!(e.to_string().contains("lists no address"), "{e}");
        let e = EmailConfig::from_env(&[("TARGET_EMAIL_ADDRESS", "a@example.com")]).unwrap_err();
        assert!(e.to_string().starts_with("FROM_EMAIL: is not set"), "{e}");
    }

    #[test]
    fn more_than_fifty_recipients_go_in_batches() {
        let list: Vec<String> = (0..120).map(|i| format!("user{i}@example.com")).collect();
        let c = config(&list.join(",")).unwrap();
        let messages = compose(&c, "Subject", "text", "<p>html</p>", "2024-01-run").unwrap();
        let sizes: Vec<usize> = messages.iter().map(|m| m.recipients.len()).collect();
        assert_eq!(sizes, vec![50, 50, 20]);
        let all: Vec<&String> = messages.iter().flat_map(|m| &m.recipients).collect();
        assert_eq!(all.len(), 120);
        assert_eq!(messages[2].name, "2024-01-run-3");
    }

    #[test]
    fn the_message_has_both_parts_and_the_headers() {
        let c = config("a@example.com").unwrap();
        let m = &compose(
            &c,
            "S3 usage of b: 2024-01",
            "plain words",
            "<p>rich</p>",
            "x",
        )
        .unwrap()[0];
        let raw = String::from_utf8(m.raw.clone()).unwrap();
        assert!(raw.contains("Subject: S3 usage of b: 2024-01"));
        assert!(raw.contains("Reply-To: ops@example.com"));
        assert!(raw.contains("To: a@example.com"));
        assert!(raw.contains("multipart/alternative"));
        assert!(raw.contains("text/plain") && raw.contains("text/html"));
        assert!(raw.contains("Message-ID: <s3la-x-1@example.com>"));
        assert_eq!(m.from, "reports@example.com");
    }
}
