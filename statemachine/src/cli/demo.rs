//! `s3la demo`: the product's main job on the embedded default, with no AWS
//! account: generate a week of realistic logs, then run the state machine
//! over them (`s3la run`) for that week.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::bail;
use chrono::NaiveDate;
use clap::Args;

use super::gen_logs;
use super::run as local_run;

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
    let results = a.dir.join("results");
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
    eprintln!(
        "2/2 running the state machine for 2024-01-01 to 2024-01-07, results in {}\n",
        results.display()
    );
    let code = local_run::run(local_run::RunArgs::for_demo(
        logs.clone(),
        results.clone(),
        "2024-01-01",
        "2024-01-07",
    ))?;
    let week = results.join("2024-01-01_2024-01-07");
    let parquet = week.join("requests-2024-01-01_2024-01-07.parquet");
    eprintln!(
        "\nDone. The week's requests are in {} (and a .csv.gz beside it).\n\
         The report: open {} in a browser (its data: report.json beside it).\n\
         Ask the logs anything with SQL, e.g.\n  \
         s3la query \"SELECT operation, count(*) AS requests, sum(bytessent) AS bytes FROM logs \
         GROUP BY 1 ORDER BY 2 DESC\" --logs {}",
        parquet.display(),
        week.join("report.html").display(),
        logs.display()
    );
    Ok(code)
}
