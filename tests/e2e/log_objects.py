"""An independent judge of which log objects a period's outputs hold whole:
each non-blank line matched by a regular expression written here (not the
product's parser) and its time read by Python. RemoveOriginalLogs may delete
an object only if every line of it is such a record inside the period."""

import gzip
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

# Seventeen space-separated fields at least, the quoted request URI, referrer
# and user agent matched lazily up to what must follow them.
RECORD = re.compile(
    r'^\S+ \S+ \[(\d\d/\w\w\w/\d{4}:\d\d:\d\d:\d\d [+-]\d{4})\] \S+ \S+ \S+ \S+ \S+ '
    r'(?:".*?"|-) (?:-|\d{3}) \S+ (?:-|\d+) (?:-|\d+) (?:-|\d+) (?:-|\d+) (?:".*?"|-) (?:".*?"|-)'
    r'(?: \S+)*$')


def window(start: str, end: str):
    lo = datetime.fromisoformat(start).replace(tzinfo=timezone.utc)
    hi = datetime.fromisoformat(end).replace(tzinfo=timezone.utc) + timedelta(days=1)
    return lo, hi


def whole_in_period(body: bytes, start: str, end: str) -> bool:
    """True when every non-blank line of `body` (gunzipped if gzip) is a
    record whose time is in [start, end + 1 day)."""
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    lo, hi = window(start, end)
    for line in text.split("\n"):
        if not line.strip():
            continue
        m = RECORD.match(line)
        if not m:
            return False
        t = datetime.strptime(m.group(1), "%d/%b/%Y:%H:%M:%S %z")
        if not lo <= t < hi:
            return False
    return True


def holds_earlier_records(body: bytes, start: str) -> bool:
    """True when some line of `body` is a record from before `start`."""
    lo, _ = window(start, start)
    for line in body.decode("utf-8", "replace").split("\n"):
        m = RECORD.match(line)
        if m and datetime.strptime(m.group(1), "%d/%b/%Y:%H:%M:%S %z") < lo:
            return True
    return False


def files(root: Path):
    return sorted(p for p in root.rglob("*") if p.is_file())
