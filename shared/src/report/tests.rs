use std::sync::Arc;

use arrow_array::{
    ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use chrono::NaiveDate;

use super::destinations::Destinations;
use super::geo::Countries;
use super::pricing::Prices;
use super::tally::Tally;
use super::*;
use crate::query::{Projection, result_schema};

/// One request as the report columns hold it.
struct Req {
    time: &'static str,
    op: &'static str,
    key: Option<&'static str>,
    ip: &'static str,
    status: i32,
    sent: Option<i64>,
    size: Option<i64>,
    total_ms: Option<i64>,
    requester: Option<&'static str>,
    referrer: Option<&'static str>,
    error: Option<&'static str>,
    sigv: &'static str,
    tls: &'static str,
    ua: Option<&'static str>,
}

fn req(
    time: &'static str,
    op: &'static str,
    key: Option<&'static str>,
    ip: &'static str,
    status: i32,
) -> Req {
    Req {
        time,
        op,
        key,
        ip,
        status,
        sent: None,
        size: None,
        total_ms: None,
        requester: None,
        referrer: None,
        error: None,
        sigv: "SigV4",
        tls: "TLSv1.3",
        ua: None,
    }
}

fn batch(rows: &[Req]) -> RecordBatch {
    let schema = result_schema(Projection::Report, true);
    let ms = |t: &str| {
        chrono::DateTime::parse_from_rfc3339(t)
            .unwrap()
            .timestamp_millis()
    };
    let text = |f: &dyn Fn(&Req) -> Option<&'static str>| -> ArrayRef {
        Arc::new(StringArray::from(rows.iter().map(f).collect::<Vec<_>>()))
    };
    let columns: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .map(|f| -> ArrayRef {
            match f.name().as_str() {
                "request_time" => Arc::new(
                    TimestampMillisecondArray::from(
                        rows.iter().map(|r| ms(r.time)).collect::<Vec<_>>(),
                    )
                    .with_timezone("UTC"),
                ),
                "bucket" => text(&|_| Some("example-bucket")),
                "operation" => text(&|r| Some(r.op)),
                "key" => text(&|r| r.key),
                "key_prefix" => text(&|r| columns::top_level_prefix(r.key)),
                "requester" => text(&|r| r.requester),
                "remote_ip" => text(&|r| Some(r.ip)),
                "http_status" => Arc::new(Int32Array::from(
                    rows.iter().map(|r| Some(r.status)).collect::<Vec<_>>(),
                )),
                "error_code" => text(&|r| r.error),
                "bytes_sent" => Arc::new(Int64Array::from(
                    rows.iter().map(|r| r.sent).collect::<Vec<_>>(),
                )),
                "object_size" => Arc::new(Int64Array::from(
                    rows.iter().map(|r| r.size).collect::<Vec<_>>(),
                )),
                "total_time" => Arc::new(Int64Array::from(
                    rows.iter().map(|r| r.total_ms).collect::<Vec<_>>(),
                )),
                "referer" => text(&|r| r.referrer),
                "signature_version" => text(&|r| Some(r.sigv)),
                "tls_version" => text(&|r| Some(r.tls)),
                "user_agent" => text(&|r| r.ua),
                _ => arrow_array::new_null_array(f.data_type(), rows.len()),
            }
        })
        .collect();
    RecordBatch::try_new(schema, columns).unwrap()
}

fn period() -> Period {
    let d = |s: &str| s.parse::<NaiveDate>().unwrap();
    Period::custom(d("2024-01-01"), d("2024-01-02"), 1)
}

fn empty_tally() -> Tally {
    let p = period();
    Tally::new(
        p.window.start.timestamp_millis(),
        p.window.end.timestamp_millis(),
        Countries::unknown(),
        Destinations::for_region("us-east-1"),
    )
}

fn report_of(rows: &[Req]) -> Report {
    let mut t = empty_tally();
    t.add_batch(&batch(rows));
    report_of_tally(t)
}

fn report_of_tally(t: Tally) -> Report {
    let p = period();
    let prices = Prices::for_region("us-east-1").unwrap();
    Report::build(
        t,
        &Context {
            period: &p,
            generated_at: "2024-01-03T06:00:00Z".parse().unwrap(),
            prices: &prices,
            athena_scan_usd: 0.01,
            engine_malformed_lines: Some(2),
        },
    )
}

fn sample() -> Vec<Req> {
    let get = |time, key, ip, status, sent, ms| Req {
        sent: Some(sent),
        total_ms: Some(ms),
        ..req(time, "REST.GET.OBJECT", Some(key), ip, status)
    };
    vec![
        get(
            "2024-01-01T10:00:00Z",
            "docs/a.pdf",
            "1.1.1.1",
            200,
            1000,
            10,
        ),
        get(
            "2024-01-01T11:00:00Z",
            "docs/a.pdf",
            "2.2.2.2",
            206,
            500,
            20,
        ),
        get(
            "2024-01-02T12:00:00Z",
            "img/<script>.png",
            "1.1.1.1",
            200,
            300,
            30,
        ),
        // Not downloads: a 304 and a 403.
        get("2024-01-02T13:00:00Z", "docs/a.pdf", "3.3.3.3", 304, 0, 1),
        Req {
            error: Some("AccessDenied"),
            ..get("2024-01-02T14:00:00Z", "docs/b.pdf", "4.4.4.4", 403, 243, 1)
        },
        Req {
            size: Some(2048),
            requester: Some("arn:aws:iam::123456789012:user/alice"),
            ..req(
                "2024-01-01T09:00:00Z",
                "REST.PUT.OBJECT",
                Some("up/x.bin"),
                "5.5.5.5",
                200,
            )
        },
        Req {
            sigv: "SigV2",
            tls: "TLSv1.1",
            ..req(
                "2024-01-01T09:30:00Z",
                "REST.PUT.OBJECT",
                Some("up/anon.bin"),
                "6.6.6.6",
                200,
            )
        },
        Req {
            referrer: Some("https://Blog.Example.org/post"),
            ..req("2024-01-02T15:00:00Z", "REST.GET.BUCKET", None, "-", 200)
        },
        // The day after the period: a record the query should not have
        // returned; it must not count.
        get(
            "2024-01-03T00:00:00Z",
            "docs/a.pdf",
            "9.9.9.9",
            200,
            7777,
            5,
        ),
    ]
}

#[test]
fn counts_the_original_tools_metrics() {
    let r = report_of(&sample());
    let o = &r.overall;
    assert_eq!(o.requests, 8);
    assert_eq!(o.downloads, 3);
    assert_eq!(o.downloaded_bytes, 1800);
    assert_eq!(o.unique_objects_downloaded, 2);
    assert_eq!(o.unique_ips, 6, "the '-' IP is not an IP");
    assert_eq!(o.unique_downloader_ips, 2);
    assert_eq!(o.interactions, 6, "two PUTs are not interactions");
    assert_eq!((o.uploads, o.uploaded_bytes), (2, 2048));
    let top: Vec<(&str, u64, u64, u64)> = o
        .top_downloads
        .iter()
        .map(|d| {
            (
                d.key.as_str(),
                d.downloads,
                d.download_sessions,
                d.bytes_sent,
            )
        })
        .collect();
    assert_eq!(
        top,
        [("docs/a.pdf", 2, 2, 1500), ("img/<script>.png", 1, 1, 300)]
    );
    assert_eq!(Report::map(&o.top_countries), [("unknown", 3)].into());
    assert_eq!(
        Report::map(&o.top_referrers),
        [("blog.example.org", 1)].into()
    );
    assert_eq!(
        r.first_request.unwrap().to_rfc3339(),
        "2024-01-01T09:00:00+00:00"
    );
    assert_eq!(
        r.last_request.unwrap().to_rfc3339(),
        "2024-01-02T15:00:00+00:00"
    );
    assert_eq!(r.buckets, vec!["example-bucket"]);
}

#[test]
fn counts_what_the_original_tool_lacked() {
    let r = report_of(&sample());
    assert_eq!(
        r.daily
            .iter()
            .map(|d| (d.date.to_string(), d.requests, d.bytes_sent))
            .collect::<Vec<_>>(),
        vec![
            ("2024-01-01".into(), 4, 1500),
            ("2024-01-02".into(), 4, 543)
        ]
    );
    assert_eq!(Report::map(&r.operations)["REST.GET.OBJECT"], 5);
    assert_eq!(
        Report::map(&r.status_classes),
        [("2xx", 6), ("3xx", 1), ("4xx", 1)].into()
    );
    assert_eq!(
        Report::map(&r.top_error_codes),
        [("AccessDenied", 1)].into()
    );
    assert_eq!(r.anonymous_share, 0.875);
    assert_eq!(
        (r.download_time_ms.p50, r.download_time_ms.p95),
        (Some(20), Some(30))
    );
    assert_eq!(r.security.sig_v2_requests, 1);
    assert_eq!(r.security.tls_below_1_2_requests, 1);
    assert_eq!(r.security.anonymous_writes, 1);
    assert_eq!(r.security.forbidden_403, 1);
    assert_eq!(r.malformed_lines, 2);
    assert_eq!(r.cost.write_and_list_requests, 3, "two PUTs and a LIST");
    assert_eq!(r.cost.read_and_other_requests, 5);
    assert_eq!(r.cost.athena_scan_usd, 0.01);
    assert!(r.cost.estimate);
    let sections: Vec<(Option<&str>, u64)> = r
        .sections
        .iter()
        .map(|s| (s.prefix.as_deref(), s.metrics.requests))
        .collect();
    assert_eq!(
        sections,
        vec![
            (Some("docs/"), 4),
            (Some("up/"), 2),
            (None, 1),
            (Some("img/"), 1)
        ]
    );
}

#[test]
fn tallies_of_batches_dealt_to_workers_add_up_to_the_whole() {
    use crate::results::observer::MergeObserver;
    use tally_workers::TallyWorkers;

    let rows = sample();
    let whole = serde_json::to_value(report_of(&rows)).unwrap();
    // One row per batch, dealt in turn: every worker sees some of every kind
    // of figure (sets, top lists, days, first and last times).
    for workers in [1, 2, 3, 5] {
        let mut dealt = TallyWorkers::start((0..workers).map(|_| empty_tally()).collect());
        for row in rows.chunks(1) {
            dealt.batch(&batch(row));
        }
        let added = serde_json::to_value(report_of_tally(dealt.finish().unwrap())).unwrap();
        assert_eq!(added, whole, "{workers} workers");
    }
}

#[test]
fn partial_tallies_read_back_add_up_to_the_whole() {
    // What the shards of a sharded merge do: each counts its rows, writes its
    // partial, and the assembly reads them all back and adds them up.
    let rows = sample();
    let whole = serde_json::to_value(report_of(&rows)).unwrap();
    for shards in [1, 2, 3, rows.len()] {
        let mut total: Option<Tally> = None;
        for chunk in rows.chunks(rows.len().div_ceil(shards)) {
            let mut t = empty_tally();
            t.add_batch(&batch(chunk));
            let bytes = t.to_partial().unwrap();
            let read = Tally::from_partial(
                &bytes,
                Countries::unknown(),
                Destinations::for_region("us-east-1"),
            )
            .unwrap();
            match &mut total {
                None => total = Some(read),
                Some(all) => all.absorb(read),
            }
        }
        let added = serde_json::to_value(report_of_tally(total.unwrap())).unwrap();
        assert_eq!(added, whole, "{shards} shards");
    }
    let e = Tally::from_partial(
        b"not gzip",
        Countries::unknown(),
        Destinations::for_region("us-east-1"),
    );
    assert!(e.is_err_and(|e| e.starts_with("not a partial tally")));
}

#[test]
fn an_empty_period_is_a_report_of_zeros() {
    let r = report_of(&[]);
    assert_eq!(r.overall.requests, 0);
    assert_eq!(r.daily.len(), 2);
    assert!(r.sections.is_empty());
    assert_eq!(r.anonymous_share, 0.0);
    assert_eq!(r.download_time_ms.p50, None);
    let html = html::render(&r, &downloads(None));
    assert!(html.contains("No requests in this period."));
    let text = text::render(&r, &downloads(None));
    assert!(text.contains(&format!("{:<26}0", "Requests:")), "{text}");
}

fn downloads(link: Option<Link>) -> Downloads<'static> {
    Downloads {
        parquet: "s3://res/s3la/2024-01-01_2024-01-02/requests-2024-01-01_2024-01-02.parquet",
        csv_gz: "s3://res/s3la/2024-01-01_2024-01-02/requests-2024-01-01_2024-01-02.csv.gz",
        link,
    }
}

#[test]
fn html_escapes_names_from_the_logs_and_has_no_script_or_images() {
    let r = report_of(&sample());
    let link = Link {
        url: "https://res.s3.amazonaws.com/x.csv.gz?X-Amz-Signature=a&b=<c>".into(),
        expires: Some("2024-01-03T18:00:00Z".parse().unwrap()),
        kind: LinkKind::PresignedS3,
    };
    let html = html::render(&r, &downloads(Some(link)));
    assert!(
        html.contains("img/<wbr>&lt;script&gt;.png"),
        "the key shows as text, breakable after its slash"
    );
    assert!(
        !html.contains("<script"),
        "no script element, not even from a key"
    );
    for banned in ["<img", "<svg", "<style", "javascript:", "http://", "<link"] {
        assert!(!html.to_lowercase().contains(banned), "{banned}");
    }
    assert!(html.contains("X-Amz-Signature=a&amp;b=&lt;c&gt;"));
    assert!(html.contains("This presigned S3 link works until 2024-01-03 18:00 UTC."));
    for id in [
        "header",
        "headline",
        "daily",
        "operations",
        "top-objects",
        "countries",
        "sections",
        "cost",
        "who-costs",
        "automated",
        "cost-drivers",
        "trend",
        "glossary",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
}

#[test]
fn text_has_the_same_numbers() {
    let r = report_of(&sample());
    let t = text::render(&r, &downloads(None));
    assert!(
        t.starts_with("S3 usage of example-bucket: 2024-01-01 to 2024-01-02\n"),
        "a date-range label is not repeated: {t}"
    );
    let line = |label: &str, value: &str| format!("{:<26}{value}", format!("{label}:"));
    assert!(t.contains(&line("Requests", "8  (people only: 8)")), "{t}");
    assert!(t.contains(&line("Downloads", "3")));
    assert!(t.contains(&line("Download sessions", "3")));
    assert!(t.contains(&line("Downloaded", "1.8 KiB")));
    assert!(
        t.contains("img/<script>.png: 1 downloads"),
        "plain text is not escaped"
    );
}

#[test]
fn the_change_against_the_previous_period() {
    let previous = report_of(&sample()[..2]);
    let mut current = report_of(&sample());
    current.compare_with(&previous);
    let c = current.change.as_ref().unwrap();
    assert_eq!((c.requests.previous, c.requests.current), (2, 8));
    assert_eq!(c.requests.percent, Some(300.0));
    assert_eq!(c.uploads.percent, None, "nothing before: no percentage");
    let json = serde_json::to_string(&current).unwrap();
    let back: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back, current, "report.json reads back as written");
    assert!(html::render(&current, &downloads(None)).contains("+300.0% vs 2024-01-01_2024-01-02"));
}

/// The sample, with its first row as Athena returns a line its table cannot
/// read: without a time.
fn sample_with_an_unreadable_line() -> RecordBatch {
    let b = batch(&sample());
    let mut columns: Vec<arrow_array::ArrayRef> = b.columns().to_vec();
    let mut times: Vec<Option<i64>> = vec![Some(1); b.num_rows()];
    times[0] = None;
    columns[0] = Arc::new(TimestampMillisecondArray::from(times).with_timezone("UTC"));
    RecordBatch::try_new(b.schema(), columns).unwrap()
}

#[test]
fn rows_without_a_time_are_counted_as_malformed_lines() {
    let mut t = Tally::new(
        0,
        i64::MAX,
        Countries::unknown(),
        Destinations::for_region("us-east-1"),
    );
    let b = sample_with_an_unreadable_line();
    t.add_batch(&b);
    assert_eq!(
        (t.unreadable_time, t.overall.requests),
        (1, b.num_rows() as u64 - 1)
    );
}

#[test]
fn merged_with_the_report_rows_without_a_time_are_counted_not_written() {
    use crate::location::Location;
    use crate::results::merge::merge_parts_observed;
    use crate::storage::local::LocalStore;

    let dir = tempfile::tempdir().unwrap();
    let b = sample_with_an_unreadable_line();
    let part = dir.path().join("part-0");
    let mut w = parquet::arrow::ArrowWriter::try_new(
        std::fs::File::create(&part).unwrap(),
        b.schema(),
        None,
    )
    .unwrap();
    w.write(&b).unwrap();
    w.close().unwrap();
    let out = |name: &str| Location::Local(dir.path().join(name));
    let (merged, t) = crate::test_util::block_on(merge_parts_observed(
        &LocalStore,
        &[Location::Local(part)],
        b.schema(),
        &out("r.parquet"),
        &out("r.csv.gz"),
        tally::with_readable_time,
        Tally::new(
            0,
            i64::MAX,
            Countries::unknown(),
            Destinations::for_region("us-east-1"),
        ),
    ))
    .unwrap();
    let requests = b.num_rows() as u64 - 1;
    assert_eq!(merged.rows, requests);
    assert_eq!((t.unreadable_time, t.overall.requests), (1, requests));
}

#[test]
fn both_parts_say_which_link_it_is_and_until_when() {
    let r = report_of(&sample());
    for (kind, words) in [
        (LinkKind::PresignedS3, "presigned S3 link"),
        (LinkKind::CloudFront, "CloudFront signed link"),
    ] {
        let link = Link {
            url: "https://d111.cloudfront.net/x.csv.gz?Expires=1&Signature=a&Key-Pair-Id=K".into(),
            expires: Some("2024-01-09T06:00:00Z".parse().unwrap()),
            kind,
        };
        let want = format!("This {words} works until 2024-01-09 06:00 UTC.");
        let html = html::render(&r, &downloads(Some(link.clone())));
        assert!(html.contains(&want), "{want}");
        assert!(text::render(&r, &downloads(Some(link))).contains(&want));
    }
}

/// A download of `key` by `ip`: `sent` of an object of `size` bytes.
fn download(time: &'static str, key: &'static str, ip: &'static str, sent: i64, size: i64) -> Req {
    Req {
        sent: Some(sent),
        size: Some(size),
        ..req(
            time,
            "REST.GET.OBJECT",
            Some(key),
            ip,
            if sent < size { 206 } else { 200 },
        )
    }
}

#[test]
fn download_sessions_and_whole_object_equivalents() {
    let r = report_of(&[
        // One person's player: three ranges within minutes, then the whole
        // file 8 hours after the last range (the same session), then again
        // the next day (a new one).
        download("2024-01-01T00:00:00Z", "v/a.mp4", "1.1.1.1", 250, 1000),
        download("2024-01-01T00:01:00Z", "v/a.mp4", "1.1.1.1", 250, 1000),
        download("2024-01-01T00:02:00Z", "v/a.mp4", "1.1.1.1", 500, 1000),
        download("2024-01-01T08:02:00Z", "v/a.mp4", "1.1.1.1", 1000, 1000),
        download("2024-01-02T08:02:01Z", "v/a.mp4", "1.1.1.1", 1000, 1000),
        // Another IP, another key: sessions of their own.
        download("2024-01-01T00:00:30Z", "v/a.mp4", "2.2.2.2", 1000, 1000),
        download("2024-01-01T00:00:30Z", "v/b.mp4", "1.1.1.1", 1, 3),
        // Not downloads: no session.
        req(
            "2024-01-01T00:03:00Z",
            "REST.HEAD.OBJECT",
            Some("v/a.mp4"),
            "3.3.3.3",
            200,
        ),
        req(
            "2024-01-01T00:03:00Z",
            "REST.GET.OBJECT",
            Some("v/a.mp4"),
            "3.3.3.3",
            304,
        ),
    ]);
    let o = &r.overall;
    assert_eq!((o.downloads, o.download_sessions), (7, 4));
    // 0.25 + 0.25 + 0.5 + 1 + 1 + 1 + 1/3
    assert_eq!(o.whole_object_equivalents, 4.333);
    let a = &o.top_downloads[0];
    assert_eq!(
        (a.key.as_str(), a.downloads, a.download_sessions),
        ("v/a.mp4", 6, 3)
    );
    assert_eq!(a.whole_object_equivalents, 4.0);
    let section = &r.sections[0].metrics;
    assert_eq!(
        (section.download_sessions, section.whole_object_equivalents),
        (4, 4.333)
    );
    assert_eq!(
        r.daily
            .iter()
            .map(|d| d.distinct_clients)
            .collect::<Vec<_>>(),
        [3, 1],
        "1.1.1.1, 2.2.2.2 and 3.3.3.3 on the first day; 1.1.1.1 on the second"
    );
}

#[test]
fn sessions_do_not_depend_on_how_rows_are_split_or_ordered() {
    let rows = || {
        vec![
            download("2024-01-01T18:00:00Z", "k", "1.1.1.1", 1, 1),
            download("2024-01-01T00:00:00Z", "k", "1.1.1.1", 1, 1),
            download("2024-01-01T10:00:00Z", "k", "1.1.1.1", 1, 1),
            download("2024-01-01T04:00:00Z", "k", "1.1.1.1", 1, 1),
        ]
    };
    let whole = report_of(&rows());
    assert_eq!(
        whole.overall.download_sessions, 1,
        "no gap over 8 hours once sorted"
    );
    let all = rows();
    let (mut a, mut b) = (empty_tally(), empty_tally());
    a.add_batch(&batch(&all[..1]));
    b.add_batch(&batch(&all[1..]));
    a.absorb(b);
    assert_eq!(report_of_tally(a).overall.download_sessions, 1);
}

#[test]
fn automated_clients_are_counted_apart_and_headlines_stay_all_traffic() {
    let bot = |time, ua| Req {
        ua: Some(ua),
        ..download(time, "a.pdf", "9.9.9.9", 100, 100)
    };
    let r = report_of(&[
        bot(
            "2024-01-01T00:00:00Z",
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        ),
        bot("2024-01-01T00:00:01Z", "curl/8.5.0"),
        bot(
            "2024-01-01T00:00:02Z",
            "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0",
        ),
        bot("2024-01-01T00:00:03Z", "aws-cli/2.17.20 md/awscrt#0.20.11"),
        Req {
            ua: Some("curl/8.5.0"),
            ..req(
                "2024-01-01T00:00:04Z",
                "REST.HEAD.OBJECT",
                Some("a.pdf"),
                "9.9.9.9",
                200,
            )
        },
    ]);
    let a = &r.automated;
    assert_eq!((a.requests, a.downloads, a.bytes_sent), (3, 2, 200));
    assert_eq!(
        (
            a.share_of_requests,
            a.share_of_downloads,
            a.share_of_bytes_sent
        ),
        (0.6, 0.5, 0.5)
    );
    assert_eq!(r.overall.requests, 5, "headlines count every request");
    assert_eq!(
        r.top_user_agents[0],
        Named {
            name: "curl/8.5.0".into(),
            count: 2
        }
    );
}

#[test]
fn bytes_are_priced_by_where_they_went() {
    let gb = 1_073_741_824;
    let in_region = Destinations::examples("us-east-1", "EC2", 1).remove(0);
    let in_region: &'static str = Box::leak(in_region.into_boxed_str());
    let alice = "arn:aws:iam::123456789012:user/alice";
    let r = report_of(&[
        // To the internet: priced.
        Req {
            requester: Some(alice),
            ..download(
                "2024-01-01T00:00:00Z",
                "data/big.bin",
                "192.0.2.1",
                2 * gb,
                2 * gb,
            )
        },
        // CloudFront fetching from its origin: free.
        Req {
            ua: Some("Amazon CloudFront"),
            ..download(
                "2024-01-01T00:00:01Z",
                "site/index.html",
                "192.0.2.2",
                gb,
                gb,
            )
        },
        // An EC2 instance in the bucket's region: free.
        Req {
            requester: Some(alice),
            ..download(
                "2024-01-01T00:00:02Z",
                "data/big.bin",
                in_region,
                3 * gb,
                3 * gb,
            )
        },
        // Anonymous, to the internet.
        download(
            "2024-01-01T00:00:03Z",
            "site/index.html",
            "192.0.2.3",
            gb,
            gb,
        ),
    ]);
    let c = &r.cost;
    assert_eq!(
        (
            c.bytes_sent,
            c.internet_bytes,
            c.cloudfront_bytes,
            c.same_region_bytes
        ),
        (7 * gb as u64, 3 * gb as u64, gb as u64, 3 * gb as u64)
    );
    assert!(
        (c.transfer_out_usd - 0.27).abs() < 1e-9,
        "{}",
        c.transfer_out_usd
    );
    let by_requester: Vec<(&str, u64, f64)> = r
        .cost_by_requester
        .iter()
        .map(|l| (l.name.as_str(), l.internet_bytes, l.transfer_out_usd))
        .collect();
    assert_eq!(
        by_requester,
        [(alice, 2 * gb as u64, 0.18), ("anonymous", gb as u64, 0.09)]
    );
    let by_prefix: Vec<(&str, u64)> = r
        .cost_by_prefix
        .iter()
        .map(|l| (l.name.as_str(), l.bytes_sent))
        .collect();
    assert_eq!(
        by_prefix,
        [("data/", 5 * gb as u64), ("site/", 2 * gb as u64)]
    );
    assert_eq!(r.top_clients_by_bytes[0].name, in_region);
    assert_eq!(r.concentration.top1_ip_share_of_bytes, 0.4286);
    assert_eq!(r.concentration.top10_ip_share_of_bytes, 1.0);
    assert_eq!(
        r.top_objects_by_bytes[0],
        Named {
            name: "data/big.bin".into(),
            count: 5 * gb as u64
        }
    );
}

#[test]
fn lifecycle_actions_are_not_other_responses_nor_priced() {
    let mut expire = req(
        "2024-01-01T00:00:00Z",
        "S3.EXPIRE.OBJECT",
        Some("old.log"),
        "-",
        0,
    );
    expire.status = 0;
    let mut t = empty_tally();
    let b = batch(&[expire]);
    // The log's "-" status: null.
    let mut columns = b.columns().to_vec();
    let at = b.schema().index_of("http_status").unwrap();
    columns[at] = Arc::new(Int32Array::from(vec![None::<i32>]));
    t.add_batch(&RecordBatch::try_new(b.schema(), columns).unwrap());
    let r = report_of_tally(t);
    assert_eq!(r.lifecycle_actions, 1);
    assert!(r.status_classes.is_empty(), "{:?}", r.status_classes);
    assert_eq!((r.cost.lifecycle_actions, r.cost.requests_usd), (1, 0.0));
}

#[test]
fn when_most_bytes_went_to_cloudfront_the_report_says_its_ips_are_cloudfronts() {
    let via = |ua: Option<&'static str>, sent| Req {
        ua,
        ..download("2024-01-01T00:00:00Z", "site/a.js", "192.0.2.9", sent, sent)
    };
    let mostly = report_of(&[via(Some("Amazon CloudFront"), 700), via(None, 300)]);
    let rarely = report_of(&[via(Some("Amazon CloudFront"), 300), via(None, 700)]);
    let notice = "the client IPs and countries here are CloudFront's";
    assert!(html::render(&mostly, &downloads(None)).contains(notice));
    assert!(text::render(&mostly, &downloads(None)).contains("Most bytes went to CloudFront"));
    assert!(!html::render(&rarely, &downloads(None)).contains(notice));
    assert!(!text::render(&rarely, &downloads(None)).contains("Most bytes went to CloudFront"));
}

#[test]
fn a_schema_1_report_is_still_compared_with() {
    let previous = report_of(&sample()[..2]);
    let mut v1 = serde_json::to_value(&previous).unwrap();
    let o = v1.as_object_mut().unwrap();
    o.insert("schemaVersion".into(), 1.into());
    for added in [
        "lifecycleActions",
        "automated",
        "topUserAgents",
        "concentration",
        "topClientsByBytes",
        "topObjectsByBytes",
        "topRequestersByBytes",
        "costByRequester",
        "costByPrefix",
        "trend",
    ] {
        o.remove(added).unwrap();
    }
    let overall = o["overall"].as_object_mut().unwrap();
    for added in ["downloadSessions", "wholeObjectEquivalents", "bytesSent"] {
        overall.remove(added).unwrap();
    }
    let v1: Report = serde_json::from_value(v1).unwrap();
    let mut current = report_of(&sample());
    current.compare_with(&v1);
    let c = current.change.unwrap();
    assert_eq!(c.requests.previous, 2);
    assert_eq!(
        c.download_sessions, None,
        "no sessions to compare with before 2"
    );
}

#[test]
fn keys_are_shown_decoded_and_kept_as_logged_in_the_json() {
    let r = report_of(&[download(
        "2024-01-01T00:00:00Z",
        "docs/Q1%20summary-11.pdf",
        "192.0.2.1",
        10,
        10,
    )]);
    assert_eq!(r.overall.top_downloads[0].key, "docs/Q1%20summary-11.pdf");
    let html = html::render(&r, &downloads(None));
    assert!(html.contains("docs/<wbr>Q1 summary-11.pdf"), "decoded");
    assert!(!html.contains("Q1%20summary"), "never shown encoded");
    let text = text::render(&r, &downloads(None));
    assert!(text.contains("docs/Q1 summary-11.pdf: 1 downloads"));
    assert!(!text.contains("Q1%20summary"));
}
