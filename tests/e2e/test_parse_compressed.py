"""`s3la parse` of compressed copies of the logs (S3 writes them plain; people
copy them compressed): gzip gives exactly the records of the plain files,
from files and from stdin; another compression is an error naming the file,
never a file's worth of malformed lines."""

import gzip
import json
import shutil
import subprocess

from conftest import run


def parsed(s3la, *args, **kw):
    """(records, malformed) as jsonl objects, with each error's file name cut
    to its base name (copies live in another folder)."""
    p = run(s3la, "parse", *args, **kw)
    records, errors = [], []
    for line in p.stdout.splitlines():
        obj = json.loads(line)
        if "error" in obj:
            obj["file"] = obj["file"].rsplit("/", 1)[-1]
            errors.append(obj)
        else:
            records.append(obj)
    return records, errors, p.stderr


def test_gzip_copies_read_as_the_plain_files(s3la, logs, tmp_path):
    root, _ = logs
    files = sorted(p for p in root.rglob("*") if p.is_file())
    plain_dir, gz_dir = tmp_path / "plain", tmp_path / "gz"
    for i, f in enumerate(files):
        rel = f.relative_to(root)
        (plain_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        (gz_dir / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(f, plain_dir / rel)
        data = f.read_bytes()
        if i % 2:
            # Two members, as `cat a.gz b.gz > c.gz` makes: one valid file.
            half = data.rfind(b"\n", 0, len(data) // 2) + 1
            packed = gzip.compress(data[:half]) + gzip.compress(data[half:])
        else:
            packed = gzip.compress(data)
        (gz_dir / rel).write_bytes(packed)
    want, want_errors, _ = parsed(s3la, plain_dir)
    got, got_errors, summary = parsed(s3la, gz_dir)
    assert len(want) > 20_000
    assert got == want
    # The generator's few malformed lines, and nothing more.
    assert got_errors == want_errors and 0 < len(got_errors) < 20, summary


def test_gzip_on_stdin(s3la, logs):
    root, _ = logs
    f = next(p for p in sorted(root.rglob("*")) if p.is_file())
    want, want_errors, _ = parsed(s3la, f)
    p = subprocess.run([str(s3la), "parse", "-"], input=gzip.compress(f.read_bytes()),
                       capture_output=True, check=True)
    got = [json.loads(line) for line in p.stdout.decode().splitlines()]
    assert [r for r in got if "error" not in r] == want and want


def test_other_compressions_are_refused_by_name(s3la, logs, tmp_path):
    root, _ = logs
    plain = next(p for p in sorted(root.rglob("*")) if p.is_file())
    magics = {
        "zstd": b"\x28\xb5\x2f\xfd",
        "bzip2": b"BZh9",
        "xz": b"\xfd7zXZ\x00",
        "zip": b"PK\x03\x04",
    }
    for name, magic in magics.items():
        bad = tmp_path / f"2024-01-01-00-00-00-{name.upper()}"
        bad.write_bytes(magic + b"\x00" * 64)
        p = run(s3la, "parse", plain, bad, check=False)
        assert p.returncode != 0, name
        assert str(bad) in p.stderr and f"{name}-compressed" in p.stderr, p.stderr
        assert "decompress it first" in p.stderr, p.stderr
        assert "malformed:" not in p.stderr, p.stderr
    bad = tmp_path / "truncated.gz"
    bad.write_bytes(gzip.compress(plain.read_bytes())[:-100])
    p = run(s3la, "parse", bad, check=False)
    assert p.returncode != 0 and str(bad) in p.stderr and "corrupt gzip" in p.stderr, p.stderr
