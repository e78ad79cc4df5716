"""The ComputePeriod, StartQuery and QueryStatus steps as they run on AWS:
the real Lambda binaries served events through a Lambda Runtime API, and
`s3la invoke`, talking to moto's Athena on 127.0.0.1 over signed HTTP."""

import json

import boto3
import pytest

from conftest import aws_env, run
from lambda_runtime_api import invoke

SETTINGS = dict(ATHENA_DATABASE="s3_access_logs_db", ATHENA_TABLE="mybucket_logs",
                RESULT_PATH="s3://results-bucket/reports/", ATHENA_WORKGROUP="s3la",
                PROJECTION_START="2023-01-01")
EXECUTION = {"name": "weekly-run-1", "startTime": "2024-02-07T06:00:00.250Z"}


@pytest.fixture(scope="module")
def athena(moto):
    client = boto3.client("athena", endpoint_url=moto, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_work_group(Name="s3la", Configuration={})
    return client


def test_lambdas_run_the_three_steps_against_athena(lambda_bin, moto, athena, s3la):
    env = aws_env(moto, **SETTINGS)
    [(kind, plan)] = invoke(lambda_bin / "compute-period",
                            [{"input": {"frequency": "weekly", "verbose": True},
                              "execution": EXECUTION}], env)
    assert kind == "response", plan
    assert plan["period"]["label"] == "2024-W05"
    assert plan["period"]["partitions"] == {"first": "2024-01-29", "last": "2024-02-05"}

    [(kind, started)] = invoke(lambda_bin / "start-query", [plan], env)
    assert kind == "response", started
    assert started["stagingPrefix"] == "s3://results-bucket/reports/_staging/2024-W05/weekly-run-1/"

    # What reached Athena is exactly what `s3la sql` prints for this run.
    sent = athena.get_query_execution(QueryExecutionId=started["queryExecutionId"])["QueryExecution"]
    expected = run(s3la, "sql", "--frequency", "weekly", "--now", "2024-02-07T06:00:00Z",
                   "--execution", "weekly-run-1", env=env).stdout.strip()
    assert sent["Query"] == expected
    assert sent["Query"] == started["statement"]
    assert sent["WorkGroup"] == "s3la"
    assert sent["QueryExecutionContext"]["Database"] == "s3_access_logs_db"
    # Athena (and moto) answer with the result file under the location we gave.
    assert sent["ResultConfiguration"]["OutputLocation"].startswith(
        "s3://results-bucket/reports/_athena/2024-W05/weekly-run-1/")

    [(kind, status)] = invoke(lambda_bin / "query-status",
                              [{"queryExecutionId": started["queryExecutionId"]}], env)
    assert kind == "response", status
    assert status["state"] == "SUCCEEDED" and status["done"] is True
    assert status["estimatedCostUsd"] >= 0.000048  # the 10 MB minimum


def test_lambda_errors_reach_step_functions_by_name(lambda_bin, moto, athena):
    env = aws_env(moto, **SETTINGS)
    answers = invoke(lambda_bin / "compute-period", [
        {"input": {"frequency": "daily"}},
        {"input": {"dateRange": {"start": "2024-02-30", "end": "2024-03-01"}}},
        {"input": {"frequency": "weekly"}, "execution": {"name": "a b", "startTime": "2024-01-01T00:00:00Z"}},
        {"input": {"frequency": "monthly"}},
    ], env)
    errors = [(k, p.get("errorType"), p.get("errorMessage")) for k, p in answers[:3]]
    assert errors[0] == ("error", "InvalidInput",
                         'frequency: must be "weekly", "monthly" or "quarterly", got the string "daily"')
    assert errors[1][:2] == ("error", "InvalidInput")
    assert errors[1][2].startswith("dateRange.start: must be a real calendar date")
    assert errors[2][1] == "InvalidInput" and errors[2][2].startswith("execution.name:")
    assert answers[3][0] == "response", "the function keeps serving after an error"

    [(kind, err)] = invoke(lambda_bin / "query-status",
                           [{"queryExecutionId": "not'an id"}], env)
    assert (kind, err["errorType"]) == ("error", "InvalidInput")


def test_lambda_with_bad_settings_fails_at_init(lambda_bin, moto):
    import subprocess
    env = aws_env(moto, **{**SETTINGS, "RESULT_PATH": "results-bucket/reports"})
    env["AWS_LAMBDA_RUNTIME_API"] = "127.0.0.1:9"  # never reached
    p = subprocess.run([str(lambda_bin / "start-query")], env=env, capture_output=True,
                       text=True, timeout=30)
    assert p.returncode != 0
    err = json.loads(p.stderr.strip().splitlines()[-1])
    assert err["errorType"] == "ConfigError"
    assert err["errorMessage"].startswith("RESULT_PATH: must be an S3 location like s3://")


def test_s3la_invoke_runs_each_step_alone(s3la, moto, athena):
    env = aws_env(moto, **SETTINGS)
    step_input = json.dumps({"input": {"dateRange": {"start": "2024-01-03", "end": "2024-01-17"},
                                       "selectAll": True},
                             "execution": {"name": "backfill-7", "startTime": "2024-03-01T00:00:00Z"}})
    plan = json.loads(run(s3la, "invoke", "ComputePeriod", "--input", step_input, env=env).stdout)
    assert plan["period"]["label"] == "2024-01-03_2024-01-17"
    assert plan["options"]["selectAll"] is True

    p = run(s3la, "invoke", "StartQuery", "--input", "-", input=json.dumps(plan), env=env)
    started = json.loads(p.stdout)
    assert "statement" not in started  # only when verbose
    sent = athena.get_query_execution(QueryExecutionId=started["queryExecutionId"])["QueryExecution"]
    assert "TO 's3://results-bucket/reports/_staging/2024-01-03_2024-01-17/backfill-7/'" in sent["Query"]
    assert '"useragent"' in sent["Query"] and "AS \"user_agent\"" not in sent["Query"]

    status = json.loads(run(s3la, "invoke", "query-status", "--input",
                            json.dumps({"queryExecutionId": started["queryExecutionId"]}),
                            env=env).stdout)
    assert status["state"] == "SUCCEEDED"

    p = run(s3la, "invoke", "StartQuery", "--input", json.dumps({**plan, "period": {**plan["period"], "label": "x' --"}}),
            env=env, check=False)
    assert p.returncode == 1
    assert p.stderr.startswith("error: InvalidInput: period: does not match")
