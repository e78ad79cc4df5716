//! `report.html` and the email's HTML body: headline numbers first, then
//! bar charts made of table cells with inline styles — what Gmail, Outlook
//! and Apple Mail all render. No JavaScript, no external images, no SVG, no
//! `<style>` block a client might strip. Every name from the logs (keys,
//! referrers, requesters, error codes) is escaped.

use std::fmt::Write;

use super::format::{bytes, change, count, escape, share, shorten, usd};
use super::{Downloads, glossary};
use super::{Named, Report, Section};

const ACCENT: &str = "#2f6fdf";
const BYTES_COLOR: &str = "#22a06b";
const MUTED: &str = "#5f6b7a";
const FONT: &str = "font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
/// Keys longer than this are cut in tables (the csv.gz has them whole).
const KEY_CHARS: usize = 80;

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
    section_box(&mut h, "top-objects", "Most downloaded objects", |h| {
        let list: Vec<Named> = report
            .overall
            .top_downloads
            .iter()
            .map(|t| Named {
                name: t.key.clone(),
                count: t.downloads,
            })
            .collect();
        bars(h, &list, super::TOP, ACCENT, count)
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
         <div style=\"font-size:14px;margin-top:4px\">{} &middot; {} to {} ({} days)</div></td></tr>",
        escape(&buckets),
        escape(&r.period.label),
        r.period.start,
        r.period.end,
        r.period.days
    );
}

fn headline(h: &mut String, r: &Report) {
    let tiles = r.headline();
    h.push_str(
        "<tr><td id=\"headline\" style=\"padding:16px 18px 4px\">\
         <table role=\"presentation\" width=\"100%\" cellpadding=\"0\" cellspacing=\"0\"><tr>",
    );
    for (i, (label, value, delta)) in tiles.iter().enumerate() {
        if i == 3 {
            h.push_str("</tr><tr>");
        }
        let trend = delta.map_or(String::new(), |d| {
            let color = match d.percent {
                Some(p) if p < 0.0 => "#c9372c",
                _ => BYTES_COLOR,
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
        let _ = write!(
            h,
            "<td width=\"33%\" valign=\"top\" style=\"padding:6px\">\
             <div style=\"border:1px solid #dde3ea;border-radius:6px;padding:10px 12px\">\
             <div style=\"font-size:12px;color:{MUTED}\">{label}</div>\
             <div style=\"font-size:22px;font-weight:700\">{value}</div>{trend}</div></td>"
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
    let _ = write!(
        h,
        "<p style=\"margin:0;font-size:13px;color:{MUTED}\">Always in your account:<br>\
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
        "<tr><td style=\"padding:2px 8px 2px 0;width:38%;word-break:break-all\">{}</td>\
         <td style=\"padding:2px 0\">{bar}</td>\
         <td align=\"right\" style=\"padding:2px 0 2px 8px;white-space:nowrap;width:18%\">{}</td></tr>",
        escape(name),
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
                    d.date.format("%a %d %b").to_string(),
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
         <td align=\"right\">downloads</td><td align=\"right\">downloaded</td><td align=\"right\">unique IPs</td></tr>",
    );
    for s in &r.sections {
        let m = &s.metrics;
        let _ = write!(
            h,
            "<tr><td style=\"padding:2px 8px 2px 0;word-break:break-all\">{}</td><td align=\"right\">{}</td>\
             <td align=\"right\">{}</td><td align=\"right\">{}</td><td align=\"right\">{}</td></tr>",
            escape(&shorten(&section_name(s), KEY_CHARS)),
            count(m.requests),
            count(m.downloads),
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
            format!("{} sent (data transfer out)", bytes(c.bytes_sent)),
            usd(c.transfer_out_usd),
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
