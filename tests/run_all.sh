#!/usr/bin/env bash
# Runs every test of the project: formatting and lints, the Rust tests of all
# crates, the end-to-end tests that read our outputs back with independent
# tools (pyarrow, DuckDB, sqlglot, moto, s3s-fs, aiosmtpd, Chromium,
# asl-validator), and the CDK app's tests (jest, cdk-nag, cfn-lint). CI runs
# exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
# /dev/null must be the device: cargo feeds it to its rustc probe, and build
# scripts "discard" compiler output into it (.ci/run repairs it on CI).
if [ ! -c /dev/null ]; then
  echo "error: /dev/null is not a character device; recreate it with: mknod -m 666 /dev/null c 1 3" >&2
  exit 1
fi

step() { printf '\n==> %s\n' "$*"; }

step "Python tools for the end-to-end tests (.venv, from tests/requirements.txt)"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt

step "Node tools for the definition's checkers (tests/js, from its package-lock.json)"
npm ci --prefix tests/js --no-audit --no-fund --loglevel=error

step "Headless Chromium for the report's rendering test"
if ! command -v chromium >/dev/null 2>&1; then
  echo "error: chromium is not installed (Debian: apt-get install chromium; .ci/run does it)" >&2
  exit 1
fi

step "S3-compatible test server (s3s-fs 0.14.1, checks SigV4; built once into .tools/)"
if [ ! -x .tools/s3s-fs/bin/s3s-fs ]; then
  cargo install s3s-fs --version 0.14.1 --features binary --locked --root .tools/s3s-fs --quiet
fi

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --all-features --quiet -- -D warnings

step "cargo test (all crates)"
cargo test --workspace --all-features

step "end-to-end tests (pytest)"
.venv/bin/python -m pytest tests/e2e -q

step "the CDK app (tests/infra.sh)"
tests/infra.sh
