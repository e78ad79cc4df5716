"""Every form S3 delivers its access logs in, through `s3la`: the classic text
lines, and the 2026 structured delivery's JSON and Parquet files (with and
without Hive-compatible folders). The same requests (`gen-logs --format`, one
seed) give byte-identical outputs and the same report through `s3la run`, the
same rows through `s3la parse`, and the same log objects removed; the JSON and
Parquet files are read by DuckDB, an independent reader, to the same rows."""

import datetime as dt
import gzip
import json
import shutil
from pathlib import Path

import duckdb
import pytest

from conftest import run

START, DAYS, LINES, SEED = "2024-03-01", 3, 3000, 11
FIRST, LAST = "2024-03-01", "2024-03-03"
LABEL = f"{FIRST}_{LAST}"

# Structured record field -> `s3la parse` JSON field, as "Log format in
# CloudWatch Logs" names the fields (the generator writes every one).
STRUCTURED = {
    "bucket_owner_id": "bucket_owner", "bucket_name": "bucket", "request_time": "request_time",
    "remote_ip": "remote_ip", "requester": "requester", "request_id": "request_id",
    "operation": "operation", "key_name": "key", "request_uri": "request_uri",
    "http_status": "http_status", "error_code": "error_code", "bytes_sent_size": "bytes_sent",
    "object_size": "object_size", "total_duration": "total_time",
    "turn_around_duration": "turn_around_time", "referer": "referer",
    "user_agent": "user_agent", "version_id": "version_id", "host_id": "host_id",
    "signature_version": "signature_version", "cipher_suite": "cipher_suite",
    "authentication_type": "authentication_type", "host_header": "host_header",
    "tls_version": "tls_version", "access_point_arn": "access_point_arn",
    "acl_required": "acl_required", "source_region": "source_region",
}
FORMS = [("text", False), ("json", False), ("parquet", False), ("json", True),
         ("parquet", True)]


def form_id(form):
    return form[0] + ("-hive" if form[1] else "")


@pytest.fixture(scope="module")
def trees(s3la, tmp_path_factory):
    """The same requests in each form: {form id: (gen-logs folder, logs root)}."""
    out = {}
    for name, hive in FORMS:
        folder = tmp_path_factory.mktemp(form_id((name, hive)))
        p = run(s3la, "gen-logs", folder, "--start", START, "--days", DAYS,
                "--lines-per-day", LINES, "--seed", SEED, "--format", name,
                *(["--hive"] if hive else []))
        root = Path(p.stderr.strip().rsplit(" under ", 1)[1])
        out[form_id((name, hive))] = (folder, root)
    return out


def files(root: Path):
    return sorted(p for p in root.rglob("*") if p.is_file())


def stem(path: Path) -> str:
    """A delivered file's name without the form's extension."""
    return path.name.removesuffix(".json.gz").removesuffix(".parquet")


def test_the_v2_layouts(trees):
    text = [f.relative_to(trees["text"][1]) for f in files(trees["text"][1])]
    for fid, (folder, root) in trees.items():
        if fid == "text":
            continue
        rel = [f.relative_to(folder) for f in files(root)]
        assert [stem(f) for f in rel] == [f.name for f in text], fid
        for f in rel:
            parts = f.parts
            if fid.endswith("hive"):
                assert parts[:4] == ("AWSLogs", "aws-account-id=123456789012", "s3",
                                     "region=us-east-1"), parts
                y, m, d = (p.split("=")[1] for p in parts[4:7])
                assert [p.split("=")[0] for p in parts[4:7]] == ["year", "month", "day"]
            else:
                assert parts[:4] == ("AWSLogs", "123456789012", "s3", "us-east-1"), parts
                y, m, d = parts[4:7]
            assert parts[7].startswith(f"{y}-{m}-{d}-"), parts
            assert parts[7].endswith(".json.gz" if fid.startswith("json") else ".parquet")


@pytest.fixture(scope="module")
def runs(s3la, trees, tmp_path_factory):
    """`s3la run` over each form, the same execution name: {form id: results}."""
    out = {}
    for fid, (folder, _) in trees.items():
        results = tmp_path_factory.mktemp(f"results-{fid}")
        run(s3la, "run", "--logs", folder, "--results", results, "--date_range", FIRST, LAST,
            "--name", "forms")
        out[fid] = results / LABEL
    return out


def test_run_outputs_are_byte_identical_and_reports_equal(runs):
    text = runs["text"]
    report = json.loads((text / "report.json").read_text())
    report.pop("generatedAt")
    # The malformed lines (in Parquet, rows) count the same in every form.
    assert report["malformedLines"] > 0
    for fid, out in runs.items():
        for name in (f"requests-{LABEL}.parquet", f"requests-{LABEL}.csv.gz"):
            assert (out / name).read_bytes() == (text / name).read_bytes(), (fid, name)
        other = json.loads((out / "report.json").read_text())
        other.pop("generatedAt")
        assert other == report, fid


def parse_jsonl(s3la, folder, *more):
    p = run(s3la, "parse", folder, *more)
    records, errors = [], []
    for line in p.stdout.splitlines():
        obj = json.loads(line)
        if "error" in obj:
            errors.append(obj["line_number"])
        else:
            records.append(obj)
    return records, errors, p.stderr


@pytest.fixture(scope="module")
def parsed(s3la, trees):
    return {fid: parse_jsonl(s3la, folder) for fid, (folder, _) in trees.items()}


def test_parse_gives_the_same_rows_in_every_form(parsed):
    records, errors, summary = parsed["text"]
    assert len(records) > 8000 and errors
    for fid, (r, e, s) in parsed.items():
        assert r == records, fid
        # Malformed lines, and in Parquet malformed rows, at the same positions.
        assert e == errors, fid
        assert summary.split(" from ")[1].split(" in ")[0] == \
            s.split(" from ")[1].split(" in ")[0], fid


def iso(value):
    """A time as `s3la parse` writes it, from DuckDB's or the file's text."""
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        t = value
    else:
        t = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return t.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def duckdb_rows(relation):
    cols = [c for c in relation.columns]
    out = []
    for row in relation.fetchall():
        rec = dict(zip(cols, row))
        out.append({STRUCTURED[k]: (iso(v) if k == "request_time" else v)
                    for k, v in rec.items() if k in STRUCTURED})
    return out


def ours(records):
    return [{k: v for k, v in r.items() if k != "extra_fields"} for r in records]


def test_duckdb_reads_the_json_files_to_the_same_rows(trees, parsed):
    """DuckDB's read_json over the JSON files (gzip'd JSON lines; the
    malformed lines are not JSON and are skipped), row by row."""
    _, root = trees["json"]
    con = duckdb.connect()
    columns = {name: ("BIGINT" if name in ("http_status", "bytes_sent_size", "object_size",
                                           "total_duration", "turn_around_duration")
                      else "VARCHAR") for name in STRUCTURED}
    rel = con.read_json([str(f) for f in files(root)], format="newline_delimited",
                        columns=columns, ignore_errors=True)
    rows = duckdb_rows(rel)
    # DuckDB gives a line that is not JSON as a row of nulls.
    theirs = [r for r in rows if any(v is not None for v in r.values())]
    assert len(rows) - len(theirs) == len(parsed["json"][1])
    assert theirs == ours(parsed["json"][0])


def test_duckdb_reads_the_parquet_files_to_the_same_rows(trees, parsed):
    """DuckDB's read_parquet over the Parquet files, row by row; the rows whose
    request_time is no time are the malformed ones `s3la parse` counts."""
    _, root = trees["parquet"]
    con = duckdb.connect()
    paths = ", ".join(f"'{f}'" for f in files(root))
    rel = con.sql(f"SELECT * FROM read_parquet([{paths}]) "
                  "WHERE request_time SIMILAR TO '\\d{4}-\\d\\d-\\d\\dT.*Z'")
    theirs = duckdb_rows(rel)
    assert theirs == ours(parsed["parquet"][0])
    bad = con.sql(f"SELECT count(*) FROM read_parquet([{paths}]) "
                  "WHERE NOT request_time SIMILAR TO '\\d{4}-\\d\\d-\\d\\dT.*Z'").fetchall()[0][0]
    assert bad == len(parsed["parquet"][1])


def test_a_documented_record_with_nulls(s3la, tmp_path):
    """A record as "Log format in CloudWatch Logs" describes one: an ISO 8601
    time with milliseconds, null where a value is missing, an int status; a
    field this version does not know is kept."""
    record = {
        "schema_version_id": "V_1_0", "bucket_arn": "arn:aws:s3:::amzn-s3-demo-bucket1",
        "bucket_name": "amzn-s3-demo-bucket1", "request_time": "2026-07-01T12:34:56.789Z",
        "bucket_owner_id": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be",
        "remote_ip": "192.0.2.3", "requester": None, "request_id": "3E57427F3EXAMPLE",
        "operation": "REST.GET.OBJECT", "key_name": "photos/cat.jpg",
        "request_uri": "GET /amzn-s3-demo-bucket1/photos/cat.jpg HTTP/1.1",
        "http_status": 200, "error_code": None, "bytes_sent_size": 2662992,
        "object_size": 3462992, "total_duration": 70, "turn_around_duration": 10,
        "referer": None, "user_agent": "curl/8.5.0", "version_id": None,
        "future_field": "x",
    }
    path = tmp_path / "one.json"
    path.write_text(json.dumps(record) + "\n")
    records, errors, _ = parse_jsonl(s3la, path)
    assert errors == []
    (r,) = records
    assert r["request_time"] == "2026-07-01T12:34:56.789Z"
    assert r["bucket"] == "amzn-s3-demo-bucket1" and r["key"] == "photos/cat.jpg"
    assert r["requester"] is None and r["error_code"] is None and r["referer"] is None
    assert (r["http_status"], r["bytes_sent"], r["object_size"]) == (200, 2662992, 3462992)
    assert (r["total_time"], r["turn_around_time"]) == (70, 10)
    assert r["host_id"] is None and r["source_region"] is None
    assert r["extra_fields"] == ["future_field=x"]


def test_a_named_form_is_held_to(s3la, trees):
    folder, root = trees["json"]
    p = run(s3la, "parse", folder, "--log-format", "text", check=False)
    assert p.returncode != 0
    assert "holds json logs, not text (--log-format)" in p.stderr, p.stderr
    assert str(files(root)[0]) in p.stderr
    p = run(s3la, "parse", folder, "--log-format", "csv", check=False)
    assert "unknown log format 'csv': expected text, json or parquet" in p.stderr


def test_the_same_log_objects_are_removed_in_every_form(s3la, trees, tmp_path):
    """RemoveOriginalLogs reads each object in its form and its day from the
    V2 key (Hive folders too): the same deliveries go, the same stay."""
    removed = {}
    for fid in ("text", "json", "parquet-hive"):
        folder, root = trees[fid]
        logs = tmp_path / fid
        shutil.copytree(folder, logs)
        before = {stem(f) for f in files(logs)}
        out = json.loads(run(s3la, "run", "--logs", logs, "--results", tmp_path / f"r-{fid}",
                             "--date_range", FIRST, LAST, "--remove_original_logs").stdout)
        after = {stem(f) for f in files(logs)}
        removed[fid] = (before - after, out["cleanup"]["originalLogs"]["deletedRecords"])
    assert removed["text"][0], "some objects are held whole in the outputs"
    assert removed["json"] == removed["text"]
    assert removed["parquet-hive"] == removed["text"]


def test_gzip_json_lines_are_what_the_generator_writes(trees):
    _, root = trees["json"]
    first = files(root)[0]
    lines = gzip.decompress(first.read_bytes()).decode().splitlines()
    objects = [json.loads(l) for l in lines if l.startswith("{")]
    assert objects and all(o["schema_version_id"] == "V_1_0" for o in objects)
    assert all(o["bucket_arn"] == "arn:aws:s3:::" + o["bucket_name"] for o in objects)


def test_records_exported_from_a_log_group_read_as_the_json_files(s3la, trees, runs, parsed,
                                                                   tmp_path):
    """A log group's events exported to S3 (CreateExportTask) are gzip'd lines of the event's
    time, a space and the record, under `<prefix>/<task id>/<log stream>/000000.gz`: the same
    records as the JSON files, read to the same rows and the same outputs."""
    folder, root = trees["json"]
    for n, f in enumerate(files(root)):
        lines = gzip.decompress(f.read_bytes()).decode().splitlines()
        exported = []
        for line in lines:
            try:
                stamp = json.loads(line)["request_time"]
            except ValueError:
                stamp = "2024-03-01T00:00:00.000Z"  # the generator's malformed line
            exported.append(f"{stamp} {line}\n")
        out = tmp_path / "logs" / "exportedlogs" / "7c4f0d7e-task" / f"stream-{n:03d}" / "000000.gz"
        out.parent.mkdir(parents=True)
        out.write_bytes(gzip.compress("".join(exported).encode()))
    logs = tmp_path / "logs"

    records, errors, _ = parse_jsonl(s3la, logs)
    want_records, want_errors, _ = parsed["json"]
    assert len(records) > 8000 and errors
    assert records == want_records
    assert errors == want_errors

    results = tmp_path / "results"
    run(s3la, "run", "--logs", logs, "--results", results, "--date_range", FIRST, LAST,
        "--name", "forms")
    for name in (f"requests-{LABEL}.parquet", f"requests-{LABEL}.csv.gz"):
        assert (results / LABEL / name).read_bytes() == (runs["json"] / name).read_bytes(), name
    report, want = (json.loads((d / "report.json").read_text())
                    for d in (results / LABEL, runs["json"]))
    report.pop("generatedAt"), want.pop("generatedAt")
    assert report == want


def test_the_demo_in_each_form_gives_the_same_week(s3la, tmp_path):
    """`s3la demo --format` generates the same requests in the form asked, in a logs folder of
    its own, and runs them to the same outputs."""
    outputs = {}
    for form in ("text", "json", "parquet"):
        demo = tmp_path / form
        p = run(s3la, "demo", "--dir", demo, "--lines-per-day", 300, "--format", form)
        logs = demo / ("logs" if form == "text" else f"logs-{form}")
        assert f"--logs {logs}" in p.stderr
        kinds = {f.name.split(".", 1)[-1] if "." in f.name else "" for f in files(logs)}
        assert kinds == {"text": {""}, "json": {"json.gz"}, "parquet": {"parquet"}}[form], kinds
        week = demo / "results" / "2024-01-01_2024-01-07"
        outputs[form] = [(week / n).read_bytes() for n in (
            "requests-2024-01-01_2024-01-07.parquet", "requests-2024-01-01_2024-01-07.csv.gz")]
    assert outputs["json"] == outputs["text"] and outputs["parquet"] == outputs["text"]
