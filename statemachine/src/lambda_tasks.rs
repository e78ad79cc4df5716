//! The definition's Task resources invoked as Lambda functions, through
//! Lambda's Invoke API, as Step Functions invokes them: what `s3la execute`
//! runs the deployed definition with (against the functions in an account,
//! or a local Invoke endpoint such as `sam local start-lambda`'s, named by
//! `AWS_ENDPOINT_URL_LAMBDA`).
//!
//! Step Functions' own reading of an invocation ("Handling errors in Step
//! Functions workflows", and the Lambda service integration page):
//! - the function returned: the Task's output is its payload;
//! - the function failed (`FunctionError` set): the Task fails with the
//!   payload's `errorType` as the error and the payload, as sent, as the cause;
//! - Lambda itself refused or failed the call: the Task fails with
//!   `Lambda.<exception>` (`Lambda.ServiceException`,
//!   `Lambda.TooManyRequestsException`, ...), which a Retry can match;
//!   a failure to reach Lambda at all is `Lambda.SdkClientException`.
//!
//! Step Functions does not retry those calls behind the definition's back,
//! so the SDK's own retries are off: every attempt is one the definition's
//! Retry counts.

use aws_sdk_lambda::Client;
use aws_sdk_lambda::config::retry::RetryConfig;
use aws_sdk_lambda::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_lambda::primitives::Blob;
use s3la_shared::aws::sdk_error::one_line;
use serde_json::Value;

use crate::asl::AslError;
use crate::asl::run::Tasks;

/// Invokes each Task's resource, a Lambda function ARN, synchronously.
pub struct LambdaTasks {
    client: Client,
    runtime: tokio::runtime::Runtime,
}

impl LambdaTasks {
    /// A Lambda client from the usual AWS settings (profile, region,
    /// `AWS_ENDPOINT_URL_LAMBDA`), with no retries of its own.
    pub fn from_env() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let sdk = runtime.block_on(s3la_shared::aws::sdk_config());
        let config = aws_sdk_lambda::config::Builder::from(&sdk)
            .retry_config(RetryConfig::disabled())
            .build();
        Ok(Self {
            client: Client::from_conf(config),
            runtime,
        })
    }
}

impl Tasks for LambdaTasks {
    fn invoke(&self, resource: &str, input: Value) -> Result<Value, AslError> {
        let payload = serde_json::to_vec(&input).expect("a JSON value serializes");
        let call = self
            .client
            .invoke()
            .function_name(resource)
            .payload(Blob::new(payload))
            .send();
        match self.runtime.block_on(call) {
            Ok(out) => {
                let body = out.payload.map(Blob::into_inner).unwrap_or_default();
                answer(out.function_error.is_some(), &body)
            }
            Err(e) => Err(service_error(&e)),
        }
    }
}

/// The Task's result from the function's answer: its output, or its error.
fn answer(function_failed: bool, body: &[u8]) -> Result<Value, AslError> {
    let text = String::from_utf8_lossy(body).into_owned();
    if function_failed {
        let error = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| v["errorType"].as_str().map(str::to_string))
            .unwrap_or_else(|| "Lambda.Unknown".to_string());
        return Err(AslError::new(error, text));
    }
    if body.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(body).map_err(|e| {
        AslError::new(
            "States.Runtime",
            format!("the function's output is not JSON ({e}): {text}"),
        )
    })
}

/// Lambda's refusal of the call as Step Functions names it.
fn service_error<E, R>(e: &SdkError<E, R>) -> AslError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    match e {
        SdkError::ServiceError(s) => {
            let code = s.err().code().unwrap_or("ServiceException");
            let message = s.err().message().unwrap_or(code);
            AslError::new(format!("Lambda.{code}"), message.to_string())
        }
        other => AslError::new(
            "Lambda.SdkClientException",
            format!("calling Lambda failed: {}", one_line(other)),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_function_error_is_the_tasks_error_with_the_payload_as_cause() {
        let body = br#"{"errorType":"InvalidInput","errorMessage":"frequency: must be weekly"}"#;
        let e = answer(true, body).unwrap_err();
        assert_eq!(e.error, "InvalidInput");
        assert_eq!(e.cause, String::from_utf8_lossy(body));
        // A runtime's own failure without an errorType.
        assert_eq!(answer(true, b"oops").unwrap_err().error, "Lambda.Unknown");
    }

    #[test]
    fn a_returned_payload_is_the_output() {
        assert_eq!(
            answer(false, br#"{"a":1}"#).unwrap(),
            serde_json::json!({"a": 1})
        );
        assert_eq!(answer(false, b"").unwrap(), Value::Null);
        assert_eq!(
            answer(false, b"not json").unwrap_err().error,
            "States.Runtime"
        );
    }
}
