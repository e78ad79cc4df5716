"""Nothing lost, nothing silent (`s3la run`, locally): RemoveOriginalLogs
deletes a log object only when every line of it is a record the outputs hold,
judged here by an independent reader (log_objects.py); input that cannot be
read fails the run by name; a period's outputs are one set, named with their
digests by `_SUCCESS.json`."""

import hashlib
import json
import os
import shutil
import subprocess
import time

import pytest

from conftest import generated_logs, run
from digests import crc64nvme
from log_objects import files, holds_earlier_records, whole_in_period

START, END = "2024-01-08", "2024-01-14"
LABEL = f"{START}_{END}"


@pytest.fixture(scope="module")
def two_weeks(s3la, tmp_path_factory):
    return generated_logs(s3la, tmp_path_factory, "twoweeks", "2024-01-01", 14, 1500, 7)


def period_day(path, root):
    rel = "/" + str(path.relative_to(root))
    return any(f"/2024/01/{d:02d}/" in rel for d in range(8, 15))


def run_week(s3la, logs, results, *more, check=True):
    return run(s3la, "run", "--logs", logs, "--results", results, "--date_range", START, END,
               *more, check=check)


def test_only_objects_whose_every_line_is_in_the_outputs_are_deleted(s3la, two_weeks, tmp_path):
    logs = tmp_path / "logs"
    shutil.copytree(two_weeks, logs)
    day_folder = next(p.parent for p in files(logs) if "/2024/01/10/" in str(p))
    # Bytes that are no log at all, beside the real objects of a period day.
    (day_folder / "2024-01-10-23-59-59-GARBAGE").write_bytes(os.urandom(4096))
    before = {p: p.read_bytes() for p in files(logs)}
    results = tmp_path / "results"

    p = run_week(s3la, logs, results, "--remove_original_logs")
    out = json.loads(p.stdout)
    assert f"{out['malformedLines']} malformed log lines left out" in p.stderr, p.stderr
    removal = out["cleanup"]["originalLogs"]
    after = set(files(logs))
    deleted = [f for f in before if f not in after]
    candidates = [f for f in before if period_day(f, logs)]

    # Nothing outside the period's own days, and only objects held whole.
    assert deleted and set(deleted) <= set(candidates)
    for f in deleted:
        assert whole_in_period(before[f], START, END), f"{f} held a line in no output"
    # Every object with a line in no output stays: the malformed bytes, and the
    # records of January 7 that S3 delivered into the first day's folder.
    late = [f for f in candidates if holds_earlier_records(before[f], START)]
    assert late, "the generator delivers some of Jan 7 into Jan 8's folder"
    for f in candidates:
        if not whole_in_period(before[f], START, END):
            assert f in after, f"{f} was deleted though some of its lines are in no output"
    assert day_folder / "2024-01-10-23-59-59-GARBAGE" in after

    # The step's own account agrees, and says why it kept what it kept.
    assert removal["deletedObjects"] == len(deleted)
    assert removal["keptObjects"] == len(candidates) - len(deleted)
    records = sum(sum(1 for l in before[f].decode().split("\n") if l.strip()) for f in deleted)
    assert removal["deletedRecords"] == records
    reasons = {k["object"].removeprefix("file://"): k["reason"] for k in removal["kept"]}
    assert any("outside the period" in r for r in reasons.values()), reasons
    garbage = str(day_folder / "2024-01-10-23-59-59-GARBAGE")
    if garbage in reasons:
        assert "malformed" in reasons[garbage] or "unreadable" in reasons[garbage]
    ledger = json.loads((results / LABEL / "deleted-logs.json").read_text())
    assert sorted(ledger["objects"]) == sorted(f"file://{f}" for f in deleted)
    assert sum(ledger["objects"].values()) == records
    # Malformed lines are counted in the run's output, not hidden.
    assert out["malformedLines"] > 0

    # The outputs now hold the only copy of the deleted records: a re-run of
    # the period, which would replace them with fewer rows, is refused, and
    # the outputs stay as they were.
    digests = {f.name: hashlib.sha256(f.read_bytes()).hexdigest()
               for f in (results / LABEL).iterdir()}
    p = run_week(s3la, logs, results, check=False)
    assert p.returncode == 1
    assert f"the logs of {LABEL} were deleted after its outputs were written " \
           f"({len(deleted)} log objects, {records} records" in p.stderr, p.stderr
    assert "move " in p.stderr and "deleted-logs.json away first" in p.stderr
    assert {f.name: hashlib.sha256(f.read_bytes()).hexdigest()
            for f in (results / LABEL).iterdir()} == digests


def test_logs_that_are_no_logs_fail_the_run_and_nothing_is_deleted(s3la, tmp_path):
    logs = tmp_path / "logs"
    day = logs / "123456789012" / "us-east-1" / "bkt" / "2024" / "01" / "09"
    day.mkdir(parents=True)
    for n in range(3):
        (day / f"2024-01-09-10-00-0{n}-RANDOM").write_bytes(os.urandom(2000))
    before = files(logs)
    p = run_week(s3la, logs, tmp_path / "results", "--remove_original_logs", check=False)
    assert p.returncode == 1
    assert "malformed" in p.stderr and "2024-01-09-10-00-0" in p.stderr, p.stderr
    assert files(logs) == before


def test_no_logs_for_the_period_is_an_error_naming_where_it_looked(s3la, tmp_path):
    logs = tmp_path / "empty"
    logs.mkdir()
    p = run_week(s3la, logs, tmp_path / "results", check=False)
    assert p.returncode == 1
    assert "no log files for the period" in p.stderr and str(logs) in p.stderr, p.stderr
    assert "2024/01/08 to 2024/01/15" in p.stderr, p.stderr


def test_the_outputs_are_one_set_named_with_their_digests(s3la, two_weeks, tmp_path):
    results = tmp_path / "results"
    folder = results / LABEL
    # What a killed writer of this period's csv.gz left: removed by the next run.
    folder.mkdir(parents=True)
    leftover = folder / f".requests-{LABEL}.csv.gz.Xy12Ab.tmp"
    leftover.write_bytes(b"half a file")
    an_hour_ago = time.time() - 3600
    os.utime(leftover, (an_hour_ago, an_hour_ago))
    # A killed writer's, just now: its process is gone.
    dead = subprocess.Popen(["true"])
    dead.wait()
    just_killed = folder / f".requests-{LABEL}.parquet.{dead.pid}.Ab12Cd.tmp"
    just_killed.write_bytes(b"half a file")
    run_week(s3la, two_weeks, results)
    assert not leftover.exists() and not just_killed.exists()

    out_set = json.loads((folder / "_SUCCESS.json").read_text())
    assert sorted(out_set["files"]) == sorted(
        ["report.html", "report.json", f"requests-{LABEL}.csv.gz", f"requests-{LABEL}.parquet"])
    for name, f in out_set["files"].items():
        body = (folder / name).read_bytes()
        assert f == {"bytes": len(body), "sha256": hashlib.sha256(body).hexdigest(),
                     "crc64nvme": crc64nvme(body)}, name

    # The next week compares itself with this one only while the set is whole.
    def next_week():
        p = run(s3la, "run", "--logs", two_weeks, "--results", results, "--date_range",
                "2024-01-15", "2024-01-21")
        return json.loads((results / "2024-01-15_2024-01-21" / "report.json").read_text()), p

    report, _ = next_week()
    assert report["change"]["previousPeriod"] == LABEL
    path = folder / "report.json"
    path.write_bytes(path.read_bytes() + b" ")
    report, p = next_week()
    assert report.get("change") is None
    # Left out with a note, not silently, and the run still succeeds.
    assert f"note: the report of {LABEL} was left out of the comparison: " in p.stderr, p.stderr
    assert "it was replaced by another run" in p.stderr, p.stderr
