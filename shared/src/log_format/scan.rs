//! Finding a separator within one log line, eight bytes at a time.
//!
//! Most fields are short (an IP, a status, a request id), so the search for
//! the space that ends one is short too. `memchr` is built for long searches:
//! for these it spends more on choosing and setting up its vector routine
//! than on the search itself. Reading the line a `u64` word at a time, with
//! the classic "has a zero byte" test, needs no setup and no `unsafe`.
//!
//! The parser itself looks up spaces and quotes in a line's
//! [`Marks`](super::marks::Marks), which come here only past a line's first
//! KiB; the closing `]` of the time and the CSV writer's quoting check
//! search here directly.

const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The bytes of `word` that are zero, as their high bits. Bits above the
/// lowest one may be wrong (a borrow runs on), the lowest one never is.
#[inline(always)]
fn zero_bytes(word: u64) -> u64 {
    word.wrapping_sub(LOW) & !word & HIGH
}

#[inline(always)]
fn word_at(b: &[u8], at: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[at..at + 8]);
    u64::from_le_bytes(w)
}

/// The position of the first `needle` in `b` at or after `from`.
#[inline]
pub fn find(b: &[u8], from: usize, needle: u8) -> Option<usize> {
    let pattern = LOW * u64::from(needle);
    let mut i = from;
    while i + 8 <= b.len() {
        let hits = zero_bytes(word_at(b, i) ^ pattern);
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b.get(i..)?.iter().position(|&x| x == needle).map(|p| i + p)
}

/// The position of the first `a` or `b2` in `b` at or after `from`.
#[inline]
pub fn find2(b: &[u8], from: usize, a: u8, b2: u8) -> Option<usize> {
    let (pa, pb) = (LOW * u64::from(a), LOW * u64::from(b2));
    let mut i = from;
    while i + 8 <= b.len() {
        let w = word_at(b, i);
        // Each test's lowest bit is exact, so the lowest of both is too.
        let hits = zero_bytes(w ^ pa) | zero_bytes(w ^ pb);
        if hits != 0 {
            return Some(i + (hits.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    b.get(i..)?
        .iter()
        .position(|&x| x == a || x == b2)
        .map(|p| i + p)
}

/// Whether `b` holds any of the four bytes in `set`.
#[inline]
pub fn contains_any(b: &[u8], set: [u8; 4]) -> bool {
    let patterns = set.map(|x| LOW * u64::from(x));
    let mut words = b.chunks_exact(8);
    for w in &mut words {
        let mut word = [0u8; 8];
        word.copy_from_slice(w);
        let w = u64::from_le_bytes(word);
        // A zero byte anywhere makes the test non-zero, and only then.
        if patterns.iter().any(|p| zero_bytes(w ^ p) != 0) {
            return true;
        }
    }
    words.remainder().iter().any(|x| set.contains(x))
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The first byte of `set` at or after `from`, one byte at a time.
    pub(in crate::log_format) fn naive(b: &[u8], from: usize, set: &[u8]) -> Option<usize> {
        (from..b.len()).find(|&i| set.contains(&b[i]))
    }

    #[test]
    fn finds_the_first_at_or_after_from() {
        let line = b"owner bucket [06/Feb/2019:00:00:38 +0000] \"GET / HTTP/1.1\"";
        assert_eq!(find(line, 0, b' '), Some(5));
        assert_eq!(find(line, 5, b' '), Some(5));
        assert_eq!(find(line, 6, b' '), Some(12));
        assert_eq!(find(line, 0, b'"'), Some(42));
        assert_eq!(find2(line, 0, b'"', b']'), Some(40));
        assert_eq!(find(line, line.len(), b' '), None);
        assert_eq!(find(line, line.len() + 3, b' '), None);
        assert_eq!(find(b"", 0, b' '), None);
    }

    #[test]
    fn bytes_just_above_and_below_the_needle_are_not_it() {
        // 0x1f and 0x21 around a space, 0x80 and 0xff: the borrow cases.
        let b = [0x1f, 0x21, 0x80, 0xff, 0x00, 0x01, 0x21, 0x1f, 0x1f, b' '];
        assert_eq!(find(&b, 0, b' '), Some(9));
        assert_eq!(find2(&b, 0, b' ', b'"'), Some(9));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]
        #[test]
        fn agrees_with_a_plain_search(
            b in proptest::collection::vec(
                prop_oneof![Just(b' '), Just(b'"'), Just(0x21u8), Just(0x1fu8), any::<u8>()], 0..80),
            from in 0usize..90,
        ) {
            prop_assert_eq!(find(&b, from, b' '), naive(&b, from, b" "));
            prop_assert_eq!(find(&b, from, b'"'), naive(&b, from, b"\""));
            prop_assert_eq!(find2(&b, from, b' ', b'"'), naive(&b, from, b" \""));
            let set = [b',', b'"', b'\n', 0x21];
            prop_assert_eq!(contains_any(&b, set), naive(&b, 0, &set).is_some());
        }
    }
}
