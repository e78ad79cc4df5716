//! Every path of the deployed definition (`definition/s3la.asl.json`) through
//! the local executor. ComputePeriod, StartQuery and QueryStatus are the real
//! handlers over a scripted query engine; steps whose handlers come later,
//! and the faults Lambda itself raises, are scripted per test.

use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use s3la::asl::history::History;
use s3la::asl::run::{Executor, Outcome, Sleeper, Tasks};
use s3la::asl::{AslError, load, substitute};
use s3la::local::{LocalSettings, LocalSteps, failure_message, step_of, substitutions};
use s3la_shared::athena_ddl::KeyLayout;
use s3la_shared::config::{CleanupConfig, MergeConfig, PeriodConfig, QueryConfig, StatusConfig};
use s3la_shared::engine::{QueryEngine, QueryInfo, QueryJob, QueryState, StartedQuery};
use s3la_shared::error::StepError;
use serde_json::{Value, json};

/// Answers starts with an id and status reads from a script (the last
/// answer repeats).
struct ScriptedEngine {
    states: Mutex<VecDeque<QueryInfo>>,
}

fn info(state: QueryState, reason: Option<&str>) -> QueryInfo {
    QueryInfo {
        state,
        reason: reason.map(str::to_string),
        error_category: reason.map(|_| "USER".to_string()),
        data_scanned_bytes: 123 << 20,
        engine_execution_ms: 4200,
        total_execution_ms: 4500,
        manifest: Some("s3://results/r/_athena/2024-01/run-1/q-1-manifest.csv".into()),
        output_location: None,
        malformed_lines: None,
    }
}

impl QueryEngine for ScriptedEngine {
    async fn start(&self, job: &QueryJob) -> Result<StartedQuery, StepError> {
        assert!(job.staging_prefix.starts_with("s3://results/r/_staging/"));
        Ok(StartedQuery {
            id: "q-1".into(),
            statement: None,
        })
    }
    async fn status(&self, _id: &str) -> Result<QueryInfo, StepError> {
        let mut s = self.states.lock().unwrap();
        Ok(if s.len() > 1 {
            s.pop_front().unwrap()
        } else {
            s[0].clone()
        })
    }
}

struct Harness<'e> {
    steps: LocalSteps<'e, ScriptedEngine>,
    /// Errors a step raises before it is really called (Lambda faults, throttling).
    faults: RefCell<HashMap<&'static str, VecDeque<AslError>>>,
    calls: RefCell<Vec<(String, Value)>>,
    sleeps: RefCell<Vec<f64>>,
}

impl Tasks for Harness<'_> {
    fn invoke(&self, resource: &str, input: Value) -> Result<Value, AslError> {
        let step = step_of(resource).expect("local resource").to_string();
        self.calls.borrow_mut().push((step.clone(), input.clone()));
        if let Some(e) = self
            .faults
            .borrow_mut()
            .get_mut(step.as_str())
            .and_then(VecDeque::pop_front)
        {
            return Err(e);
        }
        match step.as_str() {
            "MergeResults" => Ok(json!({
                "outputs": {"parquet": "s3://results/r/2024-01/s3la-2024-01.parquet",
                            "csvGz": "s3://results/r/2024-01/s3la-2024-01.csv.gz"},
                "rows": 1234
            })),
            "RemoveMeta" => Ok(json!({"deleted": 3})),
            "RemoveOriginalLogs" => Ok(json!({"deleted": 31})),
            "SendReport" => Ok(json!({"sent": true, "messageId": "m-1"})),
            _ => self.steps.invoke(resource, input),
        }
    }
}

impl Sleeper for Harness<'_> {
    fn sleep(&self, seconds: f64) {
        self.sleeps.borrow_mut().push(seconds);
    }
}

fn engine(states: Vec<QueryInfo>) -> ScriptedEngine {
    ScriptedEngine {
        states: Mutex::new(states.into()),
    }
}

fn harness(engine: &ScriptedEngine) -> Harness<'_> {
    let period = PeriodConfig::from_env(&[("PROJECTION_START", "2023-01-01")]).unwrap();
    let query = QueryConfig::from_env(&[
        ("ATHENA_DATABASE", "db"),
        ("ATHENA_TABLE", "logs"),
        ("RESULT_PATH", "s3://results/r/"),
    ])
    .unwrap();
    let status = StatusConfig::from_env(&[("ATHENA_PRICE_PER_TB_USD", "5")]).unwrap();
    Harness {
        steps: LocalSteps::new(
            LocalSettings {
                period,
                query,
                status,
                merge: MergeConfig::local(
                    std::path::Path::new("/nonexistent"),
                    KeyLayout::Simple,
                    Default::default(),
                ),
                cleanup: CleanupConfig::local(
                    std::path::Path::new("/nonexistent"),
                    std::path::Path::new("/nonexistent-logs"),
                    KeyLayout::Simple,
                ),
                email: s3la_shared::email::EmailConfig::local(&[("FROM_EMAIL", "")]).unwrap(),
                smtp: None,
                outbox: "/nonexistent/outbox".into(),
            },
            engine,
        )
        .unwrap(),
        faults: RefCell::new(HashMap::new()),
        calls: RefCell::new(Vec::new()),
        sleeps: RefCell::new(Vec::new()),
    }
}

struct Run {
    outcome: Outcome,
    kinds: Vec<String>,
    events: Vec<s3la::asl::history::Event>,
    calls: Vec<String>,
    sleeps: Vec<f64>,
}

fn run(h: &Harness, input: Value) -> Run {
    let text = substitute(s3la::DEFINITION, &substitutions(5, 3)).unwrap();
    let machine = load(&text).unwrap();
    let executor = Executor::new(h, h, History::default());
    let start = "2024-02-01T06:00:00Z".parse().unwrap();
    let outcome = executor.execute(&machine, "s3la", "run-1", start, input);
    let history = executor.history.into_inner();
    Run {
        outcome,
        kinds: history.kinds(),
        events: history.events,
        calls: h.calls.borrow().iter().map(|(s, _)| s.clone()).collect(),
        sleeps: h.sleeps.borrow().clone(),
    }
}

fn output(r: &Run) -> &Value {
    match &r.outcome {
        Outcome::Succeeded { output } => output,
        Outcome::Failed { state, error } => panic!("failed in {state}: {error}"),
    }
}

fn failure(r: &Run) -> (&str, &AslError) {
    match &r.outcome {
        Outcome::Failed { state, error } => (state, error),
        Outcome::Succeeded { output } => panic!("succeeded: {output}"),
    }
}

fn count(r: &Run, kind: &str) -> usize {
    r.kinds.iter().filter(|k| *k == kind).count()
}

#[test]
fn success_without_cleanup_or_email() {
    let e = engine(vec![
        info(QueryState::Queued, None),
        info(QueryState::Running, None),
        info(QueryState::Succeeded, None),
    ]);
    let h = harness(&e);
    let r = run(&h, json!({"frequency": "monthly"}));
    assert_eq!(
        output(&r),
        &json!({
            "period": "2024-01", "from": "2024-01-01", "to": "2024-01-31",
            "outputs": {"parquet": "s3://results/r/2024-01/s3la-2024-01.parquet",
                        "csvGz": "s3://results/r/2024-01/s3la-2024-01.csv.gz"},
            "rows": 1234,
            "dataScannedBytes": 123u64 << 20,
            "athenaCostUsd": 0.000587,
            "cleanup": {"meta": {"skipped": true}, "originalLogs": {"skipped": true}},
            "email": {"sent": false}
        })
    );
    assert_eq!(
        r.calls,
        [
            "ComputePeriod",
            "StartQuery",
            "QueryStatus",
            "QueryStatus",
            "QueryStatus",
            "MergeResults"
        ]
    );
    assert_eq!(
        r.sleeps,
        [5.0, 5.0, 5.0],
        "one Wait before each status read"
    );
    assert_eq!(r.kinds.first().unwrap(), "ExecutionStarted");
    assert_eq!(r.kinds.last().unwrap(), "ExecutionSucceeded");
    assert_eq!(count(&r, "RetryScheduled"), 0);
    // The execution's name and start time reach ComputePeriod from the context object.
    let compute = &h.calls.borrow()[0].1;
    assert_eq!(
        compute["execution"],
        json!({"name": "run-1", "startTime": "2024-02-01T06:00:00.000Z"})
    );
    // MergeResults gets the period, the query and its final status.
    let merge = &h.calls.borrow()[5].1;
    assert_eq!(merge["status"]["state"], "SUCCEEDED");
    assert_eq!(merge["query"]["queryExecutionId"], "q-1");
    assert_eq!(merge["period"]["label"], "2024-01");
}

#[test]
fn query_failed_ends_in_the_query_failed_state_with_athenas_reason() {
    let e = engine(vec![
        info(QueryState::Running, None),
        info(
            QueryState::Failed,
            Some("TABLE_NOT_FOUND: line 3:8: Table 'db.logs' does not exist"),
        ),
    ]);
    let h = harness(&e);
    let r = run(&h, json!({"frequency": "weekly"}));
    let (state, error) = failure(&r);
    assert_eq!(state, "QueryFailed");
    assert_eq!(error.error, "QueryFailed");
    let cause: Value = serde_json::from_str(&error.cause).unwrap();
    assert_eq!(cause["errorType"], "QueryFailed");
    assert!(
        cause["errorMessage"]
            .as_str()
            .unwrap()
            .contains("Table 'db.logs' does not exist (error category: USER)"),
        "{cause}"
    );
    assert_eq!(
        count(&r, "RetryScheduled"),
        0,
        "a failed query is not retried"
    );
    assert!(!r.calls.contains(&"MergeResults".to_string()));
}

#[test]
fn throttled_start_is_retried_with_backoff_then_succeeds() {
    let e = engine(vec![info(QueryState::Succeeded, None)]);
    let h = harness(&e);
    let throttled = AslError::new(
        "Transient",
        r#"{"errorType":"Transient","errorMessage":"Athena TooManyRequestsException"}"#,
    );
    h.faults
        .borrow_mut()
        .insert("StartQuery", [throttled.clone(), throttled].into());
    let r = run(&h, json!({"frequency": "weekly"}));
    output(&r);
    assert_eq!(count(&r, "RetryScheduled"), 2);
    assert_eq!(
        r.sleeps,
        [2.0, 4.0, 5.0],
        "2 s, then 2 s x BackoffRate 2, then the Wait"
    );
}

#[test]
fn lambda_service_errors_are_retried() {
    let e = engine(vec![info(QueryState::Succeeded, None)]);
    let h = harness(&e);
    for (step, error) in [
        ("ComputePeriod", "Lambda.ServiceException"),
        ("QueryStatus", "Lambda.TooManyRequestsException"),
        ("MergeResults", "Lambda.SdkClientException"),
        ("MergeResults", "Lambda.AWSLambdaException"),
    ] {
        h.faults
            .borrow_mut()
            .entry(step)
            .or_default()
            .push_back(AslError::new(error, "Rate exceeded"));
    }
    let r = run(&h, json!({}));
    output(&r);
    let retried: Vec<_> = r
        .events
        .iter()
        .filter(|e| e.kind == "RetryScheduled")
        .map(|e| {
            (
                e.state.clone().unwrap(),
                e.details["error"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(
        retried,
        [
            ("ComputePeriod".into(), "Lambda.ServiceException".into()),
            (
                "QueryStatus".into(),
                "Lambda.TooManyRequestsException".into()
            ),
            ("MergeResults".into(), "Lambda.SdkClientException".into()),
            ("MergeResults".into(), "Lambda.AWSLambdaException".into()),
        ]
    );
}

#[test]
fn invalid_input_is_caught_and_never_retried() {
    let e = engine(vec![info(QueryState::Succeeded, None)]);
    let h = harness(&e);
    let r = run(&h, json!({"frequency": "daily"}));
    let (state, error) = failure(&r);
    assert_eq!(state, "ComputePeriodFailed");
    assert_eq!(error.error, "ComputePeriodFailed");
    // The cause is the step's own error payload: its name and message.
    let cause: Value = serde_json::from_str(&error.cause).unwrap();
    assert_eq!(cause["errorType"], "InvalidInput");
    assert_eq!(
        cause["errorMessage"],
        r#"frequency: must be "weekly", "monthly" or "quarterly", got the string "daily""#
    );
    assert_eq!(r.calls, ["ComputePeriod"]);
    assert_eq!(count(&r, "RetryScheduled"), 0);
    assert_eq!(count(&r, "CatchMatched"), 1);
    // For people: the Task that failed, its error and cause, once each.
    assert_eq!(
        failure_message(&r.events, state, error),
        r#"the execution failed in the Task state ComputePeriod: InvalidInput: frequency: must be "weekly", "monthly" or "quarterly", got the string "daily" (caught, it ended in the Fail state ComputePeriodFailed)"#
    );
}

#[test]
fn retries_end_after_max_attempts_and_are_caught() {
    let e = engine(vec![info(QueryState::Running, None)]);
    let h = harness(&e);
    let transient = AslError::new("Transient", "Athena did not answer");
    h.faults
        .borrow_mut()
        .insert("QueryStatus", std::iter::repeat_n(transient, 10).collect());
    let r = run(&h, json!({"frequency": "weekly"}));
    let (state, error) = failure(&r);
    assert_eq!(state, "QueryStatusFailed");
    assert_eq!(error.cause, "Athena did not answer");
    assert_eq!(count(&r, "RetryScheduled"), 5);
    assert_eq!(r.sleeps, [5.0, 2.0, 4.0, 8.0, 16.0, 32.0]);
}

#[test]
fn cleanup_branches_run_only_when_asked() {
    let e = engine(vec![info(QueryState::Succeeded, None)]);
    let h = harness(&e);
    let r = run(
        &h,
        json!({"frequency": "monthly", "removeMeta": true, "removeOriginalLogs": true}),
    );
    assert_eq!(
        output(&r)["cleanup"],
        json!({"meta": {"deleted": 3}, "originalLogs": {"deleted": 31}})
    );
    assert!(
        r.calls
            .ends_with(&["RemoveMeta".into(), "RemoveOriginalLogs".into()])
    );
    let calls = h.calls.borrow();
    let logs = &calls
        .iter()
        .find(|(s, _)| s == "RemoveOriginalLogs")
        .unwrap()
        .1;
    assert_eq!(logs["period"]["label"], "2024-01");
    assert_eq!(logs["results"]["rows"], 1234);

    let h = harness(&e);
    let r = run(&h, json!({"frequency": "monthly", "removeMeta": true}));
    assert_eq!(
        output(&r)["cleanup"],
        json!({"meta": {"deleted": 3}, "originalLogs": {"skipped": true}})
    );
    assert!(!r.calls.contains(&"RemoveOriginalLogs".to_string()));
}

#[test]
fn a_failed_cleanup_is_caught_after_the_outputs_exist() {
    let e = engine(vec![info(QueryState::Succeeded, None)]);
    let h = harness(&e);
    h.faults.borrow_mut().insert(
        "RemoveOriginalLogs",
        [AslError::new(
            "UnsafeDeletion",
            json!({"errorType": "UnsafeDeletion",
                   "errorMessage": "the outputs hold 0 rows but the period has 1234"})
            .to_string(),
        )]
        .into(),
    );
    let r = run(&h, json!({"removeOriginalLogs": true}));
    let (state, error) = failure(&r);
    assert_eq!(state, "CleanupFailed");
    let cause: Value = serde_json::from_str(&error.cause).unwrap();
    assert_eq!(cause["errorType"], "UnsafeDeletion");
    // The Task inside the Parallel's branch, not the Parallel that caught it.
    let message = failure_message(&r.events, state, error);
    assert!(
        message.starts_with("the execution failed in the Task state Cleanup[1]/RemoveOriginalLogs: UnsafeDeletion: the outputs hold 0 rows"),
        "{message}"
    );
    assert!(
        message.ends_with("(caught, it ended in the Fail state CleanupFailed)"),
        "{message}"
    );
}

#[test]
fn email_is_sent_only_when_asked() {
    let e = engine(vec![info(QueryState::Succeeded, None)]);
    let h = harness(&e);
    let r = run(&h, json!({"email": true}));
    assert_eq!(
        output(&r)["email"],
        json!({"sent": true, "messageId": "m-1"})
    );
    assert_eq!(r.calls.last().unwrap(), "SendReport");
    let h = harness(&e);
    let r = run(&h, json!({}));
    assert!(!r.calls.contains(&"SendReport".to_string()));
    assert_eq!(output(&r)["email"], json!({"sent": false}));
}

#[test]
fn poll_limit_ends_in_query_timed_out() {
    let e = engine(vec![info(QueryState::Running, None)]);
    let h = harness(&e);
    let r = run(&h, json!({"frequency": "weekly"}));
    let (state, error) = failure(&r);
    assert_eq!(state, "QueryTimedOut");
    assert_eq!(
        error.cause,
        "The Athena query q-1 was still RUNNING after 3 status reads; it may still finish: look it \
         up in the Athena console, or raise QueryMaxPolls."
    );
    assert_eq!(r.sleeps, [5.0, 5.0, 5.0]);
}
