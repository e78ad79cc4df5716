//! ComputePeriod Lambda: execution input -> period, options, execution.

use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use s3la_lambdas::{StepFailure, config_or_exit};
use s3la_shared::config::{PeriodConfig, ProcessEnv};
use s3la_shared::steps::compute_period::compute_period;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = config_or_exit(PeriodConfig::from_env(&ProcessEnv));
    let config = &config;
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        compute_period(event.payload, config, chrono::Utc::now()).map_err(StepFailure)
    }))
    .await
}
