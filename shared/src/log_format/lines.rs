//! Walking a buffer of log text line by line, with 1-based line numbers.

use memchr::memchr;

use super::{LogRecord, ParseError, parse_line};

/// A malformed line: where it is and what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line_number}: {error}")]
pub struct LineError {
    pub line_number: u64,
    pub error: ParseError,
}

/// What a walk over a buffer saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LineCounts {
    /// Every line, blank ones included (so numbers match an editor's).
    pub lines: u64,
    pub records: u64,
    pub malformed: u64,
}

impl std::ops::AddAssign for LineCounts {
    fn add_assign(&mut self, o: Self) {
        self.lines += o.lines;
        self.records += o.records;
        self.malformed += o.malformed;
    }
}

/// Calls `on_line` with each non-blank line's number and its parse result, in
/// order. `first_line_number` is the number of the buffer's first line, so a
/// large input can be split into chunks at line ends and walked in parallel.
/// Bytes that are not UTF-8 make that line malformed; nothing is skipped
/// silently.
pub fn for_each_line<'a>(
    buf: &'a [u8],
    first_line_number: u64,
    mut on_line: impl FnMut(u64, Result<LogRecord<'a>, ParseError>),
) -> LineCounts {
    let mut counts = LineCounts::default();
    let mut pos = 0;
    let mut number = first_line_number;
    while pos < buf.len() {
        let end = memchr(b'\n', &buf[pos..]).map_or(buf.len(), |i| pos + i);
        let raw = &buf[pos..end];
        pos = end + 1;
        counts.lines += 1;
        let this = number;
        number += 1;
        if raw.iter().all(|&b| b == b' ' || b == b'\r' || b == b'\t') {
            continue;
        }
        // simdutf8 checks 32 bytes at a time where the CPU has AVX2 (chosen
        // at run time): half of std's instructions on these lines (callgrind,
        // three days of logs). Its quick error has no position, so std finds
        // that for the message.
        let result = match simdutf8::basic::from_utf8(raw) {
            Ok(line) => parse_line(line),
            Err(_) => Err(ParseError {
                field: "line",
                message: format!("not valid UTF-8 at byte {}", utf8_valid_up_to(raw) + 1),
            }),
        };
        match &result {
            Ok(_) => counts.records += 1,
            Err(_) => counts.malformed += 1,
        }
        on_line(this, result);
    }
    counts
}

/// How many leading bytes of `raw` are valid UTF-8.
fn utf8_valid_up_to(raw: &[u8]) -> usize {
    std::str::from_utf8(raw).map_or_else(|e| e.valid_up_to(), str::len)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_lines_and_skips_blank_ones() {
        let buf = b"garbage\n\n  \r\nmore garbage\r\n";
        let mut seen = vec![];
        let counts = for_each_line(buf, 10, |n, r| seen.push((n, r.is_ok())));
        assert_eq!(seen, vec![(10, false), (13, false)]);
        assert_eq!(
            counts,
            LineCounts {
                lines: 4,
                records: 0,
                malformed: 2
            }
        );
    }

    #[test]
    fn invalid_utf8_is_a_malformed_line_not_a_drop() {
        let mut errors = vec![];
        for_each_line(b"ab\xffcd\n", 1, |n, r| {
            errors.push((n, r.unwrap_err().message))
        });
        assert_eq!(errors, vec![(1, "not valid UTF-8 at byte 3".to_string())]);
    }
}
