//! A gzip writer that compresses independent blocks on several threads and
//! writes them in order as one multi-member gzip stream (RFC 1952 allows
//! members one after another; gzip, zcat, Python, pandas and DuckDB read the
//! whole stream). Compression stops being the slowest part of a merge.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::thread::JoinHandle;

use flate2::Compression;
use flate2::write::GzEncoder;

/// Uncompressed bytes per gzip member: large enough that the per-member
/// overhead (about 20 bytes, and a fresh dictionary) does not matter.
pub const BLOCK_BYTES: usize = 4 << 20;

pub struct ParallelGzWriter<W: Write> {
    out: W,
    level: Compression,
    block: Vec<u8>,
    in_flight: VecDeque<JoinHandle<io::Result<Vec<u8>>>>,
    max_in_flight: usize,
    members: usize,
}

impl<W: Write> ParallelGzWriter<W> {
    pub fn new(out: W, level: Compression) -> Self {
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self {
            out,
            level,
            block: Vec::with_capacity(BLOCK_BYTES),
            in_flight: VecDeque::new(),
            max_in_flight: threads + 1,
            members: 0,
        }
    }

    fn send_block(&mut self) -> io::Result<()> {
        if self.block.is_empty() {
            return Ok(());
        }
        let block = std::mem::replace(&mut self.block, Vec::with_capacity(BLOCK_BYTES));
        let level = self.level;
        self.in_flight.push_back(std::thread::spawn(move || {
            let mut gz = GzEncoder::new(Vec::with_capacity(block.len() / 3), level);
            gz.write_all(&block)?;
            gz.finish()
        }));
        while self.in_flight.len() >= self.max_in_flight {
            self.write_oldest()?;
        }
        Ok(())
    }

    fn write_oldest(&mut self) -> io::Result<()> {
        if let Some(h) = self.in_flight.pop_front() {
            let member = h
                .join()
                .map_err(|_| io::Error::other("a gzip worker thread panicked"))??;
            self.out.write_all(&member)?;
            self.members += 1;
        }
        Ok(())
    }

    /// Compresses what is left, writes every member in order and returns the
    /// inner writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.send_block()?;
        while !self.in_flight.is_empty() {
            self.write_oldest()?;
        }
        if self.members == 0 {
            // An empty input still becomes one (empty) gzip member.
            let gz = GzEncoder::new(Vec::new(), self.level);
            self.out.write_all(&gz.finish()?)?;
        }
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> Write for ParallelGzWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let room = BLOCK_BYTES - self.block.len();
        let n = buf.len().min(room);
        self.block.extend_from_slice(&buf[..n]);
        if self.block.len() == BLOCK_BYTES {
            self.send_block()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        // Blocks are flushed when full or at finish; an early flush would
        // only make smaller members.
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_end(&mut out)
            .unwrap();
        out
    }

    #[test]
    fn many_members_read_back_as_one_stream() {
        let text: Vec<u8> = (0..3 * BLOCK_BYTES / 10)
            .flat_map(|i| format!("{i:09}\n").into_bytes())
            .collect();
        let mut w = ParallelGzWriter::new(Vec::new(), Compression::fast());
        for chunk in text.chunks(1000) {
            w.write_all(chunk).unwrap();
        }
        let gz = w.finish().unwrap();
        assert_eq!(gunzip(&gz), text);
        let members = gz.windows(3).filter(|w| *w == [0x1f, 0x8b, 0x08]).count();
        assert!(members >= 3, "{members} members");
    }

    #[test]
    fn empty_input_is_a_valid_gzip_stream() {
        let gz = ParallelGzWriter::new(Vec::new(), Compression::fast())
            .finish()
            .unwrap();
        assert!(!gz.is_empty());
        assert_eq!(gunzip(&gz), b"");
    }
}
