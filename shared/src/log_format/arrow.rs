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

use arrow_array::builder::{
    Int32Builder, Int64Builder, ListBuilder, StringBuilder, TimestampMillisecondBuilder,
};
use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, DataType, Field, Schema, SchemaRef, TimeUnit};

use super::LogRecord;
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

/// Appends records column by column; [`LogBatchBuilder::finish`] yields a
/// batch and leaves the builder ready for the next one. Text is copied once,
/// into the Arrow value buffers.
pub struct LogBatchBuilder {
    schema: SchemaRef,
    text: Vec<StringBuilder>,
    request_time: TimestampMillisecondBuilder,
    http_status: Int32Builder,
    ints: [Int64Builder; 4],
    extra: ListBuilder<StringBuilder>,
    rows: usize,
}

impl LogBatchBuilder {
    /// `rows` is the expected number of rows per batch (a capacity hint).
    pub fn with_capacity(rows: usize) -> Self {
        Self {
            schema: log_schema(),
            // About 40 bytes per text value on average, per column.
            text: (0..TEXT_COLUMNS)
                .map(|_| StringBuilder::with_capacity(rows, rows * 40))
                .collect(),
            request_time: TimestampMillisecondBuilder::with_capacity(rows).with_timezone("UTC"),
            http_status: Int32Builder::with_capacity(rows),
            ints: std::array::from_fn(|_| Int64Builder::with_capacity(rows)),
            extra: ListBuilder::new(StringBuilder::new()),
            rows: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.rows
    }

    pub fn is_empty(&self) -> bool {
        self.rows == 0
    }

    pub fn append(&mut self, r: &LogRecord<'_>) {
        let t = &mut self.text;
        let head = [
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
        ];
        for (builder, value) in t
            .iter_mut()
            .zip(head.into_iter().chain(r.trailing_text_fields()))
        {
            builder.append_option(value);
        }
        self.request_time
            .append_option(r.request_time.map(|s| s * 1000));
        self.http_status.append_option(r.http_status);
        let ints = [
            r.bytes_sent,
            r.object_size,
            r.total_time,
            r.turn_around_time,
        ];
        for (builder, value) in self.ints.iter_mut().zip(ints) {
            builder.append_option(value);
        }
        if r.extra.is_some() {
            for f in r.extra_fields() {
                self.extra.values().append_value(f);
            }
            self.extra.append(true);
        } else {
            self.extra.append_null();
        }
        self.rows += 1;
    }

    /// The rows appended so far as one batch, in schema order.
    pub fn finish(&mut self) -> Result<RecordBatch, ArrowError> {
        let mut text = self
            .text
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef);
        let mut next_text = || text.next().expect("21 text builders");
        let mut ints = self
            .ints
            .iter_mut()
            .map(|b| Arc::new(b.finish()) as ArrayRef);
        let mut next_int = || ints.next().expect("4 int builders");
        let bucketowner = next_text();
        let bucket_name = next_text();
        let remoteip = next_text();
        let requester = next_text();
        let requestid = next_text();
        let operation = next_text();
        let key = next_text();
        let request_uri = next_text();
        let errorcode = next_text();
        let referrer = next_text();
        let useragent = next_text();
        let mut columns: Vec<ArrayRef> = vec![
            bucketowner,
            bucket_name,
            Arc::new(self.request_time.finish()),
            remoteip,
            requester,
            requestid,
            operation,
            key,
            request_uri,
            Arc::new(self.http_status.finish()),
            errorcode,
            next_int(),
            next_int(),
            next_int(),
            next_int(),
            referrer,
            useragent,
        ];
        columns.extend((0..10).map(|_| next_text()));
        columns.push(Arc::new(self.extra.finish()));
        self.rows = 0;
        RecordBatch::try_new(self.schema.clone(), columns)
    }
}
