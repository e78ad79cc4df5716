//! MergeResults: the query's Parquet parts, listed by its manifest, become
//! ONE Parquet file and ONE csv.gz under `RESULT_PATH/<label>/`, named by the
//! period so a re-run replaces them instead of adding duplicates. Each file
//! is written under a temporary name and renamed: a reader never sees a
//! partial file.
//!
//! The same code runs on S3 (the Lambda) and on a local folder (`s3la run`,
//! `s3la merge`): only the object store differs.

use serde::{Deserialize, Serialize};

use super::compute_period::ExecutionContext;
use super::query_status::QueryStatusOutput;
use super::remove_original_logs::{LEDGER, logs_deleted};
use super::start_query::StartedQueryOutput;
use crate::athena_ddl::KeyLayout;
use crate::config::MergeConfig;
use crate::error::StepError;
use crate::location::Location;
use crate::period::Period;
use crate::query::{Projection, result_schema};
use crate::report::destinations::Destinations;
use crate::report::tally::{Tally, with_readable_time};
use crate::report::tally_workers::TallyWorkers;
use crate::report::trend::{Earlier, PERIODS_BEFORE, TrendPoint};
use crate::report::{Context, Downloads, REPORT_HTML, REPORT_JSON, Report, html};
use crate::request::Options;
use crate::results::merge::{MergeError, Merged, merge_parts_observed};
use crate::results::output_set::{Checksummed, Incomplete, OUTPUT_SET, OutputFile, OutputSet};
use crate::storage::{ObjectStore, StorageError};

/// The step's input, as [`super::catalog::Step::run`] reads it from JSON.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Input {
    pub(super) execution: ExecutionContext,
    pub(super) options: Options,
    pub(super) period: Period,
    pub(super) query: StartedQueryOutput,
    pub(super) status: QueryStatusOutput,
}

/// What MergeResults answers: the outputs, merged in this one Lambda; or,
/// when the period's rows are more than one shard holds, the plan of the
/// shards the Map state `MergeShards` merges, one Lambda each, before
/// `AssembleResults` writes the outputs from them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MergeResultsOutput {
    Merged(MergeOutput),
    Sharded(super::merge_shards::Sharded),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outputs {
    pub parquet: String,
    pub csv_gz: String,
    /// The report's data (`report.json`) and its page (`report.html`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_json: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub report_html: Option<String>,
    /// `_SUCCESS.json`: names the four files with their sizes and SHA-256,
    /// written last (see [`crate::results::output_set`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_set: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sizes {
    pub parquet: u64,
    pub csv_gz: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergeOutput {
    pub outputs: Outputs,
    pub rows: u64,
    /// Log lines read for the period that are no record (in no output).
    #[serde(default)]
    pub malformed_lines: u64,
    /// The report's headline figures (the whole report is in `report.json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<Summary>,
    pub bytes: Sizes,
    pub data_files: usize,
}

/// The report's headline, small enough for the step's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub requests: u64,
    pub downloads: u64,
    pub downloaded_bytes: u64,
    pub unique_ips: u64,
    pub estimated_cost_usd: f64,
    pub malformed_lines: u64,
    /// The period the report compared itself with, when its report existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compared_with: Option<String>,
    /// Why the previous period's report was left out of the comparison,
    /// when it exists but could not be used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comparison_note: Option<String>,
}

/// Output names for a period: `requests-<label>.parquet` / `.csv.gz`.
pub fn output_names(label: &str) -> (String, String) {
    (
        format!("requests-{label}.parquet"),
        format!("requests-{label}.csv.gz"),
    )
}

pub(super) fn merge_error(e: MergeError) -> StepError {
    match e {
        // Throttling or a dropped connection while reading parts or uploading:
        // retried by the definition like any transient storage failure.
        MergeError::Storage(e) => e.into(),
        other => StepError::MergeFailed {
            message: other.to_string(),
        },
    }
}

/// The data files a manifest lists, each checked to lie under the query's
/// own staging prefix (a manifest is input: it never names other objects).
pub fn manifest_parts(manifest: &str, staging: &Location) -> Result<Vec<Location>, StepError> {
    let staging_uri = staging.to_string();
    let mut parts = Vec::new();
    for line in manifest.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let part = Location::parse_field(line, "status.manifest")?;
        let uri = part.to_string();
        let escapes = uri.split('/').any(|segment| segment == "..");
        if !uri.starts_with(&staging_uri) || escapes {
            return Err(StepError::invalid(
                "status.manifest",
                format!("lists {line}, which is outside the query's staging prefix {staging_uri}"),
            ));
        }
        parts.push(part);
    }
    Ok(parts)
}

pub async fn merge_results<S: ObjectStore>(
    input: Input,
    config: &MergeConfig,
    store: &S,
) -> Result<MergeResultsOutput, StepError> {
    let parts = parts_to_merge(&input, store).await?;
    let files = PeriodFiles::under(&config.result_path, &input.period.label);
    take_down_output_set(store, &files, &input.period.label).await?;
    if let Some(sharded) = super::merge_shards::plan(&input, config, store, &parts).await? {
        return Ok(MergeResultsOutput::Sharded(sharded));
    }
    let store = &Checksummed::new(store.clone());
    let (merged, tally) = merge(store, &input, config, &parts, &files).await?;
    let outputs = (
        written(store, &files.parquet)?,
        written(store, &files.csv_gz)?,
    );
    let merged = (merged.rows, parts.len());
    let done = finish_outputs(store, &input, config, &files, tally, merged, outputs).await?;
    Ok(MergeResultsOutput::Merged(done))
}

/// The size and digests of what this step wrote at `at`.
pub(super) fn written<S: ObjectStore>(
    store: &Checksummed<S>,
    at: &Location,
) -> Result<OutputFile, StepError> {
    store.written(at).ok_or_else(|| StepError::MergeFailed {
        message: format!("{at} was not written"),
    })
}

/// From the merged outputs and their tally: the report, compared with the
/// periods before, and the output set that makes the four files whole.
/// `merged` is (rows, data files); `outputs` the Parquet file and csv.gz.
pub(super) async fn finish_outputs<S: ObjectStore>(
    store: &Checksummed<S>,
    input: &Input,
    config: &MergeConfig,
    files: &PeriodFiles,
    tally: Tally,
    (rows, data_files): (u64, usize),
    outputs: (OutputFile, OutputFile),
) -> Result<MergeOutput, StepError> {
    let results_root = &config.result_path;
    let mut report = build_report(tally, input, config, rows)?;
    let comparison_note =
        compare_with_previous(store, results_root, &input.period, &mut report).await?;
    add_trend(store, results_root, &input.period, &mut report).await?;
    let bytes = Sizes {
        parquet: outputs.0.bytes,
        csv_gz: outputs.1.bytes,
    };
    write_output_set(store, input, files, &report, rows, outputs).await?;
    Ok(MergeOutput {
        outputs: Outputs {
            parquet: files.parquet.to_string(),
            csv_gz: files.csv_gz.to_string(),
            report_json: Some(files.report_json.to_string()),
            report_html: Some(files.report_html.to_string()),
            output_set: Some(files.output_set.to_string()),
        },
        rows,
        malformed_lines: report.malformed_lines,
        summary: Some(Summary::of(&report, comparison_note)),
        bytes,
        data_files,
    })
}

impl Summary {
    fn of(report: &Report, comparison_note: Option<String>) -> Self {
        Self {
            requests: report.overall.requests,
            downloads: report.overall.downloads,
            downloaded_bytes: report.overall.downloaded_bytes,
            unique_ips: report.overall.unique_ips,
            estimated_cost_usd: report.cost.total_usd,
            malformed_lines: report.malformed_lines,
            compared_with: report.change.as_ref().map(|c| c.previous_period.clone()),
            comparison_note,
        }
    }
}

/// The query's data files, once the input says the query succeeded and read
/// log data.
async fn parts_to_merge<S: ObjectStore>(
    input: &Input,
    store: &S,
) -> Result<Vec<Location>, StepError> {
    super::check_execution_name(&input.execution.name)?;
    input.period.check()?;
    if !input.status.done {
        return Err(StepError::invalid(
            "status.done",
            format!(
                "the query {} is {:?}, not succeeded: merge only after QueryStatus says done",
                input.status.query_execution_id, input.status.state
            ),
        ));
    }
    let manifest_uri = input.status.manifest.as_deref().ok_or_else(|| {
        StepError::invalid(
            "status.manifest",
            "is missing: the query's manifest lists its data files",
        )
    })?;
    let staging = Location::parse_field(&input.query.staging_prefix, "query.stagingPrefix")?;
    let manifest = store
        .get(&Location::parse_field(manifest_uri, "status.manifest")?)
        .await?;
    let manifest = std::str::from_utf8(&manifest).map_err(|e| {
        StepError::invalid(
            "status.manifest",
            format!("{manifest_uri} is not UTF-8 text: {e}"),
        )
    })?;
    let parts = manifest_parts(manifest, &staging)?;
    if input.status.data_scanned_bytes == 0 {
        return Err(StepError::invalid(
            "status.dataScannedBytes",
            format!(
                "is 0: the query read no log data, so there are no log objects for the period \
                 (partitions {} to {}) under the logs table's location; check \
                 S3_LOGS_LOCATION (or --logs) and the period",
                input.period.partitions.first, input.period.partitions.last
            ),
        ));
    }
    Ok(parts)
}

/// Where a period's files go: `RESULT_PATH/<label>/`.
pub(super) struct PeriodFiles {
    dir: Location,
    parquet_name: String,
    csv_gz_name: String,
    pub(super) parquet: Location,
    pub(super) csv_gz: Location,
    report_json: Location,
    report_html: Location,
    output_set: Location,
}

impl PeriodFiles {
    pub(super) fn under(results_root: &Location, label: &str) -> Self {
        let dir = results_root.join(label);
        let (parquet_name, csv_gz_name) = output_names(label);
        Self {
            parquet: dir.join(&parquet_name),
            csv_gz: dir.join(&csv_gz_name),
            report_json: dir.join(REPORT_JSON),
            report_html: dir.join(REPORT_HTML),
            output_set: dir.join(OUTPUT_SET),
            parquet_name,
            csv_gz_name,
            dir,
        }
    }
}

/// Deletes the period's `_SUCCESS.json` before its files are replaced: the
/// set is not whole while they are, and its manifest comes back last.
pub(super) async fn take_down_output_set<S: ObjectStore>(
    store: &S,
    files: &PeriodFiles,
    label: &str,
) -> Result<(), StepError> {
    // Once the period's logs are deleted, its outputs hold the only copy of
    // their records: a re-run would replace them with fewer rows. Checked
    // again once `_SUCCESS.json` is gone, against a removal that started in
    // between (it re-reads the set before deleting, and sees it gone).
    refuse_after_log_removal(store, &files.dir, label).await?;
    let set_at = &files.output_set;
    let old_set = match store.get(set_at).await {
        Ok(bytes) => Some(bytes),
        Err(StorageError::NotFound { .. }) => None,
        Err(e) => return Err(e.into()),
    };
    store.delete(std::slice::from_ref(set_at)).await?;
    if let Err(e) = refuse_after_log_removal(store, &files.dir, label).await {
        if let Some(bytes) = old_set {
            store.put(set_at, bytes).await?;
        }
        return Err(e);
    }
    Ok(())
}

/// Merges the parts into the period's Parquet file and csv.gz, counting the
/// report as they go; rows without a readable time are counted, not written.
async fn merge<S: ObjectStore>(
    store: &S,
    input: &Input,
    config: &MergeConfig,
    parts: &[Location],
    files: &PeriodFiles,
) -> Result<(Merged, Tally), StepError> {
    let (merged, counted) = merge_parts_observed(
        store,
        parts,
        output_schema(input.options.select_all, config),
        &files.parquet,
        &files.csv_gz,
        with_readable_time,
        tally_workers(window_ms(&input.period), config)?,
    )
    .await
    .map_err(merge_error)?;
    let tally = counted
        .finish()
        .map_err(|e| merge_error(MergeError::Observer(e)))?;
    Ok((merged, tally))
}

/// The schema of the outputs: the report's columns or all of them.
pub(super) fn output_schema(select_all: bool, config: &MergeConfig) -> arrow_schema::SchemaRef {
    let projection = if select_all {
        Projection::SelectAll
    } else {
        Projection::Report
    };
    let partitioned = matches!(config.layout, KeyLayout::DateBased { .. });
    result_schema(projection, partitioned)
}

/// The period's `[start, end)` in milliseconds: what its tallies count.
pub(super) fn window_ms(period: &Period) -> (i64, i64) {
    let w = &period.window;
    (w.start.timestamp_millis(), w.end.timestamp_millis())
}

/// An empty tally of the period, with the run's report settings.
pub(super) fn empty_tally(
    (start_ms, end_ms): (i64, i64),
    config: &MergeConfig,
) -> Result<Tally, StepError> {
    Ok(Tally::new(
        start_ms,
        end_ms,
        config.report.countries()?,
        Destinations::for_region(&config.report.prices.region),
    ))
}

/// Tallies on worker threads, one per few cores, to count the merged rows.
pub(super) fn tally_workers(
    window_ms: (i64, i64),
    config: &MergeConfig,
) -> Result<TallyWorkers, StepError> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let tallies = (0..TallyWorkers::for_cores(cores))
        .map(|_| empty_tally(window_ms, config))
        .collect::<Result<Vec<_>, StepError>>()?;
    Ok(TallyWorkers::start(tallies))
}

/// The report of the counted rows; refused when every line was malformed
/// (the logs are not S3 server access logs).
fn build_report(
    tally: Tally,
    input: &Input,
    config: &MergeConfig,
    rows: u64,
) -> Result<Report, StepError> {
    let report = Report::build(
        tally,
        &Context {
            period: &input.period,
            generated_at: chrono::Utc::now(),
            prices: &config.report.prices,
            athena_scan_usd: input.status.estimated_cost_usd,
            engine_malformed_lines: input.status.malformed_lines,
        },
    );
    if rows == 0 && report.malformed_lines > 0 {
        return Err(StepError::invalid(
            "logs",
            format!(
                "every one of the {} log lines the query returned for the period is malformed, \
                 so these are not S3 server access logs as S3 writes them (compressed, or \
                 another format?); `s3la parse` over a copy of one object lists what is wrong",
                report.malformed_lines
            ),
        ));
    }
    Ok(report)
}

/// Adds the change against the previous period's report, when it can be
/// used; returns why it was left out, when it exists but cannot be.
async fn compare_with_previous<S: ObjectStore>(
    store: &S,
    results_root: &Location,
    period: &Period,
    report: &mut Report,
) -> Result<Option<String>, StepError> {
    Ok(match previous_report(store, results_root, period).await? {
        Previous::Report(previous) => {
            report.compare_with(&previous);
            None
        }
        Previous::None => None,
        Previous::Skipped(why) => Some(why),
    })
}

/// Writes `report.json` and `report.html` beside the merged files, then
/// `_SUCCESS.json` naming all four with their sizes and checksums: the set
/// is whole from then on.
async fn write_output_set<S: ObjectStore>(
    store: &Checksummed<S>,
    input: &Input,
    files: &PeriodFiles,
    report: &Report,
    rows: u64,
    (parquet, csv_gz): (OutputFile, OutputFile),
) -> Result<(), StepError> {
    let json = serde_json::to_vec_pretty(report).map_err(|e| StepError::MergeFailed {
        message: format!("writing report.json: {e}"),
    })?;
    store.put(&files.report_json, json.into()).await?;
    let downloads = Downloads {
        parquet: &files.parquet.to_string(),
        csv_gz: &files.csv_gz.to_string(),
        link: None,
    };
    let html = html::render(report, &downloads);
    store
        .put(&files.report_html, html.into_bytes().into())
        .await?;
    let mut written = std::collections::BTreeMap::from([
        (files.parquet_name.clone(), parquet),
        (files.csv_gz_name.clone(), csv_gz),
    ]);
    for (name, at) in [
        (REPORT_JSON, &files.report_json),
        (REPORT_HTML, &files.report_html),
    ] {
        written.insert(name.to_string(), self::written(store, at)?);
    }
    let set = OutputSet {
        label: input.period.label.clone(),
        execution: input.execution.name.clone(),
        rows,
        files: written,
    };
    let set_json = serde_json::to_vec_pretty(&set).map_err(|e| StepError::MergeFailed {
        message: format!("writing {OUTPUT_SET}: {e}"),
    })?;
    store.put(&files.output_set, set_json.into()).await?;
    Ok(())
}

/// Refuses to replace a period's outputs once its logs were deleted.
async fn refuse_after_log_removal<S: ObjectStore>(
    store: &S,
    out_dir: &Location,
    label: &str,
) -> Result<(), StepError> {
    match logs_deleted(store, out_dir).await? {
        None => Ok(()),
        Some((objects, records)) => {
            let ledger = out_dir.join(LEDGER);
            Err(StepError::invalid(
                "period",
                format!(
                    "the logs of {label} were deleted after its outputs were written ({objects} \
                     log objects, {records} records, listed in {ledger}), so the outputs under \
                     {out_dir} hold the only copy of those records and a new run would replace \
                     them with fewer; keep them. To run the period again anyway, move {ledger} \
                     away first"
                ),
            ))
        }
    }
}

/// The previous period's report, for the comparison.
#[derive(Debug)]
enum Previous {
    Report(Box<Report>),
    /// There is none (the first period, or it was never run).
    None,
    /// It exists but cannot be used; why, for the step's output.
    Skipped(String),
}

/// An earlier period's `report.json`, as written.
enum Written {
    Bytes(bytes::Bytes),
    None,
    Skipped(String),
}

/// The bytes of the report under `folder`, when a whole output set holds
/// it. One that cannot be read is left out with a note, never a reason to
/// fail this run; only a throttled or dropped read fails (and is retried).
async fn written_report<S: ObjectStore>(
    store: &S,
    folder: &Location,
) -> Result<Written, StepError> {
    // Only a whole set: a report beside outputs another run half replaced
    // would compare this period with numbers no file holds.
    let set = match OutputSet::read(store, folder).await {
        Ok(set) => set,
        Err(Incomplete::Storage(e @ StorageError::Transient { .. })) => return Err(e.into()),
        Err(why) => {
            return match store.size(&folder.join(REPORT_JSON)).await {
                Ok(None) | Err(StorageError::NotFound { .. }) => Ok(Written::None),
                Err(e @ StorageError::Transient { .. }) => Err(e.into()),
                Ok(Some(_)) | Err(_) => Ok(Written::Skipped(why.to_string())),
            };
        }
    };
    let bytes = match store.get(&folder.join(REPORT_JSON)).await {
        Ok(bytes) => bytes,
        Err(e @ StorageError::Transient { .. }) => return Err(e.into()),
        Err(e) => return Ok(Written::Skipped(e.to_string())),
    };
    Ok(match set.check_bytes(REPORT_JSON, &bytes) {
        Ok(()) => Written::Bytes(bytes),
        Err(why) => Written::Skipped(why.to_string()),
    })
}

/// The previous period's report, when one was written.
async fn previous_report<S: ObjectStore>(
    store: &S,
    results_root: &Location,
    period: &Period,
) -> Result<Previous, StepError> {
    let before = period.before();
    let skipped = |why: String| {
        Ok(Previous::Skipped(format!(
            "the report of {} was left out of the comparison: {why}",
            before.label
        )))
    };
    match written_report(store, &results_root.join(&before.label)).await? {
        Written::None => Ok(Previous::None),
        Written::Skipped(why) => skipped(why),
        Written::Bytes(bytes) => match serde_json::from_slice::<Report>(&bytes) {
            Ok(report) => Ok(Previous::Report(Box::new(report))),
            Err(e) => skipped(format!("it is not a report this version reads: {e}")),
        },
    }
}

/// Puts the periods before this one in front of the report's trend, oldest
/// first: each from its report when a whole output set holds one, a gap
/// otherwise.
async fn add_trend<S: ObjectStore>(
    store: &S,
    results_root: &Location,
    period: &Period,
    report: &mut Report,
) -> Result<(), StepError> {
    let mut earlier = Vec::with_capacity(PERIODS_BEFORE);
    let mut p = period.clone();
    for _ in 0..PERIODS_BEFORE {
        p = p.before();
        let read = match written_report(store, &results_root.join(&p.label)).await? {
            Written::Bytes(bytes) => serde_json::from_slice::<Earlier>(&bytes)
                .ok()
                .filter(|e| e.label() == p.label),
            Written::None | Written::Skipped(_) => None,
        };
        earlier.push(TrendPoint::earlier(&p.label, p.start, p.end, read.as_ref()));
    }
    earlier.reverse();
    earlier.append(&mut report.trend);
    report.trend = earlier;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manifest_names_only_the_querys_staging_files() {
        let staging = Location::parse("s3://res/s3la_staging/2024-01/exec-1/").unwrap();
        let ok = "s3://res/s3la_staging/2024-01/exec-1/a_00000\ns3://res/s3la_staging/2024-01/exec-1/a_00001\n\n";
        assert_eq!(manifest_parts(ok, &staging).unwrap().len(), 2);
        for bad in [
            "s3://res/s3la_staging/2024-01/exec-2/a_00000",
            "s3://logs/AWSLogs/x",
            "s3://res/s3la_staging/2024-01/exec-1/../exec-2/a",
            "file:///etc/passwd",
            "not a uri",
        ] {
            let e = manifest_parts(bad, &staging).unwrap_err();
            assert_eq!(e.name(), "InvalidInput", "{bad}");
            assert!(e.to_string().starts_with("status.manifest: "), "{e}");
        }
    }
}
