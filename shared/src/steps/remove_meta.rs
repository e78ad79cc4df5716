//! RemoveMeta (`removeMeta`): deletes this query's staging data files and
//! Athena's metadata and manifest for it — nothing else. The prefixes come
//! from the step input, so they are checked against the shape StartQuery
//! gives them under `RESULT_PATH` before anything is listed.

use serde::{Deserialize, Serialize};

use super::cleanup::{Deleted, delete_all};
use super::merge_results::MergeOutput;
use super::query_status::QueryStatusOutput;
use super::start_query::StartedQueryOutput;
use crate::config::CleanupConfig;
use crate::error::StepError;
use crate::location::Location;
use crate::storage::ObjectStore;

/// The step's input, as [`super::catalog::Step::run`] reads it from JSON.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Input {
    query: StartedQueryOutput,
    status: QueryStatusOutput,
    /// Present only after a successful merge: staging data is never removed
    /// before the outputs that come from it exist.
    #[allow(dead_code, reason = "required, never read: its presence is the check")]
    results: MergeOutput,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemoveMetaOutput {
    #[serde(flatten)]
    pub deleted: Deleted,
    /// The prefixes cleaned.
    pub staging_prefix: String,
    pub metadata_prefix: String,
}

/// `prefix` must be `<RESULT_PATH><kind>/<label>/<execution>/`, as StartQuery
/// makes it; anything else is refused before it is listed.
fn run_prefix(prefix: &str, field: &str, root: &str, kind: &str) -> Result<Location, StepError> {
    let base = format!("{root}{kind}/");
    let run = prefix.strip_prefix(&base).unwrap_or_default();
    let segments: Vec<&str> = run.trim_end_matches('/').split('/').collect();
    let well_formed = prefix.ends_with('/')
        && segments.len() == 2
        && segments.iter().all(|s| {
            !s.is_empty()
                && *s != ".."
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-_".contains(&b))
        });
    if !well_formed {
        return Err(StepError::invalid(
            field,
            format!("{prefix} is not this deployment's {base}<period>/<execution>/ prefix"),
        ));
    }
    Location::parse_field(prefix, field)
}

/// The folder of Athena's manifest, which must lie under `<RESULT_PATH>_athena/`.
fn metadata_folder(manifest: &str, root: &str) -> Result<Location, StepError> {
    let base = format!("{root}_athena/");
    let folder = manifest.rsplit_once('/').map(|(f, _)| format!("{f}/"));
    match folder {
        Some(f) if f.starts_with(&base) && !f.split('/').any(|s| s == "..") => {
            Location::parse_field(&f, "status.manifest")
        }
        _ => Err(StepError::invalid(
            "status.manifest",
            format!("{manifest} is not under this deployment's {base}"),
        )),
    }
}

pub async fn remove_meta<S: ObjectStore>(
    input: Input,
    config: &CleanupConfig,
    store: &S,
) -> Result<RemoveMetaOutput, StepError> {
    let root = &config.result_path.to_string();
    let staging = run_prefix(
        &input.query.staging_prefix,
        "query.stagingPrefix",
        root,
        "_staging",
    )?;
    let metadata = match input.status.manifest.as_deref() {
        // Athena writes its files where the manifest is: the run's own
        // prefix, or the workgroup's result location when the workgroup
        // enforces one (the CDK stack's does).
        Some(manifest) => metadata_folder(manifest, root)?,
        None => run_prefix(
            &input.query.output_location,
            "query.outputLocation",
            root,
            "_athena",
        )?,
    };
    let id = &input.query.query_execution_id;
    if id != &input.status.query_execution_id || id.is_empty() {
        return Err(StepError::invalid(
            "status.queryExecutionId",
            format!(
                "{} is not the query StartQuery started ({id})",
                input.status.query_execution_id
            ),
        ));
    }
    // The data files: everything under this run's own staging prefix.
    let mut objects = store.list(&staging).await?;
    // Athena's files for this query only: `<id>.metadata`, `<id>-manifest.csv`.
    objects.extend(store.list(&metadata.join(id)).await?);
    let deleted = delete_all(store, &objects).await?;
    Ok(RemoveMetaOutput {
        deleted,
        staging_prefix: staging.to_string(),
        metadata_prefix: metadata.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn athena_files_are_found_where_the_manifest_is() {
        let root = "s3://res-bkt/s3la/";
        // A workgroup that enforces its result location puts them at its root.
        let f = metadata_folder("s3://res-bkt/s3la/_athena/q-1-manifest.csv", root).unwrap();
        assert_eq!(f.to_string(), "s3://res-bkt/s3la/_athena/");
        let f = metadata_folder(
            "s3://res-bkt/s3la/_athena/2024-01/e-1/q-1-manifest.csv",
            root,
        )
        .unwrap();
        assert_eq!(f.to_string(), "s3://res-bkt/s3la/_athena/2024-01/e-1/");
        for bad in [
            "s3://res-bkt/s3la/q-1-manifest.csv",
            "s3://other/_athena/q-1-manifest.csv",
            "s3://res-bkt/s3la/_athena/../logs/q-1-manifest.csv",
        ] {
            let e = metadata_folder(bad, root).unwrap_err();
            assert!(e.to_string().starts_with("status.manifest: "), "{e}");
        }
    }

    #[test]
    fn only_this_deployments_run_prefixes_are_accepted() {
        let root = "s3://res-bkt/s3la/";
        let ok = "s3://res-bkt/s3la/_staging/2024-01/exec-1/";
        assert!(run_prefix(ok, "f", root, "_staging").is_ok());
        for bad in [
            "s3://res-bkt/s3la/_staging/2024-01/",
            "s3://res-bkt/s3la/_staging/",
            "s3://res-bkt/s3la/_staging/2024-01/exec-1",
            "s3://res-bkt/s3la/_staging/2024-01/exec-1/more/",
            "s3://res-bkt/s3la/_staging/../logs/",
            "s3://res-bkt/s3la/_athena/2024-01/exec-1/",
            "s3://logs-bkt/AWSLogs/2024-01/exec-1/",
            "s3://res-bkt/s3la/",
        ] {
            let e = run_prefix(bad, "query.stagingPrefix", root, "_staging").unwrap_err();
            assert!(
                e.to_string().starts_with("query.stagingPrefix: "),
                "{bad}: {e}"
            );
        }
    }
}
