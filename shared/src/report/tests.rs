use std::sync::Arc;

use arrow_array::{
    ArrayRef, Int32Array, Int64Array, RecordBatch, StringArray, TimestampMillisecondArray,
};
use chrono::NaiveDate;

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
    assert_eq!(
        o.top_downloads,
        vec![
            TopDownload {
                key: "docs/a.pdf".into(),
                downloads: 2
            },
            TopDownload {
                key: "img/<script>.png".into(),
                downloads: 1
            },
        ]
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
    assert!(text.contains("Requests:    0"));
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
        html.contains("img/&lt;script&gt;.png"),
        "the key shows as text"
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
        "glossary",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
    }
}

#[test]
fn text_has_the_same_numbers() {
    let r = report_of(&sample());
    let t = text::render(&r, &downloads(None));
    assert!(t.starts_with("S3 usage of example-bucket: 2024-01-01_2024-01-02"));
    assert!(t.contains("Requests:    8"));
    assert!(t.contains("Downloads:   3"));
    assert!(t.contains("Downloaded:  1.8 KiB"));
    assert!(
        t.contains("img/<script>.png: 1"),
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
    let mut t = Tally::new(0, i64::MAX, Countries::unknown());
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
        Tally::new(0, i64::MAX, Countries::unknown()),
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
