//! Writer settings for the Parquet files users keep: `s3la parse`'s output
//! and the merged result of every run. One policy, measured on a month of
//! generated logs:
//!
//! - zstd level 1. On these pages (dictionary-encoded, or random ids) level 3
//!   made the merged file no smaller (1.8% larger, in fact) and the merge 12%
//!   slower.
//! - Min/max statistics per row group only where readers prune on them:
//!   time, status, sizes, operation. Computing them for every text column,
//!   page by page, costs 7-8% of the write and prunes nothing, since keys,
//!   IPs and agents are spread over every row group.
//! - The text that is unique per request (request and host ids, request
//!   URI) without a dictionary, which would only cost time before the writer
//!   fell back to plain encoding, and as DELTA_LENGTH_BYTE_ARRAY: all lengths
//!   first, then the bytes back to back. PLAIN puts a 4-byte length before
//!   every value, and those repeated prefixes are what zstd spent its time
//!   on: the writer's zstd work halved, the whole conversion took 16% fewer
//!   instructions, and the file came out 6% smaller.
//! - The request time and the four byte and millisecond counts as
//!   DELTA_BINARY_PACKED instead of dictionaries: times arrive nearly in
//!   order and counts vary widely, so a dictionary is as long as the column
//!   and costs a hash per value; deltas are cheaper to write and smaller
//!   (6% fewer instructions, 5% smaller file).
//!
//! - The four counts' deltas uncompressed: zstd left them as large as it
//!   found them (ratio 1.00 for the byte counts and total time, 0.91 for
//!   turn-around time) and spent time finding that out.
//!
//! Both delta encodings are in the Parquet format since 2.0 and read by
//! Athena (Trino), Spark 3.3+, DuckDB, pyarrow and Polars.
//!
//! The pruned columns are named both as in the Athena table
//! (`requestdatetime`, ...) and as in the report columns (`request_time`,
//! ...), which have no ids; settings for a column a file does not have are
//! ignored.
//!
//! Encodings follow the file's schema, not only the names: with `selectAll`
//! the query keeps Athena's raw text columns, so `totaltime` may be a string,
//! and DELTA_BINARY_PACKED exists only for integers. A column gets an
//! encoding only when its type has it; otherwise it keeps the writer's
//! default (dictionary, then plain).

use arrow_schema::{DataType, Schema};
use parquet::basic::{Compression, Encoding, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::properties::{EnabledStatistics, WriterPropertiesBuilder};
use parquet::schema::types::ColumnPath;

/// Columns whose row-group min/max lets a reader skip data.
const PRUNED: [&str; 9] = [
    "requestdatetime",
    "request_time",
    "httpstatus",
    "http_status",
    "bytessent",
    "bytes_sent",
    "objectsize",
    "object_size",
    "operation",
];

/// Text with a different value on (nearly) every row.
const UNIQUE: [&str; 3] = ["requestid", "hostid", "request_uri"];

/// The request time, stored as deltas.
const TIMES: [&str; 2] = ["requestdatetime", "request_time"];

/// The byte and millisecond counts, stored as deltas, which zstd does not
/// shrink.
const COUNTS: [&str; 8] = [
    "bytessent",
    "bytes_sent",
    "objectsize",
    "object_size",
    "totaltime",
    "total_time",
    "turnaroundtime",
    "turn_around_time",
];

/// The settings above for a file of `schema`, signed by this version
/// (`created_by`); callers add row-group sizes.
pub fn properties(schema: &Schema) -> Result<WriterPropertiesBuilder, ParquetError> {
    let mut b = WriterProperties::builder()
        .set_created_by(format!("s3la {}", env!("CARGO_PKG_VERSION")))
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
        .set_statistics_enabled(EnabledStatistics::None);
    for column in PRUNED {
        b = b.set_column_statistics_enabled(ColumnPath::from(column), EnabledStatistics::Chunk);
    }
    for column in UNIQUE.into_iter().filter(|c| has(schema, c, is_text)) {
        b = b
            .set_column_dictionary_enabled(ColumnPath::from(column), false)
            .set_column_encoding(ColumnPath::from(column), Encoding::DELTA_LENGTH_BYTE_ARRAY);
    }
    let b = deltas_for_times_and_counts(b, schema);
    Ok(COUNTS
        .into_iter()
        .filter(|c| has(schema, c, is_integer))
        .fold(b, |b, c| {
            b.set_column_compression(ColumnPath::from(c), Compression::UNCOMPRESSED)
        }))
}

/// The request time and the counts as DELTA_BINARY_PACKED (see the module
/// docs); also what the embedded engine's uncompressed staging parts use,
/// where it halves their size and saves a hash per value. Only the columns of
/// `schema` that hold integers or times get it.
pub fn deltas_for_times_and_counts(
    mut b: WriterPropertiesBuilder,
    schema: &Schema,
) -> WriterPropertiesBuilder {
    let deltas = TIMES.into_iter().chain(COUNTS);
    for column in deltas.filter(|c| has(schema, c, is_integer)) {
        b = b
            .set_column_dictionary_enabled(ColumnPath::from(column), false)
            .set_column_encoding(ColumnPath::from(column), Encoding::DELTA_BINARY_PACKED);
    }
    b
}

/// Whether `schema` has a top-level column `name` whose type passes `kind`.
fn has(schema: &Schema, name: &str, kind: fn(&DataType) -> bool) -> bool {
    schema
        .field_with_name(name)
        .is_ok_and(|f| kind(f.data_type()))
}

/// Types stored as Parquet INT32/INT64, which DELTA_BINARY_PACKED encodes.
fn is_integer(t: &DataType) -> bool {
    t.is_integer()
        || matches!(
            t,
            DataType::Timestamp(..) | DataType::Date32 | DataType::Date64
        )
}

/// Types stored as Parquet BYTE_ARRAY, which DELTA_LENGTH_BYTE_ARRAY encodes.
fn is_text(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    use arrow_schema::{Field, TimeUnit};
    use parquet::arrow::ArrowWriter;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use std::sync::Arc;

    fn typed() -> Schema {
        Schema::new(vec![
            Field::new(
                "request_time",
                DataType::Timestamp(TimeUnit::Millisecond, None),
                true,
            ),
            Field::new("key", DataType::Utf8, true),
            Field::new("requestid", DataType::Utf8, true),
            Field::new("total_time", DataType::Int64, true),
        ])
    }

    #[test]
    fn time_keeps_statistics_and_ids_and_counts_are_delta_encoded() {
        let p = properties(&typed()).unwrap().build();
        let time = ColumnPath::from("request_time");
        let key = ColumnPath::from("key");
        assert_eq!(p.statistics_enabled(&time), EnabledStatistics::Chunk);
        assert_eq!(p.statistics_enabled(&key), EnabledStatistics::None);
        let id = ColumnPath::from("requestid");
        assert!(!p.dictionary_enabled(&id));
        assert_eq!(p.encoding(&id), Some(Encoding::DELTA_LENGTH_BYTE_ARRAY));
        assert!(!p.dictionary_enabled(&time));
        assert_eq!(p.encoding(&time), Some(Encoding::DELTA_BINARY_PACKED));
        let total = ColumnPath::from("total_time");
        assert_eq!(p.encoding(&total), Some(Encoding::DELTA_BINARY_PACKED));
        assert_eq!(p.compression(&total), Compression::UNCOMPRESSED);
        assert!(matches!(p.compression(&time), Compression::ZSTD(_)));
        assert!(p.dictionary_enabled(&key));
        assert_eq!(p.encoding(&key), None);
        assert!(matches!(p.compression(&key), Compression::ZSTD(_)));
        assert!(p.created_by().starts_with("s3la "), "{}", p.created_by());
    }

    /// selectAll keeps Athena's raw text: a count column that is a string
    /// must not be given an integer encoding, and the file must be written.
    #[test]
    fn raw_text_counts_keep_the_default_encoding_and_are_written() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("requestdatetime", DataType::Utf8, true),
            Field::new("totaltime", DataType::Utf8, true),
            Field::new("bytessent", DataType::Int64, true),
        ]));
        let p = properties(&schema).unwrap().build();
        assert_eq!(p.encoding(&ColumnPath::from("totaltime")), None);
        let raw = ColumnPath::from("totaltime");
        assert!(matches!(p.compression(&raw), Compression::ZSTD(_)));
        assert!(p.dictionary_enabled(&ColumnPath::from("totaltime")));
        assert_eq!(p.encoding(&ColumnPath::from("requestdatetime")), None);
        let bytes = ColumnPath::from("bytessent");
        assert_eq!(p.encoding(&bytes), Some(Encoding::DELTA_BINARY_PACKED));

        let columns: Vec<ArrayRef> = vec![
            Arc::new(StringArray::from(vec![
                Some("06/Feb/2019:00:00:38 +0000"),
                None,
            ])),
            Arc::new(StringArray::from(vec![Some("70"), Some("-")])),
            Arc::new(Int64Array::from(vec![Some(3), None])),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns).unwrap();
        for staging in [false, true] {
            let props = if staging {
                deltas_for_times_and_counts(WriterProperties::builder(), &schema).build()
            } else {
                p.clone()
            };
            let mut file = Vec::new();
            let mut w = ArrowWriter::try_new(&mut file, schema.clone(), Some(props)).unwrap();
            w.write(&batch).unwrap();
            w.close().unwrap();
            let back: Vec<RecordBatch> =
                ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(file))
                    .unwrap()
                    .build()
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap();
            assert_eq!(back, vec![batch.clone()]);
        }
    }

    #[test]
    fn times_as_timestamps_are_delta_encoded() {
        let schema = Schema::new(vec![Field::new(
            "requestdatetime",
            DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
            true,
        )]);
        let p = deltas_for_times_and_counts(WriterProperties::builder(), &schema).build();
        let column = ColumnPath::from("requestdatetime");
        assert_eq!(p.encoding(&column), Some(Encoding::DELTA_BINARY_PACKED));
    }
}
