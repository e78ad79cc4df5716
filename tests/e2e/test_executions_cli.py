"""`s3la executions` against Step Functions and CloudFormation as a moto
server plays them on 127.0.0.1, over signed HTTP.

The server runs the state machines it is given (moto's `execute_state_machine`),
so an execution of our own definition really runs: moto has no Lambda to call,
so ComputePeriod fails, its Catch goes to ComputePeriodFailed, and the history
holds a failed Task step and a Fail state, as a failed run on AWS does.
moto does not implement RedriveExecution: the test of a redrive checks the
command's refusals and how it reports the service's answer, not a redrive."""

import json
import re
import subprocess
import time
from datetime import datetime, timedelta, timezone

import boto3
import pytest

from conftest import REPO, aws_env, moto_server

ACCOUNT_ROLE = "arn:aws:iam::123456789012:role/s3la-states"
SETTINGS = {"QueryWaitSeconds": "1", "QueryMaxPolls": "3"}


@pytest.fixture(scope="module")
def endpoint():
    # A server of its own: execute mode applies to the whole server.
    with moto_server({"stepfunctions": {"execute_state_machine": True}}) as url:
        yield url


def client(service, endpoint):
    return boto3.client(service, endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture(scope="module")
def sfn(endpoint):
    return client("stepfunctions", endpoint)


def definition() -> str:
    """The project's definition with dummy values for its substitutions."""
    text = (REPO / "statemachine" / "definition" / "s3la.asl.json").read_text()
    text = re.sub(r"\$\{(\w+)\}", lambda m: SETTINGS.get(
        m.group(1), f"arn:aws:lambda:us-east-1:123456789012:function:s3la-{m.group(1)}"), text)
    assert "${" not in text
    return text


@pytest.fixture(scope="module")
def machine(sfn) -> str:
    return sfn.create_state_machine(name="S3LogsAnalyzer", definition=definition(),
                                    roleArn=ACCOUNT_ROLE)["stateMachineArn"]


def env_for(endpoint, machine=None, **extra):
    env = aws_env(endpoint, **extra)
    env.pop("S3LA_STATE_MACHINE_ARN", None)
    if machine:
        env["S3LA_STATE_MACHINE_ARN"] = machine
    return env


def s3la_run(s3la, *args, env):
    return subprocess.run([str(s3la), "executions", *map(str, args)], capture_output=True,
                          text=True, env=env, timeout=120)


def executions(sfn, machine):
    return {e["name"]: e for e in sfn.list_executions(stateMachineArn=machine,
                                                      maxResults=1000)["executions"]}


def wait_until_stopped(sfn, arn):
    deadline = time.time() + 30
    while True:
        d = sfn.describe_execution(executionArn=arn)
        if d["status"] != "RUNNING":
            return d
        assert time.time() < deadline, f"{arn} still running"
        time.sleep(0.2)


def previous_month(now: datetime) -> str:
    return (now.replace(day=1) - timedelta(days=1)).strftime("%Y-%m")


def test_start_names_the_execution_after_the_period_and_sends_its_now(s3la, endpoint, sfn,
                                                                       machine):
    env = env_for(endpoint, machine)
    before = datetime.now(timezone.utc).replace(microsecond=0)
    p = s3la_run(s3la, "start", "--frequency", "monthly", env=env)
    after = datetime.now(timezone.utc)
    assert p.returncode == 0, p.stderr
    arn = p.stdout.strip()
    d = sfn.describe_execution(executionArn=arn)
    sent = json.loads(d["input"])
    now = datetime.fromisoformat(sent["now"].replace("Z", "+00:00"))
    assert before <= now <= after
    assert sent == {"frequency": "monthly", "now": sent["now"]}
    # The name is the period the execution will compute from that now.
    assert d["name"] == f"s3la-{previous_month(now)}"
    assert d["stateMachineArn"] == machine
    assert f"Started {d['name']} for {previous_month(now)}" in p.stderr

    # The flags of `s3la run`, in the input's spelling; options change the name.
    p = s3la_run(s3la, "start", "--date_range", "2024-01-01", "2024-01-31", "--select_all",
                 "--remove-meta", "--now", "2024-03-01T00:00:00Z", env=env)
    assert p.returncode == 0, p.stderr
    d = sfn.describe_execution(executionArn=p.stdout.strip())
    assert json.loads(d["input"]) == {
        "dateRange": {"start": "2024-01-01", "end": "2024-01-31"}, "now": "2024-03-01T00:00:00Z",
        "selectAll": True, "removeMeta": True}
    assert re.fullmatch(r"s3la-2024-01-01_2024-01-31-[0-9a-f]{8}", d["name"]), d["name"]

    # Raw input is read by ComputePeriod's parser: a bad field is refused here,
    # named, and nothing starts.
    count = len(executions(sfn, machine))
    p = s3la_run(s3la, "start", "--input", '{"frequency": "weekly", "selectAl": true}', env=env)
    assert p.returncode == 1
    assert p.stderr.startswith("error: InvalidInput: selectAl: is not a known field")
    p = s3la_run(s3la, "start", "--input", '{"frequency": "weekly", "now": "2024-02-07T06:00:00Z"}',
                 env=env)
    assert p.returncode == 0, p.stderr
    assert sfn.describe_execution(executionArn=p.stdout.strip())["name"] == "s3la-2024-W05"
    assert len(executions(sfn, machine)) == count + 1


def test_a_second_start_of_a_period_is_refused_and_force_starts_another(s3la, endpoint, sfn,
                                                                         machine):
    env = env_for(endpoint, machine)
    args = ["start", "--frequency", "quarterly", "--now", "2024-05-10T00:00:00Z"]
    first = s3la_run(s3la, *args, env=env)
    assert first.returncode == 0, first.stderr
    arn = first.stdout.strip()
    assert arn.endswith(":execution:S3LogsAnalyzer:s3la-2024-Q1")

    again = s3la_run(s3la, *args, env=env)
    assert again.returncode == 1
    assert again.stderr.startswith("error: execution s3la-2024-Q1 already exists (")
    assert arn in again.stderr
    assert "--force starts another" in again.stderr
    assert [n for n in executions(sfn, machine) if n.startswith("s3la-2024-Q1")] == ["s3la-2024-Q1"]

    forced = s3la_run(s3la, *args, "--force", env=env)
    assert forced.returncode == 0, forced.stderr
    d = sfn.describe_execution(executionArn=forced.stdout.strip())
    assert re.fullmatch(r"s3la-2024-Q1-r\d{10}", d["name"]), d["name"]
    assert abs(int(d["name"].rsplit("-r", 1)[1]) - time.time()) < 60
    assert json.loads(d["input"]) == {"frequency": "quarterly", "now": "2024-05-10T00:00:00Z"}
    assert sorted(n for n in executions(sfn, machine) if n.startswith("s3la-2024-Q1")) == [
        "s3la-2024-Q1", d["name"]]


def test_the_stack_output_names_the_state_machine(s3la, endpoint, machine):
    cfn = client("cloudformation", endpoint)
    handle = {"Handle": {"Type": "AWS::CloudFormation::WaitConditionHandle"}}
    cfn.create_stack(StackName="S3LogsAnalyzer", TemplateBody=json.dumps({
        "Resources": handle, "Outputs": {"StateMachineArn": {"Value": machine}}}))
    cfn.create_stack(StackName="Elsewhere", TemplateBody=json.dumps({"Resources": handle}))
    env = env_for(endpoint)  # no --state-machine, no S3LA_STATE_MACHINE_ARN

    p = s3la_run(s3la, "start", "--frequency", "weekly", "--now", "2024-01-10T00:00:00Z", env=env)
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == machine.replace(":stateMachine:", ":execution:") + ":s3la-2024-W01"

    p = s3la_run(s3la, "list", "--stack", "Elsewhere", env=env)
    assert p.returncode == 1
    assert p.stderr.startswith("error: stack 'Elsewhere' has no output StateMachineArn: pass "
                               "--state-machine ARN")
    p = s3la_run(s3la, "list", "--stack", "Missing", env=env)
    assert p.returncode == 1
    assert p.stderr.startswith("error: no CloudFormation stack 'Missing' in us-east-1: pass "
                               "--state-machine ARN")


def test_list_shows_name_status_start_and_stop_across_pages(s3la, endpoint, sfn, machine):
    env = env_for(endpoint, machine)
    p = s3la_run(s3la, "start", "--frequency", "weekly", "--now", "2024-03-13T00:00:00Z",
                 env=env)
    assert p.returncode == 0, p.stderr
    wait_until_stopped(sfn, p.stdout.strip())

    p = s3la_run(s3la, "list", "--max", 1000, env=env)
    assert p.returncode == 0, p.stderr
    header, *rows = p.stdout.splitlines()
    assert header.split() == ["NAME", "STATUS", "STARTED", "STOPPED"]
    listed = {r.split()[0]: r.split()[1:] for r in rows}
    known = executions(sfn, machine)
    assert set(listed) == set(known)
    status, started, stopped = listed["s3la-2024-W10"]
    assert status == "FAILED"
    assert started == known["s3la-2024-W10"]["startDate"].strftime("%Y-%m-%dT%H:%M:%SZ")
    assert stopped == known["s3la-2024-W10"]["stopDate"].strftime("%Y-%m-%dT%H:%M:%SZ")

    p = s3la_run(s3la, "list", "--status", "SUCCEEDED", env=env)
    assert (p.returncode, p.stdout) == (0, "")
    assert "No SUCCEEDED executions of" in p.stderr

    # More executions than one page of ListExecutions holds (100 at a time here).
    many = sfn.create_state_machine(name="Many", roleArn=ACCOUNT_ROLE, definition=json.dumps(
        {"StartAt": "Done", "States": {"Done": {"Type": "Succeed"}}}))["stateMachineArn"]
    for i in range(105):
        sfn.start_execution(stateMachineArn=many, name=f"run-{i:03}")
    p = s3la_run(s3la, "list", "--state-machine", many, "--max", 103, env=env)
    assert p.returncode == 0, p.stderr
    names = [r.split()[0] for r in p.stdout.splitlines()[1:]]
    assert len(names) == 103 and len(set(names)) == 103
    assert set(names) <= {f"run-{i:03}" for i in range(105)}


def test_show_prints_each_state_and_the_failed_steps_error_and_cause(s3la, endpoint, sfn,
                                                                     machine):
    env = env_for(endpoint, machine)
    p = s3la_run(s3la, "start", "--frequency", "weekly", "--email", "--now",
                 "2024-02-14T00:00:00Z", env=env)
    assert p.returncode == 0, p.stderr
    arn = p.stdout.strip()
    name = arn.rsplit(":", 1)[1]
    d = wait_until_stopped(sfn, arn)
    assert d["status"] == "FAILED"
    missing = "Function not found: arn:aws:lambda:us-east-1:123456789012:function:" \
              "s3la-ComputePeriodFunctionArn"

    p = s3la_run(s3la, "show", name, env=env)
    assert p.returncode == 0, p.stderr
    text = p.stdout
    assert f"Execution  {name}\nARN        {arn}\nStatus     FAILED\n" in text
    # No Catch into a Fail state: the execution fails at the Task itself,
    # where a redrive resumes, with the Task's error and cause.
    assert "Error      Exception\n" in text, text
    assert f"Cause      {missing}\n" in text
    assert "\nStates (1):\n" in text, text
    step = text[text.index("  1. ComputePeriod (Task) failed"):]
    assert "     error:  Exception\n" in step
    assert f"     cause:  {missing}\n" in step
    assert '"email": true' in step and '"now": "2024-02-14T00:00:00Z"' in step

    p = s3la_run(s3la, "show", arn, "--json", env=env)
    assert p.returncode == 0, p.stderr
    doc = json.loads(p.stdout)
    assert doc["execution"]["name"] == name
    assert doc["execution"]["status"] == "FAILED"
    assert doc["execution"]["input"] == json.loads(d["input"])
    assert doc["execution"]["error"] == "Exception"
    states = doc["states"]
    assert [(s["name"], s["type"], s["status"]) for s in states] == [
        ("ComputePeriod", "Task", "failed")]
    [compute] = states
    assert compute["input"] == json.loads(d["input"])
    assert (compute["error"], compute["cause"], compute["attempts"]) == ("Exception", missing, 1)

    p = s3la_run(s3la, "show", "s3la-1999-01", env=env)
    assert p.returncode == 1
    assert p.stderr.startswith(
        "error: no execution " + machine.replace(":stateMachine:", ":execution:")
        + ":s3la-1999-01: `s3la executions list` shows")


def test_redrive_refuses_a_running_execution_and_reports_the_service(s3la, endpoint, sfn,
                                                                       machine):
    env = env_for(endpoint, machine)
    waiting = sfn.create_state_machine(name="Waiting", roleArn=ACCOUNT_ROLE, definition=json.dumps(
        {"StartAt": "Wait", "States": {"Wait": {"Type": "Wait", "Seconds": 600, "End": True}}}))
    running = sfn.start_execution(stateMachineArn=waiting["stateMachineArn"], name="still-waiting")
    p = s3la_run(s3la, "redrive", running["executionArn"], env=env)
    assert p.returncode == 1
    assert p.stderr.startswith("error: execution still-waiting is RUNNING and cannot be redriven. "
                               "Only a FAILED, ABORTED or TIMED_OUT standard execution can")

    p = s3la_run(s3la, "start", "--frequency", "weekly", "--now", "2024-02-21T00:00:00Z", env=env)
    assert p.returncode == 0, p.stderr
    assert wait_until_stopped(sfn, p.stdout.strip())["status"] == "FAILED"
    # Step Functions would redrive this one; moto (5.2) answers RedriveExecution
    # with an HTTP 500 "not implemented" page, which the command reports as it is.
    p = s3la_run(s3la, "redrive", "s3la-2024-W07", env=env)
    assert p.returncode == 1
    assert p.stderr.startswith("error: RedriveExecution failed: ")
    assert "(HTTP 500)" in p.stderr


def test_errors_say_what_to_fix(s3la, endpoint, machine, tmp_path):
    # No profile files either: HOME is an empty folder.
    env = env_for(endpoint, machine, HOME=tmp_path)
    del env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"]
    p = s3la_run(s3la, "list", env=env)
    assert p.returncode == 1
    assert p.stderr.startswith("error: no usable AWS credentials (set AWS_PROFILE to a configured "
                               "profile")
    assert "ListExecutions failed" in p.stderr

    env = env_for(endpoint, machine, HOME=tmp_path)
    del env["AWS_REGION"]
    p = s3la_run(s3la, "list", env=env)
    assert p.returncode == 1
    assert p.stderr.startswith("error: no AWS region: set AWS_REGION")

    env = env_for(endpoint, "S3LogsAnalyzer")
    p = s3la_run(s3la, "list", env=env)
    assert p.returncode == 1
    assert p.stderr.startswith("error: --state-machine (or S3LA_STATE_MACHINE_ARN): "
                               "'S3LogsAnalyzer' is not a state machine ARN")
