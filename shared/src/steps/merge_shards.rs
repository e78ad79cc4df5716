//! MergeResults in shards, for periods with more rows than one Lambda
//! merges well inside its 15 minutes ([`crate::config::ShardSettings`]):
//!
//! 1. MergeResults plans: the parts' row groups, read from their footers,
//!    cut into shards of consecutive row groups, written as `plan.json` in
//!    the query's staging prefix. Its output names the plan and lists the
//!    shards' numbers: the only list any state carries, at most
//!    `MERGE_MAX_SHARDS` small numbers.
//! 2. The Map state `MergeShards` runs [`merge_shard`] once per number, as a
//!    child execution of its own (Distributed mode): the shard's rows as
//!    Parquet and as csv.gz (its gzip members join the others' into one
//!    valid gzip file), its tally as a partial, and last `shard-N.json`
//!    with the files' sizes and CRCs, which says the shard is whole. A shard
//!    run again writes the same bytes under the same names.
//! 3. [`assemble_results`] writes the period's Parquet file and csv.gz from
//!    the shards without decoding a row ([`crate::results::sharded`]: the
//!    store copies the shards' bytes, S3 by UploadPartCopy), adds up the
//!    partial tallies (exact: counts add, distinct IPs and keys travel as
//!    sets of names, sessions as intervals), and finishes as MergeResults
//!    does: report, comparison, output set; then removes the shards.

use std::ops::Range;

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::compute_period::ExecutionContext;
use super::merge_results::{
    Input, MergeOutput, PeriodFiles, empty_tally, finish_outputs, merge_error, output_schema,
    take_down_output_set, tally_workers, window_ms, written,
};
use super::query_status::QueryStatusOutput;
use super::start_query::StartedQueryOutput;
use crate::config::MergeConfig;
use crate::error::StepError;
use crate::location::Location;
use crate::period::Period;
use crate::report::destinations::Destinations;
use crate::report::tally::{Tally, with_readable_time};
use crate::request::Options;
use crate::results::crc64::Crc64;
use crate::results::merge::{MergeError, PartSlice, merge_shard_observed};
use crate::results::output_set::{Checksummed, OutputFile};
use crate::results::sharded::{Assembly, assemble_outputs, cut, remove_files, shard_at, units};
use crate::storage::{ObjectStore, StorageError};

/// The plan's name, in the shards' folder.
const PLAN: &str = "plan.json";
/// The shards' folder, in the query's staging prefix.
const SHARDS: &str = "shards";

/// What MergeResults answers for a sharded period: the Map state's items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Sharded {
    /// `plan.json`'s URI.
    pub plan: String,
    /// The shards' numbers, `0..n`: what the Map state iterates over.
    pub shards: Vec<usize>,
    /// Rows the parts' footers count, and the parts.
    pub rows: u64,
    pub data_files: usize,
}

/// What the shards merge, written once by MergeResults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShardPlan {
    pub label: String,
    pub execution: String,
    /// The period's `[start, end)` in milliseconds, which the tallies count.
    pub window_ms: (i64, i64),
    pub select_all: bool,
    pub parts: Vec<String>,
    /// Each shard's slices: `(part index, row groups)`, in order.
    pub shards: Vec<Vec<(usize, Range<usize>)>>,
}

/// A shard's files and what it counted, written last by [`merge_shard`]:
/// the shard is whole once this exists.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShardDone {
    pub rows: u64,
    pub parquet: OutputFile,
    pub csv_gz: OutputFile,
}

/// Where shard `i`'s files are, in the plan's folder.
struct ShardFiles {
    parquet: Location,
    csv_gz: Location,
    tally: Location,
    done: Location,
}

impl ShardFiles {
    fn of(folder: &Location, i: usize) -> Self {
        let (parquet, csv_gz) = shard_at(folder, i);
        Self {
            parquet,
            csv_gz,
            tally: folder.join(&format!("shard-{i:05}.tally.json.gz")),
            done: folder.join(&format!("shard-{i:05}.json")),
        }
    }

    fn all(&self) -> [Location; 4] {
        [
            self.parquet.clone(),
            self.csv_gz.clone(),
            self.tally.clone(),
            self.done.clone(),
        ]
    }
}

/// Plans the merge: `None` when one shard holds the period (MergeResults
/// merges it itself, as before), else the shards, with their plan written.
pub(super) async fn plan<S: ObjectStore>(
    input: &Input,
    config: &MergeConfig,
    store: &S,
    parts: &[Location],
) -> Result<Option<Sharded>, StepError> {
    let footers = units(store, parts).await.map_err(merge_error)?;
    let wanted = config.shards.shards_for(footers.rows, footers.bytes);
    let groups = cut(&footers.units, parts, wanted);
    if groups.len() <= 1 {
        return Ok(None);
    }
    let index = |at: &Location| parts.iter().position(|p| p == at).unwrap_or(usize::MAX);
    let plan = ShardPlan {
        label: input.period.label.clone(),
        execution: input.execution.name.clone(),
        window_ms: window_ms(&input.period),
        select_all: input.options.select_all,
        parts: parts.iter().map(Location::to_string).collect(),
        shards: groups
            .iter()
            .map(|slices| {
                slices
                    .iter()
                    .map(|s| (index(&s.at), s.row_groups.clone().unwrap_or(0..0)))
                    .collect()
            })
            .collect(),
    };
    let at = plan_location(input)?;
    store.put(&at, json(&plan, PLAN)?).await?;
    Ok(Some(Sharded {
        plan: at.to_string(),
        shards: (0..plan.shards.len()).collect(),
        rows: footers.rows,
        data_files: parts.len(),
    }))
}

/// `plan.json` of this query: in its staging prefix, which only this
/// execution's query writes.
fn plan_location(input: &Input) -> Result<Location, StepError> {
    let staging = Location::parse_field(&input.query.staging_prefix, "query.stagingPrefix")?;
    Ok(staging.join(SHARDS).join(PLAN))
}

fn json<T: Serialize>(value: &T, what: &str) -> Result<Bytes, StepError> {
    serde_json::to_vec_pretty(value)
        .map(Bytes::from)
        .map_err(|e| StepError::MergeFailed {
            message: format!("writing {what}: {e}"),
        })
}

/// Reads `plan.json` at `uri`, which must be a plan under `RESULT_PATH`
/// (the shard steps write only beside it).
async fn read_plan<S: ObjectStore>(
    store: &S,
    uri: &str,
    field: &str,
    config: &MergeConfig,
) -> Result<(ShardPlan, Location), StepError> {
    let at = Location::parse_field(uri, field)?;
    let inside = uri.starts_with(&config.result_path.to_string())
        && uri.ends_with(&format!("/{SHARDS}/{PLAN}"))
        && !uri.split('/').any(|s| s == "..");
    if !inside {
        return Err(StepError::invalid(
            field,
            format!(
                "must be a merge plan, .../{SHARDS}/{PLAN} under RESULT_PATH ({}), got {uri}",
                config.result_path
            ),
        ));
    }
    let bytes = store.get(&at).await.map_err(|e| match e {
        StorageError::NotFound { .. } => StepError::invalid(
            field,
            format!("{uri} does not exist: MergeResults writes it; run the period again"),
        ),
        other => other.into(),
    })?;
    let plan = serde_json::from_slice(&bytes)
        .map_err(|e| StepError::invalid(field, format!("{uri} is not a merge plan: {e}")))?;
    let folder = Location::parse(&uri[..uri.len() - PLAN.len()])
        .map_err(|m| StepError::invalid(field, m))?;
    Ok((plan, folder))
}

/// MergeShard's input: one item of the Map state.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShardInput {
    plan: String,
    shard: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ShardOutput {
    pub shard: usize,
    pub rows: u64,
}

/// MergeShard: merges shard `shard` of the plan into its Parquet file and
/// csv.gz, with its tally, beside the plan.
pub async fn merge_shard<S: ObjectStore>(
    input: ShardInput,
    config: &MergeConfig,
    store: &S,
) -> Result<ShardOutput, StepError> {
    let (plan, folder) = read_plan(store, &input.plan, "plan", config).await?;
    let slices = plan.shards.get(input.shard).ok_or_else(|| {
        StepError::invalid(
            "shard",
            format!(
                "must be a shard of the plan, 0 to {}, got {}",
                plan.shards.len().saturating_sub(1),
                input.shard
            ),
        )
    })?;
    let parts = slices
        .iter()
        .map(|(part, groups)| {
            let uri = plan.parts.get(*part).ok_or_else(|| {
                StepError::invalid("plan", format!("names part {part}, which it does not list"))
            })?;
            Ok(PartSlice {
                at: Location::parse_field(uri, "plan.parts")?,
                row_groups: Some(groups.clone()),
            })
        })
        .collect::<Result<Vec<_>, StepError>>()?;
    let files = ShardFiles::of(&folder, input.shard);
    let store = &Checksummed::new(store.clone());
    let (merged, counted) = merge_shard_observed(
        store,
        &parts,
        output_schema(plan.select_all, config),
        (&files.parquet, &files.csv_gz, input.shard == 0),
        with_readable_time,
        tally_workers(plan.window_ms, config)?,
    )
    .await
    .map_err(merge_error)?;
    let tally = counted
        .finish()
        .map_err(|e| merge_error(MergeError::Observer(e)))?;
    let partial = tally.to_partial().map_err(|e| StepError::MergeFailed {
        message: format!("writing the shard's tally: {e}"),
    })?;
    store.put(&files.tally, partial.into()).await?;
    let done = ShardDone {
        rows: merged.rows,
        parquet: written(store, &files.parquet)?,
        csv_gz: written(store, &files.csv_gz)?,
    };
    store
        .put(&files.done, json(&done, "the shard's result")?)
        .await?;
    Ok(ShardOutput {
        shard: input.shard,
        rows: merged.rows,
    })
}

/// AssembleResults' input: MergeResults' input, and its sharded answer.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AssembleInput {
    execution: ExecutionContext,
    options: Options,
    period: Period,
    query: StartedQueryOutput,
    status: QueryStatusOutput,
    sharded: Sharded,
}

/// AssembleResults: the period's outputs from the shards, then the report
/// and output set as MergeResults writes them; the shards are removed.
pub async fn assemble_results<S: ObjectStore>(
    input: AssembleInput,
    config: &MergeConfig,
    store: &S,
) -> Result<MergeOutput, StepError> {
    let AssembleInput {
        execution,
        options,
        period,
        query,
        status,
        sharded,
    } = input;
    let input = Input {
        execution,
        options,
        period,
        query,
        status,
    };
    super::check_execution_name(&input.execution.name)?;
    let (plan, folder) = read_plan(store, &sharded.plan, "sharded.plan", config).await?;
    if plan.label != input.period.label || plan.shards.len() != sharded.shards.len() {
        return Err(StepError::invalid(
            "sharded.plan",
            format!(
                "is the plan of {} in {} shards, not of {} in {}",
                plan.label,
                plan.shards.len(),
                input.period.label,
                sharded.shards.len()
            ),
        ));
    }
    let files = PeriodFiles::under(&config.result_path, &input.period.label);
    take_down_output_set(store, &files, &input.period.label).await?;
    let shards: Vec<ShardFiles> = (0..plan.shards.len())
        .map(|i| ShardFiles::of(&folder, i))
        .collect();
    let mut done = Vec::with_capacity(shards.len());
    for (i, shard) in shards.iter().enumerate() {
        done.push(read_done(store, shard, i, shards.len()).await?);
    }
    let at: Vec<(Location, Location)> = shards
        .iter()
        .map(|s| (s.parquet.clone(), s.csv_gz.clone()))
        .collect();
    let crcs: Vec<(Crc64, Crc64)> = done
        .iter()
        .map(|d| Ok((crc_of(&d.parquet)?, crc_of(&d.csv_gz)?)))
        .collect::<Result<_, StepError>>()?;
    let mut assembly = Assembly::default();
    let outputs = (&files.parquet, &files.csv_gz);
    let assembled = assemble_outputs(store, &at, Some(&crcs), outputs, &mut assembly)
        .await
        .map_err(merge_error)?;
    let tally = add_up(store, &shards, &input, config).await?;
    let rows = done.iter().map(|d| d.rows).sum();
    let outputs = (
        OutputFile::assembled(assembled.parquet),
        OutputFile::assembled(assembled.csv_gz),
    );
    let store = &Checksummed::new(store.clone());
    let merged = (rows, sharded.data_files);
    let output = finish_outputs(store, &input, config, &files, tally, merged, outputs).await?;
    let mut leftovers: Vec<Location> = shards.iter().flat_map(ShardFiles::all).collect();
    leftovers.push(folder.join(PLAN));
    remove_files(store, &folder, &leftovers).await;
    Ok(output)
}

/// Shard `i`'s result, or why the assembly cannot go on without it.
async fn read_done<S: ObjectStore>(
    store: &S,
    shard: &ShardFiles,
    i: usize,
    n: usize,
) -> Result<ShardDone, StepError> {
    let bytes = match store.get(&shard.done).await {
        Ok(b) => b,
        Err(StorageError::NotFound { .. }) => {
            return Err(StepError::MergeFailed {
                message: format!(
                    "shard {i} of {n} was not merged ({} does not exist): MergeShards did not \
                     finish it; redrive the execution to merge the shards that failed",
                    shard.done
                ),
            });
        }
        Err(e) => return Err(e.into()),
    };
    serde_json::from_slice(&bytes).map_err(|e| StepError::MergeFailed {
        message: format!("{} is not a shard's result: {e}", shard.done),
    })
}

fn crc_of(file: &OutputFile) -> Result<Crc64, StepError> {
    file.crc().ok_or_else(|| StepError::MergeFailed {
        message: "a shard's result has no CRC64/NVME".into(),
    })
}

/// The shards' partial tallies added up, in shard order.
async fn add_up<S: ObjectStore>(
    store: &S,
    shards: &[ShardFiles],
    input: &Input,
    config: &MergeConfig,
) -> Result<Tally, StepError> {
    let mut total = empty_tally(window_ms(&input.period), config)?;
    let destinations = Destinations::for_region(&config.report.prices.region);
    for shard in shards {
        let bytes = store.get(&shard.tally).await?;
        let partial = Tally::from_partial(&bytes, config.report.countries()?, destinations.clone())
            .map_err(|why| StepError::MergeFailed {
                message: format!("{}: {why}", shard.tally),
            })?;
        if partial.window_ms() != total.window_ms() {
            return Err(StepError::MergeFailed {
                message: format!("{} counted another period", shard.tally),
            });
        }
        total.absorb(partial);
    }
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::athena_ddl::KeyLayout;
    use crate::storage::local::LocalStore;
    use crate::test_util::block_on;

    fn config(results: &std::path::Path) -> MergeConfig {
        MergeConfig::local(results, KeyLayout::Simple, Default::default())
    }

    /// MergeShard writes only beside a plan under RESULT_PATH, and only the
    /// shards the plan has: a console user's input cannot point it elsewhere.
    #[test]
    fn a_shard_is_merged_only_from_a_plan_under_the_results_and_by_its_number() {
        let dir = tempfile::tempdir().unwrap();
        let results = dir.path().join("results");
        let folder = Location::local_folder(&results.join("_staging/p/x/shards"));
        let plan = ShardPlan {
            label: "p".into(),
            execution: "x".into(),
            window_ms: (0, 1),
            select_all: false,
            parts: vec![],
            shards: vec![vec![], vec![]],
        };
        block_on(async {
            let at = folder.join(PLAN);
            LocalStore
                .put(&at, json(&plan, PLAN).unwrap())
                .await
                .unwrap();
            let c = config(&results);
            let run =
                |plan: String, shard| merge_shard(ShardInput { plan, shard }, &c, &LocalStore);
            let outside = Location::local_folder(&dir.path().join("elsewhere/shards"));
            for wrong in [
                outside.join(PLAN).to_string(),
                folder.join("other.json").to_string(),
                format!("{}/../../shards/{PLAN}", folder.join("a")),
            ] {
                let e = run(wrong.clone(), 0).await.unwrap_err();
                assert_eq!(e.name(), "InvalidInput", "{wrong}");
                assert!(
                    e.to_string().starts_with("plan: must be a merge plan"),
                    "{e}"
                );
            }
            let e = run(at.to_string(), 2).await.unwrap_err();
            assert_eq!(
                e.to_string(),
                "shard: must be a shard of the plan, 0 to 1, got 2"
            );
            let gone = Location::local_folder(&results.join("_staging/p/y/shards"));
            let gone = gone.join(PLAN).to_string();
            let e = run(gone, 0).await.unwrap_err();
            assert!(e.to_string().contains("does not exist"), "{e}");
        });
    }
}
