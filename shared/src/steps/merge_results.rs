//! MergeResults: the query's Parquet parts, listed by its manifest, become
//! ONE Parquet file and ONE csv.gz under `RESULT_PATH/<label>/`, named by the
//! period so a re-run replaces them instead of adding duplicates. Each file
//! is written under a temporary name and renamed: a reader never sees a
//! partial file.
//!
//! This version merges results in a local folder (`s3la run`); results on S3
//! arrive with the object-storage adapter.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::compute_period::ExecutionContext;
use super::from_input;
use super::query_status::QueryStatusOutput;
use super::start_query::StartedQueryOutput;
use crate::athena_ddl::KeyLayout;
use crate::config::MergeConfig;
use crate::error::StepError;
use crate::location::{Location, file_uri};
use crate::period::Period;
use crate::query::{Projection, result_schema};
use crate::request::Options;
use crate::results::merge::Merger;

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

fn local(uri: &str, field: &str) -> Result<PathBuf, StepError> {
    match Location::parse(uri).map_err(|m| StepError::invalid(field, m))? {
        Location::Local(p) => Ok(p),
        Location::S3 { .. } => Err(StepError::config(
            "RESULT_PATH",
            format!("this version merges results in a local folder only, not {uri}"),
        )),
    }
}

fn failed(what: impl std::fmt::Display) -> StepError {
    StepError::MergeFailed {
        message: what.to_string(),
    }
}

pub fn merge_results(input: Value, config: &MergeConfig) -> Result<MergeOutput, StepError> {
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
    let staging = local(&input.query.staging_prefix, "query.stagingPrefix")?;
    let manifest_path = local(manifest_uri, "status.manifest")?;
    let manifest = std::fs::read_to_string(&manifest_path).map_err(|e| {
        failed(format!(
            "reading the manifest {}: {e}",
            manifest_path.display()
        ))
    })?;
    let mut parts = Vec::new();
    for line in manifest.lines().filter(|l| !l.trim().is_empty()) {
        let part = local(line.trim(), "status.manifest")?;
        // A manifest only ever lists this query's own staging files.
        if !part.starts_with(&staging) {
            return Err(StepError::invalid(
                "status.manifest",
                format!("lists {line}, which is outside the query's staging prefix"),
            ));
        }
        parts.push(part);
    }

    let projection = if input.options.select_all {
        Projection::SelectAll
    } else {
        Projection::Report
    };
    let partitioned = matches!(config.layout, KeyLayout::DateBased { .. });
    let out_dir = local(&config.result_path, "RESULT_PATH")?.join(&input.period.label);
    std::fs::create_dir_all(&out_dir).map_err(|e| failed(format!("{}: {e}", out_dir.display())))?;
    let (parquet_name, csv_name) = output_names(&input.period.label);
    let tmp = |name: &str| out_dir.join(format!(".{name}.{}.tmp", input.execution.name));
    let (parquet_tmp, csv_tmp) = (tmp(&parquet_name), tmp(&csv_name));
    let result = write_both(&parts, projection, partitioned, &parquet_tmp, &csv_tmp);
    let rows = match result {
        Ok(rows) => rows,
        Err(e) => {
            let _ = std::fs::remove_file(&parquet_tmp);
            let _ = std::fs::remove_file(&csv_tmp);
            return Err(e);
        }
    };
    let parquet_path = out_dir.join(&parquet_name);
    let csv_path = out_dir.join(&csv_name);
    for (from, to) in [(&parquet_tmp, &parquet_path), (&csv_tmp, &csv_path)] {
        std::fs::rename(from, to).map_err(|e| failed(format!("{}: {e}", to.display())))?;
    }
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    Ok(MergeOutput {
        outputs: Outputs {
            parquet: file_uri(&parquet_path, false),
            csv_gz: file_uri(&csv_path, false),
        },
        rows,
        bytes: Sizes {
            parquet: size(&parquet_path),
            csv_gz: size(&csv_path),
        },
        data_files: parts.len(),
    })
}

fn write_both(
    parts: &[PathBuf],
    projection: Projection,
    partitioned: bool,
    parquet_path: &Path,
    csv_path: &Path,
) -> Result<u64, StepError> {
    let create = |p: &Path| {
        File::create(p)
            .map(BufWriter::new)
            .map_err(|e| failed(format!("{}: {e}", p.display())))
    };
    let mut merger = Merger::new(
        result_schema(projection, partitioned),
        create(parquet_path)?,
        create(csv_path)?,
    )
    .map_err(failed)?;
    for part in parts {
        let file = File::open(part).map_err(|e| failed(format!("{}: {e}", part.display())))?;
        merger
            .add_part(&part.display().to_string(), file)
            .map_err(failed)?;
    }
    let (rows, parquet, csv) = merger.finish().map_err(failed)?;
    for w in [parquet, csv] {
        w.into_inner()
            .map_err(|e| failed(e.error()))?
            .sync_all()
            .map_err(failed)?;
    }
    Ok(rows)
}
