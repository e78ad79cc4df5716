//! RemoveOriginalLogs (`removeOriginalLogs`): deletes the log objects of the
//! period's own days — never the whole logs prefix (the original tool's
//! behaviour), never the late-delivery slack days after the period (they
//! hold the next period's requests too).
//!
//! In this order, and nothing is deleted unless every check passes:
//! 1. the logs location must not overlap the results, staging or Athena
//!    metadata prefixes, either way round (`UnsafeDeletion`);
//! 2. this run's Parquet and csv.gz must be the period's own outputs, exist,
//!    be readable, and hold the row count the merge reported (`UnsafeDeletion`);
//! 3. only keys whose day (from the key itself) lies in the period are deleted.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::cleanup::{Deleted, delete_all};
use super::from_input;
use super::merge_results::{MergeOutput, output_names};
use super::start_query::StartedQueryOutput;
use crate::athena_ddl::KeyLayout;
use crate::config::CleanupConfig;
use crate::error::StepError;
use crate::location::Location;
use crate::log_keys::log_day;
use crate::period::Period;
use crate::results::verify::{Unverified, csv_gz_records, parquet_rows};
use crate::storage::{ObjectMeta, ObjectStore, StorageError};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Input {
    period: Period,
    results: MergeOutput,
    /// The query's prefixes, also kept apart from the logs.
    #[serde(default)]
    query: Option<StartedQueryOutput>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveLogsOutput {
    #[serde(flatten)]
    pub deleted: Deleted,
    pub logs_location: String,
    /// The days whose log objects were deleted, inclusive.
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// The rows found in each output before deleting.
    pub verified_rows: VerifiedRows,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedRows {
    pub parquet: u64,
    pub csv_gz: u64,
}

fn unsafe_deletion(message: impl Into<String>) -> StepError {
    StepError::UnsafeDeletion {
        message: message.into(),
    }
}

fn parse(uri: &str, field: &str) -> Result<Location, StepError> {
    Location::parse(uri).map_err(|m| StepError::invalid(field, m))
}

pub async fn remove_original_logs<S: ObjectStore>(
    input: Value,
    config: &CleanupConfig,
    store: &S,
) -> Result<RemoveLogsOutput, StepError> {
    let input: Input = from_input(input)?;
    let period = &input.period;
    period.check()?;
    let logs_uri = config.logs_location.as_deref().ok_or_else(|| {
        StepError::config(
            "S3_LOGS_LOCATION",
            "is not set: log objects are deleted only under the logs table's location",
        )
    })?;
    let logs = parse(logs_uri, "S3_LOGS_LOCATION")?;

    // 1. Locations that must stay apart from the logs.
    let results_root = parse(&config.result_path, "RESULT_PATH")?;
    let mut apart = vec![("RESULT_PATH", results_root.clone())];
    if let Some(q) = &input.query {
        apart.push((
            "the staging prefix",
            parse(&q.staging_prefix, "query.stagingPrefix")?,
        ));
        apart.push((
            "the Athena output location",
            parse(&q.output_location, "query.outputLocation")?,
        ));
    }
    for (what, at) in &apart {
        if at.overlaps(&logs) {
            return Err(unsafe_deletion(format!(
                "{what} {at} and S3_LOGS_LOCATION {logs} overlap, so deleting logs could \
                 delete results (or the other way round); keep results under another prefix"
            )));
        }
    }

    // 2. The outputs the deletion depends on.
    let verified_rows = verify_outputs(store, &results_root, period, &input.results).await?;

    // 3. The period's own log objects.
    let objects = period_log_objects(store, &logs, config.layout, period).await?;
    let deleted = delete_all(store, &objects).await?;
    Ok(RemoveLogsOutput {
        deleted,
        logs_location: logs.to_string(),
        first_day: period.start,
        last_day: period.end,
        verified_rows,
    })
}

async fn verify_outputs<S: ObjectStore>(
    store: &S,
    results_root: &Location,
    period: &Period,
    results: &MergeOutput,
) -> Result<VerifiedRows, StepError> {
    let (parquet_name, csv_name) = output_names(&period.label);
    let folder = results_root.join(&period.label);
    let expected = [
        (
            "results.outputs.parquet",
            &results.outputs.parquet,
            folder.join(&parquet_name),
        ),
        (
            "results.outputs.csvGz",
            &results.outputs.csv_gz,
            folder.join(&csv_name),
        ),
    ];
    for (field, got, want) in &expected {
        if **got != want.to_string() {
            return Err(unsafe_deletion(format!(
                "{field} is {got}, not this period's output {want}"
            )));
        }
    }
    let check = |what: &str, found: Result<u64, Unverified>| match found {
        Ok(rows) if rows == results.rows => Ok(rows),
        Ok(rows) => Err(unsafe_deletion(format!(
            "the {what} holds {rows} rows, but the merge wrote {}",
            results.rows
        ))),
        // Nothing is deleted either way; a throttled or dropped read is
        // retried by the definition instead of failing the cleanup.
        Err(Unverified::Storage(e @ StorageError::Transient { .. })) => Err(e.into()),
        Err(why) => Err(unsafe_deletion(format!(
            "the {what} could not be verified: {why}"
        ))),
    };
    let parquet = check("Parquet file", parquet_rows(store, &expected[0].2).await)?;
    let csv_gz = check("csv.gz", csv_gz_records(store, &expected[1].2).await)?;
    Ok(VerifiedRows { parquet, csv_gz })
}

/// The log objects whose key puts them on one of the period's days. On S3
/// each day is listed by its own prefix; a local folder is listed whole (its
/// date folders may sit at any depth) and filtered the same way.
pub async fn period_log_objects<S: ObjectStore>(
    store: &S,
    logs: &Location,
    layout: KeyLayout,
    period: &Period,
) -> Result<Vec<ObjectMeta>, StepError> {
    let days: Vec<NaiveDate> = period
        .start
        .iter_days()
        .take(period.days as usize)
        .collect();
    let mut listed = Vec::new();
    match logs {
        Location::S3 { .. } => {
            for day in &days {
                let prefix = match layout {
                    KeyLayout::DateBased { .. } => day.format("%Y/%m/%d/").to_string(),
                    KeyLayout::Simple => day.format("%Y-%m-%d-").to_string(),
                };
                listed.extend(store.list(&logs.join(&prefix)).await?);
            }
        }
        Location::Local(_) => listed = store.list(logs).await?,
    }
    let logs_uri = logs.to_string();
    Ok(listed
        .into_iter()
        .filter(|o| {
            let uri = o.location.to_string();
            let key = uri.strip_prefix(&logs_uri).unwrap_or_default();
            log_day(key, layout).is_some_and(|d| period.start <= d && d <= period.end)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::{Throttled, block_on};
    use serde_json::json;

    #[test]
    fn a_throttled_verification_is_transient_and_deletes_nothing() {
        let config = CleanupConfig {
            result_path: "s3://res-bkt/s3la/".into(),
            logs_location: Some("s3://logs-bkt/AWSLogs/".into()),
            layout: KeyLayout::Simple,
        };
        let label = "2024-01-01_2024-01-02";
        let input = json!({
            "period": {"kind": "custom", "start": "2024-01-01", "end": "2024-01-02", "days": 2,
                       "label": label,
                       "window": {"start": "2024-01-01T00:00:00Z", "end": "2024-01-03T00:00:00Z"},
                       "partitions": {"first": "2024-01-01", "last": "2024-01-03"}},
            "results": {"outputs": {
                            "parquet": format!("s3://res-bkt/s3la/{label}/requests-{label}.parquet"),
                            "csvGz": format!("s3://res-bkt/s3la/{label}/requests-{label}.csv.gz")},
                        "rows": 5, "bytes": {"parquet": 1, "csvGz": 1}, "dataFiles": 1}
        });
        // Throttled panics if anything reaches delete.
        let e = block_on(remove_original_logs(input, &config, &Throttled)).unwrap_err();
        assert_eq!(e.name(), "Transient", "{e}");
    }
}
