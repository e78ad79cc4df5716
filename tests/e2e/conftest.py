"""Shared fixtures: the s3la and Lambda binaries (built once), a generated log
tree, and a moto server on 127.0.0.1 playing AWS."""

import contextlib
import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def s3la() -> Path:
    """Path of the s3la binary: $S3LA_BIN, or a debug build of the workspace."""
    if os.environ.get("S3LA_BIN"):
        return Path(os.environ["S3LA_BIN"])
    return debug_build() / "s3la"


def debug_build() -> Path:
    """Builds the s3la and Lambda binaries (debug) once; returns their folder."""
    subprocess.run(["cargo", "build", "--quiet", "-p", "s3la", "-p", "s3la-lambdas"],
                   cwd=REPO, check=True)
    return Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target")) / "debug"


@pytest.fixture(scope="session")
def lambda_bin() -> Path:
    """Folder holding the Lambda binaries (compute-period, start-query, ...)."""
    return debug_build()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(proc: subprocess.Popen, probe, failure: str, timeout: float, interval: float):
    """Calls `probe` every `interval` seconds until it raises no OSError; when
    `proc` exits or `timeout` seconds pass first, kills it and fails with
    `failure`."""
    deadline = time.time() + timeout
    while True:
        try:
            probe()
            return
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError(failure)
            time.sleep(interval)


@contextlib.contextmanager
def moto_server(config: dict | None = None):
    """A moto server on 127.0.0.1, with moto's `config` (as POST /moto-api/config
    takes it) set; yields its endpoint URL."""
    port = free_port()
    server = REPO / ".venv" / "bin" / "moto_server"
    proc = subprocess.Popen([str(server), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    wait_until_up(proc, lambda: urllib.request.urlopen(url + "/moto-api/", timeout=1),
                  f"moto server did not start on {url}", timeout=30, interval=0.2)
    try:
        if config:
            urllib.request.urlopen(urllib.request.Request(
                url + "/moto-api/config", data=json.dumps(config).encode(), method="POST"),
                timeout=10)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            # Executions moto runs are threads that may still be waiting.
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def moto():
    """A moto server on 127.0.0.1; yields its endpoint URL."""
    with moto_server() as url:
        yield url


S3S_ACCESS_KEY, S3S_SECRET_KEY = "s3la-e2e-access", "s3la-e2e-secret-key"


@pytest.fixture(scope="module")
def s3s(tmp_path_factory):
    """s3s-fs (an S3 server that checks SigV4) on 127.0.0.1 over a fresh
    folder; yields (endpoint URL, root folder). Buckets are its subfolders."""
    binary = Path(os.environ.get("S3S_FS", REPO / ".tools" / "s3s-fs" / "bin" / "s3s-fs"))
    if not binary.exists():
        raise RuntimeError(f"{binary} is missing: tests/run_all.sh installs it")
    root = tmp_path_factory.mktemp("s3s")
    port = free_port()
    proc = subprocess.Popen([str(binary), "--host", "127.0.0.1", "--port", str(port),
                             "--access-key", S3S_ACCESS_KEY, "--secret-key", S3S_SECRET_KEY,
                             str(root)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_until_up(proc, lambda: socket.create_connection(("127.0.0.1", port), timeout=1).close(),
                  f"s3s-fs did not start on port {port}", timeout=20, interval=0.1)
    yield f"http://127.0.0.1:{port}", root
    proc.terminate()
    proc.wait(timeout=10)


def aws_env(endpoint: str, access_key="testing", secret_key="testing", **settings) -> dict:
    """Environment for our binaries talking to a local AWS stand-in (moto,
    s3s-fs): its credentials, the endpoint override the AWS SDK reads, and
    the given settings."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("AWS_") and k not in ("ATHENA_DATABASE", "ATHENA_TABLE",
                                                     "RESULT_PATH", "S3_LOGS_LOCATION")}
    env.update({
        "AWS_ACCESS_KEY_ID": access_key, "AWS_SECRET_ACCESS_KEY": secret_key,
        "AWS_REGION": "us-east-1", "AWS_ENDPOINT_URL": endpoint,
        "AWS_EC2_METADATA_DISABLED": "true",
    })
    env.update({k: str(v) for k, v in settings.items()})
    return env


def run(binary, *args, check=True, **kw):
    """Runs s3la and returns the CompletedProcess (text mode)."""
    return subprocess.run(
        [str(binary), *map(str, args)], capture_output=True, text=True, check=check, **kw
    )


def generated_logs(s3la, tmp_path_factory, name, start, days, lines_per_day, seed) -> Path:
    """`s3la gen-logs` into a fresh folder `name` (the same logs for the same
    arguments), for the test modules' own log fixtures."""
    root = tmp_path_factory.mktemp(name)
    run(s3la, "gen-logs", root, "--start", start, "--days", days,
        "--lines-per-day", lines_per_day, "--seed", seed)
    return root


@pytest.fixture(scope="session")
def logs(s3la, tmp_path_factory):
    """Three days of generated logs; returns (root dir, gen-logs summary line)."""
    root = tmp_path_factory.mktemp("logs")
    p = run(s3la, "gen-logs", root, "--start", "2024-02-28", "--days", 3,
            "--lines-per-day", 8000, "--seed", 5)
    return root, p.stderr
