//! `s3la demo`: the product's main job on the embedded default, with no AWS
//! account: generate a week of realistic logs, then run the state machine
//! over them (`s3la run`) for that week.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::NaiveDate;
use clap::Args;
use s3la_shared::log_format::forms::LogForm;

use super::gen_logs;
use super::paths::refuse_overlap;
use super::run as local_run;
use super::values;

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Directory for the demo's logs and outputs.
    #[arg(long, default_value = "s3la-demo")]
    dir: PathBuf,
    /// Requests per day in the generated logs.
    #[arg(long, alias = "lines_per_day", default_value_t = 20_000,
          value_parser = values::number::<u32, 1, { gen_logs::MAX_LINES_PER_DAY }>)]
    lines_per_day: u32,
    /// The form of the sample logs: S3's classic text files, or the
    /// structured delivery's JSON or Parquet files (the same requests).
    #[arg(long, value_name = "FORMAT", default_value = "text", value_parser = values::log_form)]
    format: LogForm,
}

pub fn run(a: DemoArgs) -> anyhow::Result<ExitCode> {
    // Each form's sample logs in a folder of their own, so a demo of one form
    // never reuses another's.
    let logs = match a.format {
        LogForm::Text => a.dir.join("logs"),
        form => a.dir.join(format!("logs-{form}")),
    };
    let results = a.dir.join("results");
    refuse_overlap(("--dir's logs", &logs), ("--dir's results", &results))?;
    remove_abandoned(&a.dir)?;
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
            "1/2 generating a week of sample S3 access logs ({}) in {}",
            a.format,
            logs.display()
        );
        generate(&a.dir, &logs, a.lines_per_day, a.format)?;
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

/// Logs being generated: `DIR/.logs.partial-<pid>`, renamed to `DIR/logs`
/// only when complete, so a killed demo never leaves a `logs` folder that a
/// later demo would reuse half written.
const PARTIAL: &str = ".logs.partial-";

fn generate(dir: &Path, logs: &Path, lines_per_day: u32, format: LogForm) -> anyhow::Result<()> {
    let partial = dir.join(format!("{PARTIAL}{}", std::process::id()));
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).expect("valid date");
    let generated = gen_logs::run(gen_logs::GenLogsArgs::for_demo(
        partial.clone(),
        start,
        7,
        lines_per_day,
        format,
    ));
    if let Err(e) = generated {
        // Best effort: the next demo removes it anyway.
        std::fs::remove_dir_all(&partial).ok();
        return Err(e);
    }
    match std::fs::rename(&partial, logs) {
        Ok(()) => Ok(()),
        // Another demo in the same folder finished first: use its logs.
        Err(_) if logs.is_dir() => {
            std::fs::remove_dir_all(&partial)
                .with_context(|| format!("removing '{}'", partial.display()))?;
            Ok(())
        }
        Err(e) => Err(e).with_context(|| {
            format!(
                "moving the generated logs from '{}' to '{}'",
                partial.display(),
                logs.display()
            )
        }),
    }
}

/// Removes the partial logs of demos that are no longer running (killed
/// while generating); a running demo's are left alone.
fn remove_abandoned(dir: &Path) -> anyhow::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("reading '{}'", dir.display())),
    };
    for entry in entries {
        let entry = entry.with_context(|| format!("reading '{}'", dir.display()))?;
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(PARTIAL)) else {
            continue;
        };
        if pid.parse::<u32>().is_ok_and(is_running) {
            continue;
        }
        eprintln!(
            "removing {}, left by a demo that stopped while generating logs",
            entry.path().display()
        );
        std::fs::remove_dir_all(entry.path())
            .with_context(|| format!("removing '{}'", entry.path().display()))?;
    }
    Ok(())
}

#[cfg(unix)]
fn is_running(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: signal 0 sends nothing; it only asks whether `pid` exists.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    alive || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn is_running(_pid: u32) -> bool {
    false
}
