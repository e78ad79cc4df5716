"""MergeResults and the cleanup steps as they run on AWS: the real Lambda
binaries, served events through a Lambda Runtime API, against s3s-fs (an S3
server that checks SigV4) on 127.0.0.1.

The parts are written the way Athena's UNLOAD writes them (INT96 times,
gzip, several files) from a local run's result, and the merged outputs are
read back with pyarrow and DuckDB and compared value by value with it."""

import gzip
import io
import json
import subprocess

import boto3
import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import S3S_ACCESS_KEY, S3S_SECRET_KEY, aws_env, run
from lambda_runtime_api import invoke
from log_objects import holds_earlier_records, whole_in_period

# One day after the first of the generated logs: its first objects hold late
# records of the day before, which no output of this period holds.
LABEL = "2024-02-29_2024-02-29"
EXECUTION = {"name": "e2e-1", "startTime": "2024-03-05T06:00:00Z"}
RESULT_PATH = "s3://res-bkt/s3la/"
LOGS = "s3://logs-bkt/AWSLogs/"
SETTINGS = dict(RESULT_PATH=RESULT_PATH, PROJECTION_START="2023-01-01")


@pytest.fixture(scope="module")
def local_result(s3la, logs, tmp_path_factory):
    """The period's rows as `s3la run` computes them on this machine."""
    root, _ = logs
    out = tmp_path_factory.mktemp("local-results")
    run(s3la, "run", "--logs", root, "--results", out, "--date_range", "2024-02-29",
        "2024-02-29", "--name", "e2e-local")
    return pq.read_table(out / LABEL / f"requests-{LABEL}.parquet")


@pytest.fixture(scope="module")
def s3(s3s):
    endpoint, root = s3s
    for bucket in ("res-bkt", "logs-bkt"):
        (root / bucket).mkdir()
    return boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                        aws_access_key_id=S3S_ACCESS_KEY, aws_secret_access_key=S3S_SECRET_KEY)


def env(s3s, **more):
    return aws_env(s3s[0], S3S_ACCESS_KEY, S3S_SECRET_KEY, **SETTINGS, **more)


def keys(s3, bucket, prefix=""):
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for page in pages for o in page.get("Contents", []))


def split_s3(uri):
    bucket, key = uri.removeprefix("s3://").split("/", 1)
    return bucket, key


def unload_like_athena(s3, table, staging, athena, query_id, parts=3, row_group_rows=None):
    """Writes `table` as UNLOAD does: naive nanosecond INT96 times, gzip,
    several parts (of row groups of `row_group_rows`, if given), and a
    manifest listing them."""
    as_athena = pa.table({
        name: (pc.cast(pc.cast(col, pa.timestamp("ms")), pa.timestamp("ns"))
               if pa.types.is_timestamp(col.type) else col)
        for name, col in zip(table.column_names, table.columns)
    })
    uris = []
    step = -(-len(as_athena) // parts)
    for i in range(parts):
        buf = io.BytesIO()
        pq.write_table(as_athena.slice(i * step, step), buf, compression="gzip",
                       use_deprecated_int96_timestamps=True, row_group_size=row_group_rows)
        uri = f"{staging}{query_id}_{i:05d}.gz.parquet"
        s3.put_object(Bucket="res-bkt", Key=split_s3(uri)[1], Body=buf.getvalue())
        uris.append(uri)
    manifest = f"{athena}{query_id}-manifest.csv"
    s3.put_object(Bucket="res-bkt", Key=split_s3(manifest)[1], Body="\n".join(uris) + "\n")
    s3.put_object(Bucket="res-bkt", Key=split_s3(f"{athena}{query_id}.metadata")[1], Body=b"m")
    return manifest


def test_merge_and_cleanups_on_s3(lambda_bin, s3la, s3s, s3, local_result, logs):
    e = env(s3s)
    plan = json.loads(run(s3la, "invoke", "ComputePeriod", "--input", json.dumps(
        {"input": {"dateRange": {"start": "2024-02-29", "end": "2024-02-29"}},
         "execution": EXECUTION}), env=e).stdout)
    assert plan["period"]["label"] == LABEL
    staging = f"{RESULT_PATH}_staging/{LABEL}/e2e-1/"
    athena = f"{RESULT_PATH}_athena/{LABEL}/e2e-1/"
    # Athena returns each log line its table cannot read as a row of nulls
    # (the query asks for rows without a time): two such rows at the end.
    malformed = pa.table({f.name: pa.nulls(2, f.type) for f in local_result.schema},
                         schema=local_result.schema)
    manifest = unload_like_athena(s3, pa.concat_tables([local_result, malformed]), staging,
                                  athena, "q-e2e")
    query = {"queryExecutionId": "q-e2e", "stagingPrefix": staging, "outputLocation": athena}
    status = {"queryExecutionId": "q-e2e", "state": "SUCCEEDED", "done": True,
              "dataScannedBytes": 1, "engineExecutionMs": 1, "totalExecutionMs": 1,
              "estimatedCostUsd": 0.0, "manifest": manifest, "outputLocation": athena}

    merge_input = {"execution": plan["execution"], "options": plan["options"],
                   "period": plan["period"], "query": query, "status": status}
    # Twice: a retried step writes the same content at the same keys.
    answers = invoke(lambda_bin / "merge-results", [merge_input, merge_input], e)
    (kind, merged), (kind2, again) = answers
    assert kind == "response", merged
    assert (kind2, again["rows"], again["bytes"]) == ("response", merged["rows"], merged["bytes"])
    assert merged["rows"] == len(local_result) > 5_000
    assert merged["dataFiles"] == 3
    assert merged["outputs"] == {
        "parquet": f"{RESULT_PATH}{LABEL}/requests-{LABEL}.parquet",
        "csvGz": f"{RESULT_PATH}{LABEL}/requests-{LABEL}.csv.gz",
        "reportJson": f"{RESULT_PATH}{LABEL}/report.json",
        "reportHtml": f"{RESULT_PATH}{LABEL}/report.html",
        "outputSet": f"{RESULT_PATH}{LABEL}/_SUCCESS.json",
    }
    # The report counted the same rows in the same pass, and the rows without
    # a time as malformed lines, which the outputs leave out.
    report = json.loads(s3.get_object(Bucket="res-bkt", Key=f"s3la/{LABEL}/report.json")["Body"].read())
    assert report["overall"]["requests"] == merged["summary"]["requests"] == merged["rows"]
    assert report["malformedLines"] == merged["summary"]["malformedLines"] == 2

    # Read back independently: the same rows and values as the local run.
    body = s3.get_object(Bucket="res-bkt", Key=split_s3(merged["outputs"]["parquet"])[1])["Body"]
    parquet = pq.read_table(io.BytesIO(body.read()))
    assert parquet.schema.equals(local_result.schema)
    assert parquet.equals(local_result)
    csv_bytes = s3.get_object(Bucket="res-bkt",
                              Key=split_s3(merged["outputs"]["csvGz"])[1])["Body"].read()
    assert len(csv_bytes) == merged["bytes"]["csvGz"]
    path = s3s[1] / "csv-copy.csv"
    path.write_bytes(gzip.decompress(csv_bytes))
    con = duckdb.connect()
    con.register("local_result", local_result)
    from_csv = con.execute(
        f"SELECT count(*), sum(bytes_sent), count(DISTINCT key), min(request_time), "
        f"max(request_time) FROM read_csv('{path}', header=true, all_varchar=false)").fetchone()
    expected = con.execute(
        "SELECT count(*), sum(bytes_sent), count(DISTINCT key), min(request_time), "
        "max(request_time) FROM local_result").fetchone()
    assert from_csv[:3] == expected[:3]
    assert str(from_csv[3])[:19] == str(expected[3])[:19]

    # The period's logs on S3, in the date-based layout, and the slack day after it.
    root, _ = logs
    files = sorted(p for p in root.rglob("*") if p.is_file())
    for p in files:
        s3.put_object(Bucket="logs-bkt", Key="AWSLogs/" + str(p.relative_to(root)),
                      Body=p.read_bytes())
    logs_location = LOGS + str(files[0].relative_to(root)).rsplit("/", 4)[0] + "/"
    in_period = [p for p in files if "/2024/02/29/" in str(p)]
    assert 0 < len(in_period) < len(files)

    e = env(s3s, S3_LOGS_LOCATION=logs_location)
    [(kind, removed)] = invoke(lambda_bin / "remove-original-logs",
                               [{"period": plan["period"], "options": plan["options"],
                                 "query": query, "results": merged}], e)
    assert kind == "response", removed
    # Only the period's objects whose every line is a record the outputs hold
    # (judged by an independent reader); the others are kept with a reason:
    # late records of the day before, malformed lines.
    whole = [p for p in in_period if whole_in_period(p.read_bytes(), "2024-02-29", "2024-02-29")]
    assert 0 < len(whole) < len(in_period)
    assert any(holds_earlier_records(p.read_bytes(), "2024-02-29") for p in in_period)
    assert removed["deletedObjects"] == len(whole)
    assert removed["keptObjects"] == len(in_period) - len(whole)
    assert removed["verifiedRows"] == {"parquet": merged["rows"], "csvGz": merged["rows"]}
    assert keys(s3, "logs-bkt") == sorted(
        "AWSLogs/" + str(p.relative_to(root)) for p in files if p not in whole)
    # A retry after everything was deleted still adds up: the ledger
    # remembers the deleted objects' records.
    [(kind, again)] = invoke(lambda_bin / "remove-original-logs",
                             [{"period": plan["period"], "options": plan["options"],
                               "query": query, "results": merged}], e)
    assert kind == "response", again
    assert again["keptObjects"] == removed["keptObjects"]

    [(kind, meta)] = invoke(lambda_bin / "remove-meta",
                            [{"query": query, "status": status, "results": merged}], e)
    assert kind == "response", meta
    assert meta["deletedObjects"] == 5  # three parts, the manifest, the metadata
    assert keys(s3, "res-bkt") == sorted(
        [split_s3(u)[1] for u in merged["outputs"].values()] + [f"s3la/{LABEL}/deleted-logs.json"])


def test_unsafe_log_removal_is_refused_by_name(lambda_bin, s3s, s3):
    # Results kept under the logs prefix: refused before anything is read.
    e = env(s3s, S3_LOGS_LOCATION="s3://res-bkt/")
    period = {"kind": "custom", "start": "2024-02-29", "end": "2024-02-29", "days": 1,
              "label": LABEL,
              "window": {"start": "2024-02-29T00:00:00Z", "end": "2024-03-01T00:00:00Z"},
              "partitions": {"first": "2024-02-29", "last": "2024-03-01"}}
    results = {"outputs": {"parquet": f"{RESULT_PATH}{LABEL}/requests-{LABEL}.parquet",
                           "csvGz": f"{RESULT_PATH}{LABEL}/requests-{LABEL}.csv.gz"},
               "rows": 1, "bytes": {"parquet": 1, "csvGz": 1}, "dataFiles": 1}
    [(kind, err)] = invoke(lambda_bin / "remove-original-logs",
                           [{"period": period, "options": {}, "results": results}], e)
    assert (kind, err["errorType"]) == ("error", "UnsafeDeletion"), err
    assert "overlap" in err["errorMessage"]


def test_s3la_merge_takes_any_unload_output(s3la, s3s, s3, local_result, tmp_path):
    manifest = unload_like_athena(s3, local_result, "s3://res-bkt/adhoc/data/",
                                  "s3://res-bkt/adhoc/", "q-adhoc", parts=4)
    out = json.loads(run(s3la, "merge", "--manifest", manifest, "--out",
                         "s3://res-bkt/adhoc/merged/", "--name", "all", env=env(s3s)).stdout)
    assert out["rows"] == len(local_result) and out["dataFiles"] == 4
    body = s3.get_object(Bucket="res-bkt", Key="adhoc/merged/all.parquet")["Body"].read()
    # Athena's naive INT96 nanoseconds come back as UTC milliseconds, as the pipeline writes them.
    assert pq.read_table(io.BytesIO(body)).equals(local_result)

    # The same parts from a local folder, into a local folder.
    parts = tmp_path / "parts"
    parts.mkdir()
    for k in keys(s3, "res-bkt", "adhoc/data/"):
        (parts / k.rsplit("/", 1)[1]).write_bytes(
            s3.get_object(Bucket="res-bkt", Key=k)["Body"].read())
    (parts / ".hidden").write_text("not a part")
    run(s3la, "merge", "--parts", parts, "--out", tmp_path / "merged", "--name", "all")
    assert pq.read_table(tmp_path / "merged" / "all.parquet").equals(local_result)
    assert (tmp_path / "merged" / "all.csv.gz").read_bytes()[:2] == b"\x1f\x8b"
    assert sorted(p.name for p in (tmp_path / "merged").iterdir()) == ["all.csv.gz", "all.parquet"]


def test_s3la_merge_in_shards_writes_what_one_merge_writes(s3la, s3s, s3, local_result, tmp_path):
    """`--shards N`: the parts' row groups merged in N groups, each into a
    Parquet file and a csv.gz of its own, then one of each assembled from
    them without decoding a row. Whatever N, the same rows in the same
    order, readable by pyarrow (with statistics and filters), DuckDB and
    Polars, and the same CSV text; on S3 as in a folder, with no shard left
    behind."""
    rows = len(local_result)
    rgs = max(1, rows // 60)
    manifest = unload_like_athena(s3, local_result, "s3://res-bkt/sharded/data/",
                                  "s3://res-bkt/sharded/", "q-sharded", parts=5,
                                  row_group_rows=rgs)
    parts = tmp_path / "parts"
    parts.mkdir()
    for k in keys(s3, "res-bkt", "sharded/data/"):
        (parts / k.rsplit("/", 1)[1]).write_bytes(
            s3.get_object(Bucket="res-bkt", Key=k)["Body"].read())
    groups = sum(pq.ParquetFile(p).metadata.num_row_groups for p in parts.iterdir())
    assert groups >= 37, groups

    def merged(n):
        out = tmp_path / f"shards-{n}"
        summary = json.loads(run(s3la, "merge", "--parts", parts, "--out", out,
                                 "--shards", n).stdout)
        assert sorted(p.name for p in out.iterdir()) == ["merged.csv.gz", "merged.parquet"]
        return summary, out / "merged.parquet", out / "merged.csv.gz"

    one, one_parquet, one_csv = merged(1)
    assert one["shards"] == 1
    reference = pq.read_table(one_parquet)
    assert reference.equals(local_result)
    one_text = gzip.decompress(one_csv.read_bytes())
    time_column = next(f.name for f in reference.schema if pa.types.is_timestamp(f.type))
    middle = reference[time_column][rows // 2].as_py()
    for n in (3, 37):
        summary, parquet, csv = merged(n)
        assert summary["shards"] == n and summary["rows"] == rows
        assert pq.read_table(parquet).equals(reference), n
        meta = pq.ParquetFile(parquet).metadata
        assert meta.num_row_groups >= n and meta.num_rows == rows
        # Row-group statistics survive and prune: a filter on the time reads
        # the same rows as from the one-shard file.
        after = [(time_column, ">=", middle)]
        assert (pq.read_table(parquet, filters=after).equals(
            pq.read_table(one_parquet, filters=after)))
        con = duckdb.connect()
        assert con.execute(f"SELECT count(*) FROM '{parquet}'").fetchone()[0] == rows
        groups_seen, with_stats = con.execute(
            f"SELECT count(DISTINCT row_group_id), "
            f"count(DISTINCT row_group_id) FILTER (path_in_schema = '{time_column}' "
            f"AND stats_min_value IS NOT NULL) FROM parquet_metadata('{parquet}')").fetchone()
        assert groups_seen == with_stats == meta.num_row_groups
        # Polars, a third reader: the same frame, and the same rows through a
        # filter its scan pushes down to the row groups' statistics.
        assert pl.read_parquet(parquet).equals(pl.read_parquet(one_parquet))
        late = pl.col(time_column) >= middle
        assert pl.scan_parquet(parquet).filter(late).collect().equals(
            pl.scan_parquet(one_parquet).filter(late).collect())
        subprocess.run(["gzip", "-t", str(csv)], check=True)
        assert gzip.decompress(csv.read_bytes()) == one_text
        assert con.execute(f"SELECT count(*) FROM read_csv('{csv}')").fetchone()[0] == rows

    # On S3: the parts read by range, the outputs uploaded whole, the shards removed.
    out = json.loads(run(s3la, "merge", "--manifest", manifest, "--out",
                         "s3://res-bkt/sharded/merged/", "--shards", 37, env=env(s3s)).stdout)
    assert out["shards"] == 37 and out["rows"] == rows
    body = s3.get_object(Bucket="res-bkt", Key="sharded/merged/merged.parquet")["Body"].read()
    assert pq.read_table(io.BytesIO(body)).equals(reference)
    body = s3.get_object(Bucket="res-bkt", Key="sharded/merged/merged.csv.gz")["Body"].read()
    assert gzip.decompress(body) == one_text
    assert keys(s3, "res-bkt", "sharded/merged/") == [
        "sharded/merged/merged.csv.gz", "sharded/merged/merged.parquet"]



def test_s3_assembly_copies_shards_server_side(s3la, s3s, s3, tmp_path):
    """Shards of several MiB are assembled on S3 by UploadPartCopy: the
    merge's summary counts the copied parts and the few bytes it read
    (topping a short shard up to S3's 5 MiB part minimum), and the objects
    equal a one-shard merge of the same parts."""
    import os as _os
    rows = 40_000
    table = pa.table({
        "id": pa.array(range(rows), pa.int64()),
        # Random text: the shards stay several MiB after compression.
        "blob": pa.array([_os.urandom(400).hex() for _ in range(rows)]),
    })
    for i in range(4):
        buf = io.BytesIO()
        pq.write_table(table.slice(i * rows // 4, rows // 4), buf, row_group_size=2_000)
        s3.put_object(Bucket="res-bkt", Key=f"big/data/part-{i}.parquet", Body=buf.getvalue())
    one = json.loads(run(s3la, "merge", "--parts", "s3://res-bkt/big/data/", "--out",
                         "s3://res-bkt/big/one/", env=env(s3s)).stdout)
    three = json.loads(run(s3la, "merge", "--parts", "s3://res-bkt/big/data/", "--out",
                           "s3://res-bkt/big/three/", "--shards", 3, env=env(s3s)).stdout)
    assert (one["shards"], three["shards"]) == (1, 3)
    a = three["assembly"]
    total = three["bytes"]["parquet"] + three["bytes"]["csvGz"]
    assert a["copiedParts"] >= 4, a
    assert a["copiedBytes"] + a["readBytes"] == total - tail_bytes(s3, "big/three/merged.parquet")
    assert a["readBytes"] < total / 3, a
    for name in ("merged.parquet", "merged.csv.gz"):
        got = s3.get_object(Bucket="res-bkt", Key=f"big/three/{name}")["Body"].read()
        want = s3.get_object(Bucket="res-bkt", Key=f"big/one/{name}")["Body"].read()
        if name.endswith(".parquet"):
            assert pq.read_table(io.BytesIO(got)).equals(pq.read_table(io.BytesIO(want)))
        else:
            assert gzip.decompress(got) == gzip.decompress(want)
    assert keys(s3, "res-bkt", "big/three/") == ["big/three/merged.csv.gz",
                                                  "big/three/merged.parquet"]


def tail_bytes(s3, key):
    """What the assembler wrote itself at the end of a Parquet file: the page
    indexes, the footer, its length and `PAR1` (everything after the last
    column chunk)."""
    body = s3.get_object(Bucket="res-bkt", Key=key)["Body"].read()
    meta = pq.ParquetFile(io.BytesIO(body)).metadata
    end = 0
    for g in range(meta.num_row_groups):
        for c in range(meta.num_columns):
            col = meta.row_group(g).column(c)
            start = col.dictionary_page_offset if col.has_dictionary_page else col.data_page_offset
            end = max(end, start + col.total_compressed_size)
    return len(body) - end
