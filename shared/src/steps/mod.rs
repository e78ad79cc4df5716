//! Each step of the state machine as a plain function from its JSON input to
//! its JSON output. The Lambdas, the local executor and `s3la invoke` call
//! these through [`catalog`], which describes the steps once.

pub mod catalog;
pub mod cleanup;
pub mod compute_period;
pub mod merge_results;
pub mod merge_shards;
/// The steps' clients on AWS (S3, Athena, SES or SMTP, CloudFront links).
#[cfg(all(feature = "aws", feature = "smtp", feature = "cloudfront"))]
pub mod on_aws;
pub mod query_status;
pub mod remove_meta;
pub mod remove_original_logs;
pub mod send_report;
pub mod start_query;

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::error::StepError;

/// Reads a step input into its type; a refusal names the field by its path.
pub fn from_input<T: DeserializeOwned>(input: Value) -> Result<T, StepError> {
    serde_path_to_error::deserialize(input).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." {
            "step input".to_string()
        } else {
            path
        };
        StepError::invalid(field, e.inner().to_string())
    })
}

/// Writes a step output.
pub fn to_output<T: Serialize>(output: &T) -> Value {
    // Our output types hold only strings, numbers, booleans and maps with
    // string keys, which always serialise.
    serde_json::to_value(output).unwrap_or(Value::Null)
}

/// Execution names become part of S3 keys and SQL string literals: allow
/// only what Step Functions generates and people usually type.
pub fn check_execution_name(name: &str) -> Result<(), StepError> {
    let ok = (1..=80).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(StepError::invalid(
            "execution.name",
            format!(
                "must be 1-80 letters, digits, '-' or '_' (it names the run's staging folder), \
                 got {:?}",
                name
            ),
        ))
    }
}
