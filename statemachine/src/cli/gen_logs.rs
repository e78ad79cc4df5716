//! `s3la gen-logs`: realistic synthetic logs for trying the product out and
//! for tests and benchmarks.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::Args;
use s3la_shared::log_format::forms::LogForm;
use s3la_shared::loggen::{GenSpec, generate};

use super::progress::{bytes_bar, human_bytes, thousands};
use super::values;

/// The most requests per day `gen-logs` (and `demo`) writes.
pub const MAX_LINES_PER_DAY: u64 = 50_000_000;

#[derive(Debug, Args)]
#[command(
    after_help = "Example (about a month at the scale of the README's benchmark):\n  \
    s3la gen-logs ./sample-logs --start 2024-01-01 --days 31 --lines-per-day 48000"
)]
pub struct GenLogsArgs {
    /// Directory to write into; text logs go under DIR/<account>/<region>/<bucket>/YYYY/MM/DD/,
    /// structured ones under DIR/AWSLogs/<account>/s3/<region>/YYYY/MM/DD/.
    #[arg(value_name = "DIR")]
    dir: PathBuf,
    /// First day of requests (YYYY-MM-DD, UTC).
    #[arg(long, value_name = "YYYY-MM-DD", value_parser = values::date)]
    start: NaiveDate,
    /// Number of days of requests.
    #[arg(long, value_name = "N", value_parser = values::number::<u32, 1, 3660>)]
    days: u32,
    /// Requests per day (a batch delete adds a few records to its request).
    #[arg(long, alias = "lines_per_day", value_name = "N", value_parser = values::number::<u32, 1, MAX_LINES_PER_DAY>)]
    lines_per_day: u32,
    /// Seed: the same seed writes the same files, byte for byte.
    #[arg(long, default_value_t = 1, value_parser = values::number::<u64, 0, { u64::MAX }>)]
    seed: u64,
    /// Account id in the layout.
    #[arg(long, default_value = "123456789012")]
    account: String,
    /// Region in the layout.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// Logged (source) bucket name.
    #[arg(long, default_value = "amzn-s3-demo-bucket")]
    bucket: String,
    /// The form to write: text (S3's classic log lines), json (the structured delivery's
    /// records, gzip'd JSON lines) or parquet (the same records as Parquet files). The same
    /// seed writes the same requests in every form.
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = values::log_form)]
    format: LogForm,
    /// Hive-compatible folders (aws-account-id=.../region=.../year=YYYY/month=MM/day=DD/), as a
    /// structured delivery with enableHiveCompatiblePath writes them.
    #[arg(long)]
    hive: bool,
}

impl GenLogsArgs {
    pub fn for_demo(
        dir: PathBuf,
        start: NaiveDate,
        days: u32,
        lines_per_day: u32,
        format: LogForm,
    ) -> Self {
        Self {
            dir,
            start,
            days,
            lines_per_day,
            seed: 1,
            account: "123456789012".into(),
            region: "us-east-1".into(),
            bucket: "amzn-s3-demo-bucket".into(),
            format,
            hive: false,
        }
    }
}

pub fn run(a: GenLogsArgs) -> anyhow::Result<ExitCode> {
    if !a.account.bytes().all(|b| b.is_ascii_digit()) || a.account.len() != 12 {
        bail!(
            "--account must be a 12-digit AWS account id, got '{}'",
            a.account
        );
    }
    if !a
        .region
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        bail!("--region must look like us-east-1, got '{}'", a.region);
    }
    s3la_shared::validate::bucket_name(&a.bucket).map_err(|e| anyhow::anyhow!("--bucket: {e}"))?;
    let mut spec = GenSpec::new(a.start, a.days, a.lines_per_day, a.seed);
    spec.account = a.account;
    spec.region = a.region;
    spec.bucket = a.bucket;
    if a.hive && a.format == LogForm::Text {
        bail!(
            "--hive is for the structured forms (--format json or parquet): S3 writes text logs without Hive folders"
        );
    }
    spec.format = a.format;
    spec.hive = a.hive;
    // ~560 bytes per record on average; only for the progress bar.
    let estimate = u64::from(a.days) * u64::from(a.lines_per_day) * 570;
    let bar = bytes_bar(Some(estimate), "generating");
    let summary = generate(&spec, &a.dir, |bytes| bar.set_position(bytes))
        .with_context(|| format!("cannot write logs under '{}'", a.dir.display()))?;
    bar.finish_and_clear();
    eprintln!(
        "wrote {} records ({} malformed lines, {} delivered into the next day's partition) \
         in {} files, {}, under {}",
        thousands(summary.records),
        thousands(summary.malformed),
        thousands(summary.late_records),
        thousands(summary.files),
        human_bytes(summary.bytes),
        spec.bucket_dir(&a.dir).display()
    );
    Ok(ExitCode::SUCCESS)
}
