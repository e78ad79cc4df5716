"""The Athena SQL StartQuery submits, read by an independent parser (sqlglot,
Athena dialect), and every string that could reach it tried with injections."""

import re

import pytest
import sqlglot
from sqlglot import exp

from conftest import aws_env, run

SETTINGS = dict(ATHENA_DATABASE="s3_access_logs_db", ATHENA_TABLE="mybucket_logs",
                RESULT_PATH="s3://results-bucket/reports", PROJECTION_START="2020-01-01")
REPORT_COLUMNS = ["request_time", "bucket", "operation", "key", "key_prefix", "requester",
                  "remote_ip", "http_status", "error_code", "bytes_sent", "object_size",
                  "total_time", "turn_around_time", "referer", "user_agent",
                  "signature_version", "authentication_type", "tls_version", "acl_required",
                  "source_region"]
UNLOAD = re.compile(r"\AUNLOAD \(\n(?P<select>.*)\n\)\nTO '(?P<to>s3://[^']*)'\n"
                    r"WITH \(format = 'PARQUET', compression = '(?P<compression>[A-Z]+)'\)\Z", re.S)


def sql(s3la, *args, **settings):
    env = aws_env("http://127.0.0.1:9", **{**SETTINGS, **settings})
    return run(s3la, "sql", "--execution", "exec-1", *args, env=env, check=False)


def parse(statement):
    m = UNLOAD.match(statement)
    assert m, statement
    # sqlglot does not parse UNLOAD itself: parse the SELECT inside it.
    tree = sqlglot.parse_one(m["select"], read="athena", error_level=sqlglot.ErrorLevel.RAISE)
    assert isinstance(tree, exp.Select)
    return tree, m


def literals(node):
    return {lit.this for lit in node.find_all(exp.Literal) if lit.is_string}


@pytest.mark.parametrize("args, first, last, window", [
    (["--frequency", "weekly", "--now", "2024-01-03T10:00:00Z"],
     "2023/12/25", "2024/01/01", ("2023-12-25", "2024-01-01")),
    (["--frequency", "monthly", "--now", "2024-03-01T00:00:00Z"],
     "2024/02/01", "2024/03/01", ("2024-02-01", "2024-03-01")),
    (["--frequency", "quarterly", "--now", "2024-01-15T00:00:00Z"],
     "2023/10/01", "2024/01/01", ("2023-10-01", "2024-01-01")),
    (["--date_range", "2024-02-28", "2024-03-01", "--now", "2024-06-01T00:00:00Z"],
     "2024/02/28", "2024/03/02", ("2024-02-28", "2024-03-02")),
])
def test_default_query_parses_and_filters_exactly(s3la, args, first, last, window):
    p = sql(s3la, *args)
    assert p.returncode == 0, p.stderr
    tree, m = parse(p.stdout.strip())
    assert [s.alias_or_name for s in tree.selects] == REPORT_COLUMNS
    inner = tree.find(exp.Subquery).this
    tables = list(inner.find_all(exp.Table))
    assert [(t.db, t.name) for t in tables] == [("s3_access_logs_db", "mybucket_logs")]
    between = inner.args["where"].find(exp.Between)
    assert between.this.name == "timestamp"
    assert (between.args["low"].this, between.args["high"].this) == (first, last)
    outer_where = tree.args["where"]
    assert {c.__class__ for c in outer_where.find_all(exp.GTE, exp.LT)} == {exp.GTE, exp.LT}
    assert literals(outer_where) == {f"{window[0]} 00:00:00.000 UTC", f"{window[1]} 00:00:00.000 UTC"}
    # OR the rows without a time: the lines the table cannot read, counted by the report.
    assert isinstance(outer_where.this, exp.Or)
    [is_null] = [n for n in outer_where.find_all(exp.Is) if isinstance(n.expression, exp.Null)]
    assert is_null.this.name == "s3la_request_time"
    assert m["to"].startswith("s3://results-bucket/reports/_staging/")
    assert m["to"].endswith("/exec-1/")
    assert m["compression"] == "ZSTD"


def test_select_all_and_options(s3la):
    p = sql(s3la, "--select_all", "--exclude-bucket-operations", "--date_range", "2024-01-01",
            "2024-01-31", "--now", "2024-02-02T00:00:00Z", S3_LOGS_LAYOUT="simple",
            UNLOAD_COMPRESSION="snappy")
    assert p.returncode == 0, p.stderr
    tree, m = parse(p.stdout.strip())
    names = [s.alias_or_name for s in tree.selects]
    assert names[:3] == ["bucketowner", "bucket_name", "requestdatetime"]
    assert len(names) == 27 and "timestamp" not in names  # no partitions in the simple layout
    assert tree.find(exp.Between) is None
    assert any(isinstance(n, exp.NEQ) and n.this.name == "key" for n in tree.find_all(exp.NEQ))
    assert m["compression"] == "SNAPPY"
    assert m["to"] == "s3://results-bucket/reports/_staging/2024-01-01_2024-01-31/exec-1/"


@pytest.mark.parametrize("form, hive, first, last", [
    ("json", "false", "2024/02/28", "2024/03/02"),
    ("parquet", "true", "year=2024/month=02/day=28", "year=2024/month=03/day=02"),
])
def test_structured_sources_query_typed_columns_without_a_pattern(s3la, form, hive, first, last):
    """Over the structured delivery's table (LOG_FORMAT json or parquet) the
    SELECT reads the records' own names, parses the ISO 8601 time, casts no
    text to numbers, and filters partitions in the folders' shape."""
    p = sql(s3la, "--date_range", "2024-02-28", "2024-03-01", "--now", "2024-06-01T00:00:00Z",
            "--exclude-bucket-operations", LOG_FORMAT=form, LOG_HIVE_PATHS=hive)
    assert p.returncode == 0, p.stderr
    tree, _ = parse(p.stdout.strip())
    assert [s.alias_or_name for s in tree.selects] == REPORT_COLUMNS
    read = {c.name for c in tree.find_all(exp.Column)}
    assert {"key_name", "bucket_name", "bytes_sent_size", "total_duration",
            "turn_around_duration", "http_status"} <= read
    assert not read & {"requestdatetime", "bytessent", "httpstatus", "key"}
    # The only cast is the parsed time's to a timestamp: no text becomes a number.
    # (sqlglot reads the window's TIMESTAMP literals as casts of strings.)
    cast_columns = [c.name for cast in tree.find_all(exp.Cast, exp.TryCast)
                    for c in cast.find_all(exp.Column)]
    assert cast_columns == ["s3la_request_time"]
    assert "from_iso8601_timestamp" in p.stdout and "parse_datetime" not in p.stdout
    assert "'-'" not in p.stdout
    between = tree.find(exp.Subquery).this.args["where"].find(exp.Between)
    assert (between.args["low"].this, between.args["high"].this) == (first, last)


def test_structured_ddl(s3la):
    env = aws_env("http://127.0.0.1:9", **SETTINGS,
                  S3_LOGS_LOCATION="s3://log-bucket/AWSLogs/123456789012/s3/us-east-1/")
    for form, stored in [("json", "org.apache.hive.hcatalog.data.JsonSerDe"),
                         ("parquet", "STORED AS PARQUET")]:
        p = run(s3la, "ddl", "--source", form, env=env)
        assert stored in p.stdout
        assert "RegexSerDe" not in p.stdout and "input.regex" not in p.stdout
        for column in ("`schema_version_id` STRING", "`bucket_arn` STRING",
                       "`request_time` STRING", "`http_status` INT",
                       "`bytes_sent_size` BIGINT", "`key_name` STRING"):
            assert column in p.stdout, (form, column)
        assert "'projection.timestamp.format' = 'yyyy/MM/dd'" in p.stdout
    p = run(s3la, "ddl", "--source", "json", "--hive", env=env)
    assert "'projection.timestamp.range' = 'year=2020/month=01/day=01,NOW'" in p.stdout
    p = run(s3la, "ddl", "--hive", env=env, check=False)
    assert p.returncode != 0 and "--hive is for the structured forms" in p.stderr
    p = sql(s3la, "--date_range", "2024-01-01", "2024-01-02", LOG_FORMAT="xml")
    assert p.returncode != 0 and "LOG_FORMAT" in p.stderr and "text, json or parquet" in p.stderr


INJECTIONS = ["x'; DROP TABLE logs; --", 'x"; DROP TABLE logs; --', "x` --", "x\\' OR 1=1"]


@pytest.mark.parametrize("bad", INJECTIONS)
@pytest.mark.parametrize("setting", ["ATHENA_DATABASE", "ATHENA_TABLE", "RESULT_PATH",
                                     "ATHENA_WORKGROUP", "PROJECTION_START", "UNLOAD_COMPRESSION"])
def test_injection_in_settings_is_refused(s3la, setting, bad):
    value = f"s3://results-bucket/{bad}" if setting == "RESULT_PATH" else bad
    p = sql(s3la, "--frequency", "weekly", **{setting: value})
    assert p.returncode == 1 and p.stdout == ""
    assert p.stderr.startswith(f"error: {setting}: "), p.stderr


@pytest.mark.parametrize("bad", INJECTIONS)
def test_injection_in_request_is_refused(s3la, bad):
    for args, field in [
        (["--date_range", bad, "2024-01-31"], "dateRange.start"),
        (["--date_range", "2024-01-01", bad], "dateRange.end"),
        (["--now", bad], "now"),
    ]:
        p = sql(s3la, *args)
        assert p.returncode == 1 and p.stdout == "", args
        assert p.stderr.startswith(f"error: InvalidInput: {field}: "), p.stderr
    env = aws_env("http://127.0.0.1:9", **SETTINGS)
    p = run(s3la, "sql", "--execution", bad, env=env, check=False)
    assert p.returncode == 1
    assert p.stderr.startswith("error: InvalidInput: execution.name: "), p.stderr
