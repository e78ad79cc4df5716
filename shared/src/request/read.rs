//! Reading each kind of execution-input value, with refusals that name the
//! field and say what it accepts.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Map, Value};

use crate::config::parse_day;
use crate::error::StepError;
use crate::period::Frequency;

pub(super) fn kind(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(b) => format!("the boolean {b}"),
        Value::Number(n) => format!("the number {n}"),
        Value::String(s) => format!("the string {}", Value::String(s.clone())),
        Value::Array(_) => "an array".into(),
        Value::Object(_) => "an object".into(),
    }
}

pub(super) fn boolean(name: &str, v: &Value) -> Result<bool, StepError> {
    v.as_bool()
        .ok_or_else(|| StepError::invalid(name, format!("must be true or false, got {}", kind(v))))
}

pub(super) fn frequency(v: &Value) -> Result<Frequency, StepError> {
    v.as_str().and_then(Frequency::parse).ok_or_else(|| {
        StepError::invalid(
            "frequency",
            format!("must be {}, got {}", Frequency::ALLOWED, kind(v)),
        )
    })
}

pub(super) fn range(v: &Value) -> Result<(NaiveDate, NaiveDate), StepError> {
    let shape = "must be an object {\"start\": \"YYYY-MM-DD\", \"end\": \"YYYY-MM-DD\"}";
    let Value::Object(fields) = v else {
        return Err(StepError::invalid(
            "dateRange",
            format!("{shape}, got {}", kind(v)),
        ));
    };
    if let Some(other) = fields
        .keys()
        .find(|k| !matches!(k.as_str(), "start" | "end"))
    {
        return Err(StepError::invalid(
            format!("dateRange.{other}"),
            "is not a known field; dateRange has only start and end",
        ));
    }
    Ok((date(fields, "start", shape)?, date(fields, "end", shape)?))
}

fn date(fields: &Map<String, Value>, name: &str, shape: &str) -> Result<NaiveDate, StepError> {
    let field = format!("dateRange.{name}");
    let v = fields
        .get(name)
        .ok_or_else(|| StepError::invalid(&field, format!("is missing: dateRange {shape}")))?;
    let text = v.as_str().ok_or_else(|| {
        StepError::invalid(
            &field,
            format!("must be a date string \"YYYY-MM-DD\", got {}", kind(v)),
        )
    })?;
    // parse_day also takes YYYY/MM/DD; the input format is the ISO one only.
    let day = (text.as_bytes().get(4) == Some(&b'-'))
        .then(|| parse_day(text))
        .flatten();
    day.ok_or_else(|| {
        StepError::invalid(
            &field,
            format!(
                "must be a real calendar date as \"YYYY-MM-DD\", got {}",
                kind(v)
            ),
        )
    })
}

pub(super) fn now(v: &Value) -> Result<DateTime<Utc>, StepError> {
    v.as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| {
            StepError::invalid(
                "now",
                format!(
                    "must be an RFC 3339 instant like \"2024-02-01T06:00:00Z\", got {}",
                    kind(v)
                ),
            )
        })
}

/// The console's `Comment`: any string.
pub(super) fn string(name: &str, v: &Value) -> Result<(), StepError> {
    if v.is_string() {
        Ok(())
    } else {
        Err(StepError::invalid(
            name,
            format!("must be a string, got {}", kind(v)),
        ))
    }
}
