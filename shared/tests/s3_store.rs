//! The S3 adapter, MergeResults and the cleanup steps against a real
//! S3-compatible server that checks SigV4 signatures: `s3s-fs`, started here
//! on 127.0.0.1 over a temporary folder (tests/run_all.sh installs it into
//! `.tools/`; `S3S_FS` may name another binary).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::{Int64Array, RecordBatch, StringArray, TimestampMillisecondArray};
use aws_config::BehaviorVersion;
use aws_sdk_s3::config::{Credentials, Region};
use bytes::Bytes;
use chrono::Datelike;
use parquet::arrow::ArrowWriter;
use s3la_shared::athena_ddl::KeyLayout;
use s3la_shared::aws::s3::S3Store;
use s3la_shared::config::{CleanupConfig, MergeConfig, PeriodConfig};
use s3la_shared::location::Location;
use s3la_shared::log_keys::log_day;
use s3la_shared::query::{Projection, result_schema};
use s3la_shared::results::merge::merge_parts;
use s3la_shared::steps::{
    compute_period, from_input, merge_results, remove_meta, remove_original_logs, to_output,
};
use s3la_shared::storage::{ObjectStore, StorageError, Upload};
use serde_json::{Value, json};

const ACCESS_KEY: &str = "s3la-test-access";
const SECRET_KEY: &str = "s3la-test-secret-key";

struct Server {
    child: Child,
    root: tempfile::TempDir,
    endpoint: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        // A server that already exited is fine: the test's own result is
        // what matters, and the temporary root goes with `root`.
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

fn s3s_fs_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("S3S_FS") {
        return PathBuf::from(p);
    }
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../.tools/s3s-fs/bin/s3s-fs");
    assert!(
        p.exists(),
        "{} is missing: run tests/run_all.sh once, or `cargo install s3s-fs --version 0.14.1 \
         --features binary --locked --root .tools/s3s-fs`",
        p.display()
    );
    p
}

/// s3s-fs on a free port, with `buckets` created as folders of its root.
fn start(buckets: &[&str]) -> Server {
    let root = tempfile::tempdir().unwrap();
    for b in buckets {
        std::fs::create_dir(root.path().join(b)).unwrap();
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(s3s_fs_binary())
        .args(["--host", "127.0.0.1", "--port", &port.to_string()])
        .args(["--access-key", ACCESS_KEY, "--secret-key", SECRET_KEY])
        .arg(root.path())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting s3s-fs");
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "s3s-fs did not start listening");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server {
        child,
        root,
        endpoint: format!("http://127.0.0.1:{port}"),
    }
}

async fn store_with(server: &Server, secret: &str) -> S3Store {
    let config = aws_config::defaults(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(&server.endpoint)
        .credentials_provider(Credentials::new(ACCESS_KEY, secret, None, None, "test"))
        .load()
        .await;
    S3Store::from_config(&config)
}

async fn store(server: &Server) -> S3Store {
    store_with(server, SECRET_KEY).await
}

/// A server holding `buckets`, and a store on it with the right key.
async fn serve(buckets: &[&str]) -> (Server, S3Store) {
    let server = start(buckets);
    let s3 = store(&server).await;
    (server, s3)
}

fn at(uri: &str) -> Location {
    Location::parse(uri).unwrap()
}

/// Writes `body` at `uri`, which it returns.
async fn put(s3: &S3Store, uri: &str, body: impl Into<Bytes>) -> Location {
    let target = at(uri);
    s3.put(&target, body.into()).await.unwrap();
    target
}

/// The URIs of the objects under `uri`.
async fn listed(s3: &S3Store, uri: &str) -> Vec<String> {
    let objects = s3.list(&at(uri)).await.unwrap();
    objects
        .into_iter()
        .map(|o| o.location.to_string())
        .collect()
}

/// Bytes that do not compress: gzip cannot shrink them below the part size.
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(6364136223846793005) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"[(x % 64) as usize]
        })
        .collect()
}

/// No leftovers of multipart uploads in s3s-fs's root (it keeps parts there).
fn assert_no_pending_uploads(server: &Server) {
    let pending: Vec<String> = std::fs::read_dir(server.root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with(".upload"))
        .collect();
    assert!(pending.is_empty(), "{pending:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signatures_are_checked() {
    let server = start(&["res-bkt"]);
    let wrong = store_with(&server, "not-the-secret").await;
    let e = wrong.list(&at("s3://res-bkt/")).await.unwrap_err();
    assert!(
        matches!(&e, StorageError::Service { code, .. } if code == "SignatureDoesNotMatch"),
        "{e:?}"
    );
    assert!(
        store(&server)
            .await
            .list(&at("s3://res-bkt/"))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_past_a_thousand_keys() {
    let (_server, s3) = serve(&["logs-bkt"]).await;
    for i in 0..1003 {
        put(&s3, &format!("s3://logs-bkt/p/{i:05}"), "x").await;
    }
    put(&s3, "s3://logs-bkt/q/0", "y").await;
    let listed = s3.list(&at("s3://logs-bkt/p/")).await.unwrap();
    assert_eq!(listed.len(), 1003);
    assert_eq!(listed[1002].location.to_string(), "s3://logs-bkt/p/01002");
    assert!(listed.iter().all(|o| o.size == 1));
    assert_eq!(s3.list(&at("s3://logs-bkt/p/0100")).await.unwrap().len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn multipart_upload_is_invisible_until_complete() {
    let (server, s3) = serve(&["res-bkt"]).await;
    let target = at("s3://res-bkt/out/big.bin");
    let (a, b) = (noise(6 << 20, 1), noise(3 << 20, 2));
    let mut up = s3.upload(&target).await.unwrap();
    up.put_part(Bytes::from(a.clone())).await.unwrap();
    up.put_part(Bytes::from(b.clone())).await.unwrap();
    assert_eq!(s3.size(&target).await.unwrap(), None);
    assert_eq!(up.complete().await.unwrap(), 9 << 20);
    assert_eq!(s3.size(&target).await.unwrap(), Some(9 << 20));
    let whole = s3.get(&target).await.unwrap();
    assert_eq!(&whole[..a.len()], &a[..]);
    assert_eq!(&whole[a.len()..], &b[..]);
    let middle = s3
        .get_range(&target, (6 << 20) - 5..(6 << 20) + 5)
        .await
        .unwrap();
    assert_eq!(&middle[..5], &a[a.len() - 5..]);
    assert_eq!(&middle[5..], &b[..5]);
    assert_no_pending_uploads(&server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_aborted_upload_leaves_nothing_and_keeps_the_previous_object() {
    let (server, s3) = serve(&["res-bkt"]).await;
    let target = put(&s3, "s3://res-bkt/out/r.csv.gz", "previous").await;
    let mut up = s3.upload(&target).await.unwrap();
    up.put_part(Bytes::from(noise(6 << 20, 3))).await.unwrap();
    up.abort().await.unwrap();
    assert_eq!(
        s3.get(&target).await.unwrap(),
        Bytes::from_static(b"previous")
    );
    assert_no_pending_uploads(&server);
}

fn parquet_bytes(batch: &RecordBatch) -> Bytes {
    let mut buf = Vec::new();
    let mut w = ArrowWriter::try_new(&mut buf, batch.schema(), None).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
    Bytes::from(buf)
}

/// A part as UNLOAD writes one for `key`-only rows with incompressible keys.
fn noisy_part(rows: usize, key_len: usize, seed: u64) -> Bytes {
    let keys = (0..rows).map(|i| String::from_utf8(noise(key_len, seed + i as u64)).unwrap());
    let batch = RecordBatch::try_from_iter(vec![(
        "key",
        Arc::new(StringArray::from_iter_values(keys)) as _,
    )])
    .unwrap();
    parquet_bytes(&batch)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_merge_failing_mid_upload_aborts_both_outputs() {
    let (server, s3) = serve(&["res-bkt"]).await;
    // Enough incompressible CSV that parts are uploaded before the failure.
    let part = noisy_part(12_000, 1000, 7);
    let first = put(&s3, "s3://res-bkt/_staging/q/part-0", part).await;
    let broken = put(
        &s3,
        "s3://res-bkt/_staging/q/part-1",
        "PAR1 not parquet PAR1",
    )
    .await;
    let schema = Arc::new(arrow_schema::Schema::new(vec![arrow_schema::Field::new(
        "key",
        arrow_schema::DataType::Utf8,
        true,
    )]));
    let (pq, csv) = (
        at("s3://res-bkt/out/r.parquet"),
        at("s3://res-bkt/out/r.csv.gz"),
    );
    let e = merge_parts(&s3, &[first, broken], schema, &pq, &csv)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("part-1"), "{e}");
    assert_eq!(s3.size(&pq).await.unwrap(), None);
    assert_eq!(s3.size(&csv).await.unwrap(), None);
    assert_no_pending_uploads(&server);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presigned_links_work_until_they_expire() {
    let (_server, s3) = serve(&["res-bkt"]).await;
    let target = put(
        &s3,
        "s3://res-bkt/2024-01/requests-2024-01.csv.gz",
        "report",
    )
    .await;
    let link = s3
        .presign_get(&target, Duration::from_secs(600))
        .await
        .unwrap();
    // Static test keys never expire: the link lives as long as asked.
    let lifetime = link
        .expires
        .unwrap()
        .duration_since(std::time::SystemTime::now())
        .unwrap();
    assert!((595..=600).contains(&lifetime.as_secs()), "{lifetime:?}");
    let link = link.url;
    assert!(link.contains("X-Amz-Signature="), "{link}");
    assert_eq!(http_get(&link), (200, b"report".to_vec()));
    let short = s3
        .presign_get(&target, Duration::from_secs(1))
        .await
        .unwrap()
        .url;
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert_eq!(http_get(&short).0, 403);
    // A link whose signature was tampered with is refused too.
    let (before, signature) = link.split_once("X-Amz-Signature=").unwrap();
    let flipped = if signature.starts_with('0') { "1" } else { "0" };
    let tampered = format!("{before}X-Amz-Signature={flipped}{}", &signature[1..]);
    assert_eq!(http_get(&tampered).0, 403);
}

/// A plain HTTP/1.1 GET: (status, body).
fn http_get(url: &str) -> (u16, Vec<u8>) {
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut conn = TcpStream::connect(host).unwrap();
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    conn.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&response[..split]).to_string();
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let body = response[split + 4..].to_vec();
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    (status, if chunked { dechunk(&body) } else { body })
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = body.windows(2).position(|w| w == b"\r\n").unwrap();
        let size =
            usize::from_str_radix(std::str::from_utf8(&body[..line_end]).unwrap(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[line_end + 2..line_end + 2 + size]);
        body = &body[line_end + 4 + size..];
    }
}

// ---- The steps, end to end over S3 ----

const RESULT_PATH: &str = "s3://res-bkt/s3la/";
const LOGS: &str = "s3://logs-bkt/AWSLogs/123456789012/us-east-1/src-bkt/";

fn layout() -> KeyLayout {
    KeyLayout::DateBased {
        projection_start: "2020-01-01".parse().unwrap(),
    }
}

/// The state after QueryStatus for a week whose one part is already in
/// staging (as UNLOAD leaves it), with `rows` report rows.
async fn state_after_query(s3: &S3Store, rows: i64) -> Value {
    let period_config = PeriodConfig::from_env(&[("PROJECTION_START", "2020-01-01")]).unwrap();
    let plan = compute_period::compute_period(
        json!({"input": {"dateRange": {"start": "2024-01-01", "end": "2024-01-07"}},
               "execution": {"name": "exec-1", "startTime": "2024-01-10T06:00:00Z"}}),
        &period_config,
        "2024-01-10T06:00:00Z".parse().unwrap(),
    )
    .unwrap();
    let mut state = to_output(&plan);
    let staging = format!("{RESULT_PATH}_staging/2024-01-01_2024-01-07/exec-1/");
    let athena = format!("{RESULT_PATH}_athena/2024-01-01_2024-01-07/exec-1/");
    let schema = result_schema(Projection::Report, true);
    let columns = schema
        .fields()
        .iter()
        .map(|f| -> arrow_array::ArrayRef {
            match f.data_type() {
                arrow_schema::DataType::Utf8 => Arc::new(StringArray::from_iter_values(
                    (0..rows).map(|i| format!("{}-{i}", f.name())),
                )),
                arrow_schema::DataType::Int64 => Arc::new(Int64Array::from_iter_values(0..rows)),
                arrow_schema::DataType::Int32 => {
                    Arc::new(arrow_array::Int32Array::from_iter_values(
                        (0..rows).map(|i| 200 + (i % 300) as i32),
                    ))
                }
                arrow_schema::DataType::Timestamp(_, tz) => Arc::new(
                    TimestampMillisecondArray::from_iter_values(
                        (0..rows).map(|i| 1_704_067_200_000 + i * 1000),
                    )
                    .with_timezone_opt(tz.clone()),
                ),
                other => panic!("a report column of type {other}"),
            }
        })
        .collect();
    let batch = RecordBatch::try_new(schema, columns).unwrap();
    let part = format!("{staging}q-1_00000");
    put(s3, &part, parquet_bytes(&batch)).await;
    let manifest = format!("{athena}q-1-manifest.csv");
    put(s3, &manifest, format!("{part}\n")).await;
    put(s3, &format!("{athena}q-1.metadata"), "meta").await;
    state["query"] =
        json!({"queryExecutionId": "q-1", "stagingPrefix": staging, "outputLocation": athena});
    state["status"] = json!({"queryExecutionId": "q-1", "state": "SUCCEEDED", "done": true,
        "dataScannedBytes": 1, "engineExecutionMs": 1, "totalExecutionMs": 1,
        "estimatedCostUsd": 0.0, "manifest": manifest, "outputLocation": athena});
    state
}

/// MergeResults on the state after the query, its input picked as the
/// definition's Parameters pick it.
async fn merge(s3: &S3Store, state: &Value) -> merge_results::MergeOutput {
    let input = json!({"execution": state["execution"], "options": state["options"],
                       "period": state["period"], "query": state["query"], "status": state["status"]});
    match merge_results::merge_results(from_input(input).unwrap(), &merge_config(), s3)
        .await
        .unwrap()
    {
        merge_results::MergeResultsOutput::Merged(out) => out,
        sharded => panic!("one part of one row group is one shard: {sharded:?}"),
    }
}

fn merge_config() -> MergeConfig {
    MergeConfig::from_env(&[("RESULT_PATH", RESULT_PATH)]).unwrap()
}

fn cleanup_config(result_path: &str) -> CleanupConfig {
    CleanupConfig::from_env(&[("RESULT_PATH", result_path), ("S3_LOGS_LOCATION", LOGS)]).unwrap()
}

/// One log record (AWS's sample line) at noon on `day`.
fn log_line(day: chrono::NaiveDate) -> String {
    format!(
        "79a5 awsexamplebucket1 [{} +0000] 192.0.2.3 79a5 3E57427F3EXAMPLE \
         REST.GET.VERSIONING - \"GET /awsexamplebucket1?versioning HTTP/1.1\" 200 - 113 - 7 - \
         \"-\" \"S3Console/0.4\" - s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= \
         SigV4 ECDHE-RSA-AES128-GCM-SHA256 AuthHeader awsexamplebucket1.s3.us-west-1.amazonaws.com \
         TLSV1.2 - -\n",
        day.format("%d/%b/%Y:12:00:00")
    )
}

/// Log objects on each day from 2023-12-30 to 2024-01-09, `per_day` each,
/// each holding one record of its own day, plus decoys: a key that merely
/// starts like a day folder, and another source bucket's logs on the same
/// days.
async fn put_logs(s3: &S3Store, per_day: usize) -> Vec<String> {
    let mut objects = Vec::new();
    let mut day: chrono::NaiveDate = "2023-12-30".parse().unwrap();
    while day <= "2024-01-09".parse().unwrap() {
        for i in 0..per_day {
            objects.push((
                format!("{LOGS}{}/{}-00-00-{i:04}", day.format("%Y/%m/%d"), day),
                log_line(day),
            ));
        }
        day = day.succ_opt().unwrap();
    }
    objects.push((format!("{LOGS}2024/01/0"), "not a log".into()));
    objects.push((
        "s3://logs-bkt/AWSLogs/123456789012/us-east-1/other-bkt/2024/01/03/x".into(),
        log_line("2024-01-03".parse().unwrap()),
    ));
    let keys: Vec<String> = objects.iter().map(|(k, _)| k.clone()).collect();
    let tasks: Vec<_> = objects
        .into_iter()
        .map(|(k, body)| {
            let s3 = s3.clone();
            tokio::spawn(async move { s3.put(&at(&k), Bytes::from(body)).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    keys
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merge_then_cleanups_delete_exactly_the_periods_objects() {
    let (_server, s3) = serve(&["res-bkt", "logs-bkt"]).await;
    // The outputs hold the period's 7 x 150 records (each log object holds one).
    let mut state = state_after_query(&s3, 1050).await;
    let merged = merge(&s3, &state).await;
    assert_eq!(merged.rows, 1050);
    assert_eq!(
        merged.outputs.csv_gz,
        "s3://res-bkt/s3la/2024-01-01_2024-01-07/requests-2024-01-01_2024-01-07.csv.gz"
    );
    assert_eq!(
        s3.size(&at(&merged.outputs.parquet)).await.unwrap(),
        Some(merged.bytes.parquet)
    );
    state["results"] = to_output(&merged);

    // 150 objects a day: the period's 7 days are 1050 keys, past one
    // DeleteObjects batch.
    let keys = put_logs(&s3, 150).await;
    let logs_input = json!({"period": state["period"], "options": state["options"],
                            "query": state["query"], "results": state["results"]});
    let logs_input = from_input(logs_input).unwrap();
    let out =
        remove_original_logs::remove_original_logs(logs_input, &cleanup_config(RESULT_PATH), &s3)
            .await
            .unwrap();
    assert_eq!(out.deleted.deleted_objects, 1050);
    assert_eq!(out.deleted_records, 1050);
    assert_eq!(out.kept_objects, 0);
    assert_eq!(out.verified_rows.parquet, 1050);
    assert_eq!(out.verified_rows.csv_gz, 1050);
    let left = listed(&s3, "s3://logs-bkt/").await;
    let in_period = |k: &str| {
        k.strip_prefix(LOGS)
            .and_then(|rest| log_day(rest, layout()))
            .is_some_and(|d| (1..=7).contains(&d.day()) && d.year() == 2024)
    };
    let expected: Vec<&String> = keys.iter().filter(|k| !in_period(k)).collect();
    assert_eq!(left.len(), expected.len());
    assert_eq!(
        left.len(),
        4 * 150 + 2,
        "the slack and previous days, and both decoys"
    );
    for k in expected {
        assert!(left.contains(k), "{k} was deleted");
    }

    let meta_input =
        json!({"query": state["query"], "status": state["status"], "results": state["results"]});
    let meta_input = from_input(meta_input).unwrap();
    let out = remove_meta::remove_meta(meta_input, &cleanup_config(RESULT_PATH), &s3)
        .await
        .unwrap();
    assert_eq!(out.deleted.deleted_objects, 3);
    let left = listed(&s3, "s3://res-bkt/").await;
    // The outputs, the report, the set's manifest and the deletion ledger stay.
    assert_eq!(
        left,
        vec![
            merged.outputs.output_set.clone().unwrap(),
            "s3://res-bkt/s3la/2024-01-01_2024-01-07/deleted-logs.json".to_string(),
            merged.outputs.report_html.clone().unwrap(),
            merged.outputs.report_json.clone().unwrap(),
            merged.outputs.csv_gz.clone(),
            merged.outputs.parquet.clone()
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_removal_refuses_overlaps_and_unverified_outputs_before_deleting() {
    let (_server, s3) = serve(&["res-bkt", "logs-bkt"]).await;
    // 14 records in the period's logs, but outputs of 10 rows.
    let mut state = state_after_query(&s3, 10).await;
    let merged = merge(&s3, &state).await;
    state["results"] = to_output(&merged);
    let keys = put_logs(&s3, 2).await;
    let input = json!({"period": state["period"], "options": state["options"],
                       "query": state["query"], "results": state["results"]});
    // Each refusal is UnsafeDeletion, and says why.
    let refused = |input: Value, result_path: String, why: &'static str| {
        let s3 = s3.clone();
        async move {
            let e = remove_original_logs::remove_original_logs(
                from_input(input).unwrap(),
                &cleanup_config(&result_path),
                &s3,
            )
            .await
            .unwrap_err();
            assert_eq!(e.name(), "UnsafeDeletion", "{e}");
            assert!(e.to_string().contains(why), "{e}");
        }
    };
    // The outputs are whole and verified, but are not the logs' records.
    refused(
        input.clone(),
        RESULT_PATH.into(),
        "hold 14 records of the period, but the outputs hold 10 rows",
    )
    .await;
    // Results kept inside the logs prefix, and logs inside the results prefix.
    for result_path in [format!("{LOGS}reports/"), "s3://logs-bkt/".into()] {
        refused(input.clone(), result_path, "overlap").await;
    }
    // A row count that does not match what the files hold.
    let mut wrong_rows = input.clone();
    wrong_rows["results"]["rows"] = json!(11);
    refused(
        wrong_rows,
        RESULT_PATH.into(),
        "holds 10 rows, but the merge wrote 11",
    )
    .await;
    // Outputs named elsewhere than this period's.
    let mut elsewhere = input.clone();
    elsewhere["results"]["outputs"]["parquet"] = json!("s3://res-bkt/s3la/other.parquet");
    refused(elsewhere, RESULT_PATH.into(), "not this period's output").await;
    // An output that is gone.
    s3.delete(&[at(&merged.outputs.csv_gz)]).await.unwrap();
    refused(input.clone(), RESULT_PATH.into(), "does not exist").await;

    let left = s3.list(&at("s3://logs-bkt/")).await.unwrap();
    assert_eq!(left.len(), keys.len(), "nothing was deleted");
}
