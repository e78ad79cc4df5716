//! The plain-text alternative of the email: the same figures as the HTML,
//! for clients (and people) that read text only.

use std::fmt::Write;

use super::format::{bytes, change, count, share, shorten, usd};
use super::html::section_name;
use super::{Downloads, Named, Report, glossary};

pub fn render(r: &Report, d: &Downloads) -> String {
    let mut t = String::with_capacity(8 * 1024);
    let o = &r.overall;
    let _ = writeln!(t, "{}\n", super::title(r));
    let delta = |d: Option<&super::Delta>| {
        d.map_or(String::new(), |d| {
            format!("  ({} vs previous)", change(d.percent))
        })
    };
    for (label, value, change) in r.headline() {
        let _ = writeln!(t, "{:<13}{value}{}", format!("{label}:"), delta(change));
    }
    let _ = writeln!(t, "Uploaded:    {}", bytes(o.uploaded_bytes));
    let c = r.change.as_ref();
    if let Some(c) = c {
        let _ = writeln!(t, "(changes are against {})", c.previous_period);
    }

    heading(&mut t, "Your data");
    if let Some(link) = &d.link {
        let _ = writeln!(t, "Download the requests (csv.gz):\n{}", link.url);
        let _ = writeln!(t, "{}", link.validity());
    }
    let _ = writeln!(
        t,
        "Always in your account:\n  {}\n  {}",
        d.csv_gz, d.parquet
    );

    heading(&mut t, "Requests and bytes per day");
    for day in &r.daily {
        let _ = writeln!(
            t,
            "  {}  {:>12}  {:>10}",
            day.date,
            count(day.requests),
            bytes(day.bytes_sent)
        );
    }
    list(&mut t, "Operations", &r.operations, 12);
    let top: Vec<Named> = o
        .top_downloads
        .iter()
        .map(|d| Named {
            name: d.key.clone(),
            count: d.downloads,
        })
        .collect();
    list(&mut t, "Most downloaded objects", &top, super::TOP);
    if r.geo_database.is_some() {
        list(&mut t, "Downloads by country", &o.top_countries, super::TOP);
    } else {
        heading(&mut t, "Downloads by country");
        t.push_str("  unknown: no GeoIP database is configured (GEOIP_DB)\n");
    }
    list(&mut t, "Top referrers", &o.top_referrers, super::TOP);

    heading(&mut t, "By top-level prefix");
    for s in &r.sections {
        let m = &s.metrics;
        let _ = writeln!(
            t,
            "  {}: {} requests, {} downloads, {}, {} unique IPs",
            shorten(&section_name(s), 80),
            count(m.requests),
            count(m.downloads),
            bytes(m.downloaded_bytes),
            count(m.unique_ips)
        );
    }
    if r.sections.is_empty() {
        t.push_str("  none\n");
    }

    list(&mut t, "Responses", &r.status_classes, 6);
    list(&mut t, "Top error codes", &r.top_error_codes, super::TOP);
    if let (Some(p50), Some(p95)) = (r.download_time_ms.p50, r.download_time_ms.p95) {
        let _ = writeln!(
            t,
            "Download total time: median {p50} ms, 95th percentile {p95} ms"
        );
    }
    heading(&mut t, "Who made the requests");
    let _ = writeln!(t, "  anonymous: {} of requests", share(r.anonymous_share));
    for n in &r.top_requesters {
        let _ = writeln!(t, "  {}: {}", shorten(&n.name, 100), count(n.count));
    }

    heading(&mut t, "Security signals");
    for (label, n) in r.security_rows() {
        let _ = writeln!(t, "  {:<32} {}", format!("{label}:"), count(n));
    }

    heading(&mut t, "Estimated cost (an estimate, not a bill)");
    let c = &r.cost;
    let _ = writeln!(t, "  S3 requests:        {}", usd(c.requests_usd));
    let _ = writeln!(
        t,
        "  Data transfer out:  {} for {}",
        usd(c.transfer_out_usd),
        bytes(c.bytes_sent)
    );
    let _ = writeln!(t, "  Athena query:       {}", usd(c.athena_scan_usd));
    let _ = writeln!(t, "  Total:              {}", usd(c.total_usd));
    let _ = writeln!(t, "  List prices of {}. {}", c.prices.region, c.note);

    heading(&mut t, "Glossary");
    for (term, meaning) in glossary::TERMS {
        let _ = writeln!(t, "  {term}: {meaning}");
    }
    t
}

fn heading(t: &mut String, title: &str) {
    let _ = write!(t, "\n{title}\n{}\n", "-".repeat(title.chars().count()));
}

fn list(t: &mut String, title: &str, items: &[Named], limit: usize) {
    heading(t, title);
    if items.is_empty() {
        t.push_str("  none\n");
    }
    for n in items.iter().take(limit) {
        let _ = writeln!(t, "  {}: {}", shorten(&n.name, 100), count(n.count));
    }
}
