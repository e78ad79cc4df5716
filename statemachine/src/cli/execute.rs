//! `s3la execute`: a definition run by the local executor with its Tasks
//! invoking Lambda functions, as Step Functions would run it: the deployed
//! state machine's definition against its deployed functions, or against a
//! local Lambda Invoke endpoint (`sam local start-lambda`, the end-to-end
//! tests' own) named by `AWS_ENDPOINT_URL_LAMBDA`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::Args;
use s3la::asl::history::History;
use s3la::asl::load;
use s3la::asl::run::{Executor, Outcome, RealSleep, Sleeper};
use s3la::lambda_tasks::LambdaTasks;
use s3la::local::failure_message;

use super::invoke::read_input;
use super::run::{default_name, progress, write_history};
use super::values;

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    aws stepfunctions describe-state-machine --state-machine-arn ARN --query definition \\\n      \
    --output text > deployed.asl.json\n  \
    s3la execute --definition deployed.asl.json --input '{\"frequency\": \"weekly\"}'\n  \
    AWS_ENDPOINT_URL_LAMBDA=http://127.0.0.1:3001 s3la execute --definition deployed.asl.json \\\n      \
    --input '{\"frequency\": \"monthly\"}' --start-time 2024-04-02T03:00:00Z --no-waits\n\n\
    Each Task's Resource must be a Lambda function ARN (the definition with its substitutions\n\
    applied). Credentials, region and endpoints come from the usual AWS settings.")]
pub struct ExecuteArgs {
    /// The state machine definition (Amazon States Language JSON), its
    /// Task resources Lambda function ARNs.
    #[arg(long, value_name = "FILE")]
    definition: PathBuf,
    /// The execution input as JSON, or a file holding it.
    #[arg(long, value_name = "JSON|FILE", default_value = "{}")]
    input: String,
    /// The execution's name ($$.Execution.Name); default:
    /// execute-<time>-<process id>-<nanoseconds>.
    #[arg(long, value_name = "NAME")]
    name: Option<String>,
    /// The execution's start time ($$.Execution.StartTime), e.g. when a
    /// schedule fired (RFC 3339); default: now.
    #[arg(long, value_name = "TIME", value_parser = values::time)]
    start_time: Option<DateTime<Utc>>,
    /// Wait states and Retry intervals pass at once (the waits are still
    /// recorded in the history).
    #[arg(long)]
    no_waits: bool,
    /// Write the execution history (as the console shows it) to this JSON file.
    #[arg(long, value_name = "FILE")]
    history: Option<PathBuf>,
}

/// Waits that pass at once.
struct NoWaits;

impl Sleeper for NoWaits {
    fn sleep(&self, _seconds: f64) {}
}

pub fn run(a: ExecuteArgs) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(&a.definition)
        .with_context(|| format!("--definition: reading '{}'", a.definition.display()))?;
    let machine =
        load(&text).with_context(|| format!("--definition: '{}'", a.definition.display()))?;
    let input = read_input(&a.input)?;
    let tasks = LambdaTasks::from_env().context("starting the Lambda client")?;
    let now = Utc::now();
    let name = a
        .name
        .clone()
        .unwrap_or_else(|| default_name("execute", now, std::process::id()));
    let started = Instant::now();
    let sleeper: &dyn Sleeper = if a.no_waits { &NoWaits } else { &RealSleep };
    let executor = Executor::new(
        &tasks,
        sleeper,
        History::with_observer(Box::new(progress(started))),
    );
    eprintln!("Running execution {name} of {}", a.definition.display());
    let outcome = executor.execute(&machine, "s3la", &name, a.start_time.unwrap_or(now), input);
    if let Some(path) = &a.history {
        write_history(path, &executor.history.borrow().events)?;
    }
    match outcome {
        Outcome::Succeeded { output } => {
            println!("{}", serde_json::to_string_pretty(&output)?);
            eprintln!("Succeeded in {:.1}s", started.elapsed().as_secs_f64());
            Ok(ExitCode::SUCCESS)
        }
        Outcome::Failed { state, error } => {
            bail!(
                "{}",
                failure_message(&executor.history.borrow().events, &state, &error)
            )
        }
    }
}
