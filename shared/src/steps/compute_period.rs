//! ComputePeriod: the execution input becomes a checked period and options.
//!
//! Input (the definition adds `execution` from the context object):
//! ```json
//! {"input": {"frequency": "weekly"},
//!  "execution": {"name": "3f1c...", "startTime": "2024-02-05T06:00:00Z"}}
//! ```
//! The period is computed as of `input.now`, else the execution's start time
//! (so a redrive days later computes the same period), else the clock.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{check_execution_name, from_input};
use crate::config::PeriodConfig;
use crate::error::StepError;
use crate::period::Period;
use crate::request::{ExecutionRequest, Options};

/// Who is running: names the run's staging data and its Athena request token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ExecutionContext {
    pub name: String,
    pub start_time: DateTime<Utc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Input {
    input: Value,
    #[serde(default)]
    execution: Option<ExecutionContext>,
}

/// The step's output, and the input of StartQuery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PeriodPlan {
    pub execution: ExecutionContext,
    /// The instant the period was computed for.
    pub as_of: DateTime<Utc>,
    pub options: Options,
    pub period: Period,
}

pub fn compute_period(
    input: Value,
    config: &PeriodConfig,
    clock: DateTime<Utc>,
) -> Result<PeriodPlan, StepError> {
    let Input { input, execution } = from_input(input).map_err(|e| match e {
        StepError::InvalidInput { field, message } => StepError::invalid(
            field,
            format!(
                "{message}; ComputePeriod takes {{\"input\": <execution input>, \"execution\": \
                 {{\"name\": ..., \"startTime\": ...}}}} (execution is optional)"
            ),
        ),
        e => e,
    })?;
    let request = ExecutionRequest::parse(&input)?;
    if request.options.remove_original_logs && !config.log_table.owned() {
        return Err(StepError::invalid(
            "removeOriginalLogs",
            format!(
                "this deployment reads the logs through a table it did not create \
                 (LOG_TABLE={}), whose files are its owner's: no log object is deleted; run \
                 without removeOriginalLogs",
                config.log_table.name()
            ),
        ));
    }
    let execution = match execution {
        Some(e) => {
            check_execution_name(&e.name)?;
            e
        }
        None => ExecutionContext {
            name: format!("manual-{}", clock.format("%Y%m%dT%H%M%SZ")),
            start_time: clock.trunc_subsecs(0),
        },
    };
    let as_of = request.now.unwrap_or(execution.start_time);
    let period = request.period(as_of, config)?;
    Ok(PeriodPlan {
        execution,
        as_of,
        options: request.options,
        period,
    })
}

/// An RFC 3339 rendering with seconds, for messages.
pub fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::athena_ddl::KeyLayout;
    use serde_json::json;

    fn config() -> PeriodConfig {
        PeriodConfig {
            layout: KeyLayout::Simple,
            max_range_days: 366,
            slack_days: 1,
            log_table: crate::athena_ddl::LogTable::Projected,
        }
    }
    fn clock() -> DateTime<Utc> {
        "2024-03-20T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn execution_start_time_fixes_the_period_for_redrives() {
        let out = compute_period(
            json!({"input": {"frequency": "monthly"},
                   "execution": {"name": "nightly-1", "startTime": "2024-02-01T06:00:00.123Z"}}),
            &config(),
            clock(),
        )
        .unwrap();
        assert_eq!(out.period.label, "2024-01");
        assert_eq!(instant(out.as_of), "2024-02-01T06:00:00Z");
        let v = serde_json::to_value(&out).unwrap();
        assert_eq!(v["execution"]["name"], "nightly-1");
        assert_eq!(v["options"]["selectAll"], false);
        let back: PeriodPlan = serde_json::from_value(v).unwrap();
        assert_eq!(back, out);
    }

    #[test]
    fn now_wins_over_start_time_and_clock_is_the_fallback() {
        let out = compute_period(
            json!({"input": {"frequency": "weekly", "now": "2024-01-10T00:00:00Z"},
                   "execution": {"name": "x", "startTime": "2024-02-01T06:00:00Z"}}),
            &config(),
            clock(),
        )
        .unwrap();
        assert_eq!(out.period.label, "2024-W01");
        let out = compute_period(json!({"input": {}}), &config(), clock()).unwrap();
        assert_eq!(out.period.label, "2024-02");
        assert_eq!(out.execution.name, "manual-20240320T120000Z");
    }

    #[test]
    fn refuses_bad_wrappers_and_names() {
        let cases = [
            (
                json!({"frequency": "weekly"}),
                "frequency: unknown field `frequency`, expected `input` or `execution`; ComputePeriod takes",
            ),
            (
                json!({"input": {}, "execution": {"name": "a'b", "startTime": "2024-02-01T00:00:00Z"}}),
                "execution.name: must be 1-80 letters",
            ),
            (
                json!({"input": {}, "execution": {"name": "a", "startTime": "soon"}}),
                "execution.startTime: ",
            ),
            (
                json!({"input": {"frequency": "hourly"}}),
                "frequency: must be",
            ),
        ];
        for (input, want) in cases {
            let e = compute_period(input.clone(), &config(), clock()).unwrap_err();
            assert_eq!(e.name(), "InvalidInput");
            assert!(e.to_string().starts_with(want), "{input}: {e}");
        }
    }

    #[test]
    fn removing_the_logs_of_a_table_it_did_not_make_is_refused_before_any_query() {
        let input = json!({"input": {"frequency": "monthly", "removeOriginalLogs": true}});
        assert!(compute_period(input.clone(), &config(), clock()).is_ok());
        let theirs = PeriodConfig {
            log_table: crate::athena_ddl::LogTable::S3Tables,
            ..config()
        };
        let e = compute_period(input, &theirs, clock()).unwrap_err();
        assert_eq!(e.name(), "InvalidInput", "{e}");
        let m = e.to_string();
        assert!(
            m.contains("removeOriginalLogs") && m.contains("LOG_TABLE=s3tables"),
            "{m}"
        );
    }
}
