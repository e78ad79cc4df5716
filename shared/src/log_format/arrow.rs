//! Log records as Arrow record batches.
//!
//! The schema's column names are those of AWS's Athena table for server
//! access logs (`bucketowner`, `bucket_name`, `requestdatetime`, ...,
//! `sourceregion`), so SQL written for that table reads our Parquet too.
//! Unlike the Athena table, which keeps most fields as strings, values are
//! typed here, as [`FIELDS`] says: | column | type |
//! |---|---|
//! | `requestdatetime` | timestamp (ms, UTC) |
//! | `httpstatus` | int32 |
//! | `bytessent`, `objectsize`, `totaltime`, `turnaroundtime` | int64 |
//! | `extra_fields` | list of utf8: fields AWS appends after `sourceregion` |
//! | every other column | utf8 |
//!
//! Every column is nullable: `-` in the log is null.

use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::types::{ArrowPrimitiveType, Int32Type, Int64Type, TimestampMillisecondType};
use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};

use super::columns::{IntColumn, TextColumn};
use super::fields::{EXTRA_FIELDS_COLUMN, FIELDS, Value, count, positions};
use super::{FieldValue, LogRecord};

/// The Arrow schema of parsed log records (see the module docs).
pub fn log_schema() -> SchemaRef {
    let mut fields: Vec<Field> = FIELDS
        .iter()
        .map(|f| Field::new(f.athena_name, arrow_type(f.value), true))
        .collect();
    fields.push(Field::new(
        EXTRA_FIELDS_COLUMN,
        DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
        true,
    ));
    Arc::new(Schema::new(fields))
}

/// The Arrow type of a field's values.
pub fn arrow_type(value: Value) -> DataType {
    match value {
        Value::Text => DataType::Utf8,
        Value::Time => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        Value::Int32 => DataType::Int32,
        Value::Int64 => DataType::Int64,
    }
}

// Where each builder's column sits in [`log_schema`], one list per type, in
// log order: the builders of one type are an array, filled in one loop.
const TEXT_POSITIONS: [usize; count(Value::Text)] = positions(Value::Text);
const TIME_POSITIONS: [usize; count(Value::Time)] = positions(Value::Time);
const INT32_POSITIONS: [usize; count(Value::Int32)] = positions(Value::Int32);
const INT64_POSITIONS: [usize; count(Value::Int64)] = positions(Value::Int64);
/// The unknown trailing fields' list follows the known fields.
const EXTRA: usize = FIELDS.len();
const ALL_COLUMNS: usize = FIELDS.len() + 1;

/// Appends records column by column; [`LogBatchBuilder::finish`] yields a
/// batch and leaves the builder ready for the next one. Text is copied once,
/// into the batch's value buffers (see `columns.rs`), and only for the
/// columns asked for: a query that reads six columns does not pay for the
/// other twenty-two.
pub struct LogBatchBuilder {
    schema: SchemaRef,
    /// Indices into [`log_schema`] of the columns built, in output order.
    columns: Vec<usize>,
    wanted: [bool; ALL_COLUMNS],
    /// Every column is wanted: the append without checks.
    all: bool,
    text: [TextColumn; TEXT_POSITIONS.len()],
    times: [IntColumn<TimestampMillisecondType>; TIME_POSITIONS.len()],
    int32s: [IntColumn<Int32Type>; INT32_POSITIONS.len()],
    int64s: [IntColumn<Int64Type>; INT64_POSITIONS.len()],
    extra: ListBuilder<StringBuilder>,
    rows: usize,
    /// The rows hint, to size the columns again after each batch.
    capacity_rows: usize,
}

/// The bytes to reserve for `rows` values of the text column at `column`.
fn text_bytes(column: usize, rows: usize) -> usize {
    rows * FIELDS[column].width
}

impl LogBatchBuilder {
    /// Every column of [`log_schema`]; `rows` is the expected number of rows
    /// per batch (a capacity hint).
    pub fn with_capacity(rows: usize) -> Self {
        Self::with_columns(rows, &(0..ALL_COLUMNS).collect::<Vec<_>>())
    }

    /// Only the columns at `columns` (indices into [`log_schema`], in the
    /// order the batches hold them).
    ///
    /// # Panics
    /// If an index is out of range: callers derive them from the schema.
    pub fn with_columns(rows: usize, columns: &[usize]) -> Self {
        let mut wanted = [false; ALL_COLUMNS];
        for &c in columns {
            wanted[c] = true;
        }
        let capacity = |column: usize| if wanted[column] { rows } else { 0 };
        let schema = log_schema();
        Self {
            schema: Arc::new(schema.project(columns).expect("columns of the log schema")),
            columns: columns.to_vec(),
            wanted,
            all: wanted.iter().all(|w| *w),
            text: TEXT_POSITIONS.map(|c| {
                let rows = capacity(c);
                TextColumn::with_capacity(rows, text_bytes(c, rows))
            }),
            times: TIME_POSITIONS.map(|c| IntColumn::with_capacity(capacity(c))),
            int32s: INT32_POSITIONS.map(|c| IntColumn::with_capacity(capacity(c))),
            int64s: INT64_POSITIONS.map(|c| IntColumn::with_capacity(capacity(c))),
            extra: ListBuilder::new(StringBuilder::new()),
            rows: 0,
            capacity_rows: rows,
        }
    }

    /// The schema of the batches this builder makes.
    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    pub fn append(&mut self, r: &LogRecord<'_>) {
        // Two copies of the loop: the one for every column has no checks
        // (`s3la parse` appends about two million records a second).
        if self.all {
            self.append_columns::<true>(r)
        } else {
            self.append_columns::<false>(r)
        }
    }

    fn append_columns<const ALL: bool>(&mut self, r: &LogRecord<'_>) {
        let values = r.values();
        let wanted = |column: usize| ALL || self.wanted[column];
        // Fixed-size arrays zipped with the fixed-size columns: the loops
        // unroll, with no bounds checks, and each value's type is known.
        for (builder, column) in self.text.iter_mut().zip(TEXT_POSITIONS) {
            if wanted(column) {
                builder.append(text(values[column]));
            }
        }
        for (builder, column) in self.times.iter_mut().zip(TIME_POSITIONS) {
            if wanted(column) {
                builder.append(int(values[column]));
            }
        }
        for (builder, column) in self.int32s.iter_mut().zip(INT32_POSITIONS) {
            if wanted(column) {
                // Int32 fields are parsed as i32: the conversion always holds.
                builder.append(int(values[column]).and_then(|v| i32::try_from(v).ok()));
            }
        }
        for (builder, column) in self.int64s.iter_mut().zip(INT64_POSITIONS) {
            if wanted(column) {
                builder.append(int(values[column]));
            }
        }
        if wanted(EXTRA) {
            if r.extra.is_some() {
                for f in r.extra_fields() {
                    self.extra.values().append_value(f);
                }
                self.extra.append(true);
            } else {
                self.extra.append_null();
            }
        }
        self.rows += 1;
    }

    /// The rows appended so far as one batch.
    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let mut built: Vec<Option<ArrayRef>> = vec![None; ALL_COLUMNS];
        let rows = self.capacity_rows;
        for (builder, column) in self.text.iter_mut().zip(TEXT_POSITIONS) {
            if self.wanted[column] {
                built[column] = Some(Arc::new(builder.finish(rows, text_bytes(column, rows))?));
            }
        }
        finish_ints(
            &mut self.times,
            TIME_POSITIONS,
            &self.wanted,
            rows,
            &mut built,
        );
        finish_ints(
            &mut self.int32s,
            INT32_POSITIONS,
            &self.wanted,
            rows,
            &mut built,
        );
        finish_ints(
            &mut self.int64s,
            INT64_POSITIONS,
            &self.wanted,
            rows,
            &mut built,
        );
        if self.wanted[EXTRA] {
            built[EXTRA] = Some(Arc::new(self.extra.finish()));
        }
        let columns = self
            .columns
            .iter()
            .map(|&c| built[c].clone().expect("every wanted column is built"))
            .collect();
        // A batch of no columns still has its rows (a `count(*)` reads none).
        let options = RecordBatchOptions::new().with_row_count(Some(self.rows));
        self.rows = 0;
        RecordBatch::try_new_with_options(self.schema.clone(), columns, &options)
    }
}

/// Finishes the wanted columns of one integer type into `built`, typed as
/// [`log_schema`] types them (the time zone of a timestamp included).
fn finish_ints<T: ArrowPrimitiveType, const N: usize>(
    builders: &mut [IntColumn<T>; N],
    positions: [usize; N],
    wanted: &[bool; ALL_COLUMNS],
    rows: usize,
    built: &mut [Option<ArrayRef>],
) {
    for (builder, column) in builders.iter_mut().zip(positions) {
        if wanted[column] {
            let array = builder
                .finish(rows)
                .with_data_type(arrow_type(FIELDS[column].value));
            built[column] = Some(Arc::new(array));
        }
    }
}

/// A text field's value (the positions say which fields are text).
#[inline]
fn text(value: FieldValue<'_>) -> Option<&str> {
    match value {
        FieldValue::Text(v) => v,
        FieldValue::Int(_) | FieldValue::Time(_) => None,
    }
}

/// An integer or time field's value.
#[inline]
fn int(value: FieldValue<'_>) -> Option<i64> {
    match value {
        FieldValue::Int(v) | FieldValue::Time(v) => v,
        FieldValue::Text(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_format::parse_line;
    use arrow_array::{Array, Int32Array, Int64Array, ListArray, StringArray};

    /// A record whose every text field holds its own JSON name, and whose
    /// numbers are all different.
    const LINE: &str = "bucket_owner bucket [06/Feb/2019:00:00:38 +0000] remote_ip requester \
        request_id operation key \"request_uri\" 200 error_code 101 102 103 104 \"referer\" \
        \"user_agent\" version_id host_id signature_version cipher_suite authentication_type \
        host_header tls_version access_point_arn acl_required source_region future";

    /// The batch `builder` finishes after `rows` appends of LINE's record.
    fn finish_with(builder: &mut LogBatchBuilder, rows: usize) -> RecordBatch {
        let record = parse_line(LINE).unwrap();
        for _ in 0..rows {
            builder.append(&record);
        }
        builder.finish().unwrap()
    }

    #[test]
    fn each_field_lands_in_its_named_column_whatever_the_selection() {
        let full = finish_with(&mut LogBatchBuilder::with_capacity(1), 1);
        for (i, field) in FIELDS.iter().enumerate() {
            let column = full.column_by_name(field.athena_name).unwrap();
            match field.json_name {
                "request_time" => assert_eq!(
                    column
                        .as_any()
                        .downcast_ref::<arrow_array::TimestampMillisecondArray>()
                        .unwrap()
                        .value(0),
                    1_549_411_238_000
                ),
                "http_status" => {
                    assert_eq!(
                        column
                            .as_any()
                            .downcast_ref::<Int32Array>()
                            .unwrap()
                            .value(0),
                        200
                    )
                }
                "bytes_sent" | "object_size" | "total_time" | "turn_around_time" => {
                    let want = 101
                        + [
                            "bytes_sent",
                            "object_size",
                            "total_time",
                            "turn_around_time",
                        ]
                        .iter()
                        .position(|n| *n == field.json_name)
                        .unwrap() as i64;
                    assert_eq!(
                        column
                            .as_any()
                            .downcast_ref::<Int64Array>()
                            .unwrap()
                            .value(0),
                        want
                    );
                }
                name => assert_eq!(
                    column
                        .as_any()
                        .downcast_ref::<StringArray>()
                        .unwrap()
                        .value(0),
                    name,
                    "column {}",
                    field.athena_name
                ),
            }
            let one = finish_with(&mut LogBatchBuilder::with_columns(1, &[i]), 1);
            assert_eq!(one.schema().field(0).name(), field.athena_name);
            assert_eq!(one.column(0), column);
        }
        let extra = full.column_by_name(EXTRA_FIELDS_COLUMN).unwrap();
        let extra = extra.as_any().downcast_ref::<ListArray>().unwrap().value(0);
        assert_eq!(
            extra
                .as_any()
                .downcast_ref::<StringArray>()
                .unwrap()
                .value(0),
            "future"
        );
    }

    #[test]
    fn repeated_and_no_columns() {
        let batch = finish_with(&mut LogBatchBuilder::with_columns(2, &[6, 6]), 2);
        assert_eq!(batch.num_columns(), 2);
        assert_eq!(batch.column(0), batch.column(1));
        let mut none = LogBatchBuilder::with_columns(2, &[]);
        assert_eq!(finish_with(&mut none, 2).num_rows(), 2);
        // The builder is ready for the next batch.
        assert_eq!(finish_with(&mut none, 1).num_rows(), 1);
    }

    /// `finish` sizes the builders afresh: a second batch from the same
    /// builder (as the embedded engine makes them) equals a first one,
    /// time zone included.
    #[test]
    fn a_reused_builder_makes_the_same_batch() {
        let mut reused = LogBatchBuilder::with_capacity(2);
        let first = finish_with(&mut reused, 1);
        let second = finish_with(&mut reused, 3);
        assert_eq!(second.num_rows(), 3);
        assert_eq!(second.slice(2, 1), first);
        assert_eq!(second.schema(), log_schema());
    }
}
