//! MergeResults: the query's Parquet parts, listed by its manifest, become
//! ONE Parquet file and ONE csv.gz under `RESULT_PATH/<label>/`, named by the
//! period so a re-run replaces them instead of adding duplicates. Each file
//! is written under a temporary name and renamed: a reader never sees a
//! partial file.
//!
//! The same code runs on S3 (the Lambda) and on a local folder (`s3la run`,
//! `s3la merge`): only the object store differs.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::compute_period::ExecutionContext;
use super::from_input;
use super::query_status::QueryStatusOutput;
use super::start_query::StartedQueryOutput;
use crate::athena_ddl::KeyLayout;
use crate::config::MergeConfig;
use crate::error::StepError;
use crate::location::Location;
use crate::period::Period;
use crate::query::{Projection, result_schema};
use crate::request::Options;
use crate::results::merge::{MergeError, merge_parts};
use crate::storage::ObjectStore;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Input {
    execution: ExecutionContext,
    options: Options,
    period: Period,
    query: StartedQueryOutput,
    status: QueryStatusOutput,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Outputs {
    pub parquet: String,
    pub csv_gz: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sizes {
    pub parquet: u64,
    pub csv_gz: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergeOutput {
    pub outputs: Outputs,
    pub rows: u64,
    pub bytes: Sizes,
    pub data_files: usize,
}

/// Output names for a period: `requests-<label>.parquet` / `.csv.gz`.
pub fn output_names(label: &str) -> (String, String) {
    (
        format!("requests-{label}.parquet"),
        format!("requests-{label}.csv.gz"),
    )
}

fn location(uri: &str, field: &str) -> Result<Location, StepError> {
    Location::parse(uri).map_err(|m| StepError::invalid(field, m))
}

fn merge_error(e: MergeError) -> StepError {
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
        let part = location(line, "status.manifest")?;
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
    input: Value,
    config: &MergeConfig,
    store: &S,
) -> Result<MergeOutput, StepError> {
    let input: Input = from_input(input)?;
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
    let staging = location(&input.query.staging_prefix, "query.stagingPrefix")?;
    let manifest = store
        .get(&location(manifest_uri, "status.manifest")?)
        .await?;
    let manifest = std::str::from_utf8(&manifest).map_err(|e| {
        StepError::invalid(
            "status.manifest",
            format!("{manifest_uri} is not UTF-8 text: {e}"),
        )
    })?;
    let parts = manifest_parts(manifest, &staging)?;

    let projection = if input.options.select_all {
        Projection::SelectAll
    } else {
        Projection::Report
    };
    let partitioned = matches!(config.layout, KeyLayout::DateBased { .. });
    let out_dir = location(&config.result_path, "RESULT_PATH")?.join(&input.period.label);
    let (parquet_name, csv_name) = output_names(&input.period.label);
    let (parquet_at, csv_at) = (out_dir.join(&parquet_name), out_dir.join(&csv_name));
    let merged = merge_parts(
        store,
        &parts,
        result_schema(projection, partitioned),
        &parquet_at,
        &csv_at,
    )
    .await
    .map_err(merge_error)?;
    Ok(MergeOutput {
        outputs: Outputs {
            parquet: parquet_at.to_string(),
            csv_gz: csv_at.to_string(),
        },
        rows: merged.rows,
        bytes: Sizes {
            parquet: merged.parquet_bytes,
            csv_gz: merged.csv_gz_bytes,
        },
        data_files: parts.len(),
    })
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
