//! A local executor of the state-machine definition: it runs
//! `statemachine/definition/s3la.asl.json` as it is, with Task resources
//! resolved to the same step handlers the Lambdas run, and keeps an
//! execution history like the console's.
//!
//! It supports exactly what the definition uses (see [`model`]); anything
//! else is refused when the definition loads.

pub mod choice;
pub mod history;
pub mod model;
pub mod path;
pub mod run;
pub mod template;

use std::collections::BTreeMap;

use model::{State, StateMachine, Work};
use serde_json::Value;

/// An error while running: `error` is the name Retry/Catch match, `cause`
/// what a person reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AslError {
    pub error: String,
    pub cause: String,
}

impl AslError {
    pub fn new(error: impl Into<String>, cause: impl Into<String>) -> Self {
        Self {
            error: error.into(),
            cause: cause.into(),
        }
    }
    /// A data error at run time (a path that selects nothing, ...): like
    /// Step Functions, never retried or caught.
    pub fn runtime(cause: impl Into<String>) -> Self {
        Self::new("States.Runtime", cause)
    }
    /// Something in the definition this executor refuses.
    pub fn definition(cause: impl Into<String>) -> Self {
        Self::new("States.InvalidDefinition", cause)
    }
}

impl std::fmt::Display for AslError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.error, self.cause)
    }
}

impl std::error::Error for AslError {}

pub fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Replaces every `${Name}` in the definition's text; a placeholder without
/// a value, or a value nobody asked for, is an error.
pub fn substitute(text: &str, values: &BTreeMap<String, String>) -> Result<String, AslError> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut used = std::collections::BTreeSet::new();
    while let Some(at) = rest.find("${") {
        out.push_str(&rest[..at]);
        let end = rest[at..]
            .find('}')
            .ok_or_else(|| AslError::definition("an unclosed ${ in the definition"))?;
        let name = &rest[at + 2..at + end];
        let value = values.get(name).ok_or_else(|| {
            AslError::definition(format!("no value for the substitution ${{{name}}}"))
        })?;
        used.insert(name.to_string());
        out.push_str(value);
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    if let Some(unused) = values.keys().find(|k| !used.contains(*k)) {
        return Err(AslError::definition(format!(
            "the substitution {unused} is not used by the definition"
        )));
    }
    Ok(out)
}

/// Parses a definition and checks its structure: every transition names a
/// state, and each non-terminal state has exactly one of Next and End.
pub fn load(text: &str) -> Result<StateMachine, AslError> {
    let machine: StateMachine = serde_json::from_str(text).map_err(|e| {
        AslError::definition(format!(
            "the definition is not one s3la's executor runs: {e}"
        ))
    })?;
    check(&machine, "")?;
    Ok(machine)
}

fn check(m: &StateMachine, scope: &str) -> Result<(), AslError> {
    let target = |from: &str, to: &str| {
        if m.states.contains_key(to) {
            Ok(())
        } else {
            Err(AslError::definition(format!(
                "{scope}state '{from}' goes to '{to}', which does not exist"
            )))
        }
    };
    target("StartAt", &m.start_at)?;
    let flow = |name: &str, next: &Option<String>, end: &Option<bool>| match (next, end) {
        (Some(n), None) => target(name, n),
        (None, Some(true)) => Ok(()),
        _ => Err(AslError::definition(format!(
            "{scope}state '{name}' must have exactly one of Next and \"End\": true"
        ))),
    };
    // A Task's or Parallel's Next (or End) and its catchers' Next.
    let work = |name: &str, w: &Work| {
        flow(name, &w.next, &w.end)?;
        w.catch.iter().try_for_each(|c| target(name, &c.next))
    };
    for (name, state) in &m.states {
        match state {
            State::Task(t) => work(name, &t.work)?,
            State::Pass(p) => flow(name, &p.next, &p.end)?,
            State::Wait(w) => {
                flow(name, &w.next, &w.end)?;
                if w.seconds.is_some() == w.seconds_path.is_some() {
                    return Err(AslError::definition(format!(
                        "{scope}Wait state '{name}' needs exactly one of Seconds and SecondsPath"
                    )));
                }
            }
            State::Parallel(p) => {
                work(name, &p.work)?;
                for (i, b) in p.branches.iter().enumerate() {
                    check(b, &format!("{scope}{name} branch {i}: "))?;
                }
            }
            State::Map(map) => {
                work(name, &map.work)?;
                if map.work.parameters.is_some() {
                    return Err(AslError::definition(format!(
                        "{scope}Map state '{name}': use ItemSelector, not Parameters"
                    )));
                }
                if map.max_concurrency.is_some() && map.max_concurrency_path.is_some() {
                    return Err(AslError::definition(format!(
                        "{scope}Map state '{name}' has both MaxConcurrency and MaxConcurrencyPath"
                    )));
                }
                check(
                    &map.item_processor.machine(),
                    &format!("{scope}{name} ItemProcessor: "),
                )?;
            }
            State::Choice(c) => {
                for rule in &c.choices {
                    let next = rule.next.as_deref().ok_or_else(|| {
                        AslError::definition(format!(
                            "{scope}a rule of Choice '{name}' has no Next"
                        ))
                    })?;
                    target(name, next)?;
                }
                if let Some(d) = &c.default {
                    target(name, d)?;
                }
            }
            State::Succeed(_) | State::Fail(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn refused(definition: Value) -> String {
        load(&definition.to_string()).unwrap_err().cause
    }

    #[test]
    fn refuses_what_it_does_not_run() {
        let task = |extra: Value| {
            let mut t = json!({"Type": "Task", "Resource": "arn:x", "End": true});
            t.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            json!({"StartAt": "A", "States": {"A": t}})
        };
        let e = refused(task(json!({"TimeoutSeconds": 5})));
        assert!(e.contains("unknown field `TimeoutSeconds`"), "{e}");
        let e = refused(task(
            json!({"Retry": [{"ErrorEquals": ["X"], "JitterStrategy": "FULL"}]}),
        ));
        assert!(e.contains("unknown field `JitterStrategy`"), "{e}");
        // The fields Task and Parallel share (flattened) are known, and a
        // misspelt one is refused like any other.
        let e = refused(task(json!({"ResultPaht": "$.x"})));
        assert!(e.contains("unknown field `ResultPaht`"), "{e}");
        let parallel = json!({"Type": "Parallel", "Branches": [], "Catches": [], "End": true});
        let e = refused(json!({"StartAt": "A", "States": {"A": parallel}}));
        assert!(e.contains("unknown field `Catches`"), "{e}");
        let e = refused(json!({"StartAt": "A", "States": {"A": {"Type": "Map", "End": true}}}));
        assert!(e.contains("missing field `ItemProcessor`"), "{e}");
        let map = |extra: Value| {
            let mut m = json!({"Type": "Map", "End": true, "ItemProcessor":
                {"StartAt": "B", "States": {"B": {"Type": "Pass", "End": true}}}});
            m.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            json!({"StartAt": "A", "States": {"A": m}})
        };
        let reader = json!({"ItemReader": {"Resource": "arn:aws:states:::s3:getObject"}});
        let e = refused(map(reader));
        assert!(e.contains("unknown field `ItemReader`"), "{e}");
        let e = refused(map(json!({"Parameters": {}})));
        assert!(e.contains("use ItemSelector"), "{e}");
        let e = refused(map(
            json!({"ItemProcessor": {"StartAt": "C", "States": {}}}),
        ));
        assert!(
            e.contains("A ItemProcessor: state 'StartAt' goes to 'C'"),
            "{e}"
        );
        let e = refused(json!({"StartAt": "A", "States": {"A": {"Type": "Pass", "Next": "B"}}}));
        assert_eq!(e, "state 'A' goes to 'B', which does not exist");
        let e = refused(json!({"StartAt": "A", "States": {"A": {"Type": "Pass"}}}));
        assert!(e.contains("exactly one of Next"), "{e}");
        let e = refused(json!({"StartAt": "A", "QueryLanguage": "JSONata", "States": {}}));
        assert!(e.contains("unknown field `QueryLanguage`"), "{e}");
    }

    #[test]
    fn substitutions_must_match_exactly() {
        let values: BTreeMap<String, String> = [("A".to_string(), "1".to_string())].into();
        assert_eq!(substitute("x${A}y", &values).unwrap(), "x1y");
        assert!(
            substitute("${B}", &values)
                .unwrap_err()
                .cause
                .contains("${B}")
        );
        assert!(
            substitute("no placeholders", &values)
                .unwrap_err()
                .cause
                .contains("A is not used")
        );
    }

    #[test]
    fn the_definition_loads_with_local_substitutions() {
        let text = substitute(crate::DEFINITION, &crate::local::substitutions(1, 10)).unwrap();
        let m = load(&text).unwrap();
        assert_eq!(m.start_at, "ComputePeriod");
        for state in m.states.values() {
            if let State::Task(t) = state {
                let retried: Vec<_> = t
                    .work
                    .retry
                    .iter()
                    .flat_map(|r| r.error_equals.clone())
                    .collect();
                for name in [
                    "Lambda.ServiceException",
                    "Lambda.AWSLambdaException",
                    "Lambda.SdkClientException",
                    "Lambda.TooManyRequestsException",
                    "Transient",
                ] {
                    assert!(retried.iter().any(|r| r == name), "{name}");
                }
                assert!(
                    !retried
                        .iter()
                        .any(|r| r == "InvalidInput" || r == "States.ALL")
                );
                assert!(t.comment.is_some(), "every Task says what it does");
                assert!(
                    t.work.catch.is_empty(),
                    "a failure ends the execution at its Task, where a redrive resumes"
                );
            }
        }
    }
}
