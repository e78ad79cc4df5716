//! The subset of the Amazon States Language (JSONPath flavour) this
//! executor runs, as types. Every struct refuses fields it does not know, so a
//! definition using something unsupported fails to load with the field's
//! name instead of being half-understood.

use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct StateMachine {
    #[serde(default)]
    pub comment: Option<String>,
    pub start_at: String,
    pub states: IndexMap<String, State>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(tag = "Type")]
pub enum State {
    Task(TaskState),
    Pass(PassState),
    Choice(ChoiceState),
    Wait(WaitState),
    Parallel(ParallelState),
    // Boxed: a Map holds a processor and a Task's fields, several times any other state.
    Map(Box<MapState>),
    Succeed(SucceedState),
    Fail(FailState),
}

impl State {
    pub fn type_name(&self) -> &'static str {
        match self {
            State::Task(_) => "Task",
            State::Pass(_) => "Pass",
            State::Choice(_) => "Choice",
            State::Wait(_) => "Wait",
            State::Parallel(_) => "Parallel",
            State::Map(_) => "Map",
            State::Succeed(_) => "Succeed",
            State::Fail(_) => "Fail",
        }
    }
}

/// `InputPath` / `OutputPath`: absent means `$`, `null` means `{}`;
/// `ResultPath`: absent means `$`, `null` means the result is dropped.
/// Absent is `None`, and `null` is `Some(Value::Null)` (see [`present`]).
pub type IoPath = Option<Value>;

/// A field that is there, `null` included: serde reads a present `null`
/// into `Option<Value>` as `None`, which would make `"ResultPath": null`
/// the same as no ResultPath at all.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<IoPath, D::Error> {
    Value::deserialize(d).map(Some)
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct TaskState {
    #[serde(default)]
    pub comment: Option<String>,
    pub resource: String,
    #[serde(flatten)]
    pub work: Work,
}

/// What a Task and a Parallel share: the input they pass on, what becomes of
/// the result, Retry, Catch and where to go next. (Flattened, so a field
/// neither the state nor this knows is refused as `unknown field`.)
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Work {
    #[serde(default, deserialize_with = "present")]
    pub input_path: IoPath,
    #[serde(default)]
    pub parameters: Option<Value>,
    #[serde(default)]
    pub result_selector: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub result_path: IoPath,
    #[serde(default, deserialize_with = "present")]
    pub output_path: IoPath,
    #[serde(default)]
    pub retry: Vec<Retrier>,
    #[serde(default)]
    pub catch: Vec<Catcher>,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub end: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct PassState {
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub input_path: IoPath,
    #[serde(default)]
    pub parameters: Option<Value>,
    #[serde(default)]
    pub result: Option<Value>,
    #[serde(default, deserialize_with = "present")]
    pub result_path: IoPath,
    #[serde(default, deserialize_with = "present")]
    pub output_path: IoPath,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub end: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ChoiceState {
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub input_path: IoPath,
    #[serde(default, deserialize_with = "present")]
    pub output_path: IoPath,
    pub choices: Vec<ChoiceRule>,
    #[serde(default)]
    pub default: Option<String>,
}

/// A choice rule: a comparison on `Variable`, or `And`/`Or`/`Not` of rules.
/// Only top-level rules carry `Next`.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ChoiceRule {
    #[serde(default)]
    pub variable: Option<String>,
    #[serde(default)]
    pub boolean_equals: Option<bool>,
    #[serde(default)]
    pub string_equals: Option<String>,
    #[serde(default)]
    pub numeric_equals: Option<f64>,
    #[serde(default)]
    pub numeric_less_than: Option<f64>,
    #[serde(default)]
    pub numeric_greater_than_equals: Option<f64>,
    #[serde(default)]
    pub numeric_greater_than_equals_path: Option<String>,
    #[serde(default)]
    pub is_present: Option<bool>,
    #[serde(default)]
    pub and: Option<Vec<ChoiceRule>>,
    #[serde(default)]
    pub or: Option<Vec<ChoiceRule>>,
    #[serde(default)]
    pub not: Option<Box<ChoiceRule>>,
    #[serde(default)]
    pub next: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct WaitState {
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub input_path: IoPath,
    #[serde(default, deserialize_with = "present")]
    pub output_path: IoPath,
    #[serde(default)]
    pub seconds: Option<u64>,
    #[serde(default)]
    pub seconds_path: Option<String>,
    #[serde(default)]
    pub next: Option<String>,
    #[serde(default)]
    pub end: Option<bool>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ParallelState {
    #[serde(default)]
    pub comment: Option<String>,
    pub branches: Vec<StateMachine>,
    #[serde(flatten)]
    pub work: Work,
}

/// A Map state (JSONPath): its items from `ItemsPath`, each iteration's
/// input from `ItemSelector`, run by `ItemProcessor`. No `ItemReader`,
/// `ItemBatcher` or `ResultWriter`: refused on load.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct MapState {
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub items_path: Option<String>,
    #[serde(default)]
    pub item_selector: Option<Value>,
    #[serde(default)]
    pub max_concurrency: Option<u64>,
    #[serde(default)]
    pub max_concurrency_path: Option<String>,
    pub item_processor: ItemProcessor,
    #[serde(flatten)]
    pub work: Work,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ItemProcessor {
    #[serde(default)]
    pub processor_config: ProcessorConfig,
    pub start_at: String,
    pub states: IndexMap<String, State>,
}

impl ItemProcessor {
    pub fn machine(&self) -> StateMachine {
        StateMachine {
            comment: None,
            start_at: self.start_at.clone(),
            states: self.states.clone(),
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct ProcessorConfig {
    /// `INLINE` (the default) or `DISTRIBUTED`.
    #[serde(default)]
    pub mode: MapMode,
    /// `STANDARD` or `EXPRESS` (Distributed mode only).
    #[serde(default)]
    pub execution_type: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum MapMode {
    #[default]
    Inline,
    Distributed,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct SucceedState {
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default, deserialize_with = "present")]
    pub input_path: IoPath,
    #[serde(default, deserialize_with = "present")]
    pub output_path: IoPath,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct FailState {
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub error_path: Option<String>,
    #[serde(default)]
    pub cause: Option<String>,
    #[serde(default)]
    pub cause_path: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Retrier {
    pub error_equals: Vec<String>,
    #[serde(default = "one")]
    pub interval_seconds: f64,
    #[serde(default = "three")]
    pub max_attempts: u32,
    #[serde(default = "two")]
    pub backoff_rate: f64,
    #[serde(default)]
    pub max_delay_seconds: Option<f64>,
}

fn one() -> f64 {
    1.0
}
fn two() -> f64 {
    2.0
}
fn three() -> u32 {
    3
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct Catcher {
    pub error_equals: Vec<String>,
    pub next: String,
    #[serde(default, deserialize_with = "present")]
    pub result_path: IoPath,
}
