//! What one log object holds, judged against a run's query: how many of its
//! records the run's outputs hold, and why the rest are not there. This is
//! what RemoveOriginalLogs reads every object it would delete with, so an
//! object is deleted only when each of its lines is a record the outputs hold.
//!
//! The object's own bytes are read again with the project's parser rather
//! than trusting the engine's account of them: the bytes that would be
//! deleted are the ones checked, whichever engine (Athena's RegexSerDe or the
//! embedded one) read them before.

use serde::{Deserialize, Serialize};

use crate::log_format::forms::for_each_record;
use crate::period::TimeWindow;

/// Which records a run's outputs hold: those in the window, less bucket-level
/// operations when the run left them out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowFilter {
    pub window: TimeWindow,
    pub exclude_bucket_operations: bool,
}

/// One object's lines, sorted by where their records went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectAccount {
    /// Records the run's outputs hold.
    pub in_outputs: u64,
    /// Well-formed records outside the window (another period's).
    pub outside_window: u64,
    /// Bucket-level operations the run left out (`excludeBucketOperations`).
    pub excluded: u64,
    /// Lines that are not records (each one is in no output).
    pub malformed: u64,
    /// The first malformed line, for the reason shown to a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_malformed: Option<String>,
    /// The earliest and latest request times outside the window (seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside_range: Option<(i64, i64)>,
    /// Why the object could not be read as log text at all.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreadable: Option<String>,
}

impl ObjectAccount {
    /// Reads `raw`, an object's bytes, as the query read it.
    pub fn of(raw: &[u8], filter: &RowFilter) -> Self {
        let (start, end) = (
            filter.window.start.timestamp_millis(),
            filter.window.end.timestamp_millis(),
        );
        let mut account = ObjectAccount::default();
        let mut first_malformed = None;
        // Every form S3 delivers is read (each object's detected): an
        // object is accounted for as the query read it.
        let read = for_each_record(raw, None, |at, parsed| match parsed {
            Ok(record) => match record.request_time_ms {
                Some(ms) if ms < start || ms >= end => {
                    account.outside_window += 1;
                    let t = ms.div_euclid(1000);
                    let (lo, hi) = account.outside_range.unwrap_or((t, t));
                    account.outside_range = Some((lo.min(t), hi.max(t)));
                }
                Some(_) if filter.exclude_bucket_operations && record.key.is_none() => {
                    account.excluded += 1;
                }
                Some(_) => account.in_outputs += 1,
                // A record without a time is in no period's outputs.
                None => account.malformed += 1,
            },
            Err(e) => {
                account.malformed += 1;
                first_malformed.get_or_insert((at, e));
            }
        });
        match read {
            Ok((form, _)) => {
                account.first_malformed =
                    first_malformed.map(|(at, e)| format!("{} {at}: {e}", form.position_name()));
                account
            }
            Err(why) => ObjectAccount {
                unreadable: Some(why),
                ..ObjectAccount::default()
            },
        }
    }

    /// Why some of this object's lines are in no output of the run, or
    /// `None` when every line is a record the outputs hold.
    pub fn not_all_in_outputs(&self) -> Option<String> {
        if let Some(why) = &self.unreadable {
            return Some(format!("unreadable: {why}"));
        }
        let mut reasons = Vec::new();
        if self.malformed > 0 {
            reasons.push(format!(
                "{} malformed {} ({})",
                self.malformed,
                lines(self.malformed),
                self.first_malformed.as_deref().unwrap_or("")
            ));
        }
        if let Some((lo, hi)) = self.outside_range {
            reasons.push(format!(
                "{} {} outside the period ({} to {}), which belong to another period's outputs",
                self.outside_window,
                records(self.outside_window),
                time(lo),
                time(hi)
            ));
        }
        if self.excluded > 0 {
            reasons.push(format!(
                "{} bucket-level {} left out of the outputs by excludeBucketOperations",
                self.excluded,
                records(self.excluded)
            ));
        }
        (!reasons.is_empty()).then(|| reasons.join("; "))
    }
}

fn lines(n: u64) -> &'static str {
    if n == 1 { "line" } else { "lines" }
}

fn records(n: u64) -> &'static str {
    if n == 1 { "record" } else { "records" }
}

fn time(secs: i64) -> String {
    chrono::DateTime::from_timestamp(secs, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string())
        .unwrap_or_else(|| secs.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::period::Period;

    const LINE: &str = "79a5 awsexamplebucket1 [06/Feb/2019:00:00:38 +0000] 192.0.2.3 79a5 \
        3E57427F3EXAMPLE REST.GET.VERSIONING - \"GET /awsexamplebucket1?versioning HTTP/1.1\" \
        200 - 113 - 7 - \"-\" \"S3Console/0.4\" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= \
        SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com TLSV1.2 - -";

    fn filter(start: &str, end: &str, exclude: bool) -> RowFilter {
        RowFilter {
            window: Period::custom(start.parse().unwrap(), end.parse().unwrap(), 1).window,
            exclude_bucket_operations: exclude,
        }
    }

    #[test]
    fn every_line_in_the_window_is_in_the_outputs() {
        let text = format!("{LINE}\n{LINE}\n");
        let a = ObjectAccount::of(text.as_bytes(), &filter("2019-02-06", "2019-02-06", false));
        assert_eq!(a.in_outputs, 2);
        assert_eq!(a.not_all_in_outputs(), None);
    }

    #[test]
    fn records_of_another_day_keep_the_object() {
        let a = ObjectAccount::of(LINE.as_bytes(), &filter("2019-02-07", "2019-02-08", false));
        assert_eq!((a.in_outputs, a.outside_window), (0, 1));
        let why = a.not_all_in_outputs().unwrap();
        assert!(
            why.contains("1 record outside the period (2019-02-06T00:00:38Z"),
            "{why}"
        );
    }

    #[test]
    fn a_malformed_line_keeps_the_object() {
        let text = format!("{LINE}\nnot a log line\n");
        let a = ObjectAccount::of(text.as_bytes(), &filter("2019-02-06", "2019-02-06", false));
        assert_eq!((a.in_outputs, a.malformed), (1, 1));
        let why = a.not_all_in_outputs().unwrap();
        assert!(why.starts_with("1 malformed line (line 2: "), "{why}");
    }

    #[test]
    fn excluded_bucket_operations_keep_the_object() {
        // REST.GET.VERSIONING has no key: a bucket-level operation.
        let a = ObjectAccount::of(LINE.as_bytes(), &filter("2019-02-06", "2019-02-06", true));
        assert_eq!((a.in_outputs, a.excluded), (0, 1));
        assert!(
            a.not_all_in_outputs()
                .unwrap()
                .contains("excludeBucketOperations")
        );
    }

    #[test]
    fn compressed_objects_are_read_or_refused_by_name() {
        use std::io::Write;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(LINE.as_bytes()).unwrap();
        let gz = gz.finish().unwrap();
        let a = ObjectAccount::of(&gz, &filter("2019-02-06", "2019-02-06", false));
        assert_eq!(a.in_outputs, 1, "gzip is read: {a:?}");
        let zstd = [0x28, 0xb5, 0x2f, 0xfd, 0, 0, 0];
        let a = ObjectAccount::of(&zstd, &filter("2019-02-06", "2019-02-06", false));
        let why = a.not_all_in_outputs().unwrap();
        assert!(why.starts_with("unreadable: "), "{why}");
        assert_eq!(a.in_outputs + a.malformed, 0);
    }
}
