//! One reading of a result batch for the report, whichever projection made
//! it: the typed report columns, or `selectAll`'s raw text columns (times
//! and numbers still as the log wrote them, `-` for absent, quoted
//! referrers). Values come out as the report wants them: absent is `None`.

use arrow_array::cast::AsArray;
use arrow_array::types::{Int32Type, Int64Type, TimestampMillisecondType};
use arrow_array::{Array, PrimitiveArray, RecordBatch, StringArray};
use arrow_schema::DataType;

use crate::log_format::parse_log_time;

/// A text column: `None` for null and for the log's `-`.
pub struct Text<'a> {
    array: Option<&'a StringArray>,
    /// Raw referrers and user agents keep their quotes: strip them.
    quoted: bool,
}

impl<'a> Text<'a> {
    fn find(batch: &'a RecordBatch, names: &[&str], quoted: bool) -> Self {
        let array = names
            .iter()
            .find_map(|n| batch.column_by_name(n))
            .and_then(|c| c.as_string_opt::<i32>());
        Self { array, quoted }
    }

    pub fn get(&self, row: usize) -> Option<&'a str> {
        let a = self.array?;
        if a.is_null(row) {
            return None;
        }
        let mut v = a.value(row);
        if self.quoted && v.len() >= 2 && v.starts_with('"') && v.ends_with('"') {
            v = &v[1..v.len() - 1];
        }
        (v != "-" && !v.is_empty()).then_some(v)
    }
}

/// A number column: typed in the report projection, text in `selectAll`.
pub enum Number<'a> {
    I32(&'a PrimitiveArray<Int32Type>),
    I64(&'a PrimitiveArray<Int64Type>),
    Text(&'a StringArray),
    Missing,
}

impl<'a> Number<'a> {
    fn find(batch: &'a RecordBatch, names: &[&str]) -> Self {
        let Some(c) = names.iter().find_map(|n| batch.column_by_name(n)) else {
            return Number::Missing;
        };
        match c.data_type() {
            DataType::Int32 => Number::I32(c.as_primitive()),
            DataType::Int64 => Number::I64(c.as_primitive()),
            DataType::Utf8 => Number::Text(c.as_string()),
            _ => Number::Missing,
        }
    }

    pub fn get(&self, row: usize) -> Option<i64> {
        match self {
            Number::I32(a) => (!a.is_null(row)).then(|| i64::from(a.value(row))),
            Number::I64(a) => (!a.is_null(row)).then(|| a.value(row)),
            Number::Text(a) => (!a.is_null(row))
                .then(|| a.value(row).parse().ok())
                .flatten(),
            Number::Missing => None,
        }
    }
}

/// The request time: a UTC millisecond timestamp, or the log's raw text.
pub enum Time<'a> {
    Millis(&'a PrimitiveArray<TimestampMillisecondType>),
    Raw(&'a StringArray),
    Missing,
}

impl Time<'_> {
    /// Milliseconds since the epoch; `None` when absent or unreadable.
    pub fn get(&self, row: usize) -> Option<i64> {
        match self {
            Time::Millis(a) => (!a.is_null(row)).then(|| a.value(row)),
            Time::Raw(a) => {
                if a.is_null(row) {
                    return None;
                }
                let text = a.value(row).trim_start_matches('[').trim_end_matches(']');
                parse_log_time(text).ok().map(|s| s * 1000)
            }
            Time::Missing => None,
        }
    }
}

/// The columns the report reads, by their report name or `selectAll` name.
pub struct Columns<'a> {
    pub time: Time<'a>,
    pub bucket: Text<'a>,
    pub operation: Text<'a>,
    pub key: Text<'a>,
    pub requester: Text<'a>,
    pub remote_ip: Text<'a>,
    pub http_status: Number<'a>,
    pub error_code: Text<'a>,
    pub bytes_sent: Number<'a>,
    pub object_size: Number<'a>,
    pub total_time: Number<'a>,
    pub referrer: Text<'a>,
    pub signature_version: Text<'a>,
    pub tls_version: Text<'a>,
    pub acl_required: Text<'a>,
    pub user_agent: Text<'a>,
}

impl<'a> Columns<'a> {
    pub fn new(batch: &'a RecordBatch) -> Self {
        let time = ["request_time", "requestdatetime"]
            .iter()
            .find_map(|n| batch.column_by_name(n))
            .map(|c| match c.data_type() {
                DataType::Timestamp(arrow_schema::TimeUnit::Millisecond, _) => {
                    Time::Millis(c.as_primitive())
                }
                DataType::Utf8 => Time::Raw(c.as_string()),
                _ => Time::Missing,
            })
            .unwrap_or(Time::Missing);
        Self {
            time,
            bucket: Text::find(batch, &["bucket", "bucket_name"], false),
            operation: Text::find(batch, &["operation"], false),
            key: Text::find(batch, &["key"], false),
            requester: Text::find(batch, &["requester"], false),
            remote_ip: Text::find(batch, &["remote_ip", "remoteip"], false),
            http_status: Number::find(batch, &["http_status", "httpstatus"]),
            error_code: Text::find(batch, &["error_code", "errorcode"], false),
            bytes_sent: Number::find(batch, &["bytes_sent", "bytessent"]),
            object_size: Number::find(batch, &["object_size", "objectsize"]),
            total_time: Number::find(batch, &["total_time", "totaltime"]),
            referrer: Text::find(batch, &["referer", "referrer"], true),
            signature_version: Text::find(batch, &["signature_version", "sigv"], false),
            tls_version: Text::find(batch, &["tls_version", "tlsversion"], false),
            acl_required: Text::find(batch, &["acl_required", "aclrequired"], false),
            user_agent: Text::find(batch, &["user_agent", "useragent"], true),
        }
    }
}

/// The section a key belongs to: its first path segment with the slash
/// (`images/`), `""` for keys at the bucket's root, `None` for bucket-level
/// operations. The same rule as the `key_prefix` column.
pub fn top_level_prefix(key: Option<&str>) -> Option<&str> {
    let key = key?;
    Some(match key.find('/') {
        Some(i) => &key[..=i],
        None => "",
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow_array::{Int64Array, TimestampMillisecondArray};
    use arrow_schema::{Field, Schema};

    #[test]
    fn reads_select_all_text_like_the_typed_columns() {
        let schema = Schema::new(vec![
            Field::new("requestdatetime", DataType::Utf8, true),
            Field::new("httpstatus", DataType::Utf8, true),
            Field::new("bytessent", DataType::Int64, true),
            Field::new("referrer", DataType::Utf8, true),
            Field::new("key", DataType::Utf8, true),
        ]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![
                Arc::new(StringArray::from(vec![
                    Some("06/Feb/2019:00:00:38 +0000"),
                    Some("garbage"),
                ])),
                Arc::new(StringArray::from(vec![Some("206"), Some("-")])),
                Arc::new(Int64Array::from(vec![Some(10), None])),
                Arc::new(StringArray::from(vec![
                    Some("\"https://a.example/x\""),
                    Some("\"-\""),
                ])),
                Arc::new(StringArray::from(vec![Some("docs/a.pdf"), Some("-")])),
            ],
        )
        .unwrap();
        let c = Columns::new(&batch);
        assert_eq!(c.time.get(0), Some(1_549_411_238_000));
        assert_eq!(c.time.get(1), None);
        assert_eq!(c.http_status.get(0), Some(206));
        assert_eq!(c.http_status.get(1), None);
        assert_eq!(c.bytes_sent.get(0), Some(10));
        assert_eq!(c.referrer.get(0), Some("https://a.example/x"));
        assert_eq!(c.referrer.get(1), None);
        assert_eq!(c.key.get(1), None);
        assert!(matches!(c.total_time, Number::Missing));
    }

    #[test]
    fn reads_typed_report_columns() {
        let schema = Schema::new(vec![Field::new(
            "request_time",
            DataType::Timestamp(arrow_schema::TimeUnit::Millisecond, Some("UTC".into())),
            true,
        )]);
        let batch = RecordBatch::try_new(
            Arc::new(schema),
            vec![Arc::new(
                TimestampMillisecondArray::from(vec![Some(5), None]).with_timezone("UTC"),
            )],
        )
        .unwrap();
        let c = Columns::new(&batch);
        assert_eq!((c.time.get(0), c.time.get(1)), (Some(5), None));
    }

    #[test]
    fn sections_follow_the_key_prefix_rule() {
        assert_eq!(top_level_prefix(Some("a/b/c")), Some("a/"));
        assert_eq!(top_level_prefix(Some("root.txt")), Some(""));
        assert_eq!(top_level_prefix(None), None);
    }
}
