//! The structured records of S3's 2026 log delivery (log type
//! `S3_SERVER_ACCESS_LOGS` through CloudWatch's vended-log delivery): one
//! object per request with named, typed fields, as "Log format in CloudWatch
//! Logs" in the S3 user guide describes them. They reach us as JSON (a
//! CloudWatch Logs export, JSON files in S3, Firehose) or as Parquet files in
//! S3; both readers fill a [`StructuredRecord`] and read it as the same
//! [`LogRecord`] the text parser makes, so every later stage is one.
//!
//! What the guide documents, and what is read leniently because it does not:
//! - `request_time` is ISO 8601 in UTC with milliseconds; other RFC 3339
//!   shapes are read too, and a Parquet timestamp column as its instant.
//! - A missing value is `null` (the text format's `-`). A field left out of
//!   the delivery's `recordFields` is absent: both read as null.
//! - `http_status` is an `int`. The types of the fields after it are not in
//!   the page's text we could read; numbers are read from JSON numbers or
//!   from strings of digits, text from strings (or a number's or a boolean's
//!   text), so either choice AWS made reads the same.
//! - `schema_version_id` names the record schema (`V_1_0`). A record of a
//!   version this build does not know is read when its fields can be; when
//!   they cannot, the error names the version.
//! - `bucket_arn` is checked against `bucket_name` (which AWS derives from
//!   it) and gives the name when the delivery left `bucket_name` out.
//! - Fields this build does not know are kept, as the text format's
//!   trailing fields are, in `extra_fields`: each as `name=value`, spaces in
//!   the value written `%20` (the list is split at spaces).

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};

use super::fields::{
    BUCKET_ARN_FIELD, FIELDS, KNOWN_SCHEMA_VERSIONS, SCHEMA_VERSION_FIELD, Value,
    by_structured_name,
};
use super::lines::LineCounts;
use super::time::parse_structured_time;
use super::{LogRecord, ParseError};

/// One field's value as a record gave it, already read as the field's type.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Raw<'a> {
    /// Absent from the record, or `null`.
    #[default]
    Null,
    Text(Cow<'a, str>),
    Int(i64),
    /// Milliseconds since the epoch, UTC.
    TimeMs(i64),
    /// A value the field's type cannot hold: the message says why.
    Invalid(String),
}

/// A value before it is read as a field's type.
#[derive(Debug, Clone, PartialEq)]
pub enum Given<'a> {
    Null,
    Text(Cow<'a, str>),
    Int(i64),
    /// Milliseconds since the epoch (a Parquet timestamp column).
    TimeMs(i64),
    /// Any other value (a fraction, a boolean, an object), as its JSON text.
    Other(String),
}

/// One structured record, its fields in [`FIELDS`] order.
#[derive(Debug, Clone, Default)]
pub struct StructuredRecord<'a> {
    values: [Raw<'a>; FIELDS.len()],
    schema_version: Option<Cow<'a, str>>,
    bucket_arn: Option<Cow<'a, str>>,
    /// Unknown fields as `name=value`, joined by spaces.
    unknown: String,
}

impl<'a> StructuredRecord<'a> {
    /// Sets the field called `name` (its structured name); where the field
    /// is, when the caller knows it, is [`StructuredRecord::set_at`].
    pub fn set(&mut self, name: &str, value: Given<'a>) {
        match by_structured_name(name) {
            Some(i) => self.set_at(i, value),
            None => self.set_other(name, value),
        }
    }

    /// Sets the field at `index` in [`FIELDS`].
    pub fn set_at(&mut self, index: usize, value: Given<'a>) {
        let field = &FIELDS[index];
        self.values[index] = read_as(field.value, field.structured_name, value);
    }

    /// Sets a field that is not one of [`FIELDS`].
    pub fn set_other(&mut self, name: &str, value: Given<'a>) {
        let text = |v: Given<'a>| match v {
            Given::Null => None,
            Given::Text(s) => Some(s),
            Given::Int(n) => Some(Cow::Owned(n.to_string())),
            Given::TimeMs(ms) => Some(Cow::Owned(ms.to_string())),
            Given::Other(s) => Some(Cow::Owned(s)),
        };
        match name {
            SCHEMA_VERSION_FIELD => self.schema_version = text(value),
            BUCKET_ARN_FIELD => self.bucket_arn = text(value),
            _ => {
                let value = match text(value) {
                    Some(v) => v.replace('%', "%25").replace(' ', "%20"),
                    None => "null".to_string(),
                };
                if !self.unknown.is_empty() {
                    self.unknown.push(' ');
                }
                self.unknown.push_str(&name.replace(' ', "%20"));
                self.unknown.push('=');
                self.unknown.push_str(&value);
            }
        }
    }

    /// The record as the text parser gives one, or the first field that
    /// cannot be read.
    pub fn to_record(&self) -> Result<LogRecord<'_>, ParseError> {
        self.read().map_err(|mut e| {
            if let Some(v) = self.schema_version.as_deref()
                && !KNOWN_SCHEMA_VERSIONS.contains(&v)
            {
                e.message.push_str(&format!(
                    " (the record's schema_version_id is {v}, which this version does not \
                     know: it reads {})",
                    KNOWN_SCHEMA_VERSIONS.join(", ")
                ));
            }
            e
        })
    }

    fn read(&self) -> Result<LogRecord<'_>, ParseError> {
        let mut r = LogRecord {
            field_count: FIELDS.len(),
            ..LogRecord::default()
        };
        for (i, (field, raw)) in FIELDS.iter().zip(&self.values).enumerate() {
            match raw {
                Raw::Invalid(why) => return Err(ParseError::new(field.json_name, why.clone())),
                Raw::Null => {}
                Raw::Text(s) => r.set_text(i, s),
                Raw::Int(n) => r.set_int(i, *n),
                Raw::TimeMs(ms) => r.request_time_ms = Some(*ms),
            }
        }
        if let Some(arn) = self.bucket_arn.as_deref() {
            let name = bucket_of_arn(arn).ok_or_else(|| {
                ParseError::new(
                    "bucket",
                    format!("bucket_arn '{arn}' is not a bucket's ARN (arn:aws:s3:::NAME)"),
                )
            })?;
            match r.bucket {
                None => r.bucket = Some(name),
                Some(b) if b == name => {}
                Some(b) => {
                    return Err(ParseError::new(
                        "bucket",
                        format!("bucket_name '{b}' is not the bucket of bucket_arn '{arn}'"),
                    ));
                }
            }
        }
        if !self.unknown.is_empty() {
            r.extra = Some(&self.unknown);
        }
        Ok(r)
    }
}

/// `NAME` of `arn:PARTITION:s3:::NAME`.
fn bucket_of_arn(arn: &str) -> Option<&str> {
    let rest = arn.strip_prefix("arn:")?;
    let (partition, rest) = rest.split_once(':')?;
    let name = rest.strip_prefix("s3:::")?;
    (!partition.is_empty() && !name.is_empty()).then_some(name)
}

/// `value` read as a field of type `value_type` named `name`.
fn read_as<'a>(value_type: Value, name: &str, value: Given<'a>) -> Raw<'a> {
    match (value_type, value) {
        (_, Given::Null) => Raw::Null,
        (Value::Text, Given::Text(s)) => Raw::Text(s),
        (Value::Text, Given::Int(n)) => Raw::Text(Cow::Owned(n.to_string())),
        (Value::Text, Given::Other(s)) => Raw::Text(Cow::Owned(s)),
        (Value::Text, Given::TimeMs(ms)) => Raw::Text(Cow::Owned(ms.to_string())),
        (Value::Int32, Given::Int(n)) => int32(name, n),
        (Value::Int64, Given::Int(n)) => Raw::Int(n),
        (Value::Int32 | Value::Int64, Given::Text(s)) => match s.parse::<i64>() {
            Ok(n) if s.bytes().all(|b| b.is_ascii_digit()) => match value_type {
                Value::Int32 => int32(name, n),
                _ => Raw::Int(n),
            },
            _ => Raw::Invalid(format!("{name}: expected a whole number, found \"{s}\"")),
        },
        (Value::Int32 | Value::Int64, other) => Raw::Invalid(format!(
            "{name}: expected a whole number, found {}",
            describe(&other)
        )),
        (Value::Time, Given::TimeMs(ms)) => Raw::TimeMs(ms),
        (Value::Time, Given::Text(s)) => match parse_structured_time(&s) {
            Ok(ms) => Raw::TimeMs(ms),
            Err(why) => Raw::Invalid(format!("{name}: {why}")),
        },
        (Value::Time, other) => Raw::Invalid(format!(
            "{name}: expected an ISO 8601 time string, found {}",
            describe(&other)
        )),
    }
}

fn int32(name: &str, n: i64) -> Raw<'static> {
    match i32::try_from(n) {
        Ok(_) => Raw::Int(n),
        Err(_) => Raw::Invalid(format!("{name}: {n} is out of range for a status code")),
    }
}

fn describe(v: &Given<'_>) -> String {
    match v {
        Given::Null => "null".into(),
        Given::Text(s) => format!("\"{s}\""),
        Given::Int(n) => n.to_string(),
        Given::TimeMs(ms) => format!("the timestamp {ms} ms"),
        Given::Other(s) => s.clone(),
    }
}

/// Calls `on_record` with each JSON record's line number and what it holds,
/// in order, and counts as [`super::lines::for_each_line`] does. A line
/// holds one JSON object (JSON Lines, as CloudWatch exports and S3 delivers
/// them); objects written back to back on one line (Firehose without a
/// delimiter) are each a record. A line that is not JSON objects is one
/// malformed record; blank lines are skipped.
/// Where a line's JSON record starts: at its first non-blank byte when that
/// opens an object, or after the time and space that a CloudWatch Logs
/// export (CreateExportTask) writes before each event's message
/// (`2026-07-01T12:34:56.789Z {...}`). None when the line holds no record.
pub fn record_start(line: &[u8]) -> Option<usize> {
    let start = line.iter().position(|b| !b.is_ascii_whitespace())?;
    if line[start] == b'{' {
        return Some(start);
    }
    let rest = &line[start..];
    let space = rest.iter().position(|&b| b == b' ')?;
    let stamp = std::str::from_utf8(&rest[..space]).ok()?;
    let export_time = stamp.len() >= 20
        && stamp.as_bytes()[4] == b'-'
        && stamp.as_bytes()[10] == b'T'
        && stamp.ends_with('Z')
        && chrono::DateTime::parse_from_rfc3339(stamp).is_ok();
    (export_time && rest.get(space + 1) == Some(&b'{')).then_some(start + space + 1)
}

pub fn for_each_json_record(
    buf: &[u8],
    first_line_number: u64,
    mut on_record: impl FnMut(u64, Result<LogRecord<'_>, ParseError>),
) -> LineCounts {
    let mut counts = LineCounts::default();
    for (i, raw) in buf.split(|&b| b == b'\n').enumerate() {
        if i as u64 == 0 && raw.is_empty() && buf.is_empty() {
            break;
        }
        counts.lines += 1;
        let number = first_line_number + i as u64;
        if raw.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let Some(start) = record_start(raw) else {
            counts.malformed += 1;
            let message = "not a JSON object: a record starts with '{'";
            on_record(number, Err(ParseError::new("line", message)));
            continue;
        };
        let mut objects =
            serde_json::Deserializer::from_slice(&raw[start..]).into_iter::<StructuredRecord>();
        loop {
            match objects.next() {
                None => break,
                Some(Ok(record)) => match record.to_record() {
                    Ok(r) => {
                        counts.records += 1;
                        on_record(number, Ok(r));
                    }
                    Err(e) => {
                        counts.malformed += 1;
                        on_record(number, Err(e));
                    }
                },
                Some(Err(e)) => {
                    counts.malformed += 1;
                    let message = format!("not a JSON object: {e}");
                    on_record(number, Err(ParseError::new("line", message)));
                    break;
                }
            }
        }
    }
    // `split` yields one empty slice after a final newline: not a line.
    if buf.last() == Some(&b'\n') {
        counts.lines -= 1;
    }
    counts
}

impl<'de> Deserialize<'de> for StructuredRecord<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_map(RecordVisitor)
    }
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = StructuredRecord<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object of an S3 server access log record")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Self::Value, M::Error> {
        let mut record = StructuredRecord::default();
        // Records list their fields in one order: the field after the last
        // one is tried before a search.
        let mut next = 0;
        while let Some(Str(name)) = map.next_key::<Str<'de>>()? {
            let Given_(value) = map.next_value::<Given_<'de>>()?;
            let at = if FIELDS.get(next).is_some_and(|f| f.structured_name == name) {
                Some(next)
            } else {
                by_structured_name(&name)
            };
            match at {
                Some(i) => {
                    record.set_at(i, value);
                    next = i + 1;
                }
                None => record.set_other(&name, value),
            }
        }
        Ok(record)
    }
}

/// A string, borrowed from the input where it has no escapes.
struct Str<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Str<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Str<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Borrowed(s)))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(s.to_string())))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Str(Cow::Owned(s)))
            }
        }
        d.deserialize_str(V)
    }
}

/// A JSON value as a [`Given`].
struct Given_<'a>(Given<'a>);

impl<'de> Deserialize<'de> for Given_<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Given_<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Given_(Given::Null))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Given_(Given::Null))
            }
            fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Self::Value, E> {
                Ok(Given_(Given::Text(Cow::Borrowed(s))))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                Ok(Given_(Given::Text(Cow::Owned(s.to_string()))))
            }
            fn visit_string<E: de::Error>(self, s: String) -> Result<Self::Value, E> {
                Ok(Given_(Given::Text(Cow::Owned(s))))
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                Ok(Given_(Given::Int(n)))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                Ok(Given_(match i64::try_from(n) {
                    Ok(n) => Given::Int(n),
                    Err(_) => Given::Other(n.to_string()),
                }))
            }
            fn visit_f64<E: de::Error>(self, x: f64) -> Result<Self::Value, E> {
                Ok(Given_(Given::Other(x.to_string())))
            }
            fn visit_bool<E: de::Error>(self, b: bool) -> Result<Self::Value, E> {
                Ok(Given_(Given::Other(b.to_string())))
            }
            fn visit_map<M: MapAccess<'de>>(self, map: M) -> Result<Self::Value, M::Error> {
                let v = serde_json::Value::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(Given_(Given::Other(v.to_string())))
            }
            fn visit_seq<S: de::SeqAccess<'de>>(self, seq: S) -> Result<Self::Value, S::Error> {
                let v = serde_json::Value::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(Given_(Given::Other(v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_format::{FieldValue, parse_line};

    const SAMPLE: &str = include_str!("../../../tests/fixtures/aws-doc-sample.log");

    /// Each record's line number and what it read as (or its error).
    type Seen = Vec<(u64, Result<String, ParseError>)>;

    fn records(json: &str) -> (Seen, LineCounts) {
        let mut out = Vec::new();
        let counts = for_each_json_record(json.as_bytes(), 1, |n, r| {
            out.push((n, r.map(|r| format!("{:?}|{:?}", r.values(), r.extra))));
        });
        (out, counts)
    }

    /// The record's values and unknown fields, as compared across formats.
    fn seen(r: &LogRecord<'_>) -> String {
        format!("{:?}|{:?}", r.values(), r.extra)
    }

    /// AWS's five sample records, written as structured JSON, read back as
    /// the text parser read them.
    #[test]
    fn the_aws_sample_reads_the_same_in_both_forms() {
        let lines: Vec<&str> = SAMPLE.lines().collect();
        let json: String = lines
            .iter()
            .map(|l| parse_line(l).unwrap().to_structured_json() + "\n")
            .collect();
        let (got, counts) = records(&json);
        assert_eq!(counts.records, 5);
        assert_eq!(counts.malformed, 0);
        assert_eq!(counts.lines, 5);
        for ((n, got), line) in got.into_iter().zip(&lines) {
            assert_eq!(got.unwrap(), seen(&parse_line(line).unwrap()), "line {n}");
        }
    }

    /// A record as "Log format in CloudWatch Logs" documents its fields:
    /// ISO 8601 time with milliseconds, `null` for what is missing, an int
    /// status, the bucket's ARN beside its name.
    #[test]
    fn a_documented_record() {
        let json = r#"{"schema_version_id":"V_1_0","bucket_arn":"arn:aws:s3:::amzn-s3-demo-bucket1","bucket_name":"amzn-s3-demo-bucket1","request_time":"2026-07-01T12:34:56.789Z","bucket_owner_id":"79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be","remote_ip":"192.0.2.3","requester":null,"request_id":"3E57427F3EXAMPLE","operation":"REST.GET.OBJECT","key_name":"photos/cat.jpg","request_uri":"GET /amzn-s3-demo-bucket1/photos/cat.jpg HTTP/1.1","http_status":200,"error_code":null,"bytes_sent_size":3462992,"object_size":3462992,"total_duration":70,"turn_around_duration":10,"referer":null,"user_agent":"curl/8.5.0","version_id":null,"host_id":"s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234=","signature_version":"SigV4","cipher_suite":"TLS_AES_128_GCM_SHA256","authentication_type":"AuthHeader","host_header":"amzn-s3-demo-bucket1.s3.us-west-1.amazonaws.com","tls_version":"TLSv1.3","access_point_arn":null,"acl_required":null,"source_region":null}"#;
        let mut seen_one = false;
        let counts = for_each_json_record(json.as_bytes(), 1, |_, r| {
            let r = r.unwrap();
            assert_eq!(r.bucket, Some("amzn-s3-demo-bucket1"));
            assert_eq!(r.request_time_ms, Some(1_782_909_296_789));
            assert_eq!(r.requester, None);
            assert_eq!(r.key, Some("photos/cat.jpg"));
            assert_eq!(r.http_status, Some(200));
            assert_eq!(r.error_code, None);
            assert_eq!(r.bytes_sent, Some(3_462_992));
            assert_eq!(r.turn_around_time, Some(10));
            assert_eq!(r.tls_version, Some("TLSv1.3"));
            assert_eq!(r.source_region, None);
            assert_eq!(r.extra, None);
            seen_one = true;
        });
        assert!(seen_one);
        assert_eq!(counts.records, 1);
    }

    #[test]
    fn fields_left_out_of_the_delivery_are_null_and_the_arn_names_the_bucket() {
        let json = r#"{"bucket_arn":"arn:aws-cn:s3:::logs-cn","request_time":"2026-07-01T00:00:00.000Z","http_status":"404","bytes_sent_size":"0"}"#;
        let (got, counts) = records(json);
        assert_eq!(counts.records, 1, "{got:?}");
        let mut r = LogRecord {
            bucket: Some("logs-cn"),
            request_time_ms: Some(1_782_864_000_000),
            http_status: Some(404),
            bytes_sent: Some(0),
            ..LogRecord::default()
        };
        r.field_count = FIELDS.len();
        assert_eq!(got[0].1.as_ref().unwrap(), &seen(&r));
    }

    #[test]
    fn unknown_fields_are_kept_in_extra_fields() {
        let json = r#"{"request_time":"2026-07-01T00:00:00.000Z","new_field":"a b%","n":1.5,"flag":true,"o":{"k":[1]},"z":null}"#;
        let mut extra = Vec::new();
        for_each_json_record(json.as_bytes(), 1, |_, r| {
            extra = r.unwrap().extra_fields().map(str::to_string).collect();
        });
        assert_eq!(
            extra,
            [
                "new_field=a%20b%25",
                "n=1.5",
                "flag=true",
                r#"o={"k":[1]}"#,
                "z=null"
            ]
        );
    }

    #[test]
    fn bad_records_are_malformed_and_name_the_field() {
        let json = [
            r#"{"request_time":"06/Feb/2019:00:00:38 +0000"}"#,
            r#"{"http_status":"OK"}"#,
            r#"{"http_status":99999999999}"#,
            r#"{"bytes_sent_size":1.5}"#,
            r#"{"bucket_name":"a","bucket_arn":"arn:aws:s3:::b"}"#,
            r#"{"bucket_arn":"arn:aws:iam::123456789012:user/x"}"#,
            r#"{"request_time":"#,
            "79a59df9 amzn-s3-demo-bucket1 [06/Feb/2019:00:00:38 +0000]",
            "",
            r#"{"schema_version_id":"V_9_0","object_size":"big"}"#,
        ]
        .join("\n");
        let (got, counts) = records(&json);
        assert_eq!(counts.lines, 10);
        assert_eq!(counts.records, 0);
        assert_eq!(counts.malformed, 9);
        let errors: Vec<String> = got
            .iter()
            .map(|(n, r)| format!("{n} {}", r.as_ref().unwrap_err()))
            .collect();
        let expect = [
            "1 request_time: request_time: expected an ISO 8601 time",
            "2 http_status: http_status: expected a whole number, found \"OK\"",
            "3 http_status: http_status: 99999999999 is out of range",
            "4 bytes_sent: bytes_sent_size: expected a whole number, found 1.5",
            "5 bucket: bucket_name 'a' is not the bucket of bucket_arn",
            "6 bucket: bucket_arn 'arn:aws:iam::123456789012:user/x' is not a bucket's ARN",
            "7 line: not a JSON object: EOF",
            "8 line: not a JSON object: a record starts with '{'",
            "10 object_size: object_size: expected a whole number, found \"big\" (the record's \
             schema_version_id is V_9_0, which this version does not know: it reads V_1_0)",
        ];
        for (e, want) in errors.iter().zip(expect) {
            assert!(e.starts_with(want), "{e}\n  wanted {want}");
        }
    }

    #[test]
    fn a_record_of_an_unknown_version_is_read_when_its_fields_can_be() {
        let json = r#"{"schema_version_id":"V_2_0","request_time":"2026-07-01T00:00:00.000Z","http_status":200}"#;
        let (got, _) = records(json);
        assert!(got[0].1.is_ok(), "{got:?}");
    }

    #[test]
    fn objects_back_to_back_are_each_a_record() {
        let one = r#"{"request_time":"2026-07-01T00:00:00.000Z","http_status":200}"#;
        let (got, counts) = records(&format!("{one}{one}\n{one}\n"));
        assert_eq!(counts.records, 3);
        assert_eq!(counts.lines, 2);
        assert_eq!(got.iter().map(|g| g.0).collect::<Vec<_>>(), [1, 1, 2]);
    }

    /// A log group's events exported to S3 (CreateExportTask): each line is
    /// the event's time, a space, and the record.
    #[test]
    fn records_exported_from_a_log_group_are_read_after_their_time() {
        let lines: Vec<&str> = SAMPLE.lines().collect();
        let exported: String = lines
            .iter()
            .map(|l| {
                let json = parse_line(l).unwrap().to_structured_json();
                format!("2019-02-06T00:00:41.123Z {json}\n")
            })
            .collect();
        let (got, counts) = records(&exported);
        assert_eq!((counts.records, counts.malformed), (5, 0), "{got:?}");
        for ((_, got), line) in got.into_iter().zip(&lines) {
            assert_eq!(got.unwrap(), seen(&parse_line(line).unwrap()));
        }
        // Only an RFC 3339 time in UTC before the record is an export's.
        for line in [
            "2019-02-06 00:00:41 {\"http_status\":200}",
            "2019-02-30T00:00:41.000Z {\"http_status\":200}",
            "2019-02-06T00:00:41.000Z  {\"http_status\":200}",
            "79a59df900b949e5 {\"http_status\":200}",
        ] {
            assert_eq!(record_start(line.as_bytes()), None, "{line}");
            let (got, counts) = records(line);
            assert_eq!(counts.malformed, 1, "{line}: {got:?}");
        }
        assert_eq!(record_start(b"  {}"), Some(2));
        assert_eq!(record_start(b"2019-02-06T00:00:41Z {}"), Some(21));
    }

    #[test]
    fn escaped_text_is_read_unescaped() {
        let json = r#"{"user_agent":"Java/17 \"custom-agent\"","key_name":"caf\u00e9"}"#;
        for_each_json_record(json.as_bytes(), 1, |_, r| {
            let r = r.unwrap();
            assert_eq!(
                r.values()[16],
                FieldValue::Text(Some("Java/17 \"custom-agent\""))
            );
            assert_eq!(r.key, Some("café"));
        });
    }
}
