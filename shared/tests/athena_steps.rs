//! StartQuery and QueryStatus through the real Athena adapter, with canned
//! SDK responses (aws-smithy-mocks) for the sequences a live service gives
//! only by chance: throttling, failures, cancellation.
#![cfg(feature = "aws")]

use aws_sdk_athena::Client;
use aws_sdk_athena::config::retry::RetryConfig;
use aws_sdk_athena::operation::get_query_execution::{
    GetQueryExecutionError, GetQueryExecutionOutput,
};
use aws_sdk_athena::operation::start_query_execution::{
    StartQueryExecutionError, StartQueryExecutionOutput,
};
use aws_sdk_athena::types::error::InvalidRequestException;
use aws_sdk_athena::types::{
    AthenaError, QueryExecution, QueryExecutionState, QueryExecutionStatistics,
    QueryExecutionStatus, ResultConfiguration,
};
use aws_smithy_mocks::{Rule, RuleMode, mock, mock_client};
use s3la_shared::aws::athena::AthenaEngine;
use s3la_shared::config::{QueryConfig, StatusConfig};
use s3la_shared::error::StepError;
use s3la_shared::steps::compute_period::compute_period;
use s3la_shared::steps::from_input;
use s3la_shared::steps::query_status::{QueryStatusOutput, query_status};
use s3la_shared::steps::start_query::{StartedQueryOutput, start_query};
use serde_json::{Value, json};

fn query_config() -> QueryConfig {
    QueryConfig::from_env(&[
        ("ATHENA_DATABASE", "s3_access_logs_db"),
        ("ATHENA_TABLE", "mybucket_logs"),
        ("RESULT_PATH", "s3://results-bucket/reports"),
        ("ATHENA_WORKGROUP", "s3la"),
        ("PROJECTION_START", "2023-01-01"),
    ])
    .unwrap()
}

fn engine(rules: &[&Rule]) -> AthenaEngine {
    let client: Client = mock_client!(aws_sdk_athena, RuleMode::Sequential, rules, |c| c
        .retry_config(RetryConfig::standard().with_max_attempts(3)));
    AthenaEngine::new(client, query_config())
}

fn plan(input: Value) -> Value {
    let period_config =
        s3la_shared::config::PeriodConfig::from_env(&[("PROJECTION_START", "2023-01-01")]).unwrap();
    let out = compute_period(
        json!({"input": input, "execution": {"name": "run-42", "startTime": "2024-02-05T06:00:00Z"}}),
        &period_config,
        chrono::Utc::now(),
    )
    .unwrap();
    serde_json::to_value(out).unwrap()
}

/// StartQuery for the weekly plan, against an engine answering with `rules`.
async fn start_weekly(rules: &[&Rule]) -> Result<StartedQueryOutput, StepError> {
    start_query_on(plan(json!({"frequency": "weekly"})), &engine(rules)).await
}

/// StartQuery as a host runs it: the JSON read into the step's input, then
/// the step.
async fn start_query_on(
    input: Value,
    engine: &AthenaEngine,
) -> Result<StartedQueryOutput, StepError> {
    start_query(from_input(input)?, &query_config(), engine).await
}

fn started(id: &'static str) -> Rule {
    mock!(Client::start_query_execution)
        .match_requests(|r| {
            r.work_group() == Some("s3la")
                && r.query_execution_context().and_then(|c| c.database())
                    == Some("s3_access_logs_db")
                && r.result_configuration().and_then(|c| c.output_location())
                    == Some("s3://results-bucket/reports/_athena/2024-W05/run-42/")
                && r.query_string().is_some_and(|q| {
                    q.starts_with("UNLOAD (\nSELECT")
                        && q.contains("TO 's3://results-bucket/reports/_staging/2024-W05/run-42/'")
                        && q.contains("BETWEEN '2024/01/29' AND '2024/02/05'")
                })
                && r.client_request_token().is_some_and(|t| t.len() == 64)
        })
        .then_output(move || {
            StartQueryExecutionOutput::builder()
                .query_execution_id(id)
                .build()
        })
}

#[tokio::test]
async fn start_query_submits_the_unload_once_per_job() {
    let rule = started("q-1");
    let athena = engine(&[&rule]);
    let input = plan(json!({"frequency": "weekly", "verbose": true}));
    let out = start_query_on(input.clone(), &athena).await.unwrap();
    assert_eq!(out.query_execution_id, "q-1");
    assert_eq!(
        out.staging_prefix,
        "s3://results-bucket/reports/_staging/2024-W05/run-42/"
    );
    assert!(out.statement.unwrap().contains("AS \"request_time\""));
    assert_eq!(rule.num_calls(), 1);

    // The same input gives the same token: Athena answers a retried start
    // with the first query instead of running a second one.
    let tokens = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = tokens.clone();
    let capture = mock!(Client::start_query_execution)
        .match_requests(move |r| {
            seen.lock()
                .unwrap()
                .push(r.client_request_token().unwrap().to_string());
            true
        })
        .sequence()
        .output(|| {
            StartQueryExecutionOutput::builder()
                .query_execution_id("q")
                .build()
        })
        .repeatedly()
        .build();
    let engine2 = engine(&[&capture]);
    for _ in 0..2 {
        start_query_on(input.clone(), &engine2).await.unwrap();
    }
    let mut other = input.clone();
    other["options"]["selectAll"] = json!(true);
    let out = start_query_on(other, &engine2).await.unwrap();
    assert!(out.statement.is_some(), "verbose keeps the statement");
    let tokens = tokens.lock().unwrap();
    assert_eq!(tokens[0], tokens[1]);
    assert_ne!(tokens[0], tokens[2], "a different query gets its own token");
}

#[tokio::test]
async fn statement_is_left_out_unless_verbose() {
    let rule = started("q-2");
    let out = start_weekly(&[&rule]).await.unwrap();
    assert_eq!(out.statement, None);
    let v = serde_json::to_value(&out).unwrap();
    assert!(v.get("statement").is_none());
}

#[tokio::test]
async fn throttled_start_is_retried_then_transient() {
    // As Athena sends it: HTTP 400 with the error type in the JSON body.
    let throttled =
        || Some(r#"{"__type":"TooManyRequestsException","Message":"Rate exceeded"}"#.to_string());
    // Throttled twice, then accepted: the SDK's own retries absorb it.
    let rule = mock!(Client::start_query_execution)
        .sequence()
        .http_status(400, throttled())
        .times(2)
        .output(|| {
            StartQueryExecutionOutput::builder()
                .query_execution_id("q-3")
                .build()
        })
        .build();
    let out = start_weekly(&[&rule]).await.unwrap();
    assert_eq!(
        (out.query_execution_id.as_str(), rule.num_calls()),
        ("q-3", 3)
    );

    // Throttled past the SDK's attempts: Transient, for the state machine's Retry.
    let rule = mock!(Client::start_query_execution)
        .sequence()
        .http_status(400, throttled())
        .repeatedly()
        .build();
    let e = start_weekly(&[&rule]).await.unwrap_err();
    assert_eq!(e.name(), "Transient", "{e}");
    assert!(
        e.to_string()
            .contains("TooManyRequestsException: Rate exceeded"),
        "{e}"
    );
}

#[tokio::test]
async fn refused_statement_is_query_rejected() {
    let rule = mock!(Client::start_query_execution).then_error(|| {
        StartQueryExecutionError::InvalidRequestException(
            InvalidRequestException::builder()
                .message("line 1:8: Table 'mybucket_logs' does not exist")
                .build(),
        )
    });
    let e = start_query_on(plan(json!({})), &engine(&[&rule]))
        .await
        .unwrap_err();
    assert_eq!(e.name(), "QueryRejected");
    assert!(e.to_string().contains("does not exist"), "{e}");
}

#[tokio::test]
async fn edited_inputs_never_reach_athena() {
    let rule = started("never");
    let athena = engine(&[&rule]);
    let edits = [
        (
            "/period/label",
            json!("2024-W05' --"),
            "period: does not match",
        ),
        ("/execution/name", json!("x'/../../"), "execution.name: "),
        (
            "/period/start",
            json!("2024-01-29' OR '1'='1"),
            "period.start: ",
        ),
        (
            "/options/selectAll",
            json!("true; --"),
            "options.selectAll: ",
        ),
    ];
    for (pointer, value, want) in edits {
        let mut input = plan(json!({"frequency": "weekly"}));
        *input.pointer_mut(pointer).unwrap() = value;
        let e = start_query_on(input, &athena).await.unwrap_err();
        assert_eq!(e.name(), "InvalidInput");
        assert!(e.to_string().starts_with(want), "{pointer}: {e}");
    }
    assert_eq!(rule.num_calls(), 0);
}

fn execution(
    state: QueryExecutionState,
    reason: Option<&str>,
    category: Option<i32>,
) -> GetQueryExecutionOutput {
    let mut status = QueryExecutionStatus::builder().state(state);
    if let Some(r) = reason {
        status = status.state_change_reason(r);
    }
    if let Some(c) = category {
        status = status.athena_error(
            AthenaError::builder()
                .error_category(c)
                .error_type(1301)
                .build(),
        );
    }
    GetQueryExecutionOutput::builder()
        .query_execution(
            QueryExecution::builder()
                .query_execution_id("q-9")
                .status(status.build())
                .statistics(
                    QueryExecutionStatistics::builder()
                        .data_scanned_in_bytes(3 << 30)
                        .engine_execution_time_in_millis(5300)
                        .total_execution_time_in_millis(5600)
                        .data_manifest_location(
                            "s3://results-bucket/reports/_athena/2024-W05/run-42/q-9-manifest.csv",
                        )
                        .build(),
                )
                .result_configuration(
                    ResultConfiguration::builder()
                        .output_location("s3://results-bucket/reports/_athena/2024-W05/run-42/q-9")
                        .build(),
                )
                .build(),
        )
        .build()
}

async fn status_of(rules: &[&Rule]) -> Result<Value, String> {
    status_for(json!({"queryExecutionId": "q-9"}), rules).await
}

/// QueryStatus as a host runs it, at $5 per TB.
async fn status(input: Value, engine: &AthenaEngine) -> Result<QueryStatusOutput, StepError> {
    let config = StatusConfig {
        price_per_tb_usd: 5.0,
    };
    query_status(from_input(input)?, &config, engine).await
}

/// QueryStatus on any input, at $5 per TB; errors as "Name: message".
async fn status_for(input: Value, rules: &[&Rule]) -> Result<Value, String> {
    status(input, &engine(rules))
        .await
        .map(|o| serde_json::to_value(o).unwrap())
        .map_err(|e| format!("{}: {e}", e.name()))
}

#[tokio::test]
async fn status_reports_progress_and_cost() {
    let running = mock!(Client::get_query_execution)
        .match_requests(|r| r.query_execution_id() == Some("q-9"))
        .then_output(|| execution(QueryExecutionState::Running, None, None));
    let v = status_of(&[&running]).await.unwrap();
    assert_eq!(
        (v["state"].as_str(), v["done"].as_bool()),
        (Some("RUNNING"), Some(false))
    );

    let done = mock!(Client::get_query_execution)
        .then_output(|| execution(QueryExecutionState::Succeeded, None, None));
    let v = status_of(&[&done]).await.unwrap();
    assert_eq!(v["state"], "SUCCEEDED");
    assert_eq!(v["done"], true);
    assert_eq!(v["dataScannedBytes"], 3u64 << 30);
    assert_eq!(v["engineExecutionMs"], 5300);
    assert_eq!(v["estimatedCostUsd"], 0.014648); // 3 GiB at $5/TiB
    assert_eq!(
        v["manifest"],
        "s3://results-bucket/reports/_athena/2024-W05/run-42/q-9-manifest.csv"
    );
}

/// QueryStatus reports a failed or cancelled query with Athena's reason;
/// the definition takes it back to StartQuery, which fails with QueryFailed
/// for this attempt's query, and on a redrive starts the query again.
#[tokio::test]
async fn failed_and_cancelled_queries_fail_start_query_until_a_redrive() {
    let failed = mock!(Client::get_query_execution).then_output(|| {
        execution(
            QueryExecutionState::Failed,
            Some("HIVE_BAD_DATA: Error parsing field value '-x' for field 11"),
            Some(2),
        )
    });
    let status = status_of(&[&failed]).await.unwrap();
    assert_eq!(
        (&status["state"], &status["done"], &status["errorCategory"]),
        (&json!("FAILED"), &json!(false), &json!("USER"))
    );
    assert_eq!(
        status["reason"],
        "HIVE_BAD_DATA: Error parsing field value '-x' for field 11"
    );
    let mut back = plan(json!({"frequency": "weekly"}));
    back["previous"] = status.clone();
    back["redriveCount"] = json!(0);
    // Nothing reaches Athena: the failure is this attempt's.
    let e = start_query_on(back.clone(), &engine(&[]))
        .await
        .unwrap_err();
    assert_eq!(e.name(), "QueryFailed");
    assert_eq!(
        e.to_string(),
        "the Athena query ended FAILED: HIVE_BAD_DATA: Error parsing field value '-x' for field \
         11 (query q-9; fix the cause, then redrive the execution to run the query again) \
         (error category: USER)"
    );

    // Redriven: the same input, a higher redrive count: a new query, under
    // its own staging prefix.
    back["redriveCount"] = json!(1);
    let again = mock!(Client::start_query_execution)
        .match_requests(|r| {
            r.query_string().is_some_and(|q| {
                q.contains("TO 's3://results-bucket/reports/_staging/2024-W05/run-42-redrive-1/'")
            }) && r.result_configuration().and_then(|c| c.output_location())
                == Some("s3://results-bucket/reports/_athena/2024-W05/run-42-redrive-1/")
        })
        .then_output(|| {
            StartQueryExecutionOutput::builder()
                .query_execution_id("q-10")
                .build()
        });
    let out = start_query_on(back, &engine(&[&again])).await.unwrap();
    assert_eq!(
        (out.query_execution_id.as_str(), out.redrive_count),
        ("q-10", 1)
    );
    assert_eq!(again.num_calls(), 1);

    let cancelled = mock!(Client::get_query_execution).then_output(|| {
        execution(
            QueryExecutionState::Cancelled,
            Some("Query cancelled by user"),
            None,
        )
    });
    let status = status_of(&[&cancelled]).await.unwrap();
    assert_eq!(status["state"], "CANCELLED");
    assert_eq!(status["reason"], "Query cancelled by user");
}

/// Past the poll limit, StartQuery stops the query (StopQueryExecution)
/// before it fails the execution with QueryTimedOut.
#[tokio::test]
async fn a_timed_out_query_is_stopped() {
    use aws_sdk_athena::operation::stop_query_execution::StopQueryExecutionOutput;
    let stop = mock!(Client::stop_query_execution)
        .match_requests(|r| r.query_execution_id() == Some("q-9"))
        .then_output(|| StopQueryExecutionOutput::builder().build());
    let mut back = plan(json!({"frequency": "weekly"}));
    back["previous"] = json!({"state": "TIMED_OUT", "queryExecutionId": "q-9",
                              "startedInRedrive": 0, "polls": 60, "lastState": "RUNNING"});
    let e = start_query_on(back, &engine(&[&stop])).await.unwrap_err();
    assert_eq!(e.name(), "QueryTimedOut");
    assert!(
        e.to_string().starts_with(
            "the Athena query q-9 was still RUNNING after 60 status reads, so it was stopped"
        ),
        "{e}"
    );
    assert_eq!(stop.num_calls(), 1);

    // Redriven after the execution stopped while polling (its query may
    // still run): the old query is stopped, then the attempt's own started.
    let stop_again = mock!(Client::stop_query_execution)
        .match_requests(|r| r.query_execution_id() == Some("q-9"))
        .then_output(|| StopQueryExecutionOutput::builder().build());
    let start = mock!(Client::start_query_execution).then_output(|| {
        StartQueryExecutionOutput::builder()
            .query_execution_id("q-11")
            .build()
    });
    let mut redriven = plan(json!({"frequency": "weekly"}));
    redriven["redriveCount"] = json!(1);
    redriven["previous"] = json!({"state": "TIMED_OUT", "queryExecutionId": "q-9",
                                  "startedInRedrive": 0, "polls": 3, "lastState": "RUNNING"});
    let out = start_query_on(redriven, &engine(&[&stop_again, &start]))
        .await
        .unwrap();
    assert_eq!(out.query_execution_id, "q-11");
    assert_eq!((stop_again.num_calls(), start.num_calls()), (1, 1));
}

#[tokio::test]
async fn status_faults_are_transient_and_unknown_ids_invalid() {
    let unavailable = mock!(Client::get_query_execution)
        .sequence()
        .http_status(503, None)
        .repeatedly()
        .build();
    let e = status_of(&[&unavailable]).await.unwrap_err();
    assert!(e.starts_with("Transient: "), "{e}");
    assert_eq!(
        unavailable.num_calls(),
        3,
        "the SDK retried before giving up"
    );

    let throttled_then_ok = mock!(Client::get_query_execution)
        .sequence()
        .http_status(
            400,
            Some(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#.into()),
        )
        .output(|| execution(QueryExecutionState::Queued, None, None))
        .build();
    let v = status_of(&[&throttled_then_ok]).await.unwrap();
    assert_eq!(v["state"], "QUEUED");

    let missing = mock!(Client::get_query_execution).then_error(|| {
        GetQueryExecutionError::InvalidRequestException(
            InvalidRequestException::builder()
                .message("QueryExecution q-9 was not found")
                .build(),
        )
    });
    let e = status_of(&[&missing]).await.unwrap_err();
    assert_eq!(
        e,
        "InvalidInput: queryExecutionId: QueryExecution q-9 was not found"
    );

    let e = status_for(json!({"queryExecutionId": "q'; DROP"}), &[])
        .await
        .unwrap_err();
    assert!(
        e.starts_with("InvalidInput: queryExecutionId: must be an Athena query execution id"),
        "{e}"
    );
    let e = status_for(json!({"id": "q"}), &[]).await.unwrap_err();
    assert!(e.starts_with("InvalidInput: "), "{e}");
}

#[tokio::test]
async fn unreachable_athena_is_transient() {
    // A real client against a closed port on 127.0.0.1: a network fault.
    let config = aws_sdk_athena::Config::builder()
        .behavior_version(aws_sdk_athena::config::BehaviorVersion::latest())
        .region(aws_sdk_athena::config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_athena::config::Credentials::new(
            "k", "s", None, None, "test",
        ))
        .endpoint_url("http://127.0.0.1:9")
        .retry_config(RetryConfig::disabled())
        .build();
    let engine = AthenaEngine::status_only(Client::from_conf(config));
    let e = status(json!({"queryExecutionId": "q-1"}), &engine)
        .await
        .unwrap_err();
    assert_eq!(e.name(), "Transient", "{e}");
    assert!(
        e.to_string()
            .starts_with("temporary failure, retry: Athena could not be reached: "),
        "{e}"
    );
    assert!(
        e.to_string().len() < 400 && !e.to_string().contains('\n'),
        "{e}"
    );
}

/// QueryStatus through a real client whose settings lack something: what
/// `s3la invoke` and a Lambda get without credentials or a region.
async fn status_with(
    region: Option<&'static str>,
    credentials: Option<aws_sdk_athena::config::SharedCredentialsProvider>,
) -> StepError {
    let mut config = aws_sdk_athena::Config::builder()
        .behavior_version(aws_sdk_athena::config::BehaviorVersion::latest())
        .endpoint_url("http://127.0.0.1:9")
        .retry_config(RetryConfig::disabled());
    if let Some(r) = region {
        config = config.region(aws_sdk_athena::config::Region::new(r));
    }
    config.set_credentials_provider(credentials);
    let engine = AthenaEngine::status_only(Client::from_conf(config.build()));
    status(json!({"queryExecutionId": "q-1"}), &engine)
        .await
        .unwrap_err()
}

/// No credentials is a setting to fix, never retried (Step Functions would
/// retry a `Transient` for nothing), and the cause is one line that says
/// what to set.
#[tokio::test]
async fn no_credentials_or_region_is_a_config_error_saying_what_to_set() {
    use aws_credential_types::provider::error::CredentialsError;
    use aws_credential_types::provider::{SharedCredentialsProvider, future};

    #[derive(Debug)]
    struct Nothing;
    impl aws_credential_types::provider::ProvideCredentials for Nothing {
        fn provide_credentials<'a>(&'a self) -> future::ProvideCredentials<'a>
        where
            Self: 'a,
        {
            future::ProvideCredentials::ready(Err(CredentialsError::not_loaded(
                "no providers in chain provided credentials",
            )))
        }
    }
    let creds = || {
        Some(SharedCredentialsProvider::new(
            aws_sdk_athena::config::Credentials::new("k", "s", None, None, "test"),
        ))
    };
    for (e, variable, says) in [
        (
            status_with(
                Some("us-east-1"),
                Some(SharedCredentialsProvider::new(Nothing)),
            )
            .await,
            "AWS_PROFILE",
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        ),
        (
            status_with(Some("us-east-1"), None).await,
            "AWS_PROFILE",
            "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY",
        ),
        (
            status_with(None, creds()).await,
            "AWS_REGION",
            "set AWS_REGION",
        ),
    ] {
        assert_eq!(e.name(), "ConfigError", "{e}");
        let cause = e.to_string();
        assert!(
            cause.starts_with(&format!("{variable}: no AWS ")),
            "{cause}"
        );
        assert!(cause.contains(says), "{cause}");
        assert!(cause.len() < 400 && !cause.contains('\n'), "{cause}");
        assert!(!cause.contains("DispatchFailure"), "no Debug dump: {cause}");
    }
}
