//! What every step's Lambda shares: the error a step reports, as the
//! Lambda runtime sends it to Step Functions.
//!
//! Each binary in `src/bin/` reads its settings and builds its clients once,
//! then serves events with the step's handler from `s3la-shared`.

use lambda_runtime::Diagnostic;
use s3la_shared::error::StepError;

/// A step's error on its way out of a Lambda. The runtime reports
/// `error_type` as the "Error" Step Functions matches in Retry and Catch;
/// without this it would be a Rust type name.
#[derive(Debug)]
pub struct StepFailure(pub StepError);

impl From<StepError> for StepFailure {
    fn from(e: StepError) -> Self {
        StepFailure(e)
    }
}

impl From<StepFailure> for Diagnostic {
    fn from(StepFailure(e): StepFailure) -> Self {
        Diagnostic {
            error_type: e.name().to_string(),
            error_message: e.to_string(),
        }
    }
}

/// Logs a configuration error the way CloudWatch shows it, then fails the
/// init phase: a Lambda with bad settings must not serve events.
pub fn config_or_exit<T>(result: Result<T, StepError>) -> T {
    match result {
        Ok(v) => v,
        Err(e) => {
            eprintln!(
                "{{\"errorType\":\"{}\",\"errorMessage\":{}}}",
                e.name(),
                serde_json::Value::String(e.to_string())
            );
            std::process::exit(1);
        }
    }
}

/// The whole `main` of a Lambda whose step works on S3: settings read once
/// (a bad one fails the init), one S3 client, then events served by
/// `$handler(payload, &settings, &store)`.
#[macro_export]
macro_rules! s3_step_lambda {
    ($config:ty, $handler:path) => {
        #[tokio::main]
        async fn main() -> Result<(), lambda_runtime::Error> {
            lambda_runtime::tracing::init_default_subscriber();
            let config =
                $crate::config_or_exit(<$config>::from_env(&s3la_shared::config::ProcessEnv));
            let store =
                s3la_shared::aws::s3::S3Store::from_config(&s3la_shared::aws::sdk_config().await);
            let (config, store) = (&config, &store);
            lambda_runtime::run(lambda_runtime::service_fn(
                move |event: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
                    $handler(event.payload, config, store)
                        .await
                        .map_err($crate::StepFailure)
                },
            ))
            .await
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_reach_step_functions_by_name() {
        let d: Diagnostic = StepFailure(StepError::invalid("frequency", "must be weekly")).into();
        assert_eq!(d.error_type, "InvalidInput");
        assert_eq!(d.error_message, "frequency: must be weekly");
        let d: Diagnostic = StepFailure(StepError::transient("slow down")).into();
        assert_eq!(d.error_type, "Transient");
    }
}
