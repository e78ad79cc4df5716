//! `s3la demo`: the product's main job on the embedded default, with no AWS
//! account: generate a week of realistic logs, then parse them to Parquet.
//! (Once the local state machine exists, this runs it over the same logs.)

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use chrono::NaiveDate;
use clap::Args;

use super::{gen_logs, parse};

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory for the demo's logs and outputs.
    #[arg(long, default_value = "s3la-demo")]
    dir: PathBuf,
    /// Requests per day in the generated logs.
    #[arg(long, alias = "lines_per_day", default_value_t = 20_000)]
    lines_per_day: u32,
}

pub fn run(a: DemoArgs) -> anyhow::Result<ExitCode> {
    let logs = a.dir.join("logs");
    let out = a.dir.join("logs.parquet");
    if logs.is_dir() {
        eprintln!(
            "1/2 reusing the sample logs in {} (delete it for new ones)",
            logs.display()
        );
    } else if logs.exists() {
        bail!(
            "'{}' exists and is not a directory: pass --dir to use another directory",
            logs.display()
        );
    } else {
        eprintln!(
            "1/2 generating a week of sample S3 access logs in {}",
            logs.display()
        );
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date");
        gen_logs::run(gen_logs::GenLogsArgs::for_demo(
            logs.clone(),
            start,
            7,
            a.lines_per_day,
        ))?;
    }
    eprintln!("2/2 parsing them into {}", out.display());
    let code = parse::run(parse::ParseArgs::for_demo(logs, out.clone()))?;
    eprintln!(
        "\nDone. Query the result with any Parquet reader, e.g.\n  \
         duckdb -c \"SELECT operation, count(*), sum(bytessent) FROM '{}' GROUP BY 1 ORDER BY 2 DESC\"",
        out.display()
    );
    Ok(code)
}
