//! The report's counting, one row at a time: what MergeResults does to
//! every row it writes, so the report costs no second pass over the data.
//!
//! [`Scope`] holds the original tool's metrics for one scope (the whole
//! bucket, or one top-level prefix); [`Tally`] holds the overall scope, the
//! sections, and what only the whole bucket gets (per day, per operation,
//! errors, requesters, timings, security signals).

use std::borrow::Cow;
use std::collections::HashMap;

use arrow_array::{Array, BooleanArray, RecordBatch};
use arrow_schema::ArrowError;
use arrow_select::filter::filter_record_batch;

use std::sync::Arc;

use super::automated::is_automated;
use super::columns::{Columns, Time, top_level_prefix};
use super::destinations::{CLOUDFRONT_USER_AGENT, Destination, Destinations};
use super::geo::{Countries, CountryCode};
use super::names::{Id, IdSet, Names, remapped};
use super::sessions::{NO_IP, Sessions};
use crate::results::observer::MergeObserver;
use serde::{Deserialize, Serialize};

type Fast = foldhash::fast::RandomState;
pub(crate) type Counter = HashMap<Box<str>, u64, Fast>;

/// Increments `map[key]`, allocating the key only the first time.
pub(crate) fn bump(map: &mut Counter, key: &str, by: u64) {
    match map.get_mut(key) {
        Some(n) => *n += by,
        None => {
            map.insert(key.into(), by);
        }
    }
}

/// Adds `from`'s counts into `into`.
fn add_counts<K: std::hash::Hash + Eq>(
    into: &mut HashMap<K, u64, Fast>,
    from: HashMap<K, u64, Fast>,
) {
    for (key, n) in from {
        *into.entry(key).or_default() += n;
    }
}

/// The parts of an operation name: `REST.GET.OBJECT` is a `GET`.
pub fn method(operation: &str) -> &str {
    operation.split('.').nth(1).unwrap_or("")
}

/// A download: an object GET (REST or website endpoint) answered 200 or 206.
pub fn is_download(operation: Option<&str>, status: Option<i64>) -> bool {
    operation.is_some_and(is_object_get) && delivered(status)
}

fn is_object_get(operation: &str) -> bool {
    matches!(operation, "REST.GET.OBJECT" | "WEBSITE.GET.OBJECT")
}

/// The object's bytes went out, whole or in part.
fn delivered(status: Option<i64>) -> bool {
    matches!(status, Some(200 | 206))
}

/// Operations that store an object's bytes (multipart parts included).
const UPLOAD_BYTES_OPS: [&str; 3] = ["REST.PUT.OBJECT", "REST.POST.OBJECT", "REST.PUT.PART"];
/// Operations after which a key holds a new object.
const UPLOAD_KEY_OPS: [&str; 4] = [
    "REST.PUT.OBJECT",
    "REST.POST.OBJECT",
    "REST.POST.UPLOAD",
    "REST.COPY.OBJECT",
];

fn is_write(operation: &str) -> bool {
    matches!(method(operation), "PUT" | "POST" | "DELETE")
}

/// The host of a referrer URL, lower-cased: `https://Www.Example.com:8443/a` is
/// `www.example.com`.
pub fn referrer_host(referrer: &str) -> Option<Cow<'_, str>> {
    let rest = referrer
        .split_once("://")
        .map_or(referrer, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let host_port = authority.rsplit('@').next().unwrap_or("");
    let host = if host_port.starts_with('[') {
        host_port.split(']').next().map(|h| &h[1..]).unwrap_or("")
    } else {
        host_port.split(':').next().unwrap_or("")
    };
    if host.is_empty() {
        None
    } else if host.bytes().any(|b| b.is_ascii_uppercase()) {
        Some(Cow::Owned(host.to_ascii_lowercase()))
    } else {
        // Most referrers are lower case already: no allocation per request.
        Some(Cow::Borrowed(host))
    }
}

/// Downloads of one key.
#[derive(Default, Clone, Copy, Serialize, Deserialize)]
pub struct KeyStats {
    pub downloads: u64,
    pub bytes_sent: u64,
    /// Whole-object equivalents in millionths (see [`woe_micros`]).
    pub woe_micros: u64,
}

impl KeyStats {
    fn absorb(&mut self, other: KeyStats) {
        self.downloads += other.downloads;
        self.bytes_sent += other.bytes_sent;
        self.woe_micros += other.woe_micros;
    }
}

/// The share of an object one download sent (`bytes_sent / object_size`),
/// in millionths: integers add up the same in any order and on any worker,
/// where floating-point sums would differ in their last digits.
pub fn woe_micros(bytes_sent: i64, object_size: i64) -> u64 {
    if object_size <= 0 || bytes_sent <= 0 {
        return 0;
    }
    let (sent, size) = (bytes_sent as u128, object_size as u128);
    u64::try_from((sent * 1_000_000 + size / 2) / size).unwrap_or(u64::MAX)
}

/// What a set of requests would cost: requests at each price tier and bytes
/// sent by destination.
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spend {
    /// PUT, COPY, POST and LIST requests (the dearer tier).
    pub write_and_list: u64,
    /// GET, HEAD and every other request but DELETE (the cheaper tier).
    pub read_and_other: u64,
    /// DELETE and CANCEL requests (free).
    pub free: u64,
    /// Lifecycle actions S3 took itself (S3.EXPIRE.OBJECT, transitions):
    /// not request charges.
    pub lifecycle: u64,
    pub bytes_sent: u64,
    pub internet_bytes: u64,
    pub cloudfront_bytes: u64,
    pub same_region_bytes: u64,
}

impl Spend {
    fn add(&mut self, price: Option<Price>, bytes_sent: u64, destination: Destination) {
        match price {
            Some(Price::Free) => self.free += 1,
            Some(Price::WriteAndList) => self.write_and_list += 1,
            Some(Price::ReadAndOther) => self.read_and_other += 1,
            None => self.lifecycle += 1,
        }
        self.bytes_sent += bytes_sent;
        match destination {
            Destination::Internet => self.internet_bytes += bytes_sent,
            Destination::CloudFront => self.cloudfront_bytes += bytes_sent,
            Destination::SameRegion => self.same_region_bytes += bytes_sent,
        }
    }

    fn absorb(&mut self, o: Spend) {
        self.write_and_list += o.write_and_list;
        self.read_and_other += o.read_and_other;
        self.free += o.free;
        self.lifecycle += o.lifecycle;
        self.bytes_sent += o.bytes_sent;
        self.internet_bytes += o.internet_bytes;
        self.cloudfront_bytes += o.cloudfront_bytes;
        self.same_region_bytes += o.same_region_bytes;
    }

    pub fn requests(&self) -> u64 {
        self.write_and_list + self.read_and_other + self.free + self.lifecycle
    }
}

/// The original tool's metrics for one scope, and what it cost. IPs and
/// keys are by the numbers their [`Tally`] gives them.
#[derive(Default, Serialize, Deserialize)]
pub struct Scope {
    pub requests: u64,
    pub interactions: u64,
    pub downloads: u64,
    pub downloaded_bytes: u64,
    pub uploaded_bytes: u64,
    pub ips: IdSet,
    pub downloader_ips: IdSet,
    pub downloads_by_key: HashMap<Id, KeyStats, Fast>,
    pub uploaded_keys: IdSet,
    pub downloads_by_country: Counter,
    pub referrers: Counter,
    /// Whole-object equivalents of the downloads, in millionths.
    pub woe_micros: u64,
    pub spend: Spend,
}

/// What an operation name says, worked out once per distinct name rather
/// than on every row (the substring tests alone were a quarter of the
/// counting).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct OpClass {
    write: bool,
    object_get: bool,
    upload_bytes: bool,
    upload_key: bool,
    /// `None`: lifecycle actions (S3.*), which are not request charges.
    price: Option<Price>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Price {
    Free,
    WriteAndList,
    ReadAndOther,
}

impl OpClass {
    fn of(op: &str) -> Self {
        let m = method(op);
        let price = if op.starts_with("S3.") {
            None
        } else if matches!(m, "DELETE") || op.contains("ABORT") {
            Some(Price::Free)
        } else if matches!(m, "PUT" | "POST" | "COPY")
            || op == "REST.GET.BUCKET"
            || op.contains("LIST")
        {
            Some(Price::WriteAndList)
        } else {
            Some(Price::ReadAndOther)
        };
        Self {
            write: is_write(op),
            object_get: is_object_get(op),
            upload_bytes: UPLOAD_BYTES_OPS.contains(&op),
            upload_key: UPLOAD_KEY_OPS.contains(&op),
            price,
        }
    }
}

/// Requests of one operation.
pub struct Operation {
    pub requests: u64,
    class: OpClass,
}

/// One row's values the scopes need, read once.
struct Row<'a> {
    class: OpClass,
    key: Option<Id>,
    ip: Option<Id>,
    status: Option<i64>,
    bytes_sent: u64,
    object_size: i64,
    referrer_host: Option<Cow<'a, str>>,
    download: bool,
    /// The download's whole-object equivalent, in millionths.
    woe_micros: u64,
    destination: Destination,
    country: Option<CountryCode>,
}

impl Scope {
    /// Adds what `other` counted over other rows: every figure is a sum or a
    /// set, so two scopes of disjoint rows make the scope of all of them.
    /// `keys` and `ips` take `other`'s numbers (the index) to ours.
    fn absorb(&mut self, other: Scope, keys: &[Id], ips: &[Id]) {
        self.requests += other.requests;
        self.interactions += other.interactions;
        self.downloads += other.downloads;
        self.downloaded_bytes += other.downloaded_bytes;
        self.uploaded_bytes += other.uploaded_bytes;
        self.ips.extend(remapped(other.ips, ips));
        self.downloader_ips
            .extend(remapped(other.downloader_ips, ips));
        for (key, theirs) in other.downloads_by_key {
            self.downloads_by_key
                .entry(keys[key as usize])
                .or_default()
                .absorb(theirs);
        }
        self.woe_micros += other.woe_micros;
        self.spend.absorb(other.spend);
        self.uploaded_keys
            .extend(remapped(other.uploaded_keys, keys));
        add_counts(&mut self.downloads_by_country, other.downloads_by_country);
        add_counts(&mut self.referrers, other.referrers);
    }

    fn add(&mut self, r: &Row) {
        self.requests += 1;
        if !r.class.write {
            self.interactions += 1;
        }
        if let Some(ip) = r.ip {
            self.ips.insert(ip);
        }
        self.spend.add(r.class.price, r.bytes_sent, r.destination);
        if r.download {
            self.downloads += 1;
            self.downloaded_bytes += r.bytes_sent;
            self.woe_micros += r.woe_micros;
            if let Some(key) = r.key {
                let this = KeyStats {
                    downloads: 1,
                    bytes_sent: r.bytes_sent,
                    woe_micros: r.woe_micros,
                };
                self.downloads_by_key.entry(key).or_default().absorb(this);
            }
            if let Some(ip) = r.ip {
                self.downloader_ips.insert(ip);
            }
            let country = r.country.as_ref().map(CountryCode::as_str);
            bump(
                &mut self.downloads_by_country,
                country.unwrap_or(super::UNKNOWN_COUNTRY),
                1,
            );
        }
        let ok = r.status.is_some_and(|s| (200..300).contains(&s));
        if ok {
            if r.class.upload_bytes {
                self.uploaded_bytes += r.object_size.max(0) as u64;
            }
            if let (true, Some(key)) = (r.class.upload_key, r.key) {
                self.uploaded_keys.insert(key);
            }
        }
        if let Some(host) = &r.referrer_host {
            bump(&mut self.referrers, host, 1);
        }
    }
}

/// Requests, bytes sent and distinct clients on one UTC day.
#[derive(Default, Serialize, Deserialize)]
pub struct Day {
    pub requests: u64,
    pub bytes_sent: u64,
    pub clients: IdSet,
}

/// One remote IP, its address classified once rather than on every request.
#[derive(Clone, Copy, Serialize, Deserialize)]
pub struct Client {
    pub bytes_sent: u64,
    destination: Destination,
    /// Looked up at its first download (`None` until then); a cache, not
    /// counted, so a partial tally leaves it out.
    #[serde(skip)]
    country: Option<Option<CountryCode>>,
}

/// One user agent, classified once rather than on every request.
#[derive(Clone, Copy, Serialize, Deserialize)]
pub struct Agent {
    pub requests: u64,
    automated: bool,
}

/// What crawlers and other automated clients did (see [`super::automated`]).
#[derive(Default, Clone, Copy, Serialize, Deserialize)]
pub struct AutomatedCounts {
    pub requests: u64,
    pub downloads: u64,
    pub downloaded_bytes: u64,
    pub bytes_sent: u64,
}

/// Security-relevant counts.
#[derive(Default, Serialize, Deserialize)]
pub struct Signals {
    pub sigv2: u64,
    pub tls_below_1_2: u64,
    pub anonymous_writes: u64,
    pub acl_required: u64,
    pub forbidden: u64,
}

/// Everything counted over a run's rows. It serializes as a partial
/// ([`Tally::to_partial`]): what a shard of a sharded merge counted, for the
/// assembly to add up with [`Tally::absorb`].
#[derive(Serialize, Deserialize)]
pub struct Tally {
    window_ms: (i64, i64),
    pub overall: Scope,
    /// Top-level prefixes (`""`: keys at the bucket's root), numbered.
    pub section_names: Names,
    /// Each section's scope, by its number in `section_names`.
    pub sections: Vec<Scope>,
    /// The keys of the counted rows, numbered.
    pub keys: Names,
    /// Each key's section, by the key's number.
    key_sections: Vec<Id>,
    /// Requests without a key (bucket-level operations).
    pub bucket_operations: Scope,
    pub days: HashMap<i64, Day, Fast>,
    /// By operation name (`-` where the log has none).
    #[serde(with = "operation_counts")]
    pub operations: HashMap<Box<str>, Operation, Fast>,
    /// `1xx` to `5xx`, then anything else.
    pub status_classes: [u64; 6],
    /// Lifecycle actions (S3.*): no HTTP status, not requests anyone made.
    pub lifecycle_actions: u64,
    pub error_codes: Counter,
    /// What each IAM principal's requests cost.
    pub requesters: HashMap<Box<str>, Spend, Fast>,
    /// What the requests without credentials cost.
    pub anonymous: Spend,
    pub buckets: Counter,
    /// Total time (ms) of each download, for percentiles.
    pub download_times: Vec<u32>,
    pub signals: Signals,
    pub first_ms: Option<i64>,
    pub last_ms: Option<i64>,
    /// Rows without a readable request time (malformed lines).
    pub unreadable_time: u64,
    /// Rows whose time lies outside the period (none, when the query did its job).
    pub outside_period: u64,
    /// Download sessions of every (key, remote IP) pair.
    pub sessions: Sessions,
    /// The remote IPs of the counted rows, numbered.
    pub ips: Names,
    /// Each remote IP by its number: bytes sent to it, and where they went
    /// by its address.
    pub clients: Vec<Client>,
    /// Each user agent: its requests, and whether it is automated.
    pub user_agents: HashMap<Box<str>, Agent, Fast>,
    pub automated: AutomatedCounts,
    /// The run's settings, not its counts: given again when a partial is read.
    #[serde(skip)]
    destinations: Arc<Destinations>,
    #[serde(skip)]
    countries: Countries,
}

/// A partial tally's operations: each name's requests (what an operation
/// name says is worked out again from the name).
mod operation_counts {
    use super::{Fast, HashMap, OpClass, Operation};
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<S: Serializer>(
        ops: &HashMap<Box<str>, Operation, Fast>,
        to: S,
    ) -> Result<S::Ok, S::Error> {
        let counts: HashMap<&str, u64, Fast> = ops
            .iter()
            .map(|(name, op)| (&**name, op.requests))
            .collect();
        counts.serialize(to)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        from: D,
    ) -> Result<HashMap<Box<str>, Operation, Fast>, D::Error> {
        let counts = HashMap::<Box<str>, u64, Fast>::deserialize(from)?;
        Ok(counts
            .into_iter()
            .map(|(name, requests)| {
                let class = OpClass::of(&name);
                (name, Operation { requests, class })
            })
            .collect())
    }
}

const DAY_MS: i64 = 86_400_000;

/// The number of `key`'s section (its top-level prefix).
fn section_of(names: &mut Names, scopes: &mut Vec<Scope>, key: &str) -> Id {
    section_number(
        names,
        scopes,
        top_level_prefix(Some(key)).unwrap_or_default(),
    )
}

/// The number of section `prefix`, with an empty scope the first time.
fn section_number(names: &mut Names, scopes: &mut Vec<Scope>, prefix: &str) -> Id {
    let (id, new) = names.id_new(prefix);
    if new {
        scopes.push(Scope::default());
    }
    id
}

/// `pick` of two optional values (their minimum or maximum), or the one that is there.
fn combined(a: Option<i64>, b: Option<i64>, pick: fn(i64, i64) -> i64) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(pick(a, b)),
        (a, b) => a.or(b),
    }
}

/// The report counts every row MergeResults merges, as it is merged.
impl MergeObserver for Tally {
    fn batch(&mut self, batch: &RecordBatch) {
        self.add_batch(batch);
    }
}

/// `batch` without the rows whose request time cannot be read, for the
/// merge to write: Athena returns each log line its table cannot read as
/// such a row (the query asks for them), which the tally counts as a
/// malformed line and not as a request of the period.
pub fn with_readable_time(batch: RecordBatch) -> Result<RecordBatch, ArrowError> {
    let time = Columns::new(&batch).time;
    if let Time::Millis(t) = &time
        && t.null_count() == 0
    {
        return Ok(batch);
    }
    if matches!(time, Time::Missing) {
        return Ok(batch);
    }
    let keep: BooleanArray = (0..batch.num_rows())
        .map(|i| Some(time.get(i).is_some()))
        .collect();
    if keep.true_count() == batch.num_rows() {
        return Ok(batch);
    }
    filter_record_batch(&batch, &keep)
}

impl Tally {
    /// Counts rows whose request time lies in `[start_ms, end_ms)`, for a
    /// bucket whose transfers are classified by `destinations`.
    pub fn new(
        start_ms: i64,
        end_ms: i64,
        countries: Countries,
        destinations: Arc<Destinations>,
    ) -> Self {
        Self {
            window_ms: (start_ms, end_ms),
            overall: Scope::default(),
            section_names: Names::default(),
            sections: Vec::new(),
            keys: Names::default(),
            key_sections: Vec::new(),
            bucket_operations: Scope::default(),
            days: HashMap::default(),
            operations: HashMap::default(),
            status_classes: [0; 6],
            lifecycle_actions: 0,
            error_codes: Counter::default(),
            requesters: HashMap::default(),
            anonymous: Spend::default(),
            buckets: Counter::default(),
            download_times: Vec::new(),
            signals: Signals::default(),
            first_ms: None,
            last_ms: None,
            unreadable_time: 0,
            outside_period: 0,
            sessions: Sessions::default(),
            ips: Names::default(),
            clients: Vec::new(),
            user_agents: HashMap::default(),
            automated: AutomatedCounts::default(),
            destinations,
            countries,
        }
    }

    /// What this tally counted, for another process to add up: gzip'd JSON.
    /// Distinct IPs, keys and download sessions travel whole (as names and
    /// intervals), so the sum of partials is exactly the tally of all rows.
    pub fn to_partial(&self) -> Result<Vec<u8>, std::io::Error> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        serde_json::to_writer(&mut gz, self)?;
        gz.finish()
    }

    /// A partial written by [`Tally::to_partial`], with this run's settings.
    pub fn from_partial(
        bytes: &[u8],
        countries: Countries,
        destinations: Arc<Destinations>,
    ) -> Result<Self, String> {
        let json = flate2::read::GzDecoder::new(bytes);
        let mut tally: Tally = serde_json::from_reader(std::io::BufReader::new(json))
            .map_err(|e| format!("not a partial tally: {e}"))?;
        if tally.key_sections.len() != tally.keys.len()
            || tally.clients.len() != tally.ips.len()
            || tally.sections.len() != tally.section_names.len()
        {
            return Err("not a partial tally: its numbered names and their counts differ".into());
        }
        tally.countries = countries;
        tally.destinations = destinations;
        Ok(tally)
    }

    /// The period's `[start, end)` in milliseconds, which partials of one
    /// run share.
    pub fn window_ms(&self) -> (i64, i64) {
        self.window_ms
    }

    pub fn destinations(&self) -> &Destinations {
        &self.destinations
    }

    pub fn countries(&self) -> &Countries {
        &self.countries
    }

    /// Adds what `other` (a tally of the same period) counted over other
    /// rows. The result is exactly the tally of both sets of rows: counts
    /// add, distinct values are kept as sets and united (so distinct counts
    /// stay exact), the first and last times are a minimum and a maximum,
    /// and the download times are a multiset whose percentiles do not
    /// depend on order.
    pub fn absorb(&mut self, other: Tally) {
        debug_assert_eq!(self.window_ms, other.window_ms);
        let ips = self.ips.absorb(other.ips);
        for (&mine, theirs) in ips.iter().zip(other.clients) {
            match self.clients.get_mut(mine as usize) {
                Some(c) => {
                    c.bytes_sent += theirs.bytes_sent;
                    c.country = c.country.or(theirs.country);
                }
                // Numbers are given in order: a name new here is the next.
                None => self.clients.push(theirs),
            }
        }
        let keys = self.keys.absorb(other.keys);
        for id in self.key_sections.len()..self.keys.len() {
            let key = self.keys.name(id as Id);
            let section = section_of(&mut self.section_names, &mut self.sections, key);
            self.key_sections.push(section);
        }
        self.overall.absorb(other.overall, &keys, &ips);
        for ((_, prefix), scope) in other.section_names.iter().zip(other.sections) {
            let section = section_number(&mut self.section_names, &mut self.sections, prefix);
            self.sections[section as usize].absorb(scope, &keys, &ips);
        }
        self.bucket_operations
            .absorb(other.bucket_operations, &keys, &ips);
        for (day, theirs) in other.days {
            let mine = self.days.entry(day).or_default();
            mine.requests += theirs.requests;
            mine.bytes_sent += theirs.bytes_sent;
            mine.clients.extend(remapped(theirs.clients, &ips));
        }
        for (name, theirs) in other.operations {
            match self.operations.get_mut(&name) {
                Some(mine) => mine.requests += theirs.requests,
                None => {
                    self.operations.insert(name, theirs);
                }
            }
        }
        for (mine, theirs) in self.status_classes.iter_mut().zip(other.status_classes) {
            *mine += theirs;
        }
        self.lifecycle_actions += other.lifecycle_actions;
        add_counts(&mut self.error_codes, other.error_codes);
        for (requester, theirs) in other.requesters {
            self.requesters.entry(requester).or_default().absorb(theirs);
        }
        self.anonymous.absorb(other.anonymous);
        add_counts(&mut self.buckets, other.buckets);
        self.download_times.extend(other.download_times);
        let (s, theirs) = (&mut self.signals, other.signals);
        s.sigv2 += theirs.sigv2;
        s.tls_below_1_2 += theirs.tls_below_1_2;
        s.anonymous_writes += theirs.anonymous_writes;
        s.acl_required += theirs.acl_required;
        s.forbidden += theirs.forbidden;
        self.first_ms = combined(self.first_ms, other.first_ms, i64::min);
        self.last_ms = combined(self.last_ms, other.last_ms, i64::max);
        self.unreadable_time += other.unreadable_time;
        self.outside_period += other.outside_period;
        self.sessions.absorb(other.sessions, &keys, &ips);
        for (ua, theirs) in other.user_agents {
            self.user_agents
                .entry(ua)
                .and_modify(|mine| mine.requests += theirs.requests)
                .or_insert(theirs);
        }
        let (a, theirs) = (&mut self.automated, other.automated);
        a.requests += theirs.requests;
        a.downloads += theirs.downloads;
        a.downloaded_bytes += theirs.downloaded_bytes;
        a.bytes_sent += theirs.bytes_sent;
    }

    pub fn add_batch(&mut self, batch: &RecordBatch) {
        let c = Columns::new(batch);
        for i in 0..batch.num_rows() {
            self.add_row(&c, i);
        }
    }

    fn add_row(&mut self, c: &Columns, i: usize) {
        let Some(time) = c.time.get(i) else {
            self.unreadable_time += 1;
            return;
        };
        if time < self.window_ms.0 || time >= self.window_ms.1 {
            self.outside_period += 1;
            return;
        }
        self.first_ms = Some(self.first_ms.map_or(time, |t| t.min(time)));
        self.last_ms = Some(self.last_ms.map_or(time, |t| t.max(time)));

        let operation = c.operation.get(i);
        let class = self.count_operation(operation.unwrap_or("-"));
        let status = c.http_status.get(i);
        let ip = c.remote_ip.get(i).map(|ip| self.client_id(ip));
        let (key, section) = match c.key.get(i) {
            Some(k) => {
                let (key, section) = self.key_id(k);
                (Some(key), Some(section))
            }
            None => (None, None),
        };
        let user_agent = c.user_agent.get(i);
        let bytes_sent = c.bytes_sent.get(i).unwrap_or(0).max(0) as u64;
        let object_size = c.object_size.get(i).unwrap_or(0);
        let download = class.object_get && delivered(status);
        let country = match (download, ip) {
            (true, Some(ip)) => self.country(ip),
            _ => None,
        };
        let destination = self.destination(ip, user_agent, bytes_sent);
        let automated = self.agent(user_agent);
        let row = Row {
            class,
            key,
            ip,
            status,
            bytes_sent,
            object_size,
            referrer_host: c.referrer.get(i).and_then(referrer_host),
            download,
            woe_micros: if download {
                woe_micros(bytes_sent as i64, object_size)
            } else {
                0
            },
            destination,
            country,
        };
        self.overall.add(&row);
        match section {
            Some(s) => self.sections[s as usize].add(&row),
            None => self.bucket_operations.add(&row),
        }
        // A download without a key is in no key's figures.
        if download && let Some(key) = key {
            self.sessions.add(key, ip.unwrap_or(NO_IP), time);
        }

        let day = self.days.entry(time.div_euclid(DAY_MS)).or_default();
        day.requests += 1;
        day.bytes_sent += bytes_sent;
        if let Some(ip) = ip {
            day.clients.insert(ip);
        }
        if class.price.is_none() {
            // S3's own lifecycle actions have no status: not "other" responses.
            self.lifecycle_actions += 1;
        } else {
            let status_class = match status {
                Some(s @ 100..=599) => (s / 100 - 1) as usize,
                _ => 5,
            };
            self.status_classes[status_class] += 1;
        }
        if let Some(code) = c.error_code.get(i) {
            bump(&mut self.error_codes, code, 1);
        }
        let requester = c.requester.get(i);
        match requester {
            Some(r) => match self.requesters.get_mut(r) {
                Some(spend) => spend.add(class.price, bytes_sent, destination),
                None => {
                    let mut spend = Spend::default();
                    spend.add(class.price, bytes_sent, destination);
                    self.requesters.insert(r.into(), spend);
                }
            },
            None => self.anonymous.add(class.price, bytes_sent, destination),
        }
        if let Some(b) = c.bucket.get(i) {
            bump(&mut self.buckets, b, 1);
        }
        if download && let Some(t) = c.total_time.get(i) {
            self.download_times
                .push(u32::try_from(t.max(0)).unwrap_or(u32::MAX));
        }
        if automated {
            let a = &mut self.automated;
            a.requests += 1;
            a.bytes_sent += bytes_sent;
            if download {
                a.downloads += 1;
                a.downloaded_bytes += bytes_sent;
            }
        }
        self.count_signals(c, i, class, requester, status);
    }

    /// The number of remote IP `ip`, its address classified the first time.
    fn client_id(&mut self, ip: &str) -> Id {
        let (id, new) = self.ips.id_new(ip);
        if new {
            self.clients.push(Client {
                bytes_sent: 0,
                destination: self.destinations.of_address(ip),
                country: None,
            });
        }
        id
    }

    /// The number of `key` and of its section.
    fn key_id(&mut self, key: &str) -> (Id, Id) {
        let (id, new) = self.keys.id_new(key);
        if new {
            let section = section_of(&mut self.section_names, &mut self.sections, key);
            self.key_sections.push(section);
        }
        (id, self.key_sections[id as usize])
    }

    /// The country of client `ip`, looked up once per client.
    fn country(&mut self, ip: Id) -> Option<CountryCode> {
        let client = &mut self.clients[ip as usize];
        *client
            .country
            .get_or_insert_with(|| self.countries.of(self.ips.name(ip)))
    }

    /// Adds the bytes sent to `ip` and returns where they went: CloudFront's
    /// user agent says so whatever the address; otherwise the address decides.
    fn destination(
        &mut self,
        ip: Option<Id>,
        user_agent: Option<&str>,
        bytes_sent: u64,
    ) -> Destination {
        let by_address = match ip {
            None => Destination::Internet,
            Some(ip) => {
                let c = &mut self.clients[ip as usize];
                c.bytes_sent += bytes_sent;
                c.destination
            }
        };
        if user_agent == Some(CLOUDFRONT_USER_AGENT) {
            Destination::CloudFront
        } else {
            by_address
        }
    }

    /// Counts a request of `user_agent` and returns whether it is automated.
    fn agent(&mut self, user_agent: Option<&str>) -> bool {
        let Some(ua) = user_agent else {
            return false;
        };
        match self.user_agents.get_mut(ua) {
            Some(a) => {
                a.requests += 1;
                a.automated
            }
            None => {
                let automated = is_automated(ua);
                self.user_agents.insert(
                    ua.into(),
                    Agent {
                        requests: 1,
                        automated,
                    },
                );
                automated
            }
        }
    }

    /// Counts a request of `op` and returns what the name says.
    fn count_operation(&mut self, op: &str) -> OpClass {
        match self.operations.get_mut(op) {
            Some(o) => {
                o.requests += 1;
                o.class
            }
            None => {
                let class = OpClass::of(op);
                self.operations
                    .insert(op.into(), Operation { requests: 1, class });
                class
            }
        }
    }

    fn count_signals(
        &mut self,
        c: &Columns,
        i: usize,
        class: OpClass,
        requester: Option<&str>,
        status: Option<i64>,
    ) {
        let s = &mut self.signals;
        if c.signature_version.get(i) == Some("SigV2") {
            s.sigv2 += 1;
        }
        if matches!(c.tls_version.get(i), Some("TLSv1" | "TLSv1.1" | "SSLv3")) {
            s.tls_below_1_2 += 1;
        }
        let ok = status.is_some_and(|s| (200..300).contains(&s));
        if requester.is_none() && ok && class.write {
            s.anonymous_writes += 1;
        }
        if c.acl_required.get(i) == Some("Yes") {
            s.acl_required += 1;
        }
        if status == Some(403) {
            s.forbidden += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn referrer_hosts() {
        assert_eq!(
            referrer_host("https://Www.Example.com:8443/a?b").as_deref(),
            Some("www.example.com")
        );
        assert_eq!(
            referrer_host("http://u:p@h.example/").as_deref(),
            Some("h.example")
        );
        assert_eq!(referrer_host("http://[::1]:80/").as_deref(), Some("::1"));
        assert_eq!(
            referrer_host("example.org/path").as_deref(),
            Some("example.org")
        );
        assert_eq!(referrer_host("https:///x"), None);
    }

    #[test]
    fn operation_classes() {
        let get = OpClass::of("REST.GET.OBJECT");
        assert!(get.object_get && !get.write && get.price == Some(Price::ReadAndOther));
        let put = OpClass::of("REST.PUT.OBJECT");
        assert!(put.write && put.upload_bytes && put.upload_key);
        assert_eq!(put.price, Some(Price::WriteAndList));
        assert_eq!(
            OpClass::of("REST.GET.BUCKET").price,
            Some(Price::WriteAndList)
        );
        assert_eq!(
            OpClass::of("REST.GET.LIST_TYPE2").price,
            Some(Price::WriteAndList)
        );
        assert_eq!(OpClass::of("REST.DELETE.OBJECT").price, Some(Price::Free));
        assert_eq!(
            OpClass::of("REST.POST.ABORT_UPLOAD").price,
            Some(Price::Free)
        );
        assert_eq!(OpClass::of("S3.EXPIRE.OBJECT").price, None);
        let none = OpClass::of("-");
        assert!(!none.write && !none.object_get && none.price == Some(Price::ReadAndOther));
        assert!(OpClass::of("WEBSITE.GET.OBJECT").object_get);
        assert!(!OpClass::of("REST.HEAD.OBJECT").object_get);
    }

    #[test]
    fn downloads_are_object_gets_answered_200_or_206() {
        assert!(is_download(Some("REST.GET.OBJECT"), Some(206)));
        assert!(is_download(Some("WEBSITE.GET.OBJECT"), Some(200)));
        assert!(!is_download(Some("REST.GET.OBJECT"), Some(304)));
        assert!(!is_download(Some("REST.HEAD.OBJECT"), Some(200)));
        assert!(!is_download(None, Some(200)));
    }
}
