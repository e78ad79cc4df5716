"""The state-machine definition checked by an independent validator
(asl-validator from npm), before and after deploy-time substitutions, and
the conventions every state must follow."""

import json
import re
import subprocess

import pytest

from conftest import REPO

DEFINITION = REPO / "statemachine" / "definition" / "s3la.asl.json"
VALIDATOR = REPO / "tests" / "js" / "node_modules" / ".bin" / "asl-validator"
LAMBDA_ERRORS = {"Lambda.ServiceException", "Lambda.AWSLambdaException",
                 "Lambda.SdkClientException", "Lambda.TooManyRequestsException"}


def validate(path):
    return subprocess.run([str(VALIDATOR), "--json-path", str(path)], capture_output=True, text=True)


def substituted(text):
    """The definition as CDK deploys it: ARNs and numbers in place of ${...}."""
    text = re.sub(r"\$\{(\w+)FunctionArn\}",
                  lambda m: f"arn:aws:lambda:us-east-1:123456789012:function:s3la-{m[1]}", text)
    return text.replace("${QueryWaitSeconds}", "10").replace("${QueryMaxPolls}", "60") \
        .replace("${MergeConcurrency}", "40")


def test_asl_validator_accepts_the_definition(tmp_path):
    p = validate(DEFINITION)
    assert p.returncode == 0, p.stdout + p.stderr
    deployed = tmp_path / "deployed.asl.json"
    deployed.write_text(substituted(DEFINITION.read_text()))
    assert "${" not in deployed.read_text()
    p = validate(deployed)
    assert p.returncode == 0, p.stdout + p.stderr


def test_asl_validator_rejects_a_broken_copy(tmp_path):
    """The checker itself can fail: a transition to a missing state is caught."""
    d = json.loads(DEFINITION.read_text())
    d["States"]["StartQuery"]["Next"] = "NoSuchState"
    broken = tmp_path / "broken.asl.json"
    broken.write_text(json.dumps(d))
    p = validate(broken)
    assert p.returncode != 0, p.stdout


def all_states(states):
    for name, s in states.items():
        yield name, s
        for branch in s.get("Branches", []):
            yield from all_states(branch["States"])
        if "ItemProcessor" in s:
            yield from all_states(s["ItemProcessor"]["States"])


def test_every_state_follows_the_conventions():
    d = json.loads(DEFINITION.read_text())
    assert d.get("QueryLanguage", "JSONPath") == "JSONPath"
    states = dict(all_states(d["States"]))
    for name, s in states.items():
        if s["Type"] in ("Task", "Choice", "Parallel", "Wait", "Fail") and \
                not name.endswith("Requested") and name not in ("EmailRequested",):
            assert s.get("Comment"), f"{name} has no Comment"
        if s["Type"] == "Task":
            assert re.fullmatch(r"\$\{[A-Z]\w+FunctionArn\}", s["Resource"]), name
            retried = {e for r in s["Retry"] for e in r["ErrorEquals"]}
            assert LAMBDA_ERRORS | {"Transient"} <= retried, name
            assert not retried & {"InvalidInput", "States.ALL", "QueryFailed"}, name
            for r in s["Retry"]:
                assert r["BackoffRate"] > 1 and r["MaxAttempts"] >= 2, name
    # No Catch into a Fail state, and no Fail state at all: AWS's redrive
    # re-runs a failed Task, but a Fail state "reenters the Fail state and
    # fails again" (Step Functions developer guide, "Redrive behavior of
    # individual states"). A failure ends the execution at its Task.
    for name, s in states.items():
        assert s["Type"] != "Fail", f"{name} is a Fail state: a redrive would fail there again"
        for c in s.get("Catch", []):
            assert states[c["Next"]]["Type"] != "Fail", f"{name} catches into a Fail state"
    # A query that failed or ran past the poll limit goes back to StartQuery,
    # which fails there, so a redrive runs the query again; StartQuery reads
    # the redrive count from the context object to tell attempts apart.
    choices = d["States"]["IsQueryDone"]["Choices"]
    assert {c["Next"] for c in choices} == {"MergeResults", "StartQuery", "MarkTimedOut"}
    assert d["States"]["MarkTimedOut"]["Next"] == "StartQuery"
    params = d["States"]["StartQuery"]["Parameters"]
    assert params["redriveCount.$"] == "$$.Execution.RedriveCount"
    assert params["previous.$"] == "$.status"
