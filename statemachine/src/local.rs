//! The definition's Task resources resolved to the step handlers, in
//! process: what `s3la run` executes instead of Lambda functions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use s3la_shared::aws::mail_transport::Transport;
use s3la_shared::config::{
    CleanupConfig, MergeConfig, PeriodConfig, ProcessEnv, QueryConfig, ReportConfig, ShardSettings,
    StatusConfig,
};
use s3la_shared::email::EmailConfig;
use s3la_shared::email::outbox::Outbox;
use s3la_shared::email::smtp::SmtpConfig;
use s3la_shared::engine::QueryEngine;
use s3la_shared::error::StepError;
use s3la_shared::links::SignLink;
pub use s3la_shared::steps::catalog::STEP_NAMES as STEPS;
use s3la_shared::steps::catalog::{Clients, Settings, Step};
use s3la_shared::storage::local::LocalStore;
use serde_json::{Value, json};

use crate::asl::AslError;
use crate::asl::history::Event;
use crate::asl::run::Tasks;

const ARN_PREFIX: &str = "arn:aws:lambda:local:000000000000:function:s3la-";

/// How many shards the Map state merges at once on this machine: a quarter
/// of its cores, at least one, as `s3la merge --shards` does (each shard's
/// merge already keeps several cores busy; the deployed default, 40, is 40
/// Lambdas).
pub fn merge_concurrency() -> usize {
    std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .div_ceil(4)
}

/// Substitutions for running the definition locally: a pseudo function ARN
/// per step and the polling and merge settings.
pub fn substitutions(wait_seconds: u32, max_polls: u32) -> BTreeMap<String, String> {
    let mut values: BTreeMap<String, String> = STEPS
        .iter()
        .map(|s| (format!("{s}FunctionArn"), format!("{ARN_PREFIX}{s}")))
        .collect();
    values.insert("QueryWaitSeconds".into(), wait_seconds.to_string());
    values.insert("QueryMaxPolls".into(), max_polls.to_string());
    values.insert("MergeConcurrency".into(), merge_concurrency().to_string());
    values
}

/// The step a local resource ARN names.
pub fn step_of(resource: &str) -> Option<&str> {
    resource.strip_prefix(ARN_PREFIX)
}

/// A step's error as Step Functions reports a Lambda function's error:
/// `Error` is the errorType, `Cause` the function's error payload as JSON.
pub fn lambda_error(e: &StepError) -> AslError {
    AslError::new(
        e.name(),
        json!({"errorType": e.name(), "errorMessage": e.to_string()}).to_string(),
    )
}

/// A cause for people: `errorType: errorMessage` when it is a step's
/// Lambda-style payload, else the cause as it is.
pub fn readable_cause(cause: &str) -> String {
    serde_json::from_str::<Value>(cause)
        .ok()
        .and_then(|v| {
            Some(format!(
                "{}: {}",
                v["errorType"].as_str()?,
                v["errorMessage"].as_str()?
            ))
        })
        .unwrap_or_else(|| cause.to_string())
}

/// Why an execution failed, for people: the Task state whose error ended it,
/// with that error and its cause, then the Fail state its Catch went to.
/// The execution's own error names only the Fail state
/// (`ComputePeriodFailed: ComputePeriodFailed`); the Task is in the history:
/// the `CatchMatched` that went to the failing state and, at or inside the
/// state that caught (a Parallel's branches), the last `TaskFailed` with
/// that error.
pub fn failure_message(events: &[Event], state: &str, error: &AslError) -> String {
    let is_task = |label: &str| {
        events
            .iter()
            .any(|e| e.kind == "TaskStateEntered" && e.state.as_deref() == Some(label))
    };
    let fail_state = state.rsplit('/').next().unwrap_or(state);
    let caught = events
        .iter()
        .enumerate()
        .rev()
        .find(|(_, e)| e.kind == "CatchMatched" && e.details["next"] == fail_state);
    let Some((at, catch)) = caught else {
        // Uncaught: the state itself, or for a Parallel the Task inside it
        // whose error ended it.
        let inside = format!("{state}[");
        let task = events.iter().rev().find(|e| {
            e.kind == "TaskFailed"
                && e.details["error"] == error.error.as_str()
                && e.state
                    .as_deref()
                    .is_some_and(|s| s == state || s.starts_with(&inside))
        });
        let failed = task.and_then(|t| t.state.as_deref()).unwrap_or(state);
        let what = if is_task(failed) {
            "the Task state"
        } else {
            "state"
        };
        return format!(
            "the execution failed in {what} {failed}: {}",
            error_and_cause(&error.error, &error.cause)
        );
    };
    let catcher = catch.state.as_deref().unwrap_or("?");
    let caught_error = catch.details["error"].as_str().unwrap_or("?");
    let inside = format!("{catcher}[");
    let task = events[..at].iter().rev().find(|e| {
        e.kind == "TaskFailed"
            && e.details["error"] == caught_error
            && e.state
                .as_deref()
                .is_some_and(|s| s == catcher || s.starts_with(&inside))
    });
    let (failed, cause) = match task {
        Some(t) => (t.state.as_deref().unwrap_or("?"), &t.details["cause"]),
        None => (catcher, &catch.details["cause"]),
    };
    let what = if is_task(failed) {
        "the Task state"
    } else {
        "state"
    };
    format!(
        "the execution failed in {what} {failed}: {} (caught, it ended in the Fail state {state})",
        error_and_cause(caught_error, cause.as_str().unwrap_or_default())
    )
}

/// `error: cause`, the cause read as a step's Lambda-style payload when it
/// is one, without repeating an `errorType` that is the error itself.
fn error_and_cause(error: &str, cause: &str) -> String {
    let payload = serde_json::from_str::<Value>(cause).ok();
    match payload
        .as_ref()
        .and_then(|v| Some((v["errorType"].as_str()?, v["errorMessage"].as_str()?)))
    {
        Some((kind, message)) if kind == error => format!("{error}: {message}"),
        _ => format!("{error}: {}", readable_cause(cause)),
    }
}

/// Every step's settings for a run on this machine: `results` plays
/// RESULT_PATH and `logs` S3_LOGS_LOCATION; the rest comes from the
/// environment as in the Lambdas.
#[derive(Debug, Clone)]
pub struct LocalSettings {
    pub period: PeriodConfig,
    pub query: QueryConfig,
    pub status: StatusConfig,
    pub merge: MergeConfig,
    pub cleanup: CleanupConfig,
    pub email: EmailConfig,
    /// `SMTP_HOST` and friends: the report goes out over SMTP instead of
    /// into the outbox.
    pub smtp: Option<SmtpConfig>,
    /// Where SendReport writes `.eml` files: `<results>/outbox/`.
    pub outbox: PathBuf,
}

impl LocalSettings {
    /// `results` and `logs` must be absolute.
    pub fn new(results: &Path, logs: &Path) -> Result<Self, StepError> {
        let period = PeriodConfig::from_env(&ProcessEnv)?;
        let layout = period.layout;
        let mut report = ReportConfig::from_env(&ProcessEnv)?;
        if report.geoip_db.is_none() && !report.geoip_off {
            // Without GEOIP_DB, the database s3la ships (the CDK stack's).
            let path = crate::geoip::country_database().map_err(|e| {
                StepError::config("GEOIP_DB", format!("writing s3la's country database: {e}"))
            })?;
            report.geoip_db = Some(path);
        }
        Ok(Self {
            query: QueryConfig::local(results, layout),
            status: StatusConfig::from_env(&ProcessEnv)?,
            merge: MergeConfig {
                shards: ShardSettings::from_env(&ProcessEnv)?,
                ..MergeConfig::local(results, layout, report)
            },
            cleanup: CleanupConfig::local(results, logs, layout),
            email: EmailConfig::local(&ProcessEnv)?,
            smtp: SmtpConfig::from_env(&ProcessEnv)?,
            outbox: results.join("outbox"),
            period,
        })
    }
}

/// The steps over a query engine and a local directory as object store.
pub struct LocalSteps<'e, E> {
    settings: Settings,
    engine: &'e E,
    store: LocalStore,
    /// `SMTP_HOST` and friends, else the outbox folder.
    smtp: Option<SmtpConfig>,
    outbox: PathBuf,
    /// Built when SendReport first runs, so a run that never reaches it
    /// never sets up SMTP.
    mail: OnceLock<Transport>,
    runtime: tokio::runtime::Runtime,
}

impl<'e, E: QueryEngine> LocalSteps<'e, E> {
    pub fn new(settings: LocalSettings, engine: &'e E) -> std::io::Result<Self> {
        // Two workers, as a Lambda has: MergeResults reads parts on one
        // while it encodes the outputs on the other.
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()?;
        let LocalSettings {
            period,
            query,
            status,
            merge,
            cleanup,
            email,
            smtp,
            outbox,
        } = settings;
        Ok(Self {
            settings: Settings {
                period: Some(period),
                query: Some(query),
                status: Some(status),
                merge: Some(merge),
                cleanup: Some(cleanup),
                email: Some(email),
            },
            engine,
            store: LocalStore,
            smtp,
            outbox,
            mail: OnceLock::new(),
            runtime,
        })
    }
}

impl<E: QueryEngine> Clients for LocalSteps<'_, E> {
    type Store = LocalStore;
    type Engine = E;
    type Mail = Transport;

    fn store(&self) -> Result<&LocalStore, StepError> {
        Ok(&self.store)
    }

    fn engine(&self) -> Result<&E, StepError> {
        Ok(self.engine)
    }

    fn mail(&self) -> Result<&Transport, StepError> {
        if let Some(mail) = self.mail.get() {
            return Ok(mail);
        }
        let mail = Transport::smtp_or(self.smtp.as_ref(), || {
            Transport::Outbox(Outbox {
                dir: self.outbox.clone(),
            })
        })?;
        Ok(self.mail.get_or_init(|| mail))
    }

    /// Local links point at the file itself; nothing signs them.
    fn links(&self) -> Option<&dyn SignLink> {
        None
    }
}

impl<E: QueryEngine + Sync> Tasks for LocalSteps<'_, E> {
    fn invoke(&self, resource: &str, input: Value) -> Result<Value, AslError> {
        let step = step_of(resource).and_then(Step::named).ok_or_else(|| {
            AslError::definition(format!(
                "the Task resource '{resource}' is not one of s3la's steps"
            ))
        })?;
        self.runtime
            .block_on(step.run(input, &self.settings, self))
            .map_err(|e| lambda_error(&e))
    }
}
