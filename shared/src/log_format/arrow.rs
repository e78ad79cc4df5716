//! Log records as Arrow record batches.
//!
//! The schema's column names are those of AWS's Athena table for server
//! access logs (`bucketowner`, `bucket_name`, `requestdatetime`, ...,
//! `sourceregion`), so SQL written for that table reads our Parquet too.
//! Unlike the Athena table, which keeps most fields as strings, values are
//! typed here: | column | type |
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
use arrow_array::types::{Int32Type, Int64Type, TimestampMillisecondType};
use arrow_array::{ArrayRef, RecordBatch, RecordBatchOptions};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};

use super::LogRecord;
use super::columns::{IntColumn, TextColumn};
use super::fields::{EXTRA_FIELDS_COLUMN, FIELDS};

const TEXT_COLUMNS: usize = 21;

/// The Arrow schema of parsed log records (see the module docs).
pub fn log_schema() -> SchemaRef {
    let mut fields: Vec<Field> = FIELDS
        .iter()
        .map(|f| Field::new(f.athena_name, column_type(f.json_name), true))
        .collect();
    fields.push(Field::new(
        EXTRA_FIELDS_COLUMN,
        DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true))),
        true,
    ));
    Arc::new(Schema::new(fields))
}

fn column_type(json_name: &str) -> DataType {
    match json_name {
        "request_time" => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        "http_status" => DataType::Int32,
        "bytes_sent" | "object_size" | "total_time" | "turn_around_time" => DataType::Int64,
        _ => DataType::Utf8,
    }
}

/// Where each text builder's column sits in [`log_schema`], in the order
/// [`LogBatchBuilder::append`] fills them.
const TEXT_POSITIONS: [usize; TEXT_COLUMNS] = [
    0, 1, 3, 4, 5, 6, 7, 8, 10, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
];
/// Bytes each text column takes per row, about, in [`TEXT_POSITIONS`]
/// order: the value buffers are sized once instead of doubling (and copying)
/// their way up. Measured on generated logs, which follow AWS's shapes:
/// 64-character owner ids, 76-character host ids, long user agents.
const TEXT_WIDTHS: [usize; TEXT_COLUMNS] = [
    64, 32, 16, 56, 16, 24, 64, 96, 8, 16, 96, 8, 80, 8, 32, 12, 48, 8, 4, 4, 16,
];
const REQUEST_TIME: usize = 2;
const HTTP_STATUS: usize = 9;
const INT_POSITIONS: [usize; 4] = [11, 12, 13, 14];
const EXTRA: usize = 27;
const ALL_COLUMNS: usize = 28;

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
    text: [TextColumn; TEXT_COLUMNS],
    request_time: IntColumn<TimestampMillisecondType>,
    http_status: IntColumn<Int32Type>,
    ints: [IntColumn<Int64Type>; 4],
    extra: ListBuilder<StringBuilder>,
    rows: usize,
    /// The rows hint, to size the columns again after each batch.
    capacity_rows: usize,
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
            text: std::array::from_fn(|i| {
                let rows = capacity(TEXT_POSITIONS[i]);
                TextColumn::with_capacity(rows, rows * TEXT_WIDTHS[i])
            }),
            request_time: IntColumn::with_capacity(capacity(REQUEST_TIME)),
            http_status: IntColumn::with_capacity(capacity(HTTP_STATUS)),
            ints: INT_POSITIONS.map(|c| IntColumn::with_capacity(capacity(c))),
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
        let [v0, v1, v2, v3, v4, v5, v6, v7, v8, v9] = r.trailing_text_fields();
        // In TEXT_POSITIONS order. A fixed-size array zipped with the
        // fixed-size columns: the loop unrolls, with no bounds checks.
        let text = [
            r.bucket_owner,
            r.bucket,
            r.remote_ip,
            r.requester,
            r.request_id,
            r.operation,
            r.key,
            r.request_uri,
            r.error_code,
            r.referer,
            r.user_agent,
            v0,
            v1,
            v2,
            v3,
            v4,
            v5,
            v6,
            v7,
            v8,
            v9,
        ];
        let wanted = |column: usize| ALL || self.wanted[column];
        for ((builder, value), column) in self.text.iter_mut().zip(text).zip(TEXT_POSITIONS) {
            if wanted(column) {
                builder.append(value);
            }
        }
        if wanted(REQUEST_TIME) {
            self.request_time.append(r.request_time.map(|s| s * 1000));
        }
        if wanted(HTTP_STATUS) {
            self.http_status.append(r.http_status);
        }
        let ints = [
            r.bytes_sent,
            r.object_size,
            r.total_time,
            r.turn_around_time,
        ];
        for ((builder, value), column) in self.ints.iter_mut().zip(ints).zip(INT_POSITIONS) {
            if wanted(column) {
                builder.append(value);
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
        for ((builder, column), width) in self.text.iter_mut().zip(TEXT_POSITIONS).zip(TEXT_WIDTHS)
        {
            if self.wanted[column] {
                built[column] = Some(Arc::new(builder.finish(rows, rows * width)?));
            }
        }
        if self.wanted[REQUEST_TIME] {
            let times = self.request_time.finish(rows).with_timezone("UTC");
            built[REQUEST_TIME] = Some(Arc::new(times));
        }
        if self.wanted[HTTP_STATUS] {
            built[HTTP_STATUS] = Some(Arc::new(self.http_status.finish(rows)));
        }
        for (builder, column) in self.ints.iter_mut().zip(INT_POSITIONS) {
            if self.wanted[column] {
                built[column] = Some(Arc::new(builder.finish(rows)));
            }
        }
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

    #[test]
    fn each_field_lands_in_its_named_column_whatever_the_selection() {
        let record = parse_line(LINE).unwrap();
        let mut full = LogBatchBuilder::with_capacity(1);
        full.append(&record);
        let full = full.finish().unwrap();
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
            let mut one = LogBatchBuilder::with_columns(1, &[i]);
            one.append(&record);
            let one = one.finish().unwrap();
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
        let record = parse_line(LINE).unwrap();
        let mut b = LogBatchBuilder::with_columns(2, &[6, 6]);
        b.append(&record);
        b.append(&record);
        let batch = b.finish().unwrap();
        assert_eq!(batch.num_columns(), 2);
        assert_eq!(batch.column(0), batch.column(1));
        let mut none = LogBatchBuilder::with_columns(2, &[]);
        none.append(&record);
        none.append(&record);
        assert_eq!(none.finish().unwrap().num_rows(), 2);
        // The builder is ready for the next batch.
        none.append(&record);
        assert_eq!(none.finish().unwrap().num_rows(), 1);
    }

    /// `finish` sizes the builders afresh: a second batch from the same
    /// builder (as the embedded engine makes them) equals a first one,
    /// time zone included.
    #[test]
    fn a_reused_builder_makes_the_same_batch() {
        let record = parse_line(LINE).unwrap();
        let mut reused = LogBatchBuilder::with_capacity(2);
        reused.append(&record);
        let first = reused.finish().unwrap();
        for _ in 0..3 {
            reused.append(&record);
        }
        let second = reused.finish().unwrap();
        assert_eq!(second.num_rows(), 3);
        assert_eq!(second.slice(2, 1), first);
        assert_eq!(second.schema(), log_schema());
    }
}
