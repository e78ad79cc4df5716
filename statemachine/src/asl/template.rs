//! Payload templates (`Parameters`, `ResultSelector`): `"key.$"` fields take
//! a path or an intrinsic function; everything else is copied. The
//! intrinsics are the ones the definition uses: `States.Format`,
//! `States.MathAdd` and `States.StringToJson`.

use serde_json::{Map, Value};

use super::AslError;
use super::path::Path;

/// Evaluates a payload template against `input` and the context object.
pub fn evaluate(template: &Value, input: &Value, context: &Value) -> Result<Value, AslError> {
    match template {
        Value::Object(fields) => {
            let mut out = Map::new();
            for (key, v) in fields {
                if let Some(name) = key.strip_suffix(".$") {
                    let Value::String(expr) = v else {
                        return Err(AslError::runtime(format!(
                            "field '{key}' must hold a path or an intrinsic function, got {v}"
                        )));
                    };
                    out.insert(name.to_string(), expression(expr, input, context)?);
                } else {
                    out.insert(key.clone(), evaluate(v, input, context)?);
                }
            }
            Ok(Value::Object(out))
        }
        Value::Array(items) => items
            .iter()
            .map(|v| evaluate(v, input, context))
            .collect::<Result<Vec<_>, _>>()
            .map(Value::Array),
        other => Ok(other.clone()),
    }
}

/// A path (`$.a`, `$$.Execution.Name`) or an intrinsic call (`States.X(...)`).
pub fn expression(expr: &str, input: &Value, context: &Value) -> Result<Value, AslError> {
    if expr.starts_with("States.") {
        let mut p = Parser { s: expr, i: 0 };
        let call = p.call()?;
        p.skip_spaces();
        if p.i != expr.len() {
            return Err(AslError::definition(format!(
                "unexpected text after the call in '{expr}'"
            )));
        }
        call.eval(input, context)
    } else {
        let path = Path::parse(expr)?;
        path.read(input, context).cloned().ok_or_else(|| {
            AslError::runtime(format!(
                "the path '{expr}' selects nothing in the state's input"
            ))
        })
    }
}

#[derive(Debug)]
enum Arg {
    Str(String),
    Num(f64),
    Path(Path, String),
    Call(Call),
}

#[derive(Debug)]
struct Call {
    name: String,
    args: Vec<Arg>,
}

impl Arg {
    fn eval(&self, input: &Value, context: &Value) -> Result<Value, AslError> {
        match self {
            Arg::Str(s) => Ok(Value::String(s.clone())),
            Arg::Num(n) => Ok(number(*n)),
            Arg::Path(p, text) => p.read(input, context).cloned().ok_or_else(|| {
                AslError::runtime(format!(
                    "the path '{text}' selects nothing in the state's input"
                ))
            }),
            Arg::Call(c) => c.eval(input, context),
        }
    }
}

fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
    }
}

impl Call {
    fn eval(&self, input: &Value, context: &Value) -> Result<Value, AslError> {
        let args = self
            .args
            .iter()
            .map(|a| a.eval(input, context))
            .collect::<Result<Vec<_>, _>>()?;
        let wrong = |what: &str| AslError::runtime(format!("{}: {what}", self.name));
        match self.name.as_str() {
            "States.Format" => {
                let Some(Value::String(template)) = args.first() else {
                    return Err(wrong("the first argument must be a string"));
                };
                let mut values = args[1..].iter();
                let mut out = String::new();
                let mut rest = template.as_str();
                while let Some(at) = rest.find("{}") {
                    out.push_str(&rest[..at]);
                    let v = values
                        .next()
                        .ok_or_else(|| wrong("more {} than arguments"))?;
                    match v {
                        Value::String(s) => out.push_str(s),
                        other => out.push_str(&other.to_string()),
                    }
                    rest = &rest[at + 2..];
                }
                out.push_str(rest);
                if values.next().is_some() {
                    return Err(wrong("more arguments than {}"));
                }
                Ok(Value::String(out))
            }
            "States.MathAdd" => match args.as_slice() {
                [Value::Number(a), Value::Number(b)] => {
                    let (a, b) = (a.as_f64().unwrap_or(0.0), b.as_f64().unwrap_or(0.0));
                    Ok(number(a + b))
                }
                _ => Err(wrong("takes two numbers")),
            },
            "States.StringToJson" => match args.as_slice() {
                [Value::String(s)] => {
                    serde_json::from_str(s).map_err(|e| wrong(&format!("'{s}' is not JSON: {e}")))
                }
                _ => Err(wrong("takes one string")),
            },
            other => Err(AslError::definition(format!("intrinsic function {other}"))),
        }
    }
}

const SUPPORTED: [&str; 3] = ["States.Format", "States.MathAdd", "States.StringToJson"];

/// A recursive-descent reader of `States.Name(arg, ...)`.
struct Parser<'a> {
    s: &'a str,
    i: usize,
}

impl Parser<'_> {
    fn err(&self, why: &str) -> AslError {
        AslError::definition(format!(
            "intrinsic '{}': {why} at character {}",
            self.s, self.i
        ))
    }

    fn skip_spaces(&mut self) {
        while self.s[self.i..].starts_with(' ') {
            self.i += 1;
        }
    }

    fn call(&mut self) -> Result<Call, AslError> {
        let rest = &self.s[self.i..];
        let len = rest
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
            .unwrap_or(rest.len());
        let name = rest[..len].to_string();
        if !SUPPORTED.contains(&name.as_str()) {
            return Err(AslError::definition(format!(
                "intrinsic function {name} is not supported by s3la's executor \
                 (supported: {})",
                SUPPORTED.join(", ")
            )));
        }
        self.i += len;
        if !self.s[self.i..].starts_with('(') {
            return Err(self.err("expected '('"));
        }
        self.i += 1;
        let mut args = Vec::new();
        loop {
            self.skip_spaces();
            if self.s[self.i..].starts_with(')') {
                self.i += 1;
                break;
            }
            args.push(self.arg()?);
            self.skip_spaces();
            if self.s[self.i..].starts_with(',') {
                self.i += 1;
            } else if !self.s[self.i..].starts_with(')') {
                return Err(self.err("expected ',' or ')'"));
            }
        }
        Ok(Call { name, args })
    }

    fn arg(&mut self) -> Result<Arg, AslError> {
        let rest = &self.s[self.i..];
        if let Some(body) = rest.strip_prefix('\'') {
            let mut out = String::new();
            let mut chars = body.char_indices();
            while let Some((k, c)) = chars.next() {
                match c {
                    '\\' => {
                        let (_, e) = chars.next().ok_or_else(|| self.err("dangling escape"))?;
                        out.push(e);
                    }
                    '\'' => {
                        self.i += k + 2;
                        return Ok(Arg::Str(out));
                    }
                    c => out.push(c),
                }
            }
            Err(self.err("unclosed string"))
        } else if rest.starts_with('$') {
            let len = rest.find([',', ')', ' ']).unwrap_or(rest.len());
            let text = rest[..len].to_string();
            self.i += len;
            Ok(Arg::Path(Path::parse(&text)?, text))
        } else if rest.starts_with("States.") {
            Ok(Arg::Call(self.call()?))
        } else {
            let len = rest.find([',', ')', ' ']).unwrap_or(rest.len());
            let n = rest[..len]
                .parse::<f64>()
                .map_err(|_| self.err("expected a string, number, path or call"))?;
            self.i += len;
            Ok(Arg::Num(n))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn templates_and_intrinsics() {
        let input =
            json!({"polls": {"count": 2}, "error": {"Error": "E", "Cause": "it's {broken}"}});
        let ctx = json!({"Execution": {"Name": "run-1"}});
        let t = json!({
            "count.$": "States.MathAdd($.polls.count, 1)",
            "name.$": "$$.Execution.Name",
            "n.$": "States.StringToJson('10')",
            "msg.$": "States.Format('{} failed with {}: {}', 'Step', $.error.Error, $.error.Cause)",
            "fixed": {"nested": [1, "two"]}
        });
        assert_eq!(
            evaluate(&t, &input, &ctx).unwrap(),
            json!({"count": 3, "name": "run-1", "n": 10,
                   "msg": "Step failed with E: it's {broken}", "fixed": {"nested": [1, "two"]}})
        );
        assert_eq!(
            expression(
                r"States.Format('a \'quoted\' {}', $.polls.count)",
                &input,
                &ctx
            )
            .unwrap(),
            json!("a 'quoted' 2")
        );
    }

    #[test]
    fn errors_are_clear() {
        let input = json!({});
        let e = expression("$.missing", &input, &json!({})).unwrap_err();
        assert_eq!(e.error, "States.Runtime");
        let e = expression("States.ArrayLength($.a)", &input, &json!({})).unwrap_err();
        assert!(e.cause.contains("not supported"), "{}", e.cause);
        let e = expression("States.MathAdd(1, 'x')", &input, &json!({})).unwrap_err();
        assert!(e.cause.contains("takes two numbers"), "{}", e.cause);
    }
}
