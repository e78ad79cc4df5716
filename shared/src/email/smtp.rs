//! The report email over SMTP, when `SMTP_HOST` is set (the original
//! tool's variables: `SMTP_HOST`, `SMTP_USERNAME`, `SMTP_PASSWORD`).
//! STARTTLS on port 587 unless `SMTP_TLS` says `tls` (implicit TLS, 465)
//! or `none` (plain text: a relay on localhost only).

use lettre::address::Envelope;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Address, AsyncSmtpTransport, AsyncTransport, Tokio1Executor};

use super::{MailTransport, Outgoing};
use crate::config::Env;
use crate::error::StepError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Security {
    StartTls,
    Tls,
    None,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<(String, String)>,
}

impl SmtpConfig {
    /// `None` when `SMTP_HOST` is not set (the report goes through SES).
    pub fn from_env(env: &dyn Env) -> Result<Option<Self>, StepError> {
        let get = |name: &str| env.get(name).filter(|v| !v.trim().is_empty());
        let Some(host) = get("SMTP_HOST") else {
            return Ok(None);
        };
        let security = match get("SMTP_TLS").as_deref().map(str::trim) {
            None | Some("starttls") => Security::StartTls,
            Some("tls") => Security::Tls,
            Some("none") => Security::None,
            Some(other) => {
                return Err(StepError::config(
                    "SMTP_TLS",
                    format!("must be starttls, tls or none, got '{other}'"),
                ));
            }
        };
        let default_port = match security {
            Security::Tls => 465,
            _ => 587,
        };
        let (host, port) = match host.trim().rsplit_once(':') {
            Some((h, p)) => (
                h.to_string(),
                p.parse::<u16>().map_err(|_| {
                    StepError::config(
                        "SMTP_HOST",
                        format!("'{p}' is not a port; expected host or host:port"),
                    )
                })?,
            ),
            None => (host.trim().to_string(), default_port),
        };
        if security == Security::None && !matches!(host.as_str(), "localhost" | "127.0.0.1" | "::1")
        {
            return Err(StepError::config(
                "SMTP_TLS",
                format!(
                    "none sends the password in clear text; only allowed for a relay on localhost, not {host}"
                ),
            ));
        }
        let credentials = match (get("SMTP_USERNAME"), get("SMTP_PASSWORD")) {
            (Some(u), Some(p)) => Some((u, p)),
            (None, None) => None,
            (Some(_), None) => {
                return Err(StepError::config(
                    "SMTP_PASSWORD",
                    "is not set, but SMTP_USERNAME is",
                ));
            }
            (None, Some(_)) => {
                return Err(StepError::config(
                    "SMTP_USERNAME",
                    "is not set, but SMTP_PASSWORD is",
                ));
            }
        };
        Ok(Some(Self {
            host,
            port,
            security,
            credentials,
        }))
    }
}

pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
}

impl Smtp {
    pub fn new(c: &SmtpConfig) -> Result<Self, StepError> {
        let setup =
            |e: lettre::transport::smtp::Error| StepError::config("SMTP_HOST", e.to_string());
        let mut b = match c.security {
            Security::StartTls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&c.host).map_err(setup)?
            }
            Security::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&c.host).map_err(setup)?,
            Security::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&c.host),
        }
        .port(c.port)
        // A server that stops answering must not hold the step until the
        // Lambda's own timeout: fail, and let the definition retry.
        .timeout(Some(std::time::Duration::from_secs(30)));
        if let Some((user, password)) = &c.credentials {
            b = b.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self {
            transport: b.build(),
        })
    }
}

impl MailTransport for Smtp {
    fn kind(&self) -> &'static str {
        "smtp"
    }

    async fn send(&self, message: &Outgoing) -> Result<String, StepError> {
        let address = |a: &str| {
            a.parse::<Address>()
                .map_err(|e| StepError::invalid("email", format!("'{a}': {e}")))
        };
        let to = message
            .recipients
            .iter()
            .map(|r| address(r))
            .collect::<Result<Vec<_>, _>>()?;
        let envelope = Envelope::new(Some(address(&message.from)?), to)
            .map_err(|e| StepError::invalid("email", e.to_string()))?;
        let response = self
            .transport
            .send_raw(&envelope, &message.raw)
            .await
            .map_err(|e| {
                if e.is_permanent() {
                    StepError::EmailRejected {
                        message: format!("the SMTP server refused the message: {e}"),
                    }
                } else {
                    StepError::transient(format!("SMTP: {e}"))
                }
            })?;
        Ok(response.message().collect::<Vec<_>>().join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_checked() {
        let c = SmtpConfig::from_env(&[
            ("SMTP_HOST", "smtp.example.com"),
            ("SMTP_USERNAME", "u"),
            ("SMTP_PASSWORD", "p"),
        ])
        .unwrap()
        .unwrap();
        assert_eq!((c.port, c.security), (587, Security::StartTls));
        assert!(
            SmtpConfig::from_env(&[("SMTP_TLS", "none")])
                .unwrap()
                .is_none()
        );
        let e = SmtpConfig::from_env(&[("SMTP_HOST", "smtp.example.com"), ("SMTP_TLS", "none")])
            .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("SMTP_TLS: none sends the password"),
            "{e}"
        );
        let e = SmtpConfig::from_env(&[("SMTP_HOST", "h:port")]).unwrap_err();
        assert!(
            e.to_string().starts_with("SMTP_HOST: 'port' is not a port"),
            "{e}"
        );
        let e = SmtpConfig::from_env(&[("SMTP_HOST", "h"), ("SMTP_USERNAME", "u")]).unwrap_err();
        assert!(e.to_string().starts_with("SMTP_PASSWORD"), "{e}");
        let c = SmtpConfig::from_env(&[("SMTP_HOST", "127.0.0.1:2525"), ("SMTP_TLS", "none")])
            .unwrap()
            .unwrap();
        assert_eq!(
            (c.host.as_str(), c.port, c.credentials),
            ("127.0.0.1", 2525, None)
        );
    }
}
