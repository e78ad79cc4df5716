"""An Athena stand-in on 127.0.0.1 that really runs the statement.

It speaks Athena's JSON 1.1 API as the AWS SDK calls it (POST /, X-Amz-Target
AmazonAthena.<Operation>): StartQueryExecution (ClientRequestToken
idempotency, the workgroup's enforced result location), GetQueryExecution
(Status.State, StateChangeReason, AthenaError.ErrorCategory, Statistics with
DataScannedInBytes and DataManifestLocation, ResultConfiguration) and
StopQueryExecution.

The statement must be an UNLOAD (SELECT ...) TO 's3://...' WITH (...). Its
SELECT is parsed by sqlglot in Athena's (Trino) dialect, translated to DuckDB
(plus the one function sqlglot leaves untranslated: Trino's
`parse_datetime(text, joda_format)` becomes `strptime(text, strftime_format)`),
and run by DuckDB over the logs table as the template's Glue table defines it:

- its columns and partition keys, with their types;
- its RegexSerDe `input.regex`, applied to each line as Hive does (the whole
  line must match, else a row of NULLs; a bigint that does not parse is NULL;
  as many groups as columns, else the query fails);
- or, for the structured delivery's tables, the Hive JSON SerDe (each line a
  JSON object whose keys name the columns, case-insensitively; a line that is
  not one fails the query, as HIVE_CURSOR_ERROR does) or Parquet (the file's
  columns matched to the table's by name, absent ones NULL);
- its partition projection (`projection.<key>.*` of type date) and
  `storage.location.template`: the partition values the statement's WHERE keeps
  are computed by DuckDB over every projected value, and only those
  partitions' objects are read (names starting with `_` or `.` skipped, `.gz`
  decompressed), from S3 (s3s-fs) through boto3; their bytes are the
  DataScannedInBytes.

It writes what UNLOAD writes: extension-less Parquet data files under the TO
prefix (which must be empty, else the query FAILS as Athena's does), with
timestamps as INT96 and the WITH clause's compression, `<id>-manifest.csv`
listing them and `<id>.metadata` in the query's result location.

Behaviour knobs (attributes, set by a test): `polls` (status reads answered
QUEUED/RUNNING before the query ends), `fail` ((reason, category) to end the
query FAILED without running it), `never_finish`, `throttle_start` /
`throttle_status` (how many of those calls answer TooManyRequestsException).

Tables outside the template (a Glue table the user made, or the S3 Tables
integration's Iceberg table, in another catalog such as
`s3tablescatalog/aws-cloudwatch`) are given as `(catalog, Glue table
properties)`; the statement names them `"catalog"."database"."table"`, or the
query's context names the catalog. An Iceberg table stands in as its Parquet
data files: Athena reads the table's current snapshot, the stand-in every file
under the location.

What it cannot stand in for: Athena's engine (DuckDB's semantics where they
differ from Trino's beyond what the statement uses), its limits, IAM, the
request signature (not checked), real query ids and timings.
"""

import gzip
import hashlib
import io
import json
import re
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import sqlglot
from sqlglot import exp

from local_http import QuietHandler, serve

UNLOAD = re.compile(r"\A\s*UNLOAD\s*\((?P<select>.*)\)\s*TO\s+'(?P<to>s3://[^']*)'\s*"
                    r"WITH\s*\((?P<props>[^)]*)\)\s*\Z", re.S | re.I)
CATEGORY = {"SYSTEM": 1, "USER": 2, "OTHER": 3}
DUCK_TYPES = {"string": "VARCHAR", "bigint": "BIGINT", "int": "INTEGER", "integer": "INTEGER",
              "double": "DOUBLE", "boolean": "BOOLEAN"}
ARROW_TYPES = {"string": pa.string(), "bigint": pa.int64(), "int": pa.int32(),
               "integer": pa.int32(), "double": pa.float64(), "boolean": pa.bool_(),
               # Iceberg's timestamptz, as Athena reads it.
               "timestamp with time zone": pa.timestamp("us", tz="UTC")}
DEFAULT_CATALOG = "awsdatacatalog"
# The SerDes the stand-in reads, by Glue's SerializationLibrary.
SERDES = {"org.apache.hadoop.hive.serde2.RegexSerDe": "regex",
          "org.apache.hive.hcatalog.data.JsonSerDe": "json",
          "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe": "parquet"}
# Joda-Time pattern letters (Trino's parse_datetime) -> strftime (DuckDB's strptime).
JODA = {"yyyy": "%Y", "yy": "%y", "MMM": "%b", "MMMM": "%B", "MM": "%m", "dd": "%d",
        "HH": "%H", "mm": "%M", "ss": "%S", "SSS": "%g", "Z": "%z", "ZZ": "%z", "EEE": "%a"}


class QueryError(Exception):
    """The query ends FAILED with this reason and category."""

    def __init__(self, reason, category="USER"):
        super().__init__(reason)
        self.reason, self.category = reason, category


class ApiError(Exception):
    """An API error answer: HTTP status, error type, message."""

    def __init__(self, status, kind, message):
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message


def joda_to_strftime(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if c.isalpha():
            j = i
            while j < len(pattern) and pattern[j] == c:
                j += 1
            token = pattern[i:j]
            if token not in JODA:
                raise QueryError(f"NOT_SUPPORTED: the stand-in cannot translate the Joda "
                                 f"pattern letters {token!r}")
            out.append(JODA[token])
            i = j
        elif c == "'":
            j = pattern.index("'", i + 1)
            out.append(pattern[i + 1:j] or "'")
            i = j + 1
        else:
            out.append("%%" if c == "%" else c)
            i += 1
    return "".join(out)


def to_duckdb(select_sql: str) -> str:
    """The SELECT in DuckDB's dialect."""
    try:
        tree = sqlglot.parse_one(select_sql, read="athena", error_level=sqlglot.ErrorLevel.RAISE)
    except sqlglot.errors.ParseError as e:
        raise QueryError(f"SYNTAX_ERROR: {e}") from None

    def fix(node):
        if isinstance(node, exp.ParseDatetime):
            fmt = node.args.get("format")
            if not isinstance(fmt, exp.Literal) or not fmt.is_string:
                raise QueryError("NOT_SUPPORTED: parse_datetime with a computed format")
            return exp.Anonymous(this="strptime", expressions=[
                node.this, exp.Literal.string(joda_to_strftime(fmt.this))])
        return node

    return tree.transform(fix).sql(dialect="duckdb")


def s3_split(uri):
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    return bucket, key


class GlueTable:
    """The logs table as the template's AWS::Glue::Table defines it."""

    def __init__(self, props):
        self.database = props["DatabaseName"]
        table = props["TableInput"]
        self.name = table["Name"]
        sd = table["StorageDescriptor"]
        self.columns = [(c["Name"], c["Type"]) for c in sd["Columns"]]
        self.partition_keys = [(c["Name"], c["Type"]) for c in table.get("PartitionKeys", [])]
        serde = sd["SerdeInfo"]
        self.serde = SERDES.get(serde["SerializationLibrary"])
        if self.serde is None:
            raise ValueError(f"the stand-in reads RegexSerDe, Hive JSON and Parquet tables: {serde}")
        self.regex = serde.get("Parameters", {}).get("input.regex")
        self.location = sd["Location"]
        self.params = table.get("Parameters", {})

    def projected_values(self, key):
        """Every value partition projection gives `key` (type date only)."""
        p = self.params
        if p.get(f"projection.{key}.type") != "date":
            raise QueryError(f"NOT_SUPPORTED: projection type of {key}", "SYSTEM")
        fmt = joda_to_strftime(p[f"projection.{key}.format"])
        first, last = p[f"projection.{key}.range"].split(",")
        unit = p.get(f"projection.{key}.interval.unit", "DAYS")
        step = int(p.get(f"projection.{key}.interval", "1"))
        if unit != "DAYS":
            raise QueryError(f"NOT_SUPPORTED: projection interval unit {unit}", "SYSTEM")

        def day(text):
            if text.strip() == "NOW":
                return datetime.now(timezone.utc).date()
            return datetime.strptime(text.strip(), fmt).date()

        d, end, out = day(first), day(last), []
        while d <= end:
            out.append(d.strftime(fmt))
            d += timedelta(days=step)
        return out

    def partition_locations(self, values: dict):
        template = self.params.get("storage.location.template")
        if not template:
            raise QueryError("NOT_SUPPORTED: projection without storage.location.template",
                             "SYSTEM")
        for k, v in values.items():
            template = template.replace("${" + k + "}", v)
        return template.rstrip("/") + "/"

    def rows_of_json(self, lines):
        """The table's rows for these lines, as the Hive JSON SerDe reads them."""
        cols = [[] for _ in self.columns]
        for n, line in enumerate(lines, 1):
            if not line.strip():
                # An empty line is a row of NULLs (its partition stays aligned).
                for c in cols:
                    c.append(None)
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                obj = None
            if not isinstance(obj, dict):
                raise QueryError(f"HIVE_CURSOR_ERROR: Row is not a valid JSON Object - "
                                 f"line {n}: {line[:60]!r}")
            by_name = {k.lower(): v for k, v in obj.items()}
            for i, (name, typ) in enumerate(self.columns):
                v = by_name.get(name.lower())
                if v is not None and typ in ("bigint", "int", "integer"):
                    if isinstance(v, bool) or not isinstance(v, (int, str)):
                        raise QueryError(f"HIVE_BAD_DATA: {name}: {v!r} is not a {typ}")
                    v = int(v)
                elif v is not None and not isinstance(v, str):
                    v = json.dumps(v)
                cols[i].append(v)
        return cols

    def rows_of_parquet(self, data: bytes):
        """The table's rows of one Parquet object: its columns by name."""
        t = pq.read_table(io.BytesIO(data))
        by_name = {n.lower(): n for n in t.column_names}
        cols = []
        for name, typ in self.columns:
            if name.lower() in by_name:
                cols.append(pc.cast(t[by_name[name.lower()]], ARROW_TYPES[typ]).to_pylist())
            else:
                cols.append([None] * t.num_rows)
        return cols, t.num_rows

    def rows(self, lines):
        """The table's rows for these lines, as Hive's RegexSerDe reads them."""
        pattern = re.compile(self.regex)
        if pattern.groups != len(self.columns):
            raise QueryError(
                f"HIVE_CURSOR_ERROR: Number of matching groups ({pattern.groups}) doesn't "
                f"match the number of columns ({len(self.columns)})", "USER")
        cols = [[] for _ in self.columns]
        for line in lines:
            m = pattern.fullmatch(line)
            for i, (_, typ) in enumerate(self.columns):
                v = m.group(i + 1) if m else None
                if v is not None and typ in ("bigint", "int", "integer"):
                    try:
                        v = int(v)
                    except ValueError:
                        v = None
                cols[i].append(v)
        return cols


class AthenaStandin:
    def __init__(self, template: dict, s3, resolve, other_tables=()):
        """`template`: the synthesized CloudFormation template; `s3`: a boto3 S3
        client; `resolve`: turns a template value (Ref, Fn::Join) into a string;
        `other_tables`: `(catalog, Glue table properties)` of tables the template
        does not define."""
        self.s3 = s3
        tables = [(DEFAULT_CATALOG, GlueTable(r["Properties"]))
                  for r in template["Resources"].values() if r["Type"] == "AWS::Glue::Table"]
        tables += [(c.lower(), GlueTable(props)) for c, props in other_tables]
        # By (catalog, database, table); catalog names are case-insensitive.
        self.tables = {(c, t.database, t.name): t for c, t in tables}
        self.workgroups = {}
        for r in template["Resources"].values():
            if r["Type"] == "AWS::Athena::WorkGroup":
                p = r["Properties"]
                cfg = p.get("WorkGroupConfiguration", {})
                loc = cfg.get("ResultConfiguration", {}).get("OutputLocation")
                self.workgroups[p["Name"]] = {
                    "enforce": cfg.get("EnforceWorkGroupConfiguration", False),
                    "output": resolve(loc) if loc else None}
        self.workgroups.setdefault("primary", {"enforce": False, "output": None})
        self.polls = 0
        self.fail = None
        self.never_finish = False
        self.throttle_start = 0
        self.throttle_status = 0
        self.queries = {}
        self.tokens = {}
        self.calls = []
        self.lock = threading.Lock()
        api = self

        class Handler(QuietHandler):
            def do_POST(self):
                body = self.body()
                target = self.headers.get("X-Amz-Target", "")
                op = target.removeprefix("AmazonAthena.")
                try:
                    if not target.startswith("AmazonAthena."):
                        raise ApiError(400, "UnknownOperationException", target)
                    with api.lock:
                        api.calls.append(op)
                        answer = api.dispatch(op, json.loads(body or b"{}"))
                    status, payload, headers = 200, answer, {}
                except ApiError as e:
                    status = e.status
                    payload = {"__type": e.kind, "Message": e.message}
                    headers = {"x-amzn-ErrorType": e.kind}
                self.reply(status, json.dumps(payload).encode(), {
                    "Content-Type": "application/x-amz-json-1.1",
                    "x-amzn-RequestId": str(uuid.uuid4()), **headers})

        self.server = serve(Handler)

    @property
    def endpoint(self):
        host, port = self.server.server_address
        return f"http://{host}:{port}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def reset(self):
        with self.lock:
            self.polls, self.fail, self.never_finish = 0, None, False
            self.throttle_start = self.throttle_status = 0
            self.queries.clear()
            self.tokens.clear()
            self.calls.clear()

    # --- the API -----------------------------------------------------------

    def dispatch(self, op, req):
        if op == "StartQueryExecution":
            return self.start(req)
        if op == "GetQueryExecution":
            return self.get(req)
        if op == "StopQueryExecution":
            q = self.query(req)
            if q["state"] in ("QUEUED", "RUNNING"):
                q["state"], q["reason"] = "CANCELLED", "Query cancelled by user"
                q["stopped"] = True
            return {}
        raise ApiError(400, "InvalidRequestException", f"the stand-in does not implement {op}")

    def query(self, req):
        q = self.queries.get(req.get("QueryExecutionId"))
        if q is None:
            raise ApiError(400, "InvalidRequestException",
                           f"QueryExecution {req.get('QueryExecutionId')} was not found")
        return q

    def start(self, req):
        if self.throttle_start > 0:
            self.throttle_start -= 1
            raise ApiError(400, "TooManyRequestsException", "Rate exceeded")
        sql = req.get("QueryString")
        if not sql:
            raise ApiError(400, "InvalidRequestException", "QueryString is required")
        token = req.get("ClientRequestToken")
        if token is not None and not 32 <= len(token) <= 128:
            raise ApiError(400, "InvalidRequestException",
                           "ClientRequestToken must be 32 to 128 characters")
        params = json.dumps({k: v for k, v in req.items() if k != "ClientRequestToken"},
                            sort_keys=True)
        if token in self.tokens:
            qid = self.tokens[token]
            if self.queries[qid]["params"] != params:
                raise ApiError(400, "InvalidRequestException",
                               "Idempotent parameters do not match")
            return {"QueryExecutionId": qid}
        wg_name = req.get("WorkGroup", "primary")
        wg = self.workgroups.get(wg_name)
        if wg is None:
            raise ApiError(400, "InvalidRequestException", f"WorkGroup {wg_name} is not found")
        client_loc = req.get("ResultConfiguration", {}).get("OutputLocation")
        loc = wg["output"] if wg["enforce"] or not client_loc else client_loc
        if not loc:
            raise ApiError(400, "InvalidRequestException", "No output location provided")
        n = len(self.queries) + 1
        qid = str(uuid.UUID(hashlib.md5(f"{n}:{token}".encode()).hexdigest()))
        self.queries[qid] = {
            "id": qid, "sql": sql, "params": params, "workgroup": wg_name,
            "context": req.get("QueryExecutionContext", {}),
            "location": loc if loc.endswith("/") else loc + "/",
            "state": "QUEUED", "reads": 0, "reason": None, "category": None,
            "submitted": time.time(), "stats": {}, "stopped": False,
            # The knobs as they were when the query started.
            "polls": self.polls, "fail": self.fail, "never_finish": self.never_finish,
        }
        if token is not None:
            self.tokens[token] = qid
        return {"QueryExecutionId": qid}

    def get(self, req):
        if self.throttle_status > 0:
            self.throttle_status -= 1
            raise ApiError(400, "TooManyRequestsException", "Rate exceeded")
        q = self.query(req)
        if q["state"] in ("QUEUED", "RUNNING"):
            q["reads"] += 1
            if q["never_finish"] or q["reads"] <= q["polls"]:
                q["state"] = "QUEUED" if q["reads"] == 1 else "RUNNING"
            elif q["fail"]:
                q["state"] = "FAILED"
                q["reason"], q["category"] = q["fail"]
            else:
                self.execute(q)
        status = {"State": q["state"], "SubmissionDateTime": q["submitted"]}
        if q["state"] in ("SUCCEEDED", "FAILED", "CANCELLED"):
            status["CompletionDateTime"] = q.get("completed", time.time())
        if q["reason"]:
            status["StateChangeReason"] = q["reason"]
        if q["state"] == "FAILED":
            status["AthenaError"] = {"ErrorCategory": CATEGORY[q["category"]], "ErrorType": 1006,
                                     "Retryable": False, "ErrorMessage": q["reason"]}
        return {"QueryExecution": {
            "QueryExecutionId": q["id"], "Query": q["sql"], "StatementType": "DML",
            "ResultConfiguration": {"OutputLocation": q["location"]},
            "QueryExecutionContext": q["context"], "Status": status,
            "Statistics": q["stats"], "WorkGroup": q["workgroup"],
            "EngineVersion": {"SelectedEngineVersion": "AUTO",
                              "EffectiveEngineVersion": "Athena engine version 3"},
        }}

    # --- running the statement ---------------------------------------------

    def execute(self, q):
        started = time.time()
        try:
            scanned, manifest = self.unload(q)
            q["state"] = "SUCCEEDED"
            q["stats"] = {"DataScannedInBytes": scanned, "DataManifestLocation": manifest}
        except QueryError as e:
            q["state"], q["reason"], q["category"] = "FAILED", e.reason, e.category
            q["stats"] = {"DataScannedInBytes": 0}
        ms = int((time.time() - started) * 1000)
        q["stats"].update({"EngineExecutionTimeInMillis": ms, "TotalExecutionTimeInMillis": ms,
                           "QueryQueueTimeInMillis": 0})
        q["completed"] = time.time()

    def unload(self, q):
        m = UNLOAD.match(q["sql"])
        if not m:
            raise QueryError("NOT_SUPPORTED: the stand-in runs UNLOAD statements only")
        props = dict((k.strip().lower(), v.strip().strip("'").lower()) for k, v in
                     (p.split("=", 1) for p in m["props"].split(",")))
        if props.get("format") != "parquet":
            raise QueryError(f"NOT_SUPPORTED: UNLOAD format {props.get('format')}")
        compression = props.get("compression", "gzip")
        to = m["to"]
        bucket, prefix = s3_split(to)
        if self.s3.list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1).get("KeyCount"):
            raise QueryError(f"HIVE_PATH_ALREADY_EXISTS: Target directory for table "
                             f"'{q['id']}' already exists: {to}. You may need to manually "
                             f"clean the data at location '{to}' before retrying.")
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        scanned = 0
        duck_sql = to_duckdb(m["select"])
        tree = sqlglot.parse_one(m["select"], read="athena")
        for table_node in tree.find_all(exp.Table):
            db = table_node.db or q["context"].get("Database")
            catalog = table_node.catalog or q["context"].get("Catalog") or DEFAULT_CATALOG
            table = self.tables.get((catalog.lower(), db, table_node.name))
            if table is None:
                raise QueryError(f"TABLE_NOT_FOUND: Table '{catalog.lower()}.{db}."
                                 f"{table_node.name}' does not exist")
            n, arrow = self.load(table, table_node, con)
            scanned += n
            # A table named with its catalog lives in a DuckDB database of that name.
            where = f'"{db}"'
            if table_node.catalog:
                attached = {r[0] for r in con.execute(
                    "SELECT database_name FROM duckdb_databases()").fetchall()}
                if table_node.catalog not in attached:
                    con.execute(f"ATTACH ':memory:' AS \"{table_node.catalog}\"")
                where = f'"{table_node.catalog}"."{db}"'
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {where}")
            con.register("_rows", arrow)
            con.execute(f'CREATE OR REPLACE TABLE {where}."{table.name}" AS SELECT * FROM _rows')
            con.unregister("_rows")
        try:
            result = con.sql(duck_sql).to_arrow_table()
        except duckdb.Error as e:
            raise QueryError(f"SEMANTIC_ERROR: {str(e).splitlines()[0]}") from None
        # Athena writes timestamps as INT96 (nanoseconds), naive.
        result = pa.table({
            name: (pc.cast(col, pa.timestamp("ns")) if pa.types.is_timestamp(col.type) else col)
            for name, col in zip(result.column_names, result.columns)})
        uris = []
        per_part = max(1, -(-len(result) // 3))
        for i in range(0, len(result), per_part):
            buf = io.BytesIO()
            pq.write_table(result.slice(i, per_part), buf, compression=compression,
                           use_deprecated_int96_timestamps=True)
            key = f"{prefix}{q['id'].replace('-', '')[:20]}_{len(uris):05d}_{uuid.uuid4()}"
            self.s3.put_object(Bucket=bucket, Key=key, Body=buf.getvalue())
            uris.append(f"s3://{bucket}/{key}")
        out_bucket, out_prefix = s3_split(q["location"])
        manifest = f"{q['location']}{q['id']}-manifest.csv"
        self.s3.put_object(Bucket=out_bucket, Key=f"{out_prefix}{q['id']}-manifest.csv",
                           Body="".join(u + "\n" for u in uris).encode())
        self.s3.put_object(Bucket=out_bucket, Key=f"{out_prefix}{q['id']}.metadata",
                           Body=json.dumps({"rows": len(result)}).encode())
        return scanned, manifest

    def load(self, table: GlueTable, table_node, con):
        """The rows of the partitions the statement's WHERE keeps, and the bytes read."""
        keys = [k for k, _ in table.partition_keys]
        values = None
        if keys:
            [key] = keys  # one projected key, as the stack's table has
            candidates = table.projected_values(key)
            select = table_node.find_ancestor(exp.Select)
            where = select.args.get("where") if select else None
            kept = candidates
            if where is not None:
                conjuncts = list(where.this.flatten()) if isinstance(where.this, exp.And) \
                    else [where.this]
                on_key = [c for c in conjuncts
                          if {col.name for col in c.find_all(exp.Column)} <= {key}]
                if on_key:
                    con.register("_parts", pa.table({key: candidates}))
                    cond = " AND ".join(
                        sqlglot.transpile(c.sql(dialect="athena"), read="athena",
                                          write="duckdb")[0] for c in on_key)
                    kept = [r[0] for r in con.execute(
                        f'SELECT "{key}" FROM _parts WHERE {cond} ORDER BY 1').fetchall()]
                    con.unregister("_parts")
            values = [{key: v} for v in kept]
        else:
            values = [{}]
        lines, parts, scanned = [], [], 0
        parquet_cols = [[] for _ in table.columns]
        for v in values:
            loc = table.partition_locations(v) if v else table.location
            bucket, prefix = s3_split(loc)
            pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket,
                                                                      Prefix=prefix)
            for page in pages:
                for obj in page.get("Contents", []):
                    name = obj["Key"][len(prefix):]
                    if any(seg.startswith(("_", ".")) for seg in name.split("/")) \
                            or obj["Key"].endswith("/"):
                        continue
                    data = self.s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
                    scanned += len(data)
                    if table.serde == "parquet":
                        cols, n = table.rows_of_parquet(data)
                        for acc, c in zip(parquet_cols, cols):
                            acc += c
                        parts += [v] * n
                        continue
                    if obj["Key"].endswith(".gz"):
                        data = gzip.decompress(data)
                    text = data.decode("utf-8", errors="replace")
                    got = re.split(r"\r\n|\n|\r", text)
                    if got and got[-1] == "":
                        got.pop()
                    lines += got
                    parts += [v] * len(got)
        cols = {"regex": table.rows, "json": table.rows_of_json}.get(
            table.serde, lambda _: parquet_cols)(lines)
        arrays = {name: pa.array(c, ARROW_TYPES[typ])
                  for (name, typ), c in zip(table.columns, cols)}
        for k, typ in table.partition_keys:
            arrays[k] = pa.array([p.get(k) for p in parts], ARROW_TYPES[typ])
        return scanned, pa.table(arrays)
