//! The forms in which S3 delivers server access logs, and one way to read a
//! log object of any of them: the classic text lines (plain or gzip), the
//! 2026 delivery's structured records as JSON (plain or gzip), or as
//! Parquet. Every form yields the same [`LogRecord`]s, so the engine, the
//! `s3la parse` outputs and RemoveOriginalLogs' accounting are one code path.

use std::fmt;

use super::lines::{LineCounts, decode_log_object, for_each_line};
use super::structured::{for_each_json_record, record_start};
use super::structured_parquet::for_each_parquet_record;
use super::{LogRecord, ParseError};

/// A form of log object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogForm {
    /// Space-separated lines, as S3 has delivered since 2006.
    Text,
    /// One structured JSON record per line (CloudWatch Logs, S3, Firehose).
    Json,
    /// Structured records as Parquet rows (S3).
    Parquet,
}

impl LogForm {
    pub const ALL: [LogForm; 3] = [LogForm::Text, LogForm::Json, LogForm::Parquet];

    pub fn name(self) -> &'static str {
        match self {
            LogForm::Text => "text",
            LogForm::Json => "json",
            LogForm::Parquet => "parquet",
        }
    }

    /// The form called `name`, or an error listing the names.
    pub fn from_name(name: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|f| f.name() == name)
            .ok_or_else(|| format!("unknown log format '{name}': expected {}", Self::names()))
    }

    /// What a record's position counts: lines, or a Parquet file's rows.
    pub fn position_name(self) -> &'static str {
        match self {
            LogForm::Text | LogForm::Json => "line",
            LogForm::Parquet => "row",
        }
    }

    /// `text, json or parquet`.
    pub fn names() -> String {
        let names: Vec<&str> = Self::ALL.iter().map(|f| f.name()).collect();
        format!(
            "{} or {}",
            names[..names.len() - 1].join(", "),
            names[names.len() - 1]
        )
    }

    /// The form of a log object whose (decompressed) bytes begin `head`:
    /// Parquet by its magic; JSON when most of its first lines open an
    /// object (a text record starts with the owner's id or `-`, so a text
    /// log has none), which a malformed first line does not overturn; text
    /// otherwise.
    pub fn of(head: &[u8]) -> Self {
        if head.starts_with(PARQUET_MAGIC) {
            return LogForm::Parquet;
        }
        let (mut objects, mut others) = (0, 0);
        let lines = head
            .split(|&b| b == b'\n')
            .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
            .take(DETECTION_LINES);
        for line in lines {
            if record_start(line).is_some() {
                objects += 1;
            } else {
                others += 1;
            }
        }
        if objects > others {
            LogForm::Json
        } else {
            LogForm::Text
        }
    }
}

/// How many of an object's first lines decide its form.
const DETECTION_LINES: usize = 16;

impl fmt::Display for LogForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

const PARQUET_MAGIC: &[u8] = b"PAR1";

/// Calls `on_record` with each record's position (line number, or row
/// number for Parquet) and what it holds, in order; returns the object's
/// form and counts. `expected`, when given, is the form the caller was told
/// to read: an object of another form is an error rather than a file of
/// malformed records. The error does not name the object: callers add that.
pub fn for_each_record(
    raw: &[u8],
    expected: Option<LogForm>,
    on_record: impl FnMut(u64, Result<LogRecord<'_>, ParseError>),
) -> Result<(LogForm, LineCounts), String> {
    if raw.starts_with(PARQUET_MAGIC) {
        check(LogForm::Parquet, expected)?;
        return Ok((LogForm::Parquet, for_each_parquet_record(raw, on_record)?));
    }
    let text = decode_log_object(raw)?;
    let form = LogForm::of(&text);
    check(form, expected)?;
    let counts = match form {
        LogForm::Json => for_each_json_record(&text, 1, on_record),
        _ => for_each_line(&text, 1, on_record),
    };
    Ok((form, counts))
}

fn check(found: LogForm, expected: Option<LogForm>) -> Result<(), String> {
    match expected {
        Some(e) if e != found => Err(format!(
            "holds {found} logs, not {e} (the log format given): name the right format, \
             or leave it out to detect each file's"
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{
        ArrayRef, BooleanArray, DictionaryArray, Int16Array, RecordBatch, StringArray,
        TimestampMicrosecondArray, types::Int8Type,
    };
    use parquet::arrow::ArrowWriter;

    use super::*;
    use crate::log_format::parse_line;
    use crate::log_format::structured_parquet::structured_batch;

    const SAMPLE: &str = include_str!("../../../tests/fixtures/aws-doc-sample.log");

    fn parquet(batch: &RecordBatch) -> Vec<u8> {
        let mut out = Vec::new();
        let mut w = ArrowWriter::try_new(&mut out, batch.schema(), None).unwrap();
        w.write(batch).unwrap();
        w.close().unwrap();
        out
    }

    /// Every record of `raw` as compared across forms, and the counts.
    fn read(
        raw: &[u8],
        expected: Option<LogForm>,
    ) -> Result<(LogForm, Vec<String>, LineCounts), String> {
        let mut seen = Vec::new();
        let (form, counts) = for_each_record(raw, expected, |n, r| {
            seen.push(match r {
                Ok(r) => format!("{:?}|{:?}", r.values(), r.extra),
                Err(e) => format!("{n}: {e}"),
            })
        })?;
        Ok((form, seen, counts))
    }

    fn sample_records() -> Vec<LogRecord<'static>> {
        SAMPLE.lines().map(|l| parse_line(l).unwrap()).collect()
    }

    #[test]
    fn the_three_forms_of_the_aws_sample_read_the_same() {
        let records = sample_records();
        let json: String = records
            .iter()
            .map(|r| r.to_structured_json() + "\n")
            .collect();
        let rows: Vec<_> = records.iter().cloned().map(Ok).collect();
        let pq = parquet(&structured_batch(&rows).unwrap());
        let (form, text_seen, text_counts) = read(SAMPLE.as_bytes(), None).unwrap();
        assert_eq!(form, LogForm::Text);
        assert_eq!(text_counts.records, 5);
        for (raw, want) in [
            (json.as_bytes(), LogForm::Json),
            (&pq[..], LogForm::Parquet),
        ] {
            let (form, seen, counts) = read(raw, None).unwrap();
            assert_eq!(form, want);
            assert_eq!(seen, text_seen, "{want}");
            assert_eq!((counts.records, counts.malformed), (5, 0), "{want}");
        }
    }

    /// Column types AWS might have chosen instead of the documented ones:
    /// a timestamp for the time, a 16-bit status, dictionary strings, a
    /// boolean; and a column this version does not know.
    #[test]
    fn parquet_columns_of_other_types_read_as_the_field_types() {
        let ms = 1_782_909_296_789_i64;
        let batch = RecordBatch::try_from_iter([
            (
                "request_time",
                Arc::new(
                    TimestampMicrosecondArray::from(vec![Some(ms * 1000), None])
                        .with_timezone("UTC"),
                ) as ArrayRef,
            ),
            (
                "http_status",
                Arc::new(Int16Array::from(vec![Some(200), Some(404)])),
            ),
            (
                "operation",
                Arc::new(
                    vec![Some("REST.GET.OBJECT"), None]
                        .into_iter()
                        .collect::<DictionaryArray<Int8Type>>(),
                ),
            ),
            (
                "acl_required",
                Arc::new(BooleanArray::from(vec![Some(true), None])),
            ),
            (
                "bytes_sent_size",
                Arc::new(StringArray::from(vec![Some("12"), None])),
            ),
            (
                "delivery_note",
                Arc::new(StringArray::from(vec![Some("a b"), None])),
            ),
        ])
        .unwrap();
        let raw = parquet(&batch);
        let mut got = Vec::new();
        let (form, counts) = for_each_record(&raw, Some(LogForm::Parquet), |_, r| {
            let r = r.unwrap();
            got.push((
                r.request_time_ms,
                r.http_status,
                r.operation.map(str::to_string),
                r.acl_required.map(str::to_string),
                r.bytes_sent,
                r.extra_fields().map(str::to_string).collect::<Vec<_>>(),
            ));
        })
        .unwrap();
        assert_eq!(form, LogForm::Parquet);
        assert_eq!(counts.records, 2);
        assert_eq!(
            got,
            [
                (
                    Some(ms),
                    Some(200),
                    Some("REST.GET.OBJECT".into()),
                    Some("true".into()),
                    Some(12),
                    vec!["delivery_note=a%20b".to_string()]
                ),
                (
                    None,
                    Some(404),
                    None,
                    None,
                    None,
                    vec!["delivery_note=null".to_string()]
                ),
            ]
        );
    }

    #[test]
    fn a_bad_parquet_row_is_one_malformed_record_naming_its_row() {
        let batch = RecordBatch::try_from_iter([(
            "request_time",
            Arc::new(StringArray::from(vec![
                "2026-07-01T00:00:00.000Z",
                "yesterday",
            ])) as ArrayRef,
        )])
        .unwrap();
        let (_, seen, counts) = read(&parquet(&batch), None).unwrap();
        assert_eq!((counts.records, counts.malformed, counts.lines), (1, 1, 2));
        assert!(
            seen[1].starts_with("2: request_time: request_time: expected an ISO 8601 time"),
            "{}",
            seen[1]
        );
    }

    #[test]
    fn a_damaged_parquet_file_is_an_error_not_records() {
        let rows: Vec<_> = sample_records().into_iter().map(Ok).collect();
        let raw = parquet(&structured_batch(&rows).unwrap());
        let cut = &raw[..raw.len() / 2];
        let e = read(cut, None).unwrap_err();
        assert!(e.starts_with("not a readable Parquet file"), "{e}");
    }

    #[test]
    fn forms_are_detected_and_a_named_form_is_held_to() {
        let json = sample_records()[0].to_structured_json();
        assert_eq!(LogForm::of(json.as_bytes()), LogForm::Json);
        assert_eq!(LogForm::of(b"\n  {\"a\":1}"), LogForm::Json);
        assert_eq!(LogForm::of(SAMPLE.as_bytes()), LogForm::Text);
        assert_eq!(LogForm::of(b"PAR1...."), LogForm::Parquet);
        // A malformed first line does not make a JSON file text.
        let first_bad = format!("{}\n{json}\n{json}\n", SAMPLE.lines().next().unwrap());
        assert_eq!(LogForm::of(first_bad.as_bytes()), LogForm::Json);
        let exported = format!("2026-07-01T00:00:00.000Z {json}\n");
        assert_eq!(LogForm::of(exported.as_bytes()), LogForm::Json);
        let text_first_odd = format!("{{odd\n{SAMPLE}");
        assert_eq!(LogForm::of(text_first_odd.as_bytes()), LogForm::Text);
        let e = read(json.as_bytes(), Some(LogForm::Text)).unwrap_err();
        assert_eq!(
            e,
            "holds json logs, not text (the log format given): name the right format, \
             or leave it out to detect each file's"
        );
        assert_eq!(LogForm::from_name("parquet"), Ok(LogForm::Parquet));
        assert_eq!(
            LogForm::from_name("csv").unwrap_err(),
            "unknown log format 'csv': expected text, json or parquet"
        );
    }

    #[test]
    fn gzip_json_is_read_as_json() {
        use std::io::Write;
        let json: String = sample_records()
            .iter()
            .map(|r| r.to_structured_json() + "\n")
            .collect();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(json.as_bytes()).unwrap();
        let (form, seen, _) = read(&gz.finish().unwrap(), None).unwrap();
        assert_eq!(form, LogForm::Json);
        assert_eq!(seen.len(), 5);
    }
}
