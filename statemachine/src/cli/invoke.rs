//! `s3la invoke STEP --input JSON|FILE|-`: one step alone, with the input a
//! Lambda would get, as a person re-runs a failed step from its history.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, anyhow};
use clap::{Args, ValueEnum};
use s3la::asl::run::Tasks;
use s3la::embedded::engine::EmbeddedEngine;
use s3la::local::{LocalSettings, LocalSteps, substitutions};
use s3la_shared::aws::mail_transport::Transport;
use s3la_shared::aws::s3::S3Store;
use s3la_shared::aws::secrets::link_signer;
use s3la_shared::aws::ses::Ses;
use s3la_shared::aws::{athena::AthenaEngine, sdk_config};
use s3la_shared::config::{
    CleanupConfig, MergeConfig, PeriodConfig, ProcessEnv, QueryConfig, StatusConfig,
};
use s3la_shared::email::EmailConfig;
use s3la_shared::email::smtp::SmtpConfig;
use s3la_shared::error::StepError;
use s3la_shared::links::{LinkConfig, SignLink};
use s3la_shared::steps::{
    compute_period, merge_results, query_status, remove_meta, remove_original_logs, send_report,
    start_query, to_output,
};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Step {
    /// Execution input -> period, options and execution (no AWS calls).
    #[value(name = "ComputePeriod", alias = "compute-period")]
    ComputePeriod,
    /// ComputePeriod's output -> the Athena UNLOAD query, started once.
    #[value(name = "StartQuery", alias = "start-query")]
    StartQuery,
    /// {"queryExecutionId": ...} -> the query's state, data scanned and cost.
    #[value(name = "QueryStatus", alias = "query-status")]
    QueryStatus,
    /// The state after QueryStatus -> one Parquet and one csv.gz under RESULT_PATH/<period>/.
    #[value(name = "MergeResults", alias = "merge-results")]
    MergeResults,
    /// {query, status, results} -> this query's staging data and Athena metadata deleted.
    #[value(name = "RemoveMeta", alias = "remove-meta")]
    RemoveMeta,
    /// {period, results, query} -> the period's own log objects deleted, after the outputs check.
    #[value(name = "RemoveOriginalLogs", alias = "remove-original-logs")]
    RemoveOriginalLogs,
    /// {execution, period, results, status} -> the report emailed (SES v2, SMTP or the outbox).
    #[value(name = "SendReport", alias = "send-report")]
    SendReport,
}

impl Step {
    fn name(self) -> &'static str {
        match self {
            Step::ComputePeriod => "ComputePeriod",
            Step::StartQuery => "StartQuery",
            Step::QueryStatus => "QueryStatus",
            Step::MergeResults => "MergeResults",
            Step::RemoveMeta => "RemoveMeta",
            Step::RemoveOriginalLogs => "RemoveOriginalLogs",
            Step::SendReport => "SendReport",
        }
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
    step: Step,
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
    let output = match a.step {
        Step::ComputePeriod => PeriodConfig::from_env(&ProcessEnv).and_then(|config| {
            compute_period::compute_period(input, &config, chrono::Utc::now())
                .map(|o| to_output(&o))
        }),
        Step::StartQuery => {
            let config = QueryConfig::from_env(&ProcessEnv)?;
            block_on(async {
                let client = aws_sdk_athena::Client::new(&sdk_config().await);
                let engine = AthenaEngine::new(client, config.clone());
                start_query::start_query(input, &config, &engine)
                    .await
                    .map(|o| to_output(&o))
            })?
        }
        Step::QueryStatus => {
            let config = StatusConfig::from_env(&ProcessEnv)?;
            block_on(async {
                let client = aws_sdk_athena::Client::new(&sdk_config().await);
                let engine = AthenaEngine::status_only(client);
                query_status::query_status(input, &config, &engine)
                    .await
                    .map(|o| to_output(&o))
            })?
        }
        Step::MergeResults => {
            let config = MergeConfig::from_env(&ProcessEnv)?;
            block_on(async {
                let store = S3Store::from_config(&sdk_config().await);
                merge_results::merge_results(input, &config, &store)
                    .await
                    .map(|o| to_output(&o))
            })?
        }
        Step::RemoveMeta => {
            let config = CleanupConfig::from_env(&ProcessEnv)?;
            block_on(async {
                let store = S3Store::from_config(&sdk_config().await);
                remove_meta::remove_meta(input, &config, &store)
                    .await
                    .map(|o| to_output(&o))
            })?
        }
        Step::RemoveOriginalLogs => {
            let config = CleanupConfig::from_env(&ProcessEnv)?;
            block_on(async {
                let store = S3Store::from_config(&sdk_config().await);
                remove_original_logs::remove_original_logs(input, &config, &store)
                    .await
                    .map(|o| to_output(&o))
            })?
        }
        Step::SendReport => {
            let config = EmailConfig::from_env(&ProcessEnv)?;
            let smtp = SmtpConfig::from_env(&ProcessEnv)?;
            let links = LinkConfig::from_env(&ProcessEnv)?;
            block_on(async {
                let sdk = sdk_config().await;
                let store = S3Store::from_config(&sdk);
                let ses = || Transport::Ses(Ses::from_config(&sdk));
                let transport = Transport::smtp_or(smtp.as_ref(), ses)?;
                let signer = match &links {
                    Some(links) => Some(link_signer(links, &sdk).await?),
                    None => None,
                };
                let signer = signer.as_ref().map(|s| s as &dyn SignLink);
                send_report::send_report(input, &config, &store, &transport, signer)
                    .await
                    .map(|o| to_output(&o))
            })?
        }
    };
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
fn run_local(step: Step, input: Value, logs: &Path, results: &Path) -> anyhow::Result<ExitCode> {
    let (logs, results) = super::run::local_folders(logs, results)?;
    let settings = LocalSettings::new(&results, &logs)?;
    let engine = EmbeddedEngine::new(logs, results.clone());
    let steps = LocalSteps::new(settings, &engine)?;
    let resource = substitutions(1, 1)
        .remove(&format!("{}FunctionArn", step.name()))
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
