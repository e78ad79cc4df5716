"""SendReport as it runs on AWS and with SMTP: the real `send-report` Lambda
binary, served an event through a Lambda Runtime API, reading the report
from s3s-fs (an S3 server that checks SigV4) and sending through moto's
SES v2 on 127.0.0.1, the sent messages read back from moto; and `s3la run
--email` over SMTP to a real SMTP server (aiosmtpd) on 127.0.0.1."""

import calendar
import datetime
import email
import json
import os
import time
import urllib.request
from email import policy

import boto3
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from botocore.signers import CloudFrontSigner
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from conftest import S3S_ACCESS_KEY, S3S_SECRET_KEY, aws_env, free_port, run
from lambda_runtime_api import invoke

LABEL = "2024-02-28_2024-02-29"
RESULT_PATH = "s3://res-bkt/s3la/"
EXECUTION = {"name": "e2e-mail-1", "startTime": "2024-03-05T06:00:00Z"}
SENDER = "reports@example.com"


@pytest.fixture(scope="module")
def local(s3la, logs, tmp_path_factory):
    """A local run's results for the period (report.json, csv.gz, parquet)."""
    root, _ = logs
    out = tmp_path_factory.mktemp("mail-results")
    # The execution SendReport is invoked as below wrote the outputs.
    run(s3la, "run", "--logs", root, "--results", out, "--date_range", "2024-02-28",
        "2024-02-29", "--wait-seconds", 0, "--name", EXECUTION["name"])
    return out


@pytest.fixture(scope="module")
def bucket(s3s, local):
    """The results uploaded to s3s-fs where MergeResults would have written them."""
    endpoint, root = s3s
    (root / "res-bkt").mkdir()
    s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                      aws_access_key_id=S3S_ACCESS_KEY, aws_secret_access_key=S3S_SECRET_KEY)
    for f in (local / LABEL).iterdir():
        s3.upload_file(str(f), "res-bkt", f"s3la/{LABEL}/{f.name}")
    return s3


@pytest.fixture(scope="module")
def ses(moto):
    client = boto3.client("sesv2", endpoint_url=moto, region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
    client.create_email_identity(EmailIdentity=SENDER)
    return client


def event(s3la):
    plan = json.loads(run(s3la, "invoke", "ComputePeriod", "--input", json.dumps(
        {"input": {"dateRange": {"start": "2024-02-28", "end": "2024-02-29"}, "email": True},
         "execution": EXECUTION})).stdout)
    uri = f"{RESULT_PATH}{LABEL}/"
    return {
        "execution": plan["execution"], "period": plan["period"],
        "results": {"outputs": {"parquet": f"{uri}requests-{LABEL}.parquet",
                                "csvGz": f"{uri}requests-{LABEL}.csv.gz",
                                "reportJson": f"{uri}report.json",
                                "reportHtml": f"{uri}report.html"},
                    "rows": 1, "bytes": {"parquet": 1, "csvGz": 1}, "dataFiles": 1},
        "status": {"queryExecutionId": "q-1", "state": "SUCCEEDED", "done": True,
                   "dataScannedBytes": 1, "engineExecutionMs": 1, "totalExecutionMs": 1,
                   "estimatedCostUsd": 0.0},
    }


def lambda_env(s3s, moto, **settings):
    env = aws_env(s3s[0], S3S_ACCESS_KEY, S3S_SECRET_KEY, RESULT_PATH=RESULT_PATH, **settings)
    # S3 on s3s-fs, SES v2 on moto: the SDK's per-service endpoint settings.
    env["AWS_ENDPOINT_URL_SESV2"] = moto
    return env


def sent_messages(moto):
    data = json.load(urllib.request.urlopen(f"{moto}/moto-api/data.json"))
    return data["ses"]["RawMessage"]


def test_the_lambda_sends_through_ses_in_batches_with_a_working_link(
        lambda_bin, s3la, s3s, moto, ses, bucket, local):
    before = len(sent_messages(moto))
    recipients = [f"user{i}@example.org" for i in range(120)]
    env = lambda_env(s3s, moto, FROM_EMAIL=f"S3 reports <{SENDER}>", REPLY_TO_EMAIL="ops@example.com",
                     TARGET_EMAIL_ADDRESS=",".join(recipients))
    [(kind, out)] = invoke(lambda_bin / "send-report", [event(s3la)], env)
    assert kind == "response", out
    assert out["transport"] == "ses" and out["recipients"] == 120
    assert len(out["messageIds"]) == 3
    assert out["linkKind"] == "presignedS3"
    # Static test keys never expire: the link is signed for SigV4's 7 days.
    expires = time.mktime(time.strptime(out["linkExpires"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert 6.9 * 86400 < expires - time.mktime(time.gmtime()) <= 7 * 86400

    messages = sent_messages(moto)[before:]
    assert len(messages) == 3
    got = []
    for m in messages:
        assert m["source"] == SENDER
        msg = email.message_from_string(m["raw_data"], policy=policy.default)
        assert msg["Subject"] == "S3 usage of amzn-s3-demo-bucket: 2024-02-28 to 2024-02-29"
        assert msg["Reply-To"] == "ops@example.com"
        got += [a.addr_spec for a in msg["To"].addresses]
        html = msg.get_body(("html",)).get_content()
        text = msg.get_body(("plain",)).get_content()
        assert "works until" in html and "works until" in text
    assert sorted(got) == sorted(recipients), "each recipient once, at most 50 a message"

    # The link in the email downloads the csv.gz from the S3 server that checks signatures.
    link = next(l for l in text.splitlines() if "X-Amz-Signature=" in l)
    body = urllib.request.urlopen(link).read()
    assert body == (local / LABEL / f"requests-{LABEL}.csv.gz").read_bytes()


def test_an_unverified_sender_is_refused_by_name(lambda_bin, s3la, s3s, moto, ses, bucket):
    env = lambda_env(s3s, moto, FROM_EMAIL="nobody@unverified.example",
                     TARGET_EMAIL_ADDRESS="a@example.org")
    [(kind, err)] = invoke(lambda_bin / "send-report", [event(s3la)], env)
    assert kind == "error", err
    assert err["errorType"] == "EmailRejected"
    assert "FROM_EMAIL is a verified SES identity" in err["errorMessage"]


def test_outputs_another_run_wrote_are_not_reported(lambda_bin, s3la, s3s, moto, ses, bucket):
    env = lambda_env(s3s, moto, FROM_EMAIL=SENDER, TARGET_EMAIL_ADDRESS="a@example.org")
    other = event(s3la)
    other["execution"]["name"] = "e2e-mail-2"
    before = len(sent_messages(moto))
    [(kind, err)] = invoke(lambda_bin / "send-report", [other], env)
    assert kind == "error", err
    assert err["errorType"] == "InvalidInput"
    assert ("the period's outputs were written by execution e2e-mail-1, not by this one "
            "(e2e-mail-2)") in err["errorMessage"], err
    assert len(sent_messages(moto)) == before, "nothing sent"


def test_a_bad_recipient_stops_the_lambda_at_start(lambda_bin, s3la, s3s, moto):
    env = lambda_env(s3s, moto, FROM_EMAIL=SENDER, TARGET_EMAIL_ADDRESS="a@example.org,b@")
    with pytest.raises(AssertionError, match="TARGET_EMAIL_ADDRESS: 'b@' is not an email address"):
        invoke(lambda_bin / "send-report", [event(s3la)], env, timeout=10)


LINK_BASE = "https://d111111abcdef8.cloudfront.net"
KEY_PAIR_ID = "K2JCJMDEHXQW5F"


def test_with_link_settings_the_email_links_through_cloudfront_for_a_week(
        lambda_bin, s3la, s3s, moto, ses, bucket):
    # The private key in Secrets Manager (moto), read once when the Lambda starts.
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    secrets = boto3.client("secretsmanager", endpoint_url=moto, region_name="us-east-1",
                           aws_access_key_id="testing", aws_secret_access_key="testing")
    arn = secrets.create_secret(Name="s3la-link-key", SecretString=pem)["ARN"]
    env = lambda_env(s3s, moto, FROM_EMAIL=SENDER, TARGET_EMAIL_ADDRESS="a@example.org",
                     LINK_BASE_URL=LINK_BASE, LINK_KEY_PAIR_ID=KEY_PAIR_ID,
                     LINK_PRIVATE_KEY_SECRET=arn)
    env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = moto
    before = len(sent_messages(moto))
    [(kind, out)] = invoke(lambda_bin / "send-report", [event(s3la)], env)
    assert kind == "response", out
    assert out["linkKind"] == "cloudFront"
    expires = calendar.timegm(time.strptime(out["linkExpires"][:19], "%Y-%m-%dT%H:%M:%S"))
    assert 7 * 86400 - 60 < expires - time.time() <= 7 * 86400

    [m] = sent_messages(moto)[before:]
    msg = email.message_from_string(m["raw_data"], policy=policy.default)
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    until = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(expires))
    for part in (text, html):
        assert f"This CloudFront signed link works until {until}." in part
    link = next(line for line in text.splitlines() if line.startswith(LINK_BASE))
    # The link is what botocore's CloudFrontSigner makes for the same object and expiry.
    url = f"{LINK_BASE}/s3la/{LABEL}/requests-{LABEL}.csv.gz"
    signer = CloudFrontSigner(
        KEY_PAIR_ID, lambda message: key.sign(message, padding.PKCS1v15(), hashes.SHA1()))
    assert link == signer.generate_presigned_url(
        url, date_less_than=datetime.datetime.fromtimestamp(expires, datetime.timezone.utc))


def test_a_missing_link_key_secret_stops_the_lambda_at_start(lambda_bin, s3la, s3s, moto):
    env = lambda_env(s3s, moto, FROM_EMAIL=SENDER, TARGET_EMAIL_ADDRESS="a@example.org",
                     LINK_BASE_URL=LINK_BASE, LINK_KEY_PAIR_ID=KEY_PAIR_ID,
                     LINK_PRIVATE_KEY_SECRET="s3la-no-such-secret")
    env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = moto
    with pytest.raises(AssertionError, match="LINK_PRIVATE_KEY_SECRET: GetSecretValue of s3la-no-such-secret"):
        invoke(lambda_bin / "send-report", [event(s3la)], env, timeout=10)
    env.pop("LINK_KEY_PAIR_ID")
    with pytest.raises(AssertionError, match="LINK_KEY_PAIR_ID: is not set"):
        invoke(lambda_bin / "send-report", [event(s3la)], env, timeout=10)


class Inbox:
    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def check_password(server, session, envelope, mechanism, auth_data):
    ok = auth_data.login == b"reporter" and auth_data.password == b"s3cret"
    # handled=False: aiosmtpd answers 535 itself (handled=True would leave the reply to us).
    return AuthResult(success=ok, handled=False)


def test_run_sends_over_smtp_when_smtp_host_is_set(s3la, logs, tmp_path):
    inbox = Inbox()
    port = free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=check_password,
                        auth_required=True, auth_require_tls=False)
    server.start()
    try:
        root, _ = logs
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SMTP_", "FROM_", "TARGET_"))}
        env.update(SMTP_HOST=f"127.0.0.1:{port}", SMTP_TLS="none", SMTP_USERNAME="reporter",
                   SMTP_PASSWORD="s3cret", FROM_EMAIL=SENDER,
                   TARGET_EMAIL_ADDRESS="ops@example.com,finops@example.org")
        p = run(s3la, "run", "--logs", root, "--results", tmp_path, "--date_range", "2024-02-28",
                "2024-02-29", "--wait-seconds", 0, "--email", env=env)
        summary = json.loads(p.stdout)
        assert summary["email"]["transport"] == "smtp", summary
        [envelope] = inbox.envelopes
        assert envelope.mail_from == SENDER
        assert sorted(envelope.rcpt_tos) == ["finops@example.org", "ops@example.com"]
        msg = email.message_from_bytes(envelope.original_content, policy=policy.default)
        assert msg["Subject"].startswith("S3 usage of amzn-s3-demo-bucket: 2024-02-28 to 2024-02-29")
        assert msg.get_body(("html",)) is not None and msg.get_body(("plain",)) is not None
        assert not (tmp_path / "outbox").exists(), "nothing went to the outbox"

        # A wrong password is a refusal that names SMTP, not a silent success.
        env["SMTP_PASSWORD"] = "wrong"
        p = run(s3la, "run", "--logs", root, "--results", tmp_path / "again", "--date_range",
                "2024-02-28", "2024-02-29", "--wait-seconds", 0, "--email", env=env, check=False)
        assert p.returncode != 0 and "SMTP" in p.stderr, p.stderr
        assert len(inbox.envelopes) == 1
    finally:
        server.stop()
