#!/usr/bin/env python3
"""Benchmark: `s3la merge` of a selectAll month of Athena UNLOAD parts
against the original tool's way, in the same run.

The parts are made once from generated logs: `s3la run --select_all` over
the month, its rows rewritten as Athena's UNLOAD writes them (gzip Parquet,
INT96 nanosecond times, several files). The original way reads every part
into memory with pyarrow, writes one Parquet file, and one csv.gz through
Python's gzip module (its default level). `s3la merge` streams the parts
into one zstd Parquet and one csv.gz compressed in parallel gzip members.

Each command runs in its own process; the table shows wall-clock seconds
(best of --runs), peak resident memory (GNU time's maximum RSS; needs
/usr/bin/time, Debian's `time` package), and ratios against the original way. s3la also runs on the input doubled (every part twice), to
show its memory stays flat as the input grows.

    .venv/bin/python tests/bench/merge_vs_python.py [--days 31] [--lines-per-day 48000] [--parts 16]
"""

import argparse
import gzip
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from parse_vs_duckdb import REPO, prepare, sh  # noqa: E402


def original_way(parts_dir: Path, out: Path) -> None:
    """The original tool's merge: everything in memory, then Python's gzip."""
    parts = sorted(p for p in parts_dir.iterdir() if not p.name.startswith("."))
    table = pa.concat_tables(pq.read_table(p) for p in parts)
    out.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, out / "merged.parquet")
    with gzip.open(out / "merged.csv.gz", "wb") as f:
        pacsv.write_csv(table, f)


def make_parts(s3la: Path, logs: Path, days: int, data: Path, count: int) -> Path:
    """The month's selectAll rows as UNLOAD parts (made once, kept in data/)."""
    parts = data / f"unload-{logs.name}-{count}parts"
    if parts.exists():
        return parts
    print(f"writing UNLOAD-like parts into {parts}...", file=sys.stderr)
    results = data / "merge-bench-run"
    shutil.rmtree(results, ignore_errors=True)
    end = f"2024-01-{days:02d}" if days <= 31 else None
    if end is None:
        raise SystemExit("--days must be at most 31 (one month)")
    sh(s3la, "run", "--logs", logs, "--results", results, "--date_range", "2024-01-01", end,
       "--select_all", "--name", "bench", stdout=subprocess.DEVNULL)
    staging = next((results / "_staging").glob("*/bench"))
    table = pa.concat_tables(pq.read_table(p) for p in sorted(staging.iterdir()))
    # Athena's INT96: nanoseconds, no time zone.
    table = pa.table({
        n: (pc.cast(pc.cast(c, pa.timestamp("ms")), pa.timestamp("ns"))
            if pa.types.is_timestamp(c.type) else c)
        for n, c in zip(table.column_names, table.columns)
    })
    tmp = parts.with_name(parts.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    step = -(-len(table) // count)
    for i in range(count):
        pq.write_table(table.slice(i * step, step), tmp / f"20240201_000000_00000_q{i:05d}.gz.parquet",
                       compression="gzip", use_deprecated_int96_timestamps=True)
    tmp.rename(parts)
    shutil.rmtree(results)
    return parts


def doubled(parts: Path) -> Path:
    """The same parts twice (hard links): twice the input, same content."""
    twice = parts.with_name(parts.name + "-x2")
    if not twice.exists():
        twice.mkdir()
        for p in sorted(parts.iterdir()):
            for copy in ("a", "b"):
                os.link(p, twice / f"{copy}-{p.name}")
    return twice


def measured(cmd) -> tuple[float, int]:
    """(seconds, peak RSS bytes) of one run of `cmd` in its own process.

    The peak comes from GNU time: a child forked from this (large) Python
    process would report this process's high-water mark as its own."""
    t0 = time.perf_counter()
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", *map(str, cmd)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{cmd[0]} failed:\n{proc.stderr}")
    return seconds, int(proc.stderr.strip().splitlines()[-1]) * 1024


def best(runs: int, cmd) -> tuple[float, int]:
    results = [measured(cmd) for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--days", type=int, default=31)
    ap.add_argument("--lines-per-day", type=int, default=48_000)
    ap.add_argument("--parts", type=int, default=16)
    ap.add_argument("--data", type=Path, default=REPO / "bench-data")
    ap.add_argument("--runs", type=int, default=3, help="runs of s3la (best is reported)")
    ap.add_argument("--original-way", nargs=2, type=Path, metavar=("PARTS", "OUT"),
                    help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.original_way:
        original_way(*args.original_way)
        return

    s3la, logs, _, _, _ = prepare(args)
    parts = make_parts(s3la, logs, args.days, args.data, args.parts)
    twice = doubled(parts)
    size = sum(p.stat().st_size for p in parts.iterdir())
    rows = sum(pq.ParquetFile(p).metadata.num_rows for p in parts.iterdir())
    out = args.data / "merge-bench-out"
    shutil.rmtree(out, ignore_errors=True)

    original = measured([sys.executable, __file__, "--original-way", parts, out / "original"])
    ours = best(args.runs, [s3la, "merge", "--parts", parts, "--out", out / "s3la"])
    ours_x2 = best(args.runs, [s3la, "merge", "--parts", twice, "--out", out / "s3la-x2"])

    merged = pq.ParquetFile(out / "s3la" / "merged.parquet")
    assert merged.metadata.num_rows == rows, "s3la merged every row"
    assert pq.ParquetFile(out / "s3la-x2" / "merged.parquet").metadata.num_rows == 2 * rows

    mib = lambda b: f"{b / 2**20:,.0f} MiB"
    print(f"\n{rows:,} rows in {args.parts} gzip Parquet parts ({size / 1e6:.0f} MB), "
          f"{os.cpu_count()} cores\n")
    print("| run | input | seconds | peak memory | rows/s | speed vs original | memory vs original |")
    print("|---|---|---:|---:|---:|---:|---:|")
    base_rate = rows / original[0]
    print(f"| original way (pyarrow in memory + Python gzip) | 1x | {original[0]:.2f} | "
          f"{mib(original[1])} | {base_rate:,.0f} | 1.0x | 1.00 |")
    for (sec, rss), factor in ((ours, 1), (ours_x2, 2)):
        rate = factor * rows / sec
        print(f"| s3la merge | {factor}x | {sec:.2f} | {mib(rss)} | {rate:,.0f} | "
              f"{rate / base_rate:.2f}x | {rss / original[1]:.2f} |")
    print(f"\ns3la peak memory with the input doubled: {ours_x2[1] / ours[1]:.2f}x of the 1x run")
    sizes = {p.name: p.stat().st_size for p in (out / "s3la").iterdir()}
    print(f"s3la outputs: {', '.join(f'{k} {v / 1e6:.0f} MB' for k, v in sorted(sizes.items()))}")


if __name__ == "__main__":
    main()
