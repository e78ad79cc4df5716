//! The usage report: `report.json` beside the results (schema below and in
//! the README), `report.html`, and the email made from them.
//!
//! MergeResults counts every row it writes ([`tally`], on as many threads as
//! the cores warrant: [`tally_workers`]), so the report costs no second pass; [`Report::build`] turns the counts into the document;
//! [`html`] and [`text`] render it.

pub mod automated;
pub mod columns;
pub mod destinations;
pub mod format;
pub mod geo;
pub mod glossary;
pub mod html;
pub mod names;
pub mod pricing;
pub mod sessions;
pub mod tally;
pub mod tally_workers;
pub mod text;
pub mod trend;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::period::Period;
use destinations::Destinations;
use names::{Id, Names};
use pricing::{CostEstimate, CostLine};
use tally::{Counter, Scope, Tally};
use trend::TrendPoint;

/// Bumped when a field changes meaning or disappears (adding one does not).
/// 2: `cost.transferOutUsd` prices only the bytes sent to the internet (1
/// priced every byte); `statusClasses` no longer counts lifecycle actions
/// as "other" (they are `lifecycleActions`).
pub const SCHEMA_VERSION: u32 = 2;
/// How many entries the cost and user-agent lists keep.
pub const TOP_COST: usize = 10;
/// How many entries each top list keeps.
pub const TOP: usize = 5;
/// Sections listed, by requests; the rest are counted in `sectionsOmitted`.
pub const MAX_SECTIONS: usize = 50;
/// The requester of requests made without credentials, in the cost lists.
pub const ANONYMOUS: &str = "anonymous";
/// The country of downloads whose IP the database does not know.
pub const UNKNOWN_COUNTRY: &str = "unknown";
/// The report's file name beside the results.
pub const REPORT_JSON: &str = "report.json";
pub const REPORT_HTML: &str = "report.html";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub schema_version: u32,
    pub period: PeriodInfo,
    /// The bucket(s) the logs are about (usually one).
    pub buckets: Vec<String>,
    pub generated_at: DateTime<Utc>,
    pub first_request: Option<DateTime<Utc>>,
    pub last_request: Option<DateTime<Utc>>,
    pub overall: Metrics,
    pub sections: Vec<Section>,
    pub sections_omitted: usize,
    pub daily: Vec<DailyCount>,
    pub operations: Vec<Named>,
    pub status_classes: Vec<Named>,
    /// Lifecycle actions S3 took itself (expirations, transitions): they
    /// have no HTTP status and are not request charges.
    #[serde(default)]
    pub lifecycle_actions: u64,
    pub top_error_codes: Vec<Named>,
    pub top_requesters: Vec<Named>,
    /// Crawlers and other automated clients (see the glossary for the rule).
    #[serde(default)]
    pub automated: Automated,
    /// User agents by requests.
    #[serde(default)]
    pub top_user_agents: Vec<Named>,
    /// How much of the bytes sent the biggest clients took.
    #[serde(default)]
    pub concentration: Concentration,
    /// The cost drivers: client IPs, objects and requesters by bytes sent.
    #[serde(default)]
    pub top_clients_by_bytes: Vec<Named>,
    #[serde(default)]
    pub top_objects_by_bytes: Vec<Named>,
    #[serde(default)]
    pub top_requesters_by_bytes: Vec<Named>,
    /// What each requester (IAM principal, or `anonymous`) and each prefix
    /// cost, dearest first.
    #[serde(default)]
    pub cost_by_requester: Vec<CostLine>,
    #[serde(default)]
    pub cost_by_prefix: Vec<CostLine>,
    /// This period and up to twelve before it, oldest first; a period
    /// without a report has null figures.
    #[serde(default)]
    pub trend: Vec<TrendPoint>,
    /// Share of requests made without credentials (0 to 1).
    pub anonymous_share: f64,
    pub download_time_ms: Percentiles,
    pub cost: CostEstimate,
    pub security: Security,
    /// Lines of the logs read (the period's partitions and the slack days)
    /// that could not be read as records.
    pub malformed_lines: u64,
    /// Where countries come from: the database's type and build date, or
    /// null when no database was configured (every country is unknown).
    pub geo_database: Option<String>,
    /// The change against the previous period's report, when there is one.
    pub change: Option<Change>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeriodInfo {
    pub label: String,
    pub start: NaiveDate,
    pub end: NaiveDate,
    pub days: u32,
}

/// The original tool's metrics, for the whole bucket or one prefix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metrics {
    pub requests: u64,
    pub interactions: u64,
    pub downloads: u64,
    /// Downloads grouped per remote IP and key, a new one after 8 hours
    /// without a download of the pair (see [`sessions`]).
    #[serde(default)]
    pub download_sessions: u64,
    /// Bytes sent by downloads divided by the object's size, summed.
    #[serde(default)]
    pub whole_object_equivalents: f64,
    /// Bytes sent by every request (downloads, listings, errors).
    #[serde(default)]
    pub bytes_sent: u64,
    pub unique_objects_downloaded: u64,
    pub uploads: u64,
    pub uploaded_bytes: u64,
    pub downloaded_bytes: u64,
    pub unique_ips: u64,
    pub unique_downloader_ips: u64,
    pub top_downloads: Vec<TopDownload>,
    pub top_countries: Vec<Named>,
    pub top_referrers: Vec<Named>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Section {
    /// The top-level prefix (`images/`); `""` for keys at the bucket's
    /// root; null for bucket-level requests (no key).
    pub prefix: Option<String>,
    #[serde(flatten)]
    pub metrics: Metrics,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TopDownload {
    /// The key as the log has it (URL-encoded); the HTML shows it decoded.
    pub key: String,
    pub downloads: u64,
    #[serde(default)]
    pub download_sessions: u64,
    #[serde(default)]
    pub whole_object_equivalents: f64,
    #[serde(default)]
    pub bytes_sent: u64,
}

/// A name and how many requests (or downloads) it had.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Named {
    pub name: String,
    pub count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DailyCount {
    pub date: NaiveDate,
    pub requests: u64,
    pub bytes_sent: u64,
    /// Distinct remote IPs that made a request that day.
    #[serde(default)]
    pub distinct_clients: u64,
}

/// Requests from crawlers and other automated clients, and their shares
/// (0 to 1) of all requests, downloads and bytes sent.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Automated {
    pub requests: u64,
    pub downloads: u64,
    pub downloaded_bytes: u64,
    pub bytes_sent: u64,
    pub share_of_requests: f64,
    pub share_of_downloads: f64,
    pub share_of_bytes_sent: f64,
    /// Where the rule comes from.
    pub rule: String,
}

/// The share (0 to 1) of all bytes sent that went to the top client IPs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Concentration {
    pub top1_ip_share_of_bytes: f64,
    pub top10_ip_share_of_bytes: f64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Percentiles {
    pub p50: Option<u32>,
    pub p95: Option<u32>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Security {
    pub sig_v2_requests: u64,
    pub tls_below_1_2_requests: u64,
    pub anonymous_writes: u64,
    pub acl_required_requests: u64,
    pub forbidden_403: u64,
}

/// One headline figure.
pub struct Tile<'a> {
    pub label: &'static str,
    pub value: String,
    pub delta: Option<&'a Delta>,
    /// The figure without crawlers and other automated clients.
    pub human: Option<String>,
}

/// This period against the one before it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    pub previous_period: String,
    pub requests: Delta,
    pub downloads: Delta,
    /// Null when the previous report predates download sessions.
    #[serde(default)]
    pub download_sessions: Option<Delta>,
    pub downloaded_bytes: Delta,
    pub unique_ips: Delta,
    pub uploads: Delta,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Delta {
    pub previous: u64,
    pub current: u64,
    /// Percent change; null when the previous value was 0.
    pub percent: Option<f64>,
}

impl Delta {
    fn new(previous: u64, current: u64) -> Self {
        let percent = (previous > 0).then(|| {
            ((current as f64 - previous as f64) / previous as f64 * 1000.0).round() / 10.0
        });
        Self {
            previous,
            current,
            percent,
        }
    }
}

impl Change {
    pub fn between(previous: &Report, current: &Report) -> Self {
        let (p, c) = (&previous.overall, &current.overall);
        Self {
            previous_period: previous.period.label.clone(),
            requests: Delta::new(p.requests, c.requests),
            downloads: Delta::new(p.downloads, c.downloads),
            download_sessions: (previous.schema_version >= 2)
                .then(|| Delta::new(p.download_sessions, c.download_sessions)),
            downloaded_bytes: Delta::new(p.downloaded_bytes, c.downloaded_bytes),
            unique_ips: Delta::new(p.unique_ips, c.unique_ips),
            uploads: Delta::new(p.uploads, c.uploads),
        }
    }
}

/// The `n` largest counts, ties by name so the order never depends on
/// hashing.
fn top<'a>(counts: impl Iterator<Item = (&'a str, u64)>, n: usize) -> Vec<Named> {
    let mut all: Vec<(&str, u64)> = counts.collect();
    all.sort_unstable_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(b.0)));
    all.truncate(n);
    all.into_iter()
        .map(|(name, count)| Named {
            name: name.to_string(),
            count,
        })
        .collect()
}

fn top_of(counter: &Counter, n: usize) -> Vec<Named> {
    top(counter.iter().map(|(k, v)| (k.as_ref(), *v)), n)
}

/// Millionths as a figure with three decimals.
fn from_micros(micros: u64) -> f64 {
    (micros as f64 / 1_000.0).round() / 1_000.0
}

/// `part / whole` to four decimals; 0 when there is no whole.
fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        (part as f64 / whole as f64 * 10_000.0).round() / 10_000.0
    }
}

impl Metrics {
    /// `sessions` is by key number, and `keys` names the numbers.
    fn of(s: &Scope, sessions: &[u64], keys: &Names) -> Self {
        let mut by_downloads: Vec<(&str, Id, &tally::KeyStats)> = s
            .downloads_by_key
            .iter()
            .map(|(&k, v)| (keys.name(k), k, v))
            .collect();
        by_downloads.sort_unstable_by(|a, b| b.2.downloads.cmp(&a.2.downloads).then(a.0.cmp(b.0)));
        let download_sessions = s
            .downloads_by_key
            .keys()
            .map(|&k| sessions[k as usize])
            .sum();
        Self {
            requests: s.requests,
            interactions: s.interactions,
            downloads: s.downloads,
            download_sessions,
            whole_object_equivalents: from_micros(s.woe_micros),
            bytes_sent: s.spend.bytes_sent,
            unique_objects_downloaded: s.downloads_by_key.len() as u64,
            uploads: s.uploaded_keys.len() as u64,
            uploaded_bytes: s.uploaded_bytes,
            downloaded_bytes: s.downloaded_bytes,
            unique_ips: s.ips.len() as u64,
            unique_downloader_ips: s.downloader_ips.len() as u64,
            top_downloads: by_downloads
                .into_iter()
                .take(TOP)
                .map(|(key, id, k)| TopDownload {
                    key: key.to_string(),
                    downloads: k.downloads,
                    download_sessions: sessions[id as usize],
                    whole_object_equivalents: from_micros(k.woe_micros),
                    bytes_sent: k.bytes_sent,
                })
                .collect(),
            top_countries: top_of(&s.downloads_by_country, TOP),
            top_referrers: top_of(&s.referrers, TOP),
        }
    }
}

/// The `q`-quantile (nearest rank) of `values`, which it reorders.
fn percentile(values: &mut [u32], q: f64) -> Option<u32> {
    if values.is_empty() {
        return None;
    }
    let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len()) - 1;
    Some(*values.select_nth_unstable(rank).1)
}

/// What the report needs besides the counts.
pub struct Context<'a> {
    pub period: &'a Period,
    pub generated_at: DateTime<Utc>,
    pub prices: &'a pricing::Prices,
    pub athena_scan_usd: f64,
    /// Malformed lines the engine reported: the embedded engine counts them
    /// while parsing; Athena returns them as rows without a time, which the
    /// tally counts.
    pub engine_malformed_lines: Option<u64>,
}

impl Report {
    pub fn build(mut t: Tally, ctx: &Context) -> Self {
        let sessions = t.sessions.by_key(t.keys.len());
        let mut sections: Vec<(Option<&str>, Scope)> = t
            .section_names
            .iter()
            .zip(std::mem::take(&mut t.sections))
            .map(|((_, p), s)| (Some(p), s))
            .collect();
        if t.bucket_operations.requests > 0 {
            sections.push((None, std::mem::take(&mut t.bucket_operations)));
        }
        sections
            .sort_unstable_by(|a, b| b.1.requests.cmp(&a.1.requests).then_with(|| a.0.cmp(&b.0)));
        let sections_omitted = sections.len().saturating_sub(MAX_SECTIONS);
        let cost_by_prefix = pricing::dearest(
            sections.iter().map(|(prefix, scope)| {
                let name = match prefix {
                    Some("") => "(bucket root)",
                    Some(p) => p,
                    None => "(bucket operations)",
                };
                (name, &scope.spend)
            }),
            ctx.prices,
            TOP_COST,
        );
        let sections = sections
            .iter()
            .take(MAX_SECTIONS)
            .map(|(prefix, scope)| Section {
                prefix: prefix.map(str::to_string),
                metrics: Metrics::of(scope, &sessions, &t.keys),
            })
            .collect();
        let daily = ctx
            .period
            .start
            .iter_days()
            .take(ctx.period.days as usize)
            .map(|date| {
                let day = date
                    .signed_duration_since(DateTime::UNIX_EPOCH.date_naive())
                    .num_days();
                let (requests, bytes_sent, clients) = t
                    .days
                    .get(&day)
                    .map_or((0, 0, 0), |d| (d.requests, d.bytes_sent, d.clients.len()));
                DailyCount {
                    date,
                    requests,
                    bytes_sent,
                    distinct_clients: clients as u64,
                }
            })
            .collect();
        let mut operations = top(
            t.operations.iter().map(|(k, o)| (k.as_ref(), o.requests)),
            usize::MAX,
        );
        operations.retain(|o| o.count > 0);
        let requests = t.overall.requests;
        let cost = pricing::estimate(
            ctx.prices,
            &t.overall.spend,
            ctx.athena_scan_usd,
            Destinations::ranges_date(),
        );
        let cost_by_requester = pricing::dearest(
            t.requesters
                .iter()
                .map(|(name, spend)| (name.as_ref(), spend))
                .chain([(ANONYMOUS, &t.anonymous)]),
            ctx.prices,
            TOP_COST,
        );
        let top_requesters = top(
            t.requesters.iter().map(|(k, s)| (k.as_ref(), s.requests())),
            TOP,
        );
        let top_requesters_by_bytes = top(
            t.requesters
                .iter()
                .map(|(k, s)| (k.as_ref(), s.bytes_sent))
                .chain([(ANONYMOUS, t.anonymous.bytes_sent)])
                .filter(|(_, b)| *b > 0),
            TOP,
        );
        let bytes_sent = t.overall.spend.bytes_sent;
        let top_clients_by_bytes = top(
            t.ips
                .iter()
                .zip(&t.clients)
                .map(|((_, ip), c)| (ip, c.bytes_sent))
                .filter(|(_, b)| *b > 0),
            usize::MAX,
        );
        let top_bytes = |n: usize| top_clients_by_bytes.iter().take(n).map(|c| c.count).sum();
        let concentration = Concentration {
            top1_ip_share_of_bytes: share(top_bytes(1), bytes_sent),
            top10_ip_share_of_bytes: share(top_bytes(10), bytes_sent),
        };
        let top_clients_by_bytes = top_clients_by_bytes.into_iter().take(TOP).collect();
        let top_objects_by_bytes = top(
            t.overall
                .downloads_by_key
                .iter()
                .map(|(&k, s)| (t.keys.name(k), s.bytes_sent))
                .filter(|(_, b)| *b > 0),
            TOP,
        );
        let a = t.automated;
        let automated = Automated {
            requests: a.requests,
            downloads: a.downloads,
            downloaded_bytes: a.downloaded_bytes,
            bytes_sent: a.bytes_sent,
            share_of_requests: share(a.requests, requests),
            share_of_downloads: share(a.downloads, t.overall.downloads),
            share_of_bytes_sent: share(a.bytes_sent, bytes_sent),
            rule: automated::RULE_SOURCE.to_string(),
        };
        let s = &t.signals;
        let security = Security {
            sig_v2_requests: s.sigv2,
            tls_below_1_2_requests: s.tls_below_1_2,
            anonymous_writes: s.anonymous_writes,
            acl_required_requests: s.acl_required,
            forbidden_403: s.forbidden,
        };
        let mut buckets: Vec<&str> = t.buckets.keys().map(AsRef::as_ref).collect();
        buckets.sort_unstable();
        let millis = |ms: Option<i64>| ms.and_then(DateTime::from_timestamp_millis);
        let mut report = Report {
            schema_version: SCHEMA_VERSION,
            period: PeriodInfo {
                label: ctx.period.label.clone(),
                start: ctx.period.start,
                end: ctx.period.end,
                days: ctx.period.days,
            },
            buckets: buckets.into_iter().map(str::to_string).collect(),
            generated_at: ctx.generated_at,
            first_request: millis(t.first_ms),
            last_request: millis(t.last_ms),
            overall: Metrics::of(&t.overall, &sessions, &t.keys),
            sections,
            sections_omitted,
            daily,
            operations,
            status_classes: ["1xx", "2xx", "3xx", "4xx", "5xx", "other"]
                .iter()
                .zip(t.status_classes)
                .filter(|(_, n)| *n > 0)
                .map(|(name, count)| Named {
                    name: name.to_string(),
                    count,
                })
                .collect(),
            lifecycle_actions: t.lifecycle_actions,
            top_error_codes: top_of(&t.error_codes, TOP),
            top_requesters,
            automated,
            top_user_agents: top(
                t.user_agents
                    .iter()
                    .map(|(ua, a)| (ua.as_ref(), a.requests)),
                TOP_COST,
            ),
            concentration,
            top_clients_by_bytes,
            top_objects_by_bytes,
            top_requesters_by_bytes,
            cost_by_requester,
            cost_by_prefix,
            trend: Vec::new(),
            anonymous_share: share(t.anonymous.requests(), requests),
            download_time_ms: Percentiles {
                p50: percentile(&mut t.download_times, 0.50),
                p95: percentile(&mut t.download_times, 0.95),
            },
            cost,
            security,
            malformed_lines: ctx.engine_malformed_lines.unwrap_or(0) + t.unreadable_time,
            geo_database: t.countries().source().map(str::to_string),
            change: None,
        };
        report.trend = vec![TrendPoint::of(&report)];
        report
    }

    /// Adds the comparison with the previous period's report.
    pub fn compare_with(&mut self, previous: &Report) {
        self.change = Some(Change::between(previous, self));
    }

    /// The headline figures, first in the HTML and the text alike, each with
    /// its change against the previous period when there is one and, where
    /// crawlers and other automated clients count, the figure without them.
    pub fn headline(&self) -> Vec<Tile<'_>> {
        use format::{bytes, count, share, usd};
        let (o, c, a) = (&self.overall, self.change.as_ref(), &self.automated);
        let tile = |label, value, delta, human| Tile {
            label,
            value,
            delta,
            human,
        };
        vec![
            tile(
                "Requests",
                count(o.requests),
                c.map(|c| &c.requests),
                Some(count(o.requests.saturating_sub(a.requests))),
            ),
            tile(
                "Downloads",
                count(o.downloads),
                c.map(|c| &c.downloads),
                Some(count(o.downloads.saturating_sub(a.downloads))),
            ),
            tile(
                "Download sessions",
                count(o.download_sessions),
                c.and_then(|c| c.download_sessions.as_ref()),
                None,
            ),
            tile(
                "Downloaded",
                bytes(o.downloaded_bytes),
                c.map(|c| &c.downloaded_bytes),
                Some(bytes(o.downloaded_bytes.saturating_sub(a.downloaded_bytes))),
            ),
            tile(
                "Whole-object equivalents",
                format!("{:.1}", o.whole_object_equivalents),
                None,
                None,
            ),
            tile(
                "Unique IPs",
                count(o.unique_ips),
                c.map(|c| &c.unique_ips),
                None,
            ),
            tile("Uploads", count(o.uploads), c.map(|c| &c.uploads), None),
            tile("Automated requests", share(a.share_of_requests), None, None),
            tile("Est. cost", usd(self.cost.total_usd), None, None),
        ]
    }

    /// The top objects by bytes sent, their keys decoded for people (the
    /// HTML and the text show the same list).
    pub fn top_objects_by_bytes_decoded(&self) -> Vec<Named> {
        self.top_objects_by_bytes
            .iter()
            .map(|n| Named {
                name: format::decoded_key(&n.name).into_owned(),
                count: n.count,
            })
            .collect()
    }

    pub fn security_rows(&self) -> [(&'static str, u64); 5] {
        let s = &self.security;
        [
            ("Signature Version 2 requests", s.sig_v2_requests),
            ("TLS older than 1.2", s.tls_below_1_2_requests),
            ("Anonymous writes that succeeded", s.anonymous_writes),
            ("Requests that needed an ACL", s.acl_required_requests),
            ("403 Forbidden responses", s.forbidden_403),
        ]
    }

    /// Named counts as a map (for tests and templates).
    pub fn map(list: &[Named]) -> HashMap<&str, u64> {
        list.iter().map(|n| (n.name.as_str(), n.count)).collect()
    }
}

#[cfg(test)]
mod tests;

/// Where the results are, for the report's "your data" block.
pub struct Downloads<'a> {
    pub parquet: &'a str,
    pub csv_gz: &'a str,
    /// A link a recipient can open, when there is one.
    pub link: Option<Link>,
}

/// A link to the csv.gz and how long it works.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Link {
    pub url: String,
    /// When the link stops working; `None` when it does not expire.
    pub expires: Option<DateTime<Utc>>,
    pub kind: LinkKind,
}

/// What a link is, which decides how long it can work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum LinkKind {
    /// A SigV4 presigned S3 GET: at most 7 days, and no longer than the
    /// credentials that signed it.
    PresignedS3,
    /// A CloudFront signed URL (canned policy): as long as its policy says.
    CloudFront,
    /// A local file's path (`s3la run`): no signature, no expiry.
    LocalFile,
}

impl LinkKind {
    /// How the email names the link.
    pub fn describe(self) -> &'static str {
        match self {
            LinkKind::PresignedS3 => "presigned S3 link",
            LinkKind::CloudFront => "CloudFront signed link",
            LinkKind::LocalFile => "local file link",
        }
    }
}

impl Link {
    /// The sentence under the link: which kind it is and until when it works.
    pub fn validity(&self) -> String {
        match self.expires {
            Some(t) => format!(
                "This {} works until {}.",
                self.kind.describe(),
                t.format("%Y-%m-%d %H:%M UTC")
            ),
            None => "This link does not expire.".into(),
        }
    }
}

/// `S3 usage of <bucket>: 2024-01 (2024-01-01 to 2024-01-31)`.
pub fn title(report: &Report) -> String {
    let bucket = match report.buckets.as_slice() {
        [] => "your bucket".to_string(),
        [one] => one.clone(),
        [first, rest @ ..] => format!("{first} and {} more", rest.len()),
    };
    format!("S3 usage of {bucket}: {}", period_words(report))
}

/// The period as people read it: `2024-01 (2024-01-01 to 2024-01-31)`, or
/// only the dates when the label is made of them (a custom date range).
pub fn period_words(report: &Report) -> String {
    let p = &report.period;
    if p.label == format!("{}_{}", p.start, p.end) || p.label == p.start.to_string() {
        format!("{} to {}", p.start, p.end)
    } else {
        format!("{} ({} to {})", p.label, p.start, p.end)
    }
}

/// True when most bytes went to CloudFront: the client IPs and countries
/// are then CloudFront's edge servers, not the viewers.
pub fn mostly_cloudfront(report: &Report) -> bool {
    report.cost.cloudfront_bytes * 2 > report.cost.bytes_sent
}
