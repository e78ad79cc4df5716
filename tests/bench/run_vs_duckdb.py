#!/usr/bin/env python3
"""Benchmark: `s3la run` over a month of S3 access logs against DuckDB doing
only the parse + filter + Parquet write with the Athena table's regex.

s3la runs the whole state machine locally: period, embedded query (parse,
exact time filter, report columns), manifest, and the merge into one Parquet
file and one csv.gz. DuckDB reads the raw lines, splits them with the
RegexSerDe pattern, keeps the month's requests and writes the same report
columns to zstd Parquet. Same session, same files; the table shows
wall-clock seconds and the ratio against DuckDB.

    .venv/bin/python tests/bench/run_vs_duckdb.py [--days 31] [--lines-per-day 48000]

Generated logs are kept in bench-data/ (git-ignored) and reused.
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parse_vs_duckdb import ATHENA_COLUMNS, arguments, best_of, prepare, sh  # noqa: E402


def duckdb_sql(files_glob: str, out: Path, regex: str, start: str, end: str) -> str:
    names = ", ".join(f"'{c}'" for c in ATHENA_COLUMNS)
    escaped = regex.replace("'", "''")
    unq = lambda c: f"nullif(nullif(trim(r.{c}, '\"'), '-'), '')"
    num = lambda c, t: f"try_cast(nullif(r.{c}, '-') AS {t})"
    txt = lambda c: f"nullif(r.{c}, '-')"
    return f"""
    COPY (
      SELECT t AS request_time, {txt('bucket_name')} AS bucket, {txt('operation')} AS operation,
             {txt('key')} AS key,
             CASE WHEN {txt('key')} IS NULL THEN NULL WHEN strpos(r.key, '/') > 0
                  THEN substr(r.key, 1, strpos(r.key, '/')) ELSE '' END AS key_prefix,
             {txt('requester')} AS requester, {txt('remoteip')} AS remote_ip,
             {num('httpstatus', 'INTEGER')} AS http_status, {txt('errorcode')} AS error_code,
             {num('bytessent', 'BIGINT')} AS bytes_sent, {num('objectsize', 'BIGINT')} AS object_size,
             {num('totaltime', 'BIGINT')} AS total_time, {num('turnaroundtime', 'BIGINT')} AS turn_around_time,
             {unq('referrer')} AS referer, {unq('useragent')} AS user_agent,
             {txt('sigv')} AS signature_version, {txt('authtype')} AS authentication_type,
             {txt('tlsversion')} AS tls_version, {txt('aclrequired')} AS acl_required,
             {txt('sourceregion')} AS source_region
      FROM (
        SELECT r, try_strptime(r.requestdatetime, '%d/%b/%Y:%H:%M:%S %z') AS t
        FROM (
          SELECT regexp_extract(line, '{escaped}', [{names}]) AS r
          FROM read_csv('{files_glob}', columns = {{'line': 'VARCHAR'}}, header = false,
                        delim = '\x01', quote = '', escape = '', auto_detect = false)
        )
        WHERE r.bucketowner <> ''
      )
      WHERE t >= TIMESTAMPTZ '{start} 00:00:00+00' AND t < TIMESTAMPTZ '{end} 00:00:00+00' + INTERVAL 1 DAY
    ) TO '{out}' (FORMAT parquet, COMPRESSION zstd)
    """


def main():
    args = arguments(__doc__)
    s3la, logs, files, size, regex = prepare(args)
    start, end = "2024-01-01", f"2024-01-{min(args.days, 31):02d}"

    results = args.data / "run-results"
    summary = {}

    def ours():
        shutil.rmtree(results, ignore_errors=True)
        p = sh(s3la, "run", "--logs", logs, "--results", results, "--date_range", start, end,
               capture_output=True, text=True)
        summary.update(json.loads(p.stdout))

    ours_best, ours_median = best_of(args.runs, ours)
    theirs_out = args.data / "duckdb-run.parquet"
    con = duckdb.connect()
    sql = duckdb_sql(str(logs / "**" / "*"), theirs_out, regex, start, end)
    theirs_best, theirs_median = best_of(1, lambda: con.execute(sql))
    theirs_rows = con.execute(f"SELECT count(*) FROM read_parquet('{theirs_out}')").fetchone()[0]
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]

    print(f"\ninput: {len(files):,} files, {size / 1e6:,.0f} MB, period {start} to {end}; "
          f"{os.cpu_count()} cores; DuckDB {duckdb.__version__} with {threads} threads\n")
    print("| tool | seconds (best) | median | MB/s | rows out | speed vs DuckDB |")
    print("|---|---|---|---|---|---|")
    for name, best, median, rows in [
        ("s3la run (whole state machine: query + merge to Parquet and csv.gz)", ours_best, ours_median, summary["rows"]),
        ("DuckDB regex + filter -> Parquet", theirs_best, theirs_median, theirs_rows),
    ]:
        print(f"| {name} | {best:.2f} | {median:.2f} | {size / 1e6 / best:,.0f} | {rows:,} | "
              f"{theirs_best / best:.1f}x |")


if __name__ == "__main__":
    main()
