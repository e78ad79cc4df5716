//! Where the bytes went, as AWS bills data transfer out of S3: to the
//! internet at the transfer-out price; to CloudFront free; to AWS addresses
//! in the bucket's own region free (S3 pricing page, "Data Transfer":
//! "Data transferred out to Amazon CloudFront" and "Data transferred from an
//! Amazon S3 bucket to any AWS service(s) within the same AWS Region as the
//! S3 bucket" are $0.00).
//!
//! The addresses come from AWS's published IP ranges (`ip-ranges.json`),
//! shipped with the product as a dated file (`shared/data/`, see its
//! `SOURCE.md`) and never fetched at run time: a report must not depend on
//! a download, and the same logs must give the same report. A range newer
//! than the file counts as the internet, so the estimate errs on the dear side.

use std::net::IpAddr;
use std::sync::{Arc, OnceLock};

use ipnet::IpNet;
use serde::Deserialize;

/// AWS's `ip-ranges.json`, gzip-compressed.
const IP_RANGES_GZ: &[u8] = include_bytes!("../../data/aws-ip-ranges.json.gz");

/// The user agent CloudFront sends to its S3 origins.
pub const CLOUDFRONT_USER_AGENT: &str = "Amazon CloudFront";

/// Where one request's bytes went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Destination {
    Internet,
    CloudFront,
    /// An AWS address in the bucket's region (EC2, Lambda, ...).
    SameRegion,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct File {
    create_date: String,
    prefixes: Vec<V4Prefix>,
    #[serde(rename = "ipv6_prefixes")]
    ipv6_prefixes: Vec<V6Prefix>,
}

#[derive(Deserialize)]
struct V4Prefix {
    ip_prefix: String,
    region: String,
    service: String,
}

#[derive(Deserialize)]
struct V6Prefix {
    ipv6_prefix: String,
    region: String,
    service: String,
}

fn net(prefix: &str) -> IpNet {
    // Embedded at build time and checked by a test: it cannot be malformed.
    prefix
        .parse()
        .expect("the embedded ip-ranges.json holds CIDR prefixes")
}

/// Every prefix of the file: `(network, region, service)`.
struct Published {
    create_date: String,
    prefixes: Vec<(IpNet, String, String)>,
}

fn published() -> &'static Published {
    static FILE: OnceLock<Published> = OnceLock::new();
    FILE.get_or_init(|| {
        // Inflated whole, then parsed from memory: `serde_json::from_reader`
        // reads a byte per call, and through an unbuffered gzip decoder that
        // took 0.15 s at the start of every MergeResults, with every other
        // core idle (`perf`, 2026-12-07); this takes a few milliseconds.
        let mut json = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(IP_RANGES_GZ), &mut json)
            .expect("the embedded ip-ranges.json.gz inflates");
        // Embedded at build time and checked by a test: it cannot be malformed.
        let f: File = serde_json::from_slice(&json).expect("the embedded ip-ranges.json reads");
        let v4 = f
            .prefixes
            .into_iter()
            .map(|p| (net(&p.ip_prefix), p.region, p.service));
        let v6 = f
            .ipv6_prefixes
            .into_iter()
            .map(|p| (net(&p.ipv6_prefix), p.region, p.service));
        Published {
            create_date: f.create_date,
            prefixes: v4.chain(v6).collect(),
        }
    })
}

/// Address ranges as sorted, disjoint, inclusive `[first, last]` pairs;
/// IPv4 addresses as IPv4-mapped IPv6, so one list serves both.
#[derive(Default)]
struct Ranges(Vec<(u128, u128)>);

fn span(net: &IpNet) -> (u128, u128) {
    (as_u128(net.network()), as_u128(net.broadcast()))
}

fn as_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(v4.to_ipv6_mapped()),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

impl Ranges {
    fn of<'a>(nets: impl Iterator<Item = &'a IpNet>) -> Self {
        let mut all: Vec<(u128, u128)> = nets.map(span).collect();
        all.sort_unstable();
        let mut merged: Vec<(u128, u128)> = Vec::with_capacity(all.len());
        for (s, e) in all {
            match merged.last_mut() {
                Some(last) if s <= last.1.saturating_add(1) => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        Self(merged)
    }

    fn contains(&self, ip: u128) -> bool {
        let i = self.0.partition_point(|&(s, _)| s <= ip);
        i > 0 && self.0[i - 1].1 >= ip
    }
}

/// The ranges that decide a request's destination for one bucket region.
/// (The default has none: every address is on the internet.)
#[derive(Default)]
pub struct Destinations {
    region: String,
    cloudfront: Ranges,
    same_region: Ranges,
}

impl Destinations {
    /// For a bucket in `region` (the pricing region).
    pub fn for_region(region: &str) -> Arc<Self> {
        let p = published();
        let cloudfront = Ranges::of(
            p.prefixes
                .iter()
                .filter(|(_, _, service)| service == "CLOUDFRONT")
                .map(|(net, _, _)| net),
        );
        let same_region = Ranges::of(
            p.prefixes
                .iter()
                .filter(|(_, r, _)| r == region)
                .map(|(net, _, _)| net),
        );
        Arc::new(Self {
            region: region.to_string(),
            cloudfront,
            same_region,
        })
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    /// The date of the shipped ranges (`createDate` of the file).
    pub fn ranges_date() -> &'static str {
        &published().create_date
    }

    /// Where a request from `ip` with `user_agent` sent its bytes. An address
    /// that does not read as one is the internet's.
    pub fn of(&self, ip: Option<&str>, user_agent: Option<&str>) -> Destination {
        if user_agent == Some(CLOUDFRONT_USER_AGENT) {
            return Destination::CloudFront;
        }
        ip.map_or(Destination::Internet, |ip| self.of_address(ip))
    }

    /// Where bytes sent to `ip` went, by its address alone.
    pub fn of_address(&self, ip: &str) -> Destination {
        let Ok(ip) = ip.parse::<IpAddr>() else {
            return Destination::Internet;
        };
        let ip = as_u128(ip);
        if self.cloudfront.contains(ip) {
            Destination::CloudFront
        } else if self.same_region.contains(ip) {
            Destination::SameRegion
        } else {
            Destination::Internet
        }
    }

    /// A few addresses of each kind in `region`, for the log generator and
    /// tests: the first address of the first ranges of the shipped file.
    pub fn examples(region: &str, service: &str, n: usize) -> Vec<String> {
        published()
            .prefixes
            .iter()
            .filter(|(net, r, s)| r == region && s == service && matches!(net, IpNet::V4(_)))
            .take(n)
            .map(|(net, _, _)| match net.network() {
                IpAddr::V4(v4) => std::net::Ipv4Addr::from(u32::from(v4) + 1).to_string(),
                other => other.to_string(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_ranges_read_and_hold_cloudfront_and_regions() {
        let p = published();
        assert!(p.prefixes.len() > 5_000, "{}", p.prefixes.len());
        assert!(p.prefixes.iter().any(|(_, _, s)| s == "CLOUDFRONT"));
        assert!(Destinations::ranges_date().starts_with("20"));
    }

    #[test]
    fn destinations_follow_the_ranges_and_the_cloudfront_agent() {
        let d = Destinations::for_region("us-east-1");
        let cf = &Destinations::examples("GLOBAL", "CLOUDFRONT", 1)[0];
        let ec2 = &Destinations::examples("us-east-1", "EC2", 1)[0];
        let ec2_elsewhere = &Destinations::examples("ap-southeast-2", "EC2", 1)[0];
        assert_eq!(d.of(Some(cf), None), Destination::CloudFront);
        assert_eq!(d.of(Some(ec2), Some("Boto3/1.34")), Destination::SameRegion);
        assert_eq!(d.of(Some(ec2_elsewhere), None), Destination::Internet);
        assert_eq!(d.of(Some("192.0.2.10"), None), Destination::Internet);
        assert_eq!(d.of(Some("2001:db8::1"), None), Destination::Internet);
        assert_eq!(d.of(Some("not an ip"), None), Destination::Internet);
        assert_eq!(
            d.of(Some("192.0.2.10"), Some(CLOUDFRONT_USER_AGENT)),
            Destination::CloudFront
        );
        // The same address is in-region only for a bucket of that region.
        let sydney = Destinations::for_region("ap-southeast-2");
        assert_eq!(sydney.of(Some(ec2), None), Destination::Internet);
        assert_eq!(
            sydney.of(Some(ec2_elsewhere), None),
            Destination::SameRegion
        );
    }

    #[test]
    fn ranges_merge_and_find_their_ends() {
        let nets: Vec<IpNet> = [
            "10.0.0.0/24",
            "10.0.1.0/24",
            "10.0.0.128/25",
            "2001:db8::/32",
        ]
        .iter()
        .map(|n| n.parse().unwrap())
        .collect();
        let r = Ranges::of(nets.iter());
        assert_eq!(r.0.len(), 2, "the two /24s join");
        let ip = |s: &str| as_u128(s.parse().unwrap());
        assert!(r.contains(ip("10.0.0.0")) && r.contains(ip("10.0.1.255")));
        assert!(!r.contains(ip("10.0.2.0")) && !r.contains(ip("9.255.255.255")));
        assert!(r.contains(ip("2001:db8:ffff::1")) && !r.contains(ip("2001:db9::")));
    }
}
