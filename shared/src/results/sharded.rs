//! The merge in shards: the parts split into groups in order, each group
//! merged into a Parquet file and a csv.gz of its own (a shard), then one
//! Parquet file and one csv.gz assembled from the shards without decoding a
//! row ([`super::assemble`]). The shards are written beside the outputs,
//! under a hidden folder, and removed once the outputs are complete.
//!
//! The outputs hold the rows of the one-shard merge in the same order, and
//! appear whole or not at all, as that merge's do.

use std::io::Write;
use std::ops::Range;

use arrow_schema::SchemaRef;
use bytes::Bytes;
use futures::{StreamExt, TryStreamExt};
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData, ParquetMetaDataReader};

use super::assemble::{self, AssembleError};
use super::merge::{MergeError, Merged, PartSlice, merge_shard};
use crate::location::Location;
use crate::storage::sink::PartSink;
use crate::storage::{ObjectStore, StorageError, Upload};

/// Bytes read from a shard at a time while the outputs are assembled.
const COPY_BYTES: u64 = 8 << 20;

/// The first guess at a shard's footer and page indexes: its last bytes.
const TAIL_GUESS: u64 = 256 << 10;

/// `units` things in `shards` groups, in order, their sizes differing by at
/// most one; never more groups than things, and at least one.
pub fn split(units: usize, shards: usize) -> Vec<Range<usize>> {
    let n = shards.clamp(1, units.max(1));
    (0..n)
        .map(|i| (i * units / n)..((i + 1) * units / n))
        .collect()
}

/// A row group of a part: the unit shards are cut from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit {
    pub part: usize,
    pub row_group: usize,
}

/// The units in `shards` shards (at most one per unit), each as the slices
/// of parts it reads, in order.
pub fn cut(units: &[Unit], parts: &[Location], shards: usize) -> Vec<Vec<PartSlice>> {
    split(units.len(), shards)
        .into_iter()
        .map(|range| {
            let mut slices: Vec<(usize, Range<usize>)> = Vec::new();
            for u in &units[range] {
                match slices.last_mut() {
                    Some((part, groups)) if *part == u.part && groups.end == u.row_group => {
                        groups.end += 1;
                    }
                    _ => slices.push((u.part, u.row_group..u.row_group + 1)),
                }
            }
            slices
                .into_iter()
                .map(|(part, groups)| PartSlice {
                    at: parts[part].clone(),
                    row_groups: Some(groups),
                })
                .collect()
        })
        .collect()
}

/// Every row group of every part, in order, from the parts' footers.
async fn units<S: ObjectStore>(store: &S, parts: &[Location]) -> Result<Vec<Unit>, MergeError> {
    let mut units = Vec::new();
    for (part, at) in parts.iter().enumerate() {
        let groups = read_footer(store, at).await?.num_row_groups();
        units.extend((0..groups).map(|row_group| Unit { part, row_group }));
    }
    Ok(units)
}

/// Where shard `i` is written, in `folder`.
fn shard_at(folder: &Location, i: usize) -> (Location, Location) {
    (
        folder.join(&format!("shard-{i:05}.parquet")),
        folder.join(&format!("shard-{i:05}.csv.gz")),
    )
}

/// Merges `parts` in `shards` shards (at most one per row group: each shard
/// reads consecutive row groups, their counts differing by at most one) into
/// the Parquet file at `parquet_at` and the csv.gz at `csv_at`; the shards
/// are written into `folder` (a folder of their own: it is emptied of them
/// after) and merged `concurrency` at a time. Returns what was written and
/// how many shards there were.
pub async fn merge_sharded<S: ObjectStore>(
    store: &S,
    parts: &[Location],
    schema: SchemaRef,
    (parquet_at, csv_at): (&Location, &Location),
    folder: &Location,
    shards: usize,
    concurrency: usize,
) -> Result<(Merged, usize), MergeError> {
    let groups = cut(&units(store, parts).await?, parts, shards);
    let at: Vec<(Location, Location)> = (0..groups.len()).map(|i| shard_at(folder, i)).collect();
    let merged: Vec<Merged> = futures::stream::iter(groups.into_iter().enumerate())
        .map(|(i, group)| {
            let (schema, (p, c)) = (schema.clone(), at[i].clone());
            async move { merge_shard(store, &group, schema, &p, &c, i == 0).await }
        })
        .buffered(concurrency.max(1))
        .try_collect()
        .await?;
    let result = assemble_outputs(store, &at, parquet_at, csv_at).await;
    let shard_files: Vec<Location> = at.into_iter().flat_map(|(p, c)| [p, c]).collect();
    if let Err(e) = store.delete(&shard_files).await {
        eprintln!("note: the merge's shards under {folder} could not be removed: {e}");
    } else if let Location::Local(dir) = folder {
        // A local folder outlives its files; an S3 prefix does not.
        let _ = std::fs::remove_dir(dir);
    }
    let (parquet_bytes, csv_gz_bytes) = result?;
    let total = Merged {
        rows: merged.iter().map(|m| m.rows).sum(),
        parquet_bytes,
        csv_gz_bytes,
        input_bytes: merged.iter().map(|m| m.input_bytes).sum(),
    };
    Ok((total, merged.len()))
}

/// Writes the outputs from the shards at `shards`; both or neither complete.
async fn assemble_outputs<S: ObjectStore>(
    store: &S,
    shards: &[(Location, Location)],
    parquet_at: &Location,
    csv_at: &Location,
) -> Result<(u64, u64), MergeError> {
    let mut footers = Vec::with_capacity(shards.len());
    for (p, _) in shards {
        footers.push(read_footer(store, p).await?);
    }
    let plan = assemble::plan(&footers).map_err(assembly)?;
    let mut parquet = PartSink::new(store.upload(parquet_at).await?);
    let copied = async {
        for (shard, range) in &plan.ranges {
            copy(store, &shards[*shard].0, range.clone(), &mut parquet).await?;
        }
        parquet.writer().write_all(&plan.tail)?;
        Ok::<_, MergeError>(())
    }
    .await;
    if let Err(e) = copied {
        let _ = parquet.abort().await;
        return Err(e);
    }
    let mut csv = match store.upload(csv_at).await {
        Ok(u) => PartSink::new(u),
        Err(e) => {
            let _ = parquet.abort().await;
            return Err(e.into());
        }
    };
    let copied = async {
        for (_, c) in shards {
            let size = store.size(c).await?.ok_or_else(|| missing(c))?;
            copy(store, c, 0..size, &mut csv).await?;
        }
        Ok::<_, MergeError>(())
    }
    .await;
    if let Err(e) = copied {
        let _ = parquet.abort().await;
        let _ = csv.abort().await;
        return Err(e);
    }
    let parquet_bytes = match parquet.complete().await {
        Ok(n) => n,
        Err(e) => {
            let _ = csv.abort().await;
            return Err(e.into());
        }
    };
    Ok((parquet_bytes, csv.complete().await?))
}

fn assembly(e: AssembleError) -> MergeError {
    MergeError::Parquet(parquet::errors::ParquetError::General(e.to_string()))
}

fn missing(at: &Location) -> MergeError {
    MergeError::Storage(StorageError::local(at.to_string(), "the shard is missing"))
}

/// Copies `range` of the object at `from` into `to`, a piece at a time.
async fn copy<S: ObjectStore, U: Upload>(
    store: &S,
    from: &Location,
    range: Range<u64>,
    to: &mut PartSink<U>,
) -> Result<(), MergeError> {
    let mut at = range.start;
    while at < range.end {
        let end = range.end.min(at + COPY_BYTES);
        let piece = store.get_range(from, at..end).await?;
        if piece.len() as u64 != end - at {
            return Err(missing(from));
        }
        to.writer().write_all(&piece)?;
        to.upload_full_parts().await?;
        at = end;
    }
    Ok(())
}

/// A shard's footer and page indexes, from the end of the object only.
async fn read_footer<S: ObjectStore>(
    store: &S,
    at: &Location,
) -> Result<ParquetMetaData, MergeError> {
    let size = store.size(at).await?.ok_or_else(|| missing(at))?;
    let mut want = TAIL_GUESS.min(size);
    loop {
        let tail: Bytes = store.get_range(at, size - want..size).await?;
        let mut reader =
            ParquetMetaDataReader::new().with_page_index_policy(PageIndexPolicy::Optional);
        match reader.try_parse_sized(&tail, size) {
            Ok(()) => return Ok(reader.finish()?),
            Err(parquet::errors::ParquetError::NeedMoreData(n)) if (n as u64) > want => {
                want = (n as u64).min(size);
            }
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_take_consecutive_row_groups_as_evenly_as_counts_allow() {
        let parts: Vec<Location> = ["/p0", "/p1", "/p2"]
            .iter()
            .map(|p| Location::Local(p.into()))
            .collect();
        // p0 has 3 row groups, p1 none, p2 2.
        let units: Vec<Unit> = [(0, 0), (0, 1), (0, 2), (2, 0), (2, 1)]
            .iter()
            .map(|&(part, row_group)| Unit { part, row_group })
            .collect();
        let slice = |p: usize, g: Range<usize>| PartSlice {
            at: parts[p].clone(),
            row_groups: Some(g),
        };
        assert_eq!(
            cut(&units, &parts, 1),
            vec![vec![slice(0, 0..3), slice(2, 0..2)]]
        );
        assert_eq!(
            cut(&units, &parts, 2),
            vec![vec![slice(0, 0..2)], vec![slice(0, 2..3), slice(2, 0..2)]]
        );
        // More shards than row groups: one each.
        assert_eq!(cut(&units, &parts, 37).len(), 5);
        // No row groups at all: one empty shard, which writes empty outputs.
        assert_eq!(cut(&[], &parts, 3), vec![Vec::<PartSlice>::new()]);
        assert_eq!(split(10, 3), vec![0..3, 3..6, 6..10]);
    }
}
