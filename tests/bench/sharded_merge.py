#!/usr/bin/env python3
"""Benchmark: `s3la merge --shards N` against the number of shards and cores.

The input is the month of Athena-UNLOAD-like parts `merge_vs_python.py`
makes (selectAll rows, gzip Parquet, INT96 times; made once into
bench-data/), written here in row groups of --row-group-rows so that shards
can be cut finer than parts. For each core count (the command pinned to the
first N cores, its affinity mask, which s3la sizes its pools from) and each
shard count, `s3la merge --parts P --out O --shards S` runs --runs times;
the table gives the best wall-clock seconds, the peak resident memory (GNU
time's maximum RSS), and from the merge's own summary the seconds spent
merging the shards and then assembling the two outputs from them, with the
bytes the assembly copied and read. Every output is checked against the
one-shard merge: the same rows (pyarrow) and the same CSV text.

    .venv/bin/python tests/bench/sharded_merge.py --s3la target/profiling/s3la \\
        [--shards 1,2,4,8,16] [--cores 1,2]

Without --s3la a release build is made first (20+ minutes cold on 2 cores).
"""

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent))
from merge_vs_python import make_parts  # noqa: E402
from parse_vs_duckdb import REPO  # noqa: E402
from scaling import core_counts  # noqa: E402


def arguments():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--s3la", type=Path, help="the s3la binary (default: a release build)")
    ap.add_argument("--logs", type=Path, default=REPO / "bench-data" / "logs-35d-50000-s11",
                    help="generated logs covering January 2024 (scaling.py makes these)")
    ap.add_argument("--data", type=Path, default=REPO / "bench-data")
    ap.add_argument("--parts", type=int, default=16, help="UNLOAD-like parts of the month")
    ap.add_argument("--row-group-rows", type=int, default=20_000)
    ap.add_argument("--shards", default="1,2,4,8,16")
    ap.add_argument("--cores", help="comma-separated core counts (default 1, 2, 4, ... all)")
    ap.add_argument("--runs", type=int, default=2)
    return ap.parse_args()


def regrouped(parts: Path, rows: int) -> Path:
    """The parts rewritten in row groups of `rows` (made once)."""
    out = parts.with_name(f"{parts.name}-rg{rows}")
    if out.exists():
        return out
    tmp = out.with_name(out.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir()
    for p in sorted(parts.iterdir()):
        pq.write_table(pq.read_table(p), tmp / p.name, compression="gzip",
                       use_deprecated_int96_timestamps=True, row_group_size=rows)
    tmp.rename(out)
    return out


def csv_digest(path):
    """SHA-256 of the csv.gz's text, every member read (`gzip -dc`), streamed."""
    digest = hashlib.sha256()
    with subprocess.Popen(["gzip", "-dc", str(path)], stdout=subprocess.PIPE) as p:
        for chunk in iter(lambda: p.stdout.read(1 << 20), b""):
            digest.update(chunk)
    if p.returncode != 0:
        sys.exit(f"gzip could not read {path}")
    return digest.hexdigest()


def merge(s3la, parts, out, shards, cpus):
    """(seconds, peak MiB, summary) of one `s3la merge` pinned to `cpus`."""
    shutil.rmtree(out, ignore_errors=True)
    with tempfile.NamedTemporaryFile() as peak:
        cmd = ["/usr/bin/time", "-f", "%e %M", "-o", peak.name, str(s3la), "merge",
               "--parts", str(parts), "--out", str(out), "--shards", str(shards)]
        p = subprocess.run(cmd, capture_output=True, text=True,
                           preexec_fn=lambda: os.sched_setaffinity(0, cpus))
        if p.returncode != 0:
            sys.exit(f"s3la merge failed:\n{p.stderr[-3000:]}")
        seconds, kib = Path(peak.name).read_text().split()[-2:]
    return float(seconds), int(kib) / 1024, json.loads(p.stdout)


def main():
    args = arguments()
    usable = sorted(os.sched_getaffinity(0))
    if args.s3la:
        s3la = args.s3la.resolve()
    else:
        subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "s3la"], cwd=REPO,
                       check=True)
        s3la = REPO / "target" / "release" / "s3la"
    if not args.logs.exists():
        sys.exit(f"{args.logs} is missing: run tests/bench/scaling.py once to make it")
    parts = regrouped(make_parts(s3la, args.logs, 31, args.data, args.parts),
                      args.row_group_rows)
    size = sum(p.stat().st_size for p in parts.iterdir())
    groups = sum(pq.ParquetFile(p).metadata.num_row_groups for p in parts.iterdir())
    work = args.data / "sharded-merge"
    shutil.rmtree(work, ignore_errors=True)
    reference = None
    rows = []
    for n in core_counts(args.cores, usable):
        cpus = set(usable[:n])
        for shards in [int(s) for s in args.shards.split(",")]:
            out = work / f"c{n}-s{shards}"
            runs = [merge(s3la, parts, out, shards, cpus) for _ in range(args.runs)]
            seconds, peak, summary = min(runs, key=lambda r: r[0])
            table = pq.read_table(out / "merged.parquet")
            text = csv_digest(out / "merged.csv.gz")
            if reference is None:
                reference = (table, text)
            assert table.equals(reference[0]) and text == reference[1], (n, shards)
            del table
            a = summary["assembly"]
            rows.append((n, summary["shards"], seconds, peak, a))
            print(json.dumps({"cores": n, "shards": summary["shards"], "seconds": seconds,
                              "peak_mib": peak, **a}), file=sys.stderr)
            shutil.rmtree(out)
    print(f"\ninput: {parts.name}, {size / 1e6:,.0f} MB in {args.parts} parts, {groups} row "
          f"groups, {reference[0].num_rows:,} rows; {len(usable)} usable cores; "
          f"best of {args.runs}\n")
    print("| cores | shards | seconds | vs 1 shard | peak MiB | merging shards s "
          "| assembly s | copied MB | read MB |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    one = {n: s for n, k, s, _, _ in rows if k == 1}
    for n, k, s, peak, a in rows:
        ratio = f"{one[n] / s:.2f}x" if n in one else "-"
        print(f"| {n} | {k} | {s:.2f} | {ratio} | {peak:.0f} | {a['shardSeconds']:.2f} | "
              f"{a['assemblySeconds']:.3f} | {a['copiedBytes'] / 1e6:.1f} | "
              f"{a['readBytes'] / 1e6:.1f} |")


if __name__ == "__main__":
    main()
