"""Shared fixtures: the s3la binary (built once) and a generated log tree."""

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def s3la() -> Path:
    """Path of the s3la binary: $S3LA_BIN, or a debug build of the workspace."""
    if os.environ.get("S3LA_BIN"):
        return Path(os.environ["S3LA_BIN"])
    subprocess.run(["cargo", "build", "--quiet", "-p", "s3la"], cwd=REPO, check=True)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "s3la"


def run(binary, *args, check=True, **kw):
    """Runs s3la and returns the CompletedProcess (text mode)."""
    return subprocess.run(
        [str(binary), *map(str, args)], capture_output=True, text=True, check=check, **kw
    )


@pytest.fixture(scope="session")
def logs(s3la, tmp_path_factory):
    """Three days of generated logs; returns (root dir, gen-logs summary line)."""
    root = tmp_path_factory.mktemp("logs")
    p = run(s3la, "gen-logs", root, "--start", "2024-02-28", "--days", 3,
            "--lines-per-day", 8000, "--seed", 5)
    return root, p.stderr
