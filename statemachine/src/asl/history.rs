//! The execution history, shaped like the Step Functions console's: one
//! event per step of the run, with the input and output of each state.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    pub id: u64,
    pub timestamp: DateTime<Utc>,
    /// `ExecutionStarted`, `TaskStateEntered`, `TaskScheduled`, `TaskFailed`,
    /// `RetryScheduled`, `CatchMatched`, `TaskStateExited`, ...
    #[serde(rename = "type")]
    pub kind: String,
    /// The state, with its branch for states inside a Parallel (`Cleanup[0]/RemoveMeta`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    pub details: Value,
}

/// Receives each event as it happens (`s3la run` prints progress from it).
pub type Observer<'a> = Box<dyn FnMut(&Event) + 'a>;

#[derive(Default)]
pub struct History<'a> {
    pub events: Vec<Event>,
    observer: Option<Observer<'a>>,
}

impl<'a> History<'a> {
    pub fn with_observer(observer: Observer<'a>) -> Self {
        Self {
            events: Vec::new(),
            observer: Some(observer),
        }
    }

    pub fn record(&mut self, kind: &str, state: Option<&str>, details: Value) {
        let event = Event {
            id: self.events.len() as u64 + 1,
            timestamp: Utc::now(),
            kind: kind.to_string(),
            state: state.map(str::to_string),
            details,
        };
        if let Some(observe) = self.observer.as_mut() {
            observe(&event);
        }
        self.events.push(event);
    }

    /// Event types in order, for tests and summaries.
    pub fn kinds(&self) -> Vec<String> {
        self.events.iter().map(|e| e.kind.clone()).collect()
    }
}
