//! `s3la query "SQL" --logs DIR`: ad-hoc SQL over local logs, as the table
//! `logs` with the Athena table's column names (typed) and the `timestamp`
//! partition column.

use std::collections::HashSet;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::{Context, anyhow};
use clap::{Args, ValueEnum};
use datafusion::arrow::array::{Array, ArrayData, RecordBatch};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::error::DataFusionError;
use datafusion::execution::memory_pool::MemoryConsumer;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::prelude::{DataFrame, SQLOptions, SessionConfig, SessionContext};
use futures::StreamExt;
use s3la::embedded::logs::discover;
use s3la::embedded::table::{ScanStats, logs_table};
use s3la_shared::log_format::forms::LogForm;

use super::values;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Output {
    /// An aligned text table.
    Table,
    /// CSV with a header.
    Csv,
    /// One JSON object per line.
    Json,
}

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  \
    s3la query \"SELECT operation, count(*) AS requests, sum(bytessent) AS bytes \\\n  \
    FROM logs GROUP BY operation ORDER BY requests DESC\" --logs ./logs\n\n\
    Columns: the Athena table's names (bucketowner, bucket_name, requestdatetime, remoteip, ...,\n\
    sourceregion), typed: requestdatetime is a UTC timestamp, httpstatus an integer, bytessent,\n\
    objectsize, totaltime and turnaroundtime integers, '-' is NULL; plus timestamp (YYYY/MM/DD).\n\n\
    Read-only: only SELECT queries (and EXPLAIN) over the `logs` table are allowed; COPY, CREATE,\n\
    DROP, INSERT and SET are refused before anything runs. Memory is bounded by --memory-limit:\n\
    a query that needs more (a large join, sort or grouping) stops with an error saying so.\n\
    --output csv and json stream the rows as they come; the table output holds every row in\n\
    memory to align the columns, within the same limit.")]
pub struct QueryArgs {
    /// The SQL statement (DataFusion's dialect, close to Athena's for common queries).
    sql: String,
    /// The directory of S3 server access logs.
    #[arg(long, value_name = "DIR")]
    logs: PathBuf,
    /// The logs' form: text, json or parquet (default: each file's, detected).
    #[arg(long, value_name = "FORMAT", value_parser = values::log_form)]
    log_format: Option<LogForm>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    output: Output,
    /// Memory the query may hold (joins, sorts, groupings and the table output), e.g.
    /// 512MiB or 4GiB; default: half of this machine's memory.
    #[arg(long, value_name = "SIZE", value_parser = values::size)]
    memory_limit: Option<u64>,
}

pub fn run(a: QueryArgs) -> anyhow::Result<ExitCode> {
    let files = discover(&a.logs)?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let stats = Arc::new(ScanStats::default());
    let table = logs_table(files, threads, stats.clone(), a.log_format)?;
    let limit = a.memory_limit.unwrap_or_else(default_memory_limit);
    let memory = RuntimeEnvBuilder::new()
        .with_memory_limit(usize::try_from(limit).unwrap_or(usize::MAX), 1.0)
        .build_arc()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let ctx = SessionContext::new_with_config_rt(
            SessionConfig::new().with_target_partitions(threads),
            memory.clone(),
        );
        ctx.register_table("logs", Arc::new(table))?;
        let df = read_only(&ctx, &a.sql).await?;
        let over = |e| over_limit(e, limit);
        let mut stream = df.execute_stream().await.map_err(over)?;
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        match a.output {
            Output::Table => {
                // The rows count against the same limit as the query.
                let held = MemoryConsumer::new("table output").register(&memory.memory_pool);
                let mut buffers = HashSet::new();
                let mut batches = Vec::new();
                while let Some(b) = stream.next().await {
                    let b = b.map_err(over)?;
                    held.try_grow(new_bytes(&b, &mut buffers)).map_err(over)?;
                    batches.push(b);
                }
                writeln!(out, "{}", pretty_format_batches(&batches)?)?;
            }
            Output::Csv => {
                let mut w = datafusion::arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(&mut out);
                while let Some(b) = stream.next().await {
                    w.write(&b.map_err(over)?)?;
                }
            }
            Output::Json => {
                let mut w = datafusion::arrow::json::LineDelimitedWriter::new(&mut out);
                while let Some(b) = stream.next().await {
                    w.write(&b.map_err(over)?)?;
                }
                w.finish()?;
            }
        }
        anyhow::Ok(())
    })?;
    let malformed = stats.malformed.load(Ordering::Relaxed);
    if malformed > 0 {
        eprintln!("note: {malformed} malformed log lines were skipped; `s3la parse` lists them");
    }
    Ok(ExitCode::SUCCESS)
}

/// Bytes `batch` holds that earlier batches do not: the batches of a join
/// share the buffers of its inputs, which `get_array_memory_size` would
/// count once per batch.
fn new_bytes(batch: &RecordBatch, held: &mut HashSet<usize>) -> usize {
    fn walk(data: &ArrayData, held: &mut HashSet<usize>) -> usize {
        let nulls = data.nulls().map(|n| n.buffer());
        let own: usize = data
            .buffers()
            .iter()
            .chain(nulls)
            .filter(|b| held.insert(b.data_ptr().as_ptr() as usize))
            .map(|b| b.capacity().max(b.len()))
            .sum();
        own + data
            .child_data()
            .iter()
            .map(|c| walk(c, held))
            .sum::<usize>()
    }
    batch
        .columns()
        .iter()
        .map(|c| walk(&c.to_data(), held))
        .sum()
}

/// The statement planned and refused unless it only reads: what
/// `SessionContext::sql_with_options` does, with the refusal worded for
/// this command. Planning runs nothing (a COPY or CREATE acts only when
/// executed).
async fn read_only(ctx: &SessionContext, sql: &str) -> anyhow::Result<DataFrame> {
    let plan = ctx
        .state()
        .create_logical_plan(sql)
        .await
        .context("the query")?;
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
        .verify_plan(&plan)
        .map_err(|e| {
            anyhow!(
                "s3la query is read-only: only SELECT queries over the `logs` table are allowed \
                 ({})",
                e.strip_backtrace()
            )
        })?;
    Ok(ctx.execute_logical_plan(plan).await?)
}

/// A query error; when the memory limit stopped it, what to do about it.
fn over_limit(e: DataFusionError, limit: u64) -> anyhow::Error {
    if matches!(e.find_root(), DataFusionError::ResourcesExhausted(_)) {
        anyhow!(
            "the query needs more memory than --memory-limit allows ({}): add a LIMIT or a \
             narrower WHERE, use --output csv or json (they stream the rows; the table output \
             holds them all), or raise --memory-limit. DataFusion said: {}",
            s3la_shared::report::format::bytes(limit),
            e.find_root().to_string().trim()
        )
    } else {
        anyhow::Error::new(e).context("the query")
    }
}

/// Half of the machine's memory (`MemTotal` in /proc/meminfo); 4 GiB where
/// that cannot be read.
fn default_memory_limit() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            let line = m.lines().find(|l| l.starts_with("MemTotal:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            Some(kib * 1024 / 2)
        })
        .unwrap_or(4 << 30)
}
