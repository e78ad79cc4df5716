"""A failed local execution redriven from its history, as the console
redrives a deployed one (`s3la run --redrive HISTORY`): the failed Task runs
again with its input, the steps before it do not, and the run ends with the
outputs an execution that never failed gives."""

import json
import os
import shutil

import pyarrow.parquet as pq

from conftest import run

START, END = "2024-01-08", "2024-01-14"
LABEL = f"{START}_{END}"


def outputs_and_clean_run(s3la, logs, results, out, clean):
    """The redriven run's Parquet table, and that of a run over the same logs
    that never failed (into `clean`), once both counted the same rows."""
    want = json.loads(run(s3la, "run", "--logs", logs, "--results", clean, "--date_range",
                          START, END).stdout)
    assert out["rows"] == want["rows"] > 0
    return (pq.read_table(results / LABEL / f"requests-{LABEL}.parquet"),
            pq.read_table(clean / LABEL / f"requests-{LABEL}.parquet"))


def test_a_failed_query_is_run_again_by_a_redrive_once_the_logs_are_fixed(s3la, tmp_path):
    logs, results, history = tmp_path / "logs", tmp_path / "results", tmp_path / "h.json"
    day = logs / "123456789012" / "us-east-1" / "bkt" / "2024" / "01" / "09"
    day.mkdir(parents=True)
    (day / "2024-01-09-10-00-00-NOTALOG").write_bytes(os.urandom(3000))
    p = run(s3la, "run", "--logs", logs, "--results", results, "--date_range", START, END,
            "--name", "redrive-e2e", "--history", history, check=False)
    assert p.returncode == 1
    # The execution failed at StartQuery (where a redrive resumes), not in a Fail state.
    assert "the execution failed in the Task state StartQuery: QueryFailed" in p.stderr, p.stderr
    assert f"--redrive {history}" in p.stderr, p.stderr
    events = json.loads(history.read_text())
    assert events[-1]["type"] == "ExecutionFailed" and events[-1]["state"] == "StartQuery"

    # The cause is fixed: real logs in place of the bytes that were not.
    shutil.rmtree(logs)
    run(s3la, "gen-logs", logs, "--start", "2024-01-07", "--days", 9, "--lines-per-day", 800,
        "--seed", 3)
    # On other folders than the execution's: refused, naming both.
    p = run(s3la, "run", "--logs", logs, "--results", tmp_path / "elsewhere", "--redrive",
            history, check=False)
    assert p.returncode != 0
    assert f"ran with --results {results}" in p.stderr, p.stderr
    p = run(s3la, "run", "--logs", logs, "--results", results, "--redrive", history)
    out = json.loads(p.stdout)
    events = json.loads(history.read_text())
    kinds = [e["type"] for e in events]
    assert kinds.count("ExecutionRedriven") == 1 and kinds[-1] == "ExecutionSucceeded"
    redriven = events[kinds.index("ExecutionRedriven"):]
    entered = [e["state"] for e in redriven if e["type"].endswith("StateEntered")]
    assert entered[0] == "StartQuery" and "ComputePeriod" not in entered, entered
    assert [e["id"] for e in events] == list(range(1, len(events) + 1))

    # The same outputs as an execution that never failed.
    ours, theirs = outputs_and_clean_run(s3la, logs, results, out, tmp_path / "clean")
    assert ours.sort_by("request_time").equals(theirs.sort_by("request_time"))
    # The redriven query wrote under its own staging prefix.
    assert (results / "_staging" / LABEL / "redrive-e2e-redrive-1").is_dir()

    # A succeeded execution has nothing to redrive.
    p = run(s3la, "run", "--logs", logs, "--results", results, "--redrive", history, check=False)
    assert p.returncode != 0
    assert "succeeded; only a failed execution can be redriven" in p.stderr, p.stderr



def test_a_sharded_merge_that_failed_at_its_assembly_is_redriven_there(s3la, tmp_path):
    """A period merged in shards (`--shards 3`) whose assembly fails for a
    reason a person fixes (a directory stands where the Parquet output goes):
    the execution fails at AssembleResults, the shards stay; the redrive
    resumes there, without querying, planning or merging a shard again, and
    ends with the outputs of a run that never failed, the shards removed.
    (A shard's own failure and the redrive of only the shards that did not
    succeed: statemachine/tests/definition_paths.rs.)"""
    logs, results, history = tmp_path / "logs", tmp_path / "results", tmp_path / "h.json"
    run(s3la, "gen-logs", logs, "--start", "2024-01-07", "--days", 9, "--lines-per-day", 800,
        "--seed", 5)
    in_the_way = results / LABEL / f"requests-{LABEL}.parquet"
    (in_the_way / "something").mkdir(parents=True)
    p = run(s3la, "run", "--logs", logs, "--results", results, "--date_range", START, END,
            "--name", "shards-e2e", "--history", history, "--shards", 3, check=False)
    assert p.returncode == 1, p.stderr
    assert "the execution failed in the Task state AssembleResults" in p.stderr, p.stderr
    events = json.loads(history.read_text())
    assert events[-1]["state"] == "AssembleResults"
    entered = [e["state"] for e in events if e["type"].endswith("StateEntered")]
    # At most one shard per row group of the query's parts.
    shards = len(list(results.rglob("shard-*.json")))
    assert shards >= 2
    # Each shard once (on a machine of 5 cores or more, several at once, in any order).
    assert sorted(s for s in entered if s.endswith("/MergeShard")) == sorted(
        f"MergeShards[{i}]/MergeShard" for i in range(shards))

    shutil.rmtree(in_the_way)
    p = run(s3la, "run", "--logs", logs, "--results", results, "--redrive", history)
    out = json.loads(p.stdout)
    events = json.loads(history.read_text())
    kinds = [e["type"] for e in events]
    redriven = events[kinds.index("ExecutionRedriven"):]
    entered = [e["state"] for e in redriven if e["type"].endswith("StateEntered")]
    assert entered[0] == "AssembleResults", entered
    assert not [s for s in entered if "MergeShard" in s or s in ("StartQuery", "MergeResults")]

    ours, theirs = outputs_and_clean_run(s3la, logs, results, out, tmp_path / "clean")
    assert ours.equals(theirs)
    assert not list(results.rglob("shard-*")) and not list(results.rglob("plan.json"))
