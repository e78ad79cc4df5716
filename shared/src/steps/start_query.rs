//! StartQuery: submits the run's query (Athena UNLOAD to Parquet) once per
//! attempt of the execution, and is where a query that failed or timed out
//! fails the execution.
//!
//! Input: ComputePeriod's output, the execution's `redriveCount` and the
//! `previous` status of this execution's query (`NOT_STARTED` on the way in).
//! The definition comes back here when the query ends FAILED or CANCELLED, or
//! is still running after `QueryMaxPolls` reads: if that query was started in
//! this attempt, StartQuery fails with `QueryFailed` (Athena's reason) or stops
//! it and fails with `QueryTimedOut`. So the execution fails at this Task, and
//! a redrive (AWS re-runs the failed Task with the same input, and
//! `$$.Execution.RedriveCount` one higher) starts the query again, into its
//! own staging prefix, and waits anew.
//!
//! Output: the query id and where its data and metadata go. The staging
//! prefix is named by period, execution and attempt, and the request token by
//! the job itself, so a retried step neither starts a second query nor
//! writes anywhere else.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::check_execution_name;
use super::compute_period::{ExecutionContext, PeriodPlan};
use crate::config::QueryConfig;
use crate::engine::{QueryEngine, QueryJob};
use crate::error::StepError;
use crate::query::QuerySpec;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartedQueryOutput {
    pub query_execution_id: String,
    /// Where the query's Parquet data files go (empty before the query).
    pub staging_prefix: String,
    /// Where Athena writes the query's metadata and manifest.
    pub output_location: String,
    /// The submitted SQL, when the run is verbose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statement: Option<String>,
    /// The execution's redrive count when this query was started (0: the
    /// first attempt); QueryStatus carries it so StartQuery can tell this
    /// attempt's failed query from an earlier one's.
    #[serde(default)]
    pub redrive_count: u32,
}

/// The step's input, as [`super::catalog::Step::run`] reads it from JSON.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Input {
    execution: ExecutionContext,
    as_of: chrono::DateTime<chrono::Utc>,
    options: crate::request::Options,
    period: crate::period::Period,
    /// `$$.Execution.RedriveCount`.
    #[serde(default)]
    redrive_count: u32,
    /// The status of this execution's query so far.
    #[serde(default)]
    previous: Option<Previous>,
}

/// What StartQuery reads of the status it comes back with.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Previous {
    /// `NOT_STARTED`, `FAILED`, `CANCELLED` or `TIMED_OUT`.
    state: String,
    #[serde(default)]
    query_execution_id: Option<String>,
    #[serde(default)]
    started_in_redrive: u32,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    error_category: Option<String>,
    /// For `TIMED_OUT`: the status reads made, and the last state read.
    #[serde(default)]
    polls: Option<u64>,
    #[serde(default)]
    last_state: Option<String>,
}

/// The job StartQuery submits for `plan`: also what `s3la sql` prints.
pub fn plan_job(plan: &PeriodPlan, config: &QueryConfig) -> Result<QueryJob, StepError> {
    plan_attempt(plan, config, 0)
}

/// The job of attempt `redrive` (0: the execution's first run): a redriven
/// attempt writes under `<execution>-redrive-<n>/`, since UNLOAD needs an
/// empty prefix and the failed attempt's may hold part of its output.
fn plan_attempt(
    plan: &PeriodPlan,
    config: &QueryConfig,
    redrive: u32,
) -> Result<QueryJob, StepError> {
    check_execution_name(&plan.execution.name)?;
    plan.period.check()?;
    let spec = QuerySpec::new(&plan.period, &plan.options, config.layout);
    let attempt = match redrive {
        0 => plan.execution.name.clone(),
        n => format!("{}-redrive-{n}", plan.execution.name),
    };
    let run = format!("{}/{attempt}/", plan.period.label);
    let staging_prefix = format!("{}_staging/{run}", config.result_path);
    let output_location = format!("{}_athena/{run}", config.result_path);
    // Athena takes 32-128 characters; a digest of everything that makes the
    // job distinct gives 64 hex digits.
    let digest = Sha256::digest(format!("{staging_prefix}\n{output_location}\n{spec:?}"));
    let idempotency_token = digest.iter().map(|b| format!("{b:02x}")).collect();
    Ok(QueryJob {
        spec,
        staging_prefix,
        output_location,
        idempotency_token,
    })
}

pub async fn start_query<E: QueryEngine>(
    input: Input,
    config: &QueryConfig,
    engine: &E,
) -> Result<StartedQueryOutput, StepError> {
    let redrive = input.redrive_count;
    if let Some(previous) = &input.previous {
        // The same attempt's query came back failed or still running: this
        // Task fails, so a redrive resumes here and runs the query again.
        let this_attempt = previous.started_in_redrive == redrive;
        let id = previous.query_execution_id.as_deref().unwrap_or("?");
        match previous.state.as_str() {
            "NOT_STARTED" => {}
            state @ ("FAILED" | "CANCELLED") if this_attempt => {
                return Err(StepError::QueryFailed {
                    state: state.to_string(),
                    reason: format!(
                        "{} (query {id}; fix the cause, then redrive the execution to run \
                         the query again)",
                        previous
                            .reason
                            .as_deref()
                            .unwrap_or("no reason given by the engine")
                    ),
                    category: previous.error_category.clone(),
                });
            }
            "TIMED_OUT" if this_attempt => {
                engine.stop(id).await?;
                return Err(StepError::QueryTimedOut {
                    message: format!(
                        "the Athena query {id} was still {} after {} status reads, so it was \
                         stopped; raise QueryMaxPolls (or QueryWaitSeconds) and redrive the \
                         execution to run it again",
                        previous.last_state.as_deref().unwrap_or("RUNNING"),
                        previous.polls.unwrap_or(0)
                    ),
                });
            }
            // An earlier attempt's query timed out: it may still run (the
            // execution stopped before StartQuery could stop it), so it is
            // stopped before this attempt starts its own. Stopping a query
            // that ended already does nothing.
            "TIMED_OUT" => engine.stop(id).await?,
            // An earlier attempt's query ended: this attempt runs its own.
            "FAILED" | "CANCELLED" => {}
            other => {
                return Err(StepError::invalid(
                    "previous.state",
                    format!("must be NOT_STARTED, FAILED, CANCELLED or TIMED_OUT, got {other:?}"),
                ));
            }
        }
    }
    let plan = PeriodPlan {
        execution: input.execution,
        as_of: input.as_of,
        options: input.options,
        period: input.period,
    };
    let job = plan_attempt(&plan, config, redrive)?;
    let started = engine.start(&job).await?;
    Ok(StartedQueryOutput {
        query_execution_id: started.id,
        staging_prefix: job.staging_prefix,
        output_location: job.output_location,
        statement: started.statement.filter(|_| plan.options.verbose),
        redrive_count: redrive,
    })
}
