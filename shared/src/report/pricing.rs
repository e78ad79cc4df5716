//! List prices for the report's cost estimate: S3 requests and data
//! transfer out to the internet, per region, in USD. An estimate, and the
//! report says so: free and volume tiers and storage are not counted;
//! transfers to CloudFront and to AWS addresses in the bucket's region are
//! free, as AWS bills them ([`super::destinations`]).

use serde::{Deserialize, Serialize};

use super::tally::Spend;
use crate::error::StepError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Prices {
    pub region: String,
    /// PUT, COPY, POST, LIST requests, per 1,000 (S3 Standard).
    pub write_and_list_per_1000: f64,
    /// GET, HEAD and other requests, per 1,000 (S3 Standard).
    pub read_and_other_per_1000: f64,
    /// Data transfer out to the internet, per GB (first 10 TB/month tier).
    pub transfer_out_per_gb: f64,
}

/// Regions whose S3 Standard list prices we ship (checked against the S3
/// pricing page, 2026): the same in each of these.
const US_EU_STANDARD: [&str; 4] = ["us-east-1", "us-east-2", "us-west-2", "eu-west-1"];

impl Prices {
    /// The built-in prices of `region`; other regions are refused with a
    /// pointer to the variables that set prices explicitly.
    pub fn for_region(region: &str) -> Result<Self, StepError> {
        if US_EU_STANDARD.contains(&region) {
            Ok(Self {
                region: region.to_string(),
                write_and_list_per_1000: 0.005,
                read_and_other_per_1000: 0.0004,
                transfer_out_per_gb: 0.09,
            })
        } else {
            Err(StepError::config(
                "PRICING_REGION",
                format!(
                    "{region} has no built-in prices (built in: {}); set S3_PRICE_WRITE_PER_1000, \
                     S3_PRICE_READ_PER_1000 and S3_PRICE_TRANSFER_OUT_PER_GB from the S3 pricing page",
                    US_EU_STANDARD.join(", ")
                ),
            ))
        }
    }
}

/// The estimate for one period.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostEstimate {
    /// Always true: list prices, not a bill.
    pub estimate: bool,
    pub currency: String,
    pub prices: Prices,
    pub write_and_list_requests: u64,
    pub read_and_other_requests: u64,
    /// DELETE and CANCEL requests: free.
    #[serde(default)]
    pub free_requests: u64,
    /// Lifecycle actions S3 took itself: not request charges.
    #[serde(default)]
    pub lifecycle_actions: u64,
    pub requests_usd: f64,
    /// Every byte sent, wherever it went.
    pub bytes_sent: u64,
    /// Bytes sent to the internet: the only ones priced.
    #[serde(default)]
    pub internet_bytes: u64,
    /// Bytes sent to CloudFront (free).
    #[serde(default)]
    pub cloudfront_bytes: u64,
    /// Bytes sent to AWS addresses in the pricing region (free).
    #[serde(default)]
    pub same_region_bytes: u64,
    /// The date of AWS's IP ranges the destinations were decided with.
    #[serde(default)]
    pub ip_ranges_date: String,
    pub transfer_out_usd: f64,
    /// What this run's Athena query cost (bytes scanned at the Athena price).
    pub athena_scan_usd: f64,
    pub total_usd: f64,
    pub note: String,
}

const GB: f64 = 1_073_741_824.0;

/// Requests and internet transfer of `spend` at `prices`, unrounded.
fn usd(prices: &Prices, spend: &Spend) -> (f64, f64) {
    let requests = spend.write_and_list as f64 / 1000.0 * prices.write_and_list_per_1000
        + spend.read_and_other as f64 / 1000.0 * prices.read_and_other_per_1000;
    let transfer = spend.internet_bytes as f64 / GB * prices.transfer_out_per_gb;
    (requests, transfer)
}

pub fn estimate(
    prices: &Prices,
    spend: &Spend,
    athena_scan_usd: f64,
    ip_ranges_date: &str,
) -> CostEstimate {
    let (requests_usd, transfer_out_usd) = usd(prices, spend);
    CostEstimate {
        estimate: true,
        currency: "USD".into(),
        prices: prices.clone(),
        write_and_list_requests: spend.write_and_list,
        read_and_other_requests: spend.read_and_other,
        free_requests: spend.free,
        lifecycle_actions: spend.lifecycle,
        requests_usd: round_cents(requests_usd),
        bytes_sent: spend.bytes_sent,
        internet_bytes: spend.internet_bytes,
        cloudfront_bytes: spend.cloudfront_bytes,
        same_region_bytes: spend.same_region_bytes,
        ip_ranges_date: ip_ranges_date.to_string(),
        transfer_out_usd: round_cents(transfer_out_usd),
        athena_scan_usd: round_cents(athena_scan_usd),
        total_usd: round_cents(requests_usd + transfer_out_usd + athena_scan_usd),
        note: format!(
            "Estimate at S3 Standard list prices in {}: bytes sent to the internet are priced as \
             transfer out; bytes sent to CloudFront or to AWS addresses in {} (by AWS's IP ranges \
             of {ip_ranges_date}) are free; DELETE requests are free and lifecycle actions are \
             not requests; no free or volume tiers, no storage.",
            prices.region, prices.region
        ),
    }
}

/// What one requester or prefix cost.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CostLine {
    pub name: String,
    pub requests: u64,
    pub bytes_sent: u64,
    pub internet_bytes: u64,
    pub requests_usd: f64,
    pub transfer_out_usd: f64,
    pub total_usd: f64,
}

/// The `n` dearest of `spends`, ties by name (exact: compared unrounded).
pub fn dearest<'a>(
    spends: impl Iterator<Item = (&'a str, &'a Spend)>,
    prices: &Prices,
    n: usize,
) -> Vec<CostLine> {
    let mut all: Vec<(f64, CostLine)> = spends
        .filter(|(_, s)| s.requests() > 0)
        .map(|(name, s)| {
            let (requests_usd, transfer_out_usd) = usd(prices, s);
            let total = requests_usd + transfer_out_usd;
            let line = CostLine {
                name: name.to_string(),
                requests: s.requests(),
                bytes_sent: s.bytes_sent,
                internet_bytes: s.internet_bytes,
                requests_usd: round_cents(requests_usd),
                transfer_out_usd: round_cents(transfer_out_usd),
                total_usd: round_cents(total),
            };
            (total, line)
        })
        .collect();
    all.sort_unstable_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
    all.into_iter().take(n).map(|(_, line)| line).collect()
}

/// To a hundredth of a cent: small buckets still show a non-zero figure.
fn round_cents(usd: f64) -> f64 {
    (usd * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_prices_times_counts_and_only_internet_bytes_are_priced() {
        let p = Prices::for_region("us-east-1").unwrap();
        let spend = Spend {
            write_and_list: 2_000,
            read_and_other: 1_000_000,
            free: 7,
            lifecycle: 3,
            bytes_sent: 13 * 1_073_741_824,
            internet_bytes: 10 * 1_073_741_824,
            cloudfront_bytes: 2 * 1_073_741_824,
            same_region_bytes: 1_073_741_824,
        };
        let e = estimate(&p, &spend, 0.25, "2026-11-30-21-13-04");
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(e.requests_usd, 0.41), "{}", e.requests_usd);
        assert!(close(e.transfer_out_usd, 0.9), "{}", e.transfer_out_usd);
        assert!(close(e.total_usd, 1.56), "{}", e.total_usd);
        assert!(e.estimate);
        assert!(
            e.note.contains("lifecycle actions are not requests"),
            "{}",
            e.note
        );
    }

    #[test]
    fn the_dearest_come_first() {
        let p = Prices::for_region("us-east-1").unwrap();
        let cheap = Spend {
            read_and_other: 1_000,
            ..Spend::default()
        };
        let dear = Spend {
            read_and_other: 10,
            bytes_sent: 1_073_741_824,
            internet_bytes: 1_073_741_824,
            ..Spend::default()
        };
        let free = Spend {
            read_and_other: 10,
            bytes_sent: 1_073_741_824,
            cloudfront_bytes: 1_073_741_824,
            ..Spend::default()
        };
        let lines = dearest(
            [
                ("cheap", &cheap),
                ("dear", &dear),
                ("cdn", &free),
                ("none", &Spend::default()),
            ]
            .into_iter(),
            &p,
            10,
        );
        let names: Vec<&str> = lines.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["dear", "cheap", "cdn"]);
        assert!((lines[0].transfer_out_usd - 0.09).abs() < 1e-9);
        assert_eq!(lines[2].transfer_out_usd, 0.0);
    }

    #[test]
    fn unknown_regions_say_how_to_set_prices() {
        let e = Prices::for_region("ap-south-2").unwrap_err();
        assert!(
            e.to_string().contains("S3_PRICE_TRANSFER_OUT_PER_GB"),
            "{e}"
        );
    }
}
