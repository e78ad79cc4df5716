//! List prices for the report's cost estimate: S3 requests and data
//! transfer out to the internet, per region, in USD. An estimate, and the
//! report says so: free tiers, volume tiers, transfers to CloudFront or
//! within a region (free), and storage are not counted.

use serde::{Deserialize, Serialize};

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
    pub requests_usd: f64,
    pub bytes_sent: u64,
    pub transfer_out_usd: f64,
    /// What this run's Athena query cost (bytes scanned at the Athena price).
    pub athena_scan_usd: f64,
    pub total_usd: f64,
    pub note: String,
}

const GB: f64 = 1_073_741_824.0;

pub fn estimate(
    prices: &Prices,
    write_and_list: u64,
    read_and_other: u64,
    bytes_sent: u64,
    athena_scan_usd: f64,
) -> CostEstimate {
    let requests_usd = write_and_list as f64 / 1000.0 * prices.write_and_list_per_1000
        + read_and_other as f64 / 1000.0 * prices.read_and_other_per_1000;
    let transfer_out_usd = bytes_sent as f64 / GB * prices.transfer_out_per_gb;
    CostEstimate {
        estimate: true,
        currency: "USD".into(),
        prices: prices.clone(),
        write_and_list_requests: write_and_list,
        read_and_other_requests: read_and_other,
        requests_usd: round_cents(requests_usd),
        bytes_sent,
        transfer_out_usd: round_cents(transfer_out_usd),
        athena_scan_usd: round_cents(athena_scan_usd),
        total_usd: round_cents(requests_usd + transfer_out_usd + athena_scan_usd),
        note: "Estimate at S3 Standard list prices: every byte sent is priced as transfer out to \
               the internet (transfers within the region or to CloudFront are free), no free or \
               volume tiers, no storage."
            .into(),
    }
}

/// To a hundredth of a cent: small buckets still show a non-zero figure.
fn round_cents(usd: f64) -> f64 {
    (usd * 10_000.0).round() / 10_000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_prices_times_counts() {
        let p = Prices::for_region("us-east-1").unwrap();
        let e = estimate(&p, 2_000, 1_000_000, 10 * 1_073_741_824, 0.25);
        let close = |a: f64, b: f64| (a - b).abs() < 1e-9;
        assert!(close(e.requests_usd, 0.41), "{}", e.requests_usd);
        assert!(close(e.transfer_out_usd, 0.9), "{}", e.transfer_out_usd);
        assert!(close(e.total_usd, 1.56), "{}", e.total_usd);
        assert!(e.estimate);
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
