//! Athena as the query engine: StartQueryExecution with an UNLOAD statement,
//! GetQueryExecution for its state, StopQueryExecution for one that ran past
//! the poll limit. SDK errors are classified into the
//! pipeline's error names here, where their types are still known.

use aws_sdk_athena::Client;
use aws_sdk_athena::config::http::HttpResponse;
use aws_sdk_athena::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_athena::operation::get_query_execution::GetQueryExecutionError;
use aws_sdk_athena::operation::start_query_execution::StartQueryExecutionError;
use aws_sdk_athena::operation::stop_query_execution::StopQueryExecutionError;
use aws_sdk_athena::types::{QueryExecutionContext, QueryExecutionState, ResultConfiguration};

use crate::config::{DEFAULT_CATALOG, QueryConfig};
use crate::engine::{QueryEngine, QueryInfo, QueryJob, QueryState, StartedQuery};
use crate::error::StepError;
use crate::query::athena_sql;

use super::sdk_error::{SdkFailure, classify_sdk_error};

pub struct AthenaEngine {
    client: Client,
    /// The query settings; only starting a query needs them.
    config: Option<QueryConfig>,
}

impl AthenaEngine {
    pub fn new(client: Client, config: QueryConfig) -> Self {
        Self {
            client,
            config: Some(config),
        }
    }

    /// An engine that only reads query states (QueryStatus).
    pub fn status_only(client: Client) -> Self {
        Self {
            client,
            config: None,
        }
    }
}

/// The UNLOAD statement for `job` under `config` (also printed by `s3la sql`).
pub fn statement(config: &QueryConfig, job: &QueryJob) -> String {
    let select = athena_sql::select_from(&job.spec, &config.table_ref());
    athena_sql::unload(&select, &job.staging_prefix, config.compression)
}

impl QueryEngine for AthenaEngine {
    async fn start(&self, job: &QueryJob) -> Result<StartedQuery, StepError> {
        let config = self.config.as_ref().ok_or_else(|| {
            StepError::config(
                "ATHENA_DATABASE",
                "this engine was built without query settings",
            )
        })?;
        let sql = statement(config, job);
        let out = self
            .client
            .start_query_execution()
            .query_string(&sql)
            .client_request_token(&job.idempotency_token)
            .work_group(&config.workgroup)
            .query_execution_context(
                QueryExecutionContext::builder()
                    .catalog(config.catalog.as_deref().unwrap_or(DEFAULT_CATALOG))
                    .database(&config.database)
                    .build(),
            )
            .result_configuration(
                ResultConfiguration::builder()
                    .output_location(&job.output_location)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| {
                let kind = match e.as_service_error() {
                    Some(StartQueryExecutionError::TooManyRequestsException(_))
                    | Some(StartQueryExecutionError::InternalServerException(_)) => Kind::Transient,
                    Some(StartQueryExecutionError::InvalidRequestException(_)) => Kind::Rejected,
                    _ => Kind::Other,
                };
                classify(kind, e)
            })?;
        let id = out.query_execution_id().ok_or_else(|| StepError::Aws {
            service: "Athena",
            code: "MissingQueryExecutionId".into(),
            message: "StartQueryExecution answered without a query execution id".into(),
        })?;
        Ok(StartedQuery {
            id: id.to_string(),
            statement: Some(sql),
        })
    }

    async fn stop(&self, id: &str) -> Result<(), StepError> {
        // Athena answers success for a query that already ended.
        self.client
            .stop_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| {
                let kind = match e.as_service_error() {
                    Some(StopQueryExecutionError::InternalServerException(_)) => Kind::Transient,
                    Some(StopQueryExecutionError::InvalidRequestException(_)) => Kind::UnknownId,
                    _ => Kind::Other,
                };
                classify(kind, e)
            })?;
        Ok(())
    }

    async fn status(&self, id: &str) -> Result<QueryInfo, StepError> {
        let out = self
            .client
            .get_query_execution()
            .query_execution_id(id)
            .send()
            .await
            .map_err(|e| {
                let kind = match e.as_service_error() {
                    Some(GetQueryExecutionError::InternalServerException(_)) => Kind::Transient,
                    Some(GetQueryExecutionError::InvalidRequestException(_)) => Kind::UnknownId,
                    _ => Kind::Other,
                };
                classify(kind, e)
            })?;
        let qe = out.query_execution();
        let status = qe.and_then(|q| q.status());
        let state = match status.and_then(|s| s.state()) {
            Some(QueryExecutionState::Queued) => QueryState::Queued,
            Some(QueryExecutionState::Running) => QueryState::Running,
            Some(QueryExecutionState::Succeeded) => QueryState::Succeeded,
            Some(QueryExecutionState::Failed) => QueryState::Failed,
            Some(QueryExecutionState::Cancelled) => QueryState::Cancelled,
            other => {
                return Err(StepError::Aws {
                    service: "Athena",
                    code: "UnknownQueryState".into(),
                    message: format!(
                        "query {id} is in a state this version does not know: {other:?}"
                    ),
                });
            }
        };
        let athena_error = status.and_then(|s| s.athena_error());
        let reason = status
            .and_then(|s| s.state_change_reason())
            .or_else(|| athena_error.and_then(|e| e.error_message()))
            .map(str::to_string);
        let error_category = athena_error.and_then(|e| e.error_category()).map(|c| {
            match c {
                1 => "SYSTEM",
                2 => "USER",
                _ => "OTHER",
            }
            .to_string()
        });
        let stats = qe.and_then(|q| q.statistics());
        let non_negative = |v: Option<i64>| v.and_then(|v| u64::try_from(v).ok()).unwrap_or(0);
        Ok(QueryInfo {
            malformed_lines: None,
            state,
            reason,
            error_category,
            data_scanned_bytes: non_negative(stats.and_then(|s| s.data_scanned_in_bytes())),
            engine_execution_ms: non_negative(
                stats.and_then(|s| s.engine_execution_time_in_millis()),
            ),
            total_execution_ms: non_negative(
                stats.and_then(|s| s.total_execution_time_in_millis()),
            ),
            manifest: stats
                .and_then(|s| s.data_manifest_location())
                .map(str::to_string),
            output_location: qe
                .and_then(|q| q.result_configuration())
                .and_then(|r| r.output_location())
                .map(str::to_string),
        })
    }
}

/// What a modeled error means for the pipeline, decided by its type.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Transient,
    /// Athena refused the statement.
    Rejected,
    /// No query with that id.
    UnknownId,
    Other,
}

/// The shared rule ([`classify_sdk_error`]: no credentials or region is
/// `ConfigError`; throttling, 5xx and network faults are `Transient`), then
/// Athena's own: a modeled throttling or internal error is `Transient`, its
/// refusal of a statement is `QueryRejected`, an unknown query id is
/// `InvalidInput`; anything else keeps its error code.
fn classify<E>(kind: Kind, err: SdkError<E, HttpResponse>) -> StepError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match (classify_sdk_error("Athena", &err), kind) {
        (SdkFailure::Service { code, message, .. }, Kind::Transient) => {
            StepError::transient(format!("Athena {code}: {message}"))
        }
        (SdkFailure::Service { message, .. }, Kind::Rejected) => {
            StepError::QueryRejected { message }
        }
        (SdkFailure::Service { message, .. }, Kind::UnknownId) => {
            StepError::invalid("queryExecutionId", message)
        }
        (other, _) => other.into_step_error("Athena"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::sdk_error::samples::{answer, no_credentials};

    #[test]
    fn each_failure_gets_the_name_the_definition_matches() {
        let refused = |status, code| answer(StartQueryExecutionError::generic, status, code, "m");
        for (kind, e, name) in [
            (
                Kind::Other,
                refused(400, "ThrottlingException"),
                "Transient",
            ),
            // A modeled internal error is transient whatever its status.
            (
                Kind::Transient,
                refused(400, "InternalServerException"),
                "Transient",
            ),
            // The shared rule comes first: no credentials is not a refusal.
            (Kind::Rejected, no_credentials(), "ConfigError"),
            (
                Kind::Rejected,
                refused(400, "InvalidRequestException"),
                "QueryRejected",
            ),
            (
                Kind::UnknownId,
                refused(400, "InvalidRequestException"),
                "InvalidInput",
            ),
            (
                Kind::Other,
                refused(403, "AccessDeniedException"),
                "AwsError",
            ),
        ] {
            assert_eq!(classify(kind, e).name(), name);
        }
    }
}
