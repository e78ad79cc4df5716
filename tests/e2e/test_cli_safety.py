"""Nothing lost, nothing silent: the built `s3la` refuses outputs that overlap
its inputs before anything runs, names default executions uniquely, never
reuses half-generated demo logs, runs only read-only bounded SQL, and says
what went wrong in words a person can act on."""

import hashlib
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import run


@pytest.fixture(scope="module")
def small_logs(s3la, tmp_path_factory):
    root = tmp_path_factory.mktemp("safety") / "logs"
    run(s3la, "gen-logs", root, "--start", "2024-01-01", "--days", 2, "--lines-per-day", 150,
        "--seed", 3)
    return root


def tree(root: Path):
    """Every file under root with a digest of its bytes."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def copy_of(logs: Path, tmp_path: Path) -> Path:
    import shutil
    shutil.copytree(logs, tmp_path / "logs")
    return tmp_path / "logs"


def test_parse_refuses_to_write_over_its_input(s3la, small_logs, tmp_path):
    logs = copy_of(small_logs, tmp_path)
    before = tree(logs)
    a_log = next(p for p in sorted(logs.rglob("*")) if p.is_file())
    p = run(s3la, "parse", a_log, "--output", "csv", "--out", a_log, check=False)
    assert p.returncode == 1
    assert f"--out '{a_log}' is the same path as the input '{a_log}'" in p.stderr, p.stderr
    assert tree(logs) == before


def test_parse_refuses_an_output_inside_an_input_folder(s3la, small_logs, tmp_path):
    logs = copy_of(small_logs, tmp_path)
    before = tree(logs)
    out = logs / "out.parquet"
    p = run(s3la, "parse", logs, "--output", "parquet", "--out", out, check=False)
    assert p.returncode == 1
    assert f"--out '{out}' is inside the input '{logs}'" in p.stderr, p.stderr
    assert "Choose --out outside the input" in p.stderr
    assert tree(logs) == before
    # Spelled differently, through a symbolic link: still the same place.
    (tmp_path / "link").symlink_to(logs)
    p = run(s3la, "parse", tmp_path / "link", "--out", logs / "x.jsonl", check=False)
    assert p.returncode == 1 and "is inside the input" in p.stderr, p.stderr
    assert tree(logs) == before


@pytest.mark.parametrize("results_in", ["logs/results", "."])
def test_run_refuses_results_overlapping_the_logs_and_creates_nothing(
        s3la, small_logs, tmp_path, results_in):
    logs = copy_of(small_logs, tmp_path)
    before = tree(tmp_path)
    results = tmp_path / results_in
    p = run(s3la, "run", "--logs", logs, "--results", results, "--date_range", "2024-01-01",
            "2024-01-01", check=False)
    assert p.returncode == 1
    assert "--results" in p.stderr and "--logs" in p.stderr, p.stderr
    assert "Choose --results outside --logs" in p.stderr, p.stderr
    assert "Running execution" not in p.stderr
    assert tree(tmp_path) == before
    assert not (logs / "results").exists()


def test_invoke_and_merge_refuse_overlaps_too(s3la, small_logs, tmp_path):
    logs = copy_of(small_logs, tmp_path)
    p = run(s3la, "invoke", "ComputePeriod", "--input", '{"input": {}}', "--logs", logs,
            "--results", logs / "r", check=False)
    assert p.returncode == 1 and "is inside --logs" in p.stderr, p.stderr
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "part-0").write_bytes(b"PAR1")
    for out in (parts, parts / "merged"):
        p = run(s3la, "merge", "--parts", parts, "--out", out, check=False)
        assert p.returncode == 1 and "--parts" in p.stderr and "--out" in p.stderr, p.stderr
    assert [f.name for f in parts.iterdir()] == ["part-0"]


def test_a_refused_input_creates_no_results_folder(s3la, small_logs, tmp_path):
    results = tmp_path / "results"
    p = run(s3la, "run", "--logs", tmp_path / "missing", "--results", results, check=False)
    assert p.returncode == 1 and "--logs" in p.stderr
    p = run(s3la, "run", "--logs", small_logs, "--results", results, "--date_range",
            "2024-02-30", "2024-03-01", check=False)
    assert p.returncode == 1
    p = run(s3la, "invoke", "ComputePeriod", "--input", '{"input": {"bogus": 1}}',
            "--logs", tmp_path / "missing", "--results", results, check=False)
    assert p.returncode == 1
    assert not results.exists()


def test_a_failed_run_names_the_task_that_failed_with_its_error_and_cause(
        s3la, small_logs, tmp_path):
    p = run(s3la, "run", "--logs", small_logs, "--results", tmp_path / "r", "--date_range",
            "2024-02-30", "2024-03-01", check=False)
    assert p.returncode == 1
    assert ("error: the execution failed in the Task state ComputePeriod: InvalidInput: "
            "dateRange.start: must be a real calendar date") in p.stderr, p.stderr
    # The execution fails at the Task itself (no Fail state), where a redrive resumes.
    assert "Fail state" not in p.stderr and "ComputePeriodFailed" not in p.stderr, p.stderr


def test_a_period_before_projection_start_says_to_set_it(s3la, small_logs, tmp_path):
    env = {**os.environ, "PROJECTION_START": "2024-06-01"}
    p = run(s3la, "run", "--logs", small_logs, "--results", tmp_path / "r", "--date_range",
            "2024-01-01", "2024-01-01", env=env, check=False)
    assert p.returncode == 1
    assert "set PROJECTION_START to 2024-01-01 or before" in p.stderr, p.stderr


def test_flag_values_are_refused_with_what_is_wrong(s3la, tmp_path):
    p = run(s3la, "ddl", "--projection-start", "2024-02-30", "--database", "d", "--table", "t",
            "--location", "s3://log-bucket/p/", check=False)
    assert p.returncode == 2
    assert "'2024-02-30' is not a real date: 2024-02 has 29 days" in p.stderr, p.stderr
    huge = "99999999999999999999999"
    for cmd in (["gen-logs", tmp_path / "g", "--start", "2024-01-01", "--days", 1],
                ["demo", "--dir", tmp_path / "d"]):
        p = run(s3la, *cmd, "--lines-per-day", huge, check=False)
        assert p.returncode == 2
        assert f"{huge} is too large: the most is 50000000" in p.stderr, p.stderr
    assert not (tmp_path / "g").exists() and not (tmp_path / "d").exists()


def test_a_cause_is_said_once(s3la, tmp_path):
    parts = tmp_path / "parts"
    parts.mkdir()
    (parts / "part-0").write_bytes(os.urandom(4096))
    p = run(s3la, "merge", "--parts", parts, "--out", tmp_path / "out", check=False)
    assert p.returncode == 1
    assert p.stderr.count("Corrupt footer") == 1, p.stderr


def test_default_execution_names_differ_within_a_second(s3la, small_logs, tmp_path):
    # Two periods, so the runs do not also write the same outputs.
    procs = [subprocess.Popen([str(s3la), "run", "--logs", str(small_logs), "--results",
                               str(tmp_path / "r"), "--date_range", day, day],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for day in ("2024-01-01", "2024-01-02")]
    names = []
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        names.append(err.split("Running execution ", 1)[1].split()[0])
    assert names[0] != names[1], names
    for name in names:
        assert name.startswith("local-") and len(name) <= 80
        assert all(c.isalnum() or c in "-_" for c in name), name
    staging = sorted(p.name for p in (tmp_path / "r" / "_staging").glob("*/*"))
    assert staging == sorted(names)


def test_query_is_read_only(s3la, small_logs, tmp_path):
    target = tmp_path / "copied.csv"
    for sql in (f"COPY (SELECT * FROM logs) TO '{target}'",
                "CREATE EXTERNAL TABLE t STORED AS CSV LOCATION '/etc/passwd'",
                "DROP TABLE logs",
                "INSERT INTO logs SELECT * FROM logs",
                "SET datafusion.execution.batch_size = 1"):
        p = run(s3la, "query", sql, "--logs", small_logs, check=False)
        assert p.returncode == 1, sql
        assert "only SELECT queries over the `logs` table are allowed" in p.stderr, p.stderr
    assert not target.exists()
    p = run(s3la, "query", "SELECT count(*) AS n FROM logs", "--logs", small_logs,
            "--output", "csv")
    assert p.stdout.split()[0] == "n" and int(p.stdout.split()[1]) > 0


def test_query_memory_is_bounded(s3la, tmp_path):
    logs = tmp_path / "logs"
    run(s3la, "gen-logs", logs, "--start", "2024-01-01", "--days", 2, "--lines-per-day", 500)
    n = int(run(s3la, "query", "SELECT count(*) AS n FROM logs", "--logs", logs,
                "--output", "csv").stdout.split()[1])
    cross = "SELECT a.key, b.key FROM logs a CROSS JOIN logs b"
    # The table output holds its n * n rows (about a million) to align them.
    p = run(s3la, "query", cross, "--logs", logs, "--memory-limit", "32MiB", check=False)
    assert p.returncode == 1
    assert "the query needs more memory than --memory-limit allows (32.0 MiB)" in p.stderr, \
        p.stderr
    assert p.stdout == ""
    # Streamed, the same rows fit within the same limit.
    p = run(s3la, "query", cross, "--logs", logs, "--memory-limit", "32MiB", "--output", "csv")
    assert len(p.stdout.splitlines()) == 1 + n * n


def test_demo_never_reuses_half_generated_logs(s3la, tmp_path):
    demo = tmp_path / "demo"
    proc = subprocess.Popen([str(s3la), "demo", "--dir", str(demo), "--lines-per-day",
                             "2000000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while not any(demo.glob(".logs.partial-*/**/*-*")) and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert list(demo.glob(".logs.partial-*")), "the demo was generating"
    assert not (demo / "logs").exists(), "a killed demo leaves no logs folder to reuse"

    p = run(s3la, "demo", "--dir", demo, "--lines-per-day", 100)
    assert "left by a demo that stopped while generating logs" in p.stderr, p.stderr
    assert "1/2 generating" in p.stderr
    assert not list(demo.glob(".logs.partial-*"))
    assert any((demo / "logs").rglob("2024-01-0*"))
    assert "Running execution demo-" in p.stderr
    again = run(s3la, "demo", "--dir", demo, "--lines-per-day", 100)
    assert "1/2 reusing the sample logs" in again.stderr


def test_counts_are_said_in_the_singular_when_there_is_one(s3la, tmp_path):
    cut = tmp_path / "cut.log"
    cut.write_text('79a5 bkt [06/Feb/2019:00:00:38 +0000] 192.0.2.3 - 3E57 REST.GET.OBJECT k '
                   '"GET /bkt/k HTTP/1.1" 200 - 5 5 7 - "-" "curl/8\n')
    p = run(s3la, "parse", cut, check=False)
    assert "1 line from 1 input" in p.stderr and "0 records, 1 malformed" in p.stderr, p.stderr
    assert "user_agent: unterminated quoted value" in p.stderr, p.stderr
