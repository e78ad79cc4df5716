//! The fields of an S3 server access log record, in the order AWS writes
//! them: the one table from which the Arrow schema and its builders
//! (`arrow.rs`), the Athena DDL and Glue table (`athena_ddl.rs`, and through
//! `infra/lib/generated/log-fields.json` the CDK stack), the SQL and the
//! embedded engine's typing are derived. A new field is a new row here (and
//! its member of [`super::LogRecord`]).

/// How a field's value is typed once parsed: the Arrow column's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    Text,
    /// Seconds since the Unix epoch, UTC; a millisecond timestamp in Arrow.
    Time,
    Int32,
    Int64,
}

/// How a field is written in the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quoting {
    /// A token up to the next space; `-` when missing.
    Bare,
    /// A bare token that AWS's table pattern matches as digits (or `-`).
    Digits,
    /// `[06/Feb/2019:00:00:38 +0000]`: the brackets hold a space.
    Bracketed,
    /// `"..."`, unescaped; `-` when missing.
    Quoted,
}

/// A column type of AWS's Athena table for server access logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AthenaType {
    String,
    Bigint,
}

impl AthenaType {
    /// As the DDL writes it.
    pub fn ddl_name(self) -> &'static str {
        match self {
            AthenaType::String => "STRING",
            AthenaType::Bigint => "BIGINT",
        }
    }

    /// As Glue stores it.
    pub fn glue_name(self) -> &'static str {
        match self {
            AthenaType::String => "string",
            AthenaType::Bigint => "bigint",
        }
    }
}

/// One field of the log format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// Its name in `s3la parse` JSON/CSV output (and in [`super::LogRecord`]).
    pub json_name: &'static str,
    /// The column name of AWS's Athena table, also our Parquet column's.
    pub athena_name: &'static str,
    /// Its name in the structured records of the 2026 delivery (CloudWatch
    /// Logs, JSON and Parquet files: "Log format in CloudWatch Logs" in the
    /// S3 user guide), which [`super::structured`] reads.
    pub structured_name: &'static str,
    pub value: Value,
    /// AWS's choice for its table: most fields are strings there.
    pub athena_type: AthenaType,
    pub quoting: Quoting,
    /// The number of fields of the first records that had this one (17 for
    /// the original fields): records of every later length have it too.
    pub since: usize,
    /// Bytes a text value takes, about, so that the Arrow builders size their
    /// buffers once instead of doubling (and copying) their way up. Measured
    /// on generated logs, which follow AWS's shapes: 64-character owner ids,
    /// 76-character host ids, long user agents. 0 for other values.
    pub width: usize,
}

// Short names for the table's columns (AthenaType::String would shadow `String`).
const STRING: AthenaType = AthenaType::String;
const BIGINT: AthenaType = AthenaType::Bigint;
use Quoting::{Bare, Bracketed, Digits, Quoted};
use Value::{Int32, Int64, Text, Time};

/// A row of the table: the field's names (JSON, Athena, structured), then
/// its value type, Athena type, quoting, first field count and width.
const fn field(
    [json_name, athena_name, structured_name]: [&'static str; 3],
    value: Value,
    athena_type: AthenaType,
    quoting: Quoting,
    since: usize,
    width: usize,
) -> Field {
    Field {
        json_name,
        athena_name,
        structured_name,
        value,
        athena_type,
        quoting,
        since,
        width,
    }
}

/// Every field of today's format, in log order.
#[rustfmt::skip]
pub const FIELDS: [Field; 27] = [
    //      json name              Athena name        structured name          value  Athena  quoting   since width
    field(["bucket_owner",        "bucketowner",     "bucket_owner_id"],       Text,  STRING, Bare,      17, 64),
    field(["bucket",              "bucket_name",     "bucket_name"],           Text,  STRING, Bare,      17, 32),
    field(["request_time",        "requestdatetime", "request_time"],          Time,  STRING, Bracketed, 17, 0),
    field(["remote_ip",           "remoteip",        "remote_ip"],             Text,  STRING, Bare,      17, 16),
    field(["requester",           "requester",       "requester"],             Text,  STRING, Bare,      17, 56),
    field(["request_id",          "requestid",       "request_id"],            Text,  STRING, Bare,      17, 16),
    field(["operation",           "operation",       "operation"],             Text,  STRING, Bare,      17, 24),
    field(["key",                 "key",             "key_name"],              Text,  STRING, Bare,      17, 64),
    field(["request_uri",         "request_uri",     "request_uri"],           Text,  STRING, Quoted,    17, 96),
    field(["http_status",         "httpstatus",      "http_status"],           Int32, STRING, Digits,    17, 0),
    field(["error_code",          "errorcode",       "error_code"],            Text,  STRING, Bare,      17, 8),
    field(["bytes_sent",          "bytessent",       "bytes_sent_size"],       Int64, BIGINT, Bare,      17, 0),
    field(["object_size",         "objectsize",      "object_size"],           Int64, BIGINT, Bare,      17, 0),
    field(["total_time",          "totaltime",       "total_duration"],        Int64, STRING, Bare,      17, 0),
    field(["turn_around_time",    "turnaroundtime",  "turn_around_duration"],  Int64, STRING, Bare,      17, 0),
    field(["referer",             "referrer",        "referer"],               Text,  STRING, Quoted,    17, 16),
    field(["user_agent",          "useragent",       "user_agent"],            Text,  STRING, Quoted,    17, 96),
    field(["version_id",          "versionid",       "version_id"],            Text,  STRING, Bare,      18, 8),
    field(["host_id",             "hostid",          "host_id"],               Text,  STRING, Bare,      24, 80),
    field(["signature_version",   "sigv",            "signature_version"],     Text,  STRING, Bare,      24, 8),
    field(["cipher_suite",        "ciphersuite",     "cipher_suite"],          Text,  STRING, Bare,      24, 32),
    field(["authentication_type", "authtype",        "authentication_type"],   Text,  STRING, Bare,      24, 12),
    field(["host_header",         "endpoint",        "host_header"],           Text,  STRING, Bare,      24, 48),
    field(["tls_version",         "tlsversion",      "tls_version"],           Text,  STRING, Bare,      24, 8),
    field(["access_point_arn",    "accesspointarn",  "access_point_arn"],      Text,  STRING, Bare,      25, 4),
    field(["acl_required",        "aclrequired",     "acl_required"],          Text,  STRING, Bare,      26, 4),
    field(["source_region",       "sourceregion",    "source_region"],         Text,  STRING, Bare,      27, 16),
];

/// The structured records' fields that the text format does not have: the
/// record schema's version, and the bucket's ARN (`bucket_name` is "derived
/// from the bucket ARN", as the S3 user guide says).
pub const SCHEMA_VERSION_FIELD: &str = "schema_version_id";
pub const BUCKET_ARN_FIELD: &str = "bucket_arn";
/// The record schema versions AWS documents (`V_1_0`). A record of another
/// version is read all the same when its fields can be read; when they
/// cannot, the error names the version.
pub const KNOWN_SCHEMA_VERSIONS: &[&str] = &["V_1_0"];

/// The field whose structured name is `name`.
pub fn by_structured_name(name: &str) -> Option<usize> {
    FIELDS.iter().position(|f| f.structured_name == name)
}

/// The field whose Athena column is `athena_name`.
pub fn by_athena_name(athena_name: &str) -> Option<&'static Field> {
    FIELDS.iter().find(|f| f.athena_name == athena_name)
}

/// Name of the list of trailing fields that AWS added after the last field
/// of [`FIELDS`] and this version does not know yet.
pub const EXTRA_FIELDS_JSON_NAME: &str = "extra_fields";
/// Arrow/Parquet column for the same list.
pub const EXTRA_FIELDS_COLUMN: &str = "extra_fields";

/// The fewest fields a record has ever had (records written before 2017 end
/// after the user agent).
pub const MIN_FIELDS: usize = FIELDS[0].since;

/// Field counts AWS has written over the years, for documentation and tests:
/// 17 (up to user agent), 18 (+ version id), 24 (+ host id .. TLS version),
/// 25 (+ access point ARN), 26 (+ aclRequired), 27 (+ source region).
pub fn known_field_counts() -> Vec<usize> {
    let mut counts: Vec<usize> = FIELDS.iter().map(|f| f.since).collect();
    counts.dedup();
    counts
}

/// How many fields of [`FIELDS`] have `value`, for arrays sized at compile
/// time.
pub const fn count(value: Value) -> usize {
    let mut n = 0;
    let mut i = 0;
    while i < FIELDS.len() {
        if FIELDS[i].value as u8 == value as u8 {
            n += 1;
        }
        i += 1;
    }
    n
}

/// The positions in [`FIELDS`] of the fields that have `value`, in log
/// order; `N` is [`count`]`(value)`.
pub const fn positions<const N: usize>(value: Value) -> [usize; N] {
    assert!(N == count(value), "N is the number of fields of this value");
    let mut out = [0; N];
    let mut n = 0;
    let mut i = 0;
    while i < FIELDS.len() {
        if FIELDS[i].value as u8 == value as u8 {
            out[n] = i;
            n += 1;
        }
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_counts_are_those_aws_has_written() {
        assert_eq!(known_field_counts(), [17, 18, 24, 25, 26, 27]);
        assert_eq!(MIN_FIELDS, 17);
        assert!(FIELDS.windows(2).all(|w| w[0].since <= w[1].since));
        assert_eq!(FIELDS.last().map(|f| f.since), Some(FIELDS.len()));
    }

    #[test]
    fn names_are_unique_and_widths_only_for_text() {
        for (i, f) in FIELDS.iter().enumerate() {
            assert!(FIELDS[..i].iter().all(|g| g.json_name != f.json_name));
            assert!(FIELDS[..i].iter().all(|g| g.athena_name != f.athena_name));
            assert_eq!(f.width > 0, f.value == Value::Text, "{}", f.json_name);
            assert_eq!(by_athena_name(f.athena_name), Some(f));
        }
    }

    #[test]
    fn positions_are_those_of_the_value() {
        let ints: [usize; count(Value::Int64)] = positions(Value::Int64);
        assert_eq!(ints, [11, 12, 13, 14]);
        assert_eq!(positions::<1>(Value::Time), [2]);
    }
}
