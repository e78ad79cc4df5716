//! One Parquet file and one csv.gz out of shards merged apart, without
//! decoding a row: the base of the sharded merge, whose shards each write
//! their rows as a Parquet file and a csv.gz of their own.
//!
//! - **csv.gz**: a gzip file may hold several members, read one after the
//!   other as one stream (RFC 1952, 2.2), so the shards' files, each its own
//!   members, laid end to end are the whole csv.gz. The first shard keeps
//!   the header line; the others are written without one.
//! - **Parquet**: a file is `PAR1`, its row groups' column chunks, the page
//!   indexes, the footer (`FileMetaData`), the footer's length and `PAR1`.
//!   The shards' column-chunk bytes are laid end to end after one `PAR1`,
//!   unchanged; a new footer lists every shard's row groups in order, with
//!   every offset that points into the file (row groups, data and
//!   dictionary pages, each page in the offset index) moved by where the
//!   shard's bytes now start, and the page indexes written again after the
//!   row groups. Statistics, encodings and the Arrow schema are copied as
//!   they are: the shards were written by one writer's settings.
//!
//! [`plan`] works from the shards' footers alone, so on S3 the assembly reads
//! only their tails, copies the row data server-side (UploadPartCopy), and
//! uploads only what it wrote itself: [`Plan::tail`].

use std::io::Write;
use std::ops::Range;

use parquet::errors::ParquetError;
use parquet::file::metadata::{
    FileMetaData, ParquetMetaData, ParquetMetaDataBuilder, ParquetMetaDataReader,
    ParquetMetaDataWriter, RowGroupMetaData,
};
use parquet::file::page_index::offset_index::OffsetIndexMetaData;
use parquet::file::reader::ChunkReader;
use parquet::file::writer::TrackedWrite;

/// Parquet's magic bytes, at the start and the end of every file.
const MAGIC: &[u8; 4] = b"PAR1";

#[derive(Debug, thiserror::Error)]
pub enum AssembleError {
    #[error("no shards to assemble")]
    NoShards,
    #[error("shard {shard}: {what}")]
    Shard { shard: usize, what: String },
    #[error("writing the footer: {0}")]
    Parquet(#[from] ParquetError),
    #[error("writing: {0}")]
    Io(#[from] std::io::Error),
}

/// How to make the assembled Parquet file: the bytes `ranges` of the shards,
/// in order, then `tail`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// `(shard, byte range)`: the first keeps the leading `PAR1`.
    pub ranges: Vec<(usize, Range<u64>)>,
    /// The page indexes, the footer, its length and `PAR1`.
    pub tail: Vec<u8>,
    pub rows: u64,
    pub row_groups: usize,
}

impl Plan {
    /// The assembled file's size.
    pub fn len(&self) -> u64 {
        self.ranges
            .iter()
            .map(|(_, r)| r.end - r.start)
            .sum::<u64>()
            + self.tail.len() as u64
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A shard's footer with its page indexes, read from the end of the file.
pub fn read_footer<R: ChunkReader>(shard: &R) -> Result<ParquetMetaData, ParquetError> {
    ParquetMetaDataReader::new()
        .with_page_index_policy(parquet::file::metadata::PageIndexPolicy::Optional)
        .parse_and_finish(shard)
}

/// Where a shard's column chunks end: its bytes `[4, end)` are row data.
fn data_end(shard: usize, m: &ParquetMetaData) -> Result<u64, AssembleError> {
    let mut end = MAGIC.len() as u64;
    for rg in m.row_groups() {
        for c in rg.columns() {
            if c.bloom_filter_offset().is_some() {
                // Bloom filters sit between the row groups and the footer;
                // the merge writes none, and copying them is not built.
                return Err(AssembleError::Shard {
                    shard,
                    what: format!("column {} has a bloom filter", c.column_path()),
                });
            }
            let (start, len) = c.byte_range();
            if start < MAGIC.len() as u64 {
                return Err(AssembleError::Shard {
                    shard,
                    what: format!("column {} starts at byte {start}", c.column_path()),
                });
            }
            end = end.max(start + len);
        }
    }
    Ok(end)
}

/// The plan that lays the shards' row groups end to end, in order, under one
/// footer. Every shard must have the schema and key-value metadata (the
/// Arrow schema) of the first.
pub fn plan(shards: &[ParquetMetaData]) -> Result<Plan, AssembleError> {
    let first = shards.first().ok_or(AssembleError::NoShards)?;
    let file = first.file_metadata();
    let mut ranges = Vec::with_capacity(shards.len());
    let mut row_groups: Vec<RowGroupMetaData> = Vec::new();
    let mut column_index = Vec::new();
    let mut offset_index = Vec::new();
    // A shard without rows has no row groups and so no page indexes: the
    // first shard with rows says whether the file has them.
    let with_rows = shards
        .iter()
        .find(|m| m.num_row_groups() > 0)
        .unwrap_or(first);
    let has_column_index = with_rows.column_index().is_some();
    let has_offset_index = with_rows.offset_index().is_some();
    // Where the next shard's first column chunk lands.
    let mut at = MAGIC.len() as u64;
    for (shard, m) in shards.iter().enumerate() {
        let f = m.file_metadata();
        if f.schema_descr() != file.schema_descr()
            || f.key_value_metadata() != file.key_value_metadata()
        {
            return Err(AssembleError::Shard {
                shard,
                what: "its schema differs from the first shard's".into(),
            });
        }
        if m.num_row_groups() > 0
            && (m.column_index().is_some() != has_column_index
                || m.offset_index().is_some() != has_offset_index)
        {
            return Err(AssembleError::Shard {
                shard,
                what: "its page indexes differ from the first shard's".into(),
            });
        }
        let end = data_end(shard, m)?;
        let from = if shard == 0 { 0 } else { MAGIC.len() as u64 };
        if from < end {
            ranges.push((shard, from..end));
        }
        let shift = at as i64 - MAGIC.len() as i64;
        for (i, rg) in m.row_groups().iter().enumerate() {
            row_groups.push(moved(rg, shift, row_groups.len())?);
            if let Some(ci) = m.column_index() {
                column_index.push(ci[i].clone());
            }
            if let Some(oi) = m.offset_index() {
                offset_index.push(oi[i].iter().map(|o| moved_pages(o, shift)).collect());
            }
        }
        at += end - MAGIC.len() as u64;
    }
    let rows = row_groups.iter().map(|rg| rg.num_rows() as u64).sum();
    let count = row_groups.len();
    let file = FileMetaData::new(
        file.version(),
        rows as i64,
        file.created_by().map(str::to_string),
        file.key_value_metadata().cloned(),
        file.schema_descr_ptr(),
        file.column_orders().cloned(),
    );
    let metadata = ParquetMetaDataBuilder::new(file)
        .set_row_groups(row_groups)
        .set_column_index(has_column_index.then_some(column_index))
        .set_offset_index(has_offset_index.then_some(offset_index))
        .build();
    // The footer's offsets are the positions its writer counts: it starts
    // counting where the row data ends.
    let mut tail = SkipFirst {
        skip: at,
        out: Vec::new(),
    };
    {
        let mut tracked = TrackedWrite::new(&mut tail);
        skip_bytes(&mut tracked, at)?;
        ParquetMetaDataWriter::new_with_tracked(tracked, &metadata).finish()?;
    }
    Ok(Plan {
        ranges,
        tail: tail.out,
        rows,
        row_groups: count,
    })
}

/// A row group of a shard whose bytes moved by `shift`, numbered `ordinal`.
fn moved(
    rg: &RowGroupMetaData,
    shift: i64,
    ordinal: usize,
) -> Result<RowGroupMetaData, ParquetError> {
    let columns = rg
        .columns()
        .iter()
        .map(|c| {
            let b = c.clone().into_builder();
            b.set_data_page_offset(c.data_page_offset() + shift)
                .set_dictionary_page_offset(c.dictionary_page_offset().map(|o| o + shift))
                .set_index_page_offset(c.index_page_offset().map(|o| o + shift))
                // Written again, and placed, by the footer's writer.
                .set_column_index_offset(None)
                .set_column_index_length(None)
                .set_offset_index_offset(None)
                .set_offset_index_length(None)
                .build()
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut b =
        rg.clone()
            .into_builder()
            .set_column_metadata(columns)
            .set_ordinal(i16::try_from(ordinal).map_err(|_| {
                ParquetError::General(format!("more than {} row groups", i16::MAX))
            })?);
    if let Some(offset) = rg.file_offset() {
        b = b.set_file_offset(offset + shift);
    }
    b.build()
}

fn moved_pages(o: &OffsetIndexMetaData, shift: i64) -> OffsetIndexMetaData {
    let mut o = o.clone();
    for page in &mut o.page_locations {
        page.offset += shift;
    }
    o
}

/// Writes `n` bytes that [`SkipFirst`] drops: the tracked count is what moves.
fn skip_bytes<W: Write>(w: &mut W, n: u64) -> std::io::Result<()> {
    static ZEROS: [u8; 1 << 16] = [0; 1 << 16];
    let mut left = n;
    while left > 0 {
        let k = left.min(ZEROS.len() as u64) as usize;
        w.write_all(&ZEROS[..k])?;
        left -= k as u64;
    }
    Ok(())
}

/// A writer that drops the first `skip` bytes and keeps the rest.
struct SkipFirst {
    skip: u64,
    out: Vec<u8>,
}

impl Write for SkipFirst {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let dropped = (self.skip.min(buf.len() as u64)) as usize;
        self.skip -= dropped as u64;
        self.out.extend_from_slice(&buf[dropped..]);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Writes the file `plan` describes, reading each range from `shards`.
pub fn write_plan<R: ChunkReader, W: Write>(
    plan: &Plan,
    shards: &[R],
    out: &mut W,
) -> Result<(), AssembleError> {
    for (shard, range) in &plan.ranges {
        let mut bytes = shards[*shard].get_read(range.start)?;
        let copied = std::io::copy(
            &mut std::io::Read::take(&mut bytes, range.end - range.start),
            out,
        )?;
        if copied != range.end - range.start {
            return Err(AssembleError::Shard {
                shard: *shard,
                what: format!("ended at {} of {} bytes", copied, range.end - range.start),
            });
        }
    }
    out.write_all(&plan.tail)?;
    Ok(())
}

/// Convenience for shards held in memory.
pub fn assemble_bytes(shards: &[bytes::Bytes]) -> Result<Vec<u8>, AssembleError> {
    let footers = shards
        .iter()
        .map(read_footer)
        .collect::<Result<Vec<_>, _>>()?;
    let plan = plan(&footers)?;
    let mut out = Vec::with_capacity(plan.len() as usize);
    write_plan(&plan, shards, &mut out)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::sync::Arc;

    use arrow_array::{Int64Array, RecordBatch, StringArray, TimestampMillisecondArray};
    use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
    use arrow_select::concat::concat_batches;
    use bytes::Bytes;
    use parquet::arrow::arrow_reader::{
        ArrowReaderOptions, ParquetRecordBatchReaderBuilder, RowSelection, RowSelector,
    };

    use crate::results::merge::Merger;

    fn schema() -> SchemaRef {
        Arc::new(Schema::new(vec![
            Field::new(
                "requestdatetime",
                DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
                true,
            ),
            Field::new("operation", DataType::Utf8, true),
            Field::new("key", DataType::Utf8, true),
            Field::new("requestid", DataType::Utf8, true),
            Field::new("bytessent", DataType::Int64, true),
        ]))
    }

    /// `n` rows from `from`, with repeats (dictionaries), unique ids (no
    /// dictionary) and nulls.
    fn rows(from: usize, n: usize) -> RecordBatch {
        let i = from..from + n;
        RecordBatch::try_new(
            schema(),
            vec![
                Arc::new(
                    TimestampMillisecondArray::from_iter_values(
                        i.clone().map(|i| 1_704_067_200_000 + i as i64 * 1_000),
                    )
                    .with_timezone("UTC"),
                ),
                Arc::new(StringArray::from_iter_values(
                    i.clone()
                        .map(|i| ["REST.GET.OBJECT", "REST.PUT.OBJECT"][i % 2]),
                )),
                Arc::new(StringArray::from_iter(
                    i.clone()
                        .map(|i| (i % 7 != 0).then(|| format!("k/{}", i % 97))),
                )),
                Arc::new(StringArray::from_iter_values(
                    i.clone().map(|i| format!("{i:016X}")),
                )),
                Arc::new(Int64Array::from_iter(
                    i.map(|i| (i % 5 != 0).then_some(i as i64 * 3)),
                )),
            ],
        )
        .unwrap()
    }

    /// What the merge writes for `batches`: its Parquet file and csv.gz.
    fn merged(batches: &[RecordBatch], header: bool) -> (Bytes, Vec<u8>) {
        let mut m = Merger::new(schema(), Vec::new(), Vec::new()).unwrap();
        if !header {
            m = m.without_csv_header();
        }
        for b in batches {
            m.write(b).unwrap();
        }
        let (_, parquet, csv) = m.finish().unwrap();
        (Bytes::from(parquet), csv)
    }

    /// The rows `0..total` merged as one file, and as shards of the sizes
    /// `cuts` makes, assembled.
    fn one_and_assembled(total: usize, cuts: &[usize]) -> (Bytes, Vec<u8>, Bytes, Vec<u8>) {
        let (one, one_csv) = merged(&[rows(0, total)], true);
        let mut bounds = vec![0];
        bounds.extend(cuts.iter().copied());
        bounds.push(total);
        let shards: Vec<(Bytes, Vec<u8>)> = bounds
            .windows(2)
            .enumerate()
            .map(|(s, w)| merged(&[rows(w[0], w[1] - w[0])], s == 0))
            .collect();
        let parquet = assemble_bytes(&shards.iter().map(|s| s.0.clone()).collect::<Vec<_>>())
            .expect("assembled");
        let csv: Vec<u8> = shards.iter().flat_map(|s| s.1.clone()).collect();
        (one, one_csv, Bytes::from(parquet), csv)
    }

    fn read_all(file: Bytes) -> RecordBatch {
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .unwrap()
            .build()
            .unwrap();
        let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
        concat_batches(&schema(), &batches).unwrap()
    }

    fn gunzip(bytes: &[u8]) -> String {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_string(&mut text)
            .unwrap();
        text
    }

    #[test]
    fn shards_assembled_hold_the_rows_of_one_merge_in_order() {
        // Row groups are 128 Ki rows: shards of a few rows, of several row
        // groups, and an empty one.
        let total = 300_000;
        for cuts in [vec![], vec![1, 131_072, 131_072, 200_000], vec![77_777]] {
            let (one, one_csv, assembled, csv) = one_and_assembled(total, &cuts);
            assert_eq!(read_all(assembled.clone()), read_all(one), "{cuts:?}");
            assert_eq!(gunzip(&csv), gunzip(&one_csv), "{cuts:?}");
            let m = read_footer(&assembled).unwrap();
            assert_eq!(m.file_metadata().num_rows(), total as i64);
            let groups = m.row_groups();
            assert!(groups.len() >= cuts.len(), "{cuts:?}");
            let sum: i64 = groups.iter().map(|g| g.num_rows()).sum();
            assert_eq!(sum, total as i64);
            // Each column chunk lies inside the row data, after the one before.
            let mut end = 4;
            for (i, g) in groups.iter().enumerate() {
                assert_eq!(g.ordinal(), Some(i as i16));
                for c in g.columns() {
                    let (start, len) = c.byte_range();
                    assert_eq!(start, end, "chunks laid end to end");
                    end = start + len;
                }
            }
            // Statistics came along: the time's minimum of each group is its
            // first row's.
            let offsets = m.offset_index().expect("offset index");
            let mut first_row = 0i64;
            for (g, pages) in groups.iter().zip(offsets) {
                let stats = g.column(0).statistics().expect("time statistics");
                let min = match stats {
                    parquet::file::statistics::Statistics::Int64(s) => *s.min_opt().unwrap(),
                    other => panic!("{other:?}"),
                };
                assert_eq!(min, 1_704_067_200_000 + first_row * 1_000);
                for (c, column_pages) in g.columns().iter().zip(pages) {
                    let (start, len) = c.byte_range();
                    for p in column_pages.page_locations() {
                        assert!(p.offset as u64 >= start && (p.offset as u64) < start + len);
                    }
                }
                first_row += g.num_rows();
            }
        }
    }

    #[test]
    fn the_page_index_of_the_assembled_file_selects_the_right_rows() {
        let (_, _, assembled, _) = one_and_assembled(200_000, &[3, 150_001]);
        // Rows 160,000..160,010 only: the reader finds their pages through
        // the moved offset index and skips the rest.
        let selection = RowSelection::from(vec![
            RowSelector::skip(160_000),
            RowSelector::select(10),
            RowSelector::skip(39_990),
        ]);
        let reader = ParquetRecordBatchReaderBuilder::try_new_with_options(
            assembled,
            ArrowReaderOptions::new()
                .with_page_index_policy(parquet::file::metadata::PageIndexPolicy::Required),
        )
        .unwrap()
        .with_row_selection(selection)
        .build()
        .unwrap();
        let batches: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
        assert_eq!(
            concat_batches(&schema(), &batches).unwrap(),
            rows(160_000, 10)
        );
    }

    #[test]
    fn a_shard_of_another_schema_is_refused_by_number() {
        let (a, _) = merged(&[rows(0, 10)], true);
        let other =
            RecordBatch::try_from_iter(vec![("key", Arc::new(StringArray::from(vec!["x"])) as _)])
                .unwrap();
        let mut m = Merger::new(other.schema(), Vec::new(), Vec::new()).unwrap();
        m.write(&other).unwrap();
        let b = Bytes::from(m.finish().unwrap().1);
        let e = assemble_bytes(&[a, b]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "shard 1: its schema differs from the first shard's"
        );
        assert!(matches!(assemble_bytes(&[]), Err(AssembleError::NoShards)));
    }

    #[test]
    fn shards_without_rows_make_a_file_without_rows() {
        let (empty, _) = merged(&[], true);
        let file = Bytes::from(assemble_bytes(&[empty.clone(), empty]).unwrap());
        assert_eq!(read_all(file.clone()).num_rows(), 0);
        assert_eq!(read_footer(&file).unwrap().file_metadata().num_rows(), 0);
    }
}
