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
use super::crc64::Crc64;
use super::merge::{MergeError, Merged, PartSlice, merge_shard};
use crate::location::Location;
use crate::storage::sink::{MAX_COPY_PART_BYTES, MIN_PART_BYTES, PartSink};
use crate::storage::{ObjectStore, StorageError, Upload};

/// Bytes read from a shard at a time where the assembly must read them.
const READ_BYTES: u64 = 8 << 20;

/// What the assembly of the outputs did: shard bytes copied by the store
/// (S3's UploadPartCopy; on a local disk, a file copy) and shard bytes read
/// through this process, which only happens around shards smaller than a
/// part (S3 takes no part under 5 MiB but the last).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Assembly {
    pub shards: usize,
    /// Seconds the shards took to merge, all of them (they overlap when
    /// merged concurrently), and then to assemble.
    pub shard_seconds: f64,
    pub assembly_seconds: f64,
    pub copied_parts: u64,
    pub copied_bytes: u64,
    pub read_bytes: u64,
}

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

/// The row groups of a merge's parts, from their footers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Units {
    /// Every row group of every part, in order.
    pub units: Vec<Unit>,
    pub rows: u64,
    /// The row groups' compressed bytes.
    pub bytes: u64,
}

/// Every row group of every part, in order, from the parts' footers.
pub async fn units<S: ObjectStore>(store: &S, parts: &[Location]) -> Result<Units, MergeError> {
    let mut all = Units::default();
    for (part, at) in parts.iter().enumerate() {
        let footer = read_footer(store, at).await?;
        for (row_group, rg) in footer.row_groups().iter().enumerate() {
            all.units.push(Unit { part, row_group });
            all.rows += rg.num_rows().max(0) as u64;
            all.bytes += rg.compressed_size().max(0) as u64;
        }
    }
    Ok(all)
}

/// Where shard `i` is written, in `folder`: its Parquet file and csv.gz.
pub fn shard_at(folder: &Location, i: usize) -> (Location, Location) {
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
/// how it was assembled.
pub async fn merge_sharded<S: ObjectStore>(
    store: &S,
    parts: &[Location],
    schema: SchemaRef,
    (parquet_at, csv_at): (&Location, &Location),
    folder: &Location,
    shards: usize,
    concurrency: usize,
) -> Result<(Merged, Assembly), MergeError> {
    let started = std::time::Instant::now();
    let groups = cut(&units(store, parts).await?.units, parts, shards);
    let at: Vec<(Location, Location)> = (0..groups.len()).map(|i| shard_at(folder, i)).collect();
    let merged: Result<Vec<Merged>, MergeError> =
        futures::stream::iter(groups.into_iter().enumerate())
            .map(|(i, group)| {
                let (schema, (p, c)) = (schema.clone(), at[i].clone());
                async move { merge_shard(store, &group, schema, &p, &c, i == 0).await }
            })
            .buffered(concurrency.max(1))
            .try_collect()
            .await;
    let mut assembly = Assembly {
        shard_seconds: started.elapsed().as_secs_f64(),
        ..Assembly::default()
    };
    let result = match merged {
        Ok(merged) => {
            assembly.shards = merged.len();
            let started = std::time::Instant::now();
            let sizes =
                assemble_outputs(store, &at, None, (parquet_at, csv_at), &mut assembly).await;
            assembly.assembly_seconds = started.elapsed().as_secs_f64();
            sizes.map(|a| (merged, (a.parquet.len, a.csv_gz.len)))
        }
        Err(e) => Err(e),
    };
    // Whether the merge succeeded or not: a failed one leaves no shards.
    remove_shards(store, folder, at).await;
    let (merged, (parquet_bytes, csv_gz_bytes)) = result?;
    let total = Merged {
        rows: merged.iter().map(|m| m.rows).sum(),
        parquet_bytes,
        csv_gz_bytes,
        input_bytes: merged.iter().map(|m| m.input_bytes).sum(),
    };
    Ok((total, assembly))
}

/// Deletes the shards' files (those not written are no error) and, on a
/// local disk, their folder; what cannot be removed is reported, not fatal:
/// the outputs are complete or the merge's own error is what to fix.
async fn remove_shards<S: ObjectStore>(
    store: &S,
    folder: &Location,
    at: Vec<(Location, Location)>,
) {
    let files: Vec<Location> = at.into_iter().flat_map(|(p, c)| [p, c]).collect();
    remove_files(store, folder, &files).await;
}

/// Deletes `files`, the contents of `folder`, and on a local disk the
/// folder once empty; what cannot be removed is reported, not fatal.
pub async fn remove_files<S: ObjectStore>(store: &S, folder: &Location, files: &[Location]) {
    match store.delete(files).await {
        Ok(report) if report.failed.is_empty() => {
            if let Location::Local(dir) = folder {
                // A local folder outlives its files; an S3 prefix does not.
                let _ = std::fs::remove_dir(dir);
            }
        }
        Ok(report) => eprintln!(
            "note: {} of the merge's shard files under {folder} could not be removed, \
             the first: {} ({})",
            report.failed.len(),
            report.failed[0].uri,
            report.failed[0].message
        ),
        Err(e) => eprintln!("note: the merge's shards under {folder} could not be removed: {e}"),
    }
}

/// The outputs an assembly wrote: their sizes, and their CRCs where the
/// shards' were given (else only `len` is known, `crc` is 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Assembled {
    pub parquet: Crc64,
    pub csv_gz: Crc64,
}

/// Writes the outputs from the shards at `shards`; both or neither
/// complete. With `crcs` (each shard's Parquet file and csv.gz, whole), the
/// outputs' CRCs are put together from them and the few bytes read here
/// (each shard's footer), never from the copied bytes.
pub async fn assemble_outputs<S: ObjectStore>(
    store: &S,
    shards: &[(Location, Location)],
    crcs: Option<&[(Crc64, Crc64)]>,
    (parquet_at, csv_at): (&Location, &Location),
    assembly: &mut Assembly,
) -> Result<Assembled, MergeError> {
    let mut footers = Vec::with_capacity(shards.len());
    for (p, _) in shards {
        footers.push(read_footer(store, p).await?);
    }
    let plan = assemble::plan(&footers).map_err(assembly_error)?;
    let digests = match crcs {
        Some(crcs) => Some(assembled_crcs(store, shards, crcs, &plan).await?),
        None => None,
    };
    let mut parquet = PartSink::new(store.upload(parquet_at).await?);
    let copied = async {
        for (shard, range) in &plan.ranges {
            copy(
                store,
                &shards[*shard].0,
                range.clone(),
                &mut parquet,
                assembly,
            )
            .await?;
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
            copy(store, c, 0..size, &mut csv, assembly).await?;
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
    let csv_gz_bytes = csv.complete().await?;
    let (parquet, csv_gz) = digests.unwrap_or((Crc64::EMPTY, Crc64::EMPTY));
    Ok(Assembled {
        parquet: Crc64 {
            len: parquet_bytes,
            ..parquet
        },
        csv_gz: Crc64 {
            len: csv_gz_bytes,
            ..csv_gz
        },
    })
}

/// The CRCs of the outputs the assembly will write: the csv.gz is the
/// shards' csv.gz files end to end; the Parquet file is each shard's range
/// of the plan (its CRC cut from the shard's by its ends, read here) and
/// the new footer.
async fn assembled_crcs<S: ObjectStore>(
    store: &S,
    shards: &[(Location, Location)],
    crcs: &[(Crc64, Crc64)],
    plan: &assemble::Plan,
) -> Result<(Crc64, Crc64), MergeError> {
    let mut parquet = Crc64::EMPTY;
    for (shard, range) in &plan.ranges {
        let (at, whole) = (&shards[*shard].0, crcs[*shard].0);
        let head = read_range(store, at, 0..range.start).await?;
        let tail = read_range(store, at, range.end..whole.len).await?;
        let part = whole
            .without_tail(Crc64::of(&tail))
            .and_then(|c| c.without_head(Crc64::of(&head)))
            .ok_or_else(|| {
                assembly_error(AssembleError::Shard {
                    shard: *shard,
                    what: format!("its recorded size, {} bytes, is not its size", whole.len),
                })
            })?;
        parquet = parquet.then(part);
    }
    parquet = parquet.then(Crc64::of(&plan.tail));
    let csv_gz = crcs
        .iter()
        .fold(Crc64::EMPTY, |all, (_, csv)| all.then(*csv));
    Ok((parquet, csv_gz))
}

fn assembly_error(e: AssembleError) -> MergeError {
    MergeError::Parquet(parquet::errors::ParquetError::General(e.to_string()))
}

fn missing(at: &Location) -> MergeError {
    MergeError::Storage(StorageError::local(at.to_string(), "the shard is missing"))
}

/// Appends `range` of the object at `from` to `to`: copied by the store in
/// parts of at least [`MIN_PART_BYTES`] (at most [`MAX_COPY_PART_BYTES`]),
/// except for what tops up bytes already buffered to a whole part and a
/// range too short for a part of its own, which are read and buffered.
async fn copy<S: ObjectStore, U: Upload>(
    store: &S,
    from: &Location,
    range: Range<u64>,
    to: &mut PartSink<U>,
    assembly: &mut Assembly,
) -> Result<(), MergeError> {
    let min = MIN_PART_BYTES as u64;
    let mut at = range.start;
    let end = range.end;
    if to.buffered() > 0 {
        // A part must not be short unless it is the last: fill this one up.
        let want = min.saturating_sub(to.buffered() as u64).min(end - at);
        read_into(store, from, at..at + want, to, assembly).await?;
        at += want;
        if to.buffered() as u64 >= min {
            to.flush_part().await?;
        }
    }
    while end - at >= min {
        let mut n = (end - at).min(MAX_COPY_PART_BYTES);
        let rest = end - at - n;
        if rest > 0 && rest < min {
            // Leave a whole part for the last copy.
            n -= min - rest;
        }
        to.copy_part(from, at..at + n).await?;
        assembly.copied_parts += 1;
        assembly.copied_bytes += n;
        at += n;
    }
    read_into(store, from, at..end, to, assembly).await
}

/// Reads `range` of `from` into `to`'s buffer, a piece at a time.
async fn read_into<S: ObjectStore, U: Upload>(
    store: &S,
    from: &Location,
    range: Range<u64>,
    to: &mut PartSink<U>,
    assembly: &mut Assembly,
) -> Result<(), MergeError> {
    let mut at = range.start;
    while at < range.end {
        let end = range.end.min(at + READ_BYTES);
        let piece = read_range(store, from, at..end).await?;
        to.writer().write_all(&piece)?;
        assembly.read_bytes += end - at;
        at = end;
    }
    Ok(())
}

/// `range` of `at`; nothing for an empty range (S3 has no empty Range header).
async fn read_range<S: ObjectStore>(
    store: &S,
    at: &Location,
    range: Range<u64>,
) -> Result<Bytes, MergeError> {
    if range.is_empty() {
        return Ok(Bytes::new());
    }
    let want = range.end - range.start;
    let got = store.get_range(at, range).await?;
    if got.len() as u64 != want {
        return Err(missing(at));
    }
    Ok(got)
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
    use crate::storage::local::LocalStore;
    use crate::test_util::block_on;

    /// An upload that keeps its parts' kinds and sizes, and their bytes.
    #[derive(Default)]
    struct Recorded {
        parts: Vec<(&'static str, u64)>,
        bytes: Vec<u8>,
    }

    impl Upload for &mut Recorded {
        async fn put_part(&mut self, data: Bytes) -> Result<(), StorageError> {
            self.parts.push(("put", data.len() as u64));
            self.bytes.extend_from_slice(&data);
            Ok(())
        }
        async fn copy_part(&mut self, from: &Location, r: Range<u64>) -> Result<(), StorageError> {
            self.parts.push(("copy", r.end - r.start));
            let all = LocalStore.get(from).await?;
            self.bytes
                .extend_from_slice(&all[r.start as usize..r.end as usize]);
            Ok(())
        }
        async fn complete(self) -> Result<u64, StorageError> {
            Ok(self.bytes.len() as u64)
        }
        async fn abort(self) -> Result<(), StorageError> {
            Ok(())
        }
    }

    #[test]
    fn shard_bytes_are_copied_by_the_store_in_parts_s3_accepts() {
        const MIB: u64 = 1 << 20;
        let dir = tempfile::tempdir().unwrap();
        // Shards of 1, 12, 3, 6 and 11 MiB.
        let sizes = [MIB, 12 * MIB, 3 * MIB, 6 * MIB, 11 * MIB];
        let mut expected = Vec::new();
        let files: Vec<Location> = sizes
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let bytes: Vec<u8> = (0..n).map(|b| (b as usize * 31 + i) as u8).collect();
                expected.extend_from_slice(&bytes);
                let p = dir.path().join(format!("s{i}"));
                std::fs::write(&p, bytes).unwrap();
                Location::Local(p)
            })
            .collect();
        let mut recorded = Recorded::default();
        let mut assembly = Assembly::default();
        block_on(async {
            let mut sink = PartSink::new(&mut recorded);
            for (f, n) in files.iter().zip(sizes) {
                copy(&LocalStore, f, 0..n, &mut sink, &mut assembly)
                    .await
                    .unwrap();
            }
            sink.complete().await.unwrap();
        });
        assert_eq!(recorded.bytes, expected, "the bytes, in order");
        let (last, before) = recorded.parts.split_last().unwrap();
        assert!(
            before.iter().all(|(_, n)| *n >= MIN_PART_BYTES as u64),
            "{:?}",
            recorded.parts
        );
        assert!(last.1 > 0);
        // 1 MiB read and topped up to a part by 4 of the 12 MiB shard, its
        // other 8 copied; 3 MiB read and topped up by 2 of the 6, its other 4
        // (under a part) read; topped up by 1 of the 11, its other 10 copied.
        assert_eq!(
            recorded.parts,
            vec![
                ("put", 5 * MIB),
                ("copy", 8 * MIB),
                ("put", 5 * MIB),
                ("put", 5 * MIB),
                ("copy", 10 * MIB)
            ]
        );
        assert_eq!(assembly.copied_bytes, 18 * MIB);
        assert_eq!(assembly.read_bytes, 15 * MIB);
    }

    #[test]
    fn the_outputs_crcs_are_put_together_from_the_shards_crcs_and_footers() {
        use crate::results::output_set::Checksummed;
        use arrow_array::{Int64Array, RecordBatch, StringArray};
        let dir = tempfile::tempdir().unwrap();
        let mut parts = Vec::new();
        for p in 0..3i64 {
            let path = dir.path().join(format!("p{p}"));
            let props = parquet::file::properties::WriterProperties::builder()
                .set_max_row_group_row_count(Some(7))
                .build();
            let batch = RecordBatch::try_from_iter(vec![
                (
                    "n",
                    std::sync::Arc::new(Int64Array::from_iter_values(p * 100..p * 100 + 30)) as _,
                ),
                (
                    "s",
                    std::sync::Arc::new(StringArray::from_iter_values(
                        (0..30).map(|i| format!("row {i} of part {p}")),
                    )) as _,
                ),
            ])
            .unwrap();
            let file = std::fs::File::create(&path).unwrap();
            let mut w =
                parquet::arrow::ArrowWriter::try_new(file, batch.schema(), Some(props)).unwrap();
            w.write(&batch).unwrap();
            w.close().unwrap();
            parts.push(Location::Local(path));
        }
        let schema = block_on(super::super::merge::part_schema(&LocalStore, &parts[0])).unwrap();
        let folder = Location::local_folder(dir.path());
        block_on(async {
            let store = Checksummed::new(LocalStore);
            let groups = cut(&units(&store, &parts).await.unwrap().units, &parts, 4);
            assert_eq!(groups.len(), 4);
            let mut at = Vec::new();
            let mut crcs = Vec::new();
            for (i, group) in groups.iter().enumerate() {
                let (p, c) = shard_at(&folder, i);
                merge_shard(&store, group, schema.clone(), &p, &c, i == 0)
                    .await
                    .unwrap();
                let crc = |at: &Location| store.written(at).unwrap().crc().unwrap();
                crcs.push((crc(&p), crc(&c)));
                at.push((p, c));
            }
            let out = (folder.join("all.parquet"), folder.join("all.csv.gz"));
            let mut assembly = Assembly::default();
            let got = assemble_outputs(
                &LocalStore,
                &at,
                Some(&crcs),
                (&out.0, &out.1),
                &mut assembly,
            )
            .await
            .unwrap();
            let parquet = std::fs::read(dir.path().join("all.parquet")).unwrap();
            let csv = std::fs::read(dir.path().join("all.csv.gz")).unwrap();
            assert_eq!(got.parquet, Crc64::of(&parquet));
            assert_eq!(got.csv_gz, Crc64::of(&csv));
        });
    }

    #[test]
    fn a_failed_shard_leaves_no_shards_and_no_outputs() {
        use arrow_array::{Int64Array, RecordBatch, StringArray};
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, batch: RecordBatch| {
            let p = dir.path().join(name);
            let mut w = parquet::arrow::ArrowWriter::try_new(
                std::fs::File::create(&p).unwrap(),
                batch.schema(),
                None,
            )
            .unwrap();
            w.write(&batch).unwrap();
            w.close().unwrap();
            Location::Local(p)
        };
        let good = RecordBatch::try_from_iter(vec![(
            "n",
            std::sync::Arc::new(Int64Array::from(vec![1, 2])) as _,
        )])
        .unwrap();
        // The second part lacks the column `n`: its shard fails after the
        // first shard was written.
        let bad = RecordBatch::try_from_iter(vec![(
            "other",
            std::sync::Arc::new(StringArray::from(vec!["x"])) as _,
        )])
        .unwrap();
        let parts = vec![write("p0", good.clone()), write("p1", bad)];
        let out = dir.path().join("out");
        std::fs::create_dir(&out).unwrap();
        let folder = Location::local_folder(&out.join(".shards-merged"));
        let (parquet_at, csv_at) = (
            Location::Local(out.join("merged.parquet")),
            Location::Local(out.join("merged.csv.gz")),
        );
        let e = block_on(merge_sharded(
            &LocalStore,
            &parts,
            good.schema(),
            (&parquet_at, &csv_at),
            &folder,
            2,
            1,
        ))
        .unwrap_err();
        assert!(e.to_string().contains("p1"), "{e}");
        let left: Vec<_> = std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert!(left.is_empty(), "{left:?}");
    }

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
