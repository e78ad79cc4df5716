//! `s3la merge`: the MergeResults step as a standalone tool for any Athena
//! UNLOAD output — the parts listed by a manifest, or every file of a
//! folder — into one Parquet file and one csv.gz, on S3 or in a folder.

use std::path::Path;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context, anyhow, bail};
use clap::Args;
use s3la_shared::aws::{s3::S3Store, sdk_config};
use s3la_shared::location::Location;
use s3la_shared::results::merge::{every_row, merge_parts_observed, part_schema};
use s3la_shared::results::observer::{MergeObserver, Progress};
use s3la_shared::results::sharded::{Assembly, merge_sharded};
use s3la_shared::storage::{AnyStore, ObjectStore, local::LocalStore};
use serde_json::json;

use super::paths::refuse_location_overlap;
use super::progress::{human_bytes, thousands};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    s3la merge --manifest s3://my-results/athena/0a1b-manifest.csv --out s3://my-results/merged/\n  \
    s3la merge --parts ./unload-output --out ./merged --name requests-2024-01\n\n\
    Writes NAME.parquet (zstd, row groups of 128Ki rows, times as UTC milliseconds) and\n\
    NAME.csv.gz (header, RFC 4180 quoting, parallel gzip members). Each appears whole or not\n\
    at all: S3 multipart uploads complete only at the end, local files are renamed into place.\n\
    S3 locations use the standard AWS settings (AWS_PROFILE, AWS_REGION, ...).")]
pub struct MergeArgs {
    /// The query's manifest (`<query-id>-manifest.csv`, a path or s3:// URI); its lines are
    /// s3:// URIs or paths (relative ones are read from the manifest's folder).
    #[arg(long, value_name = "FILE|S3_URI", required_unless_present = "parts")]
    manifest: Option<String>,
    /// Instead of a manifest: a folder or s3:// prefix whose files are all parts, merged in
    /// name order (hidden files skipped).
    #[arg(long, value_name = "DIR|S3_PREFIX", conflicts_with = "manifest")]
    parts: Option<String>,
    /// The folder or s3:// prefix to write into.
    #[arg(long, value_name = "DIR|S3_URI")]
    out: String,
    /// Base name of the two outputs.
    #[arg(long, default_value = "merged")]
    name: String,
    /// Merge the parts in this many shards (runs of consecutive row groups, at most one shard
    /// per row group), each into files of its own under `<out>/.shards-<name>/`, then assemble
    /// the two outputs from the shards without decoding a row (on S3 by server-side copies).
    /// The outputs hold the same rows in the same order as with one.
    #[arg(long, value_name = "N", default_value_t = 1,
          value_parser = clap::value_parser!(u32).range(1..=100_000))]
    shards: u32,
}

/// A command-line location: an s3:// or file:// URI, else a local path.
fn location(arg: &str, flag: &str) -> anyhow::Result<Location> {
    if arg.starts_with("s3://") || arg.starts_with("file://") {
        Location::parse(arg).map_err(|m| anyhow!("{flag}: {m}"))
    } else {
        let path = std::path::absolute(arg).with_context(|| format!("{flag}: '{arg}'"))?;
        Ok(Location::Local(path))
    }
}

/// A manifest line: a URI, or a path relative to the manifest's own folder.
fn manifest_entry(line: &str, manifest: &Location) -> anyhow::Result<Location> {
    if line.starts_with("s3://") || line.starts_with("file://") || line.starts_with('/') {
        return location(line, "--manifest");
    }
    match manifest {
        Location::Local(p) => Ok(Location::Local(
            p.parent().unwrap_or(Path::new("/")).join(line),
        )),
        Location::S3 { .. } => {
            bail!("--manifest: the line '{line}' is a relative path, but the manifest is on S3")
        }
    }
}

fn is_hidden(at: &Location) -> bool {
    let uri = at.to_string();
    uri.rsplit('/').next().is_some_and(|n| n.starts_with('.'))
}

async fn list_parts<S: ObjectStore>(store: &S, a: &MergeArgs) -> anyhow::Result<Vec<Location>> {
    if let Some(manifest) = &a.manifest {
        let at = location(manifest, "--manifest")?;
        let text = store
            .get(&at)
            .await
            .map_err(|e| anyhow!("--manifest: {e}"))?;
        let text = std::str::from_utf8(&text).context("--manifest is not UTF-8 text")?;
        return text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(|l| manifest_entry(l, &at))
            .collect();
    }
    let dir = a.parts.as_deref().unwrap_or_default();
    let prefix = location(dir, "--parts")?;
    if let Location::Local(path) = &prefix
        && !path.is_dir()
    {
        bail!("--parts: '{}' is not a folder", path.display());
    }
    let prefix = prefix.join("");
    let mut parts: Vec<Location> = store
        .list(&prefix)
        .await
        .map_err(|e| anyhow!("--parts: {e}"))?
        .into_iter()
        .map(|o| o.location)
        .filter(|l| !is_hidden(l))
        .collect();
    parts.sort_by_key(|l| l.to_string());
    Ok(parts)
}

pub fn run(a: MergeArgs) -> anyhow::Result<ExitCode> {
    if a.name.is_empty() || a.name.starts_with('.') || a.name.contains(['/', '\\']) {
        bail!(
            "--name: '{}' must be a plain file name (no '/', not starting with '.')",
            a.name
        );
    }
    // Two workers: one reads and decodes parts while the other encodes.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(merge(a))
}

async fn merge(a: MergeArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    let out = location(&a.out, "--out")?;
    if let Some(dir) = &a.parts {
        refuse_location_overlap(("--parts", &location(dir, "--parts")?), ("--out", &out))?;
    }
    let args = [
        a.manifest.as_deref(),
        a.parts.as_deref(),
        Some(a.out.as_str()),
    ];
    let on_s3 = args.iter().flatten().any(|s| s.starts_with("s3://"));
    let store = AnyStore {
        local: LocalStore,
        s3: if on_s3 {
            Some(S3Store::from_config(&sdk_config().await))
        } else {
            None
        },
    };
    let parts = list_parts(&store, &a).await?;
    let Some(first) = parts.first() else {
        bail!("no parts to merge: the manifest or folder lists no data files");
    };
    let (parquet_at, csv_at) = (
        out.join(&format!("{}.parquet", a.name)),
        out.join(&format!("{}.csv.gz", a.name)),
    );
    if let Some(manifest) = &a.manifest {
        let manifest = location(manifest, "--manifest")?;
        for output in [&parquet_at, &csv_at] {
            refuse_location_overlap(("--manifest", &manifest), ("--out", output))?;
            for part in &parts {
                refuse_location_overlap(("the manifest's part", part), ("--out", output))?;
            }
        }
    }
    let schema = part_schema(&store, first).await?;
    let total = parts.len();
    let (merged, assembly) = if a.shards > 1 {
        let wanted = a.shards;
        eprintln!("Merging {total} parts in up to {wanted} shards into {parquet_at} and {csv_at}");
        let folder = out.join(&format!(".shards-{}/", a.name));
        let concurrency = s3la::local::merge_concurrency();
        let outputs = (&parquet_at, &csv_at);
        let shards = a.shards as usize;
        merge_sharded(
            &store,
            &parts,
            schema,
            outputs,
            &folder,
            shards,
            concurrency,
        )
        .await?
    } else {
        eprintln!("Merging {total} parts into {parquet_at} and {csv_at}");
        let progress = PrintProgress { total, started };
        let (merged, _) = merge_parts_observed(
            &store,
            &parts,
            schema,
            &parquet_at,
            &csv_at,
            every_row,
            progress,
        )
        .await?;
        (
            merged,
            Assembly {
                shards: 1,
                ..Assembly::default()
            },
        )
    };
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::to_string_pretty(&json!({
            "outputs": {"parquet": parquet_at.to_string(), "csvGz": csv_at.to_string()},
            "rows": merged.rows,
            "bytes": {"parquet": merged.parquet_bytes, "csvGz": merged.csv_gz_bytes},
            "dataFiles": total,
            "shards": assembly.shards,
            "assembly": {
                "copiedParts": assembly.copied_parts,
                "copiedBytes": assembly.copied_bytes,
                "readBytes": assembly.read_bytes,
                "shardSeconds": (assembly.shard_seconds * 1000.0).round() / 1000.0,
                "assemblySeconds": (assembly.assembly_seconds * 1000.0).round() / 1000.0,
            },
            "inputBytes": merged.input_bytes,
            "seconds": (seconds * 100.0).round() / 100.0,
        }))?
    );
    eprintln!(
        "Merged {} rows from {total} parts ({}) in {seconds:.1}s",
        thousands(merged.rows),
        human_bytes(merged.input_bytes)
    );
    Ok(ExitCode::SUCCESS)
}

/// Prints a line every 25 parts, and after the last.
struct PrintProgress {
    total: usize,
    started: Instant,
}

impl MergeObserver for PrintProgress {
    fn part_done(&mut self, p: &Progress) {
        if p.parts == self.total || p.parts.is_multiple_of(25) {
            eprintln!(
                "  {}/{} parts, {} rows, {} read, {:.1}s",
                p.parts,
                self.total,
                thousands(p.rows),
                human_bytes(p.input_bytes),
                self.started.elapsed().as_secs_f64()
            );
        }
    }
}
