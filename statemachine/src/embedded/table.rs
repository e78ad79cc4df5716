//! The logs as a DataFusion table: files of any form S3 delivers (text,
//! JSON, Parquet; see `log_format::forms`) are read into Arrow batches with
//! the Athena table's column names, plus the `timestamp` partition column
//! (`YYYY/MM/DD`, null in the simple layout). Malformed records are
//! counted, never silently dropped from the tally.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use datafusion::arrow::array::{ArrayRef, RecordBatch, RecordBatchOptions, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableProvider};
use datafusion::datasource::TableType;
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use datafusion::physical_plan::streaming::StreamingTableExec;
use futures::StreamExt;
use s3la_shared::log_format::arrow::{LogBatchBuilder, log_schema};
use s3la_shared::log_format::forms::{LogForm, for_each_record};

use super::logs::LogFile;

const BATCH_ROWS: usize = 32 * 1024;
/// How many malformed lines are kept as examples.
const EXAMPLES: usize = 10;

/// The partition column's name, as in the Athena table.
pub const PARTITION_COLUMN: &str = "timestamp";
/// Its index in [`table_schema`]: after the parser's 28 columns.
const PARTITION_INDEX: usize = 28;

pub fn table_schema() -> SchemaRef {
    let mut fields: Vec<Field> = log_schema()
        .fields()
        .iter()
        .map(|f| f.as_ref().clone())
        .collect();
    fields.push(Field::new(PARTITION_COLUMN, DataType::Utf8, true));
    Arc::new(Schema::new(fields))
}

/// What a scan read: shared by its partitions, read once it is done.
#[derive(Debug, Default)]
pub struct ScanStats {
    pub bytes: AtomicU64,
    pub records: AtomicU64,
    pub malformed: AtomicU64,
    /// The first malformed lines in file order (path, line, why): groups
    /// are read in parallel, so the first ones met depend on timing.
    examples: Mutex<Vec<(PathBuf, u64, String)>>,
}

impl ScanStats {
    /// `path:line: why` of the first [`EXAMPLES`] malformed lines, in file
    /// and line order.
    pub fn malformed_examples(&self) -> Vec<String> {
        let examples = self.examples.lock().map(|e| e.clone()).unwrap_or_default();
        examples
            .into_iter()
            .map(|(path, line, why)| format!("{}:{line}: {why}", path.display()))
            .collect()
    }

    fn malformed_line(&self, path: &Path, line: u64, why: String) {
        let Ok(mut examples) = self.examples.lock() else {
            return;
        };
        // Kept sorted; a line after the tenth kept is not one of the first.
        let at = examples.partition_point(|(p, l, _)| (p.as_path(), *l) < (path, line));
        if at < EXAMPLES {
            examples.insert(at, (path.to_path_buf(), line, why));
            examples.truncate(EXAMPLES);
        }
    }
}

/// The logs as a table: files split into groups that DataFusion reads in
/// parallel, parsing only the columns a query reads.
#[derive(Debug)]
pub struct LogsTable {
    schema: SchemaRef,
    groups: Vec<Vec<LogFile>>,
    stats: Arc<ScanStats>,
    form: Option<LogForm>,
}

/// Groups a query's files are read in, whatever the cores: see
/// [`query_groups`].
pub const QUERY_GROUPS: usize = 64;

/// How many groups the embedded engine's query reads `files` files in: one
/// per file up to [`QUERY_GROUPS`]. Not the core count: each group becomes
/// one staging part, so the parts (and the merged outputs, whose bytes
/// follow the parts' batches) are the same on every machine; and with
/// several groups per core, taken in turn by whichever core is free, no
/// core idles while another reads the last long group (on 2 cores with a
/// group each, one sat idle for 0.25 s of a 1.9 s query, `perf`
/// 2026-12-07).
pub fn query_groups(files: usize) -> usize {
    files.clamp(1, QUERY_GROUPS)
}

/// The table over `files`, split into `partitions` groups; `form`, when
/// given, is the one form every file must have (each file's is detected
/// otherwise).
pub fn logs_table(
    files: Vec<LogFile>,
    partitions: usize,
    stats: Arc<ScanStats>,
    form: Option<LogForm>,
) -> Result<LogsTable, DataFusionError> {
    // Runs of consecutive files (in name order, as `discover` lists them),
    // as many files in each: a group's rows come out in delivery order, and
    // the same requests delivered in another form (whose files differ in
    // size, not in name order) are grouped, and so output, the same way.
    // S3 writes a bucket's log files of similar sizes, so equal counts are
    // about equal work.
    let partitions = partitions.max(1);
    let n = files.len();
    let mut files = files.into_iter();
    let groups = (0..partitions)
        .map(|k| {
            let take = (k + 1) * n / partitions - k * n / partitions;
            files.by_ref().take(take).collect::<Vec<_>>()
        })
        .collect();
    Ok(LogsTable {
        schema: table_schema(),
        groups,
        stats,
        form,
    })
}

#[async_trait::async_trait]
impl TableProvider for LogsTable {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn table_type(&self) -> TableType {
        TableType::Base
    }

    /// A scan of the projected columns only: the parser skips building the
    /// others (a report run leaves out the widest: request and host ids and
    /// the request URI).
    async fn scan(
        &self,
        _state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>, DataFusionError> {
        let columns: Vec<usize> = match projection {
            Some(p) => p.clone(),
            None => (0..self.schema.fields().len()).collect(),
        };
        let schema = Arc::new(self.schema.project(&columns)?);
        let streams: Vec<Arc<dyn PartitionStream>> = self
            .groups
            .iter()
            .map(|files| {
                Arc::new(FileGroup {
                    files: files.clone(),
                    columns: columns.clone(),
                    schema: schema.clone(),
                    stats: self.stats.clone(),
                    form: self.form,
                }) as Arc<dyn PartitionStream>
            })
            .collect();
        let exec = StreamingTableExec::try_new(schema, streams, None, [], false, limit)?;
        Ok(Arc::new(exec))
    }
}

#[derive(Debug)]
struct FileGroup {
    files: Vec<LogFile>,
    /// Indices into [`table_schema`] of the columns to produce.
    columns: Vec<usize>,
    schema: SchemaRef,
    stats: Arc<ScanStats>,
    form: Option<LogForm>,
}

impl PartitionStream for FileGroup {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _ctx: Arc<TaskContext>) -> SendableRecordBatchStream {
        let (columns, schema, stats, form) = (
            self.columns.clone(),
            self.schema.clone(),
            self.stats.clone(),
            self.form,
        );
        let batches = futures::stream::iter(self.files.clone()).flat_map(move |f| {
            futures::stream::iter(read_file(&f, (&columns, &schema), &stats, form))
        });
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), batches))
    }
}

/// Parses one file into batches of `schema`: the table's columns at
/// `columns` (indices into [`table_schema`]). A file that is not of `form`
/// (when given), or that cannot be read at all, is an error naming it.
pub fn read_file(
    file: &LogFile,
    (columns, schema): (&[usize], &SchemaRef),
    stats: &ScanStats,
    form: Option<LogForm>,
) -> Vec<Result<RecordBatch, DataFusionError>> {
    let bytes = match std::fs::read(&file.path) {
        Ok(b) => b,
        Err(e) => {
            return vec![Err(DataFusionError::External(
                format!("reading {}: {e}", file.path.display()).into(),
            ))];
        }
    };
    stats.bytes.fetch_add(bytes.len() as u64, Ordering::Relaxed);
    let partition = file.partition.map(|d| d.format("%Y/%m/%d").to_string());
    let parsed: Vec<usize> = columns
        .iter()
        .copied()
        .filter(|&c| c != PARTITION_INDEX)
        .collect();
    let mut out = Vec::new();
    let mut builder = LogBatchBuilder::with_columns(BATCH_ROWS, &parsed);
    let finish = |builder: &mut LogBatchBuilder| -> Result<RecordBatch, DataFusionError> {
        let rows = builder.len();
        let mut parsed = builder.finish()?.columns().to_vec().into_iter();
        let columns: Vec<ArrayRef> = columns
            .iter()
            .map(|&c| {
                if c == PARTITION_INDEX {
                    Arc::new(StringArray::from(vec![partition.as_deref(); rows])) as ArrayRef
                } else {
                    parsed.next().expect("one parsed column per index")
                }
            })
            .collect();
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        Ok(RecordBatch::try_new_with_options(
            schema.clone(),
            columns,
            &options,
        )?)
    };
    // A gzip copy of the logs is read as its text; another compression is an
    // error naming the file rather than every line counted malformed.
    let read = for_each_record(&bytes, form, |line, parsed| match parsed {
        Ok(record) => {
            builder.append(&record);
            if builder.len() >= BATCH_ROWS {
                out.push(finish(&mut builder));
            }
        }
        Err(e) => stats.malformed_line(&file.path, line, e.to_string()),
    });
    let counts = match read {
        Ok((_, counts)) => counts,
        Err(e) => {
            return vec![Err(DataFusionError::External(
                format!("reading {}: {e}", file.path.display()).into(),
            ))];
        }
    };
    if !builder.is_empty() {
        out.push(finish(&mut builder));
    }
    stats.records.fetch_add(counts.records, Ordering::Relaxed);
    stats
        .malformed
        .fetch_add(counts.malformed, Ordering::Relaxed);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `data` as a gzip member of stored (uncompressed) deflate blocks: what
    /// any gzip reader reads, without a compressor in this crate.
    fn gzip_stored(data: &[u8]) -> Vec<u8> {
        let mut crc = !0u32;
        for &b in data {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
        let blocks: Vec<&[u8]> = data.chunks(u16::MAX as usize).collect();
        for (i, block) in blocks.iter().enumerate() {
            out.push(u8::from(i + 1 == blocks.len()));
            let len = block.len() as u16;
            out.extend(len.to_le_bytes());
            out.extend((!len).to_le_bytes());
            out.extend(*block);
        }
        out.extend((!crc).to_le_bytes());
        out.extend((data.len() as u32).to_le_bytes());
        out
    }

    fn read(path: &std::path::Path) -> (Vec<Result<RecordBatch, DataFusionError>>, ScanStats) {
        let file = LogFile {
            path: path.to_path_buf(),
            partition: None,
            size: std::fs::metadata(path).unwrap().len(),
        };
        let columns: Vec<usize> = (0..table_schema().fields().len()).collect();
        let schema = Arc::new(table_schema().project(&columns).unwrap());
        let stats = ScanStats::default();
        (read_file(&file, (&columns, &schema), &stats, None), stats)
    }

    #[test]
    fn a_gzip_copy_reads_as_the_plain_file_does() {
        let dir = tempfile::tempdir().unwrap();
        let text = include_bytes!("../../../tests/fixtures/aws-doc-sample.log").repeat(7_000);
        let plain = dir.path().join("log");
        let gz = dir.path().join("log.gz");
        std::fs::write(&plain, &text).unwrap();
        // Two members, as `cat a.gz b.gz` makes.
        let (a, b) = text.split_at(text.len() / 2);
        std::fs::write(&gz, [gzip_stored(a), gzip_stored(b)].concat()).unwrap();
        let (want, want_stats) = read(&plain);
        let (got, got_stats) = read(&gz);
        let rows = |v: &[Result<RecordBatch, DataFusionError>]| {
            v.iter()
                .map(|b| b.as_ref().unwrap().clone())
                .collect::<Vec<_>>()
        };
        assert_eq!(rows(&got), rows(&want));
        assert_eq!(got_stats.records.load(Ordering::Relaxed), 35_000);
        assert_eq!(got_stats.malformed.load(Ordering::Relaxed), 0);
        assert_eq!(want_stats.malformed.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn another_compression_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("2024-01-01-00-00-00-ABC.zst");
        std::fs::write(&path, [0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0, 0]).unwrap();
        let (out, stats) = read(&path);
        assert_eq!(out.len(), 1);
        let e = out[0].as_ref().unwrap_err().to_string();
        assert!(e.contains(&path.display().to_string()), "{e}");
        assert!(e.contains("zstd-compressed: decompress it first"), "{e}");
        assert_eq!(
            stats.malformed.load(Ordering::Relaxed),
            0,
            "not malformed lines"
        );
    }

    #[test]
    fn the_groups_depend_on_the_files_alone() {
        assert_eq!(query_groups(0), 1);
        assert_eq!(query_groups(1), 1);
        assert_eq!(query_groups(63), 63);
        assert_eq!(query_groups(4_375), QUERY_GROUPS);
    }

    #[test]
    fn the_examples_kept_are_the_first_in_file_and_line_order() {
        let stats = ScanStats::default();
        // Met out of order, as threads reading groups in parallel meet them.
        let met = [("b", 3), ("a", 20), ("c", 1), ("a", 9), ("b", 1)];
        let mut order = Vec::new();
        for round in 0..3 {
            for (file, line) in met {
                let path = PathBuf::from(format!("{file}{round}"));
                stats.malformed_line(&path, line, "why".into());
                order.push((path, line));
            }
        }
        order.sort();
        let want: Vec<String> = order
            .iter()
            .take(EXAMPLES)
            .map(|(p, l)| format!("{}:{l}: why", p.display()))
            .collect();
        assert_eq!(stats.malformed_examples(), want);
        // Line 9 comes before line 20: numbers, not text.
        assert_eq!(stats.malformed_examples()[0], "a0:9: why");
    }

    #[test]
    fn the_partition_column_follows_the_parsed_ones() {
        let schema = table_schema();
        assert_eq!(schema.index_of(PARTITION_COLUMN).unwrap(), PARTITION_INDEX);
        assert_eq!(log_schema().fields().len(), PARTITION_INDEX);
    }
}
