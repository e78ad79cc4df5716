//! `s3la invoke STEP --input JSON|FILE|-`: one step alone, with the input a
//! Lambda would get, as a person re-runs a failed step from its history.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::builder::PossibleValue;
use clap::{Args, ValueEnum};
use s3la::asl::run::Tasks;
use s3la::embedded::engine::EmbeddedEngine;
use s3la::local::{LocalSettings, LocalSteps, substitutions};
use s3la_shared::config::ProcessEnv;
use s3la_shared::error::StepError;
use s3la_shared::steps::catalog::{CATALOG, Settings, Step};
use s3la_shared::steps::on_aws::AwsClients;
use serde_json::Value;

/// A step as `s3la invoke` takes it: its name or its Lambda binary's, both
/// from the step catalog, which also gives the line `--help` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepArg(Step);

impl ValueEnum for StepArg {
    fn value_variants<'a>() -> &'a [Self] {
        const ALL: [StepArg; CATALOG.len()] = {
            let mut all = [StepArg(Step::ComputePeriod); CATALOG.len()];
            let mut i = 0;
            while i < all.len() {
                all[i] = StepArg(Step::ALL[i]);
                i += 1;
            }
            all
        };
        &ALL
    }

    fn to_possible_value(&self) -> Option<PossibleValue> {
        let d = self.0.describe();
        Some(PossibleValue::new(d.name).alias(d.binary).help(d.summary))
    }
}

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    s3la invoke ComputePeriod --input '{\"input\": {\"frequency\": \"weekly\"}}'\n  \
    s3la invoke StartQuery --input period.json      (needs AWS credentials and the settings)\n  \
    s3la invoke QueryStatus --input '{\"queryExecutionId\": \"...\"}'\n  \
    s3la invoke StartQuery --input period.json --logs ./logs --results ./results   (locally)\n\n\
    The output is the step's JSON result on stdout. A failure prints the error name Step\n\
    Functions would see (InvalidInput, QueryFailed, Transient, ...) and exits with 1.\n\
    AWS steps use the standard AWS settings (AWS_PROFILE, AWS_REGION, ...).")]
pub struct InvokeArgs {
    /// The step to run.
    #[arg(value_enum)]
    step: StepArg,
    /// The step's input: JSON text, a file holding it, or - for stdin.
    #[arg(long, short, value_name = "JSON|FILE|-")]
    input: String,
    /// Run locally, as `s3la run` does: the logs the embedded engine reads...
    #[arg(long, value_name = "DIR", requires = "results")]
    logs: Option<PathBuf>,
    /// ...and the folder playing RESULT_PATH.
    #[arg(long, value_name = "DIR", requires = "logs")]
    results: Option<PathBuf>,
}

/// JSON text, `-` for stdin, or a file.
pub fn read_input(arg: &str) -> anyhow::Result<Value> {
    let text = if arg == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the input from stdin")?;
        s
    } else if arg.trim_start().starts_with(['{', '[', '"']) {
        arg.to_string()
    } else {
        std::fs::read_to_string(arg)
            .with_context(|| format!("--input '{arg}' is neither JSON text nor a readable file"))?
    };
    serde_json::from_str(&text).map_err(|e| anyhow!("--input is not valid JSON: {e}"))
}

pub fn run(a: InvokeArgs) -> anyhow::Result<ExitCode> {
    let input = read_input(&a.input)?;
    if let (Some(logs), Some(results)) = (&a.logs, &a.results) {
        return run_local(a.step, input, logs, results);
    }
    let step = a.step.0;
    let output = block_on(async {
        let settings = Settings::from_env(step, &ProcessEnv)?;
        let clients = AwsClients::for_step(step, &settings, &ProcessEnv).await?;
        step.run(input, &settings, &clients).await
    })?;
    match output {
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => Err(step_failed(e)),
    }
}

/// A step's error as the CLI reports it: the name Step Functions would see, then the cause.
pub fn step_failed(e: StepError) -> anyhow::Error {
    anyhow!("{}: {e}", e.name())
}

/// A step on this machine: the embedded engine over `logs`, `results` as RESULT_PATH.
fn run_local(step: StepArg, input: Value, logs: &Path, results: &Path) -> anyhow::Result<ExitCode> {
    let (logs, results) = super::run::local_folders(logs, results)?;
    let settings = LocalSettings::new(&results, &logs)?;
    let engine = EmbeddedEngine::new(logs, results.clone());
    let steps = LocalSteps::new(settings, &engine)?;
    let resource = substitutions(1, 1)
        .remove(&format!("{}FunctionArn", step.0.name()))
        .context("every step has a resource")?;
    let output = steps.invoke(&resource, input);
    // A query started here runs to its end before the process exits.
    engine.wait_for_queries();
    match output {
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v)?);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            // The cause is the Lambda-style payload; show its message.
            let message = serde_json::from_str::<Value>(&e.cause)
                .ok()
                .and_then(|v| v["errorMessage"].as_str().map(str::to_string))
                .unwrap_or(e.cause);
            Err(anyhow!("{}: {message}", e.error))
        }
    }
}

pub fn block_on<T>(f: impl std::future::Future<Output = T>) -> anyhow::Result<T> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    Ok(rt.block_on(f))
}
