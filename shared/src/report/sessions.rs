//! Download sessions: what people mean by "a download" when one person's
//! video player or resuming client makes dozens of range requests for one
//! file.
//!
//! The rule (the one dandi/s3-log-extraction uses): downloads of one key by
//! one remote IP belong to one session while each follows the pair's
//! previous download by at most [`SESSION_GAP_MS`]; a longer gap starts a new
//! session.
//!
//! Rows reach the tally in no particular order (parts, batches and workers
//! interleave), so each pair keeps its sessions as time intervals rather than
//! only its last time. Inserting a time extends, creates or joins intervals;
//! two interval sets of the same pair merge the same way. The count is exact
//! whatever the order: an interval is a chain of downloads with no gap over
//! the limit, a merged set can only close gaps, and two chains whose spans
//! overlap or lie within the limit of each other have no larger gap in their
//! union.

use std::collections::HashMap;

use smallvec::SmallVec;

use super::names::Id;

type Fast = foldhash::fast::RandomState;

/// A new session starts after more than 8 hours without a download of the pair.
pub const SESSION_GAP_MS: i64 = 8 * 3_600_000;

/// One pair's sessions: sorted, disjoint `[first, last]` download times,
/// each more than [`SESSION_GAP_MS`] from the next. Most pairs have one
/// session, kept inline: no allocation per pair.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Intervals(SmallVec<[(i64, i64); 1]>);

impl Intervals {
    /// Adds one download at `t`.
    pub fn insert(&mut self, t: i64) {
        self.insert_span(t, t);
    }

    /// Adds a chain `[start, end]` (one download when equal), joining every
    /// interval within the gap of it.
    fn insert_span(&mut self, start: i64, end: i64) {
        let v = &mut self.0;
        // Logs come roughly in time order: the last interval is the usual case.
        if let Some(last) = v.last_mut() {
            if start >= last.0 && start <= last.1.saturating_add(SESSION_GAP_MS) {
                last.1 = last.1.max(end);
                return;
            }
            if start > last.1 {
                v.push((start, end));
                return;
            }
        }
        // The first interval that ends within the gap before `start` and the
        // first that starts beyond the gap after `end` bound what joins.
        let from = v.partition_point(|&(_, e)| e.saturating_add(SESSION_GAP_MS) < start);
        let to = v.partition_point(|&(s, _)| s <= end.saturating_add(SESSION_GAP_MS));
        if from == to {
            v.insert(from, (start, end));
        } else {
            v[from] = (start.min(v[from].0), end.max(v[to - 1].1));
            v.drain(from + 1..to);
        }
    }

    /// Unites another set of the same pair's sessions (from other rows).
    pub fn absorb(&mut self, other: Intervals) {
        for (s, e) in other.0 {
            self.insert_span(s, e);
        }
    }

    pub fn sessions(&self) -> u64 {
        self.0.len() as u64
    }
}

/// A missing remote IP, as a number no IP is given: its downloads still
/// make sessions of their own.
pub const NO_IP: Id = Id::MAX;

/// The sessions of every (key, remote IP) pair, by the numbers the tally
/// gives keys and IPs: the key in the high half, the IP in the low.
#[derive(Default, serde::Serialize, serde::Deserialize)]
pub struct Sessions {
    pairs: HashMap<u64, Intervals, Fast>,
}

fn pair(key: Id, ip: Id) -> u64 {
    (u64::from(key) << 32) | u64::from(ip)
}

impl Sessions {
    pub fn add(&mut self, key: Id, ip: Id, t: i64) {
        self.pairs.entry(pair(key, ip)).or_default().insert(t);
    }

    /// Unites `other`'s sessions, whose keys and IPs are numbered by `keys`
    /// and `ips` (their number is the index, ours the value).
    pub fn absorb(&mut self, other: Sessions, keys: &[Id], ips: &[Id]) {
        for (p, theirs) in other.pairs {
            let (key, ip) = ((p >> 32) as usize, p as u32);
            let ip = if ip == NO_IP { NO_IP } else { ips[ip as usize] };
            match self.pairs.get_mut(&pair(keys[key], ip)) {
                Some(mine) => mine.absorb(theirs),
                None => {
                    self.pairs.insert(pair(keys[key], ip), theirs);
                }
            }
        }
    }

    /// Sessions per key number (summed over the IPs that downloaded it);
    /// `keys` is how many keys are numbered.
    pub fn by_key(&self, keys: usize) -> Vec<u64> {
        let mut out = vec![0; keys];
        for (p, iv) in &self.pairs {
            out[(p >> 32) as usize] += iv.sessions();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    /// The rule itself, over sorted times: a gap over the limit starts a session.
    fn by_rule(times: &[i64]) -> u64 {
        let mut t = times.to_vec();
        t.sort_unstable();
        if t.is_empty() {
            return 0;
        }
        1 + t
            .windows(2)
            .filter(|w| w[1] - w[0] > SESSION_GAP_MS)
            .count() as u64
    }

    #[test]
    fn a_gap_of_exactly_eight_hours_continues_the_session() {
        let mut iv = Intervals::default();
        for t in [0, 8 * H, 16 * H + 1, 30 * H] {
            iv.insert(t);
        }
        assert_eq!(iv.sessions(), 3);
    }

    #[test]
    fn a_late_download_can_join_two_sessions() {
        let mut iv = Intervals::default();
        iv.insert(0);
        iv.insert(12 * H);
        assert_eq!(iv.sessions(), 2);
        iv.insert(6 * H);
        assert_eq!(iv.sessions(), 1);
    }

    #[test]
    fn any_order_and_any_split_count_what_the_rule_counts() {
        // A small deterministic generator: no dependency for a test.
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = move |n: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % n
        };
        for _ in 0..500 {
            let times: Vec<i64> = (0..next(40)).map(|_| next(120) as i64 * H / 2).collect();
            let split = next(times.len() as u64 + 1) as usize;
            let (mut a, mut b) = (Intervals::default(), Intervals::default());
            for &t in &times[..split] {
                a.insert(t);
            }
            for &t in times[split..].iter().rev() {
                b.insert(t);
            }
            a.absorb(b);
            assert_eq!(a.sessions(), by_rule(&times), "{times:?} split at {split}");
            let w = &a.0;
            assert!(
                w.windows(2).all(|p| p[1].0 - p[0].1 > SESSION_GAP_MS),
                "{w:?}"
            );
        }
    }

    #[test]
    fn sessions_are_per_ip_and_key_and_sum_per_key() {
        // Keys: a.mp4 is 0 and b.pdf 1; IPs: 192.0.2.1 is 0 and 192.0.2.2 1.
        let mut s = Sessions::default();
        s.add(0, 0, 0);
        s.add(0, 0, H);
        s.add(0, 1, H);
        s.add(1, NO_IP, 0);
        // Another tally numbered them as it met them: b.pdf 0, a.mp4 1, 192.0.2.1 0.
        let mut later = Sessions::default();
        later.add(1, 0, 20 * H);
        later.add(0, 0, 0);
        later.add(0, NO_IP, H);
        s.absorb(later, &[1, 0], &[0]);
        assert_eq!(s.by_key(2), vec![3, 2]);
    }
}
