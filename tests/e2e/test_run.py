"""`s3la run`: the whole state machine on one machine, over generated logs,
its outputs read back by pyarrow and DuckDB and compared with an independent
computation over the raw log lines (DuckDB with its own regular expression)."""

import gzip
import json
import os
import re
import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import generated_logs, run
from log_objects import whole_in_period

# The independent reader: time, operation, key, status and bytes sent, found
# by a regular expression written here. The request URI is matched lazily up
# to the status and error code that must follow it, so quotes inside it do
# not matter.
LINE = (r'^\S+ \S+ \[([^\]]+)\] \S+ \S+ \S+ (\S+) (\S+) (?:".*?"|-) (-|\d+) \S+ (-|\d+) ')
START, END = "2024-02-27", "2024-02-29"


@pytest.fixture(scope="module")
def logs(s3la, tmp_path_factory):
    return generated_logs(s3la, tmp_path_factory, "runlogs", "2024-02-26", 5, 6000, 11)


def expected(root: Path):
    """Requests in [START, END + 1 day) from every raw line, by operation."""
    con = duckdb.connect()
    lines = [(l,) for f in sorted(root.rglob("*")) if f.is_file()
             for l in f.read_text().split("\n") if l.strip()]
    con.register("raw", pa.table({"line": [l for (l,) in lines]}))
    return con.execute(f"""
        WITH p AS (
          SELECT try_strptime(regexp_extract(line, $re, 1), '%d/%b/%Y:%H:%M:%S %z') AS t,
                 regexp_extract(line, $re, 2) AS operation,
                 nullif(regexp_extract(line, $re, 3), '-') AS key,
                 try_cast(regexp_extract(line, $re, 4) AS INTEGER) AS status,
                 try_cast(regexp_extract(line, $re, 5) AS BIGINT) AS bytes
          FROM raw WHERE regexp_matches(line, $re))
        SELECT operation, count(*), coalesce(sum(bytes), 0), count(DISTINCT key),
               count(*) FILTER (WHERE status >= 400)
        FROM p
        WHERE t >= TIMESTAMPTZ '{START} 00:00:00+00' AND t < TIMESTAMPTZ '{END} 00:00:00+00' + INTERVAL 1 DAY
        GROUP BY 1 ORDER BY 1""", {"re": LINE}).fetchall()


def ours(parquet):
    return duckdb.connect().execute(f"""
        SELECT operation, count(*), coalesce(sum(bytes_sent), 0), count(DISTINCT key),
               count(*) FILTER (WHERE http_status >= 400)
        FROM read_parquet('{parquet}') GROUP BY 1 ORDER BY 1""").fetchall()


def run_period(s3la, logs, results, *extra, env=None, check=True, **kw):
    return run(s3la, "run", "--logs", logs, "--results", results, "--date_range", START, END,
               "--wait-seconds", 0, *extra, env=env, check=check, **kw)


@pytest.fixture(scope="module")
def default_run(s3la, logs, tmp_path_factory):
    results = tmp_path_factory.mktemp("results")
    history = results / "history.json"
    p = run_period(s3la, logs, results, "--history", history, "--name", "e2e-1")
    return results, json.loads(p.stdout), p.stderr, history


def test_rows_and_sums_equal_an_independent_computation(default_run, logs):
    results, summary, _, _ = default_run
    label = f"{START}_{END}"
    parquet = results / label / f"requests-{label}.parquet"
    assert summary["outputs"]["parquet"] == f"file://{parquet}"
    theirs = expected(logs)
    assert ours(parquet) == theirs
    assert summary["rows"] == sum(r[1] for r in theirs) > 10_000


def test_late_records_need_the_slack_partition(s3la, logs, tmp_path, default_run):
    """With no slack day, requests of the last day delivered into the next
    day's folder are missed: the default slack of one day is what makes the
    count exact."""
    _, summary, _, _ = default_run
    import os
    env = {**os.environ, "LATE_DELIVERY_SLACK_DAYS": "0"}
    p = run_period(s3la, logs, tmp_path, env=env)
    assert 0 < json.loads(p.stdout)["rows"] < summary["rows"]


def test_outputs_read_back_with_independent_readers(default_run):
    results, summary, _, _ = default_run
    label = f"{START}_{END}"
    table = pq.read_table(results / label / f"requests-{label}.parquet")
    assert table.num_rows == summary["rows"]
    types = {f.name: str(f.type) for f in table.schema}
    assert types["request_time"] == "timestamp[ms, tz=UTC]"
    assert types["http_status"] == "int32" and types["bytes_sent"] == "int64"
    assert list(types)[:5] == ["request_time", "bucket", "operation", "key", "key_prefix"]
    times = table.column("request_time").to_pylist()
    assert min(times).isoformat() >= f"{START}T00:00:00" and max(times).isoformat() < "2024-03-01"
    csv = results / label / f"requests-{label}.csv.gz"
    with gzip.open(csv, "rt", newline="") as f:
        header = f.readline().strip()
    assert header.split(",")[:3] == ["request_time", "bucket", "operation"]
    con = duckdb.connect()
    n, total = con.execute(f"SELECT count(*), sum(bytes_sent) FROM read_csv('{csv}')").fetchone()
    assert n == summary["rows"]
    assert total == pc.sum(table.column("bytes_sent")).as_py()


def test_outputs_do_not_depend_on_the_cores(s3la, logs, tmp_path):
    """The embedded engine reads the logs in groups fixed by the files, not by
    the cores, so one core and every core write the same staging parts, and
    so the same output bytes (before, the part count was the core count and
    the bytes differed); its malformed-line examples are the first in file
    order, not the first a thread met."""
    usable = sorted(os.sched_getaffinity(0))
    if len(usable) < 2:
        pytest.skip("one usable core: nothing to compare it with")

    def pinned(cpus, results):
        return run_period(s3la, logs, results, "--name", "cores",
                          preexec_fn=lambda: os.sched_setaffinity(0, cpus))

    # A copy of the logs with a malformed line in every other file of one day
    # of the period: more than the ten examples kept, in several groups.
    shutil.copytree(logs, tmp_path / "logs")
    logs = tmp_path / "logs"
    inside = [f for f in sorted(logs.rglob("*")) if f.is_file() and "2024-02-28" in f.name]
    for f in inside[::2]:
        with f.open("a") as out:
            out.write("not an access log line\n")
    one, every = tmp_path / "one", tmp_path / "every"
    pinned({usable[0]}, one)
    pinned(set(usable), every)
    label = f"{START}_{END}"
    for name in (f"requests-{label}.parquet", f"requests-{label}.csv.gz"):
        assert (one / label / name).read_bytes() == (every / label / name).read_bytes(), name

    def staging(results):
        parts = sorted((results / "_staging" / label / "cores").iterdir())
        return [(p.name.rsplit("_", 1)[1], p.read_bytes()) for p in parts]

    parts = staging(one)
    assert len(parts) > 1
    assert parts == staging(every)

    def examples(results):
        [metadata] = (results / "_athena" / label / "cores").glob("*.metadata")
        return json.loads(metadata.read_text())["malformedExamples"]

    first = examples(one)
    assert first and first == examples(every)
    where = [re.match(r"(.+?):(\d+): ", e).groups() for e in first]
    assert where == sorted(where, key=lambda w: (w[0], int(w[1])))


def test_history_and_progress(default_run):
    _, summary, stderr, history = default_run
    events = json.loads(history.read_text())
    kinds = [e["type"] for e in events]
    assert kinds[0] == "ExecutionStarted" and kinds[-1] == "ExecutionSucceeded"
    entered = [e["state"] for e in events if e["type"].endswith("StateEntered")]
    assert entered[:4] == ["ComputePeriod", "LoadSettings", "NoQueryYet", "StartQuery"]
    assert "MergeResults" in entered and entered[-1] == "Done"
    assert "MergeResults ..." in stderr and "Succeeded in" in stderr
    assert summary["cleanup"] == {"meta": {"skipped": True}, "originalLogs": {"skipped": True}}


def test_rerun_replaces_outputs_and_select_all_is_raw(s3la, logs, tmp_path):
    p = run_period(s3la, logs, tmp_path, "--select_all", "--name", "raw-1")
    label = f"{START}_{END}"
    first = json.loads(p.stdout)
    p = run_period(s3la, logs, tmp_path, "--select-all", "--name", "raw-2")
    again = json.loads(p.stdout)
    assert again["outputs"] == first["outputs"] and again["rows"] == first["rows"]
    assert sorted(x.name for x in (tmp_path / label).iterdir()) == \
        ["_SUCCESS.json", "report.html", "report.json", f"requests-{label}.csv.gz",
         f"requests-{label}.parquet"]
    table = pq.read_table(tmp_path / label / f"requests-{label}.parquet")
    assert len(table.schema) == 28 and table.schema.names[-1] == "timestamp"
    row = table.slice(0, 1).to_pylist()[0]
    assert row["requestdatetime"].endswith(" +0000") and row["requestdatetime"][2] == "/"
    # The report reads selectAll's raw text columns to the same figures as the typed ones.
    raw_report = json.loads((tmp_path / label / "report.json").read_text())
    typed = run_period(s3la, logs, tmp_path / "typed", "--name", "typed-1")
    typed_report = json.loads((tmp_path / "typed" / label / "report.json").read_text())
    assert json.loads(typed.stdout)["rows"] == raw_report["overall"]["requests"]
    for field in ("overall", "daily", "operations", "statusClasses", "security", "downloadTimeMs"):
        assert raw_report[field] == typed_report[field], field
    assert row["request_uri"] == "-" or row["request_uri"].startswith('"')


def test_failed_execution_names_the_state(s3la, logs, tmp_path):
    p = run(s3la, "run", "--logs", logs, "--results", tmp_path, "--date_range", "2024-02-30",
            "2024-03-01", check=False)
    assert p.returncode == 1
    assert "error: the execution failed in the Task state ComputePeriod: InvalidInput: " \
           "dateRange.start: must be a real calendar date" in p.stderr, p.stderr
    # At the Task itself (no Fail state to fail again in): a redrive would resume there.
    assert "Fail state" not in p.stderr, p.stderr
    assert "run with --history FILE to be able to redrive it" in p.stderr, p.stderr


def test_query_counts_every_record(s3la, logs):
    p = run(s3la, "query", "SELECT count(*) AS n FROM logs WHERE requestdatetime IS NOT NULL",
            "--logs", logs, "--output", "json")
    n = json.loads(p.stdout)["n"]
    parse = run(s3la, "parse", logs, "--output", "jsonl", "--out", "/dev/null")
    # Written straight to the device: a file renamed over it would replace /dev/null itself.
    assert Path("/dev/null").is_char_device(), "s3la parse --out /dev/null replaced the device"
    assert f"{n:,} records" in parse.stderr


def test_queries_of_a_few_columns_agree_with_every_parsed_column(s3la, logs, tmp_path):
    """The table builds only the columns a query reads: a count reads none, a
    grouping a few, and the partition column comes from the folders."""
    import csv
    parsed = tmp_path / "all.parquet"
    run(s3la, "parse", logs, "--output", "parquet", "--out", parsed)
    con = duckdb.connect()
    records = con.execute(f"SELECT count(*) FROM read_parquet('{parsed}')").fetchone()[0]
    p = run(s3la, "query", "SELECT count(*) AS n FROM logs", "--logs", logs, "--output", "json")
    assert json.loads(p.stdout)["n"] == records > 0

    p = run(s3la, "query", "SELECT operation, count(*) AS n, coalesce(sum(bytessent), 0) AS bytes, "
            "count(DISTINCT key) AS keys FROM logs GROUP BY 1 ORDER BY 1", "--logs", logs,
            "--output", "csv")
    got = [(r["operation"], int(r["n"]), int(r["bytes"]), int(r["keys"]))
           for r in csv.DictReader(p.stdout.splitlines())]
    want = con.execute(f"""SELECT operation, count(*), coalesce(sum(bytessent), 0), count(DISTINCT key)
                           FROM read_parquet('{parsed}') GROUP BY 1 ORDER BY 1""").fetchall()
    assert got == [tuple(w) for w in want]

    p = run(s3la, "query", "SELECT DISTINCT timestamp FROM logs ORDER BY 1", "--logs", logs,
            "--output", "csv")
    folders = sorted({"/".join(f.parent.parts[-3:]) for f in logs.rglob("*") if f.is_file()})
    assert p.stdout.split()[1:] == folders


def test_cleanups_delete_only_the_runs_staging_and_the_periods_logs(s3la, logs, tmp_path):
    import shutil
    copy = tmp_path / "logs"
    shutil.copytree(logs, copy)
    before = sorted(p.relative_to(copy) for p in copy.rglob("*") if p.is_file())
    results = tmp_path / "results"
    out = json.loads(run_period(s3la, copy, results, "--remove_meta", "--remove_original_logs",
                                "--name", "e2e-clean").stdout)
    in_period = [p for p in before if any(f"/2024/02/{d}/" in f"/{p}" for d in ("27", "28", "29"))]
    left = sorted(p.relative_to(copy) for p in copy.rglob("*") if p.is_file())
    assert any("/2024/03/01/" in f"/{p}" for p in left), "the slack day stays"
    # Of the period's objects, only those whose every line is a record the
    # outputs hold (log_objects.py judges, independently of the parser).
    deleted = [p for p in before if p not in left]
    assert deleted and set(deleted) <= set(in_period)
    for p in deleted:
        assert whole_in_period((logs / p).read_bytes(), START, END), p
    assert out["cleanup"]["originalLogs"]["deletedObjects"] == len(deleted)
    assert out["cleanup"]["originalLogs"]["keptObjects"] == len(in_period) - len(deleted)
    assert out["cleanup"]["originalLogs"]["verifiedRows"] == {"parquet": out["rows"],
                                                              "csvGz": out["rows"]}
    files = sorted(str(p.relative_to(results)) for p in results.rglob("*") if p.is_file())
    label = "2024-02-27_2024-02-29"
    # The outputs stay; the run's parts, manifest and metadata are gone.
    assert [f for f in files if not f.startswith("_athena/queries/")] == [
        f"{label}/_SUCCESS.json", f"{label}/deleted-logs.json", f"{label}/report.html",
        f"{label}/report.json", f"{label}/requests-{label}.csv.gz",
        f"{label}/requests-{label}.parquet"]
    assert out["cleanup"]["meta"]["deletedObjects"] >= 3


def test_log_removal_refuses_results_inside_the_logs(s3la, logs, tmp_path):
    """Refused before the run starts, so nothing is written or deleted."""
    import shutil
    copy = tmp_path / "logs"
    shutil.copytree(logs, copy)
    count = sum(1 for p in copy.rglob("*") if p.is_file())
    p = run_period(s3la, copy, copy / "reports", "--remove_original_logs", check=False)
    assert p.returncode == 1
    assert "is inside --logs" in p.stderr and "Running execution" not in p.stderr, p.stderr
    assert sum(1 for q in copy.rglob("*") if q.is_file()) == count
    assert not (copy / "reports").exists()
