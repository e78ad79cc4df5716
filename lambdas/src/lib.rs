//! What every step's Lambda shares: the error a step reports, as the
//! Lambda runtime sends it to Step Functions.
//!
//! Each binary in `src/bin/` is [`serve`] for its step: settings read and
//! clients built once, then events served with the step's handler from
//! `s3la-shared`.

use lambda_runtime::{Diagnostic, LambdaEvent};
use s3la_shared::config::ProcessEnv;
use s3la_shared::error::StepError;
use s3la_shared::steps::catalog::{Settings, Step};
use s3la_shared::steps::on_aws::AwsClients;

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

/// A step's Lambda: its settings read and its clients built once (a bad
/// setting fails the init), then events served by the step's handler. The
/// step's row in `s3la_shared::steps::catalog` says what it reads and uses.
pub async fn serve(step: Step) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::tracing::init_default_subscriber();
    let settings = config_or_exit(Settings::from_env(step, &ProcessEnv));
    let clients = config_or_exit(AwsClients::for_step(step, &settings, &ProcessEnv).await);
    let (settings, clients) = (&settings, &clients);
    lambda_runtime::run(lambda_runtime::service_fn(
        move |event: LambdaEvent<serde_json::Value>| async move {
            step.run(event.payload, settings, clients)
                .await
                .map_err(StepFailure)
        },
    ))
    .await
}

/// The whole `main` of the Lambda for `$step`, a [`Step`] variant.
#[macro_export]
macro_rules! step_lambda {
    ($step:ident) => {
        #[tokio::main]
        async fn main() -> Result<(), lambda_runtime::Error> {
            $crate::serve(s3la_shared::steps::catalog::Step::$step).await
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
