//! The local stand-in for SES: each message is written whole, as the `.eml`
//! file a mail client opens, into an outbox folder.

use std::path::PathBuf;

use super::{MailTransport, Outgoing};
use crate::error::StepError;

pub struct Outbox {
    pub dir: PathBuf,
}

impl MailTransport for Outbox {
    fn kind(&self) -> &'static str {
        "outbox"
    }

    async fn send(&self, message: &Outgoing) -> Result<String, StepError> {
        let storage = |e: std::io::Error| StepError::Storage {
            message: format!("writing to the outbox {}: {e}", self.dir.display()),
        };
        std::fs::create_dir_all(&self.dir).map_err(storage)?;
        let path = self.dir.join(format!("{}.eml", message.name));
        // Written aside and renamed: a mail client never opens half a message.
        let tmp = self.dir.join(format!(".{}.eml.tmp", message.name));
        std::fs::write(&tmp, &message.raw).map_err(storage)?;
        std::fs::rename(&tmp, &path).map_err(storage)?;
        Ok(path.display().to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;

    #[test]
    fn writes_the_whole_message_as_an_eml_file() {
        let dir = tempfile::tempdir().unwrap();
        let outbox = Outbox {
            dir: dir.path().join("outbox"),
        };
        let m = Outgoing {
            from: "a@example.com".into(),
            recipients: vec!["b@example.com".into()],
            raw: b"Subject: hi\r\n\r\nbody\r\n".to_vec(),
            name: "2024-01-run-1".into(),
        };
        let path = block_on(outbox.send(&m)).unwrap();
        assert!(path.ends_with("outbox/2024-01-run-1.eml"), "{path}");
        assert_eq!(std::fs::read(&path).unwrap(), m.raw);
        assert_eq!(
            std::fs::read_dir(dir.path().join("outbox"))
                .unwrap()
                .count(),
            1
        );
    }
}
