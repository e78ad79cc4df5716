//! Streams Parquet parts, batch by batch, into one Parquet file and one
//! gzip-compressed CSV: the whole result is never in memory. Every batch is
//! conformed to the run's result schema first, so Athena's INT96 timestamps
//! and the embedded engine's types come out the same.

use std::io::Write;

use arrow_array::{RecordBatch, RecordBatchReader};
use arrow_cast::cast;
use arrow_schema::{ArrowError, SchemaRef};
use flate2::Compression as GzLevel;

use super::gzip_blocks::ParallelGzWriter;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use parquet::file::reader::ChunkReader;

/// Rows per row group of the merged Parquet file: bounded memory while
/// writing, and row groups large enough for readers.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;
const BATCH_ROWS: usize = 8 * 1024;
/// gzip level of the csv.gz: a fast level, since the file is a download and
/// the Parquet file beside it is the compact copy.
pub const GZIP_LEVEL: u32 = 3;

#[derive(Debug, thiserror::Error)]
pub enum MergeError {
    #[error("part {part}: {source}")]
    Part {
        part: String,
        source: parquet::errors::ParquetError,
    },
    #[error("part {part}: column {column} is {found}, which cannot become {wanted}")]
    Schema {
        part: String,
        column: String,
        found: String,
        wanted: String,
    },
    #[error("{0}")]
    Arrow(#[from] ArrowError),
    #[error("writing Parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("writing: {0}")]
    Io(#[from] std::io::Error),
}

/// Writes every batch twice: into the Parquet writer and the CSV writer.
pub struct Merger<P: Write + Send, C: Write> {
    schema: SchemaRef,
    parquet: ArrowWriter<P>,
    csv: arrow_csv::Writer<ParallelGzWriter<C>>,
    rows: u64,
}

impl<P: Write + Send, C: Write> Merger<P, C> {
    pub fn new(schema: SchemaRef, parquet_out: P, csv_out: C) -> Result<Self, MergeError> {
        let props = WriterProperties::builder()
            .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        let parquet = ArrowWriter::try_new(parquet_out, schema.clone(), Some(props))?;
        let csv = arrow_csv::WriterBuilder::new()
            .with_header(true)
            .with_timestamp_tz_format("%Y-%m-%dT%H:%M:%S%.3fZ".to_string())
            .build(ParallelGzWriter::new(csv_out, GzLevel::new(GZIP_LEVEL)));
        Ok(Self {
            schema,
            parquet,
            csv,
            rows: 0,
        })
    }

    /// Appends one Parquet part; `name` identifies it in errors.
    pub fn add_part<R: ChunkReader + 'static>(
        &mut self,
        name: &str,
        part: R,
    ) -> Result<(), MergeError> {
        let part_err = |source| MergeError::Part {
            part: name.to_string(),
            source,
        };
        let reader = ParquetRecordBatchReaderBuilder::try_new(part)
            .map_err(part_err)?
            .with_batch_size(BATCH_ROWS)
            .build()
            .map_err(part_err)?;
        let found = reader.schema();
        for batch in reader {
            let batch = conform(&batch?, &self.schema, name, &found)?;
            self.write(&batch)?;
        }
        Ok(())
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), MergeError> {
        self.parquet.write(batch)?;
        self.csv.write(batch)?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Finishes both files; returns the number of rows written.
    pub fn finish(mut self) -> Result<(u64, P, C), MergeError> {
        if self.rows == 0 {
            // The CSV writer writes its header with the first batch: give it an empty one.
            self.csv
                .write(&RecordBatch::new_empty(self.schema.clone()))?;
        }
        let parquet = self.parquet.into_inner()?;
        let csv = self.csv.into_inner().finish()?;
        Ok((self.rows, parquet, csv))
    }
}

/// `batch` with the columns of `schema`, by name, cast to its types.
fn conform(
    batch: &RecordBatch,
    schema: &SchemaRef,
    part: &str,
    found: &SchemaRef,
) -> Result<RecordBatch, MergeError> {
    let mut columns = Vec::with_capacity(schema.fields().len());
    for field in schema.fields() {
        let (index, have) =
            found
                .column_with_name(field.name())
                .ok_or_else(|| MergeError::Schema {
                    part: part.to_string(),
                    column: field.name().clone(),
                    found: "missing".into(),
                    wanted: field.data_type().to_string(),
                })?;
        let column = batch.column(index);
        columns.push(if have.data_type() == field.data_type() {
            column.clone()
        } else {
            cast(column, field.data_type()).map_err(|_| MergeError::Schema {
                part: part.to_string(),
                column: field.name().clone(),
                found: have.data_type().to_string(),
                wanted: field.data_type().to_string(),
            })?
        });
    }
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::sync::Arc;

    use arrow_array::{Int64Array, StringArray, TimestampNanosecondArray};
    use arrow_schema::{DataType, Field, Schema, TimeUnit};
    use bytes_of_part as part;

    fn bytes_of_part(batch: &RecordBatch) -> bytes::Bytes {
        let mut buf = Vec::new();
        let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), None).unwrap();
        w.write(batch).unwrap();
        w.close().unwrap();
        bytes::Bytes::from(buf)
    }

    fn target() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new(
                "request_time",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                true,
            ),
            Field::new("key", DataType::Utf8, true),
            Field::new("bytes_sent", DataType::Int64, true),
        ]))
    }

    #[test]
    fn merges_parts_and_normalises_nanosecond_times() {
        // As Athena's INT96 reads back: nanoseconds, no time zone, columns in another order.
        let athena_like = RecordBatch::try_from_iter(vec![
            (
                "bytes_sent",
                Arc::new(Int64Array::from(vec![Some(10), None])) as _,
            ),
            (
                "key",
                Arc::new(StringArray::from(vec![Some("a,b"), Some("say \"hi\"")])) as _,
            ),
            (
                "request_time",
                Arc::new(TimestampNanosecondArray::from(vec![
                    1_704_067_200_123_000_000,
                    0,
                ])) as _,
            ),
        ])
        .unwrap();
        let mut m = Merger::new(target(), Vec::new(), Vec::new()).unwrap();
        m.add_part("p0", part(&athena_like)).unwrap();
        m.add_part("p1", part(&athena_like)).unwrap();
        let (rows, parquet, csv_gz) = m.finish().unwrap();
        assert_eq!(rows, 4);

        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(parquet))
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(reader.schema(), target());
        let n: usize = reader.map(|b| b.unwrap().num_rows()).sum();
        assert_eq!(n, 4);

        let mut csv = String::new();
        flate2::read::MultiGzDecoder::new(&csv_gz[..])
            .read_to_string(&mut csv)
            .unwrap();
        let lines: Vec<_> = csv.lines().collect();
        assert_eq!(lines[0], "request_time,key,bytes_sent");
        assert_eq!(lines[1], "2024-01-01T00:00:00.123Z,\"a,b\",10");
        assert_eq!(lines[2], "1970-01-01T00:00:00.000Z,\"say \"\"hi\"\"\",");
        assert_eq!(lines.len(), 5);
    }

    #[test]
    fn empty_results_are_valid_files() {
        let m = Merger::new(target(), Vec::new(), Vec::new()).unwrap();
        let (rows, parquet, csv_gz) = m.finish().unwrap();
        assert_eq!(rows, 0);
        let reader = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(parquet)).unwrap();
        assert_eq!(reader.schema(), &target());
        let mut csv = String::new();
        flate2::read::MultiGzDecoder::new(&csv_gz[..])
            .read_to_string(&mut csv)
            .unwrap();
        assert_eq!(csv, "request_time,key,bytes_sent\n");
    }

    #[test]
    fn a_part_missing_a_column_is_an_error_naming_it() {
        let bad =
            RecordBatch::try_from_iter(vec![("key", Arc::new(StringArray::from(vec!["k"])) as _)])
                .unwrap();
        let mut m = Merger::new(target(), Vec::new(), Vec::new()).unwrap();
        let e = m.add_part("s3://b/p/part-7", part(&bad)).unwrap_err();
        assert_eq!(
            e.to_string(),
            "part s3://b/p/part-7: column request_time is missing, which cannot become Timestamp(ms, \"UTC\")"
        );
    }
}
