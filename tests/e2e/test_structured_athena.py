"""The structured delivery on the deployed path's query step: the stack (`cdk
synth -c logsFormat=json|parquet`) defines the Glue table, StartQuery's
statement (`s3la sql` with the StartQuery function's environment from the same
template) runs in the Athena stand-in against that table over generated JSON
or Parquet logs in s3s-fs, and its rows are the rows `s3la run` writes for the
same period from the same files."""

import datetime as dt
import gzip
import io
import json
import subprocess
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest

from athena_standin import AthenaStandin, QueryError
from conftest import REPO, S3S_ACCESS_KEY, S3S_SECRET_KEY, aws_env, run

LOGS_BUCKET, REGION = "acme-access-logs", "us-east-1"
FIRST, LAST = "2024-03-10", "2024-03-11"
LABEL = f"{FIRST}_{LAST}"
CASES = {
    "json-hive": ("json", True, "AWSLogs/aws-account-id=123456789012/s3/region=us-east-1/"),
    "parquet": ("parquet", False, "AWSLogs/123456789012/s3/us-east-1/"),
}


def synth(out: Path, form: str, hive: bool, prefix: str) -> dict:
    if not (REPO / "infra" / "node_modules" / ".bin" / "cdk").exists():
        subprocess.run(["npm", "ci", "--prefix", "infra", "--no-audit", "--no-fund",
                        "--loglevel=error"], cwd=REPO, check=True, timeout=600)
    p = subprocess.run(
        ["npx", "--no-install", "cdk", "synth", "--quiet", "--no-notices",
         "--no-version-reporting", "-o", str(out), "-c", "skipBundling=true",
         "-c", f"logsBucket={LOGS_BUCKET}", "-c", f"logsPrefix={prefix}",
         "-c", f"logsFormat={form}", "-c", f"logsHivePaths={'true' if hive else 'false'}",
         "-c", "projectionStart=2024-01-01"],
        cwd=REPO / "infra", capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads((out / "S3LogsAnalyzer.template.json").read_text())


def start_query_env(template) -> dict:
    [fn] = [r for r in template["Resources"].values()
            if r["Type"] == "AWS::Lambda::Function"
            and "starts the period's Athena UNLOAD" in r["Properties"].get("Description", "")]
    env = fn["Properties"]["Environment"]["Variables"]
    # The workgroup and results bucket are Refs: any valid names do for the statement.
    return {**env, "ATHENA_WORKGROUP": "s3la", "RESULT_PATH": "s3://results-bucket/s3la/"}


def files(root: Path):
    return sorted(p for p in root.rglob("*") if p.is_file())


@pytest.fixture(scope="module", params=list(CASES))
def case(request, s3la, s3s, tmp_path_factory):
    form, hive, prefix = CASES[request.param]
    work = tmp_path_factory.mktemp(request.param)
    template = synth(work / "cdk", form, hive, prefix)
    logs = work / "logs"
    p = run(s3la, "gen-logs", logs, "--start", "2024-03-09", "--days", 4, "--lines-per-day", 800,
            "--seed", 13, "--format", form, *(["--hive"] if hive else []))
    root = Path(p.stderr.strip().rsplit(" under ", 1)[1])
    if form == "json":
        # The Hive JSON SerDe fails the query on a line that is not JSON (AWS writes none):
        # the generator's malformed lines are left out of both runs.
        for f in files(root):
            lines = gzip.decompress(f.read_bytes()).decode().splitlines(keepends=True)
            f.write_bytes(gzip.compress("".join(l for l in lines if l.startswith("{")).encode()))
    endpoint, _ = s3s
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name=REGION,
                      aws_access_key_id=S3S_ACCESS_KEY, aws_secret_access_key=S3S_SECRET_KEY)
    for bucket in (LOGS_BUCKET, "results-bucket"):
        if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=bucket)
    for f in files(root):
        s3.put_object(Bucket=LOGS_BUCKET, Key=prefix + str(f.relative_to(root)),
                      Body=f.read_bytes())
    return request.param, template, s3, logs, work


def unload_rows(template, s3, statement):
    standin = AthenaStandin(template, s3, lambda v: v if isinstance(v, str) else "s3la")
    try:
        [table] = standin.tables.values()
        _, manifest = standin.unload({"id": "q-1", "sql": statement,
                                      "context": {"Database": table.database},
                                      "location": "s3://results-bucket/s3la/_athena/"})
    finally:
        standin.close()
    bucket, key = manifest.removeprefix("s3://").split("/", 1)
    uris = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode().split()
    rows = []
    for uri in uris:
        b, k = uri.removeprefix("s3://").split("/", 1)
        rows += pq.read_table(io.BytesIO(s3.get_object(Bucket=b, Key=k)["Body"].read())).to_pylist()
    return rows


def comparable(rows):
    """Rows as sorted tuples, times as UTC ISO text (UNLOAD writes naive INT96)."""
    def value(v):
        if isinstance(v, dt.datetime):
            v = v if v.tzinfo else v.replace(tzinfo=dt.timezone.utc)
            return v.astimezone(dt.timezone.utc).isoformat()
        return v
    return sorted((tuple((k, value(v)) for k, v in sorted(r.items())) for r in rows), key=repr)


def test_the_stacks_table_runs_start_querys_sql_to_the_rows_s3la_run_writes(case, s3la):
    name, template, s3, logs, work = case
    env = aws_env("http://127.0.0.1:9", **start_query_env(template))
    p = run(s3la, "sql", "--execution", f"exec-{name}", "--date_range", FIRST, LAST,
            "--now", "2024-06-01T00:00:00Z", env=env)
    statement = p.stdout.strip()
    assert "from_iso8601_timestamp" in statement and "parse_datetime" not in statement
    athena = [r for r in unload_rows(template, s3, statement) if r["request_time"] is not None]

    results = work / "results"
    run(s3la, "run", "--logs", logs, "--results", results, "--date_range", FIRST, LAST)
    ours = pq.read_table(results / LABEL / f"requests-{LABEL}.parquet").to_pylist()
    assert len(ours) > 1000
    assert comparable(athena) == comparable(ours), name


@pytest.mark.parametrize("case", ["json-hive"], indirect=True)
def test_a_line_that_is_not_json_fails_the_query_as_hive_json_serde_does(case, s3la):
    name, template, s3, _, _ = case
    _, _, prefix = CASES[name]
    s3.put_object(Bucket=LOGS_BUCKET, Key=f"{prefix}year=2024/month=03/day=10/bad.json.gz",
                  Body=gzip.compress(b'{"request_time":"2024-03-10T00:00:00.000Z"}\nnot json\n'))
    env = aws_env("http://127.0.0.1:9", **start_query_env(template))
    statement = run(s3la, "sql", "--execution", "exec-2", "--date_range", FIRST, LAST,
                    "--now", "2024-06-01T00:00:00Z", env=env).stdout.strip()
    with pytest.raises(QueryError, match="Row is not a valid JSON Object"):
        unload_rows(template, s3, statement)
    s3.delete_object(Bucket=LOGS_BUCKET, Key=f"{prefix}year=2024/month=03/day=10/bad.json.gz")
