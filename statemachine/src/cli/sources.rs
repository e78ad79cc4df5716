//! Inputs of `s3la parse`: files, directories (recursively, in name order)
//! and `-` for stdin, read as chunks of whole lines that carry their first
//! line number so that they can be parsed in parallel and still report exact
//! line numbers.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, bail};
use s3la_shared::log_format::lines::split_point;

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
            walk(p, &mut out)
                .with_context(|| format!("cannot list directory '{}'", p.display()))?;
        } else {
            out.push(Source::File(p.clone()));
        }
    }
    if out.iter().filter(|s| **s == Source::Stdin).count() > 1 {
        bail!("'-' (stdin) can be given only once");
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<Source>) -> io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        if e.file_name().to_string_lossy().starts_with('.') {
            continue;
        }
        let path = e.path();
        if e.file_type()?.is_dir() {
            walk(&path, out)?;
        } else {
            out.push(Source::File(path));
        }
    }
    Ok(())
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

/// A run of whole lines from one source.
pub struct Chunk {
    pub source: Arc<str>,
    pub first_line: u64,
    pub data: Vec<u8>,
}

/// Target chunk size: large enough to amortise per-chunk work, small enough
/// that a few chunks in flight per core keep memory low.
pub const CHUNK_BYTES: usize = 4 << 20;

/// Reads `sources` in order and hands each chunk to `emit`; stops early when
/// `emit` returns false (the consumer went away).
pub fn read_chunks(sources: &[Source], mut emit: impl FnMut(Chunk) -> bool) -> anyhow::Result<()> {
    for source in sources {
        let name: Arc<str> = source.name().into();
        let reader: Box<dyn Read> = match source {
            Source::Stdin => Box::new(io::stdin().lock()),
            Source::File(p) => {
                Box::new(File::open(p).with_context(|| format!("cannot open '{}'", p.display()))?)
            }
        };
        if !chunk_reader(reader, &name, &mut emit)
            .with_context(|| format!("cannot read '{name}'"))?
        {
            return Ok(());
        }
    }
    Ok(())
}

fn chunk_reader(
    mut reader: impl Read,
    name: &Arc<str>,
    emit: &mut impl FnMut(Chunk) -> bool,
) -> io::Result<bool> {
    let mut buf: Vec<u8> = Vec::with_capacity(CHUNK_BYTES + 64 * 1024);
    let mut line = 1u64;
    let mut eof = false;
    // How much to hold before cutting; grows while a single line is longer.
    let mut want = CHUNK_BYTES;
    loop {
        while !eof && buf.len() < want {
            let start = buf.len();
            buf.resize(want.max(start + 64 * 1024), 0);
            let n = loop {
                match reader.read(&mut buf[start..]) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    other => break other,
                }
            };
            let n = n.inspect_err(|_| buf.truncate(start))?;
            buf.truncate(start + n);
            eof = n == 0;
        }
        if buf.is_empty() {
            return Ok(true);
        }
        let cut = if eof {
            buf.len()
        } else {
            match split_point(&buf, CHUNK_BYTES) {
                Some(cut) => cut,
                None => {
                    want = buf.len() + CHUNK_BYTES;
                    continue;
                }
            }
        };
        want = CHUNK_BYTES;
        let rest = buf[cut..].to_vec();
        buf.truncate(cut);
        let data = std::mem::replace(&mut buf, rest);
        let lines = memchr::memchr_iter(b'\n', &data).count() as u64;
        let chunk = Chunk {
            source: name.clone(),
            first_line: line,
            data,
        };
        line += lines;
        if !emit(chunk) {
            return Ok(false);
        }
        buf.reserve(CHUNK_BYTES);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_hold_whole_lines_and_count_them() {
        let line = "x".repeat(999) + "\n";
        let text = line.repeat(CHUNK_BYTES / 1000 * 3 + 7);
        let name: Arc<str> = "t".into();
        let mut chunks = vec![];
        chunk_reader(text.as_bytes(), &name, &mut |c: Chunk| {
            chunks.push((c.first_line, c.data));
            true
        })
        .unwrap();
        assert!(chunks.len() >= 3);
        let mut expect = 1;
        let mut joined = Vec::new();
        for (first, data) in &chunks {
            assert_eq!(*first, expect);
            assert!(data.ends_with(b"\n"));
            expect += data.iter().filter(|&&b| b == b'\n').count() as u64;
            joined.extend_from_slice(data);
        }
        assert_eq!(joined, text.as_bytes());
    }

    #[test]
    fn a_line_longer_than_a_chunk_stays_whole() {
        let text = format!("a\n{}\nb\n", "y".repeat(CHUNK_BYTES * 2 + 5));
        let name: Arc<str> = "t".into();
        let mut chunks = vec![];
        chunk_reader(text.as_bytes(), &name, &mut |c: Chunk| {
            chunks.push((c.first_line, c.data.len()));
            true
        })
        .unwrap();
        assert_eq!(chunks.iter().map(|c| c.1).sum::<usize>(), text.len());
        assert!(chunks.iter().any(|c| c.1 >= CHUNK_BYTES * 2 + 6));
        assert_eq!(chunks[1].0, 2, "the long line is line 2");
    }

    #[test]
    fn a_last_line_without_line_end_is_kept() {
        let name: Arc<str> = "t".into();
        let mut all = vec![];
        chunk_reader(&b"a\nb"[..], &name, &mut |c: Chunk| {
            all.extend(c.data);
            true
        })
        .unwrap();
        assert_eq!(all, b"a\nb");
    }
}
