#!/usr/bin/env bash
# The scaling benchmark on a machine lent for one measurement (many cores, no
# registry, minutes of time): one short run of `scaling.py` over every core
# count up to the machine's, with the s3la binary built here and carried there.
#
# Here (once):   tests/bench/on_device.sh prepare
#                  -> bench-device/s3la.gz (the release build, compressed)
# There:         tests/bench/on_device.sh run      (carry: bench-device)
#                  -> $OUT/scaling.txt (the README's table), $OUT/scaling.json,
#                     $OUT/machine.txt; arguments after `run` go to scaling.py
#
# DuckDB is measured beside it when the machine's python3 can import it;
# otherwise the table has no DuckDB column and says so.
set -euo pipefail
cd "$(dirname "$0")/../.."
carry=bench-device

action="${1:-}"
shift || true
case "$action" in
prepare)
    cargo build --release -p s3la
    mkdir -p "$carry"
    gzip -9 -c target/release/s3la > "$carry/s3la.gz"
    ls -l "$carry"
    ;;
run)
    out="${OUT:?OUT names the folder whose files come back}"
    work="$(mktemp -d)"
    gunzip -c "$carry/s3la.gz" > "$work/s3la"
    chmod +x "$work/s3la"
    { nproc; lscpu; free -g; python3 --version; } > "$out/machine.txt" 2>&1 || true
    duck=(--no-duckdb)
    if python3 -c "import duckdb" 2>/dev/null; then duck=(); fi
    # Fewer runs than here: the lent time is short; the logs are generated
    # on the machine itself (a few seconds on many cores).
    python3 tests/bench/scaling.py --s3la "$work/s3la" --data "$work/data" --runs 2 \
        --json "$out/scaling.json" "${duck[@]}" "$@" | tee "$out/scaling.txt"
    if [ ${#duck[@]} -ne 0 ]; then
        echo "DuckDB: not importable by this machine's python3, left out" | tee -a "$out/scaling.txt"
    fi
    ;;
*)
    echo "usage: $0 prepare | run   (see the comment at the top)" >&2
    exit 2
    ;;
esac
