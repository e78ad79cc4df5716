//! `s3la query "SQL" --logs DIR`: ad-hoc SQL over local logs, as the table
//! `logs` with the Athena table's column names (typed) and the `timestamp`
//! partition column.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::Context;
use clap::{Args, ValueEnum};
use datafusion::arrow::util::pretty::pretty_format_batches;
use datafusion::prelude::{SessionConfig, SessionContext};
use futures::StreamExt;
use s3la::embedded::logs::discover;
use s3la::embedded::table::{ScanStats, logs_table};

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
    objectsize, totaltime and turnaroundtime integers, '-' is NULL; plus timestamp (YYYY/MM/DD).")]
pub struct QueryArgs {
    /// The SQL statement (DataFusion's dialect, close to Athena's for common queries).
    sql: String,
    /// The directory of S3 server access logs.
    #[arg(long, value_name = "DIR")]
    logs: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Output::Table)]
    output: Output,
}

pub fn run(a: QueryArgs) -> anyhow::Result<ExitCode> {
    let files = discover(&a.logs)?;
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let stats = Arc::new(ScanStats::default());
    let table = logs_table(files, threads, stats.clone())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let ctx =
            SessionContext::new_with_config(SessionConfig::new().with_target_partitions(threads));
        ctx.register_table("logs", Arc::new(table))?;
        let df = ctx.sql(&a.sql).await.context("the query")?;
        let mut stream = df.execute_stream().await.context("the query")?;
        let stdout = std::io::stdout();
        let mut out = stdout.lock();
        match a.output {
            Output::Table => {
                let mut batches = Vec::new();
                while let Some(b) = stream.next().await {
                    batches.push(b?);
                }
                writeln!(out, "{}", pretty_format_batches(&batches)?)?;
            }
            Output::Csv => {
                let mut w = datafusion::arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(&mut out);
                while let Some(b) = stream.next().await {
                    w.write(&b?)?;
                }
            }
            Output::Json => {
                let mut w = datafusion::arrow::json::LineDelimitedWriter::new(&mut out);
                while let Some(b) = stream.next().await {
                    w.write(&b?)?;
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
