//! Property tests: no input makes the parser panic, and records rendered as
//! AWS writes them parse back to the same values.

use proptest::prelude::*;
use s3la_shared::log_format::arrow::LogBatchBuilder;
use s3la_shared::log_format::lines::for_each_line;
use s3la_shared::log_format::structured::for_each_json_record;
use s3la_shared::log_format::{LogRecord, parse_line};

/// Unquoted fields: no spaces, no quotes; `-` alone means null so it is not
/// generated as a value.
fn token() -> impl Strategy<Value = Option<String>> {
    prop::option::of("[A-Za-z0-9._:/=+%@\\-]{1,24}".prop_filter("dash is null", |s| s != "-"))
}

/// Request URIs carry spaces and may carry unescaped quotes.
fn request_uri() -> impl Strategy<Value = Option<String>> {
    prop::option::of(
        "(GET|PUT|HEAD) /[A-Za-z0-9._%+\"/ -]{0,30} HTTP/1\\.1".prop_filter("dash", |s| s != "-"),
    )
}

/// User agents with spaces and quotes anywhere, ending in a quote or not.
fn user_agent() -> impl Strategy<Value = Option<String>> {
    prop::option::of("[A-Za-z0-9./();\" -]{1,40}".prop_filter("dash", |s| s != "-"))
}

/// Referers are URLs (a browser percent-encodes quotes in them).
fn referer() -> impl Strategy<Value = Option<String>> {
    prop::option::of("https?://[a-z.]{1,12}/[A-Za-z0-9/?=&%.-]{0,20}")
}

/// Values of the fields that AWS can write last (TLS version at 24 fields,
/// access point ARN at 25, source region at 27): a last field that is only
/// the start of such a value is a line cut short, so these are whole ones.
fn last_fields() -> impl Strategy<Value = [Option<String>; 3]> {
    (
        prop::option::of("TLS[vV]1(\\.[0-3])?"),
        prop::option::of(
            "arn:aws:s3(-object-lambda)?:[a-z]{2}-[a-z]{4,9}-[1-9]:[0-9]{12}:accesspoint/[a-z0-9-]{1,20}",
        ),
        prop::option::of("[a-z]{2}-[a-z]{4,9}-[1-9]"),
    )
        .prop_map(|(tls, arn, region)| [tls, arn, region])
}

fn number() -> impl Strategy<Value = Option<i64>> {
    prop::option::of(0i64..10_000_000_000)
}

#[derive(Debug, Clone)]
struct Owned {
    text: Vec<Option<String>>,
    uri: Option<String>,
    referer: Option<String>,
    ua: Option<String>,
    time: Option<i64>,
    status: Option<i32>,
    numbers: Vec<Option<i64>>,
    sigv: Option<&'static str>,
    auth: Option<&'static str>,
    acl: Option<&'static str>,
    field_count: usize,
    /// TLS version, access point ARN and source region, used where the
    /// field is the line's last.
    last: [Option<String>; 3],
    extra: Option<Vec<String>>,
}

fn owned() -> impl Strategy<Value = Owned> {
    (
        prop::collection::vec(token(), 15),
        request_uri(),
        referer(),
        user_agent(),
        prop::option::of(0i64..4_102_444_800),
        prop::option::of(100i32..600),
        prop::collection::vec(number(), 4),
        prop::sample::select(vec![None, Some("SigV2"), Some("SigV4")]),
        prop::sample::select(vec![None, Some("AuthHeader"), Some("QueryString")]),
        prop::sample::select(vec![None, Some("Yes")]),
        prop::sample::select(vec![17usize, 18, 24, 25, 26, 27, 28, 30]),
        (
            prop::collection::vec("[A-Za-z0-9\"=-]{1,8}", 3),
            last_fields(),
        ),
    )
        .prop_map(
            |(text, uri, referer, ua, time, status, numbers, sigv, auth, acl, n, (extra, last))| {
                Owned {
                    text,
                    uri,
                    referer,
                    ua,
                    time,
                    status,
                    numbers,
                    sigv,
                    auth,
                    acl,
                    field_count: n,
                    last,
                    extra: (n > 27).then(|| extra[..n - 27].to_vec()),
                }
            },
        )
}

impl Owned {
    fn record(&self) -> LogRecord<'_> {
        let t = |i: usize| self.text[i].as_deref();
        let n = self.field_count;
        let keep = |i: usize, v: Option<&'static str>| if 17 + i < n { v } else { None };
        let keep_t = |i: usize, j: usize| if 17 + i < n { t(j) } else { None };
        // The line's last field, when it is one with a shape, has a whole value.
        let last = |i: usize, j: usize, k: usize| {
            if 17 + i + 1 == n {
                self.last[k].as_deref()
            } else {
                keep_t(i, j)
            }
        };
        LogRecord {
            bucket_owner: t(0),
            bucket: t(1),
            request_time_ms: self.time.map(|seconds| seconds * 1000),
            remote_ip: t(2),
            requester: t(3),
            request_id: t(4),
            operation: t(5),
            key: t(6),
            request_uri: self.uri.as_deref(),
            http_status: self.status,
            error_code: t(7),
            bytes_sent: self.numbers[0],
            object_size: self.numbers[1],
            total_time: self.numbers[2],
            turn_around_time: self.numbers[3],
            referer: self.referer.as_deref(),
            user_agent: self.ua.as_deref(),
            version_id: keep_t(0, 8),
            host_id: keep_t(1, 9),
            signature_version: keep(2, self.sigv),
            cipher_suite: keep_t(3, 10),
            authentication_type: keep(4, self.auth),
            host_header: keep_t(5, 11),
            tls_version: last(6, 12, 0),
            access_point_arn: last(7, 13, 1),
            acl_required: keep(8, self.acl),
            source_region: last(9, 14, 2),
            extra: None,
            field_count: n,
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        let mut builder = LogBatchBuilder::with_capacity(4);
        for_each_line(&bytes, 1, |_, r| if let Ok(r) = r { builder.append(&r) });
        builder.finish().unwrap();
    }

    #[test]
    fn near_valid_lines_never_panic(cut in 0usize..700, junk in "[ \"\\[\\]a-z0-9-]{0,12}", at in 0usize..700) {
        let line = include_str!("../../tests/fixtures/aws-doc-sample.log").lines().next().unwrap();
        let mut s = line.to_string();
        let at = at.min(s.len());
        s.insert_str(at, &junk);
        let cut = cut.min(s.len());
        let _ = parse_line(&s[..cut]);
    }

    #[test]
    fn generated_records_round_trip(o in owned()) {
        let extra = o.extra.as_ref().map(|e| e.join(" "));
        let mut r = o.record();
        r.extra = extra.as_deref();
        let line = r.to_line();
        let parsed = parse_line(&line);
        prop_assert_eq!(parsed, Ok(r), "line: {}", line);
    }

    /// The same record as a structured JSON object reads back to the same
    /// values (unknown trailing text fields have no name there, so none).
    #[test]
    fn generated_records_round_trip_through_structured_json(o in owned(), ms in 0i64..1000) {
        let mut r = o.record();
        r.request_time_ms = r.request_time_ms.map(|t| t + ms);
        let json = r.to_structured_json();
        let mut read = Vec::new();
        let counts = for_each_json_record(json.as_bytes(), 1, |_, got| {
            read.push(got.map(|g| format!("{:?} {:?}", g.values(), g.extra)));
        });
        prop_assert_eq!(counts.records, 1, "json: {}", json);
        let want = format!("{:?} {:?}", r.values(), None::<&str>);
        prop_assert_eq!(read.remove(0), Ok(want), "json: {}", json);
    }

    #[test]
    fn arbitrary_json_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let mut builder = LogBatchBuilder::with_capacity(4);
        let mut text = b"{\"request_time\":".to_vec();
        text.extend(&bytes);
        for_each_json_record(&text, 1, |_, r| if let Ok(r) = r { builder.append(&r) });
        builder.finish().unwrap();
    }

    #[test]
    fn a_column_subset_equals_the_full_batch_projected(
        records in prop::collection::vec(owned(), 1..20),
        columns in prop::sample::subsequence((0usize..28).collect::<Vec<_>>(), 0..=28).prop_shuffle(),
    ) {
        let extras: Vec<Option<String>> = records.iter().map(|o| o.extra.as_ref().map(|e| e.join(" "))).collect();
        let mut full = LogBatchBuilder::with_capacity(4);
        let mut some = LogBatchBuilder::with_columns(4, &columns);
        for (o, extra) in records.iter().zip(&extras) {
            let mut r = o.record();
            r.extra = extra.as_deref();
            full.append(&r);
            some.append(&r);
        }
        let want = full.finish().unwrap().project(&columns).unwrap();
        let got = some.finish().unwrap();
        prop_assert_eq!(got.num_rows(), records.len());
        prop_assert_eq!(got, want);
    }
}
