//! RemoveOriginalLogs (`removeOriginalLogs`): deletes the log objects of the
//! period's own days whose every line is a record this run's outputs hold —
//! never the whole logs prefix (the original tool's behaviour), never an
//! object with a line in no output.
//!
//! In this order, and nothing is deleted unless every check passes:
//! 1. the logs location must not overlap the results, staging or Athena
//!    metadata prefixes, either way round (`UnsafeDeletion`);
//! 2. this run's Parquet and csv.gz must be the period's own outputs, exist,
//!    be readable, and hold the row count the merge reported (`UnsafeDeletion`);
//! 3. every log object the query read (the period's days and the
//!    late-delivery slack) is read again with the project's parser: the
//!    records they hold inside the period must be exactly the rows the
//!    outputs hold (`UnsafeDeletion` when not: the outputs are not the logs'
//!    records, whichever engine made them);
//! 4. of the objects on the period's own days, only those whose every line
//!    is a well-formed record inside the period (and not a bucket-level
//!    operation the run left out) are deleted. The others are kept and
//!    listed with the reason: malformed or unreadable lines, records of
//!    another period (late deliveries of the day before), excluded records.
//!
//! Before deleting, the objects and their record counts are written to
//! `RESULT_PATH/<label>/deleted-logs.json`: what was deleted stays on record,
//! and a retry after a partial deletion still accounts for the objects an
//! earlier attempt already deleted.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use super::cleanup::{Deleted, delete_all};
use super::merge_results::{MergeOutput, output_names};
use super::start_query::StartedQueryOutput;
use crate::athena_ddl::KeyLayout;
use crate::config::CleanupConfig;
use crate::error::StepError;
use crate::location::Location;
use crate::log_accounting::{ObjectAccount, RowFilter};
use crate::log_keys::log_day;
use crate::period::Period;
use crate::request::Options;
use crate::results::output_set::{Incomplete, OUTPUT_SET, OutputSet};
use crate::results::verify::{Unverified, csv_gz_records, parquet_rows};
use crate::storage::{ObjectMeta, ObjectStore, StorageError};

/// The record of what this step deletes, beside the period's outputs.
pub const LEDGER: &str = "deleted-logs.json";
/// Log objects read at once (each is one GET and one parse).
const CONCURRENT_READS: usize = 8;
/// Kept objects named in the step's output (the rest are counted).
const KEPT_LISTED: usize = 20;

/// The step's input, as [`super::catalog::Step::run`] reads it from JSON.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Input {
    period: Period,
    /// The run's options: which records the outputs hold depends on them.
    options: Options,
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
    /// The records the deleted objects held: all of them are in the outputs.
    pub deleted_records: u64,
    pub logs_location: String,
    /// The days whose log objects were candidates, inclusive.
    pub first_day: NaiveDate,
    pub last_day: NaiveDate,
    /// The rows found in each output before deleting.
    pub verified_rows: VerifiedRows,
    /// The period's log objects left in place because some of their lines
    /// are in no output of this run.
    pub kept_objects: u64,
    /// The first of them, each with the reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub kept: Vec<KeptObject>,
    /// Where the list of deleted objects and their record counts is kept.
    pub ledger: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeptObject {
    pub object: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifiedRows {
    pub parquet: u64,
    pub csv_gz: u64,
}

/// `deleted-logs.json`: the objects deleted (or about to be) for a period's
/// outputs of `rows` rows, with the records each held.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Ledger {
    label: String,
    rows: u64,
    /// Object URI -> records it held (all in the outputs).
    objects: BTreeMap<String, u64>,
    /// False while the deletion it lists is under way (or failed part-way):
    /// then only the listed objects that are gone were deleted.
    #[serde(default)]
    complete: bool,
}

impl Ledger {
    fn write_to<S: ObjectStore>(
        &self,
        store: &S,
        at: &Location,
    ) -> impl std::future::Future<Output = Result<(), StepError>> {
        let json = serde_json::to_vec_pretty(self);
        async move {
            let json = json.map_err(|e| StepError::Storage {
                message: format!("writing {at}: {e}"),
            })?;
            store.put(at, json.into()).await?;
            Ok(())
        }
    }
}

fn unsafe_deletion(message: impl Into<String>) -> StepError {
    StepError::UnsafeDeletion {
        message: message.into(),
    }
}

pub async fn remove_original_logs<S: ObjectStore>(
    input: Input,
    config: &CleanupConfig,
    store: &S,
) -> Result<RemoveLogsOutput, StepError> {
    let period = &input.period;
    period.check()?;
    if !config.log_table.owned() {
        return Err(unsafe_deletion(format!(
            "the logs are read through a table this deployment did not create \
             (LOG_TABLE={}): which objects its rows come from, and whether they may go, is \
             for the table's owner to say, so no log object is deleted; drop \
             remove_original_logs (RemoveOriginalLogs deletes only the logs of the table \
             s3la ddl or the stack creates)",
            config.log_table.name()
        )));
    }
    let logs = config.logs_location.clone().ok_or_else(|| {
        StepError::config(
            "S3_LOGS_LOCATION",
            "is not set: log objects are deleted only under the logs table's location",
        )
    })?;

    // 1. Locations that must stay apart from the logs.
    let results_root = config.result_path.clone();
    let mut apart = vec![("RESULT_PATH", results_root.clone())];
    if let Some(q) = &input.query {
        apart.push((
            "the staging prefix",
            Location::parse_field(&q.staging_prefix, "query.stagingPrefix")?,
        ));
        apart.push((
            "the Athena output location",
            Location::parse_field(&q.output_location, "query.outputLocation")?,
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
    let (verified_rows, verified_set) =
        verify_outputs(store, &results_root, period, &input.results).await?;

    // 3. Every object the query read, read again.
    let filter = RowFilter {
        window: period.window,
        exclude_bucket_operations: input.options.exclude_bucket_operations,
    };
    let read = query_log_objects(store, &logs, config.layout, period).await?;
    let accounts: Vec<(ObjectMeta, ObjectAccount)> = futures::stream::iter(read)
        .map(|o| async {
            let bytes = store.get(&o.location).await?;
            let account = ObjectAccount::of(&bytes, &filter);
            Ok::<_, StorageError>((o, account))
        })
        .buffered(CONCURRENT_READS)
        .try_collect()
        .await?;
    let ledger_at = results_root.join(&period.label).join(LEDGER);
    let earlier = earlier_ledger(store, &ledger_at, period, input.results.rows).await?;
    let listed: std::collections::HashSet<String> = accounts
        .iter()
        .map(|(o, _)| o.location.to_string())
        .collect();
    // Objects an earlier attempt deleted still count: their records are in
    // the outputs, and only this ledger remembers them.
    let already_deleted: BTreeMap<String, u64> = earlier
        .objects
        .into_iter()
        .filter(|(uri, _)| !listed.contains(uri))
        .collect();
    let in_logs: u64 = accounts.iter().map(|(_, a)| a.in_outputs).sum::<u64>()
        + already_deleted.values().sum::<u64>();
    if in_logs != input.results.rows {
        return Err(unsafe_deletion(format!(
            "the log objects the query read ({} of them, partitions {} to {} under {logs}) \
             hold {in_logs} records of the period, but the outputs hold {} rows, so the \
             outputs are not a complete copy of these logs (were logs added or removed since \
             the query ran, or did the engine read some lines differently?); run the period \
             again, then remove the logs",
            accounts.len(),
            period.partitions.first,
            period.partitions.last,
            input.results.rows
        )));
    }

    // 4. The period's own objects whose every line is in the outputs.
    let mut ledger = Ledger {
        label: period.label.clone(),
        rows: input.results.rows,
        objects: already_deleted,
        complete: false,
    };
    let (mut doomed, mut kept, mut kept_objects) = (Vec::new(), Vec::new(), 0u64);
    for (object, account) in accounts {
        let uri = object.location.to_string();
        let key = uri.strip_prefix(&logs.to_string()).unwrap_or_default();
        let own_day =
            log_day(key, config.layout).is_some_and(|d| period.start <= d && d <= period.end);
        if !own_day {
            continue;
        }
        match account.not_all_in_outputs() {
            None => {
                ledger.objects.insert(uri, account.in_outputs);
                doomed.push(object);
            }
            Some(reason) => {
                kept_objects += 1;
                if kept.len() < KEPT_LISTED {
                    kept.push(KeptObject {
                        object: uri,
                        reason,
                    });
                }
            }
        }
    }
    let deleted_records = doomed
        .iter()
        .map(|o| ledger.objects[&o.location.to_string()])
        .sum();
    // Recorded first, as pending: a MergeResults of this period that starts
    // from now on refuses to replace the outputs. One that started before
    // has deleted `_SUCCESS.json` by now, which the check below sees.
    ledger.write_to(store, &ledger_at).await?;
    let folder = results_root.join(&period.label);
    match OutputSet::read(store, &folder).await {
        Ok(set) if set == verified_set => {}
        Err(Incomplete::Storage(e @ StorageError::Transient { .. })) => return Err(e.into()),
        _ => {
            return Err(unsafe_deletion(format!(
                "the period's outputs under {folder} changed while the logs were being read \
                 (another run of {} is replacing them); run the removal again once it is done",
                period.label
            )));
        }
    }
    let deleted = delete_all(store, &doomed).await?;
    ledger.complete = true;
    ledger.write_to(store, &ledger_at).await?;
    Ok(RemoveLogsOutput {
        deleted,
        deleted_records,
        logs_location: logs.to_string(),
        first_day: period.start,
        last_day: period.end,
        verified_rows,
        kept_objects,
        kept,
        ledger: ledger_at.to_string(),
    })
}

/// What the ledger in a period's `folder` says was deleted: (objects,
/// records), or `None` when no log object of the period was deleted.
/// MergeResults reads it: once logs are deleted, the outputs hold the only
/// copy of their records, and a re-run would replace them with fewer.
pub async fn logs_deleted<S: ObjectStore>(
    store: &S,
    folder: &Location,
) -> Result<Option<(u64, u64)>, StepError> {
    let at = folder.join(LEDGER);
    match store.get(&at).await {
        Ok(bytes) => {
            let ledger: Ledger = serde_json::from_slice(&bytes).map_err(|e| {
                StepError::invalid(
                    "period",
                    format!("{at} (the record of deleted log objects) cannot be read: {e}"),
                )
            })?;
            let (mut objects, mut records) = (0, 0);
            for (uri, held) in &ledger.objects {
                // A pending ledger lists what was about to be deleted: of
                // those, only the objects that are gone were.
                let gone = match (ledger.complete, Location::parse(uri)) {
                    (true, _) => true,
                    (false, Ok(at)) => store.size(&at).await?.is_none(),
                    (false, Err(_)) => false,
                };
                if gone {
                    objects += 1;
                    records += held;
                }
            }
            Ok((objects > 0).then_some((objects, records)))
        }
        Err(StorageError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The ledger an earlier attempt for the same outputs wrote, if any.
async fn earlier_ledger<S: ObjectStore>(
    store: &S,
    at: &Location,
    period: &Period,
    rows: u64,
) -> Result<Ledger, StepError> {
    match store.get(at).await {
        Ok(bytes) => {
            let ledger: Ledger = serde_json::from_slice(&bytes).map_err(|e| {
                unsafe_deletion(format!(
                    "{at} (the record of log objects deleted for this period) cannot be read: \
                     {e}; restore it or move it away to start over"
                ))
            })?;
            // Another run's outputs (another row count) vouch for nothing here.
            Ok(if ledger.label == period.label && ledger.rows == rows {
                ledger
            } else {
                Ledger::default()
            })
        }
        Err(StorageError::NotFound { .. }) => Ok(Ledger::default()),
        Err(e) => Err(e.into()),
    }
}

async fn verify_outputs<S: ObjectStore>(
    store: &S,
    results_root: &Location,
    period: &Period,
    results: &MergeOutput,
) -> Result<(VerifiedRows, OutputSet), StepError> {
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
    // The files must be the whole set one run wrote, and that run this one.
    let set = match OutputSet::read(store, &folder).await {
        Ok(set) => set,
        Err(Incomplete::Storage(e @ StorageError::Transient { .. })) => return Err(e.into()),
        Err(why) => return Err(unsafe_deletion(why.to_string())),
    };
    if set.rows != results.rows {
        return Err(unsafe_deletion(format!(
            "the period's {OUTPUT_SET} says {} rows, but this run's merge wrote {}: another \
             run replaced the outputs since",
            set.rows, results.rows
        )));
    }
    Ok((VerifiedRows { parquet, csv_gz }, set))
}

/// The log objects the period's query read: those on its partition days
/// (the period and the late-delivery slack). On S3 each day is listed by its
/// own prefix; a local folder is listed whole (its date folders may sit at
/// any depth) and filtered the same way, and there the embedded engine also
/// reads files outside date folders, so they are counted too. Files the
/// engine skips are skipped: hidden ones locally, and on S3 those Athena
/// skips (names starting with `_` or `.`); they are never deleted.
pub async fn query_log_objects<S: ObjectStore>(
    store: &S,
    logs: &Location,
    layout: KeyLayout,
    period: &Period,
) -> Result<Vec<ObjectMeta>, StepError> {
    let (first, last) = (period.partitions.first, period.partitions.last);
    let logs_uri = logs.to_string();
    let day_of = |o: &ObjectMeta| {
        let uri = o.location.to_string();
        log_day(uri.strip_prefix(&logs_uri).unwrap_or_default(), layout)
    };
    let in_range = |d: Option<NaiveDate>| d.is_some_and(|d| first <= d && d <= last);
    match logs {
        Location::S3 { .. } => {
            let mut listed = Vec::new();
            for day in first.iter_days().take_while(|d| *d <= last) {
                let prefix = match layout {
                    KeyLayout::DateBased { .. } => day.format("%Y/%m/%d/").to_string(),
                    KeyLayout::Simple => day.format("%Y-%m-%d-").to_string(),
                };
                listed.extend(store.list(&logs.join(&prefix)).await?);
            }
            // Athena (Hive) skips files whose names start with `_` or `.`.
            let skipped = |o: &ObjectMeta| {
                let uri = o.location.to_string();
                let name = uri.rsplit('/').next().unwrap_or_default();
                name.starts_with('_') || name.starts_with('.')
            };
            Ok(listed
                .into_iter()
                .filter(|o| !skipped(o) && in_range(day_of(o)))
                .collect())
        }
        Location::Local(_) => {
            let hidden = |o: &ObjectMeta| {
                let uri = o.location.to_string();
                let key = uri.strip_prefix(&logs_uri).unwrap_or_default();
                key.split('/').any(|segment| segment.starts_with('.'))
            };
            Ok(store
                .list(logs)
                .await?
                .into_iter()
                .filter(|o| !hidden(o))
                .filter(|o| match day_of(o) {
                    day @ Some(_) => in_range(day),
                    None => true,
                })
                .collect())
        }
    }
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::athena_ddl::LogTable;
    use crate::steps::from_input;
    use crate::test_util::{Throttled, block_on, temp_location};
    use serde_json::json;

    #[test]
    fn a_pending_ledger_counts_only_the_objects_that_are_gone() {
        use crate::storage::local::LocalStore;
        let (dir, folder) = temp_location("2024-01");
        let (kept, gone) = (dir.path().join("a.log"), dir.path().join("b.log"));
        std::fs::write(&kept, "x").unwrap();
        let mut ledger = Ledger {
            label: "2024-01".into(),
            rows: 10,
            objects: BTreeMap::from([
                (Location::Local(kept).to_string(), 3),
                (Location::Local(gone).to_string(), 7),
            ]),
            complete: false,
        };
        let deleted = |ledger: &Ledger| {
            block_on(async {
                ledger
                    .write_to(&LocalStore, &folder.join(LEDGER))
                    .await
                    .unwrap();
                logs_deleted(&LocalStore, &folder).await.unwrap()
            })
        };
        // Deleting failed part-way: only b.log was deleted.
        assert_eq!(deleted(&ledger), Some((1, 7)));
        ledger.complete = true;
        assert_eq!(deleted(&ledger), Some((2, 10)));
        // Nothing deleted yet (AccessDenied on the first delete, say).
        ledger.complete = false;
        ledger
            .objects
            .remove(&Location::Local(dir.path().join("b.log")).to_string());
        assert_eq!(deleted(&ledger), None);
    }

    fn s3_config(log_table: LogTable) -> CleanupConfig {
        CleanupConfig {
            result_path: Location::parse("s3://res-bkt/s3la/").unwrap(),
            logs_location: Some(Location::parse("s3://logs-bkt/AWSLogs/").unwrap()),
            layout: KeyLayout::Simple,
            log_table,
        }
    }

    #[test]
    fn a_throttled_verification_is_transient_and_deletes_nothing() {
        let config = s3_config(LogTable::Projected);
        // Throttled panics if anything reaches delete.
        let e = block_on(remove_original_logs(two_day_input(), &config, &Throttled)).unwrap_err();
        assert_eq!(e.name(), "Transient", "{e}");
    }

    #[test]
    fn logs_read_through_a_table_the_product_did_not_make_are_never_deleted() {
        for table in [LogTable::Glue, LogTable::S3Tables] {
            // Refused before any read: the throttled store would make it Transient.
            let e = block_on(remove_original_logs(
                two_day_input(),
                &s3_config(table),
                &Throttled,
            ))
            .unwrap_err();
            assert_eq!(e.name(), "UnsafeDeletion", "{e}");
            let m = e.to_string();
            assert!(m.contains(&format!("LOG_TABLE={}", table.name())), "{m}");
            assert!(m.contains("no log object is deleted"), "{m}");
        }
    }

    fn two_day_input() -> Input {
        let label = "2024-01-01_2024-01-02";
        from_input(json!({
            "period": {"kind": "custom", "start": "2024-01-01", "end": "2024-01-02", "days": 2,
                       "label": label,
                       "window": {"start": "2024-01-01T00:00:00Z", "end": "2024-01-03T00:00:00Z"},
                       "partitions": {"first": "2024-01-01", "last": "2024-01-03"}},
            "options": {},
            "results": {"outputs": {
                            "parquet": format!("s3://res-bkt/s3la/{label}/requests-{label}.parquet"),
                            "csvGz": format!("s3://res-bkt/s3la/{label}/requests-{label}.csv.gz")},
                        "rows": 5, "bytes": {"parquet": 1, "csvGz": 1}, "dataFiles": 1}
        }))
        .unwrap()
    }
}
