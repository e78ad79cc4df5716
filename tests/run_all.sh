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

# On a cold target directory, cargo here has failed its rustc probe ("failed
# to run `rustc` to learn about target-specific information", with a stray
# compiler message as the probe's input) when `cargo test` ran right after
# clippy, and cached the failure in target/.rustc_info.json. The probe is
# sound when run again, so: build the tests first, and retry a command that
# fails this way after dropping the cached entry.
cargo_retrying() {
  mkdir -p target
  for attempt in 1 2 3; do
    if cargo "$@" 2>target/cargo-stderr.log; then
      tail -n 3 target/cargo-stderr.log >&2
      return 0
    fi
    cat target/cargo-stderr.log >&2
    grep -q "learn about target-specific information" target/cargo-stderr.log || return 1
    echo "retrying (attempt $((attempt + 1))) after a failed rustc probe" >&2
    rm -f target/.rustc_info.json
    sleep 10
  done
  return 1
}

step "build the tests"
cargo_retrying test --workspace --all-features --no-run

step "cargo clippy -D warnings"
cargo_retrying clippy --workspace --all-targets --all-features --quiet -- -D warnings

step "cargo test (all crates)"
cargo_retrying test --workspace --all-features
cat target/cargo-stderr.log >&2

step "end-to-end tests (pytest)"
.venv/bin/python -m pytest tests/e2e -q
