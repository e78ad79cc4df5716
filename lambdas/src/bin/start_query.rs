//! StartQuery Lambda: period -> Athena UNLOAD query started once.

use lambda_runtime::{Error, LambdaEvent, run, service_fn, tracing};
use s3la_lambdas::{StepFailure, config_or_exit};
use s3la_shared::aws::{athena::AthenaEngine, sdk_config};
use s3la_shared::config::{ProcessEnv, QueryConfig};
use s3la_shared::steps::start_query::start_query;
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    tracing::init_default_subscriber();
    let config = config_or_exit(QueryConfig::from_env(&ProcessEnv));
    let client = aws_sdk_athena::Client::new(&sdk_config().await);
    let engine = AthenaEngine::new(client, config.clone());
    let (config, engine) = (&config, &engine);
    run(service_fn(move |event: LambdaEvent<Value>| async move {
        start_query(event.payload, config, engine)
            .await
            .map_err(StepFailure)
    }))
    .await
}
