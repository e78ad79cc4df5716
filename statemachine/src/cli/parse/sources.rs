//! Inputs of `s3la parse`: files, directories (recursively, in name order)
//! and `-` for stdin, read as chunks of whole lines that carry their first
//! line number so that they can be parsed in parallel and still report exact
//! line numbers. A gzip-compressed source is decompressed first; another
//! compression is an error naming the source. Each source's form (text,
//! JSON, Parquet) is detected from its first bytes; a Parquet source is one
//! segment, read whole. A small compressed source (S3's `.json.gz`
//! deliveries) travels compressed and is decoded by the worker that parses
//! it, so that decompression runs on every core rather than the reader's.
//! Whole sources are packed several to a chunk, by about their decoded size.

use std::fs::File;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, anyhow, bail};
use s3la_shared::log_format::forms::LogForm;
use s3la_shared::log_format::lines::{compression_of, decode_log_object};

/// One input: a file or stdin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Stdin,
    File(PathBuf),
}

impl Source {
    pub fn name(&self) -> String {
        match self {
            Source::Stdin => "<stdin>".to_string(),
            Source::File(p) => p.display().to_string(),
        }
    }
}

/// Expands the command line's paths into sources, in order. Directories are
/// walked recursively in name order; hidden files (starting with `.`) are
/// skipped since S3 never writes them and editors and tools do.
pub fn expand(paths: &[PathBuf]) -> anyhow::Result<Vec<Source>> {
    let mut out = Vec::new();
    for p in paths {
        if p.as_os_str() == "-" {
            out.push(Source::Stdin);
            continue;
        }
        let meta =
            std::fs::metadata(p).with_context(|| format!("cannot read input '{}'", p.display()))?;
        if meta.is_dir() {
            let files = s3la::embedded::logs::discover(p)
                .with_context(|| format!("cannot list directory '{}'", p.display()))?;
            out.extend(files.into_iter().map(|f| Source::File(f.path)));
        } else {
            out.push(Source::File(p.clone()));
        }
    }
    if out.iter().filter(|s| **s == Source::Stdin).count() > 1 {
        bail!("'-' (stdin) can be given only once");
    }
    Ok(out)
}

/// Total size of the file sources, for progress (None when stdin is read).
pub fn total_bytes(sources: &[Source]) -> Option<u64> {
    let mut total = 0;
    for s in sources {
        match s {
            Source::Stdin => return None,
            Source::File(p) => total += std::fs::metadata(p).map(|m| m.len()).unwrap_or(0),
        }
    }
    Some(total)
}

/// Whole lines of one source inside a [`Chunk`] (a Parquet source whole, a
/// small compressed source whole and still compressed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub source: Arc<str>,
    /// The source's form: how its bytes are read.
    pub form: SegmentForm,
    /// Line number of the segment's first line in its source.
    pub first_line: u64,
    pub range: std::ops::Range<usize>,
}

/// How a segment's bytes are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentForm {
    /// Decoded bytes of a source of this form.
    Read(LogForm),
    /// A whole compressed source, to be decoded (by the rule every log
    /// reader shares) and its form detected where it is parsed; `expected`
    /// is the one form it may have (`--log-format`).
    Compressed { expected: Option<LogForm> },
}

/// A unit of parallel work: whole lines from one or more sources. Small
/// files (S3 delivers many) are packed together so that every chunk has
/// about the same size, which matters most for Parquet row groups.
#[derive(Debug, Default)]
pub struct Chunk {
    pub data: Vec<u8>,
    pub segments: Vec<Segment>,
    /// The size the whole-source segments (compressed, Parquet) are counted
    /// at: about what they decode to.
    packed_weight: usize,
}

impl Chunk {
    pub fn segments(&self) -> impl Iterator<Item = (&Segment, &[u8])> {
        self.segments
            .iter()
            .map(|s| (s, &self.data[s.range.clone()]))
    }
}

/// Reads `sources` in order into chunks of about `chunk_bytes` and hands each
/// to `emit`; stops early when `emit` returns false (the consumer went away).
/// `expected`, when given, is the one form every source must have.
pub fn read_chunks(
    sources: &[Source],
    chunk_bytes: usize,
    expected: Option<LogForm>,
    emit: impl FnMut(Chunk) -> bool,
) -> anyhow::Result<()> {
    let mut chunker = Chunker::new(chunk_bytes, emit);
    for source in sources {
        let name: Arc<str> = source.name().into();
        let reader: Box<dyn Read> = match source {
            Source::Stdin => Box::new(io::stdin().lock()),
            Source::File(p) => {
                Box::new(File::open(p).with_context(|| format!("cannot open '{}'", p.display()))?)
            }
        };
        let read = decoded(reader, chunk_bytes / COMPRESSION_RATIO)
            .with_context(|| format!("cannot read '{name}'"))?;
        let (reader, form) = match read {
            Decoded::Stream(reader, form) => (reader, form),
            Decoded::Compressed(raw) => {
                let weight = raw.len() * COMPRESSION_RATIO;
                if !chunker.push_whole(raw, &name, SegmentForm::Compressed { expected }, weight) {
                    return Ok(());
                }
                continue;
            }
        };
        check_form(&name, form, expected)?;
        let more = if form == LogForm::Parquet {
            let mut raw = Vec::new();
            let mut reader = reader;
            reader.read_to_end(&mut raw).map(|_| {
                let weight = raw.len() * PARQUET_RATIO;
                chunker.push_whole(raw, &name, SegmentForm::Read(form), weight)
            })
        } else {
            chunker.read_source(reader, &name, form)
        };
        if !more.with_context(|| format!("cannot read '{name}'"))? {
            return Ok(());
        }
    }
    chunker.flush();
    Ok(())
}

/// The one form every source must have, when given: another is an error.
pub fn check_form(name: &str, form: LogForm, expected: Option<LogForm>) -> anyhow::Result<()> {
    if let Some(e) = expected.filter(|e| *e != form) {
        bail!(
            "'{name}' holds {form} logs, not {e} (--log-format): name the right format, or leave it out to detect each file's"
        );
    }
    Ok(())
}

/// A compressed segment's bytes, decoded, and its form, checked.
pub fn decode_segment<'a>(
    seg: &Segment,
    raw: &'a [u8],
    expected: Option<LogForm>,
) -> anyhow::Result<(LogForm, std::borrow::Cow<'a, [u8]>)> {
    let text = decode_log_object(raw).map_err(|e| anyhow!("cannot read '{}': {e}", seg.source))?;
    let form = LogForm::of(&text[..text.len().min(HEAD)]);
    check_form(&seg.source, form, expected)?;
    Ok((form, text))
}

/// What a source is read as.
enum Decoded<'a> {
    /// Its decoded bytes, streamed, and its form.
    Stream(Box<dyn Read + 'a>, LogForm),
    /// A small compressed source, whole, for a worker to decode.
    Compressed(Vec<u8>),
}

/// About how much larger logs are decoded than gzip'd (JSON records 8.7x,
/// measured on the generator's deliveries): a compressed segment counts
/// this much toward its chunk's size.
const COMPRESSION_RATIO: usize = 8;

/// Likewise for a Parquet delivery: the same requests are 3.6x larger as
/// text than as the generator's Snappy Parquet (README, "Speed").
const PARQUET_RATIO: usize = 4;

/// The source's bytes and its form. Plain text and JSON stream through as
/// they are read; a compressed source (a copy a person compressed, or a
/// delivery's `.json.gz`) is read whole: up to `whole_max` bytes it goes to
/// a worker compressed, a larger one is decoded here (by the rule every log
/// reader shares) so that its lines are cut into chunks for every worker; a
/// Parquet source is read whole.
fn decoded<'a>(mut reader: Box<dyn Read + 'a>, whole_max: usize) -> anyhow::Result<Decoded<'a>> {
    // Enough for the longest magic number `compression_of` knows (xz's),
    // and for the blank space a JSON file may start with.
    let mut head = Vec::with_capacity(HEAD);
    (&mut reader).take(HEAD as u64).read_to_end(&mut head)?;
    if compression_of(&head).is_none() {
        let form = LogForm::of(&head);
        return Ok(Decoded::Stream(
            Box::new(io::Cursor::new(head).chain(reader)),
            form,
        ));
    }
    let mut raw = head;
    reader.read_to_end(&mut raw)?;
    // Only gzip is decoded at all: another compression is refused here, now.
    if compression_of(&raw) == Some("gzip") && raw.len() <= whole_max {
        return Ok(Decoded::Compressed(raw));
    }
    let text = decode_log_object(&raw)
        .map_err(|e| anyhow!(e))?
        .into_owned();
    let form = LogForm::of(&text);
    Ok(Decoded::Stream(Box::new(io::Cursor::new(text)), form))
}

/// Enough lines for `LogForm::of` to decide a source's form by.
const HEAD: usize = 64 << 10;

struct Chunker<E> {
    chunk: Chunk,
    chunk_bytes: usize,
    emit: E,
}

impl<E: FnMut(Chunk) -> bool> Chunker<E> {
    fn new(chunk_bytes: usize, emit: E) -> Self {
        Self {
            chunk: Chunk::default(),
            chunk_bytes,
            emit,
        }
    }

    /// Appends a source whole (a small compressed one, or a Parquet file,
    /// which is not cut at line ends), packed with the whole sources before
    /// it until their `weight` (about their decoded size) reaches a chunk's:
    /// S3 delivers many small files, and a chunk is a Parquet row group, so
    /// one per file would make tiny row groups. Returns false when the
    /// consumer went away.
    fn push_whole(
        &mut self,
        raw: Vec<u8>,
        name: &Arc<str>,
        form: SegmentForm,
        weight: usize,
    ) -> bool {
        if self.chunk.packed_weight == 0 && !self.flush() {
            return false;
        }
        let start = self.chunk.data.len();
        self.chunk.data.extend_from_slice(&raw);
        let end = self.chunk.data.len();
        self.push_segment((name, form), 1, start, end);
        self.chunk.packed_weight += weight.max(1);
        self.chunk.packed_weight < self.chunk_bytes || self.flush()
    }

    /// Emits the chunk built so far (if any); false when the consumer is gone.
    fn flush(&mut self) -> bool {
        if self.chunk.segments.is_empty() {
            self.chunk.data.clear();
            return true;
        }
        let chunk = std::mem::take(&mut self.chunk);
        (self.emit)(chunk)
    }

    fn push_segment(
        &mut self,
        (source, form): (&Arc<str>, SegmentForm),
        first_line: u64,
        start: usize,
        end: usize,
    ) {
        if end > start {
            self.chunk.segments.push(Segment {
                source: source.clone(),
                form,
                first_line,
                range: start..end,
            });
        }
    }

    /// Appends one source, cutting chunks at line ends. Returns false when
    /// the consumer went away.
    fn read_source(
        &mut self,
        mut reader: impl Read,
        name: &Arc<str>,
        form: LogForm,
    ) -> io::Result<bool> {
        // Whole sources are counted by another measure: not together.
        if self.chunk.packed_weight > 0 && !self.flush() {
            return Ok(false);
        }
        let mut line = 1u64;
        let mut seg_start = self.chunk.data.len();
        // Bytes to hold before cutting; grows while one line is longer.
        let mut want = self.chunk_bytes;
        loop {
            let mut eof = false;
            while !eof && self.chunk.data.len() < want {
                let need = (want - self.chunk.data.len()).max(64 * 1024);
                self.chunk.data.reserve(need);
                let n = (&mut reader)
                    .take(need as u64)
                    .read_to_end(&mut self.chunk.data)?;
                eof = n < need;
            }
            if eof {
                let end = self.chunk.data.len();
                self.push_segment((name, SegmentForm::Read(form)), line, seg_start, end);
                return Ok(end < self.chunk_bytes || self.flush());
            }
            let portion = &self.chunk.data[seg_start..];
            match memchr::memrchr(b'\n', portion) {
                Some(i) => {
                    let cut = seg_start + i + 1;
                    let lines =
                        memchr::memchr_iter(b'\n', &self.chunk.data[seg_start..cut]).count();
                    self.push_segment((name, SegmentForm::Read(form)), line, seg_start, cut);
                    line += lines as u64;
                    let rest = self.chunk.data[cut..].to_vec();
                    self.chunk.data.truncate(cut);
                    if !self.flush() {
                        return Ok(false);
                    }
                    self.chunk.data = rest;
                    seg_start = 0;
                    want = self.chunk_bytes;
                }
                None if seg_start > 0 => {
                    // The line started by this source does not fit: ship the
                    // sources before it and start a fresh chunk with it.
                    let rest = self.chunk.data.split_off(seg_start);
                    if !self.flush() {
                        return Ok(false);
                    }
                    self.chunk.data = rest;
                    seg_start = 0;
                }
                None => want = self.chunk.data.len() + self.chunk_bytes,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads the given (name, text) sources as `read_chunks` would.
    fn chunks_of(sources: &[(&str, &[u8])], chunk_bytes: usize) -> Vec<Chunk> {
        let mut out = vec![];
        let mut chunker = Chunker::new(chunk_bytes, |c| {
            out.push(c);
            true
        });
        for (name, text) in sources {
            assert!(
                chunker
                    .read_source(*text, &Arc::from(*name), LogForm::Text)
                    .unwrap()
            );
        }
        chunker.flush();
        out
    }

    /// Every (source, line number, line) in order, from the chunks.
    fn lines_of(chunks: &[Chunk]) -> Vec<(String, u64, Vec<u8>)> {
        let mut out = vec![];
        for c in chunks {
            for (seg, bytes) in c.segments() {
                for (i, l) in bytes.split_inclusive(|&b| b == b'\n').enumerate() {
                    out.push((
                        seg.source.to_string(),
                        seg.first_line + i as u64,
                        l.to_vec(),
                    ));
                }
            }
        }
        out
    }

    fn expected(sources: &[(&str, &[u8])]) -> Vec<(String, u64, Vec<u8>)> {
        let mut out = vec![];
        for (name, text) in sources {
            for (i, l) in text.split_inclusive(|&b| b == b'\n').enumerate() {
                out.push((name.to_string(), i as u64 + 1, l.to_vec()));
            }
        }
        out
    }

    /// What `read_chunks` reads from `raw` given as stdin would be: the
    /// decoded text, in chunks.
    fn decoded_text(raw: &[u8]) -> anyhow::Result<Vec<u8>> {
        let mut out = vec![];
        match decoded(Box::new(raw), 0)? {
            Decoded::Stream(mut reader, _) => reader.read_to_end(&mut out)?,
            Decoded::Compressed(_) => unreachable!("nothing is small enough to pass compressed"),
        };
        Ok(out)
    }

    fn gzip(bytes: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(bytes).unwrap();
        gz.finish().unwrap()
    }

    /// Small `.gz` deliveries travel compressed, packed into chunks by their
    /// decoded size, and are decoded (and their form checked) where they are
    /// parsed; a large one is decoded by the reader and cut at line ends.
    #[test]
    fn small_compressed_sources_travel_compressed_and_large_ones_are_cut() {
        let dir = tempfile::tempdir().unwrap();
        let json = b"{\"http_status\":200}\n".repeat(50);
        let mut sources = vec![];
        for name in ["a.json.gz", "b.json.gz", "c.json.gz"] {
            let path = dir.path().join(name);
            std::fs::write(&path, gzip(&json)).unwrap();
            sources.push(Source::File(path));
        }
        // Parquet files (their form is read from the magic) are packed whole too.
        for name in ["p1.parquet", "p2.parquet"] {
            let path = dir.path().join(name);
            std::fs::write(&path, b"PAR1 not cut at line ends\n\nPAR1").unwrap();
            sources.push(Source::File(path));
        }
        let text = dir.path().join("d.log");
        std::fs::write(&text, b"line 1\nline 2\n").unwrap();
        sources.push(Source::File(text));
        let big_text: Vec<u8> = (0..40_000u64)
            .flat_map(|i| {
                format!("line {i} {:x}\n", i.wrapping_mul(0x9e37_79b9_7f4a_7c15)).into_bytes()
            })
            .collect();
        let big = dir.path().join("e.log.gz");
        std::fs::write(&big, gzip(&big_text)).unwrap();
        sources.push(Source::File(big));

        let chunk_bytes = 64 * 1024;
        let mut chunks = vec![];
        read_chunks(&sources, chunk_bytes, None, |c| {
            chunks.push(c);
            true
        })
        .unwrap();
        let forms: Vec<Vec<SegmentForm>> = chunks
            .iter()
            .map(|c| c.segments.iter().map(|s| s.form).collect())
            .collect();
        let compressed = SegmentForm::Compressed { expected: None };
        let parquet = SegmentForm::Read(LogForm::Parquet);
        assert_eq!(
            forms[0],
            [compressed, compressed, compressed, parquet, parquet],
            "the whole sources packed in one chunk"
        );
        // The rest, text in a chunk of its own and the large one decoded here, are read text.
        assert!(
            forms[1..]
                .iter()
                .flatten()
                .all(|f| *f == SegmentForm::Read(LogForm::Text))
        );
        let big: Vec<usize> = chunks[1..]
            .iter()
            .flat_map(|c| c.segments())
            .filter(|(s, _)| s.source.ends_with("e.log.gz"))
            .map(|(_, b)| memchr::memchr_iter(b'\n', b).count())
            .collect();
        assert_eq!(big.iter().sum::<usize>(), 40_000);
        assert!(big.len() > 1, "the large one is cut into chunks: {big:?}");
        for (seg, raw) in chunks[0].segments().take(3) {
            let (form, decoded) = decode_segment(seg, raw, None).unwrap();
            assert_eq!((form, &decoded[..]), (LogForm::Json, &json[..]));
            let e = decode_segment(seg, raw, Some(LogForm::Text)).unwrap_err();
            let e = e.to_string();
            assert!(
                e.contains(&*seg.source) && e.contains("holds json logs, not text"),
                "{e}"
            );
        }
    }

    #[test]
    fn plain_text_streams_through_whole() {
        for text in [&b""[..], b"a", b"abcdef", b"abcdefgh\nline 2\n"] {
            assert_eq!(decoded_text(text).unwrap(), text);
        }
    }

    #[test]
    fn other_compressions_are_errors_not_text() {
        let zstd = [0x28, 0xb5, 0x2f, 0xfd, 0x00, 0x58, 0x61, 0x00];
        let e = decoded_text(&zstd).unwrap_err().to_string();
        assert!(e.contains("zstd-compressed: decompress it first"), "{e}");
        let e = decoded_text(&[0x1f, 0x8b, 0x08, 0x00])
            .unwrap_err()
            .to_string();
        assert!(e.contains("corrupt gzip"), "{e}");
    }

    #[test]
    fn a_refused_file_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("2024-01-01-00-00-00-ABC.bz2");
        std::fs::write(&path, b"BZh91AY&SY\x00\x01").unwrap();
        let e = read_chunks(&[Source::File(path.clone())], 1024, None, |_| true).unwrap_err();
        let e = format!("{e:#}");
        assert!(e.contains(&path.display().to_string()), "{e}");
        assert!(e.contains("bzip2-compressed"), "{e}");
    }

    #[test]
    fn small_sources_are_packed_and_keep_their_line_numbers() {
        let a = b"a1\na2\n".repeat(10);
        let b = b"b1\nb2".to_vec();
        let c = b"c1\n".repeat(50);
        let sources: Vec<(&str, &[u8])> = vec![("a", &a), ("b", &b), ("c", &c)];
        let chunks = chunks_of(&sources, 64);
        assert!(chunks.len() > 1);
        assert!(
            chunks.iter().any(|c| c.segments.len() > 1),
            "files packed together"
        );
        for c in &chunks[..chunks.len() - 1] {
            assert!(c.data.len() >= 40, "chunks are about the size asked");
        }
        assert_eq!(lines_of(&chunks), expected(&sources));
    }

    #[test]
    fn big_sources_are_cut_at_line_ends() {
        let line = "x".repeat(99) + "\n";
        let text = line.repeat(20_000);
        let sources: Vec<(&str, &[u8])> = vec![("big", text.as_bytes())];
        // Reads are at least 64 KiB, so chunks are too.
        let chunks = chunks_of(&sources, 4096);
        assert!(chunks.len() >= 20, "{}", chunks.len());
        for c in &chunks {
            assert!(c.data.ends_with(b"\n"));
        }
        assert_eq!(lines_of(&chunks), expected(&sources));
    }

    #[test]
    fn a_line_longer_than_a_chunk_stays_whole() {
        let long = format!("a\n{}\nb\n", "y".repeat(10_000));
        let sources: Vec<(&str, &[u8])> =
            vec![("p", b"p1\n"), ("long", long.as_bytes()), ("q", b"q1")];
        let chunks = chunks_of(&sources, 1000);
        assert_eq!(lines_of(&chunks), expected(&sources));
        assert!(chunks.iter().any(|c| c.data.len() > 10_000));
    }
}
