//! Streams Parquet parts, batch by batch, into one Parquet file and one
//! gzip-compressed CSV: the whole result is never in memory. Every batch is
//! conformed to the run's result schema first, so Athena's INT96 timestamps
//! and the embedded engine's types come out the same.
//!
//! [`merge_parts`] drives it over an object store: parts are read by ranged
//! GETs a row group at a time, and each output leaves as multipart-upload
//! parts while it is written, visible only once complete. The caller may
//! watch every batch ([`MergeObserver`]) and choose the rows written
//! ([`Keep`]); the merge knows nothing of what for.

use std::io::Write;
use std::ops::Range;

use arrow_array::RecordBatch;
use arrow_cast::cast;
use arrow_schema::{ArrowError, SchemaRef};
use futures::StreamExt;
use libdeflater::CompressionLvl;

use super::csv_gz::CsvGzWriter;
use super::observer::{MergeObserver, ObserverStopped, ObserverThread, Progress};
use super::parquet_columns::ColumnParallelWriter;
use crate::location::Location;
use crate::storage::parquet_reader::StoreParquetReader;
use crate::storage::sink::PartSink;
use crate::storage::{ObjectStore, StorageError, Upload};
use parquet::arrow::ParquetRecordBatchStreamBuilder;

/// Rows per row group of the merged Parquet file: bounded memory while
/// writing, and row groups large enough for readers.
pub const ROW_GROUP_ROWS: usize = 128 * 1024;
const BATCH_ROWS: usize = 8 * 1024;
/// Compression level of the csv.gz (libdeflate's): the fastest, since the
/// file is a download and the Parquet file beside it is the compact copy. At
/// level 1 libdeflate already compresses this text better than zlib-rs at 2,
/// the level used before; its level 2 costs 30% more time for 3%.
pub const GZIP_LEVEL: CompressionLvl = match CompressionLvl::new(1) {
    Ok(level) => level,
    // Not `CompressionLvl::fastest()`: that is level 0, which stores.
    Err(_) => panic!("libdeflate has a level 1"),
};

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
    #[error("{0}")]
    Storage(#[from] StorageError),
    #[error("{0}")]
    Observer(#[from] ObserverStopped),
}

/// Writes every batch twice: into the Parquet writer and the CSV writer.
pub struct Merger<P: Write + Send, C: Write> {
    schema: SchemaRef,
    parquet: ColumnParallelWriter<P>,
    csv: CsvGzWriter<C>,
    rows: u64,
}

impl<P: Write + Send, C: Write> Merger<P, C> {
    pub fn new(schema: SchemaRef, parquet_out: P, csv_out: C) -> Result<Self, MergeError> {
        let props = crate::parquet_output::properties(&schema)?
            .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
            .build();
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        let parquet = ColumnParallelWriter::try_new(parquet_out, schema.clone(), props, threads)?;
        let csv = CsvGzWriter::new(csv_out, schema.clone(), GZIP_LEVEL);
        Ok(Self {
            schema,
            parquet,
            csv,
            rows: 0,
        })
    }

    /// The csv.gz without its header line: for a shard after the first (see
    /// [`super::assemble`]).
    pub fn without_csv_header(mut self) -> Self {
        self.csv = self.csv.without_header();
        self
    }

    /// Appends a batch read from the part `name` (named in errors), after
    /// conforming it to the result schema.
    pub fn add_batch(&mut self, name: &str, batch: &RecordBatch) -> Result<(), MergeError> {
        let batch = conform(batch, &self.schema, name)?;
        self.write(&batch)
    }

    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), MergeError> {
        self.parquet.write(batch)?;
        self.csv.write(batch)?;
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Finishes both files; returns the number of rows written.
    pub fn finish(self) -> Result<(u64, P, C), MergeError> {
        let parquet = self.parquet.into_inner()?;
        let csv = self.csv.finish()?;
        Ok((self.rows, parquet, csv))
    }
}

/// `batch` with the columns of `schema`, by name, cast to its types.
fn conform(batch: &RecordBatch, schema: &SchemaRef, part: &str) -> Result<RecordBatch, MergeError> {
    if batch.schema() == *schema {
        return Ok(batch.clone());
    }
    let found = batch.schema();
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

/// The schema of the Parquet file at `at` (from its footer), with every
/// timestamp as milliseconds in UTC: Athena writes INT96 nanoseconds with no
/// time zone, but its timestamps are UTC with millisecond precision.
pub async fn part_schema<S: ObjectStore>(
    store: &S,
    at: &Location,
) -> Result<SchemaRef, MergeError> {
    let size = store
        .size(at)
        .await?
        .ok_or_else(|| StorageError::NotFound {
            uri: at.to_string(),
        })?;
    let reader = StoreParquetReader::new(store.clone(), at.clone(), size);
    let builder = ParquetRecordBatchStreamBuilder::new(reader)
        .await
        .map_err(|source| MergeError::Part {
            part: at.to_string(),
            source,
        })?;
    let fields: Vec<arrow_schema::Field> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            arrow_schema::DataType::Timestamp(_, tz) => {
                f.as_ref()
                    .clone()
                    .with_data_type(arrow_schema::DataType::Timestamp(
                        arrow_schema::TimeUnit::Millisecond,
                        Some(tz.clone().unwrap_or_else(|| "UTC".into())),
                    ))
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    Ok(std::sync::Arc::new(arrow_schema::Schema::new(fields)))
}

/// What a merge wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Merged {
    pub rows: u64,
    pub parquet_bytes: u64,
    pub csv_gz_bytes: u64,
    /// Bytes of the parts read.
    pub input_bytes: u64,
}

/// The rows of a batch the merge writes, chosen by the caller.
pub type Keep = fn(RecordBatch) -> Result<RecordBatch, ArrowError>;

/// Writes every row read.
pub fn every_row(batch: RecordBatch) -> Result<RecordBatch, ArrowError> {
    Ok(batch)
}

/// Merges `parts`, in order, into a Parquet file at `parquet_at` and a csv.gz
/// at `csv_at`. On any failure both uploads are aborted: a reader sees the
/// previous files or the new ones, never a partial one.
pub async fn merge_parts<S: ObjectStore>(
    store: &S,
    parts: &[Location],
    schema: SchemaRef,
    parquet_at: &Location,
    csv_at: &Location,
) -> Result<Merged, MergeError> {
    let (merged, ()) =
        merge_parts_observed(store, parts, schema, parquet_at, csv_at, every_row, ()).await?;
    Ok(merged)
}

/// [`merge_parts`], showing every batch and finished part to `observer`
/// (handed back at the end) and writing only the rows `keep` returns.
pub async fn merge_parts_observed<S: ObjectStore, O: MergeObserver>(
    store: &S,
    parts: &[Location],
    schema: SchemaRef,
    parquet_at: &Location,
    csv_at: &Location,
    keep: Keep,
    observer: O,
) -> Result<(Merged, O), MergeError> {
    let outputs = (parquet_at, csv_at, true);
    let parts: Vec<PartSlice> = parts.iter().cloned().map(PartSlice::whole).collect();
    merge_into(store, &parts, schema, outputs, keep, observer).await
}

/// A part, or some of its row groups: what a shard of a sharded merge reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartSlice {
    pub at: Location,
    /// The row groups to read, in order; `None`: all of them.
    pub row_groups: Option<Range<usize>>,
}

impl PartSlice {
    pub fn whole(at: Location) -> Self {
        Self {
            at,
            row_groups: None,
        }
    }
}

/// [`merge_parts`] for one shard of a sharded merge (see
/// [`super::sharded`]): the csv.gz has the header line only if `first`.
pub async fn merge_shard<S: ObjectStore>(
    store: &S,
    parts: &[PartSlice],
    schema: SchemaRef,
    parquet_at: &Location,
    csv_at: &Location,
    first: bool,
) -> Result<Merged, MergeError> {
    let outputs = (parquet_at, csv_at, first);
    let (merged, ()) = merge_shard_observed(store, parts, schema, outputs, every_row, ()).await?;
    Ok(merged)
}

/// [`merge_shard`], showing every batch to `observer` as
/// [`merge_parts_observed`] does: a shard of MergeResults counts its rows.
pub async fn merge_shard_observed<S: ObjectStore, O: MergeObserver>(
    store: &S,
    parts: &[PartSlice],
    schema: SchemaRef,
    (parquet_at, csv_at, first): (&Location, &Location, bool),
    keep: Keep,
    observer: O,
) -> Result<(Merged, O), MergeError> {
    merge_into(
        store,
        parts,
        schema,
        (parquet_at, csv_at, first),
        keep,
        observer,
    )
    .await
}

/// The Parquet file's and the csv.gz's locations, and whether the csv.gz
/// starts with the header line.
type Outputs<'a> = (&'a Location, &'a Location, bool);

async fn merge_into<S: ObjectStore, O: MergeObserver>(
    store: &S,
    parts: &[PartSlice],
    schema: SchemaRef,
    (parquet_at, csv_at, header): Outputs<'_>,
    keep: Keep,
    observer: O,
) -> Result<(Merged, O), MergeError> {
    let mut parquet = PartSink::new(store.upload(parquet_at).await?);
    let mut csv = match store.upload(csv_at).await {
        Ok(upload) => PartSink::new(upload),
        Err(e) => {
            abort_after_failure(parquet, parquet_at).await;
            return Err(e.into());
        }
    };
    let sinks = (&mut parquet, &mut csv, header);
    let written = write_parts(store, parts, schema, sinks, keep, observer).await;
    let (rows, input_bytes, observer) = match written {
        Ok(counts) => counts,
        Err(e) => {
            abort_after_failure(parquet, parquet_at).await;
            abort_after_failure(csv, csv_at).await;
            return Err(e);
        }
    };
    let parquet_bytes = match parquet.complete().await {
        Ok(size) => size,
        Err(e) => {
            abort_after_failure(csv, csv_at).await;
            return Err(e.into());
        }
    };
    let csv_gz_bytes = csv.complete().await?;
    let merged = Merged {
        rows,
        parquet_bytes,
        csv_gz_bytes,
        input_bytes,
    };
    Ok((merged, observer))
}

/// Aborts the upload to `at` after the failure that is the merge's error.
/// An abort that fails too leaves only an incomplete upload (the results
/// bucket's lifecycle rule removes it after a day; a local temporary goes
/// when dropped), so it is logged, not returned in place of the cause.
async fn abort_after_failure<U: Upload>(sink: PartSink<U>, at: &Location) {
    if let Err(e) = sink.abort().await {
        eprintln!("note: could not abort the upload of {at} after the merge failed: {e}");
    }
}

/// What the reading task hands the writer.
enum Read {
    /// A batch of the part at this index, conformed to the result schema.
    Batch(RecordBatch),
    /// The part at this index was read whole; it was this many bytes.
    PartDone(usize, u64),
}

/// Batches in flight between the reading task and the writer: enough to keep
/// both busy, few enough to keep memory flat.
const BATCHES_IN_FLIGHT: usize = 2;

async fn write_parts<S: ObjectStore, O: MergeObserver>(
    store: &S,
    parts: &[PartSlice],
    schema: SchemaRef,
    (parquet, csv, header): (&mut PartSink<S::Upload>, &mut PartSink<S::Upload>, bool),
    keep: Keep,
    observer: O,
) -> Result<(u64, u64, O), MergeError> {
    // Reading and decoding the parts runs as its own task, so on a
    // multi-threaded runtime it overlaps with encoding the outputs.
    let (tx, mut rx) = tokio::sync::mpsc::channel(BATCHES_IN_FLIGHT);
    let reader = tokio::spawn(read_parts(
        store.clone(),
        parts.to_vec(),
        schema.clone(),
        tx,
    ));
    let mut merger = Merger::new(schema, parquet.writer(), csv.writer())?;
    if !header {
        merger = merger.without_csv_header();
    }
    let watching = ObserverThread::start(observer);
    let (mut input_bytes, mut parts_done) = (0, 0);
    while let Some(read) = rx.recv().await {
        match read? {
            Read::Batch(batch) => {
                watching.batch(&batch)?;
                merger.write(&keep(batch)?)?;
                parquet.upload_full_parts().await?;
                csv.upload_full_parts().await?;
            }
            Read::PartDone(index, size) => {
                input_bytes += size;
                parts_done = index + 1;
                watching.part_done(Progress {
                    parts: parts_done,
                    rows: merger.rows,
                    input_bytes,
                })?;
            }
        }
    }
    // The channel also closes when the reading task panics: only a reader
    // that got through every part makes the output complete.
    let finished = reader.await.is_ok() && parts_done == parts.len();
    if !finished {
        return Err(MergeError::Io(std::io::Error::other(format!(
            "reading the parts stopped after {parts_done} of {}",
            parts.len()
        ))));
    }
    let (rows, _, _) = merger.finish()?;
    Ok((rows, input_bytes, watching.finish()?))
}

/// Reads every part in order, a row group at a time, and sends its batches
/// conformed to `schema`; the first error is sent and ends the reading.
async fn read_parts<S: ObjectStore>(
    store: S,
    parts: Vec<PartSlice>,
    schema: SchemaRef,
    tx: tokio::sync::mpsc::Sender<Result<Read, MergeError>>,
) {
    for (index, part) in parts.iter().enumerate() {
        match read_part(&store, part, &schema, &tx).await {
            // The writer stopped (it failed): nothing left to do.
            Ok(None) => return,
            Ok(Some(size)) => {
                if tx.send(Ok(Read::PartDone(index, size))).await.is_err() {
                    return;
                }
            }
            Err(e) => {
                // Fails only when the writer stopped first, on an error of
                // its own: that one is the merge's.
                let _ = tx.send(Err(e)).await;
                return;
            }
        }
    }
}

/// Sends one part's batches (of its row groups, for a slice); returns the
/// bytes read (the part's size, or the slice's row groups' compressed size),
/// or `None` if the writer is gone.
async fn read_part<S: ObjectStore>(
    store: &S,
    PartSlice {
        at: part,
        row_groups,
    }: &PartSlice,
    schema: &SchemaRef,
    tx: &tokio::sync::mpsc::Sender<Result<Read, MergeError>>,
) -> Result<Option<u64>, MergeError> {
    let name = part.to_string();
    let part_err = |source| MergeError::Part {
        part: name.clone(),
        source,
    };
    let size = store
        .size(part)
        .await?
        .ok_or_else(|| StorageError::NotFound { uri: name.clone() })?;
    let reader = StoreParquetReader::new(store.clone(), part.clone(), size);
    let mut builder = ParquetRecordBatchStreamBuilder::new(reader)
        .await
        .map_err(part_err)?
        .with_batch_size(BATCH_ROWS);
    let mut read = size;
    if let Some(groups) = row_groups {
        let m = builder.metadata();
        if groups.end > m.num_row_groups() {
            return Err(part_err(parquet::errors::ParquetError::General(format!(
                "row groups {groups:?} asked for, the part has {}",
                m.num_row_groups()
            ))));
        }
        read = groups
            .clone()
            .map(|g| m.row_group(g).compressed_size() as u64)
            .sum();
        builder = builder.with_row_groups(groups.clone().collect());
    }
    let mut batches = builder.build().map_err(part_err)?;
    while let Some(batch) = batches.next().await {
        let batch = conform(&batch.map_err(part_err)?, schema, &name)?;
        if tx.send(Ok(Read::Batch(batch))).await.is_err() {
            return Ok(None);
        }
    }
    Ok(Some(read))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::block_on;
    use std::io::Read;
    use std::sync::Arc;

    use arrow_array::{Array, RecordBatchReader};
    use arrow_array::{Int64Array, StringArray, TimestampNanosecondArray};
    use arrow_schema::{DataType, Field, Schema, TimeUnit};
    use parquet::arrow::ArrowWriter;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use crate::storage::local::LocalStore;

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
        m.add_batch("p0", &athena_like).unwrap();
        m.add_batch("p1", &athena_like).unwrap();
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

    fn write_part(path: &std::path::Path, batch: &RecordBatch, row_group_rows: usize) {
        let props = parquet::file::properties::WriterProperties::builder()
            .set_max_row_group_row_count(Some(row_group_rows))
            .build();
        let file = std::fs::File::create(path).unwrap();
        let mut w = ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
        w.write(batch).unwrap();
        w.close().unwrap();
    }

    /// `count` copies of `batch` as the parts `part-0`, `part-1`, ... in
    /// `dir`, in row groups of 1000 rows.
    fn write_parts_of(dir: &std::path::Path, batch: &RecordBatch, count: usize) -> Vec<Location> {
        (0..count)
            .map(|i| {
                let p = dir.join(format!("part-{i}"));
                write_part(&p, batch, 1000);
                Location::Local(p)
            })
            .collect()
    }

    /// Counts what it is shown.
    #[derive(Default)]
    struct Counts {
        rows: u64,
        parts: Vec<Progress>,
    }

    impl MergeObserver for Counts {
        fn batch(&mut self, batch: &RecordBatch) {
            self.rows += batch.num_rows() as u64;
        }
        fn part_done(&mut self, progress: &Progress) {
            self.parts.push(*progress);
        }
    }

    /// The rows with a key.
    fn with_key(batch: RecordBatch) -> Result<RecordBatch, ArrowError> {
        let key = batch.column_by_name("key").unwrap();
        let keep: arrow_array::BooleanArray =
            (0..key.len()).map(|i| Some(key.is_valid(i))).collect();
        arrow_select::filter::filter_record_batch(&batch, &keep)
    }

    #[test]
    fn the_observer_sees_every_row_read_and_keep_chooses_the_rows_written() {
        let dir = tempfile::tempdir().unwrap();
        let batch = RecordBatch::try_from_iter(vec![
            (
                "request_time",
                Arc::new(TimestampNanosecondArray::from(vec![
                    Some(1_000_000_000),
                    None,
                    Some(2_000_000_000),
                ])) as _,
            ),
            (
                "key",
                Arc::new(StringArray::from(vec![Some("a"), None, Some("b")])) as _,
            ),
            (
                "bytes_sent",
                Arc::new(Int64Array::from(vec![Some(1), None, Some(2)])) as _,
            ),
        ])
        .unwrap();
        let parts = write_parts_of(dir.path(), &batch, 2);
        let out = |name: &str| Location::Local(dir.path().join("out").join(name));
        let (merged, seen) = block_on(merge_parts_observed(
            &LocalStore,
            &parts,
            target(),
            &out("r.parquet"),
            &out("r.csv.gz"),
            with_key,
            Counts::default(),
        ))
        .unwrap();
        assert_eq!((merged.rows, seen.rows), (4, 6));
        let size = std::fs::metadata(dir.path().join("part-0")).unwrap().len();
        let progress = |parts: usize, rows| Progress {
            parts,
            rows,
            input_bytes: parts as u64 * size,
        };
        assert_eq!(seen.parts, [progress(1, 2), progress(2, 4)]);
        assert_eq!(merged.input_bytes, 2 * size);
        // Without a rule, every row is kept as it is.
        let merged = block_on(merge_parts(
            &LocalStore,
            &parts,
            target(),
            &out("all.parquet"),
            &out("all.csv.gz"),
        ))
        .unwrap();
        assert_eq!(merged.rows, 6);
    }

    #[test]
    fn merges_part_files_row_group_by_row_group_through_a_store() {
        let dir = tempfile::tempdir().unwrap();
        let n = 10_000i64;
        let batch = RecordBatch::try_from_iter(vec![
            (
                "request_time",
                Arc::new(TimestampNanosecondArray::from_iter_values(
                    (0..n).map(|i| i * 1_000_000_000),
                )) as _,
            ),
            (
                "key",
                Arc::new(StringArray::from_iter_values(
                    (0..n).map(|i| format!("k{i}")),
                )) as _,
            ),
            (
                "bytes_sent",
                Arc::new(Int64Array::from_iter_values(0..n)) as _,
            ),
        ])
        .unwrap();
        let parts = write_parts_of(dir.path(), &batch, 3);
        let out = |name: &str| Location::Local(dir.path().join("out").join(name));
        let merged = block_on(merge_parts(
            &LocalStore,
            &parts,
            target(),
            &out("r.parquet"),
            &out("r.csv.gz"),
        ))
        .unwrap();
        assert_eq!(merged.rows, 3 * n as u64);
        let file = std::fs::File::open(dir.path().join("out/r.parquet")).unwrap();
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        let keys: Vec<String> = reader
            .flat_map(|b| {
                let b = b.unwrap();
                let k = b.column(1).as_any().downcast_ref::<StringArray>().unwrap();
                k.iter().map(|v| v.unwrap().to_string()).collect::<Vec<_>>()
            })
            .collect();
        assert_eq!(keys.len(), 3 * n as usize);
        assert_eq!(keys[n as usize], "k0");
        assert_eq!(keys.last().unwrap(), &format!("k{}", n - 1));
        assert_eq!(
            merged.parquet_bytes,
            std::fs::metadata(dir.path().join("out/r.parquet"))
                .unwrap()
                .len()
        );
    }

    #[test]
    fn a_bad_part_aborts_both_outputs_and_keeps_the_previous_ones() {
        let dir = tempfile::tempdir().unwrap();
        let out_dir = dir.path().join("out");
        std::fs::create_dir_all(&out_dir).unwrap();
        std::fs::write(out_dir.join("r.parquet"), "previous").unwrap();
        let good = dir.path().join("part-0");
        let batch =
            RecordBatch::try_from_iter(vec![("key", Arc::new(StringArray::from(vec!["k"])) as _)])
                .unwrap();
        write_part(&good, &batch, 10);
        let broken = dir.path().join("part-1");
        std::fs::write(&broken, b"PAR1 this is not parquet PAR1").unwrap();
        let e = block_on(merge_parts(
            &LocalStore,
            &[Location::Local(broken.clone())],
            target(),
            &Location::Local(out_dir.join("r.parquet")),
            &Location::Local(out_dir.join("r.csv.gz")),
        ))
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with(&format!("part file://{}", broken.display())),
            "{e}"
        );
        let left: Vec<_> = std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(left, vec!["r.parquet"]);
        assert_eq!(
            std::fs::read(out_dir.join("r.parquet")).unwrap(),
            b"previous"
        );
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
        let e = m.add_batch("s3://b/p/part-7", &bad).unwrap_err();
        assert_eq!(
            e.to_string(),
            "part s3://b/p/part-7: column request_time is missing, which cannot become Timestamp(ms, \"UTC\")"
        );
    }
}
