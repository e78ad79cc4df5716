//! Walking a buffer of log text line by line, with 1-based line numbers, and
//! turning a log object's bytes into that text.

use std::borrow::Cow;
use std::io::Read;

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

/// The compression a log object's first bytes announce, by its magic number;
/// `None` for anything else (plain text: a log line starts with the bucket
/// owner's hex id or `-`). S3 writes its logs uncompressed; compressed ones
/// are copies a person made.
pub fn compression_of(head: &[u8]) -> Option<&'static str> {
    match head {
        [0x1f, 0x8b, ..] => Some("gzip"),
        [0x28, 0xb5, 0x2f, 0xfd, ..] => Some("zstd"),
        [b'B', b'Z', b'h', b'1'..=b'9', ..] => Some("bzip2"),
        [0xfd, b'7', b'z', b'X', b'Z', 0x00, ..] => Some("xz"),
        [b'P', b'K', 0x03, 0x04, ..] => Some("zip"),
        _ => None,
    }
}

/// A log object's text: plain text as it is (borrowed), gzip decompressed
/// (every member: `cat a.gz b.gz` is one valid file). Other compressions are
/// refused with a message saying to decompress first, rather than read as
/// text whose every line would be malformed; a damaged gzip is an error too.
/// The message does not name the object: callers add that.
pub fn decode_log_object(raw: &[u8]) -> Result<Cow<'_, [u8]>, String> {
    match compression_of(raw) {
        None => Ok(Cow::Borrowed(raw)),
        Some("gzip") => {
            let mut out = Vec::with_capacity(gzip_size_hint(raw));
            flate2::read::MultiGzDecoder::new(raw)
                .read_to_end(&mut out)
                .map_err(|e| format!("corrupt gzip (cannot be decompressed): {e}"))?;
            Ok(Cow::Owned(out))
        }
        Some(other) => Err(format!(
            "{other}-compressed: decompress it first (logs are read as plain text or gzip)"
        )),
    }
}

/// Room for `raw` decompressed, so that it is not copied as it grows: the
/// gzip trailer's ISIZE (the last member's size mod 2^32: the whole size
/// for the one-member files S3 and gzip write), at least 4x the input and
/// at most deflate's largest ratio (1032:1), whatever a damaged trailer says.
fn gzip_size_hint(raw: &[u8]) -> usize {
    let trailer = raw.len().checked_sub(4).map(|at| &raw[at..]);
    let isize = trailer.map_or(0, |t| {
        u32::from_le_bytes(t.try_into().expect("four bytes")) as usize
    });
    isize
        .max(raw.len().saturating_mul(4))
        .min(raw.len().saturating_mul(1032))
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

    fn gzip(parts: &[&[u8]]) -> Vec<u8> {
        use std::io::Write;
        let mut out = vec![];
        for p in parts {
            let mut e = flate2::write::GzEncoder::new(vec![], flate2::Compression::fast());
            e.write_all(p).unwrap();
            out.extend(e.finish().unwrap());
        }
        out
    }

    #[test]
    fn plain_text_is_borrowed_as_is() {
        for raw in [
            &b""[..],
            b"-",
            b"79a59df9 bucket [06/Feb/2019:00:00:38 +0000]\n",
            b"P",
            b"BZ",
        ] {
            assert!(matches!(decode_log_object(raw), Ok(Cow::Borrowed(b)) if b == raw));
        }
    }

    #[test]
    fn the_gzip_trailer_sizes_the_output() {
        let text = b"a log line that repeats\n".repeat(4000);
        let gz = gzip(&[&text]);
        assert_eq!(gzip_size_hint(&gz), text.len(), "ISIZE, the exact size");
        let mut damaged = gz.clone();
        let n = damaged.len();
        damaged[n - 4..].copy_from_slice(&u32::MAX.to_le_bytes());
        assert_eq!(
            gzip_size_hint(&damaged),
            n * 1032,
            "never past deflate's ratio"
        );
        assert_eq!(gzip_size_hint(&[0x1f, 0x8b]), 8, "too short for a trailer");
        assert_eq!(decode_log_object(&gz).unwrap().as_ref(), &text[..]);
    }

    #[test]
    fn gzip_is_decompressed_every_member() {
        let raw = gzip(&[&b"line 1\n"[..], &b"line 2\n"[..]]);
        assert_eq!(compression_of(&raw), Some("gzip"));
        let text = decode_log_object(&raw).unwrap();
        assert!(matches!(text, Cow::Owned(_)));
        assert_eq!(&*text, b"line 1\nline 2\n");
    }

    #[test]
    fn corrupt_gzip_is_an_error_naming_it() {
        let raw = gzip(&[&b"some log text\n".repeat(100)[..]]);
        for damaged in [&raw[..raw.len() / 2], &raw[..2]] {
            let e = decode_log_object(damaged).unwrap_err();
            assert!(e.contains("corrupt gzip"), "{e}");
        }
        let mut flipped = raw.clone();
        let n = flipped.len();
        flipped[n - 5] ^= 0xff; // the CRC's or length's bytes
        assert!(
            decode_log_object(&flipped)
                .unwrap_err()
                .contains("corrupt gzip")
        );
    }

    #[test]
    fn other_compressions_are_refused_by_name() {
        let cases: [(&[u8], &str); 4] = [
            (&[0x28, 0xb5, 0x2f, 0xfd, 0x00], "zstd"),
            (b"BZh91AY&SY", "bzip2"),
            (&[0xfd, b'7', b'z', b'X', b'Z', 0x00, 0x00], "xz"),
            (b"PK\x03\x04\x14\x00", "zip"),
        ];
        for (raw, name) in cases {
            assert_eq!(compression_of(raw), Some(name));
            let e = decode_log_object(raw).unwrap_err();
            assert!(e.starts_with(&format!("{name}-compressed")), "{e}");
            assert!(e.contains("decompress it first"), "{e}");
        }
        assert_eq!(
            compression_of(b"BZhx"),
            None,
            "bzip2 has a block-size digit"
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
