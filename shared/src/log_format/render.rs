//! Writing a record back as a log line, exactly as AWS would: the inverse of
//! [`super::parse_line`] (used by the sample-log generator and the
//! round-trip tests); and as a structured record's JSON object, the inverse
//! of [`super::structured`].

use std::fmt::Write;

use chrono::DateTime;

use serde::ser::{Serialize, SerializeMap, Serializer};

use super::fields::{BUCKET_ARN_FIELD, FIELDS, KNOWN_SCHEMA_VERSIONS, SCHEMA_VERSION_FIELD};
use super::time::format_structured_time;
use super::{FieldValue, LogRecord};

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
            .request_time_ms
            .and_then(DateTime::from_timestamp_millis)
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

impl LogRecord<'_> {
    /// The record as a structured record's JSON object (one line): the
    /// schema version, the bucket's ARN, then each field the record's
    /// `field_count` covers by its structured name, missing values as null.
    pub fn to_structured_json(&self) -> String {
        serde_json::to_string(&Structured(self)).expect("a record serializes")
    }
}

struct Structured<'r, 'a>(&'r LogRecord<'a>);

impl Serialize for Structured<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let known = r.field_count.min(FIELDS.len());
        let mut map = s.serialize_map(Some(known + 2))?;
        map.serialize_entry(SCHEMA_VERSION_FIELD, KNOWN_SCHEMA_VERSIONS[0])?;
        let arn = r.bucket.map(|b| format!("arn:aws:s3:::{b}"));
        map.serialize_entry(BUCKET_ARN_FIELD, &arn)?;
        for (field, value) in FIELDS.iter().zip(r.values()).take(known) {
            match value {
                FieldValue::Text(v) => map.serialize_entry(field.structured_name, &v)?,
                FieldValue::Int(v) => map.serialize_entry(field.structured_name, &v)?,
                FieldValue::Time(v) => {
                    map.serialize_entry(field.structured_name, &v.map(format_structured_time))?
                }
            }
        }
        map.end()
    }
}
