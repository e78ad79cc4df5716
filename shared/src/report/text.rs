//! The plain-text alternative of the email: the same figures as the HTML,
//! for clients (and people) that read text only.

use std::fmt::Write;

use super::format::{bytes, change, count, decoded_key, share, shorten, usd};
use super::html::section_name;
use super::pricing::CostLine;
use super::{Downloads, Named, Report, glossary, mostly_cloudfront};

pub fn render(r: &Report, d: &Downloads) -> String {
    let mut t = String::with_capacity(8 * 1024);
    let o = &r.overall;
    let _ = writeln!(t, "{}\n", super::title(r));
    let delta = |d: Option<&super::Delta>| {
        d.map_or(String::new(), |d| {
            format!("  ({} vs previous)", change(d.percent))
        })
    };
    for tile in r.headline() {
        let human = tile
            .human
            .map_or(String::new(), |v| format!("  (people only: {v})"));
        let _ = writeln!(
            t,
            "{:<26}{}{human}{}",
            format!("{}:", tile.label),
            tile.value,
            delta(tile.delta)
        );
    }
    let _ = writeln!(t, "{:<26}{}", "Uploaded:", bytes(o.uploaded_bytes));
    let c = r.change.as_ref();
    if let Some(c) = c {
        let _ = writeln!(t, "(changes are against {})", c.previous_period);
    }

    heading(&mut t, "Your data");
    if let Some(link) = &d.link {
        let _ = writeln!(t, "Download the requests (csv.gz):\n{}", link.url);
        let _ = writeln!(t, "{}", link.validity());
    }
    let where_ = if d.csv_gz.starts_with("s3://") {
        "Always in your bucket"
    } else {
        "Saved on this machine"
    };
    let _ = writeln!(t, "{where_}:\n  {}\n  {}", d.csv_gz, d.parquet);

    heading(&mut t, "Requests, bytes and distinct clients per day");
    for day in &r.daily {
        let _ = writeln!(
            t,
            "  {}  {:>12}  {:>10}  {:>8} clients",
            day.date,
            count(day.requests),
            bytes(day.bytes_sent),
            count(day.distinct_clients)
        );
    }
    heading(&mut t, "Across periods");
    for p in &r.trend {
        match (p.requests, p.cost_usd) {
            (Some(requests), Some(cost)) => {
                let _ = writeln!(
                    t,
                    "  {}{}  {} requests, {} download sessions, {} sent, {}",
                    p.period,
                    if p.current { " (this period)" } else { "" },
                    count(requests),
                    p.download_sessions.map_or("?".into(), count),
                    bytes(p.bytes_sent.unwrap_or(0)),
                    usd(cost)
                );
            }
            _ => {
                let _ = writeln!(t, "  {}  no report", p.period);
            }
        }
    }
    list(&mut t, "Operations", &r.operations, 12);
    heading(&mut t, "Most downloaded objects");
    for d in &o.top_downloads {
        let _ = writeln!(
            t,
            "  {}: {} downloads, {} sessions, {:.1} whole files, {}",
            shorten(&decoded_key(&d.key), 100),
            count(d.downloads),
            count(d.download_sessions),
            d.whole_object_equivalents,
            bytes(d.bytes_sent)
        );
    }
    if o.top_downloads.is_empty() {
        t.push_str("  none\n");
    }
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
            "  {}: {} requests, {} downloads, {} sessions, {}, {} unique IPs",
            shorten(&decoded_key(&section_name(s)), 80),
            count(m.requests),
            count(m.downloads),
            count(m.download_sessions),
            bytes(m.downloaded_bytes),
            count(m.unique_ips)
        );
    }
    if r.sections.is_empty() {
        t.push_str("  none\n");
    }

    let a = &r.automated;
    heading(&mut t, "Crawlers and automated clients");
    let _ = writeln!(
        t,
        "  {} of requests, {} of downloads, {} of bytes sent ({})",
        share(a.share_of_requests),
        share(a.share_of_downloads),
        share(a.share_of_bytes_sent),
        bytes(a.bytes_sent)
    );
    list(
        &mut t,
        "Top user agents",
        &r.top_user_agents,
        super::TOP_COST,
    );

    heading(&mut t, "Where the bytes went");
    let c = &r.concentration;
    let _ = writeln!(
        t,
        "  busiest client IP: {} of bytes sent; top 10: {}",
        share(c.top1_ip_share_of_bytes),
        share(c.top10_ip_share_of_bytes)
    );
    if mostly_cloudfront(r) {
        t.push_str(
            "  Most bytes went to CloudFront: client IPs and countries are CloudFront's, not your viewers'.\n",
        );
    }
    for (title, items) in [
        ("Objects by bytes sent", &r.top_objects_by_bytes_decoded()),
        ("Client IPs by bytes sent", &r.top_clients_by_bytes),
        ("Requesters by bytes sent", &r.top_requesters_by_bytes),
    ] {
        let _ = writeln!(t, "  {title}:");
        for n in items {
            let _ = writeln!(t, "    {}: {}", shorten(&n.name, 100), bytes(n.count));
        }
    }

    list(&mut t, "Responses", &r.status_classes, 6);
    let _ = writeln!(
        t,
        "  not responses: {} lifecycle actions; {} malformed log lines (in no figure)",
        count(r.lifecycle_actions),
        count(r.malformed_lines)
    );
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
        "  Data transfer out:  {} for {} to the internet ({} to CloudFront and {} to AWS in {} are free)",
        usd(c.transfer_out_usd),
        bytes(c.internet_bytes),
        bytes(c.cloudfront_bytes),
        bytes(c.same_region_bytes),
        c.prices.region
    );
    let _ = writeln!(t, "  Athena query:       {}", usd(c.athena_scan_usd));
    let _ = writeln!(t, "  Total:              {}", usd(c.total_usd));
    let _ = writeln!(t, "  List prices of {}. {}", c.prices.region, c.note);

    heading(&mut t, "Who costs what");
    t.push_str("  By requester:\n");
    cost_lines(&mut t, &r.cost_by_requester);
    t.push_str("  By top-level prefix:\n");
    cost_lines(&mut t, &r.cost_by_prefix);

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

fn cost_lines(t: &mut String, lines: &[CostLine]) {
    if lines.is_empty() {
        t.push_str("    none\n");
    }
    for l in lines {
        let _ = writeln!(
            t,
            "    {}: {} ({} requests, {} to the internet)",
            shorten(&decoded_key(&l.name), 100),
            usd(l.total_usd),
            count(l.requests),
            bytes(l.internet_bytes)
        );
    }
}
