"""`s3la parse` end to end: its outputs read back by independent readers
(pyarrow, DuckDB, Python's json and csv) and checked against the raw logs,
parsed independently with the RegexSerDe pattern of the Athena table."""

import csv
import io
import json
import re
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from athena_table import ATHENA_COLUMNS
from conftest import REPO, run

JSON_FIELDS = [
    "bucket_owner", "bucket", "request_time", "remote_ip", "requester", "request_id",
    "operation", "key", "request_uri", "http_status", "error_code", "bytes_sent",
    "object_size", "total_time", "turn_around_time", "referer", "user_agent", "version_id",
    "host_id", "signature_version", "cipher_suite", "authentication_type", "host_header",
    "tls_version", "access_point_arn", "acl_required", "source_region", "extra_fields",
]


def log_files(root: Path):
    return sorted(p for p in root.rglob("*") if p.is_file())


def raw_lines(root: Path):
    """Non-blank lines of every file, in the order s3la reads them."""
    out = []
    for f in log_files(root):
        for n, line in enumerate(f.read_text().split("\n"), 1):
            if line.strip():
                out.append((f, n, line))
    return out


def summary_counts(stderr: str):
    m = re.search(r"([\d,]+) records, ([\d,]+) malformed", stderr)
    assert m, stderr
    return int(m[1].replace(",", "")), int(m[2].replace(",", ""))


@pytest.fixture(scope="module")
def parquet_out(s3la, logs, tmp_path_factory):
    root, _ = logs
    out = tmp_path_factory.mktemp("pq") / "logs.parquet"
    p = run(s3la, "parse", root, "--output", "parquet", "--out", out)
    return out, summary_counts(p.stderr)


def test_generator_reports_what_it_wrote(logs):
    root, summary = logs
    m = re.search(r"wrote ([\d,]+) records \(([\d,]+) malformed lines, ([\d,]+) delivered", summary)
    records, malformed, late = (int(g.replace(",", "")) for g in m.groups())
    assert len(raw_lines(root)) == records + malformed
    assert malformed > 0 and late > 0
    # Date-based layout: <account>/<region>/<bucket>/YYYY/MM/DD/YYYY-MM-DD-hh-mm-ss-UNIQUE
    for f in log_files(root):
        rel = f.relative_to(root).parts
        assert rel[:3] == ("123456789012", "us-east-1", "amzn-s3-demo-bucket"), rel
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-[0-9A-F]{16}", rel[-1])
        assert rel[-1][:10] == "-".join(rel[3:6])


def test_parquet_schema_and_counts(parquet_out, logs):
    out, (records, malformed) = parquet_out
    table = pq.read_table(out)
    assert table.column_names == ATHENA_COLUMNS + ["extra_fields"]
    assert table.schema.field("requestdatetime").type == pa.timestamp("ms", tz="UTC")
    assert table.schema.field("httpstatus").type == pa.int32()
    for c in ["bytessent", "objectsize", "totaltime", "turnaroundtime"]:
        assert table.schema.field(c).type == pa.int64()
    assert table.num_rows == records
    assert records + malformed == len(raw_lines(logs[0]))


def test_parquet_matches_regex_parse_of_raw_logs(parquet_out, logs, s3la):
    """Every line the Athena table's regex reads gives the same values as our
    Parquet; the lines it cannot read are exactly those with quotes inside a
    quoted field, which our parser reads and the regex drops."""
    out, (records, malformed) = parquet_out
    root, _ = logs
    regex = run(s3la, "ddl", "--regex").stdout.strip()
    con = duckdb.connect()
    lines = [(str(f), n, line) for f, n, line in raw_lines(root)]
    con.execute("CREATE TABLE raw(file VARCHAR, n BIGINT, line VARCHAR)")
    con.executemany("INSERT INTO raw VALUES (?, ?, ?)", lines)
    names = ", ".join(f"'{c}'" for c in ATHENA_COLUMNS)
    con.execute(f"""
        CREATE TABLE theirs AS
        SELECT file, n, line, regexp_extract(line, $re, [{names}]) AS r,
               regexp_full_match(line, $re) AS matched
        FROM raw""", {"re": regex})
    con.execute(f"CREATE TABLE ours AS SELECT * FROM read_parquet('{out}')")
    unq = lambda c: f"nullif(trim(r.{c}, '\"'), '-')"
    num = lambda c: f"try_cast(nullif(r.{c}, '-') AS BIGINT)"
    con.execute(f"""
        CREATE TABLE parsed AS SELECT
          nullif(r.bucketowner, '-') AS bucketowner, nullif(r.bucket_name, '-') AS bucket_name,
          try_strptime(r.requestdatetime, '%d/%b/%Y:%H:%M:%S %z') AS t,
          nullif(r.remoteip, '-') AS remoteip, nullif(r.requester, '-') AS requester,
          r.requestid, r.operation, nullif(r.key, '-') AS key, {unq('request_uri')} AS request_uri,
          {num('httpstatus')} AS httpstatus, nullif(r.errorcode, '-') AS errorcode,
          {num('bytessent')} AS bytessent, {num('objectsize')} AS objectsize,
          {num('totaltime')} AS totaltime, {num('turnaroundtime')} AS turnaroundtime,
          {unq('referrer')} AS referrer, {unq('useragent')} AS useragent,
          nullif(nullif(r.sigv, '-'), '') AS sigv, nullif(nullif(r.tlsversion, '-'), '') AS tlsversion,
          nullif(nullif(r.sourceregion, '-'), '') AS sourceregion,
          -- The regex's optional group needs all nine trailing fields: for
          -- records with 24-26 fields it reads none of them.
          r.hostid <> '' AS all_fields, line
        FROM theirs WHERE matched""")
    readable = con.execute("SELECT count(*) FROM parsed WHERE t IS NOT NULL").fetchone()[0]
    assert 0 < readable < records
    # Each regex-readable record appears in our output with identical values
    # (the trailing fields only where the regex read them).
    head = ["bucketowner", "bucket_name", "remoteip", "requester", "requestid", "operation",
            "key", "request_uri", "httpstatus", "errorcode", "bytessent", "objectsize",
            "totaltime", "turnaroundtime", "referrer", "useragent"]
    tail = ["sigv", "tlsversion", "sourceregion"]

    def rows(cols, where_theirs="TRUE", where_ours="TRUE"):
        theirs = f"SELECT epoch(t)::BIGINT AS ts, {', '.join(cols)} FROM parsed WHERE t IS NOT NULL AND {where_theirs}"
        ours = f"SELECT epoch(requestdatetime)::BIGINT AS ts, {', '.join(cols)} FROM ours WHERE {where_ours}"
        return theirs, ours

    theirs_rows, ours_rows = rows(head)
    missing = con.execute(f"SELECT * FROM ({theirs_rows} EXCEPT ALL {ours_rows}) LIMIT 3").fetchall()
    assert missing == []
    full_theirs, full_ours = rows(head + tail, "all_fields", "hostid IS NOT NULL")
    missing = con.execute(f"SELECT * FROM ({full_theirs} EXCEPT ALL {full_ours}) LIMIT 3").fetchall()
    assert missing == []
    assert con.execute("SELECT count(*) FROM parsed WHERE all_fields").fetchone()[0] > readable // 2
    # The records only we read hold a quote inside a quoted field, or are
    # 17-field records (ending at the user agent), which the regex needs a
    # space after.
    extra = con.execute(f"SELECT count(*) FROM ({ours_rows} EXCEPT ALL {theirs_rows})").fetchone()[0]
    assert extra == records - readable
    quoted_inside = con.execute("""
        SELECT count(*) FROM ours
        WHERE contains(useragent, '"') OR contains(request_uri, '"') OR contains(referrer, '"')
    """).fetchone()[0]
    seventeen = sum(1 for _, _, l in raw_lines(root) if l.count('"') == 6 and l.endswith('"'))
    assert seventeen > 0
    assert quoted_inside + seventeen == extra


def test_jsonl_fields_order_and_inline_errors(s3la, logs, parquet_out):
    root, _ = logs
    _, (records, malformed) = parquet_out
    p = run(s3la, "parse", root)
    rows = [json.loads(l) for l in p.stdout.splitlines()]
    assert len(rows) == records + malformed == len(raw_lines(root))
    good = [r for r in rows if "error" not in r]
    bad = [r for r in rows if "error" in r]
    assert len(good) == records and len(bad) == malformed
    assert list(good[0].keys()) == JSON_FIELDS
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", good[0]["request_time"])
    assert all(isinstance(r["http_status"], (int, type(None))) for r in good)
    # Input order: each error sits at its line, with the file and line number.
    expected = [(str(f), n) for f, n, line in raw_lines(root)]
    for i, r in enumerate(rows):
        if "error" in r:
            assert (r["file"], r["line_number"]) == expected[i]
            assert ":" in r["error"]
    assert f"{malformed} malformed" in p.stderr.replace(",", "")


def test_csv_reads_back_with_python_csv(s3la, logs, parquet_out):
    root, _ = logs
    _, (records, _) = parquet_out
    p = run(s3la, "parse", root, "--output", "csv")
    rows = list(csv.reader(io.StringIO(p.stdout)))
    assert rows[0] == JSON_FIELDS
    assert len(rows) - 1 == records
    uas = {r[16] for r in rows[1:]}
    assert any('"' in ua for ua in uas), "quotes survive CSV quoting"


def test_stdin_and_fields_of_the_aws_sample(s3la):
    sample = (REPO / "tests/fixtures/aws-doc-sample.log").read_text()
    p = run(s3la, "parse", "-", input=sample.replace("\n", "\r\n"))
    rows = [json.loads(l) for l in p.stdout.splitlines()]
    assert len(rows) == 5
    assert rows[0]["request_time"] == "2019-02-06T00:00:38Z"
    assert rows[0]["source_region"] == "us-east-1"
    assert rows[4]["object_size"] == 4406583 and rows[4]["bytes_sent"] is None


def test_strict_writes_nothing_and_fails(s3la, logs, tmp_path):
    root, _ = logs
    out = tmp_path / "x.parquet"
    p = run(s3la, "parse", root, "--strict", "-o", "parquet", "--out", out, check=False)
    assert p.returncode == 1
    assert "malformed" in p.stderr and "was not written" in p.stderr
    assert list(tmp_path.iterdir()) == []


def test_bad_input_paths_and_flags_are_named(s3la, tmp_path):
    p = run(s3la, "parse", tmp_path / "nope", check=False)
    assert p.returncode != 0 and "nope" in p.stderr
    p = run(s3la, "parse", "-", "--output", "xml", check=False)
    assert p.returncode == 2 and "--output" in p.stderr and "jsonl" in p.stderr


def test_ddl_from_environment_and_refusals(s3la):
    env = {"ATHENA_DATABASE": "s3_access_logs_db", "ATHENA_TABLE": "mybucket_logs",
           "S3_LOGS_LOCATION": "s3://my-log-bucket/logs/123456789012/us-east-1/mybucket/",
           "PATH": "/usr/bin:/bin"}
    p = run(s3la, "ddl", "--projection_start", "2023-06-01", env=env)
    assert "CREATE DATABASE IF NOT EXISTS `s3_access_logs_db`;" in p.stdout
    assert "`s3_access_logs_db`.`mybucket_logs`" in p.stdout
    assert "'projection.timestamp.range' = '2023/06/01,NOW'" in p.stdout
    for var, bad in [("ATHENA_TABLE", "logs; DROP TABLE x"), ("ATHENA_DATABASE", "Db"),
                     ("S3_LOGS_LOCATION", "s3://my-log-bucket/a'b/")]:
        p = run(s3la, "ddl", env={**env, var: bad}, check=False)
        assert p.returncode == 1 and var in p.stderr, p.stderr
        assert p.stdout == ""
    p = run(s3la, "ddl", env={"PATH": "/usr/bin:/bin"}, check=False)
    assert p.returncode == 1 and "ATHENA_DATABASE is not set" in p.stderr
