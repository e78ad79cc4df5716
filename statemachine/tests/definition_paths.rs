//! Every path of the deployed definition (`definition/s3la.asl.json`) through
//! the local executor. ComputePeriod, StartQuery and QueryStatus are the real
//! handlers over a scripted query engine; steps whose handlers come later,
//! and the faults Lambda itself raises, are scripted per test.
//!
//! Every failure ends the execution at the Task that failed, and each is
//! then fixed and redriven to `Done` with the outputs of an execution that
//! never failed, without running any step before the failed one again (AWS:
//! a redrive "continues the failed execution from the unsuccessful step and
//! uses the same input", RedriveExecution API reference).

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};

use s3la::asl::history::History;
use s3la::asl::run::{Executor, Outcome, Resume, Sleeper, Tasks};
use s3la::asl::{AslError, load, substitute};
use s3la::local::{LocalSettings, LocalSteps, STEPS, failure_message, step_of, substitutions};
use s3la_shared::athena_ddl::KeyLayout;
use s3la_shared::config::{CleanupConfig, MergeConfig, PeriodConfig, QueryConfig, StatusConfig};
use s3la_shared::engine::{QueryEngine, QueryInfo, QueryJob, QueryState, StartedQuery};
use s3la_shared::error::StepError;
use serde_json::{Value, json};

/// Answers starts with an id and status reads from a script (the last
/// answer repeats).
struct ScriptedEngine {
    states: Mutex<VecDeque<QueryInfo>>,
    /// The queries stopped (StopQueryExecution).
    stopped: Mutex<Vec<String>>,
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
        // A redriven attempt has its own staging prefix, and so its own query.
        let id = match job.staging_prefix.split_once("-redrive-") {
            Some((_, n)) => format!("q-1-redrive-{}", n.trim_end_matches('/')),
            None => "q-1".to_string(),
        };
        Ok(StartedQuery {
            id,
            statement: None,
        })
    }
    async fn stop(&self, id: &str) -> Result<(), StepError> {
        self.stopped.lock().unwrap().push(id.to_string());
        Ok(())
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

/// A RefCell the Map state's iterations may share: they call the harness
/// from threads of their own.
struct Shared<T>(Mutex<T>);

impl<T> Shared<T> {
    fn new(value: T) -> Self {
        Self(Mutex::new(value))
    }
    fn borrow(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap()
    }
    fn borrow_mut(&self) -> MutexGuard<'_, T> {
        self.0.lock().unwrap()
    }
}

impl<T: Copy> Shared<T> {
    fn get(&self) -> T {
        *self.borrow()
    }
    fn set(&self, value: T) {
        *self.borrow_mut() = value;
    }
}

struct Harness<'e> {
    steps: LocalSteps<'e, ScriptedEngine>,
    /// Errors a step raises before it is really called (Lambda faults, throttling).
    faults: Shared<HashMap<&'static str, VecDeque<AslError>>>,
    calls: Shared<Vec<(String, Value)>>,
    sleeps: Shared<Vec<f64>>,
    /// MergeResults answers with a plan of this many shards (0: merged).
    shards: Shared<usize>,
    /// MergeShard fails this shard, once.
    failing_shard: Shared<Option<u64>>,
    /// The failing shard fails once this many MergeShard calls have started
    /// (itself included): shards running beside it.
    fail_when_started: Shared<usize>,
    /// MergeShard invocations under way, and the most at once.
    merging: AtomicUsize,
    most_merging: AtomicUsize,
}

/// MergeResults' answer when it merged the period itself, as AssembleResults'.
fn merged() -> Value {
    json!({
        "outputs": {"parquet": "s3://results/r/2024-01/s3la-2024-01.parquet",
                    "csvGz": "s3://results/r/2024-01/s3la-2024-01.csv.gz"},
        "rows": 1234,
        "malformedLines": 0
    })
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
            "MergeResults" if self.shards.get() > 0 => Ok(json!({
                "plan": "s3://results/r/_staging/2024-01/run-1/shards/plan.json",
                "shards": (0..self.shards.get()).collect::<Vec<_>>(),
                "rows": 1234,
                "dataFiles": 7
            })),
            "MergeResults" | "AssembleResults" => Ok(merged()),
            "MergeShard" => {
                let shard = input["shard"].as_u64().unwrap();
                // A shard's merge takes a while: long enough for others to start.
                let now = self.merging.fetch_add(1, Ordering::SeqCst) + 1;
                self.most_merging.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(20));
                self.merging.fetch_sub(1, Ordering::SeqCst);
                if self.failing_shard.get() == Some(shard) {
                    let started = || {
                        let calls = self.calls.borrow();
                        calls.iter().filter(|(s, _)| s == "MergeShard").count()
                    };
                    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
                    while started() < self.fail_when_started.get()
                        && std::time::Instant::now() < deadline
                    {
                        std::thread::sleep(std::time::Duration::from_millis(1));
                    }
                    self.failing_shard.set(None);
                    let cause =
                        json!({"errorType": "MergeFailed", "errorMessage": "part 3 is gone"});
                    return Err(AslError::new("MergeFailed", cause.to_string()));
                }
                Ok(json!({"shard": shard, "rows": 100}))
            }
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
        stopped: Mutex::new(Vec::new()),
    }
}

impl ScriptedEngine {
    /// The status reads from now on (a fixed Athena table, say).
    fn script(&self, states: Vec<QueryInfo>) {
        *self.states.lock().unwrap() = states.into();
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
        faults: Shared::new(HashMap::new()),
        calls: Shared::new(Vec::new()),
        sleeps: Shared::new(Vec::new()),
        shards: Shared::new(0),
        failing_shard: Shared::new(None),
        fail_when_started: Shared::new(0),
        merging: AtomicUsize::new(0),
        most_merging: AtomicUsize::new(0),
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
    let executor = Executor::new(h, h, History::default());
    let outcome = executor.execute(&machine(), "s3la", "run-1", start(), input);
    finished(h, executor, outcome)
}

/// The definition with one shard merged at a time, whatever this machine's
/// cores, so the order of the calls is the order of the shards (the test of
/// several at once sets its own).
fn machine() -> s3la::asl::model::StateMachine {
    let mut values = substitutions(5, 3);
    values.insert("MergeConcurrency".into(), "1".into());
    load(&substitute(s3la::DEFINITION, &values).unwrap()).unwrap()
}

fn start() -> chrono::DateTime<chrono::Utc> {
    "2024-02-01T06:00:00Z".parse().unwrap()
}

fn finished(h: &Harness, executor: Executor, outcome: Outcome) -> Run {
    let history = executor.history.into_inner();
    Run {
        outcome,
        kinds: history.kinds(),
        events: history.events,
        calls: h.calls.borrow().iter().map(|(s, _)| s.clone()).collect(),
        sleeps: h.sleeps.borrow().clone(),
    }
}

/// Redrives the failed `earlier` run of `input`, as the console's Redrive
/// does: its history says where each scope resumes.
fn redrive(h: &Harness, earlier: &Run, input: Value) -> Run {
    failure(earlier);
    h.calls.borrow_mut().clear();
    h.sleeps.borrow_mut().clear();
    let resume = Resume::from_history(&earlier.events).unwrap();
    assert_eq!(resume.redrive_count, 1);
    let executor = Executor::new(h, h, History::default());
    let outcome = executor.redrive(&machine(), "s3la", "run-1", start(), input, resume);
    finished(h, executor, outcome)
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

/// The error a step's Task failed the run with, at `state`: its cause is the
/// step's own error payload, whose errorType is the error's name; returned.
fn step_failure(r: &Run, state: &str, error: &str) -> Value {
    let (at, e) = failure(r);
    assert_eq!((at, e.error.as_str()), (state, error));
    let cause: Value = serde_json::from_str(&e.cause).unwrap();
    assert_eq!(cause["errorType"], error, "{cause}");
    cause
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
            "malformedLines": 0,
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
    let compute = &h.calls.borrow()[0].1.clone();
    assert_eq!(
        compute["execution"],
        json!({"name": "run-1", "startTime": "2024-02-01T06:00:00.000Z"})
    );
    // MergeResults gets the period, the query and its final status.
    let merge = &h.calls.borrow()[5].1.clone();
    assert_eq!(merge["status"]["state"], "SUCCEEDED");
    assert_eq!(merge["query"]["queryExecutionId"], "q-1");
    assert_eq!(merge["period"]["label"], "2024-01");
}

#[test]
fn a_failed_query_fails_start_query_and_a_redrive_runs_it_again() {
    let e = engine(vec![
        info(QueryState::Running, None),
        info(
            QueryState::Failed,
            Some("TABLE_NOT_FOUND: line 3:8: Table 'db.logs' does not exist"),
        ),
    ]);
    let h = harness(&e);
    let input = json!({"frequency": "monthly"});
    let r = run(&h, input.clone());
    // The execution fails at the Task, where a redrive resumes.
    let cause = step_failure(&r, "StartQuery", "QueryFailed");
    assert!(
        cause["errorMessage"]
            .as_str()
            .unwrap()
            .contains("Table 'db.logs' does not exist (query q-1; fix the cause, then redrive"),
        "{cause}"
    );
    assert_eq!(
        count(&r, "RetryScheduled"),
        0,
        "a failed query is not retried"
    );
    assert!(!r.calls.contains(&"MergeResults".to_string()));

    // The table is fixed: the redrive starts the query again (a new id, its
    // own staging prefix), waits for it, and goes on to the end.
    e.script(vec![info(QueryState::Succeeded, None)]);
    let again = redrive(&h, &r, input.clone());
    assert_eq!(output(&again), output(&run(&harness(&e), input)));
    assert_eq!(again.calls, ["StartQuery", "QueryStatus", "MergeResults"]);
    let calls = h.calls.borrow();
    let merge = &calls.iter().find(|(s, _)| s == "MergeResults").unwrap().1;
    assert_eq!(merge["query"]["queryExecutionId"], "q-1-redrive-1");
    assert_eq!(
        merge["query"]["stagingPrefix"],
        "s3://results/r/_staging/2024-01/run-1-redrive-1/"
    );
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
fn invalid_input_fails_compute_period_and_is_never_retried() {
    let e = engine(vec![info(QueryState::Succeeded, None)]);
    let h = harness(&e);
    let r = run(&h, json!({"frequency": "daily"}));
    let cause = step_failure(&r, "ComputePeriod", "InvalidInput");
    assert_eq!(
        cause["errorMessage"],
        r#"frequency: must be "weekly", "monthly" or "quarterly", got the string "daily""#
    );
    assert_eq!(r.calls, ["ComputePeriod"]);
    assert_eq!(count(&r, "RetryScheduled"), 0);
    assert_eq!(count(&r, "CatchMatched"), 0);
    // For people: the Task that failed, its error and cause, once each.
    let (state, error) = failure(&r);
    assert_eq!(
        failure_message(&r.events, state, error),
        r#"the execution failed in the Task state ComputePeriod: InvalidInput: frequency: must be "weekly", "monthly" or "quarterly", got the string "daily""#
    );
}

#[test]
fn retries_end_after_max_attempts_at_the_task_and_a_redrive_resumes_there() {
    let e = engine(vec![info(QueryState::Running, None)]);
    let h = harness(&e);
    let transient = AslError::new("Transient", "Athena did not answer");
    h.faults
        .borrow_mut()
        .insert("QueryStatus", std::iter::repeat_n(transient, 6).collect());
    let input = json!({"frequency": "monthly"});
    let r = run(&h, input.clone());
    let (state, error) = failure(&r);
    assert_eq!(state, "QueryStatus");
    assert_eq!(error.error, "Transient");
    assert_eq!(error.cause, "Athena did not answer");
    assert_eq!(count(&r, "RetryScheduled"), 5);
    assert_eq!(r.sleeps, [5.0, 2.0, 4.0, 8.0, 16.0, 32.0]);

    e.script(vec![info(QueryState::Succeeded, None)]);
    let again = redrive(&h, &r, input.clone());
    assert_eq!(again.calls, ["QueryStatus", "MergeResults"]);
    assert_eq!(output(&again), output(&run(&harness(&e), input)));
}

/// Each Task's failure a person can fix (a permission, a missing table, an
/// unverified sender, a full bucket): the execution fails at that Task, and
/// once the fault is gone a redrive reaches Done with the outputs of a run
/// that never failed, running nothing before the failed step again.
#[test]
fn every_task_failure_is_redriven_to_done() {
    let all = json!({"frequency": "monthly", "removeMeta": true, "removeOriginalLogs": true,
                     "email": true});
    // (step, its error, the state the execution fails in). A redrive runs
    // the failed step and every step after it, once each (the query
    // succeeds at its first read): STEPS from the failed step on. In the
    // cleanup Parallel only the branches that did not succeed run again:
    // here the branches run one after the other, so when RemoveMeta fails
    // RemoveOriginalLogs never started (on AWS it would have been stopped,
    // or have finished and be kept); when RemoveOriginalLogs fails,
    // RemoveMeta's success is kept.
    let cases = [
        ("ComputePeriod", "ConfigError", "ComputePeriod"),
        ("StartQuery", "QueryRejected", "StartQuery"),
        ("MergeResults", "MergeFailed", "MergeResults"),
        ("RemoveMeta", "StorageError", "Cleanup"),
        ("RemoveOriginalLogs", "UnsafeDeletion", "Cleanup"),
        ("SendReport", "EmailRejected", "SendReport"),
    ];
    let e = engine(vec![info(QueryState::Succeeded, None)]);
    let clean = run(&harness(&e), all.clone());
    for (step, name, failed_state) in cases {
        let from = STEPS.iter().position(|s| *s == step).unwrap();
        let rerun: Vec<&str> = STEPS[from..]
            .iter()
            .copied()
            .filter(|s| !SHARDED_ONLY.contains(s))
            .collect();
        let h = harness(&e);
        let payload = json!({"errorType": name, "errorMessage": format!("{step} cannot")});
        h.faults
            .borrow_mut()
            .insert(step, [AslError::new(name, payload.to_string())].into());
        let r = run(&h, all.clone());
        let (state, error) = failure(&r);
        assert_eq!(
            (state, error.error.as_str()),
            (failed_state, name),
            "{step}"
        );
        assert_eq!(
            count(&r, "RetryScheduled"),
            0,
            "{step}: {name} is not retried"
        );
        let message = failure_message(&r.events, state, error);
        assert!(
            message.contains(&format!("{step}: {name}: {step} cannot")),
            "{step}: {message}"
        );
        let again = redrive(&h, &r, all.clone());
        assert_eq!(output(&again), output(&clean), "{step}");
        assert_eq!(again.calls, rerun, "{step}");
        assert_eq!(again.kinds.first().unwrap(), "ExecutionRedriven");
    }
}

/// The shards MergeShard was called for, in the order of the calls.
fn merged_shards(h: &Harness) -> Vec<u64> {
    h.calls
        .borrow()
        .iter()
        .filter(|(s, _)| s == "MergeShard")
        .map(|(_, i)| i["shard"].as_u64().unwrap())
        .collect()
}

/// The steps only a period of more than one shard runs.
const SHARDED_ONLY: [&str; 2] = ["MergeShard", "AssembleResults"];

/// A period over one shard: MergeResults answers with the plan, the
/// Distributed Map runs MergeShard once per shard with the plan and the
/// shard's number, drops their outputs (ResultPath null: the state's input
/// goes on), and AssembleResults gets MergeResults' input and its answer.
/// A shard that fails fails the Map Run (States.ExceedToleratedFailureThreshold,
/// no failure tolerated); the redrive runs only the shards that did not
/// succeed, then the rest of the execution, to the output of a run that
/// never failed.
#[test]
fn a_failed_shard_fails_the_map_and_a_redrive_merges_only_the_shards_left() {
    let e = engine(vec![info(QueryState::Succeeded, None)]);
    let input = json!({"frequency": "monthly", "email": true});
    let clean = run(&harness(&e), input.clone());
    let h = harness(&e);
    h.shards.set(3);
    let whole = run(&h, input.clone());
    assert_eq!(output(&whole), output(&clean));
    let calls = h.calls.borrow().clone();
    let shards: Vec<&Value> = calls
        .iter()
        .filter(|(s, _)| s == "MergeShard")
        .map(|(_, i)| i)
        .collect();
    let plan = "s3://results/r/_staging/2024-01/run-1/shards/plan.json";
    assert_eq!(
        shards,
        [0, 1, 2]
            .map(|n| json!({"plan": plan, "shard": n}))
            .iter()
            .collect::<Vec<_>>()
    );
    let (_, assemble) = calls.iter().find(|(s, _)| s == "AssembleResults").unwrap();
    assert_eq!(assemble["sharded"]["plan"], plan);
    assert_eq!(assemble["period"]["label"], "2024-01");
    assert_eq!(assemble["status"]["state"], "SUCCEEDED");

    let h = harness(&e);
    h.shards.set(3);
    h.failing_shard.set(Some(1));
    let r = run(&h, input.clone());
    let (state, error) = failure(&r);
    assert_eq!(
        (state, error.error.as_str()),
        ("MergeShards", "States.ExceedToleratedFailureThreshold")
    );
    assert!(
        error
            .cause
            .contains("item 1 of MergeShards failed in MergeShards[1]/MergeShard: MergeFailed"),
        "{}",
        error.cause
    );
    let message = failure_message(&r.events, state, error);
    assert!(message.contains("MergeShards"), "{message}");
    let again = redrive(&h, &r, input.clone());
    assert_eq!(
        again.calls,
        ["MergeShard", "MergeShard", "AssembleResults", "SendReport"],
        "shard 0 succeeded and is not merged again"
    );
    assert_eq!(merged_shards(&h), [1, 2]);
    assert_eq!(output(&again), output(&clean));
}

/// MergeShards with MaxConcurrency 3 (the path's value): shards merge at
/// once on threads of their own, the execution's output is the same, and
/// when one fails, the shards under way finish and keep their outputs, so
/// the redrive merges only those that did not succeed.
#[test]
fn shards_merge_at_once_up_to_the_concurrency_and_a_redrive_runs_only_the_failed() {
    let at_once = || {
        let mut values = substitutions(5, 3);
        values.insert("MergeConcurrency".into(), "3".into());
        load(&substitute(s3la::DEFINITION, &values).unwrap()).unwrap()
    };
    let execute = |h: &Harness, resume: Option<Resume>| {
        h.calls.borrow_mut().clear();
        let executor = Executor::new(h, h, History::default());
        let input = json!({"frequency": "monthly"});
        let outcome = match resume {
            None => executor.execute(&at_once(), "s3la", "run-1", start(), input),
            Some(r) => executor.redrive(&at_once(), "s3la", "run-1", start(), input, r),
        };
        finished(h, executor, outcome)
    };
    let e = engine(vec![info(QueryState::Succeeded, None)]);
    let clean = run(&harness(&e), json!({"frequency": "monthly"}));
    let merged = |h: &Harness| {
        let mut shards = merged_shards(h);
        shards.sort_unstable();
        shards
    };

    let h = harness(&e);
    h.shards.set(6);
    let r = execute(&h, None);
    assert_eq!(output(&r), output(&clean));
    assert_eq!(merged(&h), [0, 1, 2, 3, 4, 5]);
    let most = h.most_merging.load(Ordering::SeqCst);
    assert!((2..=3).contains(&most), "{most} shards at once");

    let h = harness(&e);
    h.shards.set(6);
    h.failing_shard.set(Some(1));
    h.fail_when_started.set(3);
    let r = execute(&h, None);
    let (state, error) = failure(&r);
    assert_eq!(
        (state, error.error.as_str()),
        ("MergeShards", "States.ExceedToleratedFailureThreshold")
    );
    let succeeded: Vec<u64> = r
        .events
        .iter()
        .filter(|e| e.kind == "TaskSucceeded")
        .filter_map(|e| e.state.as_deref()?.strip_prefix("MergeShards["))
        .map(|s| s.split(']').next().unwrap().parse().unwrap())
        .collect();
    assert!(
        succeeded.contains(&0) && succeeded.contains(&2),
        "{succeeded:?}"
    );
    assert!(!succeeded.contains(&1));
    let again = execute(&h, Some(Resume::from_history(&r.events).unwrap()));
    assert_eq!(output(&again), output(&clean));
    let left: Vec<u64> = (0..6).filter(|s| !succeeded.contains(s)).collect();
    assert_eq!(merged(&h), left, "only the shards that did not succeed");
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
fn a_failed_cleanup_names_the_task_inside_the_parallel() {
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
    assert_eq!(state, "Cleanup");
    assert_eq!(error.error, "UnsafeDeletion");
    // The Task inside the Parallel's branch, not the Parallel that failed.
    let message = failure_message(&r.events, state, error);
    assert_eq!(
        message,
        "the execution failed in the Task state Cleanup[1]/RemoveOriginalLogs: UnsafeDeletion: \
         the outputs hold 0 rows but the period has 1234"
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
fn the_poll_limit_stops_the_query_and_a_redrive_waits_again() {
    let e = engine(vec![info(QueryState::Running, None)]);
    let h = harness(&e);
    let input = json!({"frequency": "monthly"});
    let r = run(&h, input.clone());
    let cause = step_failure(&r, "StartQuery", "QueryTimedOut");
    assert_eq!(
        cause["errorMessage"],
        "the Athena query q-1 was still RUNNING after 3 status reads, so it was stopped; raise \
         QueryMaxPolls (or QueryWaitSeconds) and redrive the execution to run it again"
    );
    assert_eq!(r.sleeps, [5.0, 5.0, 5.0]);
    assert_eq!(*e.stopped.lock().unwrap(), ["q-1"], "the query is stopped");

    e.script(vec![
        info(QueryState::Running, None),
        info(QueryState::Succeeded, None),
    ]);
    let again = redrive(&h, &r, input.clone());
    assert_eq!(
        again.calls,
        ["StartQuery", "QueryStatus", "QueryStatus", "MergeResults"],
        "a new query, and the poll count starts again"
    );
    assert_eq!(output(&again), output(&run(&harness(&e), input)));
}

/// A retried StartQuery (the same attempt) never starts a second query: the
/// request token is the job's, and the job is the attempt's.
#[test]
fn a_retried_start_asks_for_the_same_query() {
    use s3la_shared::steps::from_input;
    use s3la_shared::steps::start_query::start_query;
    let e = engine(vec![info(QueryState::Succeeded, None)]);
    let h = harness(&e);
    let r = run(&h, json!({"frequency": "monthly"}));
    output(&r);
    let calls = h.calls.borrow();
    let start_input = calls
        .iter()
        .find(|(s, _)| s == "StartQuery")
        .unwrap()
        .1
        .clone();
    assert_eq!(start_input["redriveCount"], 0);
    assert_eq!(start_input["previous"], json!({"state": "NOT_STARTED"}));
    let config = QueryConfig::from_env(&[
        ("ATHENA_DATABASE", "db"),
        ("ATHENA_TABLE", "logs"),
        ("RESULT_PATH", "s3://results/r/"),
    ])
    .unwrap();
    let tokens = Mutex::new(Vec::new());
    struct Tokens<'a>(&'a Mutex<Vec<String>>);
    impl QueryEngine for Tokens<'_> {
        async fn start(&self, job: &QueryJob) -> Result<StartedQuery, StepError> {
            self.0.lock().unwrap().push(job.idempotency_token.clone());
            Ok(StartedQuery {
                id: "q".into(),
                statement: None,
            })
        }
        async fn status(&self, _id: &str) -> Result<QueryInfo, StepError> {
            unreachable!()
        }
        async fn stop(&self, _id: &str) -> Result<(), StepError> {
            unreachable!()
        }
    }
    let engine = Tokens(&tokens);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut redriven = start_input.clone();
    redriven["redriveCount"] = json!(1);
    for i in [&start_input, &start_input, &redriven, &redriven] {
        let input = from_input(i.clone()).unwrap();
        rt.block_on(start_query(input, &config, &engine)).unwrap();
    }
    let t = tokens.lock().unwrap();
    assert_eq!(t[0], t[1], "a retry of one attempt: the same token");
    assert_eq!(t[2], t[3]);
    assert_ne!(t[0], t[2], "a redrive's attempt: another query");
}
