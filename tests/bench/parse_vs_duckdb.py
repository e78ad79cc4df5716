#!/usr/bin/env python3
"""Benchmark: a month of S3 access logs to Parquet, `s3la parse` against DuckDB,
in each form S3 delivers logs in.

For text, DuckDB does what a hand-rolled alternative does: read the raw lines,
split them with the Athena table's RegexSerDe pattern, cast the typed columns,
write zstd Parquet. For the structured delivery's files (the same requests,
`gen-logs --format json|parquet`), DuckDB reads them with read_json (gzip'd
JSON lines) or read_parquet and writes the same zstd Parquet. Each pair runs in
the same session on the same files; the table shows wall-clock seconds,
throughput and the ratio against DuckDB on the same form.

    .venv/bin/python tests/bench/parse_vs_duckdb.py [--days 31] [--lines-per-day 48000]
        [--profile release|profiling]

Generated logs are kept in bench-data/ (git-ignored) and reused.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "e2e"))
from athena_table import ATHENA_COLUMNS  # noqa: E402
INTS = {"httpstatus", "bytessent", "objectsize", "totaltime", "turnaroundtime"}


def sh(*args, **kw):
    return subprocess.run([str(a) for a in args], check=True, **kw)


def best_of(n, fn, out=None):
    """Best and median seconds of n runs of fn. With `out`, each run writes a
    new file: the previous one is removed first, untimed, so the time is the
    conversion's and not the file system's cost of replacing a large file
    (on ext4, renaming over an existing file starts writing the new one back
    to disk first: about 0.09 s for 133 MB here)."""
    times = []
    for _ in range(n):
        if out is not None:
            Path(out).unlink(missing_ok=True)
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


def duckdb_sql(files_glob: str, out: Path, regex: str) -> str:
    names = ", ".join(f"'{c}'" for c in ATHENA_COLUMNS)
    cols = []
    for c in ATHENA_COLUMNS:
        v = f"r.{c}"
        if c == "requestdatetime":
            cols.append(f"try_strptime({v}, '%d/%b/%Y:%H:%M:%S %z') AS {c}")
        elif c in INTS:
            cols.append(f"try_cast(nullif({v}, '-') AS BIGINT) AS {c}")
        else:
            cols.append(f"nullif({v}, '-') AS {c}")
    escaped = regex.replace("'", "''")
    return f"""
    COPY (
      SELECT {', '.join(cols)}
      FROM (
        SELECT regexp_extract(line, '{escaped}', [{names}]) AS r
        FROM read_csv('{files_glob}', columns = {{'line': 'VARCHAR'}}, header = false,
                      delim = '\x01', quote = '', escape = '', auto_detect = false)
      )
      WHERE r.bucketowner <> ''
    ) TO '{out}' (FORMAT parquet, COMPRESSION zstd)
    """


def arguments(doc):
    ap = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=31)
    ap.add_argument("--lines-per-day", type=int, default=48_000)
    ap.add_argument("--data", type=Path, default=REPO / "bench-data")
    ap.add_argument("--runs", type=int, default=3, help="runs of s3la (best is reported)")
    ap.add_argument("--profile", default="release", choices=["release", "profiling"],
                    help="cargo profile of the s3la measured (profiling: minutes to rebuild)")
    return ap.parse_args()


def prepare(args):
    """A release s3la and the generated logs (made once, kept in bench-data/).
    Returns (s3la, logs dir, files, total bytes, the Athena regex)."""
    profile = getattr(args, "profile", "release")
    print(f"building s3la ({profile})...", file=sys.stderr)
    sh("cargo", "build", "--profile", profile, "--quiet", "-p", "s3la", cwd=REPO)
    s3la = REPO / "target" / profile / "s3la"
    logs = generated(s3la, args, "text")
    files = [p for p in logs.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files)
    regex = sh(s3la, "ddl", "--regex", capture_output=True, text=True).stdout.strip()
    return s3la, logs, files, size, regex


def generated(s3la, args, form: str) -> Path:
    """The month of logs in `form` (the same seed: the same requests), made
    once and kept in bench-data/."""
    suffix = "" if form == "text" else f"-{form}"
    logs = args.data / f"logs-{args.days}d-{args.lines_per_day}{suffix}"
    if not logs.exists():
        print(f"generating logs into {logs}...", file=sys.stderr)
        tmp = logs.with_name(logs.name + ".partial")
        sh(s3la, "gen-logs", tmp, "--start", "2024-01-01", "--days", args.days,
           "--lines-per-day", args.lines_per_day, "--format", form)
        tmp.rename(logs)
    return logs


def duckdb_structured_sql(files: list, form: str, out: Path) -> str:
    """DuckDB reading the structured delivery's files into the same typed
    Parquet: the records' names, the time parsed, the numbers as BIGINT."""
    listed = ", ".join(f"'{f}'" for f in files)
    if form == "json":
        source = (f"read_json([{listed}], format = 'newline_delimited', "
                  f"ignore_errors = true, maximum_object_size = 1048576)")
    else:
        source = f"read_parquet([{listed}])"
    return f"""
    COPY (
      SELECT * REPLACE (try_cast(request_time AS TIMESTAMPTZ) AS request_time)
      FROM {source}
    ) TO '{out}' (FORMAT parquet, COMPRESSION zstd)
    """


def main():
    args = arguments(__doc__)
    s3la, logs, files, size, regex = prepare(args)
    lines = sum(1 for p in files for _ in open(p, "rb"))
    ours_out = args.data / "s3la.parquet"
    theirs_out = args.data / "duckdb.parquet"
    ours_best, ours_median = best_of(args.runs, lambda: sh(
        s3la, "parse", logs, "--output", "parquet", "--out", ours_out,
        stderr=subprocess.DEVNULL), out=ours_out)
    con = duckdb.connect()
    sql = duckdb_sql(str(logs / "**" / "*"), theirs_out, regex)
    theirs_best, theirs_median = best_of(1, lambda: con.execute(sql), out=theirs_out)

    count = lambda f: con.execute(f"SELECT count(*) FROM read_parquet('{f}')").fetchall()[0][0]
    ours_rows, theirs_rows = count(ours_out), count(theirs_out)
    threads = con.execute("SELECT current_setting('threads')").fetchall()[0][0]
    rows = [
        ("text: s3la parse -> Parquet", size, ours_best, ours_median, ours_rows, theirs_best),
        ("text: DuckDB regex -> Parquet", size, theirs_best, theirs_median, theirs_rows, theirs_best),
    ]
    for form in ("json", "parquet"):
        structured = generated(s3la, args, form)
        form_files = sorted(p for p in structured.rglob("*") if p.is_file())
        form_size = sum(p.stat().st_size for p in form_files)
        o_best, o_median = best_of(args.runs, lambda: sh(
            s3la, "parse", structured, "--output", "parquet", "--out", ours_out,
            stderr=subprocess.DEVNULL), out=ours_out)
        t_best, t_median = best_of(1, lambda: con.execute(
            duckdb_structured_sql(form_files, form, theirs_out)), out=theirs_out)
        rows += [
            (f"{form}: s3la parse -> Parquet", form_size, o_best, o_median, count(ours_out), t_best),
            (f"{form}: DuckDB read_{form} -> Parquet", form_size, t_best, t_median,
             count(theirs_out), t_best),
        ]

    print(f"\ninput: {len(files):,} files, {lines:,} lines, {size / 1e6:,.0f} MB; "
          f"{os.cpu_count()} cores; DuckDB {duckdb.__version__} with {threads} threads\n")
    print("| form: tool | input MB | seconds (best) | median | MB/s | records/s | rows out | "
          "speed vs DuckDB (same form) |")
    print("|---|---|---|---|---|---|---|---|")
    for name, form_size, best, median, out_rows, duck in rows:
        print(f"| {name} | {form_size / 1e6:,.0f} | {best:.2f} | {median:.2f} | "
              f"{form_size / 1e6 / best:,.0f} | {lines / best:,.0f} | {out_rows:,} | "
              f"{duck / best:.1f}x |")
    print(f"\nEach run writes a new file (the previous output is removed first, untimed, "
          f"for both tools).")
    print(f"rows out differ because the regex drops records it cannot split "
          f"(quotes inside quoted fields, 17-field records); s3la reads them. records/s "
          f"counts the text form's lines for every form (the same requests).")


if __name__ == "__main__":
    main()
