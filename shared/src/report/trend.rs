//! The trend across periods: this period's figures beside those of the
//! periods before it, read from their `report.json` under `RESULT_PATH`.
//!
//! Only what a chart needs is read from an earlier report, and a figure an
//! older report version did not have (download sessions before schema 2) is
//! null rather than zero: a gap, not a drop.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::Report;

/// Periods shown before this one.
pub const PERIODS_BEFORE: usize = 12;

/// One period's figures in the trend; all null for a period without a
/// usable report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrendPoint {
    pub period: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    /// True for the period this report is about.
    #[serde(default)]
    pub current: bool,
    pub requests: Option<u64>,
    pub download_sessions: Option<u64>,
    pub bytes_sent: Option<u64>,
    pub cost_usd: Option<f64>,
}

/// What the trend reads of an earlier report (any schema version).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Earlier {
    period: EarlierPeriod,
    overall: EarlierOverall,
    cost: EarlierCost,
}

#[derive(Deserialize)]
struct EarlierPeriod {
    label: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EarlierOverall {
    requests: u64,
    download_sessions: Option<u64>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EarlierCost {
    bytes_sent: u64,
    total_usd: f64,
}

impl Earlier {
    pub fn label(&self) -> &str {
        &self.period.label
    }
}

impl TrendPoint {
    pub fn of(r: &Report) -> Self {
        Self {
            period: r.period.label.clone(),
            start: r.period.start,
            end: r.period.end,
            current: true,
            requests: Some(r.overall.requests),
            download_sessions: Some(r.overall.download_sessions),
            bytes_sent: Some(r.cost.bytes_sent),
            cost_usd: Some(r.cost.total_usd),
        }
    }

    /// An earlier period, from its report when there is one.
    pub fn earlier(
        label: &str,
        start: NaiveDate,
        end: NaiveDate,
        report: Option<&Earlier>,
    ) -> Self {
        Self {
            period: label.to_string(),
            start,
            end,
            current: false,
            requests: report.map(|r| r.overall.requests),
            download_sessions: report.and_then(|r| r.overall.download_sessions),
            bytes_sent: report.map(|r| r.cost.bytes_sent),
            cost_usd: report.map(|r| r.cost.total_usd),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schema_1_report_gives_no_download_sessions() {
        let v1 = r#"{"schemaVersion":1,"period":{"label":"2024-01","start":"2024-01-01","end":"2024-01-31","days":31},
            "overall":{"requests":10,"downloads":4},"cost":{"bytesSent":99,"totalUsd":0.5}}"#;
        let e: Earlier = serde_json::from_str(v1).unwrap();
        let d = |s: &str| s.parse().unwrap();
        let p = TrendPoint::earlier("2024-01", d("2024-01-01"), d("2024-01-31"), Some(&e));
        assert_eq!(p.requests, Some(10));
        assert_eq!(p.download_sessions, None);
        assert_eq!(p.bytes_sent, Some(99));
        let gap = TrendPoint::earlier("2023-12", d("2023-12-01"), d("2023-12-31"), None);
        assert_eq!((gap.requests, gap.cost_usd), (None, None));
    }
}
