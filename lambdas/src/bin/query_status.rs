//! QueryStatus Lambda: query id -> state, data scanned, cost.

use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use s3la_lambdas::{StepFailure, config_or_exit};
use s3la_shared::aws::{athena::AthenaEngine, sdk_config};
use s3la_shared::config::{ProcessEnv, StatusConfig};
use s3la_shared::steps::query_status::query_status;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = config_or_exit(StatusConfig::from_env(&ProcessEnv));
    let client = aws_sdk_athena::Client::new(&sdk_config().await);
    let engine = AthenaEngine::status_only(client);
    let (config, engine) = (&config, &engine);
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        query_status(event.payload, config, engine)
            .await
            .map_err(StepFailure)
    }))
    .await
}
