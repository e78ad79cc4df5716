//! The embedded engine as the query-engine port: a query runs on a
//! background thread while the state machine polls its status, and leaves
//! what Athena's UNLOAD leaves — extension-less Parquet data files in the
//! staging folder, and a manifest listing them beside a metadata file in the
//! output location.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::StreamExt;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::properties::WriterProperties;
use s3la_shared::engine::{QueryEngine, QueryInfo, QueryJob, QueryState, StartedQuery};
use s3la_shared::error::StepError;
use s3la_shared::location::{Location, file_uri};
use serde_json::json;

use super::logs::{discover, in_range};
use super::plan;
use super::table::{ScanStats, logs_table};

/// Rows per Parquet row group in the data files.
const ROW_GROUP_ROWS: usize = 128 * 1024;

#[derive(Debug, Clone)]
struct Job {
    state: QueryState,
    reason: Option<String>,
    scanned: u64,
    elapsed_ms: u64,
    manifest: Option<String>,
    output_location: String,
}

pub struct EmbeddedEngine {
    logs: PathBuf,
    threads: usize,
    jobs: Mutex<HashMap<String, Arc<Mutex<Job>>>>,
}

impl EmbeddedEngine {
    pub fn new(logs: PathBuf) -> Self {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            logs,
            threads,
            jobs: Mutex::new(HashMap::new()),
        }
    }

    /// Runs `job` to completion on this thread (what the background thread does).
    fn run(&self, job: &QueryJob, id: &str) -> Result<(u64, String), String> {
        let staging = local_dir(&job.staging_prefix)?;
        let output = local_dir(&job.output_location)?;
        let files = discover(&self.logs).map_err(|e| e.to_string())?;
        let files = in_range(files, job.spec.partitions);
        let stats = Arc::new(ScanStats::default());
        let table = logs_table(files, self.threads, stats.clone()).map_err(|e| e.to_string())?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(self.threads)
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let parts = runtime.block_on(async {
            let config = SessionConfig::new().with_target_partitions(self.threads);
            let ctx = SessionContext::new_with_config(config);
            ctx.register_table("logs", Arc::new(table))
                .map_err(|e| e.to_string())?;
            let logs = ctx.table("logs").await.map_err(|e| e.to_string())?;
            let df = plan::query(logs, &job.spec).map_err(|e| e.to_string())?;
            let streams = df
                .execute_stream_partitioned()
                .await
                .map_err(|e| e.to_string())?;
            let writers = streams.into_iter().enumerate().map(|(n, stream)| {
                let path = staging.join(format!("{id}_{n:05}"));
                tokio::spawn(write_part(stream, path))
            });
            let mut parts = Vec::new();
            for w in writers.collect::<Vec<_>>() {
                if let Some(p) = w.await.map_err(|e| e.to_string())?? {
                    parts.push(p);
                }
            }
            Ok::<_, String>(parts)
        })?;
        std::fs::create_dir_all(&output).map_err(|e| e.to_string())?;
        let manifest_path = output.join(format!("{id}-manifest.csv"));
        let manifest: String = parts.iter().map(|p| file_uri(p, false) + "\n").collect();
        write_atomically(&manifest_path, manifest.as_bytes())?;
        let metadata = json!({
            "queryExecutionId": id,
            "engine": "s3la embedded",
            "scannedBytes": stats.bytes.load(Ordering::Relaxed),
            "records": stats.records.load(Ordering::Relaxed),
            "malformedLines": stats.malformed.load(Ordering::Relaxed),
            "malformedExamples": stats.malformed_examples(),
            "dataFiles": parts.len(),
        });
        write_atomically(
            &output.join(format!("{id}.metadata")),
            metadata.to_string().as_bytes(),
        )?;
        Ok((
            stats.bytes.load(Ordering::Relaxed),
            file_uri(&manifest_path, false),
        ))
    }
}

fn local_dir(uri: &str) -> Result<PathBuf, String> {
    match Location::parse(uri)? {
        Location::Local(p) => Ok(p),
        Location::S3 { .. } => Err(format!(
            "the embedded engine writes to local folders, not {uri}"
        )),
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)
        .and_then(|_| std::fs::rename(&tmp, path))
        .map_err(|e| format!("writing {}: {e}", path.display()))
}

/// One partition's rows into one Parquet data file; none when it is empty.
async fn write_part(
    mut stream: SendableRecordBatchStream,
    path: PathBuf,
) -> Result<Option<PathBuf>, String> {
    let schema: SchemaRef = stream.schema();
    let mut writer: Option<ArrowWriter<std::fs::File>> = None;
    let tmp = path.with_extension("tmp");
    while let Some(batch) = stream.next().await {
        let batch = batch.map_err(|e| e.to_string())?;
        if batch.num_rows() == 0 {
            continue;
        }
        if writer.is_none() {
            let file =
                std::fs::File::create(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
            let props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(
                    ZstdLevel::try_new(1).map_err(|e| e.to_string())?,
                ))
                .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
                .build();
            writer = Some(
                ArrowWriter::try_new(file, schema.clone(), Some(props))
                    .map_err(|e| e.to_string())?,
            );
        }
        if let Some(w) = writer.as_mut() {
            w.write(&batch).map_err(|e| e.to_string())?;
        }
    }
    match writer {
        None => Ok(None),
        Some(w) => {
            w.close().map_err(|e| e.to_string())?;
            std::fs::rename(&tmp, &path).map_err(|e| format!("{}: {e}", path.display()))?;
            Ok(Some(path))
        }
    }
}

impl QueryEngine for EmbeddedEngine {
    async fn start(&self, job: &QueryJob) -> Result<StartedQuery, StepError> {
        // The same job gets the same id, as Athena's request token does.
        let id = format!("local-{}", &job.idempotency_token[..16]);
        let mut jobs = self
            .jobs
            .lock()
            .map_err(|_| StepError::transient("engine state poisoned"))?;
        if jobs.contains_key(&id) {
            return Ok(StartedQuery {
                id,
                statement: None,
            });
        }
        let staging =
            local_dir(&job.staging_prefix).map_err(|m| StepError::QueryRejected { message: m })?;
        // Like UNLOAD: the target must be empty, so no run mixes in another's files.
        if std::fs::read_dir(&staging).is_ok_and(|mut d| d.next().is_some()) {
            return Err(StepError::QueryRejected {
                message: format!(
                    "the staging folder {} is not empty; a query writes only into an empty one \
                     (remove it, or start a run with another execution name)",
                    staging.display()
                ),
            });
        }
        std::fs::create_dir_all(&staging).map_err(|e| StepError::QueryRejected {
            message: format!("cannot create {}: {e}", staging.display()),
        })?;
        let state = Arc::new(Mutex::new(Job {
            state: QueryState::Running,
            reason: None,
            scanned: 0,
            elapsed_ms: 0,
            manifest: None,
            output_location: job.output_location.clone(),
        }));
        jobs.insert(id.clone(), state.clone());
        drop(jobs);
        let engine = EmbeddedEngine {
            logs: self.logs.clone(),
            threads: self.threads,
            jobs: Mutex::new(HashMap::new()),
        };
        let (job, thread_id) = (job.clone(), id.clone());
        std::thread::spawn(move || {
            let started = Instant::now();
            let result = engine.run(&job, &thread_id);
            if let Ok(mut s) = state.lock() {
                s.elapsed_ms = started.elapsed().as_millis() as u64;
                match result {
                    Ok((scanned, manifest)) => {
                        s.state = QueryState::Succeeded;
                        s.scanned = scanned;
                        s.manifest = Some(manifest);
                    }
                    Err(reason) => {
                        s.state = QueryState::Failed;
                        s.reason = Some(reason);
                    }
                }
            }
        });
        Ok(StartedQuery {
            id,
            statement: None,
        })
    }

    async fn status(&self, id: &str) -> Result<QueryInfo, StepError> {
        let job = self
            .jobs
            .lock()
            .map_err(|_| StepError::transient("engine state poisoned"))?
            .get(id)
            .cloned()
            .ok_or_else(|| {
                StepError::invalid(
                    "queryExecutionId",
                    format!("no local query {id} in this run"),
                )
            })?;
        let j = job
            .lock()
            .map_err(|_| StepError::transient("engine state poisoned"))?
            .clone();
        Ok(QueryInfo {
            state: j.state,
            reason: j.reason,
            error_category: (j.state == QueryState::Failed).then(|| "SYSTEM".to_string()),
            data_scanned_bytes: j.scanned,
            engine_execution_ms: j.elapsed_ms,
            total_execution_ms: j.elapsed_ms,
            manifest: j.manifest,
            output_location: Some(j.output_location),
        })
    }
}
