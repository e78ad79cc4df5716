//! The definition's Task resources resolved to the step handlers, in
//! process: what `s3la run` executes instead of Lambda functions.

use std::collections::BTreeMap;

use chrono::Utc;
use s3la_shared::config::{MergeConfig, PeriodConfig, QueryConfig, StatusConfig};
use s3la_shared::engine::QueryEngine;
use s3la_shared::error::StepError;
use s3la_shared::steps::{compute_period, merge_results, query_status, start_query, to_output};
use serde_json::{Value, json};

use crate::asl::AslError;
use crate::asl::run::Tasks;

/// The steps, by the names the definition's `${<Step>FunctionArn}` use.
pub const STEPS: [&str; 7] = [
    "ComputePeriod",
    "StartQuery",
    "QueryStatus",
    "MergeResults",
    "RemoveMeta",
    "RemoveOriginalLogs",
    "SendReport",
];

const ARN_PREFIX: &str = "arn:aws:lambda:local:000000000000:function:s3la-";

/// Substitutions for running the definition locally: a pseudo function ARN
/// per step and the polling settings.
pub fn substitutions(wait_seconds: u32, max_polls: u32) -> BTreeMap<String, String> {
    let mut values: BTreeMap<String, String> = STEPS
        .iter()
        .map(|s| (format!("{s}FunctionArn"), format!("{ARN_PREFIX}{s}")))
        .collect();
    values.insert("QueryWaitSeconds".into(), wait_seconds.to_string());
    values.insert("QueryMaxPolls".into(), max_polls.to_string());
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

/// The steps that exist so far, over a query engine.
pub struct LocalSteps<'e, E> {
    pub period: PeriodConfig,
    pub query: QueryConfig,
    pub status: StatusConfig,
    pub merge: MergeConfig,
    pub engine: &'e E,
    runtime: tokio::runtime::Runtime,
}

impl<'e, E: QueryEngine> LocalSteps<'e, E> {
    pub fn new(
        period: PeriodConfig,
        query: QueryConfig,
        status: StatusConfig,
        merge: MergeConfig,
        engine: &'e E,
    ) -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Self {
            period,
            query,
            status,
            merge,
            engine,
            runtime,
        })
    }
}

impl<E: QueryEngine> Tasks for LocalSteps<'_, E> {
    fn invoke(&self, resource: &str, input: Value) -> Result<Value, AslError> {
        let result = match step_of(resource) {
            Some("ComputePeriod") => {
                compute_period::compute_period(input, &self.period, Utc::now())
                    .map(|o| to_output(&o))
            }
            Some("StartQuery") => self
                .runtime
                .block_on(start_query::start_query(input, &self.query, self.engine))
                .map(|o| to_output(&o)),
            Some("QueryStatus") => self
                .runtime
                .block_on(query_status::query_status(input, &self.status, self.engine))
                .map(|o| to_output(&o)),
            Some("MergeResults") => {
                merge_results::merge_results(input, &self.merge).map(|o| to_output(&o))
            }
            Some(step) if STEPS.contains(&step) => {
                return Err(AslError::new(
                    "NotImplemented",
                    format!("the {step} step is not built yet in this version"),
                ));
            }
            _ => {
                return Err(AslError::definition(format!(
                    "the Task resource '{resource}' is not one of s3la's steps"
                )));
            }
        };
        result.map_err(|e| lambda_error(&e))
    }
}
