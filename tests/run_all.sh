#!/usr/bin/env bash
# Runs every test of the project: formatting and lints, the Rust tests of all
# crates, and the end-to-end tests that read our outputs back with
# independent tools (pyarrow, DuckDB, sqlglot, moto, asl-validator). CI runs
# exactly this (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
# Nothing here reads a terminal; a stray stdin (a background job's) must not
# reach the tools (cargo's rustc probe reads it).
exec </dev/null

step() { printf '\n==> %s\n' "$*"; }

step "Python tools for the end-to-end tests (.venv, from tests/requirements.txt)"
if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/pip install --quiet --disable-pip-version-check -r tests/requirements.txt

step "Node tools for the definition's checkers (tests/js, from its package-lock.json)"
npm ci --prefix tests/js --no-audit --no-fund --loglevel=error

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --all-features --quiet -- -D warnings

step "cargo test (all crates)"
# On a cold target directory, cargo here sometimes caches a failed probe of
# rustc's target information in target/.rustc_info.json right after clippy
# ("failed to run `rustc` to learn about target-specific information", with
# a stray compiler message as the probe's input). The probe itself is sound
# (it passes when run again), so drop the bad cache entry and build once more.
mkdir -p target
if ! cargo test --workspace --all-features --no-run 2>target/test-build.log; then
  cat target/test-build.log >&2
  if grep -q "learn about target-specific information" target/test-build.log; then
    echo "retrying after a failed rustc probe (cached in target/.rustc_info.json)" >&2
    rm -f target/.rustc_info.json
    cargo test --workspace --all-features --no-run
  else
    exit 1
  fi
else
  tail -n 3 target/test-build.log
fi
cargo test --workspace --all-features

step "end-to-end tests (pytest)"
.venv/bin/python -m pytest tests/e2e -q
