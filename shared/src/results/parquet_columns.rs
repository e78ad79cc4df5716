//! A Parquet writer that encodes the columns of a row group on threads of
//! their own, and writes exactly the bytes [`ArrowWriter`] writes.
//!
//! `ArrowWriter` encodes and compresses every column on the thread that calls
//! `write`: in the merge, that one thread was the ceiling past four cores
//! (the reading, the report and the csv.gz already ran beside it). Here each
//! column of the row group being written has a lane: a thread that owns the
//! column's `ArrowColumnWriter` and encodes the slices sent to it in order.
//! A full row group's lanes are left to finish while the next row group's
//! lanes start, and their chunks are appended to the file in order, so the
//! caller never waits at a row-group boundary. Row groups break where
//! `ArrowWriter` breaks them and each column is encoded by the same code with
//! the same properties: the file is the same, byte for byte (tested).
//!
//! Memory stays flat: a lane holds at most [`SLICES_IN_FLIGHT`] slices of
//! Arrow data (shared with the caller's batch, not copied) and its column's
//! encoded pages, which `ArrowWriter` holds too; at most [`ROW_GROUPS_IN_FLIGHT`]
//! row groups are open.
//!
//! With one core there is nothing to gain from threads, and `ArrowWriter`
//! itself is used.

use std::collections::VecDeque;
use std::io::Write;
use std::thread::JoinHandle;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{
    ArrowColumnChunk, ArrowLeafColumn, ArrowRowGroupWriterFactory, compute_leaves,
};
use parquet::errors::{ParquetError, Result};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;

use super::fed_thread::FedThread;

/// Slices queued for one column's lane: enough that a lane rarely waits for
/// the caller, few enough that the Arrow data held stays small.
const SLICES_IN_FLIGHT: usize = 4;

/// Row groups whose lanes may still be encoding: the one being written and
/// the one before it, finishing.
const ROW_GROUPS_IN_FLIGHT: usize = 2;

/// One column of one row group, being encoded on its own thread.
type Lane = FedThread<ArrowLeafColumn, Result<ArrowColumnChunk>>;

/// A row group whose rows have all been handed to its lanes.
type Closing = Vec<JoinHandle<Result<ArrowColumnChunk>>>;

pub struct ColumnParallelWriter<W: Write + Send> {
    inner: Inner<W>,
}

enum Inner<W: Write + Send> {
    /// One core: `ArrowWriter` as it is.
    Sequential(Box<ArrowWriter<W>>),
    Parallel(Box<Lanes<W>>),
}

struct Lanes<W: Write + Send> {
    file: SerializedFileWriter<W>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    max_rows: usize,
    /// The row group being written, once it has rows.
    open: Option<Vec<Lane>>,
    open_rows: usize,
    /// Row groups started so far (the index a new one gets).
    started: usize,
    closing: VecDeque<Closing>,
}

impl<W: Write + Send> ColumnParallelWriter<W> {
    /// A writer of `schema` into `out` with `props`, whose row groups hold
    /// `props`' `max_row_group_row_count` rows (which must be set), encoding
    /// on threads when `threads` is more than one.
    pub fn try_new(
        out: W,
        schema: SchemaRef,
        props: WriterProperties,
        threads: usize,
    ) -> Result<Self> {
        let max_rows = props.max_row_group_row_count().ok_or_else(|| {
            ParquetError::General("a column-parallel writer needs a row-group row count".into())
        })?;
        let writer = ArrowWriter::try_new(out, schema.clone(), Some(props))?;
        if threads <= 1 {
            return Ok(Self {
                inner: Inner::Sequential(Box::new(writer)),
            });
        }
        // The same file writer and column writers ArrowWriter would use: the
        // same schema conversion, properties and Arrow schema metadata.
        let (file, factory) = writer.into_serialized_writer()?;
        Ok(Self {
            inner: Inner::Parallel(Box::new(Lanes {
                file,
                factory,
                schema,
                max_rows,
                open: None,
                open_rows: 0,
                started: 0,
                closing: VecDeque::new(),
            })),
        })
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        match &mut self.inner {
            Inner::Sequential(w) => w.write(batch),
            Inner::Parallel(lanes) => lanes.write(batch),
        }
    }

    /// Writes what is left and the footer; returns the inner writer.
    pub fn into_inner(self) -> Result<W> {
        match self.inner {
            Inner::Sequential(w) => w.into_inner(),
            Inner::Parallel(mut lanes) => {
                lanes.close_open()?;
                while !lanes.closing.is_empty() {
                    lanes.append_oldest()?;
                }
                lanes.file.into_inner()
            }
        }
    }
}

impl<W: Write + Send> Lanes<W> {
    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        // Split where ArrowWriter splits: at the row-group size.
        let room = self.max_rows - self.open_rows;
        if batch.num_rows() > room {
            self.write(&batch.slice(0, room))?;
            return self.write(&batch.slice(room, batch.num_rows() - room));
        }
        if self.open.is_none() {
            self.open = Some(self.start_row_group()?);
        }
        let lanes = self.open.as_mut().expect("opened above");
        let mut lane = lanes.iter_mut();
        for (field, column) in self.schema.fields().iter().zip(batch.columns()) {
            for leaf in compute_leaves(field, column)? {
                let lane = lane.next().ok_or_else(lane_count_error)?;
                if lane.send(leaf).is_err() {
                    // The lane stopped on an error: closing it returns that error.
                    return Err(self.fail_open());
                }
            }
        }
        self.open_rows += batch.num_rows();
        if self.open_rows >= self.max_rows {
            self.close_open()?;
        }
        Ok(())
    }

    fn start_row_group(&mut self) -> Result<Vec<Lane>> {
        let writers = self.factory.create_column_writers(self.started)?;
        self.started += 1;
        writers
            .into_iter()
            .map(|mut writer| {
                let lane = Lane::spawn("parquet-column", SLICES_IN_FLIGHT, move |slices| {
                    for slice in slices {
                        writer.write(&slice)?;
                    }
                    writer.close()
                })?;
                Ok(lane)
            })
            .collect()
    }

    /// Lets the open row group's lanes finish; appends the oldest row group
    /// still closing when too many are.
    fn close_open(&mut self) -> Result<()> {
        if let Some(lanes) = self.open.take() {
            self.open_rows = 0;
            // Closing a lane ends its input; its thread then closes the
            // column writer and returns the chunk.
            let encoders = lanes.into_iter().map(Lane::close).collect();
            self.closing.push_back(encoders);
        }
        while self.closing.len() >= ROW_GROUPS_IN_FLIGHT {
            self.append_oldest()?;
        }
        Ok(())
    }

    /// Waits for the oldest closing row group and appends it to the file.
    fn append_oldest(&mut self) -> Result<()> {
        let Some(encoders) = self.closing.pop_front() else {
            return Ok(());
        };
        let chunks = encoders
            .into_iter()
            .map(join_lane)
            .collect::<Result<Vec<_>>>()?;
        let mut row_group = self.file.next_row_group()?;
        for chunk in chunks {
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        Ok(())
    }

    /// The error of the open row group's lane that stopped (every lane is
    /// joined, so no thread outlives the writer).
    fn fail_open(&mut self) -> ParquetError {
        let lanes = self.open.take().unwrap_or_default();
        let mut first = None;
        for lane in lanes {
            if let Err(e) = join_lane(lane.close()) {
                first.get_or_insert(e);
            }
        }
        first.unwrap_or_else(|| ParquetError::General("a Parquet column lane stopped".into()))
    }
}

fn join_lane(encoder: JoinHandle<Result<ArrowColumnChunk>>) -> Result<ArrowColumnChunk> {
    encoder
        .join()
        .map_err(|_| ParquetError::General("a Parquet column lane panicked".into()))?
}

fn lane_count_error() -> ParquetError {
    ParquetError::General("the batch has more leaf columns than the schema".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Int64Array, StringArray, TimestampMillisecondArray};
    use arrow_schema::{DataType, Field, Schema, TimeUnit};

    fn batch(schema: &SchemaRef, from: i64, rows: usize) -> RecordBatch {
        let n: Vec<i64> = (from..from + rows as i64).collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(
                TimestampMillisecondArray::from(
                    n.iter()
                        .map(|i| 1_700_000_000_000 + i * 997)
                        .collect::<Vec<_>>(),
                )
                .with_timezone("UTC"),
            ),
            Arc::new(StringArray::from_iter(n.iter().map(|i| {
                (i % 7 != 0).then(|| format!("key/{}/{}.bin", i % 13, i * 31 % 1000))
            }))),
            Arc::new(Int64Array::from_iter(
                n.iter().map(|i| (i % 5 != 0).then_some(i * i % 100_003)),
            )),
        ];
        RecordBatch::try_new(schema.clone(), columns).unwrap()
    }

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new(
                "request_time",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                false,
            ),
            Field::new("key", DataType::Utf8, true),
            Field::new("bytes_sent", DataType::Int64, true),
        ]))
    }

    fn written(threads: usize, sizes: &[usize], row_group_rows: usize) -> Vec<u8> {
        let schema = schema();
        let props = crate::parquet_output::properties(&schema)
            .unwrap()
            .set_max_row_group_row_count(Some(row_group_rows))
            .build();
        let mut w =
            ColumnParallelWriter::try_new(Vec::new(), schema.clone(), props, threads).unwrap();
        let mut from = 0;
        for &rows in sizes {
            w.write(&batch(&schema, from, rows)).unwrap();
            from += rows as i64;
        }
        w.into_inner().unwrap()
    }

    #[test]
    fn the_file_is_arrow_writers_byte_for_byte() {
        // Batches that straddle row groups, fill one exactly, and a last
        // row group left short; and no rows at all.
        for sizes in [
            &[1000, 3000, 2096, 10, 0, 5000][..],
            &[4096, 4096],
            &[7],
            &[],
        ] {
            let sequential = written(1, sizes, 4096);
            for threads in [2, 5] {
                assert_eq!(
                    written(threads, sizes, 4096),
                    sequential,
                    "batches {sizes:?}"
                );
            }
        }
    }

    #[test]
    fn the_file_reads_back_whole_and_in_order() {
        let bytes = written(4, &[5000, 5000, 5000], 4096);
        let reader = parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(
            bytes::Bytes::from(bytes),
        )
        .unwrap();
        assert_eq!(reader.metadata().num_row_groups(), 4);
        let rows: Vec<RecordBatch> = reader.build().unwrap().map(Result::unwrap).collect();
        let all = arrow_select::concat::concat_batches(&schema(), &rows).unwrap();
        assert_eq!(all, batch(&schema(), 0, 15000));
    }

    #[test]
    fn a_row_group_size_is_required() {
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(None)
            .build();
        let err = ColumnParallelWriter::try_new(Vec::new(), schema(), props, 2).err();
        assert!(err.is_some_and(|e| e.to_string().contains("row-group row count")));
    }
}
