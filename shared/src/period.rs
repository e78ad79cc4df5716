//! Report periods: which days a run covers, its label, the exact request-time
//! window and the log partitions to scan. All in UTC.

use chrono::{DateTime, Datelike, Days, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::error::StepError;

/// The most late-delivery slack days a period may scan.
pub const MAX_SLACK_DAYS: u32 = 7;

/// The original tool's schedules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Frequency {
    Weekly,
    Monthly,
    Quarterly,
}

impl Frequency {
    pub const ALLOWED: &'static str = "\"weekly\", \"monthly\" or \"quarterly\"";

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "weekly" => Some(Frequency::Weekly),
            "monthly" => Some(Frequency::Monthly),
            "quarterly" => Some(Frequency::Quarterly),
            _ => None,
        }
    }
}

/// How a period was chosen: a schedule's frequency or a custom range.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PeriodKind {
    Weekly,
    Monthly,
    Quarterly,
    Custom,
}

/// `[start, end)` in request time, as RFC 3339 instants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeWindow {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// The log partitions (delivery days) to scan, both ends inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionRange {
    pub first: NaiveDate,
    pub last: NaiveDate,
}

/// A computed period: the step output's `period` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Period {
    pub kind: PeriodKind,
    /// First day, inclusive.
    pub start: NaiveDate,
    /// Last day, inclusive.
    pub end: NaiveDate,
    pub days: u32,
    /// Names outputs: `2024-W05`, `2024-01`, `2024-Q1`, `2024-01-03_2024-01-17`.
    pub label: String,
    /// Requests counted: `[start 00:00, end + 1 day 00:00)`.
    pub window: TimeWindow,
    /// Delivery-day partitions scanned: the period plus the late-delivery slack.
    pub partitions: PartitionRange,
}

impl Period {
    /// The previous full period of `frequency` as of `now`.
    pub fn previous(frequency: Frequency, now: DateTime<Utc>, slack_days: u32) -> Self {
        let today = now.date_naive();
        let (kind, start, end) = match frequency {
            Frequency::Weekly => {
                let this_monday = today - Days::new(today.weekday().num_days_from_monday().into());
                let start = this_monday - Days::new(7);
                (PeriodKind::Weekly, start, this_monday - Days::new(1))
            }
            Frequency::Monthly => {
                let this_month = first_of_month(today);
                let start = this_month - Months::new(1);
                (PeriodKind::Monthly, start, this_month - Days::new(1))
            }
            Frequency::Quarterly => {
                let this_quarter = first_of_month(today) - Months::new(today.month0() % 3);
                let start = this_quarter - Months::new(3);
                (PeriodKind::Quarterly, start, this_quarter - Days::new(1))
            }
        };
        Self::build(kind, start, end, slack_days)
    }

    /// Checks that a period read back from a step input is one this module
    /// computed: its label, window and partitions follow from its kind and
    /// days. Its label names S3 keys and reaches SQL, so an edited one is
    /// refused rather than trusted.
    pub fn check(&self) -> Result<(), StepError> {
        let slack = (self.partitions.last - self.end).num_days();
        let rebuilt = u32::try_from(slack)
            .ok()
            .filter(|s| *s <= MAX_SLACK_DAYS && self.start <= self.end)
            .map(|s| Self::build(self.kind, self.start, self.end, s));
        if rebuilt.as_ref() == Some(self) {
            Ok(())
        } else {
            Err(StepError::invalid(
                "period",
                "does not match its own start and end (label, days, window or partitions were \
                 edited); take the period from ComputePeriod's output",
            ))
        }
    }

    /// The period of the same kind just before this one (the previous week,
    /// month or quarter; for a custom range, as many days ending the day
    /// before it starts): what a report compares itself with.
    pub fn before(&self) -> Self {
        let slack = u32::try_from((self.partitions.last - self.end).num_days()).unwrap_or(0);
        let end = self.start - Days::new(1);
        let start = match self.kind {
            PeriodKind::Weekly => self.start - Days::new(7),
            PeriodKind::Monthly => self.start - Months::new(1),
            PeriodKind::Quarterly => self.start - Months::new(3),
            PeriodKind::Custom => self.start - Days::new(self.days.into()),
        };
        Self::build(self.kind, start, end, slack)
    }

    /// A custom range, both ends inclusive (`start <= end` is the caller's check).
    pub fn custom(start: NaiveDate, end: NaiveDate, slack_days: u32) -> Self {
        Self::build(PeriodKind::Custom, start, end, slack_days)
    }

    fn build(kind: PeriodKind, start: NaiveDate, end: NaiveDate, slack_days: u32) -> Self {
        let label = match kind {
            PeriodKind::Weekly => start.format("%G-W%V").to_string(),
            PeriodKind::Monthly => start.format("%Y-%m").to_string(),
            PeriodKind::Quarterly => format!("{}-Q{}", start.year(), start.month0() / 3 + 1),
            PeriodKind::Custom => format!("{start}_{end}"),
        };
        let day_after = end + Days::new(1);
        Self {
            kind,
            start,
            end,
            days: inclusive_days(start, end),
            label,
            window: TimeWindow {
                start: midnight(start),
                end: midnight(day_after),
            },
            partitions: PartitionRange {
                first: start,
                last: end + Days::new(slack_days.into()),
            },
        }
    }
}

/// Number of days from `start` to `end`, both included.
pub fn inclusive_days(start: NaiveDate, end: NaiveDate) -> u32 {
    u32::try_from((end - start).num_days() + 1).unwrap_or(0)
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d - Days::new(d.day0().into())
}

fn midnight(d: NaiveDate) -> DateTime<Utc> {
    d.and_time(chrono::NaiveTime::MIN).and_utc()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }
    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }
    fn span(p: &Period) -> (String, String, String) {
        (p.start.to_string(), p.end.to_string(), p.label.clone())
    }
    fn s(a: &str, b: &str, c: &str) -> (String, String, String) {
        (a.into(), b.into(), c.into())
    }

    #[test]
    fn weekly_is_the_previous_monday_to_sunday() {
        // Wednesday.
        let p = Period::previous(Frequency::Weekly, at("2024-02-07T15:00:00Z"), 1);
        assert_eq!(span(&p), s("2024-01-29", "2024-02-04", "2024-W05"));
        // Monday at midnight: last week is complete.
        let p = Period::previous(Frequency::Weekly, at("2024-02-05T00:00:00Z"), 1);
        assert_eq!(span(&p), s("2024-01-29", "2024-02-04", "2024-W05"));
        // Sunday just before midnight: this week is not over, so still the one before.
        let p = Period::previous(Frequency::Weekly, at("2024-02-04T23:59:59Z"), 1);
        assert_eq!(span(&p), s("2024-01-22", "2024-01-28", "2024-W04"));
        // ISO week-year differs from the calendar year across New Year.
        let p = Period::previous(Frequency::Weekly, at("2025-01-08T00:00:00Z"), 1);
        assert_eq!(span(&p), s("2024-12-30", "2025-01-05", "2025-W01"));
        let p = Period::previous(Frequency::Weekly, at("2021-01-06T00:00:00Z"), 1);
        assert_eq!(span(&p), s("2020-12-28", "2021-01-03", "2020-W53"));
        assert_eq!(p.days, 7);
    }

    #[test]
    fn monthly_crosses_year_ends_and_leap_years() {
        let p = Period::previous(Frequency::Monthly, at("2024-01-01T00:00:00Z"), 1);
        assert_eq!(span(&p), s("2023-12-01", "2023-12-31", "2023-12"));
        let p = Period::previous(Frequency::Monthly, at("2024-03-15T08:00:00Z"), 1);
        assert_eq!(span(&p), s("2024-02-01", "2024-02-29", "2024-02"));
        assert_eq!(p.days, 29);
        let p = Period::previous(Frequency::Monthly, at("2023-03-31T23:59:59Z"), 1);
        assert_eq!(span(&p), s("2023-02-01", "2023-02-28", "2023-02"));
    }

    #[test]
    fn quarterly_is_the_previous_calendar_quarter() {
        let cases = [
            (
                "2024-01-01T00:00:00Z",
                "2023-10-01",
                "2023-12-31",
                "2023-Q4",
            ),
            (
                "2024-03-31T23:59:59Z",
                "2023-10-01",
                "2023-12-31",
                "2023-Q4",
            ),
            (
                "2024-04-01T00:00:00Z",
                "2024-01-01",
                "2024-03-31",
                "2024-Q1",
            ),
            (
                "2024-08-20T10:00:00Z",
                "2024-04-01",
                "2024-06-30",
                "2024-Q2",
            ),
            (
                "2024-12-31T12:00:00Z",
                "2024-07-01",
                "2024-09-30",
                "2024-Q3",
            ),
        ];
        for (now, a, b, label) in cases {
            let p = Period::previous(Frequency::Quarterly, at(now), 1);
            assert_eq!(span(&p), s(a, b, label), "{now}");
        }
        let p = Period::previous(Frequency::Quarterly, at("2024-04-01T00:00:00Z"), 1);
        assert_eq!(p.days, 91);
    }

    #[test]
    fn window_is_exact_and_partitions_add_slack() {
        let p = Period::custom(day("2024-01-03"), day("2024-01-17"), 2);
        assert_eq!(p.label, "2024-01-03_2024-01-17");
        assert_eq!(p.days, 15);
        assert_eq!(p.window.start, at("2024-01-03T00:00:00Z"));
        assert_eq!(p.window.end, at("2024-01-18T00:00:00Z"));
        assert_eq!(p.partitions.first, day("2024-01-03"));
        assert_eq!(p.partitions.last, day("2024-01-19"));
        let p = Period::custom(day("2024-02-29"), day("2024-02-29"), 0);
        assert_eq!((p.days, p.partitions.last), (1, day("2024-02-29")));
        assert_eq!(p.window.end, at("2024-03-01T00:00:00Z"));
    }

    #[test]
    fn edited_periods_are_refused() {
        let p = Period::previous(Frequency::Weekly, at("2024-02-07T00:00:00Z"), 1);
        assert!(p.check().is_ok());
        let mut bad = p.clone();
        bad.label = "2024-W05'; DROP TABLE x; --".into();
        assert_eq!(bad.check().unwrap_err().name(), "InvalidInput");
        let mut bad = p.clone();
        bad.window.end = at("2024-03-01T00:00:00Z");
        assert!(bad.check().is_err());
        let mut bad = p.clone();
        bad.partitions.last = p.end + Days::new(30);
        assert!(bad.check().is_err());
        let mut bad = p;
        bad.partitions.first = bad.start - Days::new(1);
        assert!(bad.check().is_err());
    }

    #[test]
    fn serialises_as_readable_json() {
        let p = Period::previous(Frequency::Monthly, at("2024-02-10T00:00:00Z"), 1);
        let v = serde_json::to_value(&p).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "kind": "monthly", "start": "2024-01-01", "end": "2024-01-31", "days": 31,
                "label": "2024-01",
                "window": {"start": "2024-01-01T00:00:00Z", "end": "2024-02-01T00:00:00Z"},
                "partitions": {"first": "2024-01-01", "last": "2024-02-01"}
            })
        );
        let back: Period = serde_json::from_value(v).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn the_period_before_has_the_same_kind_and_length() {
        let now = "2024-05-15T10:00:00Z".parse().unwrap();
        let q = Period::previous(Frequency::Quarterly, now, 1).before();
        assert_eq!(
            (q.label.as_str(), q.start.to_string().as_str()),
            ("2023-Q4", "2023-10-01")
        );
        let m = Period::previous(Frequency::Monthly, now, 1).before();
        assert_eq!((m.label.as_str(), m.days), ("2024-03", 31));
        let w = Period::previous(Frequency::Weekly, now, 1).before();
        assert_eq!(w.label, "2024-W18");
        let d = |s: &str| s.parse::<NaiveDate>().unwrap();
        let c = Period::custom(d("2024-01-10"), d("2024-01-12"), 2).before();
        assert_eq!(
            (c.label.as_str(), c.partitions.last),
            ("2024-01-07_2024-01-09", d("2024-01-11"))
        );
        assert!(c.check().is_ok());
    }
}
