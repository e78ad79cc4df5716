//! An execution's history folded into one row per state it entered, as the
//! console's "step details" show them: status, input, output and, for a
//! failed state, its error and cause.

use std::collections::HashMap;

use aws_sdk_sfn::primitives::DateTime as SdkTime;
use aws_sdk_sfn::types::HistoryEvent;
use chrono::{DateTime, SubsecRound, Utc};
use serde::Serialize;
use serde_json::Value;

/// The parts of a history event the rows need.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Event {
    pub id: i64,
    pub previous: i64,
    pub timestamp: Option<DateTime<Utc>>,
    /// `TaskStateEntered`, `LambdaFunctionFailed`, `ExecutionFailed`, ...
    pub kind: String,
    /// The state an entered or exited event names.
    pub state: Option<String>,
    pub input: Option<String>,
    pub output: Option<String>,
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// Step Functions' times, to the millisecond they have (the SDK's float
/// seconds would add noise below it).
pub fn time(t: &SdkTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos()).map(|t| t.round_subsecs(3))
}

impl From<&HistoryEvent> for Event {
    fn from(e: &HistoryEvent) -> Self {
        let mut event = Event {
            id: e.id(),
            previous: e.previous_event_id(),
            timestamp: time(e.timestamp()),
            kind: e.r#type().as_str().to_string(),
            ..Event::default()
        };
        if let Some(d) = e.state_entered_event_details() {
            event.state = Some(d.name().to_string());
            event.input = d.input().map(str::to_string);
        }
        if let Some(d) = e.state_exited_event_details() {
            event.state = Some(d.name().to_string());
            event.output = d.output().map(str::to_string);
        }
        if let Some(d) = e.execution_started_event_details() {
            event.input = d.input().map(str::to_string);
        }
        if let Some(d) = e.execution_succeeded_event_details() {
            event.output = d.output().map(str::to_string);
        }
        // Every event that ends something badly carries an error and a cause.
        let failure = [
            e.task_failed_event_details()
                .map(|d| (d.error(), d.cause())),
            e.task_start_failed_event_details()
                .map(|d| (d.error(), d.cause())),
            e.task_submit_failed_event_details()
                .map(|d| (d.error(), d.cause())),
            e.task_timed_out_event_details()
                .map(|d| (d.error(), d.cause())),
            e.lambda_function_failed_event_details()
                .map(|d| (d.error(), d.cause())),
            e.lambda_function_schedule_failed_event_details()
                .map(|d| (d.error(), d.cause())),
            e.lambda_function_start_failed_event_details()
                .map(|d| (d.error(), d.cause())),
            e.lambda_function_timed_out_event_details()
                .map(|d| (d.error(), d.cause())),
            e.activity_failed_event_details()
                .map(|d| (d.error(), d.cause())),
            e.activity_schedule_failed_event_details()
                .map(|d| (d.error(), d.cause())),
            e.activity_timed_out_event_details()
                .map(|d| (d.error(), d.cause())),
            e.map_run_failed_event_details()
                .map(|d| (d.error(), d.cause())),
            e.evaluation_failed_event_details()
                .map(|d| (d.error(), d.cause())),
            e.execution_failed_event_details()
                .map(|d| (d.error(), d.cause())),
            e.execution_aborted_event_details()
                .map(|d| (d.error(), d.cause())),
            e.execution_timed_out_event_details()
                .map(|d| (d.error(), d.cause())),
        ]
        .into_iter()
        .flatten()
        .next();
        if let Some((error, cause)) = failure {
            event.error = error.map(str::to_string);
            event.cause = cause.map(str::to_string);
        }
        event
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StateStatus {
    /// Entered and not left (still running, or the execution stopped there).
    Entered,
    Succeeded,
    /// Its task failed (and a Catch moved on), or the execution failed in it.
    Failed,
    /// The execution was aborted while in it.
    Aborted,
}

impl StateStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StateStatus::Entered => "entered",
            StateStatus::Succeeded => "succeeded",
            StateStatus::Failed => "failed",
            StateStatus::Aborted => "aborted",
        }
    }
}

/// One state's visit.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StateRow {
    pub name: String,
    /// `Task`, `Pass`, `Choice`, `Wait`, `Parallel`, `Map`, `Fail`, `Succeed`.
    #[serde(rename = "type")]
    pub kind: String,
    pub status: StateStatus,
    pub entered: Option<DateTime<Utc>>,
    pub exited: Option<DateTime<Utc>>,
    #[serde(serialize_with = "as_json")]
    pub input: Option<String>,
    #[serde(serialize_with = "as_json")]
    pub output: Option<String>,
    /// A task's attempts (1 without retries); 0 for other states.
    pub attempts: u32,
    /// The last failure's error and cause: why it failed, or, when it
    /// succeeded after retries, what the retries were for.
    pub error: Option<String>,
    pub cause: Option<String>,
}

/// Inputs and outputs are JSON text; machine-readable output nests them.
fn as_json<S: serde::Serializer>(text: &Option<String>, s: S) -> Result<S::Ok, S::Error> {
    match text.as_deref().map(serde_json::from_str::<Value>) {
        Some(Ok(v)) => v.serialize(s),
        Some(Err(_)) => text.serialize(s),
        None => s.serialize_none(),
    }
}

/// The rows so far, fed one event at a time as the history's pages arrive.
#[derive(Debug, Default)]
pub struct Rows {
    pub rows: Vec<StateRow>,
    /// Which row each event belongs to: every event names the one before it
    /// in its own branch (`previousEventId`), so Parallel branches stay apart.
    row_of: HashMap<i64, usize>,
    /// Rows whose last attempt failed, until a retry is scheduled or succeeds.
    failing: Vec<bool>,
}

const SCHEDULED: [&str; 3] = [
    "TaskScheduled",
    "LambdaFunctionScheduled",
    "ActivityScheduled",
];
const SUCCEEDED: [&str; 3] = [
    "TaskSucceeded",
    "LambdaFunctionSucceeded",
    "ActivitySucceeded",
];

impl Rows {
    pub fn push(&mut self, e: &Event) {
        if let Some(kind) = e.kind.strip_suffix("StateEntered") {
            self.rows.push(StateRow {
                name: e.state.clone().unwrap_or_default(),
                kind: kind.to_string(),
                status: StateStatus::Entered,
                entered: e.timestamp,
                exited: None,
                input: e.input.clone(),
                output: None,
                attempts: 0,
                error: None,
                cause: None,
            });
            self.failing.push(false);
            self.row_of.insert(e.id, self.rows.len() - 1);
            return;
        }
        let Some(i) = self.row_for(e) else {
            return;
        };
        self.row_of.insert(e.id, i);
        let row = &mut self.rows[i];
        if e.kind.ends_with("StateExited") {
            row.exited = e.timestamp;
            row.output = e.output.clone();
            row.status = if self.failing[i] {
                StateStatus::Failed
            } else {
                StateStatus::Succeeded
            };
        } else if SCHEDULED.contains(&e.kind.as_str()) {
            row.attempts += 1;
            self.failing[i] = false;
        } else if SUCCEEDED.contains(&e.kind.as_str()) {
            self.failing[i] = false;
        } else if e.kind.starts_with("Execution") {
            // The execution ended while in this state: a Fail state, a task
            // failure no Catch handled, a timeout or an abort.
            let ended = if e.kind == "ExecutionAborted" {
                StateStatus::Aborted
            } else {
                StateStatus::Failed
            };
            if row.status == StateStatus::Entered {
                row.status = ended;
                row.exited = e.timestamp;
                if e.error.is_some() || e.cause.is_some() {
                    row.error = e.error.clone();
                    row.cause = e.cause.clone();
                }
            }
            // An abort or a timeout also ends the states around it (a Parallel).
            if matches!(e.kind.as_str(), "ExecutionAborted" | "ExecutionTimedOut") {
                for row in self.rows.iter_mut() {
                    if row.status == StateStatus::Entered {
                        row.status = ended;
                        row.exited = e.timestamp;
                    }
                }
            }
        } else if e.error.is_some() || e.cause.is_some() {
            row.error = e.error.clone();
            row.cause = e.cause.clone();
            self.failing[i] = true;
        }
    }

    /// The row of the event before this one; for events whose predecessor is
    /// unknown, the last open row of the same state, or the last open row.
    fn row_for(&self, e: &Event) -> Option<usize> {
        if let Some(&i) = self.row_of.get(&e.previous) {
            return Some(i);
        }
        let open = |r: &&StateRow| r.status == StateStatus::Entered;
        let rows = self.rows.iter().enumerate().rev();
        match &e.state {
            Some(name) => rows
                .filter(|(_, r)| open(r) && &r.name == name)
                .map(|(i, _)| i)
                .next(),
            None => rows.filter(|(_, r)| open(r)).map(|(i, _)| i).next(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sfn::types::builders::HistoryEventBuilder;
    use aws_sdk_sfn::types::{
        ExecutionFailedEventDetails, HistoryEventType, LambdaFunctionFailedEventDetails,
        StateEnteredEventDetails, StateExitedEventDetails,
    };

    fn ev(id: i64, previous: i64, kind: &str) -> Event {
        Event {
            id,
            previous,
            kind: kind.into(),
            timestamp: DateTime::from_timestamp(1_700_000_000 + id, 0),
            ..Event::default()
        }
    }
    fn entered(id: i64, previous: i64, kind: &str, name: &str, input: &str) -> Event {
        Event {
            state: Some(name.into()),
            input: Some(input.into()),
            ..ev(id, previous, kind)
        }
    }
    fn exited(id: i64, previous: i64, kind: &str, name: &str, output: &str) -> Event {
        Event {
            state: Some(name.into()),
            output: Some(output.into()),
            ..ev(id, previous, kind)
        }
    }
    fn failed(id: i64, previous: i64, kind: &str, error: &str, cause: &str) -> Event {
        Event {
            error: Some(error.into()),
            cause: Some(cause.into()),
            ..ev(id, previous, kind)
        }
    }
    /// An SDK history event at 1_764_000_000 s, to be given its details.
    fn sdk_event(id: i64, previous: i64, kind: HistoryEventType) -> HistoryEventBuilder {
        HistoryEvent::builder()
            .id(id)
            .previous_event_id(previous)
            .timestamp(SdkTime::from_secs(1_764_000_000))
            .r#type(kind)
    }
    /// The one row of `rows`, which failed with `error`.
    fn the_failed_row<'r>(rows: &'r [StateRow], error: &str) -> &'r StateRow {
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].status, StateStatus::Failed);
        assert_eq!(rows[0].error.as_deref(), Some(error));
        &rows[0]
    }
    fn fold(events: &[Event]) -> Vec<StateRow> {
        let mut rows = Rows::default();
        events.iter().for_each(|e| rows.push(e));
        rows.rows
    }

    /// Our definition's shape: ComputePeriod succeeds after one retry,
    /// StartQuery fails, its Catch goes to the StartQueryFailed Fail state.
    #[test]
    fn a_caught_task_failure_and_its_fail_state() {
        let cause = r#"{"errorType":"InvalidInput","errorMessage":"period: does not match"}"#;
        let rows = fold(&[
            ev(1, 0, "ExecutionStarted"),
            entered(
                2,
                1,
                "TaskStateEntered",
                "ComputePeriod",
                r#"{"frequency":"weekly"}"#,
            ),
            ev(3, 2, "TaskScheduled"),
            ev(4, 3, "TaskStarted"),
            failed(5, 4, "TaskFailed", "Transient", "throttled"),
            ev(6, 5, "TaskScheduled"),
            ev(7, 6, "TaskStarted"),
            ev(8, 7, "TaskSucceeded"),
            exited(9, 8, "TaskStateExited", "ComputePeriod", r#"{"period":{}}"#),
            entered(
                10,
                9,
                "PassStateEntered",
                "LoadSettings",
                r#"{"period":{}}"#,
            ),
            exited(11, 10, "PassStateExited", "LoadSettings", "{}"),
            entered(12, 11, "TaskStateEntered", "StartQuery", "{}"),
            ev(13, 12, "TaskScheduled"),
            ev(14, 13, "TaskStarted"),
            failed(15, 14, "TaskFailed", "InvalidInput", cause),
            exited(16, 15, "TaskStateExited", "StartQuery", r#"{"error":{}}"#),
            entered(
                17,
                16,
                "FailStateEntered",
                "StartQueryFailed",
                r#"{"error":{}}"#,
            ),
            failed(
                18,
                17,
                "ExecutionFailed",
                "StartQueryFailed",
                "period: does not match",
            ),
        ]);
        let summary: Vec<(&str, &str, StateStatus, u32)> = rows
            .iter()
            .map(|r| (r.name.as_str(), r.kind.as_str(), r.status, r.attempts))
            .collect();
        assert_eq!(
            summary,
            [
                ("ComputePeriod", "Task", StateStatus::Succeeded, 2),
                ("LoadSettings", "Pass", StateStatus::Succeeded, 0),
                ("StartQuery", "Task", StateStatus::Failed, 1),
                ("StartQueryFailed", "Fail", StateStatus::Failed, 0),
            ]
        );
        // The retried step keeps what its retry was for.
        assert_eq!(rows[0].error.as_deref(), Some("Transient"));
        assert_eq!(rows[0].input.as_deref(), Some(r#"{"frequency":"weekly"}"#));
        assert_eq!(rows[0].output.as_deref(), Some(r#"{"period":{}}"#));
        assert_eq!(rows[2].error.as_deref(), Some("InvalidInput"));
        assert_eq!(rows[2].cause.as_deref(), Some(cause));
        assert_eq!(rows[2].output.as_deref(), Some(r#"{"error":{}}"#));
        assert_eq!(rows[3].error.as_deref(), Some("StartQueryFailed"));
        assert_eq!(rows[3].cause.as_deref(), Some("period: does not match"));
        assert_eq!(rows[3].exited, DateTime::from_timestamp(1_700_000_018, 0));
    }

    #[test]
    fn an_uncaught_failure_fails_the_state_it_happened_in() {
        let rows = fold(&[
            ev(1, 0, "ExecutionStarted"),
            entered(2, 0, "TaskStateEntered", "MergeResults", "{}"),
            ev(3, 2, "LambdaFunctionScheduled"),
            failed(
                4,
                3,
                "LambdaFunctionTimedOut",
                "States.Timeout",
                "no answer",
            ),
            failed(5, 4, "ExecutionFailed", "States.Timeout", "no answer"),
        ]);
        let row = the_failed_row(&rows, "States.Timeout");
        assert_eq!(row.cause.as_deref(), Some("no answer"));
    }

    #[test]
    fn parallel_branches_and_running_and_aborted_states() {
        let rows = fold(&[
            entered(2, 0, "ParallelStateEntered", "Cleanup", "{}"),
            ev(3, 2, "ParallelStateStarted"),
            entered(4, 3, "TaskStateEntered", "RemoveMeta", "{}"),
            entered(5, 3, "TaskStateEntered", "RemoveOriginalLogs", "{}"),
            ev(6, 4, "TaskScheduled"),
            ev(7, 5, "TaskScheduled"),
            ev(8, 6, "TaskSucceeded"),
            exited(9, 8, "TaskStateExited", "RemoveMeta", "{}"),
            // The execution is aborted while RemoveOriginalLogs runs.
            ev(10, 7, "ExecutionAborted"),
        ]);
        let running = fold(&[
            entered(2, 0, "TaskStateEntered", "QueryStatus", "{}"),
            ev(3, 2, "TaskScheduled"),
        ]);
        assert_eq!(running[0].status, StateStatus::Entered);
        assert_eq!(running[0].exited, None);
        let status: Vec<(&str, StateStatus, u32)> = rows
            .iter()
            .map(|r| (r.name.as_str(), r.status, r.attempts))
            .collect();
        assert_eq!(
            status,
            [
                ("Cleanup", StateStatus::Aborted, 0),
                ("RemoveMeta", StateStatus::Succeeded, 1),
                ("RemoveOriginalLogs", StateStatus::Aborted, 1),
            ]
        );
    }

    #[test]
    fn events_without_a_known_predecessor_go_to_the_open_state() {
        // moto's canned FAILURE history links nothing.
        let rows = fold(&[
            ev(1, 0, "ExecutionStarted"),
            entered(2, 0, "FailStateEntered", "A State", "{}"),
            failed(3, 0, "ExecutionFailed", "AnError", "An error occurred!"),
        ]);
        the_failed_row(&rows, "AnError");
    }

    #[test]
    fn sdk_events_become_events() {
        let entered = sdk_event(2, 1, HistoryEventType::TaskStateEntered)
            .state_entered_event_details(
                StateEnteredEventDetails::builder()
                    .name("ComputePeriod")
                    .input(r#"{"frequency":"weekly"}"#)
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let e = Event::from(&entered);
        assert_eq!(
            (e.id, e.previous, e.kind.as_str(), e.state.as_deref()),
            (2, 1, "TaskStateEntered", Some("ComputePeriod"))
        );
        assert_eq!(e.input.as_deref(), Some(r#"{"frequency":"weekly"}"#));
        assert_eq!(e.timestamp, DateTime::from_timestamp(1_764_000_000, 0));

        let lambda_failed = sdk_event(5, 4, HistoryEventType::LambdaFunctionFailed)
            .lambda_function_failed_event_details(
                LambdaFunctionFailedEventDetails::builder()
                    .error("InvalidInput")
                    .cause(r#"{"errorMessage":"frequency: must be"}"#)
                    .build(),
            )
            .build()
            .unwrap();
        let e = Event::from(&lambda_failed);
        assert_eq!(e.error.as_deref(), Some("InvalidInput"));
        assert_eq!(
            e.cause.as_deref(),
            Some(r#"{"errorMessage":"frequency: must be"}"#)
        );

        let exited = sdk_event(6, 5, HistoryEventType::TaskStateExited)
            .state_exited_event_details(
                StateExitedEventDetails::builder()
                    .name("ComputePeriod")
                    .output("{}")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        let execution_failed = sdk_event(7, 6, HistoryEventType::ExecutionFailed)
            .execution_failed_event_details(
                ExecutionFailedEventDetails::builder()
                    .error("ComputePeriodFailed")
                    .cause("frequency: must be")
                    .build(),
            )
            .build()
            .unwrap();
        let rows = fold(&[
            Event::from(&entered),
            Event::from(&lambda_failed),
            Event::from(&exited),
            Event::from(&execution_failed),
        ]);
        let row = the_failed_row(&rows, "InvalidInput");
        assert_eq!(row.output.as_deref(), Some("{}"));
    }

    #[test]
    fn json_nests_inputs_and_outputs() {
        let rows = fold(&[
            entered(
                2,
                0,
                "TaskStateEntered",
                "ComputePeriod",
                r#"{"frequency":"weekly"}"#,
            ),
            exited(3, 2, "TaskStateExited", "ComputePeriod", "not json"),
        ]);
        let v = serde_json::to_value(&rows[0]).unwrap();
        assert_eq!(v["input"], serde_json::json!({"frequency": "weekly"}));
        assert_eq!(v["output"], "not json");
        assert_eq!(v["status"], "succeeded");
        assert_eq!(v["type"], "Task");
        assert_eq!(v["error"], Value::Null);
    }
}
