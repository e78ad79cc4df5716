//! StartQuery: submits the run's query (Athena UNLOAD to Parquet) once.
//!
//! Input: ComputePeriod's output. Output: the query id and where its data
//! and metadata go. The staging prefix is named by period and execution, and
//! the request token by the job itself, so a retried step neither starts a
//! second query nor writes anywhere else.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::compute_period::PeriodPlan;
use super::{check_execution_name, from_input};
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
}

/// The job StartQuery submits for `plan`: also what `s3la sql` prints.
pub fn plan_job(plan: &PeriodPlan, config: &QueryConfig) -> Result<QueryJob, StepError> {
    check_execution_name(&plan.execution.name)?;
    plan.period.check()?;
    let spec = QuerySpec::new(&plan.period, &plan.options, config.layout);
    let run = format!("{}/{}/", plan.period.label, plan.execution.name);
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
    input: Value,
    config: &QueryConfig,
    engine: &E,
) -> Result<StartedQueryOutput, StepError> {
    let plan: PeriodPlan = from_input(input)?;
    let job = plan_job(&plan, config)?;
    let started = engine.start(&job).await?;
    Ok(StartedQueryOutput {
        query_execution_id: started.id,
        staging_prefix: job.staging_prefix,
        output_location: job.output_location,
        statement: started.statement.filter(|_| plan.options.verbose),
    })
}
