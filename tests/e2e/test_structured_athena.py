"""The structured delivery on the deployed path's query step: the stack (`cdk
synth -c logsFormat=json|parquet`) defines the Glue table, StartQuery's
statement (`s3la sql` with the StartQuery function's environment from the same
template) runs in the Athena stand-in against that table over generated JSON
or Parquet logs in s3s-fs, and its rows are the rows `s3la run` writes for the
same period from the same files.

Two more deployments read a table the user already has (`-c logsTable=...`),
which the stack does not define, so the test defines it for the stand-in:
their own Glue table over the JSON files (no partitions), and the S3 Tables
integration's Iceberg table (its data files: the same records as Parquet, with
`request_time` a timestamp, "stored as timestamptz" per "Log format in
CloudWatch Logs"), in the catalog `s3tablescatalog/aws-cloudwatch`."""

import datetime as dt
import gzip
import io
import json
import subprocess
from pathlib import Path

import boto3
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from athena_standin import AthenaStandin, QueryError
from conftest import REPO, S3S_ACCESS_KEY, S3S_SECRET_KEY, aws_env, run

LOGS_BUCKET, REGION = "acme-access-logs", "us-east-1"
FIRST, LAST = "2024-03-10", "2024-03-11"
LABEL = f"{FIRST}_{LAST}"
PLAIN = "AWSLogs/123456789012/s3/us-east-1/"
# name: (form, Hive folders, logs prefix, more stack settings)
CASES = {
    "json-hive": ("json", True, "AWSLogs/aws-account-id=123456789012/s3/region=us-east-1/", {}),
    "parquet": ("parquet", False, PLAIN, {}),
    # Another account's folder: the user's table has no partitions and reads all under it.
    "glue-json": ("json", False, "AWSLogs/210987654321/s3/us-east-1/",
                  {"logsTable": "glue", "athenaDatabase": "security", "athenaTable": "their_logs"}),
    "s3tables": ("parquet", False, PLAIN, {"logsTable": "s3tables"}),
}
ICEBERG_DATA = ("aws-cloudwatch-standin", "logs/amazon_s3__server_access/data/")
LOG_FIELDS = json.loads((REPO / "infra/lib/generated/log-fields.json").read_text())


def synth(out: Path, form: str, hive: bool, prefix: str, settings: dict) -> dict:
    if not (REPO / "infra" / "node_modules" / ".bin" / "cdk").exists():
        subprocess.run(["npm", "ci", "--prefix", "infra", "--no-audit", "--no-fund",
                        "--loglevel=error"], cwd=REPO, check=True, timeout=600)
    more = [a for k, v in settings.items() for a in ("-c", f"{k}={v}")]
    if settings.get("logsTable") != "s3tables":
        more += ["-c", f"logsFormat={form}", "-c", f"logsHivePaths={'true' if hive else 'false'}"]
    p = subprocess.run(
        ["npx", "--no-install", "cdk", "synth", "--quiet", "--no-notices",
         "--no-version-reporting", "-o", str(out), "-c", "skipBundling=true",
         "-c", f"logsBucket={LOGS_BUCKET}", "-c", f"logsPrefix={prefix}",
         "-c", "projectionStart=2024-01-01", *more],
        cwd=REPO / "infra", capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    return json.loads((out / "S3LogsAnalyzer.template.json").read_text())


def users_table(name: str, prefix: str):
    """The table a user has, as (catalog, Glue table properties), for the stand-in."""
    columns = [{"Name": c["name"], "Type": c["type"]} for c in LOG_FIELDS["structuredColumns"]]
    if name == "glue-json":
        serde, location = "org.apache.hive.hcatalog.data.JsonSerDe", f"s3://{LOGS_BUCKET}/{prefix}"
        catalog, database, table = "AwsDataCatalog", "security", "their_logs"
    else:
        for c in columns:
            if c["Name"] == "request_time":
                c["Type"] = "timestamp with time zone"
        serde = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"
        location = f"s3://{ICEBERG_DATA[0]}/{ICEBERG_DATA[1]}"
        s3t = LOG_FIELDS["s3Tables"]
        catalog, database, table = s3t["catalog"], s3t["database"], s3t["table"]
    return catalog, {"DatabaseName": database, "TableInput": {
        "Name": table, "StorageDescriptor": {
            "Columns": columns, "Location": location, "SerdeInfo": {"SerializationLibrary": serde}}}}


def as_iceberg_data(data: bytes) -> bytes:
    """A generated Parquet log file as the integration's table holds its records:
    `request_time` a timestamp (a row whose time is not one, the generator's
    malformed line, is not a record the integration would have)."""
    t = pq.read_table(io.BytesIO(data))
    i = t.column_names.index("request_time")
    def instant(text):
        try:
            return dt.datetime.fromisoformat(text)
        except (TypeError, ValueError):
            return None
    times = pa.array([instant(v) for v in t["request_time"].to_pylist()],
                     pa.timestamp("us", tz="UTC"))
    t = t.set_column(i, "request_time", times)
    kept = t.filter(pc.is_valid(t["request_time"]))
    assert kept.num_rows >= 0.9 * t.num_rows, "the times were not read"
    t = kept
    buf = io.BytesIO()
    pq.write_table(t, buf)
    return buf.getvalue()


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
    form, hive, prefix, settings = CASES[request.param]
    work = tmp_path_factory.mktemp(request.param)
    template = synth(work / "cdk", form, hive, prefix, settings)
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
    for bucket in (LOGS_BUCKET, "results-bucket", ICEBERG_DATA[0]):
        if bucket not in {b["Name"] for b in s3.list_buckets()["Buckets"]}:
            s3.create_bucket(Bucket=bucket)
    for n, f in enumerate(files(root)):
        if "logsTable" in settings and settings["logsTable"] == "s3tables":
            s3.put_object(Bucket=ICEBERG_DATA[0], Key=f"{ICEBERG_DATA[1]}{n:05d}.parquet",
                          Body=as_iceberg_data(f.read_bytes()))
        else:
            s3.put_object(Bucket=LOGS_BUCKET, Key=prefix + str(f.relative_to(root)),
                          Body=f.read_bytes())
    return request.param, template, s3, logs, work


def unload_rows(template, s3, statement, name):
    _, _, prefix, settings = CASES[name]
    others = [users_table(name, prefix)] if "logsTable" in settings else []
    standin = AthenaStandin(template, s3, lambda v: v if isinstance(v, str) else "s3la", others)
    # StartQuery's QueryExecutionContext: the catalog and database it is configured with.
    env = start_query_env(template)
    context = {"Catalog": env.get("ATHENA_CATALOG", "AwsDataCatalog"),
               "Database": env["ATHENA_DATABASE"]}
    try:
        _, manifest = standin.unload({"id": "q-1", "sql": statement, "context": context,
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
    assert "parse_datetime" not in statement
    table = CASES[name][3].get("logsTable")
    if table == "s3tables":
        # The Iceberg table's time is a timestamp already; it is named with its catalog.
        assert "from_iso8601_timestamp" not in statement
        assert 'FROM "s3tablescatalog/aws-cloudwatch"."logs"."amazon_s3__server_access"' \
            in statement
    else:
        assert "from_iso8601_timestamp" in statement
    if table:
        # Only the stack's own table has the date partitions the query filters on.
        assert "BETWEEN" not in statement
    athena = [r for r in unload_rows(template, s3, statement, name)
              if r["request_time"] is not None]

    results = work / "results"
    run(s3la, "run", "--logs", logs, "--results", results, "--date_range", FIRST, LAST)
    ours = pq.read_table(results / LABEL / f"requests-{LABEL}.parquet").to_pylist()
    assert len(ours) > 1000
    assert comparable(athena) == comparable(ours), name


@pytest.mark.parametrize("case", ["json-hive"], indirect=True)
def test_a_line_that_is_not_json_fails_the_query_as_hive_json_serde_does(case, s3la):
    name, template, s3, _, _ = case
    _, _, prefix, _ = CASES[name]
    s3.put_object(Bucket=LOGS_BUCKET, Key=f"{prefix}year=2024/month=03/day=10/bad.json.gz",
                  Body=gzip.compress(b'{"request_time":"2024-03-10T00:00:00.000Z"}\nnot json\n'))
    env = aws_env("http://127.0.0.1:9", **start_query_env(template))
    statement = run(s3la, "sql", "--execution", "exec-2", "--date_range", FIRST, LAST,
                    "--now", "2024-06-01T00:00:00Z", env=env).stdout.strip()
    with pytest.raises(QueryError, match="Row is not a valid JSON Object"):
        unload_rows(template, s3, statement, name)
    s3.delete_object(Bucket=LOGS_BUCKET, Key=f"{prefix}year=2024/month=03/day=10/bad.json.gz")


@pytest.mark.parametrize("case", ["glue-json", "s3tables"], indirect=True)
def test_removing_the_logs_of_a_table_the_stack_did_not_create_is_refused_before_any_query(
        case, s3la):
    name, template, _, _, _ = case
    [fn] = [r for r in template["Resources"].values()
            if r["Type"] == "AWS::Lambda::Function"
            and "execution input -> period" in r["Properties"].get("Description", "")]
    env = aws_env("http://127.0.0.1:9", **fn["Properties"]["Environment"]["Variables"])
    step_input = json.dumps({"input": {"frequency": "monthly", "removeOriginalLogs": True}})
    p = subprocess.run([str(s3la), "invoke", "ComputePeriod", "--input", step_input],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode != 0, p.stdout
    table = CASES[name][3]["logsTable"]
    assert "removeOriginalLogs" in p.stderr and f"LOG_TABLE={table}" in p.stderr, p.stderr
    # Without the flag the same step plans the period.
    step_input = json.dumps({"input": {"frequency": "monthly"}})
    p = subprocess.run([str(s3la), "invoke", "ComputePeriod", "--input", step_input],
                       env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
