//! Realistic synthetic S3 server access logs, deterministic for a seed.
//!
//! Files are laid out as S3 delivers them with date-based partitioning:
//! `<dir>/<account>/<region>/<bucket>/YYYY/MM/DD/YYYY-MM-DD-hh-mm-ss-<UNIQUE>`,
//! where the date is the *delivery* date: files delivered after midnight land
//! in the next day's partition with records of the day before, as in real
//! logs. Each file holds a few hundred records in one field-count variant
//! (most 27, some of the older 17/18/24/25/26), and a few files (the first
//! one always) hold one malformed line.
//!
//! The same requests can be written in each form S3 delivers (the same seed
//! gives the same requests): text as above, or the 2026 structured delivery's
//! JSON (gzip'd JSON lines) or Parquet files, laid out as "Amazon S3 object
//! key format" (CloudWatch Logs guide) lays out V2 deliveries:
//! `<dir>/AWSLogs/<account>/s3/<region>/YYYY/MM/DD/<file>`, or with
//! Hive-compatible folders `AWSLogs/aws-account-id=<account>/s3/
//! region=<region>/year=YYYY/month=MM/day=DD/`. The guide's example is a
//! load balancer's; the `s3` service folder, the file names and the gzip are
//! this generator's choices where AWS's page for this log type is silent. A
//! malformed line is, in JSON, the same non-JSON line; in Parquet, a row
//! whose `request_time` is that line (not a time).

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::report::destinations::CLOUDFRONT_USER_AGENT;

use crate::log_format::forms::LogForm;
use crate::log_format::structured_parquet::structured_batch;
use crate::log_format::{LogRecord, parse_line};

/// What to generate.
#[derive(Debug, Clone)]
pub struct GenSpec {
    pub start: NaiveDate,
    pub days: u32,
    pub lines_per_day: u32,
    pub seed: u64,
    pub account: String,
    pub region: String,
    pub bucket: String,
    /// The form the files are written in.
    pub format: LogForm,
    /// Hive-compatible folders (`year=YYYY/...`), for the structured forms.
    pub hive: bool,
}

impl GenSpec {
    pub fn new(start: NaiveDate, days: u32, lines_per_day: u32, seed: u64) -> Self {
        Self {
            start,
            days,
            lines_per_day,
            seed,
            account: "123456789012".into(),
            region: "us-east-1".into(),
            bucket: "amzn-s3-demo-bucket".into(),
            format: LogForm::Text,
            hive: false,
        }
    }

    /// The prefix a table's location points at: `<dir>/<account>/<region>/
    /// <bucket>/` for text, the V2 delivery's `<dir>/AWSLogs/<account>/s3/
    /// <region>/` (or its Hive-compatible twin) for the structured forms.
    pub fn bucket_dir(&self, dir: &Path) -> PathBuf {
        match (self.format, self.hive) {
            (LogForm::Text, _) => dir
                .join(&self.account)
                .join(&self.region)
                .join(&self.bucket),
            (_, false) => dir
                .join("AWSLogs")
                .join(&self.account)
                .join("s3")
                .join(&self.region),
            (_, true) => dir
                .join("AWSLogs")
                .join(format!("aws-account-id={}", self.account))
                .join("s3")
                .join(format!("region={}", self.region)),
        }
    }
}

/// What was written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GenSummary {
    pub files: u64,
    /// Well-formed records (malformed lines not included).
    pub records: u64,
    pub malformed: u64,
    pub bytes: u64,
    /// Records stored in a later day's partition than their request time's.
    pub late_records: u64,
}

/// Average records per delivered file.
const RECORDS_PER_FILE: u32 = 400;

/// Every file under `dir`, at any depth, sorted: the logs [`generate`] wrote
/// there, in order.
pub fn files_under(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            files.extend(files_under(&path)?);
        } else {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Writes the logs under `dir`; `progress` is called with the bytes written
/// so far after each file.
pub fn generate(
    spec: &GenSpec,
    dir: &Path,
    mut progress: impl FnMut(u64),
) -> io::Result<GenSummary> {
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    let pools = Pools::new(&mut rng, spec);
    let mut summary = GenSummary::default();
    let root = spec.bucket_dir(dir);
    for day in 0..spec.days {
        let date = spec.start + Duration::days(i64::from(day));
        let day_start = date
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            .and_utc()
            .timestamp();
        let mut times: Vec<i64> = (0..spec.lines_per_day)
            .map(|_| day_start + rng.random_range(0..86_400))
            .collect();
        times.sort_unstable();
        let files = (spec.lines_per_day / RECORDS_PER_FILE).max(1) as usize;
        let per_file = times.len().div_ceil(files).max(1);
        for chunk in times.chunks(per_file) {
            let last = *chunk.last().expect("non-empty chunk");
            let delivered = last + rng.random_range(300..3_600);
            let variant = field_count_for_file(summary.files);
            // The first file always, so even a small sample has one.
            let malformed_at = (summary.files == 0 || rng.random_bool(0.03))
                .then(|| rng.random_range(0..chunk.len()));
            let mut text = String::with_capacity(chunk.len() * 640);
            let mut bad = 0;
            let mut written = 0;
            for (i, &t) in chunk.iter().enumerate() {
                if Some(i) == malformed_at {
                    text.push_str(&malformed_line(&mut rng, &pools, t));
                    text.push('\n');
                    bad += 1;
                }
                written += pools.write_request(&mut rng, t, variant, &mut text);
            }
            let path = delivery_path(&root, delivered, &mut rng, spec);
            fs::create_dir_all(path.parent().expect("has parent"))?;
            let bytes = in_form(&text, spec.format)?;
            let mut f = BufWriter::new(fs::File::create(&path)?);
            f.write_all(&bytes)?;
            f.flush()?;
            let delivered_day = delivered.div_euclid(86_400);
            summary.late_records += chunk
                .iter()
                .filter(|&&t| t.div_euclid(86_400) < delivered_day)
                .count() as u64;
            summary.files += 1;
            summary.records += written;
            summary.malformed += bad;
            summary.bytes += bytes.len() as u64;
            progress(summary.bytes);
        }
    }
    Ok(summary)
}

/// One file in eight carries an older field count, spread evenly so that
/// even a small sample holds every variant.
fn field_count_for_file(index: u64) -> usize {
    match index % 40 {
        3 => 26,
        11 => 25,
        19 => 24,
        27 => 18,
        35 => 17,
        _ => 27,
    }
}

fn delivery_path(root: &Path, delivered: i64, rng: &mut ChaCha8Rng, spec: &GenSpec) -> PathBuf {
    let t = DateTime::<Utc>::from_timestamp(delivered, 0).expect("in range");
    let unique: u64 = rng.random();
    let days = if spec.hive {
        t.format("year=%Y/month=%m/day=%d").to_string()
    } else {
        t.format("%Y/%m/%d").to_string()
    };
    let extension = match spec.format {
        LogForm::Text => "",
        LogForm::Json => ".json.gz",
        LogForm::Parquet => ".parquet",
    };
    root.join(days).join(format!(
        "{}-{unique:016X}{extension}",
        t.format("%Y-%m-%d-%H-%M-%S")
    ))
}

/// A delivered file's text lines as the file's bytes in `form`.
fn in_form(text: &str, form: LogForm) -> io::Result<Vec<u8>> {
    let records = text.lines().map(|l| parse_line(l).map_err(|_| l));
    match form {
        LogForm::Text => Ok(text.as_bytes().to_vec()),
        LogForm::Json => {
            let mut json = String::with_capacity(text.len() * 2);
            for r in records {
                match r {
                    Ok(r) => json.push_str(&r.to_structured_json()),
                    Err(line) => json.push_str(line),
                }
                json.push('\n');
            }
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(6));
            gz.write_all(json.as_bytes())?;
            gz.finish()
        }
        LogForm::Parquet => {
            let records: Vec<_> = records.collect();
            let batch = structured_batch(&records).map_err(io::Error::other)?;
            let props = parquet::file::properties::WriterProperties::builder()
                .set_compression(parquet::basic::Compression::SNAPPY)
                .build();
            let mut out = Vec::new();
            let mut w = parquet::arrow::ArrowWriter::try_new(&mut out, batch.schema(), Some(props))
                .map_err(io::Error::other)?;
            w.write(&batch).map_err(io::Error::other)?;
            w.close().map_err(io::Error::other)?;
            Ok(out)
        }
    }
}

/// A line that is not a valid record, of the kinds seen in practice: a
/// truncated write, an impossible time, a non-log line. Checked to fail.
fn malformed_line(rng: &mut ChaCha8Rng, pools: &Pools, t: i64) -> String {
    loop {
        let mut good = String::new();
        pools.write_request(rng, t, 27, &mut good);
        let good = good.lines().next().unwrap_or_default().to_string();
        let line = match rng.random_range(0..3) {
            0 => good[..rng.random_range(20..good.len() / 3)].to_string(),
            1 => good.replacen(":", "-", 1).replacen(" +0000]", "]", 1),
            _ => "<Error><Code>InternalError</Code></Error>".to_string(),
        };
        if parse_line(&line).is_err() {
            return line;
        }
    }
}

struct Pools {
    owner: String,
    bucket: String,
    region: String,
    keys: Vec<String>,
    ipv4: Vec<String>,
    ipv6: Vec<String>,
    iam: Vec<String>,
    /// CloudFront's addresses (AWS's published ranges), fetching for its viewers.
    cloudfront: Vec<String>,
    /// EC2 addresses in the bucket's region: transfers the bill does not price.
    in_region: Vec<String>,
}

const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148",
    "aws-cli/2.17.20 md/awscrt#0.20.11 ua/2.0 os/linux#6.1.0 md/arch#x86_64 lang/python#3.11.9 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe command/s3.cp",
    "aws-sdk-java/2.25.60 Linux/5.10.219-208.866.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.11+9-LTS Java/17.0.11 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
    "Boto3/1.34.144 md/Botocore#1.34.144 ua/2.0 os/linux#5.10.0 md/arch#x86_64 lang/python#3.12.4 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.144",
    "curl/8.5.0",
    "S3Console/0.4",
    "python-requests/2.32.3",
    "Wget/1.21.4",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)",
    // Quote anomalies real logs carry: quotes inside, and at the end.
    "Mozilla/5.0 \"compatible\" Bot/1.0",
    "Java/17 \"custom-agent\"",
];

const REFERERS: &[&str] = &[
    "https://www.example.com/",
    "https://www.example.com/gallery?page=2",
    "https://news.example.org/2024/05/article.html",
    "https://search.example.net/search?q=s3+logs",
    "http://localhost:3000/",
];

const PREFIXES: &[&str] = &[
    "images/",
    "videos/",
    "downloads/",
    "docs/",
    "static/js/",
    "data/2024/",
    "backups/",
    "reports/",
    "",
];

impl Pools {
    fn new(rng: &mut ChaCha8Rng, spec: &GenSpec) -> Self {
        let hex = |rng: &mut ChaCha8Rng, n: usize| -> String {
            (0..n)
                .map(|_| char::from(b"0123456789abcdef"[rng.random_range(0..16)]))
                .collect()
        };
        let owner = hex(rng, 64);
        let names = [
            "photo",
            "logo",
            "Q1 summary",
            "install",
            "release-notes",
            "app.bundle",
            "caf\u{e9}",
            "price \u{20ac}",
            "a+b",
            "100%",
            "clip",
            "dataset",
        ];
        let exts = [
            ".jpg", ".png", ".pdf", ".zip", ".mp4", ".js", ".csv", ".tar.gz", ".html",
        ];
        let mut keys: Vec<String> = (0..3000)
            .map(|i| {
                let p = PREFIXES[rng.random_range(0..PREFIXES.len())];
                let n = names[rng.random_range(0..names.len())];
                let e = exts[rng.random_range(0..exts.len())];
                url_encode_key(&format!("{p}{n}-{i}{e}"))
            })
            .collect();
        keys.push(url_encode_key("docs/<script>alert(1)</script>.html"));
        let ipv4 = (0..800)
            .map(|_| {
                format!(
                    "{}.{}.{}.{}",
                    rng.random_range(1..224),
                    rng.random_range(0..256),
                    rng.random_range(0..256),
                    rng.random_range(1..255)
                )
            })
            .collect();
        let ipv6 = (0..120)
            .map(|_| {
                format!(
                    "2001:db8:{:x}:{:x}::{:x}",
                    rng.random_range(0..0xffffu32),
                    rng.random_range(0..0xffffu32),
                    rng.random_range(1..0xffffu32)
                )
            })
            .collect();
        let account = &spec.account;
        let iam = vec![
            format!("arn:aws:iam::{account}:user/alice"),
            format!("arn:aws:iam::{account}:user/ci-deployer"),
            format!("arn:aws:sts::{account}:assumed-role/web-app/i-0abc12345def67890"),
            format!(
                "arn:aws:sts::{account}:assumed-role/AWSReservedSSO_Admin_0123abcd/bob@example.com"
            ),
            "arn:aws:iam::210987654321:user/partner-sync".to_string(),
            owner.clone(),
        ];
        use crate::report::destinations::Destinations;
        Self {
            owner,
            bucket: spec.bucket.clone(),
            region: spec.region.clone(),
            keys,
            ipv4,
            ipv6,
            iam,
            cloudfront: Destinations::examples("GLOBAL", "CLOUDFRONT", 12),
            in_region: Destinations::examples(&spec.region, "EC2", 8),
        }
    }

    /// A popular-few, long-tail pick (roughly Zipf-like).
    fn key(&self, rng: &mut ChaCha8Rng) -> &str {
        let u: f64 = rng.random();
        &self.keys[((u * u * u) * self.keys.len() as f64) as usize % self.keys.len()]
    }

    fn ip(&self, rng: &mut ChaCha8Rng) -> &str {
        if rng.random_bool(0.12) {
            &self.ipv6[rng.random_range(0..self.ipv6.len())]
        } else {
            let u: f64 = rng.random();
            &self.ipv4[((u * u) * self.ipv4.len() as f64) as usize]
        }
    }

    /// Appends one request's records (a batch delete writes several) and
    /// returns how many records it wrote.
    fn write_request(&self, rng: &mut ChaCha8Rng, t: i64, fields: usize, out: &mut String) -> u64 {
        let request_id = format!("{:016X}", rng.random::<u64>());
        let host_id = base64ish(rng, 76);
        let anonymous = rng.random_bool(0.55);
        let requester = if anonymous {
            None
        } else {
            Some(self.iam[rng.random_range(0..self.iam.len())].as_str())
        };
        let vhost = format!("{}.s3.{}.amazonaws.com", self.bucket, self.region);
        let tls = ["TLSv1.2", "TLSv1.3", "TLSv1.3", "TLSv1.1"][rng.random_range(0..4)];
        let cipher = if tls == "TLSv1.3" {
            "TLS_AES_128_GCM_SHA256"
        } else {
            "ECDHE-RSA-AES128-GCM-SHA256"
        };
        let ua = USER_AGENTS[rng.random_range(0..USER_AGENTS.len())];
        let referer = rng
            .random_bool(0.25)
            .then(|| REFERERS[rng.random_range(0..REFERERS.len())]);
        let sigv = if anonymous {
            None
        } else if rng.random_bool(0.03) {
            Some("SigV2")
        } else {
            Some("SigV4")
        };
        let mut r = LogRecord {
            bucket_owner: Some(&self.owner),
            bucket: Some(&self.bucket),
            request_time_ms: Some(t * 1000),
            remote_ip: Some(self.ip(rng)),
            requester,
            request_id: Some(&request_id),
            referer,
            user_agent: Some(ua),
            host_id: Some(&host_id),
            signature_version: sigv,
            cipher_suite: Some(cipher),
            authentication_type: sigv.map(|_| "AuthHeader"),
            host_header: Some(&vhost),
            tls_version: Some(tls),
            acl_required: rng.random_bool(0.02).then_some("Yes"),
            source_region: rng
                .random_bool(0.3)
                .then_some(["us-east-1", "eu-west-1", "ap-southeast-2"][rng.random_range(0..3)]),
            field_count: fields,
            ..LogRecord::default()
        };
        let key = self.key(rng).to_string();
        let size: i64 = rng.random_range(200..50_000_000);
        let turn = rng.random_range(1..80);
        let total = turn + rng.random_range(0..2_000);
        let uri;
        let op_roll = rng.random_range(0..1000);
        let mut batch_keys = Vec::new();
        // (time, bytes) of the further range requests of one download session.
        let mut ranges: Vec<(i64, i64)> = Vec::new();
        let mut website_host = String::new();
        match op_roll {
            0..=419 => {
                // GET object: successes, ranges, presigned links and errors.
                r.operation = Some("REST.GET.OBJECT");
                r.key = Some(&key);
                let presigned = rng.random_bool(0.12);
                uri = if presigned {
                    r.authentication_type = Some("QueryString");
                    r.signature_version = Some("SigV4");
                    r.requester = Some(&self.iam[2]);
                    format!(
                        "GET /{key}?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLE7QWERTY%2F20240105%2F{}%2Fs3%2Faws4_request&X-Amz-Date=20240105T101010Z&X-Amz-Expires=3600&X-Amz-SignedHeaders=host&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEXAMPLE&X-Amz-Signature={:016x}{:016x} HTTP/1.1",
                        self.region,
                        rng.random::<u64>(),
                        rng.random::<u64>()
                    )
                } else {
                    format!("GET /{key} HTTP/1.1")
                };
                r.object_size = Some(size);
                match rng.random_range(0..100) {
                    // CloudFront fetching for its viewers (an origin request).
                    0..=9 if !self.cloudfront.is_empty() => {
                        r.remote_ip =
                            Some(&self.cloudfront[rng.random_range(0..self.cloudfront.len())]);
                        r.user_agent = Some(CLOUDFRONT_USER_AGENT);
                        r.requester = None;
                        r.referer = None;
                    }
                    // An application on EC2 in the bucket's region.
                    10..=14 if !self.in_region.is_empty() => {
                        r.remote_ip =
                            Some(&self.in_region[rng.random_range(0..self.in_region.len())]);
                        r.user_agent = Some(USER_AGENTS[5]);
                        r.requester = Some(&self.iam[2]);
                    }
                    // A video player or resuming client: one object in ranges.
                    15..=22 if !presigned => {
                        let parts = rng.random_range(3..16);
                        // Within the request's day: generated days hold their own requests.
                        let last_second = (t.div_euclid(86_400) + 1) * 86_400 - 1;
                        let mut at = t;
                        for i in 0..parts {
                            at = (at + rng.random_range(1..90)).min(last_second);
                            let sent = size / parts + i64::from(i == 0) * (size % parts);
                            ranges.push((at, sent));
                        }
                    }
                    _ => {}
                }
                let (status, err, sent) = match rng.random_range(0..100) {
                    0..=82 => (200, None, Some(size)),
                    83..=88 => (206, None, Some(size.min(rng.random_range(1..1_048_576)))),
                    89..=91 => (304, None, None),
                    92..=94 => (403, Some("AccessDenied"), Some(243)),
                    95..=97 => (404, Some("NoSuchKey"), Some(280)),
                    _ => (503, Some("SlowDown"), Some(251)),
                };
                // A session's first range, then the ones pushed above.
                let (status, err, sent) = match ranges.first() {
                    Some(&(_, first)) => (206, None, Some(first)),
                    None => (status, err, sent),
                };
                r.http_status = Some(status);
                r.error_code = err;
                r.bytes_sent = sent;
                if err.is_some() {
                    r.object_size = None;
                }
            }
            420..=499 => {
                r.operation = Some("REST.HEAD.OBJECT");
                r.key = Some(&key);
                uri = format!("HEAD /{key} HTTP/1.1");
                r.http_status = Some(if rng.random_bool(0.9) { 200 } else { 404 });
                r.object_size = (r.http_status == Some(200)).then_some(size);
            }
            500..=569 => {
                r.operation = Some("REST.PUT.OBJECT");
                r.key = Some(&key);
                r.requester = Some(&self.iam[rng.random_range(0..self.iam.len())]);
                r.signature_version = Some("SigV4");
                r.authentication_type = Some("AuthHeader");
                uri = format!("PUT /{key} HTTP/1.1");
                r.http_status = Some(200);
                r.object_size = Some(size);
                r.version_id = rng
                    .random_bool(0.3)
                    .then_some("3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY+MTRCxf3vjVBH40Nr8X8gdRQBpUMLUo");
            }
            570..=619 => {
                r.operation = Some("REST.GET.BUCKET");
                uri = format!(
                    "GET /?list-type=2&prefix={}&max-keys=1000 HTTP/1.1",
                    PREFIXES[rng.random_range(0..PREFIXES.len())].replace('/', "%2F")
                );
                r.http_status = Some(200);
                r.bytes_sent = Some(rng.random_range(300..200_000));
            }
            620..=639 => {
                r.operation = Some("REST.DELETE.OBJECT");
                r.key = Some(&key);
                uri = format!("DELETE /{key} HTTP/1.1");
                r.http_status = Some(204);
            }
            640..=679 => {
                let upload_id = "VXBsb2FkIElEIGZvciBlbHZpbmcncyBteS1tb3ZpZS5tMnRzIHVwbG9hZA";
                let (op, u) = match rng.random_range(0..3) {
                    0 => ("REST.POST.UPLOADS", format!("POST /{key}?uploads HTTP/1.1")),
                    1 => (
                        "REST.PUT.PART",
                        format!(
                            "PUT /{key}?partNumber={}&uploadId={upload_id} HTTP/1.1",
                            rng.random_range(1..100)
                        ),
                    ),
                    _ => (
                        "REST.POST.UPLOAD",
                        format!("POST /{key}?uploadId={upload_id} HTTP/1.1"),
                    ),
                };
                r.operation = Some(op);
                r.key = Some(&key);
                r.requester = Some(&self.iam[1]);
                uri = u;
                r.http_status = Some(200);
                r.object_size = (op == "REST.PUT.PART").then_some(8_388_608);
            }
            680..=694 => {
                r.operation = Some("REST.POST.MULTI_OBJECT_DELETE");
                r.requester = Some(&self.iam[0]);
                uri = "POST /?delete HTTP/1.1".to_string();
                r.http_status = Some(200);
                r.bytes_sent = Some(rng.random_range(200..4_000));
                batch_keys = (0..rng.random_range(2..6))
                    .map(|_| self.key(rng).to_string())
                    .collect();
            }
            695..=709 => {
                // Lifecycle expiration: written by S3 itself.
                r.operation = Some("S3.EXPIRE.OBJECT");
                r.key = Some(&key);
                unsigned_over_http(&mut r);
                r.remote_ip = None;
                r.user_agent = None;
                r.referer = None;
                r.host_header = None;
                r.object_size = Some(size);
                uri = String::new();
            }
            710..=779 => {
                r.operation = Some("WEBSITE.GET.OBJECT");
                r.key = Some(&key);
                unsigned_over_http(&mut r);
                website_host = format!("{}.s3-website-{}.amazonaws.com", self.bucket, self.region);
                uri = format!("GET /{key} HTTP/1.1");
                let ok = rng.random_bool(0.93);
                r.http_status = Some(if ok { 200 } else { 404 });
                r.error_code = (!ok).then_some("NoSuchKey");
                r.bytes_sent = Some(if ok { size.min(5_000_000) } else { 512 });
                r.object_size = ok.then_some(size.min(5_000_000));
            }
            780..=819 => {
                let (op, q, status, err) = [
                    ("REST.GET.ACL", "acl", 200, None),
                    (
                        "REST.GET.BUCKETPOLICY",
                        "policy",
                        404,
                        Some("NoSuchBucketPolicy"),
                    ),
                    ("REST.GET.LOCATION", "location", 200, None),
                    ("REST.GET.VERSIONING", "versioning", 200, None),
                ][rng.random_range(0..4)];
                r.operation = Some(op);
                r.requester = Some(&self.owner);
                r.signature_version = Some("SigV4");
                r.authentication_type = Some("AuthHeader");
                uri = format!("GET /?{q} HTTP/1.1");
                r.http_status = Some(status);
                r.error_code = err;
                r.bytes_sent = Some(rng.random_range(100..900));
            }
            820..=829 => {
                r.operation = Some("REST.COPY.OBJECT");
                r.key = Some(&key);
                r.requester = Some(&self.iam[1]);
                uri = format!("PUT /{key} HTTP/1.1");
                r.http_status = Some(200);
                r.object_size = Some(size);
                r.bytes_sent = Some(234);
            }
            _ => {
                // Path-style GETs from IPv6 clients through the regional endpoint.
                r.operation = Some("REST.GET.OBJECT");
                r.key = Some(&key);
                r.remote_ip = Some(&self.ipv6[rng.random_range(0..self.ipv6.len())]);
                uri = format!("GET /{}/{key} HTTP/1.1", self.bucket);
                r.http_status = Some(200);
                r.bytes_sent = Some(size);
                r.object_size = Some(size);
            }
        }
        let path_host = format!("s3.{}.amazonaws.com", self.region);
        if op_roll >= 830 {
            r.host_header = Some(&path_host);
        }
        if !website_host.is_empty() {
            r.host_header = Some(&website_host);
        }
        r.request_uri = (!uri.is_empty()).then_some(uri.as_str());
        if r.operation != Some("S3.EXPIRE.OBJECT") {
            r.total_time = Some(total);
            r.turn_around_time = Some(turn);
        }
        out.push_str(&r.to_line());
        out.push('\n');
        let mut written = 1;
        for &(at, sent) in ranges.iter().skip(1) {
            // The first record stays as drawn; the session's ranges follow it.
            let id = format!("{:016X}", rng.random::<u64>());
            let mut b = r.clone();
            b.request_id = Some(&id);
            b.request_time_ms = Some(at * 1000);
            b.http_status = Some(206);
            b.error_code = None;
            b.bytes_sent = Some(sent);
            b.object_size = Some(size);
            out.push_str(&b.to_line());
            out.push('\n');
            written += 1;
        }
        for k in &batch_keys {
            let mut b = r.clone();
            b.operation = Some("BATCH.DELETE.OBJECT");
            b.key = Some(k);
            b.request_uri = None;
            b.http_status = Some(204);
            b.bytes_sent = None;
            b.total_time = None;
            b.turn_around_time = None;
            out.push_str(&b.to_line());
            out.push('\n');
            written += 1;
        }
        written
    }
}

/// A request without a requester, signature or TLS (a website endpoint's, or
/// S3's own): their fields are `-`.
fn unsigned_over_http(r: &mut LogRecord) {
    r.requester = None;
    r.signature_version = None;
    r.authentication_type = None;
    r.cipher_suite = None;
    r.tls_version = None;
}

fn base64ish(rng: &mut ChaCha8Rng, n: usize) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut s: String = (0..n - 1)
        .map(|_| char::from(A[rng.random_range(0..64)]))
        .collect();
    s.push('=');
    s
}

/// Keys appear in logs URL-encoded, except `/`; spaces as `%20`, a literal
/// `+` kept as `+` (as S3 writes it for keys uploaded with one).
pub fn url_encode_key(key: &str) -> String {
    let mut s = String::with_capacity(key.len() + 8);
    for b in key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' | b'+' => {
                s.push(char::from(b))
            }
            _ => s.push_str(&format!("%{b:02X}")),
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log_format::lines::for_each_line;
    use std::collections::BTreeSet;

    #[test]
    fn generated_logs_parse_with_the_promised_variety() {
        let dir = std::env::temp_dir().join(format!("s3la-loggen-{}", std::process::id()));
        // A leftover of an earlier run, if any; usually there is none.
        fs::remove_dir_all(&dir).ok();
        let spec = GenSpec::new(NaiveDate::from_ymd_opt(2024, 2, 28).unwrap(), 3, 12_000, 3);
        let summary = generate(&spec, &dir, |_| {}).unwrap();
        let files = files_under(&dir).unwrap();
        assert_eq!(files.len() as u64, summary.files);
        let (mut records, mut malformed) = (0, 0);
        let mut ops = BTreeSet::new();
        let mut counts = BTreeSet::new();
        let mut statuses = BTreeSet::new();
        let (mut ipv6, mut presigned, mut anonymous, mut quoted_ua, mut escaped) = (0, 0, 0, 0, 0);
        for f in &files {
            let name = f.file_name().unwrap().to_str().unwrap();
            assert_eq!(name.len(), "2024-02-28-00-00-00-".len() + 16, "{name}");
            let bytes = fs::read(f).unwrap();
            let c = for_each_line(&bytes, 1, |_, r| {
                let Ok(r) = r else { return };
                ops.insert(r.operation.unwrap().to_string());
                counts.insert(r.field_count);
                statuses.extend(r.http_status);
                ipv6 += usize::from(r.remote_ip.is_some_and(|ip| ip.contains(':')));
                presigned += usize::from(
                    r.request_uri
                        .is_some_and(|u| u.contains("X-Amz-Signature=")),
                );
                anonymous += usize::from(r.requester.is_none());
                quoted_ua += usize::from(r.user_agent.is_some_and(|u| u.contains('"')));
                escaped += usize::from(r.key.is_some_and(|k| k.contains('%') || k.contains('+')));
            });
            records += c.records;
            malformed += c.malformed;
        }
        assert_eq!((records, malformed), (summary.records, summary.malformed));
        assert!(summary.malformed > 0, "a few malformed lines");
        assert!(
            summary.late_records > 0,
            "some records land in the next day's partition"
        );
        for op in [
            "REST.GET.OBJECT",
            "REST.HEAD.OBJECT",
            "REST.PUT.OBJECT",
            "REST.GET.BUCKET",
            "REST.DELETE.OBJECT",
            "REST.POST.UPLOADS",
            "REST.PUT.PART",
            "REST.POST.UPLOAD",
            "REST.POST.MULTI_OBJECT_DELETE",
            "BATCH.DELETE.OBJECT",
            "S3.EXPIRE.OBJECT",
            "WEBSITE.GET.OBJECT",
        ] {
            assert!(ops.contains(op), "{op} missing from {ops:?}");
        }
        assert_eq!(counts, BTreeSet::from([17, 18, 24, 25, 26, 27]));
        for s in [200, 206, 403, 404, 503] {
            assert!(statuses.contains(&s), "status {s}");
        }
        assert!(ipv6 > 0 && presigned > 0 && anonymous > 0 && quoted_ua > 0 && escaped > 0);
        // The next day's partition exists and holds records of the day before.
        assert!(spec.bucket_dir(&dir).join("2024/03/01").is_dir());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn deterministic_for_a_seed() {
        let base = std::env::temp_dir().join(format!("s3la-loggen-det-{}", std::process::id()));
        let spec = GenSpec::new(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(), 1, 900, 42);
        let a = generate(&spec, &base.join("a"), |_| {}).unwrap();
        let b = generate(&spec, &base.join("b"), |_| {}).unwrap();
        assert_eq!(a, b);
        let fa = files_under(&base.join("a")).unwrap();
        let fb = files_under(&base.join("b")).unwrap();
        assert_eq!(fa.len(), fb.len());
        for (x, y) in fa.iter().zip(&fb) {
            assert_eq!(
                x.strip_prefix(base.join("a")).unwrap(),
                y.strip_prefix(base.join("b")).unwrap()
            );
            assert_eq!(fs::read(x).unwrap(), fs::read(y).unwrap());
        }
        fs::remove_dir_all(&base).unwrap();
    }
}
