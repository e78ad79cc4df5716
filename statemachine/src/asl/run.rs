//! Running a loaded definition: the states' input/output processing,
//! Retry and Catch, and the history.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::history::{Event, History};
use super::model::{Catcher, IoPath, MapMode, MapState, Retrier, State, StateMachine, Work};
use super::path::Path;
use super::{AslError, choice, template};

/// Runs a Task's resource, as Lambda runs a function. Shared by the
/// iterations of a Map state, which may run at once.
pub trait Tasks: Sync {
    fn invoke(&self, resource: &str, input: Value) -> Result<Value, AslError>;
}

/// Waits (Wait states and retry delays). Tests pass one that only records.
pub trait Sleeper: Sync {
    fn sleep(&self, seconds: f64);
}

/// Really waits.
pub struct RealSleep;

impl Sleeper for RealSleep {
    fn sleep(&self, seconds: f64) {
        std::thread::sleep(std::time::Duration::from_secs_f64(seconds.max(0.0)));
    }
}

/// How an execution ended.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Succeeded { output: Value },
    Failed { state: String, error: AslError },
}

/// Step Functions stops an execution after 25,000 history events; a
/// definition looping forever stops here instead.
const MAX_TRANSITIONS: usize = 25_000;

pub struct Executor<'a> {
    tasks: &'a dyn Tasks,
    sleeper: &'a dyn Sleeper,
    pub history: RefCell<History<'a>>,
    transitions: RefCell<usize>,
    /// Set while redriving: where each scope resumes.
    resume: RefCell<Resume>,
}

/// Where a redrive resumes, read from the failed attempt's history as AWS
/// reads it ("Redrive behavior of individual states", Step Functions
/// developer guide): a state entered without a matching `*StateExited` is
/// unsuccessful and runs again with the input it was entered with; states
/// that exited are not run again; of a Parallel state only the branches that
/// did not succeed run again (RedriveExecution API reference: "reschedules
/// and redrives only the iterations and branches that failed or aborted"),
/// each from its own unsuccessful state. A Fail state that was entered is
/// entered again, and fails again.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Resume {
    /// `$$.Execution.RedriveCount` of the redrive: one more than the
    /// history's `ExecutionRedriven` events.
    pub redrive_count: u32,
    /// Scope (`""`, or a branch's `Cleanup[1]/`) -> the unsuccessful state
    /// and its input.
    pub unsuccessful: HashMap<String, (String, Value)>,
    /// Branch scope -> the output of a branch that succeeded.
    pub succeeded_branches: HashMap<String, Value>,
}

impl Resume {
    /// Reads the history of a failed (or aborted) attempt.
    pub fn from_history(events: &[Event]) -> Result<Self, String> {
        let mut open: HashMap<String, (String, Value)> = HashMap::new();
        let mut last_exit: HashMap<String, Value> = HashMap::new();
        let split = |label: &str| match label.rfind('/') {
            Some(i) => (label[..=i].to_string(), label[i + 1..].to_string()),
            None => (String::new(), label.to_string()),
        };
        for e in events {
            let Some(label) = e.state.as_deref() else {
                continue;
            };
            let (scope, name) = split(label);
            if e.kind.ends_with("StateEntered") {
                open.insert(scope, (name, e.details["input"].clone()));
            } else if e.kind.ends_with("StateExited") {
                if open.get(&scope).is_some_and(|(n, _)| *n == name) {
                    open.remove(&scope);
                }
                last_exit.insert(scope, e.details["output"].clone());
            }
        }
        if !open.contains_key("") {
            return Err(
                "the history has no unsuccessful state at the top level: the execution did not \
                 fail, or the history is not a whole execution's"
                    .into(),
            );
        }
        // A branch that finished: its scope exited last and has nothing open.
        let succeeded_branches = last_exit
            .into_iter()
            .filter(|(scope, _)| !scope.is_empty() && !open.contains_key(scope))
            .collect();
        let redrive_count = 1 + events
            .iter()
            .filter(|e| e.kind == "ExecutionRedriven")
            .count() as u32;
        Ok(Self {
            redrive_count,
            unsuccessful: open,
            succeeded_branches,
        })
    }

    /// What resumes inside `scope` (and the scopes within it), taken out.
    fn take_scope(&mut self, scope: &str) -> Resume {
        fn take<V>(map: &mut HashMap<String, V>, scope: &str) -> HashMap<String, V> {
            let keys: Vec<String> = map
                .keys()
                .filter(|k| k.starts_with(scope))
                .cloned()
                .collect();
            keys.into_iter()
                .filter_map(|k| map.remove(&k).map(|v| (k, v)))
                .collect()
        }
        Resume {
            redrive_count: self.redrive_count,
            unsuccessful: take(&mut self.unsuccessful, scope),
            succeeded_branches: take(&mut self.succeeded_branches, scope),
        }
    }

    /// Puts back what [`Resume::take_scope`] took.
    fn absorb(&mut self, other: Resume) {
        self.unsuccessful.extend(other.unsuccessful);
        self.succeeded_branches.extend(other.succeeded_branches);
    }
}

/// A Map state's iteration still to run: its item's index, its scope in
/// the history, its input, and where a redrive resumes it.
struct Iteration {
    index: usize,
    scope: String,
    input: Value,
    resume: Resume,
}

/// A failure on its way out of a state machine (or branch).
struct Failure {
    state: String,
    error: AslError,
}

enum Flow {
    Next(String, Value),
    End(Value),
}

impl<'a> Executor<'a> {
    pub fn new(tasks: &'a dyn Tasks, sleeper: &'a dyn Sleeper, history: History<'a>) -> Self {
        Self {
            tasks,
            sleeper,
            history: RefCell::new(history),
            transitions: RefCell::new(0),
            resume: RefCell::new(Resume::default()),
        }
    }

    /// Redrives a failed execution of `machine`: the same input and start
    /// time, `$$.Execution.RedriveCount` one more than before, and each
    /// scope resumed where `resume` says.
    pub fn redrive(
        &self,
        machine: &StateMachine,
        machine_name: &str,
        name: &str,
        start_time: DateTime<Utc>,
        input: Value,
        resume: Resume,
    ) -> Outcome {
        let redrive_count = resume.redrive_count;
        *self.resume.borrow_mut() = resume;
        self.record(
            "ExecutionRedriven",
            None,
            json!({"redriveCount": redrive_count}),
        );
        self.run_execution(
            machine,
            machine_name,
            name,
            start_time,
            input,
            redrive_count,
        )
    }

    /// Runs `machine` on `input` as execution `name` of state machine `machine_name`.
    pub fn execute(
        &self,
        machine: &StateMachine,
        machine_name: &str,
        name: &str,
        start_time: DateTime<Utc>,
        input: Value,
    ) -> Outcome {
        self.record(
            "ExecutionStarted",
            None,
            json!({"input": input, "name": name,
                   "startTime": start_time.to_rfc3339_opts(SecondsFormat::Millis, true)}),
        );
        self.run_execution(machine, machine_name, name, start_time, input, 0)
    }

    fn run_execution(
        &self,
        machine: &StateMachine,
        machine_name: &str,
        name: &str,
        start_time: DateTime<Utc>,
        input: Value,
        redrive_count: u32,
    ) -> Outcome {
        let context = json!({
            "Execution": {
                "Id": format!("local:{machine_name}:{name}"),
                "Name": name,
                "StartTime": start_time.to_rfc3339_opts(SecondsFormat::Millis, true),
                "Input": input.clone(),
                "RedriveCount": redrive_count,
            },
            "StateMachine": {"Id": format!("local:{machine_name}"), "Name": machine_name},
        });
        match self.run_machine(machine, input, &context, "") {
            Ok(output) => {
                self.record("ExecutionSucceeded", None, json!({"output": output}));
                Outcome::Succeeded { output }
            }
            Err(f) => {
                self.record(
                    "ExecutionFailed",
                    Some(&f.state),
                    json!({"error": f.error.error, "cause": f.error.cause}),
                );
                Outcome::Failed {
                    state: f.state,
                    error: f.error,
                }
            }
        }
    }

    fn record(&self, kind: &str, state: Option<&str>, details: Value) {
        self.history.borrow_mut().record(kind, state, details);
    }

    fn run_machine(
        &self,
        machine: &StateMachine,
        mut input: Value,
        context: &Value,
        scope: &str,
    ) -> Result<Value, Failure> {
        let mut name = machine.start_at.clone();
        // A redrive resumes this scope at its unsuccessful state.
        if let Some((state, saved)) = self.resume.borrow_mut().unsuccessful.remove(scope) {
            name = state;
            input = saved;
        }
        loop {
            {
                let mut t = self.transitions.borrow_mut();
                *t += 1;
                if *t > MAX_TRANSITIONS {
                    return Err(Failure {
                        state: name,
                        error: AslError::runtime(format!(
                            "more than {MAX_TRANSITIONS} state transitions; the definition loops"
                        )),
                    });
                }
            }
            let state = &machine.states[&name];
            let label = format!("{scope}{name}");
            let kind = state.type_name();
            self.record(
                &format!("{kind}StateEntered"),
                Some(&label),
                json!({"input": input}),
            );
            let mut ctx = context.clone();
            ctx["State"] = json!({
                "Name": name,
                "EnteredTime": Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
                "RetryCount": 0,
            });
            let flow = self
                .run_state(state, &label, input, &ctx)
                .map_err(|error| Failure {
                    state: label.clone(),
                    error,
                })?;
            match flow {
                Flow::Next(next, output) => {
                    self.record(
                        &format!("{kind}StateExited"),
                        Some(&label),
                        json!({"output": output}),
                    );
                    name = next;
                    input = output;
                }
                Flow::End(output) => {
                    self.record(
                        &format!("{kind}StateExited"),
                        Some(&label),
                        json!({"output": output}),
                    );
                    return Ok(output);
                }
            }
        }
    }

    fn run_state(
        &self,
        state: &State,
        label: &str,
        raw: Value,
        ctx: &Value,
    ) -> Result<Flow, AslError> {
        let flow = |next: &Option<String>, output: Value| match next {
            Some(n) => Flow::Next(n.clone(), output),
            None => Flow::End(output),
        };
        match state {
            State::Task(t) => self.run_work(label, &t.work, raw, ctx, |params| {
                self.record(
                    "TaskScheduled",
                    Some(label),
                    json!({"resource": t.resource, "parameters": params}),
                );
                let result = self.tasks.invoke(&t.resource, params.clone());
                match &result {
                    Ok(out) => self.record("TaskSucceeded", Some(label), json!({"output": out})),
                    Err(e) => self.record(
                        "TaskFailed",
                        Some(label),
                        json!({"error": e.error, "cause": e.cause}),
                    ),
                }
                result
            }),
            State::Parallel(p) => {
                // Branches run one after the other here (Step Functions runs
                // them concurrently); each gets the same input.
                self.run_work(label, &p.work, raw, ctx, |params| {
                    let mut results = Vec::new();
                    for (i, branch) in p.branches.iter().enumerate() {
                        let scope = format!("{label}[{i}]/");
                        // Redriven: a branch that succeeded keeps its output.
                        let done = self.resume.borrow_mut().succeeded_branches.remove(&scope);
                        if let Some(output) = done {
                            results.push(output);
                            continue;
                        }
                        match self.run_machine(branch, params.clone(), ctx, &scope) {
                            Ok(v) => results.push(v),
                            Err(f) => return Err(f.error),
                        }
                    }
                    Ok(Value::Array(results))
                })
            }
            State::Map(m) => self.run_work(label, &m.work, raw, ctx, |input| {
                self.run_map(m, label, input, ctx)
            }),
            State::Pass(p) => {
                let effective = io_path(&p.input_path, &raw, ctx)?;
                let result = match (&p.result, &p.parameters) {
                    (Some(r), _) => r.clone(),
                    (None, Some(t)) => template::evaluate(t, &effective, ctx)?,
                    (None, None) => effective,
                };
                let out = finish(&None, &p.result_path, &p.output_path, raw, result, ctx)?;
                Ok(flow(&p.next, out))
            }
            State::Choice(c) => {
                let effective = io_path(&c.input_path, &raw, ctx)?;
                let mut next = None;
                for rule in &c.choices {
                    if choice::matches(rule, &effective, ctx)? {
                        next = rule.next.clone();
                        break;
                    }
                }
                let next = next.or_else(|| c.default.clone()).ok_or_else(|| {
                    AslError::new(
                        "States.NoChoiceMatched",
                        format!("no rule of '{label}' matched and it has no Default"),
                    )
                })?;
                let out = io_path(&c.output_path, &effective, ctx)?;
                Ok(Flow::Next(next, out))
            }
            State::Wait(w) => {
                let effective = io_path(&w.input_path, &raw, ctx)?;
                let seconds = match (&w.seconds, &w.seconds_path) {
                    (Some(s), _) => *s as f64,
                    (None, Some(p)) => Path::parse(p)?
                        .read(&effective, ctx)
                        .and_then(Value::as_u64)
                        .ok_or_else(|| {
                            AslError::runtime(format!(
                                "SecondsPath '{p}' does not select a non-negative integer"
                            ))
                        })? as f64,
                    (None, None) => 0.0,
                };
                self.sleeper.sleep(seconds);
                let out = io_path(&w.output_path, &effective, ctx)?;
                Ok(flow(&w.next, out))
            }
            State::Succeed(s) => {
                let effective = io_path(&s.input_path, &raw, ctx)?;
                Ok(Flow::End(io_path(&s.output_path, &effective, ctx)?))
            }
            State::Fail(f) => {
                let text = |fixed: &Option<String>,
                            path: &Option<String>,
                            default: &str|
                 -> Result<String, AslError> {
                    Ok(match (fixed, path) {
                        (Some(t), _) => t.clone(),
                        (None, Some(p)) => match template::expression(p, &raw, ctx)? {
                            Value::String(s) => s,
                            other => other.to_string(),
                        },
                        (None, None) => default.to_string(),
                    })
                };
                let error = text(&f.error, &f.error_path, "States.Fail")?;
                let cause = text(&f.cause, &f.cause_path, "")?;
                Err(AslError::new(error, cause))
            }
        }
    }

    /// A Map state's iterations, up to `MaxConcurrency` (or the number
    /// `MaxConcurrencyPath` selects; 0 is no limit) at once on threads of
    /// their own, as Step Functions runs them, each with the events of its
    /// states recorded here as they happen. Each iteration's input is
    /// `ItemSelector` over the state's input, with `$$.Map.Item.Index` and
    /// `.Value` in the context, else the item itself; the result is the
    /// iterations' outputs in item order. Redriven, an iteration that
    /// succeeded keeps its output and one that failed resumes at its
    /// unsuccessful state ("reschedules and redrives only the iterations
    /// ... that failed or aborted", RedriveExecution; for a Distributed Map,
    /// "redrives all the unsuccessful child workflow executions in the Map
    /// Run", "Redriving Map Runs").
    ///
    /// A failed iteration fails an Inline Map with its own error. In
    /// Distributed mode it fails the Map Run, and with no
    /// `ToleratedFailurePercentage`/`Count` (none is tolerated) the state
    /// fails with `States.ExceedToleratedFailureThreshold` ("Tolerated
    /// failure threshold", Distributed Map); the cause here names the item.
    /// After a failure no further iteration starts; those running finish.
    fn run_map(
        &self,
        m: &MapState,
        label: &str,
        input: &Value,
        ctx: &Value,
    ) -> Result<Value, AslError> {
        let items = match &m.items_path {
            Some(p) => Path::parse(p)?.read(input, ctx).cloned(),
            None => Some(input.clone()),
        };
        let Some(Value::Array(items)) = items else {
            return Err(AslError::runtime(format!(
                "ItemsPath '{}' of '{label}' does not select an array",
                m.items_path.as_deref().unwrap_or("$")
            )));
        };
        let limit = match (&m.max_concurrency_path, m.max_concurrency) {
            (Some(p), _) => Path::parse(p)?
                .read(input, ctx)
                .and_then(Value::as_u64)
                .ok_or_else(|| {
                    AslError::runtime(format!(
                        "MaxConcurrencyPath '{p}' does not select a non-negative integer"
                    ))
                })?,
            (None, Some(n)) => n,
            (None, None) => 0,
        };
        let machine = m.item_processor.machine();
        let distributed = m.item_processor.processor_config.mode == MapMode::Distributed;
        let mut outputs: Vec<Option<Value>> = vec![None; items.len()];
        let mut pending = Vec::new();
        for (i, item) in items.into_iter().enumerate() {
            let scope = format!("{label}[{i}]/");
            let done = self.resume.borrow_mut().succeeded_branches.remove(&scope);
            if let Some(output) = done {
                outputs[i] = Some(output);
                continue;
            }
            let iteration = match &m.item_selector {
                Some(t) => {
                    let mut item_ctx = ctx.clone();
                    item_ctx["Map"] = json!({"Item": {"Index": i, "Value": item}});
                    template::evaluate(t, input, &item_ctx)?
                }
                None => item,
            };
            pending.push(Iteration {
                index: i,
                resume: self.resume.borrow_mut().take_scope(&scope),
                scope,
                input: iteration,
            });
        }
        let workers = match limit {
            0 => pending.len(),
            n => pending.len().min(usize::try_from(n).unwrap_or(usize::MAX)),
        };
        let failed = if workers <= 1 {
            self.iterate_in_turn(&machine, pending, ctx, &mut outputs)
        } else {
            self.iterate_at_once(&machine, &pending, ctx, workers, &mut outputs)
        };
        if let Some((i, f)) = failed {
            if !distributed {
                return Err(f.error);
            }
            return Err(AslError::new(
                "States.ExceedToleratedFailureThreshold",
                format!(
                    "item {i} of {label} failed in {}: {}: {}",
                    f.state, f.error.error, f.error.cause
                ),
            ));
        }
        Ok(Value::Array(outputs.into_iter().flatten().collect()))
    }

    /// Runs `pending` one after the other, up to the first failure.
    fn iterate_in_turn(
        &self,
        machine: &StateMachine,
        pending: Vec<Iteration>,
        ctx: &Value,
        outputs: &mut [Option<Value>],
    ) -> Option<(usize, Failure)> {
        for it in pending {
            self.resume.borrow_mut().absorb(it.resume);
            match self.run_machine(machine, it.input, ctx, &it.scope) {
                Ok(v) => outputs[it.index] = Some(v),
                Err(f) => return Some((it.index, f)),
            }
        }
        None
    }

    /// Runs `pending` on `workers` threads, each iteration by an executor of
    /// its own whose events are recorded here as they arrive; returns the
    /// failure of the lowest item that failed. Once one fails, no further
    /// iteration starts.
    fn iterate_at_once(
        &self,
        machine: &StateMachine,
        pending: &[Iteration],
        ctx: &Value,
        workers: usize,
        outputs: &mut [Option<Value>],
    ) -> Option<(usize, Failure)> {
        enum Message {
            Event(Event),
            Done(usize, Result<Value, Failure>),
        }
        let (tasks, sleeper) = (self.tasks, self.sleeper);
        let next = AtomicUsize::new(0);
        let stop = AtomicBool::new(false);
        let mut failed: Option<(usize, Failure)> = None;
        std::thread::scope(|threads| {
            let (tx, rx) = mpsc::channel::<Message>();
            for _ in 0..workers {
                let tx = tx.clone();
                let (next, stop) = (&next, &stop);
                threads.spawn(move || {
                    while !stop.load(Ordering::SeqCst) {
                        let Some(it) = pending.get(next.fetch_add(1, Ordering::SeqCst)) else {
                            break;
                        };
                        let events = tx.clone();
                        let forward = move |e: &Event| {
                            let _ = events.send(Message::Event(e.clone()));
                        };
                        let child = Executor::new(
                            tasks,
                            sleeper,
                            History::with_observer(Box::new(forward)),
                        );
                        *child.resume.borrow_mut() = it.resume.clone();
                        let result = child.run_machine(machine, it.input.clone(), ctx, &it.scope);
                        let _ = tx.send(Message::Done(it.index, result));
                    }
                });
            }
            drop(tx);
            for message in rx {
                match message {
                    Message::Event(e) => self.record(&e.kind, e.state.as_deref(), e.details),
                    Message::Done(i, Ok(v)) => outputs[i] = Some(v),
                    Message::Done(i, Err(f)) => {
                        stop.store(true, Ordering::SeqCst);
                        if failed.as_ref().is_none_or(|(j, _)| i < *j) {
                            failed = Some((i, f));
                        }
                    }
                }
            }
        });
        failed
    }

    /// A Task's or Parallel's work with its input/output processing: InputPath,
    /// Parameters, the work under Retry, then ResultSelector, ResultPath and
    /// OutputPath, or Catch.
    fn run_work(
        &self,
        label: &str,
        io: &Work,
        raw: Value,
        ctx: &Value,
        mut work: impl FnMut(&Value) -> Result<Value, AslError>,
    ) -> Result<Flow, AslError> {
        let effective = io_path(&io.input_path, &raw, ctx)?;
        let params = match &io.parameters {
            Some(t) => template::evaluate(t, &effective, ctx)?,
            None => effective,
        };
        match self.with_retry(label, &io.retry, || work(&params))? {
            Ok(result) => {
                let out = finish(
                    &io.result_selector,
                    &io.result_path,
                    &io.output_path,
                    raw,
                    result,
                    ctx,
                )?;
                Ok(match &io.next {
                    Some(n) => Flow::Next(n.clone(), out),
                    None => Flow::End(out),
                })
            }
            Err(e) => self.catch(label, &io.catch, raw, e),
        }
    }

    /// Runs `attempt` under `retriers`. The outer error is one that must end
    /// the execution (States.Runtime); the inner one may still be caught.
    fn with_retry(
        &self,
        label: &str,
        retriers: &[Retrier],
        mut attempt: impl FnMut() -> Result<Value, AslError>,
    ) -> Result<Result<Value, AslError>, AslError> {
        let mut counts = vec![0u32; retriers.len()];
        loop {
            match attempt() {
                Ok(v) => return Ok(Ok(v)),
                Err(e) if e.error == "States.Runtime" || e.error == "States.InvalidDefinition" => {
                    return Err(e);
                }
                Err(e) => {
                    let Some(i) = retriers
                        .iter()
                        .position(|r| error_matches(&r.error_equals, &e.error))
                    else {
                        return Ok(Err(e));
                    };
                    let r = &retriers[i];
                    if counts[i] >= r.max_attempts {
                        return Ok(Err(e));
                    }
                    let mut delay = r.interval_seconds * r.backoff_rate.powi(counts[i] as i32);
                    if let Some(max) = r.max_delay_seconds {
                        delay = delay.min(max);
                    }
                    counts[i] += 1;
                    self.record(
                        "RetryScheduled",
                        Some(label),
                        json!({"error": e.error, "attempt": counts[i], "maxAttempts": r.max_attempts,
                               "delaySeconds": delay}),
                    );
                    self.sleeper.sleep(delay);
                }
            }
        }
    }

    fn catch(
        &self,
        label: &str,
        catchers: &[Catcher],
        raw: Value,
        e: AslError,
    ) -> Result<Flow, AslError> {
        let Some(c) = catchers
            .iter()
            .find(|c| error_matches(&c.error_equals, &e.error))
        else {
            return Err(e);
        };
        self.record(
            "CatchMatched",
            Some(label),
            json!({"error": e.error, "cause": e.cause, "next": c.next}),
        );
        let error_output = json!({"Error": e.error, "Cause": e.cause});
        let out = result_path(&c.result_path, raw, error_output)?;
        Ok(Flow::Next(c.next.clone(), out))
    }
}

/// Does an `ErrorEquals` list match `error`? `States.ALL` matches any error;
/// `States.TaskFailed` any error but the executor's own `States.*` ones.
fn error_matches(names: &[String], error: &str) -> bool {
    names.iter().any(|n| {
        n == error
            || n == "States.ALL"
            || (n == "States.TaskFailed" && !error.starts_with("States."))
    })
}

/// InputPath / OutputPath.
fn io_path(path: &IoPath, value: &Value, ctx: &Value) -> Result<Value, AslError> {
    match path {
        None => Ok(value.clone()),
        Some(Value::Null) => Ok(json!({})),
        Some(Value::String(p)) => Path::parse(p)?.read(value, ctx).cloned().ok_or_else(|| {
            AslError::runtime(format!(
                "the path '{p}' selects nothing in the state's data"
            ))
        }),
        Some(other) => Err(AslError::definition(format!(
            "a path must be a string or null, got {other}"
        ))),
    }
}

/// ResultPath: where the result goes in the state's raw input.
fn result_path(path: &IoPath, mut raw: Value, result: Value) -> Result<Value, AslError> {
    match path {
        None => Ok(result),
        Some(Value::Null) => Ok(raw),
        Some(Value::String(p)) => {
            Path::parse(p)?
                .write(&mut raw, result)
                .map_err(|why| AslError::runtime(format!("ResultPath '{p}': {why}")))?;
            Ok(raw)
        }
        Some(other) => Err(AslError::definition(format!(
            "ResultPath must be a string or null, got {other}"
        ))),
    }
}

/// ResultSelector, then ResultPath, then OutputPath.
fn finish(
    selector: &Option<Value>,
    result_path_: &IoPath,
    output_path: &IoPath,
    raw: Value,
    result: Value,
    ctx: &Value,
) -> Result<Value, AslError> {
    let result = match selector {
        Some(t) => template::evaluate(t, &result, ctx)?,
        None => result,
    };
    let merged = result_path(result_path_, raw, result)?;
    io_path(output_path, &merged, ctx)
}
