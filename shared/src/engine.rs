//! The query-engine port: what StartQuery and QueryStatus need from Athena
//! (or from the embedded engine that stands in for it locally).

use std::future::Future;

use serde::{Deserialize, Serialize};

use crate::error::StepError;
use crate::query::QuerySpec;

/// A query to run, written like Athena's UNLOAD: Parquet data files under
/// `staging_prefix`, metadata and manifest under `output_location`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryJob {
    pub spec: QuerySpec,
    pub staging_prefix: String,
    pub output_location: String,
    /// Same job, same token: a retried start does not run a second query.
    pub idempotency_token: String,
}

/// What an engine returns when it accepted a job.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartedQuery {
    pub id: String,
    /// The statement submitted, for engines that speak SQL.
    pub statement: Option<String>,
}

/// A query's lifecycle state, as Athena names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum QueryState {
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
}

impl QueryState {
    pub fn as_str(self) -> &'static str {
        match self {
            QueryState::Queued => "QUEUED",
            QueryState::Running => "RUNNING",
            QueryState::Succeeded => "SUCCEEDED",
            QueryState::Failed => "FAILED",
            QueryState::Cancelled => "CANCELLED",
        }
    }
}

/// A query's state and statistics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueryInfo {
    pub state: QueryState,
    /// Why it failed or was cancelled, in the engine's words.
    pub reason: Option<String>,
    /// Athena's error category: `SYSTEM`, `USER` or `OTHER`.
    pub error_category: Option<String>,
    pub data_scanned_bytes: u64,
    pub engine_execution_ms: u64,
    pub total_execution_ms: u64,
    /// The manifest listing the data files (UNLOAD), once succeeded.
    pub manifest: Option<String>,
    pub output_location: Option<String>,
    /// Log lines the engine could not read as records, when it counts them
    /// (the embedded engine does while parsing; Athena does not say).
    pub malformed_lines: Option<u64>,
}

/// Runs a run's query.
pub trait QueryEngine {
    fn start(&self, job: &QueryJob)
    -> impl Future<Output = Result<StartedQuery, StepError>> + Send;
    fn status(&self, id: &str) -> impl Future<Output = Result<QueryInfo, StepError>> + Send;
    /// Stops a query that is still queued or running (Athena's
    /// StopQueryExecution); stopping one that already ended does nothing.
    fn stop(&self, id: &str) -> impl Future<Output = Result<(), StepError>> + Send;
}
