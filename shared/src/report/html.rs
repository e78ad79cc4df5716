//! `report.html` and the email's HTML body: headline numbers first, then
//! bar charts made of table cells with inline styles — what Gmail, Outlook
//! and Apple Mail all render. No JavaScript, no external images, no SVG, no
//! `<style>` block a client might strip. Every name from the logs (keys,
//! referrers, requesters, error codes) is escaped.

use std::fmt::Write;

use super::format::{
    Direction, bytes, change, count, decoded_key, direction, escape, share, shorten, usd,
};
use super::pricing::CostLine;
use super::trend::TrendPoint;
use super::{Downloads, glossary, mostly_cloudfront, period_words};
use super::{Named, Report, Section};

const ACCENT: &str = "#2f6fdf";
const BYTES_COLOR: &str = "#22a06b";
const MUTED: &str = "#5f6b7a";
const FONT: &str = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
/// Keys longer than this are cut in tables (the csv.gz has them whole).
const KEY_CHARS: usize = 80;
/// Long names wrap where [`breakable`] allows, and only mid-word when a
/// single part is wider than the cell.
const WRAP: &str = "overflow-wrap:anywhere;word-break:normal";

/// Escaped, with a line-break opportunity after each `/`, `:` and `@`, so
/// `arn:aws:sts::1:assumed-role/web-app/i-0abc` breaks between its parts
/// instead of mid-word.
fn breakable(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 16);
    for part in name.split_inclusive(['/', ':', '@']) {
        out.push_str(&escape(part));
        if part.ends_with(['/', ':', '@']) {
            out.push_str("<wbr>");
        }
    }
    out
}

/// The whole document.
pub fn render(report: &Report, downloads: &Downloads) -> String {
    let mut h = String::with_capacity(32 * 1024);
    let title = super::title(report);
    let _ = write!(
        h,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title></head>\n\
         <body style=\"margin:0;padding:0;background:#f4f6f8;{FONT};color:#1d2733\">\n\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" \
         style=\"background:#f4f6f8\"><tr><td align=\"center\" style=\"padding:16px\">\n\
         <table role=\"presentation\" width=\"640\" cellpadding=\"0\" cellspacing=\"0\" \
         style=\"max-width:640px;width:100%;background:#ffffff;border:1px solid #dde3ea\">\n",
        escape(&title)
    );
    header(&mut h, report);
    headline(&mut h, report);
    section_box(&mut h, "downloads-link", "Your data", |h| {
        download_block(h, downloads)
    });
    section_box(&mut h, "daily", "Requests and bytes per day", |h| {
        daily(h, report)
    });
    section_box(&mut h, "operations", "Operations", |h| {
        bars(h, &report.operations, 12, ACCENT, count)
    });
    section_box(&mut h, "trend", "Across periods", |h| trend(h, report));
    section_box(&mut h, "top-objects", "Most downloaded objects", |h| {
        top_objects(h, report)
    });
    section_box(&mut h, "countries", "Downloads by country", |h| {
        countries(h, report)
    });
    section_box(&mut h, "referrers", "Top referrers", |h| {
        bars(h, &report.overall.top_referrers, super::TOP, ACCENT, |n| {
            count(n)
        })
    });
    section_box(&mut h, "sections", "By top-level prefix", |h| {
        sections(h, report)
    });
    section_box(&mut h, "automated", "Crawlers and automated clients", |h| {
        automated(h, report)
    });
    section_box(&mut h, "cost-drivers", "Where the bytes went", |h| {
        cost_drivers(h, report)
    });
    section_box(&mut h, "status", "Responses and errors", |h| {
        status(h, report)
    });
    section_box(&mut h, "requesters", "Who made the requests", |h| {
        requesters(h, report)
    });
    section_box(&mut h, "security", "Security signals", |h| {
        security(h, report)
    });
    section_box(
        &mut h,
        "cost",
        "Estimated cost (an estimate, not a bill)",
        |h| cost(h, report),
    );
    section_box(&mut h, "who-costs", "Who costs what", |h| {
        who_costs(h, report)
    });
    section_box(&mut h, "glossary", "Glossary", |h| {
        h.push_str("<table role=\"presentation\" cellpadding=\"0\" cellspacing=\"0\" width=\"100%\" style=\"font-size:13px\">");
        for (term, meaning) in glossary::TERMS {
            let _ = write!(
                h,
                "<tr><td valign=\"top\" style=\"padding:3px 8px 3px 0;font-weight:600;white-space:nowrap\">{}</td>\
                 <td style=\"padding:3px 0;color:{MUTED}\">{}</td></tr>",
                escape(term),
                escape(meaning)
            );
        }
        h.push_str("</table>");
    });
    let _ = write!(
        h,
        "<tr><td style=\"padding:12px 24px 20px;color:{MUTED};font-size:12px\">Generated {} by \
         S3 Logs Analyzer from the bucket's server access logs. Counts are exact for requests \
         timed in the period, including records delivered after it ended.</td></tr>\n\
         </table></td></tr></table>\n</body></html>\n",
        report.generated_at.format("%Y-%m-%d %H:%M UTC")
    );
    h
}

fn header(h: &mut String, r: &Report) {
    let buckets = if r.buckets.is_empty() {
        "your bucket".to_string()
    } else {
        r.buckets.join(", ")
    };
    let _ = writeln!(
        h,
        "<tr><td id=\"header\" style=\"padding:20px 24px;background:#1d2733;color:#ffffff\">\
         <div style=\"font-size:13px;opacity:.8\">S3 usage report</div>\
         <div style=\"font-size:22px;font-weight:700;margin-top:4px\">{}</div>\
         <div style=\"font-size:14px;margin-top:4px\">{} ({} days)</div></td></tr>",
        escape(&buckets),
        escape(&period_words(r)),
        r.period.days
    );
}

fn headline(h: &mut String, r: &Report) {
    let tiles = r.headline();
    h.push_str(
        "<tr><td id=\"headline\" style=\"padding:16px 18px 4px\">\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\"><tr>",
    );
    for (i, tile) in tiles.iter().enumerate() {
        if i > 0 && i % 3 == 0 {
            h.push_str("</tr><tr>");
        }
        let trend = tile.delta.map_or(String::new(), |d| {
            let color = match direction(d.percent) {
                Direction::Down => "#c9372c",
                Direction::Up => BYTES_COLOR,
                Direction::Flat => MUTED,
            };
            format!(
                "<div style=\"font-size:12px;color:{color}\">{} vs {}</div>",
                change(d.percent),
                escape(
                    &r.change
                        .as_ref()
                        .map_or(String::new(), |c| c.previous_period.clone())
                )
            )
        });
        let human = tile.human.as_ref().map_or(String::new(), |v| {
            format!(
                "<div class=\"human\" style=\"font-size:12px;color:{MUTED}\">people only: {}</div>",
                escape(v)
            )
        });
        let _ = write!(
            h,
            "<td width=\"33%\" valign=\"top\" style=\"padding:6px\">\
             <div style=\"border:1px solid #dde3ea;border-radius:6px;padding:10px 12px\">\
             <div style=\"font-size:12px;color:{MUTED}\">{}</div>\
             <div style=\"font-size:22px;font-weight:700\">{}</div>{human}{trend}</div></td>",
            tile.label,
            escape(&tile.value)
        );
    }
    h.push_str("</tr></table></td></tr>\n");
}

/// A titled block of the report; `id` lets tests find it.
fn section_box(h: &mut String, id: &str, title: &str, body: impl FnOnce(&mut String)) {
    let _ = write!(
        h,
        "<tr><td id=\"{id}\" style=\"padding:14px 24px 6px\">\
         <div style=\"font-size:16px;font-weight:700;margin:0 0 8px;border-bottom:2px solid #eef1f4;\
         padding-bottom:4px\">{}</div>",
        escape(title)
    );
    body(h);
    h.push_str("</td></tr>\n");
}

fn download_block(h: &mut String, d: &Downloads) {
    if let Some(link) = &d.link {
        let validity = link.validity();
        let _ = write!(
            h,
            "<p style=\"margin:0 0 8px\"><a href=\"{}\" style=\"display:inline-block;background:{ACCENT};\
             color:#ffffff;text-decoration:none;padding:10px 16px;border-radius:4px;font-weight:600\">\
             Download the requests (csv.gz)</a></p>\
             <p style=\"margin:0 0 6px;font-size:13px;color:{MUTED}\">{}</p>",
            escape(&link.url),
            escape(&validity)
        );
    }
    // Local runs write files, not objects: no "account" to speak of.
    let where_ = if d.csv_gz.starts_with("s3://") {
        "Always in your bucket"
    } else {
        "Saved on this machine"
    };
    let _ = write!(
        h,
        "<p style=\"margin:0;font-size:13px;color:{MUTED}\">{where_}:<br>\
         <code>{}</code><br><code>{}</code></p>",
        escape(d.csv_gz),
        escape(d.parquet)
    );
}

/// Horizontal bars: name, a bar scaled to the largest value, the value.
fn bars(h: &mut String, list: &[Named], limit: usize, color: &str, fmt: impl Fn(u64) -> String) {
    if list.is_empty() {
        let _ = write!(
            h,
            "<p style=\"margin:0;color:{MUTED}\">None in this period.</p>"
        );
        return;
    }
    let max = list.iter().map(|n| n.count).max().unwrap_or(1).max(1);
    h.push_str("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"font-size:13px\">");
    for n in list.iter().take(limit) {
        bar_row(
            h,
            &shorten(&n.name, KEY_CHARS),
            n.count,
            max,
            color,
            &fmt(n.count),
        );
    }
    h.push_str("</table>");
    if list.len() > limit {
        let rest: u64 = list[limit..].iter().map(|n| n.count).sum();
        let _ = write!(
            h,
            "<p style=\"margin:4px 0 0;font-size:12px;color:{MUTED}\">and {} more ({})</p>",
            list.len() - limit,
            fmt(rest)
        );
    }
}

fn bar_row(h: &mut String, name: &str, value: u64, max: u64, color: &str, shown: &str) {
    // At least 1% so a non-zero value is visible.
    let pct = if value == 0 {
        0
    } else {
        ((value as f64 / max as f64) * 100.0)
            .round()
            .clamp(1.0, 100.0) as u32
    };
    let bar = if pct == 0 {
        String::new()
    } else {
        format!(
            "<table role=\"presentation\" width=\"{pct}%\" cellpadding=\"0\" cellspacing=\"0\">\
             <tr><td height=\"12\" style=\"background:{color};font-size:0;line-height:0\">&nbsp;</td></tr></table>"
        )
    };
    let _ = write!(
        h,
        "<tr><td style=\"padding:2px 8px 2px 0;width:38%;{WRAP}\">{}</td>\
         <td style=\"padding:2px 0\">{bar}</td>\
         <td align=\"right\" style=\"padding:2px 0 2px 8px;white-space:nowrap;width:18%\">{}</td></tr>",
        breakable(name),
        escape(shown)
    );
}

fn daily(h: &mut String, r: &Report) {
    if r.daily.iter().all(|d| d.requests == 0) {
        let _ = write!(
            h,
            "<p style=\"margin:0;color:{MUTED}\">No requests in this period.</p>"
        );
        return;
    }
    // A quarter has ~92 days: group by ISO week past a month so the chart
    // stays one screen long.
    let rows: Vec<(String, u64, u64)> = if r.daily.len() > 31 {
        let mut weeks: Vec<(String, u64, u64)> = Vec::new();
        for d in &r.daily {
            let monday = d.date.week(chrono::Weekday::Mon).first_day();
            let week = format!("week of {}", monday.format("%d %b"));
            match weeks.last_mut() {
                Some(w) if w.0 == week => {
                    w.1 += d.requests;
                    w.2 += d.bytes_sent;
                }
                _ => weeks.push((week, d.requests, d.bytes_sent)),
            }
        }
        weeks
    } else {
        r.daily
            .iter()
            .map(|d| {
                (
                    format!(
                        "{} · {} clients",
                        d.date.format("%a %d %b"),
                        count(d.distinct_clients)
                    ),
                    d.requests,
                    d.bytes_sent,
                )
            })
            .collect()
    };
    let max_req = rows.iter().map(|r| r.1).max().unwrap_or(1).max(1);
    let max_bytes = rows.iter().map(|r| r.2).max().unwrap_or(1).max(1);
    let _ = write!(
        h,
        "<p style=\"margin:0 0 6px;font-size:12px;color:{MUTED}\">\
         <span style=\"color:{ACCENT}\">&#9632;</span> requests &nbsp; \
         <span style=\"color:{BYTES_COLOR}\">&#9632;</span> bytes sent</p>\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"font-size:13px\">"
    );
    for (label, requests, sent) in &rows {
        bar_row(h, label, *requests, max_req, ACCENT, &count(*requests));
        bar_row(h, "", *sent, max_bytes, BYTES_COLOR, &bytes(*sent));
    }
    h.push_str("</table>");
}

fn countries(h: &mut String, r: &Report) {
    if r.geo_database.is_none() {
        let _ = write!(
            h,
            "<p style=\"margin:0;color:{MUTED}\">Countries unknown: no GeoIP database is \
             configured (GEOIP_DB).</p>"
        );
        return;
    }
    bars(h, &r.overall.top_countries, super::TOP, ACCENT, |n| {
        count(n)
    });
    cloudfront_notice(h, r);
    let _ = write!(
        h,
        "<p style=\"margin:4px 0 0;font-size:12px;color:{MUTED}\">Countries from the GeoIP database {}.</p>",
        escape(r.geo_database.as_deref().unwrap_or(""))
    );
}

fn sections(h: &mut String, r: &Report) {
    if r.sections.is_empty() {
        let _ = write!(
            h,
            "<p style=\"margin:0;color:{MUTED}\">No requests in this period.</p>"
        );
        return;
    }
    h.push_str(
        "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"font-size:13px\">\
         <tr style=\"color:#5f6b7a\"><td style=\"padding:2px 0\">prefix</td><td align=\"right\">requests</td>\
         <td align=\"right\">downloads</td><td align=\"right\">sessions</td><td align=\"right\">downloaded</td>\
         <td align=\"right\">unique IPs</td></tr>",
    );
    for s in &r.sections {
        let m = &s.metrics;
        let _ = write!(
            h,
            "<tr><td style=\"padding:2px 8px 2px 0;{WRAP}\">{}</td><td align=\"right\">{}</td>\
             <td align=\"right\">{}</td><td align=\"right\">{}</td><td align=\"right\">{}</td>\
             <td align=\"right\">{}</td></tr>",
            breakable(&shorten(&decoded_key(&section_name(s)), KEY_CHARS)),
            count(m.requests),
            count(m.downloads),
            count(m.download_sessions),
            bytes(m.downloaded_bytes),
            count(m.unique_ips)
        );
    }
    h.push_str("</table>");
    if r.sections_omitted > 0 {
        let _ = write!(
            h,
            "<p style=\"margin:4px 0 0;font-size:12px;color:{MUTED}\">{} smaller prefixes are in report.json's totals only.</p>",
            r.sections_omitted
        );
    }
}

/// How a section is shown: its prefix, or what its absence means.
pub fn section_name(s: &Section) -> String {
    match s.prefix.as_deref() {
        None => "(bucket operations)".into(),
        Some("") => "(bucket root)".into(),
        Some(p) => p.to_string(),
    }
}

fn status(h: &mut String, r: &Report) {
    bars(h, &r.status_classes, 6, ACCENT, count);
    let _ = write!(
        h,
        "<p style=\"margin:6px 0 0;font-size:12px;color:{MUTED}\">Not responses: {} lifecycle \
         actions S3 took itself (expirations, transitions); {} log lines that could not be read \
         (malformed), kept out of every figure.</p>",
        count(r.lifecycle_actions),
        count(r.malformed_lines)
    );
    if !r.top_error_codes.is_empty() {
        h.push_str(
            "<div style=\"margin-top:8px;font-size:13px;font-weight:600\">Top error codes</div>",
        );
        bars(h, &r.top_error_codes, super::TOP, "#c9372c", count);
    }
    let p = &r.download_time_ms;
    if let (Some(p50), Some(p95)) = (p.p50, p.p95) {
        let _ = write!(
            h,
            "<p style=\"margin:8px 0 0;font-size:13px\">Download total time: median {} ms, 95th percentile {} ms.</p>",
            count(p50.into()),
            count(p95.into())
        );
    }
}

fn requesters(h: &mut String, r: &Report) {
    let _ = write!(
        h,
        "<p style=\"margin:0 0 6px;font-size:13px\">Anonymous (no credentials): <b>{}</b> of requests.</p>",
        share(r.anonymous_share)
    );
    bars(h, &r.top_requesters, super::TOP, ACCENT, count);
}

fn security(h: &mut String, r: &Report) {
    let rows = r.security_rows();
    h.push_str("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"font-size:13px\">");
    for (label, n) in rows {
        let color = if n > 0 { "#c9372c" } else { BYTES_COLOR };
        let shown = count(n);
        let _ = write!(
            h,
            "<tr><td style=\"padding:2px 0\">{label}</td><td align=\"right\" style=\"color:{color};font-weight:600\">{shown}</td></tr>"
        );
    }
    h.push_str("</table>");
}

fn cost(h: &mut String, r: &Report) {
    let c = &r.cost;
    let rows = [
        (
            format!(
                "{} PUT/COPY/POST/LIST requests",
                count(c.write_and_list_requests)
            ),
            usd(c.write_and_list_requests as f64 / 1000.0 * c.prices.write_and_list_per_1000),
        ),
        (
            format!(
                "{} GET and other requests",
                count(c.read_and_other_requests)
            ),
            usd(c.read_and_other_requests as f64 / 1000.0 * c.prices.read_and_other_per_1000),
        ),
        (
            format!("{} sent to the internet", bytes(c.internet_bytes)),
            usd(c.transfer_out_usd),
        ),
        (
            format!(
                "{} to CloudFront, {} to AWS in {} (free)",
                bytes(c.cloudfront_bytes),
                bytes(c.same_region_bytes),
                c.prices.region
            ),
            usd(0.0),
        ),
        (
            format!(
                "{} DELETE requests (free), {} lifecycle actions (not requests)",
                count(c.free_requests),
                count(c.lifecycle_actions)
            ),
            usd(0.0),
        ),
        (
            "This report's Athena query".to_string(),
            usd(c.athena_scan_usd),
        ),
    ];
    h.push_str("<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"font-size:13px\">");
    for (label, value) in rows {
        let _ = write!(
            h,
            "<tr><td style=\"padding:2px 0\">{}</td><td align=\"right\">{}</td></tr>",
            escape(&label),
            value
        );
    }
    let _ = write!(
        h,
        "<tr><td style=\"padding:4px 0;font-weight:700;border-top:1px solid #dde3ea\">Total (estimate)</td>\
         <td align=\"right\" style=\"font-weight:700;border-top:1px solid #dde3ea\">{}</td></tr></table>\
         <p style=\"margin:6px 0 0;font-size:12px;color:{MUTED}\">List prices of {}. {}</p>",
        usd(c.total_usd),
        escape(&c.prices.region),
        escape(&c.note)
    );
}

/// Said wherever client IPs or countries are shown, when they are mostly
/// CloudFront's own.
fn cloudfront_notice(h: &mut String, r: &Report) {
    if mostly_cloudfront(r) {
        let _ = write!(
            h,
            "<p class=\"cloudfront-notice\" style=\"margin:4px 0 0;font-size:12px;color:#a15c00\">\
             Most bytes ({}) went to CloudFront: the client IPs and countries here are CloudFront's \
             edge servers, not your viewers. CloudFront's own access logs have the viewers.</p>",
            share(r.cost.cloudfront_bytes as f64 / r.cost.bytes_sent.max(1) as f64)
        );
    }
}

/// A small table: a header row, then one row per entry.
fn table(h: &mut String, header: &[&str], rows: impl Iterator<Item = Vec<String>>) {
    h.push_str(
        "<table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"font-size:13px\">\
         <tr style=\"color:#5f6b7a\">",
    );
    for (i, title) in header.iter().enumerate() {
        let align = if i == 0 { "left" } else { "right" };
        let _ = write!(
            h,
            "<td align=\"{align}\" style=\"padding:2px 0\">{title}</td>"
        );
    }
    h.push_str("</tr>");
    let mut any = false;
    for row in rows {
        any = true;
        h.push_str("<tr>");
        for (i, cell) in row.iter().enumerate() {
            if i == 0 {
                let _ = write!(
                    h,
                    "<td style=\"padding:2px 8px 2px 0;{WRAP}\">{}</td>",
                    breakable(cell)
                );
            } else {
                let _ = write!(
                    h,
                    "<td align=\"right\" style=\"padding:2px 0 2px 8px;white-space:nowrap\">{}</td>",
                    escape(cell)
                );
            }
        }
        h.push_str("</tr>");
    }
    if !any {
        let _ = write!(
            h,
            "<tr><td colspan=\"{}\" style=\"color:{MUTED}\">None in this period.</td></tr>",
            header.len()
        );
    }
    h.push_str("</table>");
}

fn top_objects(h: &mut String, r: &Report) {
    table(
        h,
        &["object", "downloads", "sessions", "whole files", "sent"],
        r.overall.top_downloads.iter().map(|d| {
            vec![
                shorten(&decoded_key(&d.key), KEY_CHARS),
                count(d.downloads),
                count(d.download_sessions),
                format!("{:.1}", d.whole_object_equivalents),
                bytes(d.bytes_sent),
            ]
        }),
    );
}

fn automated(h: &mut String, r: &Report) {
    let a = &r.automated;
    let _ = write!(
        h,
        "<p style=\"margin:0 0 6px;font-size:13px\">Crawlers and automated clients made <b>{}</b> of \
         requests, <b>{}</b> of downloads and took <b>{}</b> of the bytes sent ({}). The headline \
         figures count everyone; \"people only\" leaves these out.</p>",
        share(a.share_of_requests),
        share(a.share_of_downloads),
        share(a.share_of_bytes_sent),
        bytes(a.bytes_sent)
    );
    h.push_str(
        "<div style=\"margin-top:8px;font-size:13px;font-weight:600\">Top user agents</div>",
    );
    bars(h, &r.top_user_agents, super::TOP_COST, ACCENT, count);
}

fn cost_drivers(h: &mut String, r: &Report) {
    let c = &r.concentration;
    let _ = write!(
        h,
        "<p style=\"margin:0 0 6px;font-size:13px\">The busiest client IP took <b>{}</b> of the bytes \
         sent; the top 10 took <b>{}</b>.</p>",
        share(c.top1_ip_share_of_bytes),
        share(c.top10_ip_share_of_bytes)
    );
    cloudfront_notice(h, r);
    for (title, list) in [
        ("Objects by bytes sent", &r.top_objects_by_bytes_decoded()),
        ("Client IPs by bytes sent", &r.top_clients_by_bytes),
        ("Requesters by bytes sent", &r.top_requesters_by_bytes),
    ] {
        let _ = write!(
            h,
            "<div style=\"margin-top:8px;font-size:13px;font-weight:600\">{title}</div>"
        );
        bars(h, list, super::TOP, BYTES_COLOR, bytes);
    }
}

fn cost_lines(h: &mut String, lines: &[CostLine], decode: bool) {
    table(
        h,
        &[
            "",
            "requests",
            "to internet",
            "requests $",
            "transfer $",
            "total",
        ],
        lines.iter().map(|l| {
            let name = if decode {
                decoded_key(&l.name).into_owned()
            } else {
                l.name.clone()
            };
            vec![
                shorten(&name, KEY_CHARS),
                count(l.requests),
                bytes(l.internet_bytes),
                usd(l.requests_usd),
                usd(l.transfer_out_usd),
                usd(l.total_usd),
            ]
        }),
    );
}

fn who_costs(h: &mut String, r: &Report) {
    h.push_str("<div style=\"font-size:13px;font-weight:600\">By requester (IAM principal, or anonymous)</div>");
    cost_lines(h, &r.cost_by_requester, false);
    h.push_str(
        "<div style=\"margin-top:8px;font-size:13px;font-weight:600\">By top-level prefix</div>",
    );
    cost_lines(h, &r.cost_by_prefix, true);
    let _ = write!(
        h,
        "<p style=\"margin:6px 0 0;font-size:12px;color:{MUTED}\">S3 request and transfer-out charges \
         at the list prices above; bytes to CloudFront or to AWS in {} are free. The Athena query is \
         not split.</p>",
        escape(&r.cost.prices.region)
    );
}

/// One figure of the trend: its name, how to read it off a point, how to show it.
type TrendSeries = (
    &'static str,
    fn(&TrendPoint) -> Option<f64>,
    fn(f64) -> String,
);

fn trend(h: &mut String, r: &Report) {
    if r.trend.iter().filter(|p| p.requests.is_some()).count() < 2 {
        let _ = write!(
            h,
            "<p style=\"margin:0;color:{MUTED}\">The first period with a report: the trend starts \
             with the next one.</p>"
        );
        return;
    }
    let series: [TrendSeries; 4] = [
        (
            "Requests",
            |p| p.requests.map(|v| v as f64),
            |v| count(v as u64),
        ),
        (
            "Download sessions",
            |p| p.download_sessions.map(|v| v as f64),
            |v| count(v as u64),
        ),
        (
            "Bytes sent",
            |p| p.bytes_sent.map(|v| v as f64),
            |v| bytes(v as u64),
        ),
        ("Estimated cost", |p| p.cost_usd, usd),
    ];
    // Only from the first period with a report: older gaps say nothing.
    let first = r
        .trend
        .iter()
        .position(|p| p.requests.is_some())
        .unwrap_or(0);
    let points = &r.trend[first..];
    for (title, value, shown) in series {
        let max = points.iter().filter_map(value).fold(0.0, f64::max);
        let _ = write!(
            h,
            "<div style=\"margin-top:6px;font-size:13px;font-weight:600\">{title}</div>\
             <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\" style=\"font-size:12px\"><tr>"
        );
        let width = 100 / points.len().max(1);
        for p in points {
            let color = if p.current { ACCENT } else { "#9fb6dc" };
            let (bar, label) = match value(p) {
                Some(v) => {
                    let px = if max > 0.0 {
                        (v / max * 60.0).round().max(1.0)
                    } else {
                        1.0
                    };
                    (
                        format!(
                            "<div style=\"height:{px}px;background:{color};font-size:0;line-height:0\">&nbsp;</div>"
                        ),
                        shown(v),
                    )
                }
                None => (
                    format!(
                        "<div style=\"height:60px;border:1px dashed #c4ccd6;font-size:10px;color:{MUTED}\">no report</div>"
                    ),
                    "—".to_string(),
                ),
            };
            let _ = write!(
                h,
                "<td class=\"trend-bar\" data-period=\"{}\" data-current=\"{}\" width=\"{width}%\" valign=\"bottom\" \
                 align=\"center\" style=\"padding:0 2px\" title=\"{} {}\">{bar}\
                 <div style=\"font-size:10px;color:{MUTED};white-space:nowrap;overflow:hidden\">{}</div></td>",
                escape(&p.period),
                p.current,
                escape(&p.period),
                escape(&label),
                escape(&label)
            );
        }
        h.push_str("</tr><tr>");
        for p in points {
            let weight = if p.current { "700" } else { "400" };
            let _ = write!(
                h,
                "<td align=\"center\" style=\"font-size:10px;font-weight:{weight};color:{MUTED}\">{}</td>",
                escape(&p.period)
            );
        }
        h.push_str("</tr></table>");
    }
}
