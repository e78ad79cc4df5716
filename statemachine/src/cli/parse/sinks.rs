//! Output formats of `s3la parse`. Workers turn a chunk into a [`Piece`]
//! (formatted text, or an Arrow batch); the [`Sink`] writes pieces in order.

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use arrow_array::RecordBatch;
use clap::ValueEnum;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{ArrowColumnChunk, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::file::writer::SerializedFileWriter;
use s3la_shared::log_format::arrow::{LogBatchBuilder, log_schema};
use s3la_shared::log_format::fields::{EXTRA_FIELDS_JSON_NAME, FIELDS};
use s3la_shared::log_format::forms::LogForm;
use s3la_shared::log_format::lines::{LineCounts, LineError, for_each_line};
use s3la_shared::log_format::structured::for_each_json_record;
use s3la_shared::log_format::structured_parquet::for_each_parquet_record;
use s3la_shared::log_format::{FieldValue, LogRecord, ParseError, format_iso8601};
use serde::Serialize;

use super::sources::{Chunk, Segment, SegmentForm, decode_segment};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// One JSON object per line; malformed lines as {"error", "line_number"}.
    Jsonl,
    /// RFC 4180 CSV with a header row; malformed lines reported on stderr.
    Csv,
    /// Parquet with typed columns named as in the Athena table.
    Parquet,
}

pub enum Piece {
    Text(Vec<u8>),
    /// A Parquet row group, already encoded and compressed on a worker.
    RowGroup(Vec<ArrowColumnChunk>),
}

/// A parsed chunk: its output, its malformed lines and its counts.
pub struct ChunkOutput {
    pub bytes: u64,
    pub piece: Piece,
    /// Malformed lines with the source they are in.
    pub errors: Vec<(Arc<str>, LineError)>,
    pub counts: LineCounts,
}

/// Reads one segment's records by its source's form. A Parquet source that
/// cannot be decoded is an error naming it: none of its rows are output.
fn read_segment(
    seg: &Segment,
    bytes: &[u8],
    on_record: impl FnMut(u64, Result<LogRecord<'_>, ParseError>),
) -> anyhow::Result<LineCounts> {
    let decoded;
    let (form, bytes) = match seg.form {
        SegmentForm::Read(form) => (form, bytes),
        SegmentForm::Compressed { expected } => {
            let (form, text) = decode_segment(seg, bytes, expected)?;
            decoded = text;
            (form, &decoded[..])
        }
    };
    Ok(match form {
        LogForm::Text => for_each_line(bytes, seg.first_line, on_record),
        LogForm::Json => for_each_json_record(bytes, seg.first_line, on_record),
        LogForm::Parquet => for_each_parquet_record(bytes, on_record)
            .map_err(|e| anyhow::anyhow!("cannot read '{}': {e}", seg.source))?,
    })
}

/// Parses a chunk into the output format's piece (runs on worker threads).
/// Parquet chunks become whole row groups here, so that encoding and
/// compression, the costliest part, run on every core.
pub fn render_chunk(
    format: Format,
    chunk: &Chunk,
    row_groups: Option<&ArrowRowGroupWriterFactory>,
) -> anyhow::Result<ChunkOutput> {
    let mut errors = Vec::new();
    let mut counts = LineCounts::default();
    let piece = match format {
        Format::Jsonl => {
            let mut out = Vec::with_capacity(chunk.data.len() + chunk.data.len() / 4);
            for (seg, bytes) in chunk.segments() {
                counts += read_segment(seg, bytes, |n, r| {
                    match r {
                        Ok(rec) => serde_json::to_writer(&mut out, &JsonRecord(&rec)),
                        Err(error) => {
                            let e = LineError {
                                line_number: n,
                                error,
                            };
                            let line = JsonError {
                                error: e.error.to_string(),
                                line_number: n,
                                file: &seg.source,
                            };
                            errors.push((seg.source.clone(), e));
                            serde_json::to_writer(&mut out, &line)
                        }
                    }
                    .expect("writing JSON to memory cannot fail");
                    out.push(b'\n');
                })?;
            }
            Piece::Text(out)
        }
        Format::Csv => {
            let mut w = csv::WriterBuilder::new()
                .has_headers(false)
                .from_writer(Vec::with_capacity(chunk.data.len()));
            let mut failed = None;
            for (seg, bytes) in chunk.segments() {
                counts += read_segment(seg, bytes, |n, r| match r {
                    Ok(rec) => {
                        if let Err(e) = w.write_record(csv_row(&rec)) {
                            failed.get_or_insert(e);
                        }
                    }
                    Err(error) => errors.push((
                        seg.source.clone(),
                        LineError {
                            line_number: n,
                            error,
                        },
                    )),
                })?;
            }
            if let Some(e) = failed {
                return Err(e.into());
            }
            Piece::Text(w.into_inner().map_err(|e| e.into_error())?)
        }
        Format::Parquet => {
            let mut b = LogBatchBuilder::with_capacity(chunk.data.len() / 500 + 16);
            for (seg, bytes) in chunk.segments() {
                counts += read_segment(seg, bytes, |n, r| match r {
                    Ok(rec) => b.append(&rec),
                    Err(error) => errors.push((
                        seg.source.clone(),
                        LineError {
                            line_number: n,
                            error,
                        },
                    )),
                })?;
            }
            let batch = b.finish()?;
            let factory = row_groups.context("internal error: no Parquet writer")?;
            Piece::RowGroup(encode_row_group(factory, &batch)?)
        }
    };
    Ok(ChunkOutput {
        bytes: chunk.data.len() as u64,
        piece,
        errors,
        counts,
    })
}

fn encode_row_group(
    factory: &ArrowRowGroupWriterFactory,
    batch: &RecordBatch,
) -> anyhow::Result<Vec<ArrowColumnChunk>> {
    // The index only matters for encryption, which is not used.
    let mut writers = factory.create_column_writers(0)?;
    let mut writer_iter = writers.iter_mut();
    for (field, column) in batch.schema().fields().iter().zip(batch.columns()) {
        for leaf in compute_leaves(field, column)? {
            writer_iter
                .next()
                .context("internal error: fewer Parquet columns than leaves")?
                .write(&leaf)?;
        }
    }
    Ok(writers
        .into_iter()
        .map(|w| w.close())
        .collect::<Result<_, _>>()?)
}

/// A record as one JSON object: the fields of [`FIELDS`] in log order under
/// their JSON names, the time as ISO 8601, then `extra_fields`.
struct JsonRecord<'r, 'a>(&'r LogRecord<'a>);

impl Serialize for JsonRecord<'_, '_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let r = self.0;
        let mut map = s.serialize_map(Some(FIELDS.len() + 1))?;
        for (field, value) in FIELDS.iter().zip(r.values()) {
            match value {
                FieldValue::Text(v) => map.serialize_entry(field.json_name, &v)?,
                FieldValue::Int(v) => map.serialize_entry(field.json_name, &v)?,
                FieldValue::Time(v) => {
                    map.serialize_entry(field.json_name, &v.map(format_iso8601))?
                }
            }
        }
        let extra = r.extra.map(|_| r.extra_fields().collect::<Vec<_>>());
        map.serialize_entry(EXTRA_FIELDS_JSON_NAME, &extra)?;
        map.end()
    }
}

#[derive(Serialize)]
struct JsonError<'a> {
    error: String,
    line_number: u64,
    file: &'a str,
}

/// CSV columns: the JSON names, nulls as empty cells, extra fields joined
/// by spaces (as they appeared in the log).
fn csv_row(r: &LogRecord<'_>) -> Vec<String> {
    let mut row: Vec<String> = r
        .values()
        .into_iter()
        .map(|v| match v {
            FieldValue::Text(v) => v.unwrap_or_default().to_string(),
            FieldValue::Int(v) => v.map(|v| v.to_string()).unwrap_or_default(),
            FieldValue::Time(v) => v.map(format_iso8601).unwrap_or_default(),
        })
        .collect();
    row.push(r.extra.unwrap_or_default().to_string());
    row
}

fn csv_header() -> Vec<&'static str> {
    let mut h: Vec<&str> = FIELDS.iter().map(|f| f.json_name).collect();
    h.push(EXTRA_FIELDS_JSON_NAME);
    h
}

/// Where output goes: stdout, or a file written under a temporary name and
/// renamed into place only when complete, so no reader sees a partial file,
/// or a device or pipe that exists already (`/dev/null`, a FIFO), written
/// straight: renaming a file over it would replace the device itself.
pub enum Destination {
    Stdout,
    File { tmp: PathBuf, path: PathBuf },
    Stream,
}

impl Destination {
    pub fn new(out: Option<&Path>) -> anyhow::Result<(Self, Box<dyn Write + Send>)> {
        match out {
            None => Ok((
                Self::Stdout,
                Box::new(BufWriter::with_capacity(1 << 20, io::stdout())),
            )),
            Some(path) if std::fs::metadata(path).is_ok_and(|m| !m.is_file() && !m.is_dir()) => {
                let f = File::options()
                    .write(true)
                    .open(path)
                    .with_context(|| format!("cannot write to '{}'", path.display()))?;
                Ok((Self::Stream, Box::new(BufWriter::with_capacity(1 << 20, f))))
            }
            Some(path) => {
                let name = path
                    .file_name()
                    .with_context(|| format!("--out '{}' is not a file name", path.display()))?;
                let tmp = path.with_file_name(format!(
                    ".{}.tmp-{}",
                    name.to_string_lossy(),
                    std::process::id()
                ));
                let f = File::create(&tmp)
                    .with_context(|| format!("cannot create '{}'", tmp.display()))?;
                Ok((
                    Self::File {
                        tmp,
                        path: path.to_path_buf(),
                    },
                    Box::new(BufWriter::with_capacity(1 << 20, f)),
                ))
            }
        }
    }

    /// Moves a completed file into place.
    pub fn commit(&self) -> anyhow::Result<()> {
        if let Self::File { tmp, path } = self {
            std::fs::rename(tmp, path)
                .with_context(|| format!("cannot move output into '{}'", path.display()))?;
        }
        Ok(())
    }

    /// Removes an incomplete file.
    pub fn discard(&self) {
        if let Self::File { tmp, .. } = self {
            // Already gone is fine; anything else is worth a note, but the
            // failure that led here is what the caller reports.
            if let Err(e) = std::fs::remove_file(tmp)
                && e.kind() != std::io::ErrorKind::NotFound
            {
                eprintln!(
                    "note: could not remove the incomplete {}, ignored: {e}",
                    tmp.display()
                );
            }
        }
    }
}

pub enum Sink {
    Text(Box<dyn Write + Send>),
    Parquet(Box<SerializedFileWriter<Box<dyn Write + Send>>>),
}

impl Sink {
    /// The sink, and for Parquet the factory that workers encode row groups with.
    pub fn new(
        format: Format,
        mut w: Box<dyn Write + Send>,
    ) -> anyhow::Result<(Self, Option<ArrowRowGroupWriterFactory>)> {
        Ok(match format {
            Format::Jsonl => (Sink::Text(w), None),
            Format::Csv => {
                let mut header = csv::Writer::from_writer(Vec::new());
                header.write_record(csv_header())?;
                w.write_all(&header.into_inner().map_err(|e| e.into_error())?)?;
                (Sink::Text(w), None)
            }
            Format::Parquet => {
                // ArrowWriter sets up the file (schema, Arrow schema metadata);
                // row groups are then encoded by the workers.
                let schema = log_schema();
                let props = s3la_shared::parquet_output::properties(&schema)?.build();
                let writer = ArrowWriter::try_new(w, schema, Some(props))?;
                let (file, factory) = writer.into_serialized_writer()?;
                (Sink::Parquet(Box::new(file)), Some(factory))
            }
        })
    }

    pub fn write(&mut self, piece: Piece) -> anyhow::Result<()> {
        match (self, piece) {
            (Sink::Text(w), Piece::Text(bytes)) => w.write_all(&bytes)?,
            (Sink::Parquet(w), Piece::RowGroup(chunks)) => {
                let mut rg = w.next_row_group()?;
                for c in chunks {
                    c.append_to_row_group(&mut rg)?;
                }
                rg.close()?;
            }
            _ => anyhow::bail!("internal error: output piece does not match the format"),
        }
        Ok(())
    }

    pub fn finish(self) -> anyhow::Result<()> {
        match self {
            Sink::Text(mut w) => w.flush()?,
            Sink::Parquet(w) => {
                let mut inner = w.into_inner()?;
                inner.flush()?;
            }
        }
        Ok(())
    }
}
