//! `s3la run`: the state machine, executed locally over a directory of logs,
//! with the embedded engine in place of Athena and a directory in place of S3.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use clap::Args;
use s3la::asl::history::{Event, History};
use s3la::asl::run::{Executor, Outcome, RealSleep, Resume};
use s3la::asl::{load, substitute};
use s3la::embedded::engine::EmbeddedEngine;
use s3la::local::{LocalSettings, LocalSteps, failure_message, substitutions};
use s3la_shared::config::MAX_SHARDS_LIMIT;
use s3la_shared::log_format::forms::LogForm;
use s3la_shared::report::format::bytes;
use serde_json::{Value, json};

use super::invoke::read_input;
use super::paths::refuse_overlap;
use super::request_flags::{INPUT_FLAGS, PeriodFlags, RequestFlags};
use super::values;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    s3la run --logs ./logs --results ./results --frequency weekly\n  \
    s3la run --logs ./logs --results ./results --date_range 2024-01-01 2024-01-07 --select_all\n  \
    s3la run --logs ./logs --results ./results --input '{\"frequency\": \"monthly\", \"now\": \"2024-02-01T00:00:00Z\"}'\n  \
    s3la run --logs ./logs --results ./results --date_range 2024-01-01 2024-01-07 --history h.json\n  \
    s3la run --logs ./logs --results ./results --redrive h.json    # after fixing what failed\n\n\
    The logs may be in S3's date-based layout (.../YYYY/MM/DD/...) at any depth, or flat.\n\
    Settings such as PROJECTION_START and LATE_DELIVERY_SLACK_DAYS come from the environment.")]
pub struct RunArgs {
    /// The directory of S3 server access logs.
    #[arg(long, value_name = "DIR")]
    logs: PathBuf,
    /// Where results, staging data and query metadata go (plays RESULT_PATH).
    #[arg(long, value_name = "DIR")]
    results: PathBuf,
    #[command(flatten)]
    request: RequestFlags,
    /// The whole execution input as JSON (instead of the flags above).
    #[arg(long, value_name = "JSON|FILE", conflicts_with_all = INPUT_FLAGS)]
    input: Option<String>,
    /// Redrive the failed execution whose history `--history` wrote to FILE,
    /// as Step Functions redrives: the same name, input and start time; the
    /// states that succeeded are not run again; the failed state (and, in
    /// the Parallel cleanup, only the failed branch) runs again with the
    /// input it had. The history is written back to FILE with the redrive's
    /// events appended (or to --history).
    #[arg(long, value_name = "FILE", conflicts_with_all = INPUT_FLAGS,
          conflicts_with_all = ["input", "name"])]
    redrive: Option<PathBuf>,
    /// Write the execution history (as the console shows it) to this JSON file.
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
    /// The execution's name (names its staging folder); default:
    /// local-<time>-<process id>-<nanoseconds>, unique to this run.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// Seconds between query status reads (each read also waits up to half a
    /// second for the embedded engine to finish).
    #[arg(long, default_value_t = 0, value_name = "N",
          value_parser = values::number::<u32, 0, { u32::MAX as u64 }>)]
    wait_seconds: u32,
    /// Status reads before the query counts as timed out.
    #[arg(long, default_value_t = 7200, value_name = "N",
          value_parser = values::number::<u32, 0, { u32::MAX as u64 }>)]
    max_polls: u32,
    /// Merge in this many shards, as the deployed state machine does for a period over
    /// MERGE_SHARD_ROWS rows or MERGE_SHARD_BYTES bytes (which the local run also reads):
    /// MergeResults plans them, the Map state MergeShards merges each, AssembleResults writes
    /// the outputs from them without decoding a row. The same outputs as with one; for tests
    /// and benchmarks (plays MERGE_SHARDS).
    #[arg(long, value_name = "N",
          value_parser = values::number::<usize, 1, { MAX_SHARDS_LIMIT as u64 }>)]
    shards: Option<usize>,
    /// The logs' form: text (S3's classic lines), json or parquet (the structured
    /// delivery's files); default: each file's, detected from its first bytes.
    #[arg(long, env = "LOG_FORMAT", value_name = "FORMAT", value_parser = values::log_form)]
    log_format: Option<LogForm>,
}

impl RunArgs {
    /// `s3la demo`'s run: a custom range over the sample logs.
    pub fn for_demo(logs: PathBuf, results: PathBuf, start: &str, end: &str) -> Self {
        Self {
            logs,
            results,
            request: RequestFlags {
                period: PeriodFlags::date_range(start, end),
                ..RequestFlags::default()
            },
            input: None,
            redrive: None,
            history: None,
            name: Some(default_name("demo", chrono::Utc::now(), std::process::id())),
            wait_seconds: 0,
            max_polls: 7200,
            shards: None,
            log_format: None,
        }
    }

    fn execution_input(&self) -> anyhow::Result<Value> {
        if let Some(i) = &self.input {
            return read_input(i);
        }
        Ok(self.request.input())
    }
}

/// A default execution name, which also names the run's staging folder:
/// the time, then the process id and the time's nanoseconds, so runs
/// started in the same second (necessarily by different processes) never
/// share a staging folder. At most 43 characters of letters, digits and `-`,
/// within Step Functions' 1-80.
pub(super) fn default_name(prefix: &str, now: chrono::DateTime<chrono::Utc>, pid: u32) -> String {
    format!(
        "{prefix}-{}-{pid}-{:09}",
        now.format("%Y%m%dT%H%M%SZ"),
        now.timestamp_subsec_nanos() % 1_000_000_000
    )
}

/// The folders of a local run, absolute, checked before anything is
/// written: the logs exist, `--results` is not among them (nor they inside
/// it) and is a folder if it exists. `--results` itself is created by the
/// first step that writes there, so a refused input leaves nothing behind.
pub fn local_folders(logs: &Path, results: &Path) -> anyhow::Result<(PathBuf, PathBuf)> {
    if !logs.exists() {
        bail!("--logs: '{}' does not exist", logs.display());
    }
    refuse_overlap(("--logs", logs), ("--results", results))?;
    if results.exists() && !results.is_dir() {
        bail!(
            "--results: '{}' exists and is not a folder",
            results.display()
        );
    }
    Ok((std::path::absolute(logs)?, std::path::absolute(results)?))
}

/// One line per state on stderr, so a person sees the run progress.
pub(super) fn progress(started: Instant) -> impl FnMut(&Event) {
    move |e: &Event| {
        let state = e.state.as_deref().unwrap_or("");
        let t = started.elapsed().as_secs_f64();
        match e.kind.as_str() {
            "TaskStateEntered" | "ParallelStateEntered" => eprintln!("[{t:6.1}s] {state} ..."),
            "TaskSucceeded" if state == "QueryStatus" => {
                let o = &e.details["output"];
                eprintln!(
                    "[{t:6.1}s]   query {} ({} scanned)",
                    o["state"].as_str().unwrap_or("?"),
                    bytes(o["dataScannedBytes"].as_u64().unwrap_or(0))
                );
            }
            "TaskSucceeded" if state == "MergeResults" => {
                let o = &e.details["output"];
                let malformed = o["malformedLines"].as_u64().unwrap_or(0);
                eprintln!(
                    "[{t:6.1}s]   {} rows{}",
                    o["rows"],
                    if malformed > 0 {
                        format!(
                            "; {malformed} malformed log lines left out (`s3la parse --strict` \
                             over the logs lists them)"
                        )
                    } else {
                        String::new()
                    }
                );
                if let Some(note) = o["summary"]["comparisonNote"].as_str() {
                    eprintln!("[{t:6.1}s]   note: {note}");
                }
            }
            "TaskStateExited" | "ParallelStateExited" => eprintln!("[{t:6.1}s] {state} done"),
            "RetryScheduled" => eprintln!(
                "[{t:6.1}s]   {state}: {} - retry {} of {} in {}s",
                e.details["error"].as_str().unwrap_or("?"),
                e.details["attempt"],
                e.details["maxAttempts"],
                e.details["delaySeconds"]
            ),
            "CatchMatched" => eprintln!(
                "[{t:6.1}s]   {state} failed with {}; going to {}",
                e.details["error"].as_str().unwrap_or("?"),
                e.details["next"].as_str().unwrap_or("?")
            ),
            _ => {}
        }
    }
}

pub fn run(a: RunArgs) -> anyhow::Result<ExitCode> {
    let earlier = a
        .redrive
        .as_deref()
        .map(FailedExecution::read)
        .transpose()?;
    let input = match &earlier {
        Some(f) => f.input.clone(),
        None => a.execution_input()?,
    };
    let (logs, results) = local_folders(&a.logs, &a.results)?;
    if let Some(f) = &earlier {
        f.check_folders(&logs, &results)?;
    }
    let history_path = a.history.clone().or_else(|| a.redrive.clone());
    if let Some(history) = &history_path {
        refuse_overlap(("--logs", &a.logs), ("--history", history))?;
    }
    let mut settings = LocalSettings::new(&results, &logs)?;
    if a.shards.is_some() {
        settings.merge.shards.forced = a.shards;
    }
    let engine = EmbeddedEngine::new(logs, results.clone()).with_form(a.log_format);
    let steps = LocalSteps::new(settings, &engine)?;

    let text = substitute(
        s3la::DEFINITION,
        &substitutions(a.wait_seconds, a.max_polls),
    )?;
    let machine = load(&text)?;
    let started = Instant::now();
    let executor = Executor::new(
        &steps,
        &RealSleep,
        History::with_observer(Box::new(progress(started))),
    );
    let outcome = match &earlier {
        Some(f) => {
            eprintln!(
                "Redriving execution {} (redrive {}) from {}",
                f.name,
                f.resume.redrive_count,
                f.resume_description()
            );
            executor.redrive(
                &machine,
                "s3la",
                &f.name,
                f.start_time,
                input,
                f.resume.clone(),
            )
        }
        None => {
            let now = chrono::Utc::now();
            let name = a
                .name
                .clone()
                .unwrap_or_else(|| default_name("local", now, std::process::id()));
            eprintln!("Running execution {name} of the S3 Logs Analyzer state machine");
            executor.execute(&machine, "s3la", &name, now, input)
        }
    };
    if let Some(path) = &history_path {
        // A redrive's events follow the earlier attempts', as in the console.
        let mut all: Vec<Event> = earlier.map(|f| f.events).unwrap_or_default();
        let fresh = all.is_empty();
        let first_new = all.len() as u64;
        all.extend(
            executor
                .history
                .borrow()
                .events
                .iter()
                .cloned()
                .map(|mut e| {
                    e.id += first_new;
                    e
                }),
        );
        // The folders the execution ran on, so a redrive runs on the same.
        if fresh && let Some(start) = all.first_mut() {
            start.details["logs"] = json!(real_path(&a.logs));
            start.details["results"] = json!(real_path(&a.results));
        }
        write_history(path, &all)?;
    }
    match outcome {
        Outcome::Succeeded { output } => {
            println!("{}", serde_json::to_string_pretty(&output)?);
            eprintln!(
                "Succeeded in {:.1}s; results under {}",
                started.elapsed().as_secs_f64(),
                results.display()
            );
            Ok(ExitCode::SUCCESS)
        }
        Outcome::Failed { state, error } => {
            let events = &executor.history.borrow().events;
            let again = match &history_path {
                Some(h) => format!(
                    "; fix the cause, then redrive it: s3la run --logs {} --results {} --redrive {}",
                    a.logs.display(),
                    a.results.display(),
                    h.display()
                ),
                None => "; run with --history FILE to be able to redrive it".to_string(),
            };
            bail!("{}{again}", failure_message(events, &state, &error))
        }
    }
}

/// Writes an execution's history as JSON, creating its folder.
pub(super) fn write_history(path: &Path, events: &[Event]) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("--history: creating '{}'", dir.display()))?;
    }
    std::fs::write(path, serde_json::to_string_pretty(events)?)
        .with_context(|| format!("--history: writing '{}'", path.display()))
}

/// `path` with symbolic links resolved, or made absolute when it does not
/// exist (yet).
fn real_path(path: &Path) -> PathBuf {
    path.canonicalize()
        .or_else(|_| std::path::absolute(path))
        .unwrap_or_else(|_| path.to_path_buf())
}

/// A failed execution, read back from the history `--history` wrote.
struct FailedExecution {
    events: Vec<Event>,
    name: String,
    start_time: chrono::DateTime<chrono::Utc>,
    input: Value,
    resume: Resume,
}

impl FailedExecution {
    fn read(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("--redrive: reading '{}'", path.display()))?;
        let events: Vec<Event> = serde_json::from_str(&text).with_context(|| {
            format!(
                "--redrive: '{}' is not a history `s3la run --history` wrote",
                path.display()
            )
        })?;
        let started = events
            .iter()
            .find(|e| e.kind == "ExecutionStarted")
            .with_context(|| {
                format!(
                    "--redrive: '{}' has no ExecutionStarted event",
                    path.display()
                )
            })?;
        let name = started.details["name"].as_str().map(str::to_string);
        let start_time = started.details["startTime"]
            .as_str()
            .and_then(|t| t.parse().ok());
        let (Some(name), Some(start_time)) = (name, start_time) else {
            bail!(
                "--redrive: '{}' does not name its execution and start time (written by an older s3la)",
                path.display()
            );
        };
        match events.last().map(|e| e.kind.as_str()) {
            Some("ExecutionFailed") => {}
            Some("ExecutionSucceeded") => bail!(
                "--redrive: execution {name} succeeded; only a failed execution can be redriven"
            ),
            _ => bail!(
                "--redrive: the history of {name} does not end in ExecutionFailed (cut short?)"
            ),
        }
        let resume =
            Resume::from_history(&events).map_err(|m| anyhow::anyhow!("--redrive: {m}"))?;
        Ok(Self {
            input: started.details["input"].clone(),
            events,
            name,
            start_time,
            resume,
        })
    }

    /// A redrive runs on the folders the execution ran on: its staging
    /// data, outputs and query records are there.
    fn check_folders(&self, logs: &Path, results: &Path) -> anyhow::Result<()> {
        let started = &self.events[0].details;
        for (flag, now, then) in [
            ("--logs", logs, &started["logs"]),
            ("--results", results, &started["results"]),
        ] {
            let now = real_path(now);
            if let Some(then) = then.as_str()
                && Path::new(then) != now
            {
                bail!(
                    "--redrive: execution {} ran with {flag} {then}, not {}: a redrive goes on \
                     where the execution was, with the same folders",
                    self.name,
                    now.display()
                );
            }
        }
        Ok(())
    }

    /// The states the redrive resumes at, for the progress line.
    fn resume_description(&self) -> String {
        let mut at: Vec<String> = self
            .resume
            .unsuccessful
            .iter()
            .map(|(scope, (state, _))| format!("{scope}{state}"))
            .collect();
        at.sort();
        at.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid_execution_name(name: &str) -> bool {
        (1..=80).contains(&name.len())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }

    #[test]
    fn default_names_of_one_second_differ_and_are_valid_execution_names() {
        let second: chrono::DateTime<chrono::Utc> = "2024-01-10T06:00:00.25Z".parse().unwrap();
        let a = default_name("local", second, 4242);
        let b = default_name("local", second, 4243);
        let c = default_name("local", second + chrono::Duration::nanoseconds(1), 4242);
        assert_eq!(a, "local-20240110T060000Z-4242-250000000");
        assert!(a != b && a != c && b != c);
        let longest = default_name("demo", second, u32::MAX);
        for name in [&a, &b, &c, &longest] {
            assert!(valid_execution_name(name), "{name}");
        }
        assert!(
            default_name("local", chrono::Utc::now(), std::process::id()).starts_with("local-")
        );
    }
}
