//! What `s3la executions start` sends: the execution input, with the `now` it
//! was planned for, and a name derived from the period, so that starting the
//! same period with the same options twice is refused by Step Functions
//! instead of running twice.

use anyhow::bail;
use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};
use s3la_shared::athena_ddl::{KeyLayout, LogTable};
use s3la_shared::config::PeriodConfig;
use s3la_shared::error::StepError;
use s3la_shared::period::Period;
use s3la_shared::request::{ExecutionRequest, Options};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Every name starts with this, so ours stand out among scheduled executions.
pub const PREFIX: &str = "s3la-";

/// An execution ready to start.
#[derive(Debug, Clone, PartialEq)]
pub struct Planned {
    pub name: String,
    /// The execution input, `now` included.
    pub input: Value,
    pub period: Period,
    pub as_of: DateTime<Utc>,
}

/// The limits this side can check without the deployment's settings: the
/// deployed ComputePeriod applies its own MAX_RANGE_DAYS and PROJECTION_START
/// (a refusal there ends the execution in ComputePeriodFailed, naming the
/// setting). The label does not depend on the slack.
const CLI_LIMITS: PeriodConfig = PeriodConfig {
    layout: KeyLayout::Simple,
    max_range_days: 3660,
    slack_days: 0,
    log_table: LogTable::Projected,
};

/// Reads `input` with ComputePeriod's own parser, adds `now` when it has none
/// (ComputePeriod would otherwise use the execution's start time, which the
/// name cannot know in advance), and names the execution after the period.
/// `force` is the clock's Unix time when a second execution of the same
/// period and options is wanted.
pub fn plan(input: Value, now: DateTime<Utc>, force: Option<i64>) -> Result<Planned, StepError> {
    let mut request = ExecutionRequest::parse(&input)?;
    let now = now.trunc_subsecs(0);
    let as_of = *request.now.get_or_insert(now);
    let mut input = input;
    if let Value::Object(fields) = &mut input {
        fields
            .entry("now")
            .or_insert_with(|| json!(now.to_rfc3339_opts(SecondsFormat::Secs, true)));
    }
    let period = request.period(as_of, &CLI_LIMITS)?;
    let mut name = execution_name(&period.label, &request.options);
    if let Some(unix) = force {
        name.push_str(&format!("-r{unix}"));
    }
    Ok(Planned {
        name,
        input,
        period,
        as_of,
    })
}

/// `s3la-<label>`, plus a short hash of the options that are on, so that the
/// same period with other options is another execution. Only letters,
/// digits, `-` and `_`: valid for Step Functions (1-80 characters, no
/// whitespace, brackets, wildcards or punctuation) and for ComputePeriod,
/// which names staging folders after it.
pub fn execution_name(label: &str, options: &Options) -> String {
    let on = options_on(options);
    if on.is_empty() {
        format!("{PREFIX}{label}")
    } else {
        let digest = Sha256::digest(on.join(",").as_bytes());
        let hash: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
        format!("{PREFIX}{label}-{hash}")
    }
}

/// The input names of the options that are on, sorted: an option added later
/// leaves the names of existing combinations as they are.
fn options_on(options: &Options) -> Vec<String> {
    let Ok(Value::Object(fields)) = serde_json::to_value(options) else {
        return Vec::new();
    };
    let mut on: Vec<String> = fields
        .into_iter()
        .filter(|(_, v)| v.as_bool() == Some(true))
        .map(|(k, _)| k)
        .collect();
    on.sort();
    on
}

/// `arn:aws:states:REGION:ACCOUNT:stateMachine:NAME[:VERSION|ALIAS]`, checked
/// so that a typo is refused before any call.
pub fn check_state_machine_arn(arn: &str) -> anyhow::Result<()> {
    let parts: Vec<&str> = arn.split(':').collect();
    let ok = parts.len() >= 7
        && parts[0] == "arn"
        && parts[2] == "states"
        && parts[5] == "stateMachine"
        && !parts[6].is_empty();
    if !ok {
        bail!(
            "'{arn}' is not a state machine ARN (arn:aws:states:REGION:ACCOUNT:stateMachine:NAME)"
        );
    }
    Ok(())
}

/// The ARN of the standard execution `name` of a state machine (also when it
/// was started through a version or alias).
pub fn execution_arn(state_machine_arn: &str, name: &str) -> anyhow::Result<String> {
    check_state_machine_arn(state_machine_arn)?;
    let parts: Vec<&str> = state_machine_arn.split(':').collect();
    Ok(format!(
        "{}:execution:{}:{name}",
        parts[..5].join(":"),
        parts[6]
    ))
}

/// An execution given as an ARN, or as a name of the state machine's.
pub fn is_execution_arn(s: &str) -> bool {
    let parts: Vec<&str> = s.split(':').collect();
    parts.len() >= 8 && parts[0] == "arn" && parts[2] == "states" && parts[5] == "execution"
}

#[cfg(test)]
mod tests {
    use super::*;
    use s3la_shared::steps::check_execution_name;

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn planned(input: Value, now: &str) -> Planned {
        plan(input, at(now), None).unwrap()
    }

    #[test]
    fn names_follow_the_period_as_of_now() {
        let cases = [
            (
                json!({"frequency": "weekly"}),
                "2026-11-25T01:30:00Z",
                "s3la-2026-W47",
            ),
            (
                json!({"frequency": "monthly"}),
                "2026-11-25T01:30:00Z",
                "s3la-2026-10",
            ),
            (json!({}), "2026-11-25T01:30:00Z", "s3la-2026-10"),
            (
                json!({"frequency": "quarterly"}),
                "2026-11-25T01:30:00Z",
                "s3la-2026-Q3",
            ),
            (
                json!({"dateRange": {"start": "2026-10-01", "end": "2026-10-31"}}),
                "2026-11-25T01:30:00Z",
                "s3la-2026-10-01_2026-10-31",
            ),
            // ISO week-year across New Year.
            (
                json!({"frequency": "weekly"}),
                "2021-01-06T00:00:00Z",
                "s3la-2020-W53",
            ),
        ];
        for (input, now, name) in cases {
            let p = planned(input.clone(), now);
            assert_eq!(p.name, name, "{input} at {now}");
            check_execution_name(&p.name).unwrap();
        }
    }

    #[test]
    fn the_now_used_goes_into_the_input() {
        let p = planned(
            json!({"frequency": "weekly", "selectAll": true}),
            "2026-11-25T01:30:07.912Z",
        );
        assert_eq!(
            p.input,
            json!({"frequency": "weekly", "selectAll": true, "now": "2026-11-25T01:30:07Z"})
        );
        assert_eq!(p.period.label, "2026-W47");
        assert_eq!(p.as_of, at("2026-11-25T01:30:07Z"));
        // A given now wins, and the name follows it, not the clock.
        let p = planned(
            json!({"frequency": "monthly", "now": "2024-02-01T06:00:00Z"}),
            "2026-11-25T01:30:00Z",
        );
        assert_eq!(p.name, "s3la-2024-01");
        assert_eq!(p.input["now"], "2024-02-01T06:00:00Z");
    }

    #[test]
    fn options_change_the_name_and_only_options_do() {
        let now = "2026-11-25T01:30:00Z";
        let plain = planned(json!({"frequency": "weekly"}), now).name;
        let select = planned(json!({"frequency": "weekly", "selectAll": true}), now).name;
        let both = planned(
            json!({"frequency": "weekly", "email": true, "selectAll": true}),
            now,
        )
        .name;
        let both_reordered = planned(
            json!({"selectAll": true, "frequency": "weekly", "email": true}),
            now,
        )
        .name;
        let explicit_off = planned(json!({"frequency": "weekly", "selectAll": false}), now).name;
        assert_eq!(plain, "s3la-2026-W47");
        assert!(select.starts_with("s3la-2026-W47-") && select.len() == plain.len() + 9);
        assert_ne!(select, both);
        assert_eq!(both, both_reordered);
        assert_eq!(explicit_off, plain);
        // Stable across releases (people look executions up by name): the
        // first 4 bytes of SHA-256 of the sorted names of the options on.
        assert_eq!(select, "s3la-2026-W47-c2e90de0");
        assert_eq!(both, "s3la-2026-W47-0e9eab0b");
    }

    #[test]
    fn forced_names_are_unique_and_still_valid() {
        let every_option = json!({"dateRange": {"start": "2026-10-01", "end": "2026-10-31"},
            "selectAll": true, "excludeBucketOperations": true, "removeMeta": true,
            "removeOriginalLogs": true, "email": true, "verbose": true});
        let p = plan(
            every_option,
            at("2026-11-25T01:30:00Z"),
            Some(1_795_000_000),
        )
        .unwrap();
        assert!(p.name.starts_with("s3la-2026-10-01_2026-10-31-"));
        assert!(p.name.ends_with("-r1795000000"));
        assert!(p.name.len() <= 80);
        check_execution_name(&p.name).unwrap();
        assert!(
            p.name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }

    #[test]
    fn bad_input_is_refused_with_the_field_named() {
        let refused = |input: Value| {
            plan(input, at("2026-11-25T01:30:00Z"), None)
                .unwrap_err()
                .to_string()
        };
        assert!(refused(json!({"frequency": "daily"})).starts_with("frequency: must be"));
        assert!(refused(json!({"selectAl": true})).starts_with("selectAl: is not a known field"));
        assert!(refused(json!([])).starts_with("input: must be a JSON object"));
        assert!(refused(json!({"now": "today"})).starts_with("now: must be an RFC 3339"));
        assert!(
            refused(json!({"dateRange": {"start": "2026-11-20", "end": "2026-11-25"}}))
                .starts_with("dateRange.end: 2026-11-25 is not over yet at 2026-11-25T01:30:00Z")
        );
    }

    #[test]
    fn execution_arns_come_from_the_state_machine() {
        let sm = "arn:aws:states:eu-west-1:123456789012:stateMachine:S3LogsAnalyzer";
        assert_eq!(
            execution_arn(sm, "s3la-2026-W47").unwrap(),
            "arn:aws:states:eu-west-1:123456789012:execution:S3LogsAnalyzer:s3la-2026-W47"
        );
        assert_eq!(
            execution_arn(&format!("{sm}:live"), "x").unwrap(),
            "arn:aws:states:eu-west-1:123456789012:execution:S3LogsAnalyzer:x"
        );
        assert!(is_execution_arn(&execution_arn(sm, "x").unwrap()));
        assert!(!is_execution_arn("s3la-2026-W47"));
        assert!(!is_execution_arn(sm));
        let e = execution_arn("S3LogsAnalyzer", "x").unwrap_err();
        assert!(e.to_string().contains("is not a state machine ARN"), "{e}");
    }
}
