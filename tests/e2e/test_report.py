"""The report (report.json, report.html) and its email, from `s3la run` over
generated logs: every figure compared with an independent computation over
the raw log lines (DuckDB with a regular expression written here, countries
with the `maxminddb` Python reader), the HTML rendered in headless Chromium,
and the email read back with Python's `email` parser."""

import email
import gzip
import ipaddress
import json
import os
import re
import shutil
import subprocess
from email import policy
from pathlib import Path

import duckdb
import maxminddb
import pyarrow as pa
import pytest

from conftest import REPO, generated_logs, run

START, END = "2024-02-27", "2024-02-29"
LABEL = f"{START}_{END}"
PREVIOUS = "2024-02-24_2024-02-26"
GEOIP = REPO / "tests/js/node_modules/@ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb"

# owner bucket [time] ip requester request-id operation key "uri" status error bytes
# object-size total turn-around "referrer" "user agent" ...: the user agent runs
# to the line's last quote (nothing after it is quoted, and user agents carry
# quotes of their own).
LINE = (r'^\S+ \S+ \[([^\]]+)\] (\S+) (\S+) \S+ (\S+) (\S+) (?:".*?"|-) (-|\d+) \S+ (-|\d+) '
        r'(-|\d+) \S+ \S+ (?:"[^"]*"|-) (?:"(.*)"|-)(?: [^"]*)?$')
DATA = REPO / "shared/data"


@pytest.fixture(scope="module")
def logs(s3la, tmp_path_factory):
    return generated_logs(s3la, tmp_path_factory, "reportlogs", "2024-02-26", 5, 6000, 23)


def env(**more):
    e = {k: v for k, v in os.environ.items()
         if k not in ("FROM_EMAIL", "REPLY_TO_EMAIL", "TARGET_EMAIL_ADDRESS", "SMTP_HOST")}
    e.update({"GEOIP_DB": str(GEOIP)}, **more)
    return e


def run_period(s3la, logs, results, start=START, end=END, *extra, environ=None, check=True):
    return run(s3la, "run", "--logs", logs, "--results", results, "--date_range", start, end,
               "--wait-seconds", 0, "--name", "report-e2e", *extra,
               env=environ or env(), check=check)


@pytest.fixture(scope="module")
def results(s3la, logs, tmp_path_factory):
    """The previous period, then this one with --email, in one results folder."""
    assert GEOIP.exists(), f"{GEOIP} is missing: tests/run_all.sh installs tests/js"
    out = tmp_path_factory.mktemp("report-results")
    run_period(s3la, logs, out, "2024-02-24", "2024-02-26")
    p = run_period(s3la, logs, out, START, END, "--email",
                   environ=env(TARGET_EMAIL_ADDRESS="ops@example.com, finops@example.org",
                               FROM_EMAIL="reports@example.com",
                               REPLY_TO_EMAIL="help@example.com"))
    return out, json.loads(p.stdout)


def report(results, label=LABEL):
    return json.loads((results[0] / label / "report.json").read_text())


def raw(root: Path):
    """Every raw line's time, IP, operation, key, status and bytes sent."""
    lines = [l for f in sorted(root.rglob("*")) if f.is_file()
             for l in f.read_text().split("\n") if l.strip()]
    con = duckdb.connect()
    con.register("raw", pa.table({"line": lines}))
    con.execute("""
        CREATE TABLE p AS SELECT
          try_strptime(regexp_extract(line, $re, 1), '%d/%b/%Y:%H:%M:%S %z') AS t,
          nullif(regexp_extract(line, $re, 2), '-') AS ip,
          nullif(regexp_extract(line, $re, 3), '-') AS requester,
          regexp_extract(line, $re, 4) AS operation,
          nullif(regexp_extract(line, $re, 5), '-') AS key,
          try_cast(regexp_extract(line, $re, 6) AS INTEGER) AS status,
          coalesce(try_cast(regexp_extract(line, $re, 7) AS BIGINT), 0) AS bytes,
          try_cast(regexp_extract(line, $re, 8) AS BIGINT) AS size,
          nullif(regexp_extract(line, $re, 9), '') AS ua
        FROM raw WHERE regexp_matches(line, $re)""",
                {"re": LINE})
    return con


def in_period(start=START, end=END):
    return (f"t >= TIMESTAMPTZ '{start} 00:00:00+00' "
            f"AND t < TIMESTAMPTZ '{end} 00:00:00+00' + INTERVAL 1 DAY")


DOWNLOAD = "operation IN ('REST.GET.OBJECT', 'WEBSITE.GET.OBJECT') AND status IN (200, 206)"


def test_headline_figures_equal_an_independent_count(results, logs):
    con = raw(logs)
    w = in_period()
    requests, ips = con.execute(f"SELECT count(*), count(DISTINCT ip) FROM p WHERE {w}").fetchone()
    downloads, sent, downloaders, objects = con.execute(
        f"SELECT count(*), sum(bytes), count(DISTINCT ip), count(DISTINCT key) FROM p "
        f"WHERE {w} AND {DOWNLOAD}").fetchone()
    top = con.execute(f"SELECT key, count(*) AS n FROM p WHERE {w} AND {DOWNLOAD} AND key IS NOT NULL "
                      f"GROUP BY key ORDER BY n DESC, key LIMIT 5").fetchall()
    daily = con.execute(f"SELECT strftime(t AT TIME ZONE 'UTC', '%Y-%m-%d'), count(*) FROM p "
                        f"WHERE {w} GROUP BY 1 ORDER BY 1").fetchall()
    o = report(results)["overall"]
    assert o["requests"] == requests > 10_000
    assert o["downloads"] == downloads > 1000
    assert o["downloadedBytes"] == sent
    assert o["uniqueIps"] == ips
    assert o["uniqueDownloaderIps"] == downloaders
    assert o["uniqueObjectsDownloaded"] == objects
    assert [(d["key"], d["downloads"]) for d in o["topDownloads"]] == top
    assert [(d["date"], d["requests"]) for d in report(results)["daily"]] == daily


def test_late_records_count_and_records_outside_the_period_do_not(results, logs, s3la, tmp_path):
    con = raw(logs)
    # The partition after the period holds records of the period's last day
    # (delivered late) and of the day after (not in the period).
    late = con.execute(f"SELECT count(*) FROM p WHERE {in_period(END, END)}").fetchone()[0]
    outside = con.execute("SELECT count(*) FROM p WHERE t >= TIMESTAMPTZ '2024-03-01 00:00:00+00'"
                          ).fetchone()[0]
    assert late > 0 and outside > 0
    with_slack = report(results)["overall"]["requests"]
    run_period(s3la, logs, tmp_path, environ=env(LATE_DELIVERY_SLACK_DAYS="0"))
    without = json.loads((tmp_path / LABEL / "report.json").read_text())["overall"]["requests"]
    assert without < with_slack, "the slack partition adds the late records"


def test_countries_equal_an_independent_lookup(results, logs):
    con = raw(logs)
    ips = con.execute(f"SELECT ip, count(*) FROM p WHERE {in_period()} AND {DOWNLOAD} GROUP BY ip"
                      ).fetchall()
    by_country = {}
    with maxminddb.open_database(str(GEOIP)) as db:
        for ip, n in ips:
            found = db.get(ip) if ip else None
            code = (found or {}).get("country_code", "unknown")
            by_country[code] = by_country.get(code, 0) + n
    expected = sorted(by_country.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    r = report(results)
    assert [(c["name"], c["count"]) for c in r["overall"]["topCountries"]] == expected
    assert r["geoDatabase"].startswith("country")


def test_s3la_ships_a_country_database_and_geoip_db_none_turns_it_off(s3la, logs, tmp_path):
    """Without GEOIP_DB, `s3la` uses the database it embeds (the kind the CDK
    stack ships as a layer); with GEOIP_DB=none, no lookups at all, and the
    report says so."""
    base = {k: v for k, v in env().items() if k != "GEOIP_DB"}
    shipped = tmp_path / "shipped"
    run_period(s3la, logs, shipped, environ=base)
    r = json.loads((shipped / LABEL / "report.json").read_text())
    with maxminddb.open_database(str(GEOIP)) as db:
        expected_source = f"{db.metadata().database_type}"
    assert r["geoDatabase"].startswith(expected_source), (r["geoDatabase"], expected_source)
    downloads = r["overall"]["downloads"]
    assert downloads > 0
    assert sum(c["count"] for c in r["overall"]["topCountries"] if c["name"] != "unknown") > 0
    off = tmp_path / "off"
    run_period(s3la, logs, off, environ={**base, "GEOIP_DB": "none"})
    r = json.loads((off / LABEL / "report.json").read_text())
    assert r.get("geoDatabase") is None
    assert r["overall"]["topCountries"] == [{"name": "unknown", "count": downloads}]
    assert "no GeoIP database is configured" in (off / LABEL / "report.html").read_text()


def test_sections_add_up_and_follow_the_top_level_prefix(results, logs):
    r = report(results)
    con = raw(logs)
    expected = dict(con.execute(f"""
        SELECT CASE WHEN key IS NULL THEN NULL WHEN strpos(key, '/') > 0
                    THEN substr(key, 1, strpos(key, '/')) ELSE '' END AS prefix, count(*)
        FROM p WHERE {in_period()} GROUP BY 1""").fetchall())
    assert {s["prefix"]: s["requests"] for s in r["sections"]} == expected
    assert sum(s["downloads"] for s in r["sections"]) == r["overall"]["downloads"]


def test_the_previous_periods_report_is_compared(results):
    r, before = report(results), report(results, PREVIOUS)
    c = r["change"]
    assert c["previousPeriod"] == PREVIOUS
    assert c["requests"] == {"previous": before["overall"]["requests"],
                             "current": r["overall"]["requests"],
                             "percent": round((r["overall"]["requests"] - before["overall"]["requests"])
                                              / before["overall"]["requests"] * 100, 1)}
    assert before["change"] is None, "nothing before the first period"


def test_an_empty_period_is_a_report_of_zeros(s3la, logs, tmp_path):
    # Log files were delivered on 2024-03-02 (late records of March 1), but no
    # request was made in the period. (No log files at all is an error:
    # test_log_removal.py.)
    run_period(s3la, logs, tmp_path, "2024-03-02", "2024-03-03")
    label = "2024-03-02_2024-03-03"
    r = json.loads((tmp_path / label / "report.json").read_text())
    assert r["overall"]["requests"] == 0 and r["sections"] == []
    assert [d["requests"] for d in r["daily"]] == [0, 0]
    assert "No requests in this period." in (tmp_path / label / "report.html").read_text()


def test_names_from_the_logs_are_escaped(s3la, tmp_path):
    sample = (REPO / "tests/fixtures/aws-doc-sample.log").read_text().splitlines()[0]
    # A download of a key, by a requester, that are markup.
    owner = sample.split(" ")[0]
    line = (sample.replace("REST.GET.VERSIONING -", "REST.GET.OBJECT <script>alert(1)</script>.html")
            .replace(f"192.0.2.3 {owner}", "192.0.2.3 arn:aws:iam::1:user/<img/src=x>"))
    folder = tmp_path / "logs/123456789012/us-east-1/amzn-s3-demo-bucket1/2019/02/06"
    folder.mkdir(parents=True)
    (folder / "2019-02-06-00-00-00-0000000000000001").write_text(line + "\n")
    run(s3la, "run", "--logs", tmp_path / "logs", "--results", tmp_path / "r", "--date_range",
        "2019-02-06", "2019-02-06", "--wait-seconds", 0, env=env(PROJECTION_START="2019-01-01"))
    html = (tmp_path / "r/2019-02-06_2019-02-06/report.html").read_text()
    # Escaped, with a line-break opportunity (<wbr>) after each slash.
    assert "&lt;script&gt;alert(1)&lt;/<wbr>script&gt;.html" in html
    assert "user/<wbr>&lt;img/<wbr>src=x&gt;" in html
    assert "<script" not in html and "<img" not in html


def eml(results):
    [path] = sorted((results[0] / "outbox").glob("*.eml"))
    return path, email.message_from_bytes(path.read_bytes(), policy=policy.default)


def test_the_email_is_a_complete_message_in_the_outbox(results):
    out, summary = results
    path, msg = eml(results)
    assert summary["email"]["transport"] == "outbox"
    assert summary["email"]["messageIds"] == [str(path)]
    assert summary["email"]["linkKind"] == "localFile" and summary["email"]["linkExpires"] is None
    assert msg["Subject"] == f"S3 usage of amzn-s3-demo-bucket: {START} to {END}"
    assert msg["From"] == "reports@example.com" and msg["Reply-To"] == "help@example.com"
    assert msg["To"] == "ops@example.com, finops@example.org"
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    requests = f'{report(results)["overall"]["requests"]:,}'
    assert f"{'Requests:':<26}{requests}" in text and f">{requests}<" in html
    csv = (out / LABEL / f"requests-{LABEL}.csv.gz").as_uri()
    assert csv in text and csv in html
    assert "This link does not expire." in text


def test_bad_recipients_are_refused_by_name_and_nothing_is_sent(s3la, logs, tmp_path):
    p = run_period(s3la, logs, tmp_path, START, END, "--email", check=False,
                   environ=env(TARGET_EMAIL_ADDRESS="ok@example.com, not-an-address"))
    assert p.returncode != 0
    assert "TARGET_EMAIL_ADDRESS: 'not-an-address' is not an email address" in p.stderr
    assert not (tmp_path / "outbox").exists()


def chromium(*args):
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    assert binary, "headless Chromium is required (Debian package chromium; .ci/run installs it)"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync"]
    return subprocess.run([binary, *flags, *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("which", ["report.html", "email"])
def test_the_html_renders_in_chromium_with_every_section(results, tmp_path, which):
    if which == "email":
        _, msg = eml(results)
        page = tmp_path / "email.html"
        page.write_text(msg.get_body(("html",)).get_content())
    else:
        page = results[0] / LABEL / "report.html"
    shot = tmp_path / f"{which}.png"
    p = chromium(f"--user-data-dir={tmp_path / 'profile'}", "--window-size=800,4200",
                 f"--screenshot={shot}", page.as_uri())
    assert shot.exists(), p.stderr
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000, "a page, not a blank"
    # Keep it where a person can look at it.
    keep = Path(os.environ.get("S3LA_SCREENSHOTS", REPO / "target" / "screenshots"))
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, keep / shot.name)
    dom = chromium(f"--user-data-dir={tmp_path / 'profile2'}", "--dump-dom", page.as_uri()).stdout
    for section in ["header", "headline", "daily", "operations", "top-objects", "countries",
                    "referrers", "sections", "status", "requesters", "security", "cost", "glossary",
                    "trend", "automated", "cost-drivers", "who-costs"]:
        assert f'id="{section}"' in dom, section
    assert "<script" not in dom


def test_download_sessions_and_whole_object_equivalents_equal_window_functions(results, logs):
    con = raw(logs)
    w = in_period()
    sessions = con.execute(f"""
        SELECT count(*) FROM (
          SELECT t, lag(t) OVER (PARTITION BY ip, key ORDER BY t) AS prev
          FROM p WHERE {w} AND {DOWNLOAD})
        WHERE prev IS NULL OR t - prev > INTERVAL 8 HOURS""").fetchone()[0]
    by_key = dict(con.execute(f"""
        SELECT key, count(*) FILTER (WHERE prev IS NULL OR t - prev > INTERVAL 8 HOURS) FROM (
          SELECT key, t, lag(t) OVER (PARTITION BY ip, key ORDER BY t) AS prev
          FROM p WHERE {w} AND {DOWNLOAD}) GROUP BY key""").fetchall())
    woe, downloads = con.execute(
        f"SELECT sum(CASE WHEN size > 0 THEN bytes / size ELSE 0 END), count(*) "
        f"FROM p WHERE {w} AND {DOWNLOAD}").fetchone()
    o = report(results)["overall"]
    assert o["downloadSessions"] == sessions
    assert sessions < o["downloads"], "range requests of one session count once"
    for top in o["topDownloads"]:
        assert top["downloadSessions"] == by_key[top["key"]], top["key"]
    # Each download's share is rounded to a millionth, the sum to a thousandth.
    assert abs(o["wholeObjectEquivalents"] - woe) <= downloads * 1e-6 + 1e-3
    assert sum(s["downloadSessions"] for s in report(results)["sections"]) == sessions


def test_distinct_clients_per_day_and_bytes_per_requester(results, logs):
    con = raw(logs)
    w = in_period()
    daily = con.execute(f"SELECT strftime(t AT TIME ZONE 'UTC', '%Y-%m-%d'), count(DISTINCT ip) "
                        f"FROM p WHERE {w} GROUP BY 1 ORDER BY 1").fetchall()
    r = report(results)
    assert [(d["date"], d["distinctClients"]) for d in r["daily"]] == daily
    by_requester = con.execute(
        f"SELECT coalesce(requester, 'anonymous') AS who, sum(bytes) AS b FROM p WHERE {w} "
        f"GROUP BY who HAVING b > 0 ORDER BY b DESC, who LIMIT 5").fetchall()
    assert [(n["name"], n["count"]) for n in r["topRequestersByBytes"]] == by_requester
    by_ip = con.execute(f"SELECT ip, sum(bytes) AS b FROM p WHERE {w} AND ip IS NOT NULL "
                        f"GROUP BY ip ORDER BY b DESC, ip").fetchall()
    total = con.execute(f"SELECT sum(bytes) FROM p WHERE {w}").fetchone()[0]
    assert [(n["name"], n["count"]) for n in r["topClientsByBytes"]] == by_ip[:5]
    top10 = sum(b for _, b in by_ip[:10])
    assert r["concentration"]["top10IpShareOfBytes"] == round(top10 / total, 4)


def test_automated_share_follows_the_shipped_rule(results, logs):
    rule = json.loads((DATA / "automated-user-agents.json").read_text())
    patterns = [re.compile(p) for p in rule["crawlers"] + rule["httpLibraries"]]
    con = raw(logs)
    w = in_period()
    agents = [ua for (ua,) in con.execute(f"SELECT DISTINCT ua FROM p WHERE {w} AND ua IS NOT NULL"
                                          ).fetchall()]
    bots = [ua for ua in agents if any(p.search(ua) for p in patterns)]
    assert any("Googlebot" in b for b in bots) and not any(b.startswith("aws-cli") for b in bots)
    assert "Amazon CloudFront" in agents and "Amazon CloudFront" not in bots
    con.register("bots", pa.table({"ua": bots}))
    requests, downloads, sent = con.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {DOWNLOAD}), sum(bytes) FROM p "
        f"WHERE {w} AND ua IN (SELECT ua FROM bots)").fetchone()
    a = report(results)["automated"]
    assert (a["requests"], a["downloads"], a["bytesSent"]) == (requests, downloads, sent)
    assert 0 < a["shareOfRequests"] < 1


def test_bytes_are_priced_by_destination_from_aws_ranges(results, logs):
    """CloudFront (its user agent or its ranges) and AWS addresses in the
    pricing region are free; the rest is the internet's. Decided here with
    Python's ipaddress over the same shipped ip-ranges.json."""
    ranges = json.loads(gzip.decompress((DATA / "aws-ip-ranges.json.gz").read_bytes()))
    nets = [(ipaddress.ip_network(p.get("ip_prefix") or p.get("ipv6_prefix")), p["region"],
             p["service"]) for p in ranges["prefixes"] + ranges["ipv6_prefixes"]]
    cloudfront = [n for n, _, s in nets if s == "CLOUDFRONT"]
    in_region = [n for n, r, _ in nets if r == "us-east-1"]
    con = raw(logs)
    pairs = con.execute(f"SELECT ip, ua, sum(bytes) FROM p WHERE {in_period()} AND bytes > 0 "
                        f"GROUP BY ip, ua").fetchall()
    sent = {"internet": 0, "cloudfront": 0, "region": 0}
    for ip, ua, n in pairs:
        addr = ipaddress.ip_address(ip) if ip else None
        if ua == "Amazon CloudFront" or (addr and any(addr in net for net in cloudfront)):
            sent["cloudfront"] += n
        elif addr and any(addr in net for net in in_region):
            sent["region"] += n
        else:
            sent["internet"] += n
    c = report(results)["cost"]
    assert (c["internetBytes"], c["cloudfrontBytes"], c["sameRegionBytes"]) == (
        sent["internet"], sent["cloudfront"], sent["region"])
    assert sent["cloudfront"] > 0 and sent["region"] > 0, "the generator sends to each"
    assert c["transferOutUsd"] == round(sent["internet"] / 2**30 * 0.09, 4)
    r = report(results)
    assert sum(line["internetBytes"] for line in r["costByRequester"]) <= sent["internet"]
    assert r["costByRequester"] == sorted(r["costByRequester"], key=lambda l: -l["totalUsd"])


@pytest.fixture(scope="module")
def trend_results(s3la, tmp_path_factory):
    """Five 3-day periods, the third never run: a trend with a gap."""
    logs = generated_logs(s3la, tmp_path_factory, "trendlogs", "2024-02-14", 16, 400, 31)
    out = tmp_path_factory.mktemp("trend-results")
    for start, end in [("2024-02-15", "2024-02-17"), ("2024-02-18", "2024-02-20"),
                       ("2024-02-24", "2024-02-26"), ("2024-02-27", "2024-02-29")]:
        run_period(s3la, logs, out, start, end)
    return out


def test_the_trend_shows_earlier_periods_and_gaps_in_chromium(trend_results, tmp_path):
    label = "2024-02-27_2024-02-29"
    r = json.loads((trend_results / label / "report.json").read_text())
    trend = r["trend"]
    assert len(trend) == 13 and trend[-1]["period"] == label and trend[-1]["current"]
    by_period = {p["period"]: p for p in trend}
    for earlier in ["2024-02-15_2024-02-17", "2024-02-18_2024-02-20", "2024-02-24_2024-02-26"]:
        written = json.loads((trend_results / earlier / "report.json").read_text())
        assert by_period[earlier]["requests"] == written["overall"]["requests"] > 0
        assert by_period[earlier]["downloadSessions"] == written["overall"]["downloadSessions"]
        assert by_period[earlier]["costUsd"] == written["cost"]["totalUsd"]
    gap = by_period["2024-02-21_2024-02-23"]
    assert gap["requests"] is None and gap["costUsd"] is None, "a gap, not a zero"
    page = trend_results / label / "report.html"
    shot = tmp_path / "trend.png"
    p = chromium(f"--user-data-dir={tmp_path / 'profile'}", "--window-size=800,6000",
                 f"--screenshot={shot}", page.as_uri())
    assert shot.exists(), p.stderr
    keep = Path(os.environ.get("S3LA_SCREENSHOTS", REPO / "target" / "screenshots"))
    keep.mkdir(parents=True, exist_ok=True)
    shutil.copy(shot, keep / "report-trend.png")
    dom = chromium(f"--user-data-dir={tmp_path / 'profile2'}", "--dump-dom", page.as_uri()).stdout
    bars = re.findall(r'class="trend-bar" data-period="([^"]+)" data-current="(\w+)"', dom)
    # Four charts, each from the first period with a report to this one.
    shown = ["2024-02-15_2024-02-17", "2024-02-18_2024-02-20", "2024-02-21_2024-02-23",
             "2024-02-24_2024-02-26", label]
    assert bars == [(p, "true" if p == label else "false") for p in shown] * 4
    assert dom.count("no report") == 4


def test_a_reader_is_not_tripped_up(results):
    """What an ops or FinOps reader stumbled on in earlier reports."""
    html = (results[0] / LABEL / "report.html").read_text()
    r = report(results)
    assert f"{LABEL} &middot;" not in html and f"{START} to {END}" in html, "the period once"
    assert "-0.0%" not in html
    assert "Always in your account" not in html and "Saved on this machine" in html
    encoded = [d["key"] for d in r["overall"]["topDownloads"] if "%" in d["key"]]
    for key in encoded:
        assert key not in html, f"{key} is shown decoded"
    security = html.split('id="security"')[1].split("</td></tr>")[0]
    assert "Malformed" not in security, "malformed lines are not a security signal"
    assert "lifecycle actions" in html and r["lifecycleActions"] > 0
    assert "other" not in {c["name"] for c in r["statusClasses"]}
    assert "geoDatabase" in r
