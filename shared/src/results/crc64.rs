//! CRC64/NVME digests of byte ranges and of files laid end to end, without
//! the bytes: what the output set records for outputs assembled from shards
//! by server-side copies, whose bytes never pass through this process.
//!
//! A CRC is affine in its input, so the CRC of `A || B` is
//! `shift(crc(A), |B|) ^ crc(B)`, `shift` being linear (`crc_fast`'s
//! `checksum_combine`). From that, the CRC of a file's middle follows from
//! the whole file's CRC and the CRCs of its ends: [`Crc64::without_tail`]
//! undoes the combine by inverting the 64x64 bit matrix of `shift`, and
//! [`Crc64::without_head`] removes a prefix. The assembly knows each shard's
//! CRC (recorded as the shard was written) and reads only its footer.

use crc_fast::{CrcAlgorithm, checksum_combine};

const ALGORITHM: CrcAlgorithm = CrcAlgorithm::Crc64Nvme;

/// The CRC64/NVME of `len` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Crc64 {
    pub crc: u64,
    pub len: u64,
}

impl Crc64 {
    pub const EMPTY: Crc64 = Crc64 { crc: 0, len: 0 };

    pub fn of(bytes: &[u8]) -> Self {
        Self {
            crc: crc_fast::checksum(ALGORITHM, bytes),
            len: bytes.len() as u64,
        }
    }

    /// The CRC of `self`'s bytes followed by `next`'s.
    pub fn then(self, next: Crc64) -> Self {
        if self.len == 0 {
            return next;
        }
        Self {
            crc: checksum_combine(ALGORITHM, self.crc, next.crc, next.len),
            len: self.len + next.len,
        }
    }

    /// The CRC of `self`'s bytes without their last bytes, `tail`.
    pub fn without_tail(self, tail: Crc64) -> Option<Self> {
        let len = self.len.checked_sub(tail.len)?;
        if tail.len == 0 {
            return Some(self);
        }
        if len == 0 {
            return (self.crc == tail.crc).then_some(Crc64::EMPTY);
        }
        // crc = shift(head) ^ k ^ tail, where k = shift(0): solve for head.
        let k = shift(0, tail.len);
        let matrix: [u64; 64] = std::array::from_fn(|bit| shift(1 << bit, tail.len) ^ k);
        let head = solve(matrix, self.crc ^ tail.crc ^ k)?;
        Some(Self { crc: head, len })
    }

    /// The CRC of `self`'s bytes without their first bytes, `head`.
    pub fn without_head(self, head: Crc64) -> Option<Self> {
        let len = self.len.checked_sub(head.len)?;
        if head.len == 0 {
            return Some(self);
        }
        // crc = shift(head, len) ^ k ^ rest, where k = shift(0, len).
        let crc = self.crc ^ shift(head.crc, len) ^ shift(0, len);
        Some(Self { crc, len })
    }

    /// Lower-case hex, as S3 would print the big-endian bytes.
    pub fn hex(self) -> String {
        format!("{:016x}", self.crc)
    }
}

/// `crc` moved past `len` more bytes that contribute nothing of their own:
/// `combine(crc, crc(B), len) ^ crc(B)` for any `B` of `len` bytes, taken
/// with the CRC of nothing in particular (0), as the combine is affine.
fn shift(crc: u64, len: u64) -> u64 {
    checksum_combine(ALGORITHM, crc, 0, len)
}

/// The `x` with `sum of columns[i] for each bit i of x == y`, over GF(2);
/// `None` when the matrix is singular (it never is for a CRC's shift,
/// whose polynomial has a constant term).
fn solve(columns: [u64; 64], y: u64) -> Option<u64> {
    // Rows of the augmented system: row r has bit i set when column i has
    // bit r; the 65th bit (kept apart) is y's bit r.
    let mut rows: Vec<(u64, bool)> = (0..64)
        .map(|r| {
            let coefficients = (0..64).fold(0u64, |acc, i| acc | (((columns[i] >> r) & 1) << i));
            (coefficients, (y >> r) & 1 == 1)
        })
        .collect();
    for col in 0..64 {
        let pivot = (col..64).find(|&r| (rows[r].0 >> col) & 1 == 1)?;
        rows.swap(col, pivot);
        let (p, pb) = rows[col];
        for (r, row) in rows.iter_mut().enumerate() {
            if r != col && (row.0 >> col) & 1 == 1 {
                row.0 ^= p;
                row.1 ^= pb;
            }
        }
    }
    Some((0..64).fold(0u64, |x, i| x | (u64::from(rows[i].1) << i)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(n: usize, seed: u64) -> Vec<u8> {
        let mut x = seed | 1;
        (0..n)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                x as u8
            })
            .collect()
    }

    #[test]
    fn ends_come_off_and_pieces_join_to_the_crc_of_the_whole() {
        for (a, b, c) in [
            (4, 1000, 300),
            (1, 1, 1),
            (4, 0, 9),
            (0, 7, 0),
            (9, 70_000, 8),
        ] {
            let all = bytes(a + b + c, (a * 31 + b * 7 + c) as u64);
            let (head, rest) = all.split_at(a);
            let (middle, tail) = rest.split_at(b);
            let whole = Crc64::of(&all);
            assert_eq!(whole.crc, crc_fast::checksum(ALGORITHM, &all));
            let cut = whole
                .without_tail(Crc64::of(tail))
                .unwrap()
                .without_head(Crc64::of(head))
                .unwrap();
            assert_eq!(cut, Crc64::of(middle), "{a} {b} {c}");
            let joined = Crc64::of(head)
                .then(Crc64::of(middle))
                .then(Crc64::of(tail));
            assert_eq!(joined, whole);
        }
        assert_eq!(Crc64::of(b"ab").without_tail(Crc64::of(b"abc")), None);
        // S3's documented check value of CRC-64/NVME for "123456789".
        assert_eq!(Crc64::of(b"123456789").hex(), "ae8b14860a799888");
    }
}
