//! The JSONPath subset ASL reference paths use: `$`, `$.a.b`, `$.a[0]`,
//! `$['a b']`, and `$$.` for the context object. Wildcards, filters and
//! slices are refused by name.

use serde_json::{Map, Value};

use super::AslError;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A parsed reference path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Path {
    /// `$$.`: reads the context object instead of the input.
    pub context: bool,
    pub segments: Vec<Segment>,
}

impl Path {
    pub fn parse(text: &str) -> Result<Self, AslError> {
        let bad = |why: &str| AslError::definition(format!("path '{text}': {why}"));
        let (context, rest) = if let Some(r) = text.strip_prefix("$$") {
            (true, r)
        } else if let Some(r) = text.strip_prefix('$') {
            (false, r)
        } else {
            return Err(bad("must start with $"));
        };
        let mut segments = Vec::new();
        let b = rest.as_bytes();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'.' => {
                    let start = i + 1;
                    let mut end = start;
                    while end < b.len() && !matches!(b[end], b'.' | b'[') {
                        end += 1;
                    }
                    let key = &rest[start..end];
                    if key.is_empty() || key.contains(['*', '?', '@', '(', ')']) {
                        return Err(bad(
                            "only plain field names are supported (no wildcards or filters)",
                        ));
                    }
                    segments.push(Segment::Key(key.to_string()));
                    i = end;
                }
                b'[' => {
                    let close = rest[i..]
                        .find(']')
                        .map(|c| i + c)
                        .ok_or_else(|| bad("unclosed '['"))?;
                    let inner = &rest[i + 1..close];
                    if let Some(quoted) =
                        inner.strip_prefix('\'').and_then(|s| s.strip_suffix('\''))
                    {
                        segments.push(Segment::Key(quoted.to_string()));
                    } else {
                        let n = inner
                            .parse::<usize>()
                            .map_err(|_| bad("only [N] and ['name'] are supported (no slices, wildcards or filters)"))?;
                        segments.push(Segment::Index(n));
                    }
                    i = close + 1;
                }
                _ => return Err(bad("expected '.' or '['")),
            }
        }
        Ok(Self { context, segments })
    }

    /// The value at this path, or `None` when a step is missing.
    pub fn read<'v>(&self, input: &'v Value, context: &'v Value) -> Option<&'v Value> {
        let mut v = if self.context { context } else { input };
        for s in &self.segments {
            v = match (s, v) {
                (Segment::Key(k), Value::Object(m)) => m.get(k)?,
                (Segment::Index(n), Value::Array(a)) => a.get(*n)?,
                _ => return None,
            };
        }
        Some(v)
    }

    /// Puts `value` at this path inside `target`, creating objects on the way
    /// (ResultPath semantics). `$` replaces the whole target.
    pub fn write(&self, target: &mut Value, value: Value) -> Result<(), String> {
        if self.context {
            return Err("a ResultPath cannot write into the context object ($$)".into());
        }
        let mut slot = target;
        for s in &self.segments {
            slot = match s {
                Segment::Key(k) => {
                    if slot.is_null() {
                        *slot = Value::Object(Map::new());
                    }
                    match slot {
                        Value::Object(m) => m.entry(k.clone()).or_insert(Value::Null),
                        other => {
                            return Err(format!(
                                "cannot set field '{k}' inside a {} value",
                                super::json_kind(other)
                            ));
                        }
                    }
                }
                Segment::Index(_) => return Err("a ResultPath cannot index into arrays".into()),
            };
        }
        *slot = value;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_and_writes() {
        let input = json!({"a": {"b": [10, {"c": "x"}]}, "d e": 1});
        let ctx = json!({"Execution": {"Name": "n"}});
        let read = |p: &str| Path::parse(p).unwrap().read(&input, &ctx).cloned();
        assert_eq!(read("$"), Some(input.clone()));
        assert_eq!(read("$.a.b[1].c"), Some(json!("x")));
        assert_eq!(read("$['d e']"), Some(json!(1)));
        assert_eq!(read("$.a.missing"), None);
        assert_eq!(read("$$.Execution.Name"), Some(json!("n")));

        let mut target = json!({"keep": 1});
        Path::parse("$.x.y")
            .unwrap()
            .write(&mut target, json!(2))
            .unwrap();
        assert_eq!(target, json!({"keep": 1, "x": {"y": 2}}));
        Path::parse("$")
            .unwrap()
            .write(&mut target, json!([1]))
            .unwrap();
        assert_eq!(target, json!([1]));
        let mut s = json!("text");
        assert!(Path::parse("$.x").unwrap().write(&mut s, json!(1)).is_err());
    }

    #[test]
    fn refuses_what_it_does_not_support() {
        for p in ["a.b", "$.a[*]", "$..a", "$.a[?(@.x)]", "$.a[1:2]", "$.a["] {
            assert!(Path::parse(p).is_err(), "{p}");
        }
    }
}
