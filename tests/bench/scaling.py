#!/usr/bin/env python3
"""Benchmark: how `s3la` scales with cores, against DuckDB in the same run.

For each core count N (1, 2, 4, 8, ... up to the cores this process may use),
every command runs pinned to the first N of them (its affinity mask, which
`std::thread::available_parallelism` reads, so s3la sizes its thread pools to
N) and DuckDB runs pinned the same way with N threads:

- `s3la parse LOGS --output parquet`: the whole input to one Parquet file;
- `s3la run --date_range <month>`: the state machine end to end (period,
  embedded query, polling, MergeResults writing one Parquet file, one csv.gz
  and the report), with the seconds of its two long states read from
  `--history`;
- `s3la merge --parts`: that run's staging parts merged again on their own;
- DuckDB: the lines split by the Athena table's RegexSerDe pattern, the
  month kept, the report columns written as zstd Parquet (what a
  hand-rolled alternative does; see run_vs_duckdb.py).

Each figure is the best of --runs; peak memory is the child's maximum resident
set (getrusage). The logs are generated once into bench-data/ and reused.

    .venv/bin/python tests/bench/scaling.py [--s3la target/profiling/s3la] [--cores 1,2]

Without --s3la a release build is made first (20+ minutes cold on 2 cores). With
--baseline OLD_BINARY, the runs of both binaries alternate, for a same-run A/B.
"""

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))

START, END = "2024-01-01", "2024-01-31"


def arguments():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--s3la", type=Path, help="the s3la binary (default: build target/release/s3la)")
    ap.add_argument("--days", type=int, default=35, help="days of logs, from 2023-12-30")
    ap.add_argument("--lines-per-day", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=11)
    ap.add_argument("--data", type=Path, default=REPO / "bench-data")
    ap.add_argument("--runs", type=int, default=2, help="runs of each command (the best is reported)")
    ap.add_argument("--cores", help="comma-separated core counts (default 1, 2, 4, ... up to all)")
    ap.add_argument("--no-duckdb", action="store_true", help="leave DuckDB out")
    ap.add_argument("--json", type=Path, help="also write every measurement here")
    ap.add_argument("--baseline", type=Path,
                    help="another s3la binary (say, of the code before a change) whose `run` is "
                         "timed in turns with this one's, so both meet the machine's same noise")
    return ap.parse_args()


def core_counts(arg, usable):
    if arg:
        counts = [int(c) for c in arg.split(",")]
        too_many = [c for c in counts if c < 1 or c > len(usable)]
        if too_many:
            sys.exit(f"--cores: {too_many} outside 1..{len(usable)} (the cores this process may use)")
        return counts
    counts, n = [], 1
    while n < len(usable):
        counts.append(n)
        n *= 2
    return counts + [len(usable)]


def measure(cmd, cpus):
    """Runs cmd pinned to `cpus`; returns (seconds, peak resident MiB, stdout)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen([str(c) for c in cmd], stdout=out, stderr=err,
                             preexec_fn=lambda: os.sched_setaffinity(0, cpus))
        _, status, usage = os.wait4(p.pid, 0)
        seconds = time.perf_counter() - t0
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            err.seek(0)
            sys.exit(f"{' '.join(map(str, cmd))} failed ({p.returncode}):\n"
                     f"{err.read().decode()[-3000:]}")
        out.seek(0)
        return seconds, usage.ru_maxrss / 1024, out.read().decode()


def best(runs, fn):
    """The fastest of `runs` calls of fn, each returning (seconds, ...)."""
    return min((fn() for _ in range(runs)), key=lambda r: r[0])


def best_in_turns(runs, a, b):
    """The fastest of `runs` calls of each of a and b, called in turns: on a
    shared machine whose speed drifts by minutes, both meet the same drift."""
    ra, rb = [], []
    for _ in range(runs):
        ra.append(a())
        rb.append(b())
    return min(ra, key=lambda r: r[0]), min(rb, key=lambda r: r[0])


def state_seconds(history_file):
    """Seconds spent in each state, summed over its entries, from `--history`."""
    spent, entered = {}, {}
    for e in json.loads(Path(history_file).read_text()):
        kind, name, t = e["type"], e.get("state"), time_of(e["timestamp"])
        if kind.endswith("StateEntered"):
            entered[name] = t
        elif kind.endswith("StateExited") and name in entered:
            spent[name] = spent.get(name, 0.0) + (t - entered.pop(name))
    return spent


def time_of(text):
    from datetime import datetime
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def prepare(args):
    if args.s3la:
        s3la = args.s3la.resolve()
    else:
        print("building s3la (release)...", file=sys.stderr)
        subprocess.run(["cargo", "build", "--release", "--quiet", "-p", "s3la"], cwd=REPO, check=True)
        s3la = REPO / "target" / "release" / "s3la"
    logs = args.data / f"logs-{args.days}d-{args.lines_per_day}-s{args.seed}"
    if not logs.exists():
        print(f"generating logs into {logs}...", file=sys.stderr)
        tmp = logs.with_name(logs.name + ".partial")
        shutil.rmtree(tmp, ignore_errors=True)
        subprocess.run([str(s3la), "gen-logs", str(tmp), "--start", "2023-12-30", "--days",
                        str(args.days), "--lines-per-day", str(args.lines_per_day), "--seed",
                        str(args.seed)], check=True, stdout=subprocess.DEVNULL)
        tmp.rename(logs)
    size = sum(p.stat().st_size for p in logs.rglob("*") if p.is_file())
    regex = subprocess.run([str(s3la), "ddl", "--regex"], capture_output=True, text=True,
                           check=True).stdout.strip()
    return s3la, logs, size, regex


def duckdb_seconds(threads, cpus, logs, out, regex):
    """DuckDB with `threads` threads, in a child pinned to `cpus`."""
    # Imported here: with --no-duckdb the script runs where DuckDB is not
    # installed (a machine lent for one measurement, with no registry).
    from run_vs_duckdb import duckdb_sql
    sql = duckdb_sql(str(logs / "**" / "*"), out, regex, START, END)
    script = (
        "import duckdb, sys, time\n"
        f"con = duckdb.connect(config={{'threads': {threads}}})\n"
        "con.execute('SET enable_progress_bar = false')\n"
        "t0 = time.perf_counter()\n"
        "con.execute(sys.stdin.read())\n"
        "print(time.perf_counter() - t0)\n"
    )
    Path(out).unlink(missing_ok=True)
    p = subprocess.run([sys.executable, "-c", script], input=sql, capture_output=True, text=True,
                       preexec_fn=lambda: os.sched_setaffinity(0, cpus))
    if p.returncode != 0:
        sys.exit(f"DuckDB failed:\n{p.stderr[-3000:]}")
    return float(p.stdout.split()[-1])


def main():
    args = arguments()
    usable = sorted(os.sched_getaffinity(0))
    counts = core_counts(args.cores, usable)
    s3la, logs, size, regex = prepare(args)
    work = args.data / "scaling"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    rows = []
    for n in counts:
        cpus = set(usable[:n])
        print(f"{n} cores...", file=sys.stderr)
        parquet = work / "parse.parquet"

        def parse():
            parquet.unlink(missing_ok=True)
            return measure([s3la, "parse", logs, "--output", "parquet", "--out", parquet], cpus)

        results, history = work / "results", work / "history.json"

        def run(binary=s3la):
            shutil.rmtree(results, ignore_errors=True)
            seconds, peak, out = measure([binary, "run", "--logs", logs, "--results", results,
                                          "--date_range", START, END, "--history", history], cpus)
            return seconds, peak, json.loads(out), state_seconds(history)

        merged = work / "merged"

        def merge():
            shutil.rmtree(merged, ignore_errors=True)
            return measure([s3la, "merge", "--parts", staging_folder(results), "--out", merged], cpus)

        parse_s, _, _ = best(args.runs, parse)
        baseline = None
        if args.baseline:
            baseline, mine = best_in_turns(args.runs, lambda: run(args.baseline.resolve()), run)
            # The merge below reads this binary's staging parts: its run goes last.
            run()
            run_s, run_peak, summary, states = mine
        else:
            run_s, run_peak, summary, states = best(args.runs, run)
        merge_s, merge_peak, _ = best(args.runs, merge)
        row = {
            "cores": n,
            "parse": parse_s,
            "run": run_s,
            "query": sum(states.get(s, 0.0) for s in ("StartQuery", "WaitForQuery", "QueryStatus")),
            "merge_state": states.get("MergeResults", 0.0),
            "run_peak_mib": run_peak,
            "merge": merge_s,
            "merge_peak_mib": merge_peak,
            "rows": summary.get("rows"),
        }
        if baseline:
            row["baseline_run"] = baseline[0]
            row["baseline_merge_state"] = baseline[3].get("MergeResults", 0.0)
            row["baseline_run_peak_mib"] = baseline[1]
        if not args.no_duckdb:
            row["duckdb"] = duckdb_seconds(n, cpus, logs, work / "duckdb.parquet", regex)
        rows.append(row)
        print(json.dumps(row), file=sys.stderr)
    report(rows, counts, logs, size, usable)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


def staging_folder(results):
    """The folder of the run's Parquet data files (what UNLOAD leaves)."""
    manifests = list(results.rglob("*-manifest.csv"))
    if len(manifests) != 1:
        sys.exit(f"expected one manifest under {results}, found {manifests}")
    first = manifests[0].read_text().splitlines()[0]
    return Path(first.removeprefix("file://")).parent


def report(rows, counts, logs, size, usable):
    import platform
    print(f"\ninput: {logs.name}, {size / 1e6:,.0f} MB; period {START} to {END}; "
          f"{platform.machine()}, {len(usable)} usable cores; best of the runs\n")
    base = rows[0]
    duck = "duckdb" in base
    head = ("| cores | parse s | run s | run speed-up | query s | MergeResults s | run peak MiB "
            "| merge s | merge peak MiB |")
    sep = "|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    if duck:
        head += " DuckDB s | run vs DuckDB |"
        sep += "---:|---:|"
    against = "baseline_run" in base
    if against:
        head += " baseline run s | baseline speed-up | baseline MergeResults s | baseline run peak MiB |"
        sep += "---:|---:|---:|---:|"
    print(head)
    print(sep)
    for r in rows:
        line = (f"| {r['cores']} | {r['parse']:.2f} | {r['run']:.2f} | "
                f"{base['run'] / r['run']:.2f}x | {r['query']:.2f} | {r['merge_state']:.2f} | "
                f"{r['run_peak_mib']:.0f} | {r['merge']:.2f} | {r['merge_peak_mib']:.0f} |")
        if duck:
            line += f" {r['duckdb']:.2f} | {r['duckdb'] / r['run']:.1f}x |"
        if against:
            line += (f" {r['baseline_run']:.2f} | {base['baseline_run'] / r['baseline_run']:.2f}x | "
                     f"{r['baseline_merge_state']:.2f} | {r['baseline_run_peak_mib']:.0f} |")
        print(line)
    print(f"\nrun speed-up is against {base['cores']} core(s) in the same run; "
          f"rows out of the run: {base['rows']:,}")


if __name__ == "__main__":
    main()
