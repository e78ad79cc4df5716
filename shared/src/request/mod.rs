//! The execution input a schedule or a person sends, read strictly: every
//! field is known, typed and checked, and each refusal names the field and
//! what it accepts.
//!
//! ```json
//! {"frequency": "weekly"}
//! {"dateRange": {"start": "2024-01-03", "end": "2024-01-17"}, "selectAll": true}
//! ```

pub mod docs;
pub mod fields;
mod read;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::athena_ddl::KeyLayout;
use crate::config::PeriodConfig;
use crate::error::StepError;
use crate::period::{Frequency, Period, inclusive_days};
use fields::{FieldValue, InputField};

/// The flags of the original tool (and one of ours), all false by default;
/// each is a [`FieldValue::Flag`] in [`fields::FIELDS`], which documents it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Options {
    /// Every column of the table, raw, instead of the typed report columns.
    #[serde(default)]
    pub select_all: bool,
    /// Leave out bucket-level operations (records whose key is `-`), as the
    /// original tool always did.
    #[serde(default)]
    pub exclude_bucket_operations: bool,
    /// Delete this query's Athena staging data, metadata and manifest.
    #[serde(default)]
    pub remove_meta: bool,
    /// Delete the period's own log objects once the outputs are verified.
    #[serde(default)]
    pub remove_original_logs: bool,
    /// Send the report by email.
    #[serde(default)]
    pub email: bool,
    /// Include more detail (such as the SQL) in step outputs.
    #[serde(default)]
    pub verbose: bool,
}

/// Which days: a schedule's frequency or a custom inclusive range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Selection {
    Frequency(Frequency),
    Range { start: NaiveDate, end: NaiveDate },
}

/// A parsed execution input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecutionRequest {
    pub selection: Selection,
    pub options: Options,
    /// Compute the period as of this instant instead of the execution's start.
    pub now: Option<DateTime<Utc>>,
}

impl ExecutionRequest {
    /// Reads an execution input. Types and formats are checked here; limits
    /// that depend on settings and on "now" are checked by [`Self::period`].
    pub fn parse(input: &Value) -> Result<Self, StepError> {
        let Value::Object(fields) = input else {
            return Err(StepError::invalid(
                "input",
                format!(
                    "must be a JSON object like {{\"frequency\": \"monthly\"}}, got {}",
                    read::kind(input)
                ),
            ));
        };
        let mut frequency = None;
        let mut range = None;
        let mut options = Options::default();
        let mut now = None;
        for (name, value) in fields {
            let field = InputField::named(name).ok_or_else(|| {
                StepError::invalid(
                    name,
                    format!(
                        "is not a known field; allowed fields: {}",
                        InputField::names()
                    ),
                )
            })?;
            match field.value {
                FieldValue::Frequency => frequency = Some(read::frequency(value)?),
                FieldValue::DateRange => range = Some(read::range(value)?),
                FieldValue::Flag(member) => *member(&mut options) = read::boolean(name, value)?,
                FieldValue::Instant => now = Some(read::now(value)?),
                FieldValue::Note => read::string(name, value)?,
            }
        }
        let selection = match (frequency, range) {
            (Some(_), Some(_)) => {
                return Err(StepError::invalid(
                    "frequency",
                    "cannot be combined with dateRange: give one of them (neither means monthly)",
                ));
            }
            (Some(f), None) => Selection::Frequency(f),
            (None, Some((start, end))) => Selection::Range { start, end },
            (None, None) => Selection::Frequency(Frequency::Monthly),
        };
        Ok(Self {
            selection,
            options,
            now,
        })
    }

    /// The period as of `now`, refused when it breaks a limit of `config`.
    pub fn period(&self, now: DateTime<Utc>, config: &PeriodConfig) -> Result<Period, StepError> {
        let period = match self.selection {
            Selection::Frequency(f) => Period::previous(f, now, config.slack_days),
            Selection::Range { start, end } => {
                if start > end {
                    return Err(StepError::invalid(
                        "dateRange",
                        format!("start {start} is after end {end}; the range includes both days"),
                    ));
                }
                let days = inclusive_days(start, end);
                if days > config.max_range_days {
                    return Err(StepError::invalid(
                        "dateRange",
                        format!(
                            "covers {days} days; at most {} are allowed (MAX_RANGE_DAYS)",
                            config.max_range_days
                        ),
                    ));
                }
                let period = Period::custom(start, end, config.slack_days);
                if period.window.end > now {
                    return Err(StepError::invalid(
                        "dateRange.end",
                        format!(
                            "{end} is not over yet at {}: a report on it would be incomplete; \
                             choose an end before {}",
                            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                            now.date_naive()
                        ),
                    ));
                }
                period
            }
        };
        if let KeyLayout::DateBased { projection_start } = config.layout
            && period.start < projection_start
        {
            let field = match self.selection {
                Selection::Range { .. } => "dateRange.start",
                Selection::Frequency(_) => "now",
            };
            return Err(StepError::invalid(
                field,
                format!(
                    "the period starts {start} before the table's first partition {projection_start} \
                     (PROJECTION_START): choose a later period, or, if the logs begin earlier, set \
                     PROJECTION_START to {start} or before (and the Athena table's projection with \
                     it: s3la ddl --projection-start)",
                    start = period.start
                ),
            ));
        }
        Ok(period)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::athena_ddl::LogTable;
    use serde_json::json;

    fn config() -> PeriodConfig {
        PeriodConfig {
            layout: KeyLayout::DateBased {
                projection_start: "2023-01-01".parse().unwrap(),
            },
            max_range_days: 366,
            slack_days: 1,
            log_table: LogTable::Projected,
        }
    }
    fn now() -> DateTime<Utc> {
        "2024-06-10T06:00:00Z".parse().unwrap()
    }
    fn refused(input: Value) -> String {
        let parsed = ExecutionRequest::parse(&input);
        let e = match parsed {
            Err(e) => e,
            Ok(r) => r
                .period(r.now.unwrap_or(now()), &config())
                .expect_err(&input.to_string()),
        };
        assert_eq!(e.name(), "InvalidInput", "{e}");
        e.to_string()
    }

    #[test]
    fn empty_input_means_monthly_with_all_flags_off() {
        let r = ExecutionRequest::parse(&json!({})).unwrap();
        assert_eq!(r.selection, Selection::Frequency(Frequency::Monthly));
        assert_eq!(r.options, Options::default());
        assert_eq!(r.period(now(), &config()).unwrap().label, "2024-05");
        let r = ExecutionRequest::parse(&json!({"Comment": "Insert your JSON here"})).unwrap();
        assert_eq!(r.selection, Selection::Frequency(Frequency::Monthly));
    }

    #[test]
    fn reads_every_field() {
        let r = ExecutionRequest::parse(&json!({
            "dateRange": {"start": "2024-01-03", "end": "2024-01-17"},
            "selectAll": true, "excludeBucketOperations": true, "removeMeta": true,
            "removeOriginalLogs": true, "email": true, "verbose": true,
            "now": "2024-02-01T06:00:00+02:00"
        }))
        .unwrap();
        assert_eq!(
            r.options,
            Options {
                select_all: true,
                exclude_bucket_operations: true,
                remove_meta: true,
                remove_original_logs: true,
                email: true,
                verbose: true
            }
        );
        assert_eq!(r.now.unwrap().to_rfc3339(), "2024-02-01T04:00:00+00:00");
        let p = r.period(r.now.unwrap(), &config()).unwrap();
        assert_eq!(p.label, "2024-01-03_2024-01-17");
    }

    #[test]
    fn every_bad_input_is_refused_naming_the_field() {
        let cases = [
            (json!([]), "input: must be a JSON object"),
            (
                json!({"frequncy": "weekly"}),
                "frequncy: is not a known field; allowed fields: frequency,",
            ),
            (
                json!({"frequency": "daily"}),
                r#"frequency: must be "weekly", "monthly" or "quarterly", got the string "daily""#,
            ),
            (json!({"frequency": "Weekly"}), "frequency: must be"),
            (json!({"frequency": 7}), "frequency: must be"),
            (
                json!({"selectAll": "true"}),
                r#"selectAll: must be true or false, got the string "true""#,
            ),
            (
                json!({"email": 1}),
                "email: must be true or false, got the number 1",
            ),
            (
                json!({"verbose": null}),
                "verbose: must be true or false, got null",
            ),
            (
                json!({"removeMeta": {}}),
                "removeMeta: must be true or false",
            ),
            (
                json!({"removeOriginalLogs": []}),
                "removeOriginalLogs: must be true or false",
            ),
            (
                json!({"excludeBucketOperations": "no"}),
                "excludeBucketOperations: must be true or false",
            ),
            (
                json!({"now": "yesterday"}),
                "now: must be an RFC 3339 instant",
            ),
            (
                json!({"now": "2024-02-01"}),
                "now: must be an RFC 3339 instant",
            ),
            (json!({"Comment": 3}), "Comment: must be a string"),
            (
                json!({"dateRange": "2024-01-01..2024-01-31"}),
                "dateRange: must be an object",
            ),
            (
                json!({"dateRange": {"start": "2024-01-01"}}),
                "dateRange.end: is missing",
            ),
            (
                json!({"dateRange": {"start": "2024-01-01", "end": "2024-01-31", "tz": "UTC"}}),
                "dateRange.tz: is not a known field",
            ),
            (
                json!({"dateRange": {"start": "2024-02-30", "end": "2024-03-01"}}),
                r#"dateRange.start: must be a real calendar date as "YYYY-MM-DD", got the string "2024-02-30""#,
            ),
            (
                json!({"dateRange": {"start": "2023-02-29", "end": "2023-03-01"}}),
                "dateRange.start: must be a real calendar date",
            ),
            (
                json!({"dateRange": {"start": "2024-1-5", "end": "2024-01-31"}}),
                "dateRange.start: must be a real calendar date",
            ),
            (
                json!({"dateRange": {"start": "2024/01/05", "end": "2024-01-31"}}),
                "dateRange.start: must be a real calendar date",
            ),
            (
                json!({"dateRange": {"start": "2024-01-01", "end": 20240131}}),
                "dateRange.end: must be a date string",
            ),
            (
                json!({"dateRange": {"start": "2024-01-31", "end": "2024-01-01"}}),
                "dateRange: start 2024-01-31 is after end 2024-01-01",
            ),
            (
                json!({"dateRange": {"start": "2023-01-01", "end": "2024-01-02"}}),
                "dateRange: covers 367 days; at most 366 are allowed (MAX_RANGE_DAYS)",
            ),
            (
                json!({"dateRange": {"start": "2022-12-31", "end": "2023-01-31"}}),
                "dateRange.start: the period starts 2022-12-31 before the table's first partition 2023-01-01 \
                 (PROJECTION_START): choose a later period, or, if the logs begin earlier, set \
                 PROJECTION_START to 2022-12-31 or before",
            ),
            (
                json!({"dateRange": {"start": "2024-06-01", "end": "2024-06-10"}}),
                "dateRange.end: 2024-06-10 is not over yet at 2024-06-10T06:00:00Z",
            ),
            (
                json!({"frequency": "monthly", "now": "2023-01-15T00:00:00Z"}),
                "now: the period starts 2022-12-01 before the table's first partition",
            ),
            (
                json!({"frequency": "weekly", "dateRange": {"start": "2024-01-01", "end": "2024-01-02"}}),
                "frequency: cannot be combined with dateRange",
            ),
        ];
        for (input, expected) in cases {
            let got = refused(input.clone());
            assert!(
                got.starts_with(expected),
                "{input}\n got: {got}\nwant: {expected}"
            );
        }
    }

    #[test]
    fn limits_hold_at_their_edges() {
        let ok = |start: &str, end: &str| {
            let r = ExecutionRequest::parse(&json!({"dateRange": {"start": start, "end": end}}))
                .unwrap();
            r.period(now(), &config())
        };
        assert_eq!(ok("2023-06-10", "2024-06-09").unwrap().days, 366);
        assert!(
            ok("2023-01-01", "2023-01-01").is_ok(),
            "projection start itself is fine"
        );
        assert!(ok("2024-06-09", "2024-06-09").is_ok(), "yesterday is over");
        let simple = PeriodConfig {
            layout: KeyLayout::Simple,
            ..config()
        };
        let r = ExecutionRequest::parse(
            &json!({"dateRange": {"start": "2019-01-01", "end": "2019-01-31"}}),
        )
        .unwrap();
        assert!(
            r.period(now(), &simple).is_ok(),
            "no projection, no lower bound"
        );
    }
}
