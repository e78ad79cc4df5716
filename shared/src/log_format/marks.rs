//! Where the spaces and quotes of one log line are, found once per line.
//!
//! The parser looks for the end of each of some thirty fields, and for the
//! quotes that may close the three quoted ones, checking several candidate
//! ends of a quoted field against the fields after it. Searching the bytes
//! anew for each (even eight at a time, as [`scan`](super::scan) does) came
//! to over a quarter of the CPU time of a conversion to Parquet. Instead,
//! the line's first [`COVERED`] bytes are classified once, sixteen bytes per
//! instruction where the CPU has SSE2 (every x86-64 does), into one bit per
//! byte; each search is then a mask and a count of trailing zeros. Bytes
//! past [`COVERED`] (a rare, very long request URI or user agent) are
//! searched as before.

use super::scan;

const WORDS: usize = 16;
/// Bytes of a line that are classified up front.
pub const COVERED: usize = WORDS * 64;

/// One bit per byte of a line's first [`COVERED`] bytes: set where the byte
/// is a space (`spaces`) or a double quote (`quotes`).
pub struct Marks<'a> {
    b: &'a [u8],
    spaces: [u64; WORDS],
    quotes: [u64; WORDS],
    /// Words in use: the line's length, up to [`COVERED`], in 64s, rounded
    /// up (the bits past the line's end are clear).
    words: usize,
}

impl<'a> Marks<'a> {
    pub fn new(b: &'a [u8]) -> Self {
        let covered = &b[..b.len().min(COVERED)];
        let mut m = Marks {
            b,
            spaces: [0; WORDS],
            quotes: [0; WORDS],
            words: covered.len().div_ceil(64),
        };
        let mut blocks = covered.chunks_exact(64);
        for (w, block) in (&mut blocks).enumerate() {
            let block = block.try_into().expect("chunks of 64 bytes");
            (m.spaces[w], m.quotes[w]) = block_marks(block);
        }
        let tail = blocks.remainder();
        if !tail.is_empty() {
            // Zeros past the end: neither a space nor a quote.
            let mut padded = [0u8; 64];
            padded[..tail.len()].copy_from_slice(tail);
            (m.spaces[m.words - 1], m.quotes[m.words - 1]) = block_marks(&padded);
        }
        m
    }

    /// The line.
    pub fn bytes(&self) -> &'a [u8] {
        self.b
    }

    /// The first space at or after `from`.
    #[inline(always)]
    pub fn space(&self, from: usize) -> Option<usize> {
        self.first(from, |w| self.spaces[w])
            .unwrap_or_else(|from| scan::find(self.b, from, b' '))
    }

    /// The first double quote at or after `from`.
    #[inline(always)]
    pub fn quote(&self, from: usize) -> Option<usize> {
        self.first(from, |w| self.quotes[w])
            .unwrap_or_else(|from| scan::find(self.b, from, b'"'))
    }

    /// The first space or double quote at or after `from`.
    #[inline(always)]
    pub fn space_or_quote(&self, from: usize) -> Option<usize> {
        self.first(from, |w| self.spaces[w] | self.quotes[w])
            .unwrap_or_else(|from| scan::find2(self.b, from, b' ', b'"'))
    }

    /// The first set bit at or after `from` in the words `word` gives:
    /// `Ok` with its position (or `None` when the whole line is covered and
    /// has none), or `Err` with where the plain search must go on.
    #[inline(always)]
    fn first(&self, from: usize, word: impl Fn(usize) -> u64) -> Result<Option<usize>, usize> {
        let mut w = from / 64;
        if w < self.words {
            let mut bits = word(w) & (u64::MAX << (from % 64));
            loop {
                if bits != 0 {
                    return Ok(Some(w * 64 + bits.trailing_zeros() as usize));
                }
                w += 1;
                if w == self.words {
                    break;
                }
                bits = word(w);
            }
        }
        if self.b.len() <= COVERED {
            Ok(None)
        } else {
            Err(from.max(COVERED))
        }
    }
}

/// The spaces and the quotes of 64 bytes, as bits (bit i for byte i).
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn block_marks(block: &[u8; 64]) -> (u64, u64) {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    let (mut spaces, mut quotes) = (0u64, 0u64);
    // SAFETY: SSE2 is part of x86-64, so these intrinsics are always
    // available; each load reads a `part`, 16 readable bytes, the load's
    // size, with no alignment required.
    unsafe {
        let space = _mm_set1_epi8(b' ' as i8);
        let quote = _mm_set1_epi8(b'"' as i8);
        for (i, part) in block.chunks_exact(16).enumerate() {
            let v = _mm_loadu_si128(part.as_ptr().cast::<__m128i>());
            // movemask packs each byte's top bit: 16 bits, one per byte.
            let s = _mm_movemask_epi8(_mm_cmpeq_epi8(v, space)) as u16;
            let q = _mm_movemask_epi8(_mm_cmpeq_epi8(v, quote)) as u16;
            spaces |= u64::from(s) << (16 * i);
            quotes |= u64::from(q) << (16 * i);
        }
    }
    (spaces, quotes)
}

/// The spaces and the quotes of 64 bytes, as bits (bit i for byte i), a
/// byte at a time: for other CPUs, and what the tests hold SSE2's to.
#[cfg_attr(target_arch = "x86_64", allow(dead_code))]
#[inline(always)]
fn block_marks_plain(block: &[u8; 64]) -> (u64, u64) {
    let (mut spaces, mut quotes) = (0u64, 0u64);
    for (i, &c) in block.iter().enumerate() {
        spaces |= u64::from(c == b' ') << i;
        quotes |= u64::from(c == b'"') << i;
    }
    (spaces, quotes)
}

#[cfg(not(target_arch = "x86_64"))]
use block_marks_plain as block_marks;

#[cfg(test)]
mod tests {
    use super::super::scan::tests::naive;
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn marks_the_spaces_and_quotes_of_a_line() {
        let line = b"- 200 \"GET /a HTTP/1.1\" \"-\"";
        let m = Marks::new(line);
        assert_eq!(m.space(0), Some(1));
        assert_eq!(m.space(1), Some(1));
        assert_eq!(m.space(2), Some(5));
        assert_eq!(m.quote(0), Some(6));
        assert_eq!(m.space_or_quote(5), Some(5));
        assert_eq!(m.space_or_quote(6), Some(6));
        assert_eq!(m.quote(line.len() - 1), Some(line.len() - 1));
        assert_eq!(m.space(line.len()), None);
        assert_eq!(m.space(line.len() + 100), None);
        assert_eq!(Marks::new(b"").quote(0), None);
    }

    /// A line longer than the classified part: searches that start before
    /// its end and find nothing there go on past it, and so do those that
    /// start after it.
    #[test]
    fn searches_go_on_past_the_covered_bytes() {
        let mut line = vec![b'a'; COVERED + 100];
        line[COVERED - 1] = b' ';
        line[COVERED + 10] = b'"';
        line[COVERED + 20] = b' ';
        let m = Marks::new(&line);
        assert_eq!(m.space(0), Some(COVERED - 1));
        assert_eq!(m.space(COVERED), Some(COVERED + 20));
        assert_eq!(m.quote(0), Some(COVERED + 10));
        assert_eq!(m.space_or_quote(COVERED - 1), Some(COVERED - 1));
        assert_eq!(m.space_or_quote(COVERED), Some(COVERED + 10));
        assert_eq!(m.quote(COVERED + 11), None);
        assert_eq!(m.space(COVERED + 200), None);
    }

    proptest! {
        /// The classifier in use (SSE2 on x86-64) gives the bits the plain
        /// byte-at-a-time one gives, which other CPUs use.
        #[test]
        fn the_classifiers_agree(
            block in proptest::collection::vec(
                prop_oneof![Just(b' '), Just(b'"'), Just(0xa0u8), Just(0xa2u8), any::<u8>()], 64),
        ) {
            let block: [u8; 64] = block.try_into().unwrap();
            prop_assert_eq!(block_marks(&block), block_marks_plain(&block));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// Every search agrees with a byte-by-byte one, for lines shorter
        /// and longer than the classified part, from every kind of start.
        #[test]
        fn agrees_with_a_plain_search(
            b in prop_oneof![
                proptest::collection::vec(
                    prop_oneof![Just(b' '), Just(b'"'), Just(0xa0u8), Just(0x22u8 ^ 0x80), any::<u8>()],
                    0..200),
                proptest::collection::vec(
                    prop_oneof![9 => Just(b'x'), 1 => Just(b' '), 1 => Just(b'"')],
                    COVERED - 70..COVERED + 140),
            ],
            from in prop_oneof![0usize..220, 0usize..COVERED + 160],
        ) {
            let m = Marks::new(&b);
            prop_assert_eq!(m.space(from), naive(&b, from, b" "));
            prop_assert_eq!(m.quote(from), naive(&b, from, b"\""));
            prop_assert_eq!(m.space_or_quote(from), naive(&b, from, b" \""));
        }
    }
}
