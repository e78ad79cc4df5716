//! Structured records in Parquet files (the 2026 delivery to S3 with output
//! format `parquet`): each row read into a [`StructuredRecord`] by column
//! name, so a Parquet file gives the records its JSON twin gives. AWS does
//! not document the files' column types; strings, integers of any width,
//! timestamps of any unit and anything else (as its text) are all read.

use std::borrow::Cow;
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Int64Type, TimestampMillisecondType};
use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_cast::display::{ArrayFormatter, FormatOptions};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};
use bytes::Bytes;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use super::fields::{BUCKET_ARN_FIELD, FIELDS, SCHEMA_VERSION_FIELD, Value, by_structured_name};
use super::lines::LineCounts;
use super::structured::{Given, StructuredRecord};
use super::{LogRecord, ParseError};

const BATCH_ROWS: usize = 8192;

/// Calls `on_record` with each row's number (from 1) and what it holds, and
/// counts rows as [`super::lines::for_each_line`] counts lines. A file that
/// is not Parquet, or a column that cannot be decoded, is an error for the
/// whole file (the caller names it): no row of it is read as if it were
/// complete.
pub fn for_each_parquet_record(
    raw: &[u8],
    mut on_record: impl FnMut(u64, Result<LogRecord<'_>, ParseError>),
) -> Result<LineCounts, String> {
    let reader = ParquetRecordBatchReaderBuilder::try_new(Bytes::copy_from_slice(raw))
        .and_then(|b| b.with_batch_size(BATCH_ROWS).build())
        .map_err(|e| format!("not a readable Parquet file: {e}"))?;
    // Decode the whole file before the first record is handed on: a file
    // that fails half-way must not leave half its rows counted.
    let batches: Vec<RecordBatch> = reader
        .collect::<Result<_, ArrowError>>()
        .map_err(|e| format!("Parquet data cannot be decoded: {e}"))?;
    let mut counts = LineCounts::default();
    for batch in &batches {
        let columns = batch
            .schema()
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(f, a)| Ok((Target::of(f.name()), Column::of(a)?)))
            .collect::<Result<Vec<_>, ArrowError>>()
            .map_err(|e| format!("Parquet column cannot be read: {e}"))?;
        for i in 0..batch.num_rows() {
            counts.lines += 1;
            let mut record = StructuredRecord::default();
            for (target, column) in &columns {
                let value = column.get(i);
                match target {
                    Target::Field(at) => record.set_at(*at, value),
                    Target::Other(name) => record.set_other(name, value),
                }
            }
            let result = record.to_record();
            match &result {
                Ok(_) => counts.records += 1,
                Err(_) => counts.malformed += 1,
            }
            on_record(counts.lines, result);
        }
    }
    Ok(counts)
}

enum Target {
    Field(usize),
    Other(String),
}

impl Target {
    fn of(name: &str) -> Self {
        match by_structured_name(name) {
            Some(i) => Target::Field(i),
            None => Target::Other(name.to_string()),
        }
    }
}

/// A column, cast once to what the rows are read from.
enum Column<'a> {
    Text(ArrayRef),
    Int(ArrayRef),
    TimeMs(ArrayRef),
    Other(&'a dyn Array, ArrayFormatter<'a>),
}

impl<'a> Column<'a> {
    fn of(a: &'a ArrayRef) -> Result<Self, ArrowError> {
        use DataType::*;
        Ok(match a.data_type() {
            Utf8 | LargeUtf8 | Utf8View | Binary | LargeBinary | BinaryView => {
                Column::Text(arrow_cast::cast(a, &Utf8)?)
            }
            Dictionary(_, v) if matches!(v.as_ref(), Utf8 | LargeUtf8 | Utf8View) => {
                Column::Text(arrow_cast::cast(a, &Utf8)?)
            }
            Int8 | Int16 | Int32 | Int64 | UInt8 | UInt16 | UInt32 | UInt64 => {
                Column::Int(arrow_cast::cast(a, &Int64)?)
            }
            Timestamp(_, _) | Date32 | Date64 => Column::TimeMs(arrow_cast::cast(
                a,
                &Timestamp(TimeUnit::Millisecond, None),
            )?),
            _ => Column::Other(a.as_ref(), ArrayFormatter::try_new(a.as_ref(), &OPTIONS)?),
        })
    }

    fn get(&self, i: usize) -> Given<'_> {
        match self {
            Column::Text(a) | Column::Int(a) | Column::TimeMs(a) if a.is_null(i) => Given::Null,
            Column::Text(a) => Given::Text(Cow::Borrowed(a.as_string::<i32>().value(i))),
            Column::Int(a) => Given::Int(a.as_primitive::<Int64Type>().value(i)),
            Column::TimeMs(a) => {
                Given::TimeMs(a.as_primitive::<TimestampMillisecondType>().value(i))
            }
            Column::Other(a, _) if a.is_null(i) => Given::Null,
            Column::Other(_, f) => Given::Other(f.value(i).to_string()),
        }
    }
}

const OPTIONS: FormatOptions<'static> = FormatOptions::new();

/// The Arrow schema of structured records as the generator writes them to
/// Parquet: the schema version, the bucket's ARN, then every field by its
/// structured name, typed as "Log format in CloudWatch Logs" types them
/// (`request_time` a string, `http_status` an int; the other numbers longs).
pub fn structured_schema() -> SchemaRef {
    let mut fields = vec![
        Field::new(SCHEMA_VERSION_FIELD, DataType::Utf8, true),
        Field::new(BUCKET_ARN_FIELD, DataType::Utf8, true),
    ];
    fields.extend(FIELDS.iter().map(|f| {
        let t = match f.value {
            Value::Text | Value::Time => DataType::Utf8,
            Value::Int32 => DataType::Int32,
            Value::Int64 => DataType::Int64,
        };
        Field::new(f.structured_name, t, true)
    }));
    Arc::new(Schema::new(fields))
}

/// `records` as a batch of [`structured_schema`], each field the record's
/// `field_count` does not cover left null (as a delivery that leaves it out
/// would); the writer of `s3la gen-logs --format parquet`. An `Err(text)` is
/// a malformed row: `text` where the time goes, every other field null.
pub fn structured_batch(
    records: &[Result<LogRecord<'_>, &str>],
) -> Result<RecordBatch, ArrowError> {
    use arrow_array::StringArray;
    use arrow_array::builder::{Int32Builder, Int64Builder, StringBuilder};

    use super::FieldValue;
    use super::time::format_structured_time;

    let version = StringArray::from(vec![Some(KNOWN_VERSION); records.len()]);
    let arns: StringArray = records
        .iter()
        .map(|r| r.as_ref().ok()?.bucket.map(|b| format!("arn:aws:s3:::{b}")))
        .collect();
    let mut columns: Vec<ArrayRef> = vec![Arc::new(version), Arc::new(arns)];
    // Each row's values, the fields it has, and the text of a malformed one.
    let values: Vec<_> = records
        .iter()
        .map(|r| match r {
            Ok(r) => (r.values(), r.field_count, None),
            Err(bad) => (LogRecord::default().values(), FIELDS.len(), Some(*bad)),
        })
        .collect();
    for (i, f) in FIELDS.iter().enumerate() {
        // The field's value in each row, None past the row's field count.
        let cells = || values.iter().map(|(v, n, _)| (i < *n).then_some(v[i]));
        let column: ArrayRef = match f.value {
            Value::Text | Value::Time => {
                let mut b = StringBuilder::new();
                for (v, (_, _, bad)) in cells().zip(&values) {
                    match v {
                        _ if f.value == Value::Time && bad.is_some() => b.append_option(*bad),
                        Some(FieldValue::Text(t)) => b.append_option(t),
                        Some(FieldValue::Time(t)) => b.append_option(t.map(format_structured_time)),
                        _ => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
            Value::Int32 => {
                let mut b = Int32Builder::new();
                for v in cells() {
                    match v {
                        Some(FieldValue::Int(n)) => {
                            b.append_option(n.and_then(|n| i32::try_from(n).ok()))
                        }
                        _ => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
            Value::Int64 => {
                let mut b = Int64Builder::new();
                for v in cells() {
                    match v {
                        Some(FieldValue::Int(n)) => b.append_option(n),
                        _ => b.append_null(),
                    }
                }
                Arc::new(b.finish())
            }
        };
        columns.push(column);
    }
    RecordBatch::try_new(structured_schema(), columns)
}

const KNOWN_VERSION: &str = super::fields::KNOWN_SCHEMA_VERSIONS[0];
