//! Choice rules: the comparisons the definition uses, and And/Or/Not.

use serde_json::Value;

use super::AslError;
use super::model::ChoiceRule;
use super::path::Path;

/// Whether `rule` holds for `input`. A rule naming no comparison, or more
/// than one, is a definition error.
pub fn matches(rule: &ChoiceRule, input: &Value, context: &Value) -> Result<bool, AslError> {
    if let Some(all) = &rule.and {
        for r in all {
            if !matches(r, input, context)? {
                return Ok(false);
            }
        }
        return Ok(true);
    }
    if let Some(any) = &rule.or {
        for r in any {
            if matches(r, input, context)? {
                return Ok(true);
            }
        }
        return Ok(false);
    }
    if let Some(r) = &rule.not {
        return Ok(!matches(r, input, context)?);
    }
    let variable = rule
        .variable
        .as_deref()
        .ok_or_else(|| AslError::definition("a choice rule has no Variable, And, Or or Not"))?;
    let path = Path::parse(variable)?;
    let value = path.read(input, context);
    if let Some(want) = rule.is_present {
        return Ok(value.is_some() == want);
    }
    let value = value.ok_or_else(|| {
        AslError::runtime(format!(
            "choice Variable '{variable}' selects nothing in the input"
        ))
    })?;
    let number = || value.as_f64();
    let compared = [
        rule.boolean_equals.map(|b| value.as_bool() == Some(b)),
        rule.string_equals
            .as_ref()
            .map(|s| value.as_str() == Some(s.as_str())),
        rule.numeric_equals.map(|n| number() == Some(n)),
        rule.numeric_less_than
            .map(|n| number().is_some_and(|v| v < n)),
        rule.numeric_greater_than_equals
            .map(|n| number().is_some_and(|v| v >= n)),
        match &rule.numeric_greater_than_equals_path {
            Some(p) => {
                let other = Path::parse(p)?
                    .read(input, context)
                    .and_then(Value::as_f64)
                    .ok_or_else(|| {
                        AslError::runtime(format!("choice path '{p}' does not select a number"))
                    })?;
                Some(number().is_some_and(|v| v >= other))
            }
            None => None,
        },
    ];
    let mut given = compared.iter().flatten();
    match (given.next(), given.next()) {
        (Some(result), None) => Ok(*result),
        _ => Err(AslError::definition(format!(
            "the choice rule on '{variable}' must have exactly one comparison"
        ))),
    }
}
