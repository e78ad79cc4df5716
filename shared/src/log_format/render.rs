//! Writing a record back as a log line, exactly as AWS would: the inverse of
//! [`super::parse_line`] (used by the sample-log generator and the
//! round-trip tests).

use std::fmt::Write;

use chrono::DateTime;

use super::LogRecord;

impl LogRecord<'_> {
    /// The record as one log line (no line end), with `field_count` fields.
    pub fn to_line(&self) -> String {
        let mut s = String::with_capacity(512);
        let text = |s: &mut String, v: Option<&str>| s.push_str(v.unwrap_or("-"));
        let int = |s: &mut String, v: Option<i64>| match v {
            Some(v) => {
                let _ = write!(s, "{v}");
            }
            None => s.push('-'),
        };
        let quoted = |s: &mut String, v: Option<&str>| {
            s.push('"');
            s.push_str(v.unwrap_or("-"));
            s.push('"');
        };
        text(&mut s, self.bucket_owner);
        s.push(' ');
        text(&mut s, self.bucket);
        s.push(' ');
        match self
            .request_time
            .and_then(|t| DateTime::from_timestamp(t, 0))
        {
            Some(t) => {
                let _ = write!(s, "{}", t.format("[%d/%b/%Y:%H:%M:%S +0000]"));
            }
            None => s.push('-'),
        }
        for v in [
            self.remote_ip,
            self.requester,
            self.request_id,
            self.operation,
            self.key,
        ] {
            s.push(' ');
            text(&mut s, v);
        }
        s.push(' ');
        quoted(&mut s, self.request_uri);
        s.push(' ');
        int(&mut s, self.http_status.map(i64::from));
        s.push(' ');
        text(&mut s, self.error_code);
        for v in [
            self.bytes_sent,
            self.object_size,
            self.total_time,
            self.turn_around_time,
        ] {
            s.push(' ');
            int(&mut s, v);
        }
        s.push(' ');
        quoted(&mut s, self.referer);
        s.push(' ');
        quoted(&mut s, self.user_agent);
        let trailing = self.trailing_text_fields();
        let known = self.field_count.saturating_sub(17).min(trailing.len());
        for v in &trailing[..known] {
            s.push(' ');
            text(&mut s, *v);
        }
        if let Some(extra) = self.extra {
            s.push(' ');
            s.push_str(extra);
        }
        s
    }
}
