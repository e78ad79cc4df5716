//! The fields of an S3 server access log record, in the order AWS writes them.

/// One field of the log format: its name in `s3la parse` JSON/CSV output and
/// the column name of AWS's Athena table for server access logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub json_name: &'static str,
    pub athena_name: &'static str,
}

const fn field(json_name: &'static str, athena_name: &'static str) -> Field {
    Field {
        json_name,
        athena_name,
    }
}

/// Every field of today's format (27), in log order.
pub const FIELDS: [Field; 27] = [
    field("bucket_owner", "bucketowner"),
    field("bucket", "bucket_name"),
    field("request_time", "requestdatetime"),
    field("remote_ip", "remoteip"),
    field("requester", "requester"),
    field("request_id", "requestid"),
    field("operation", "operation"),
    field("key", "key"),
    field("request_uri", "request_uri"),
    field("http_status", "httpstatus"),
    field("error_code", "errorcode"),
    field("bytes_sent", "bytessent"),
    field("object_size", "objectsize"),
    field("total_time", "totaltime"),
    field("turn_around_time", "turnaroundtime"),
    field("referer", "referrer"),
    field("user_agent", "useragent"),
    field("version_id", "versionid"),
    field("host_id", "hostid"),
    field("signature_version", "sigv"),
    field("cipher_suite", "ciphersuite"),
    field("authentication_type", "authtype"),
    field("host_header", "endpoint"),
    field("tls_version", "tlsversion"),
    field("access_point_arn", "accesspointarn"),
    field("acl_required", "aclrequired"),
    field("source_region", "sourceregion"),
];

/// Name of the list of trailing fields that AWS added after `source_region`
/// and this version does not know yet.
pub const EXTRA_FIELDS_JSON_NAME: &str = "extra_fields";
/// Arrow/Parquet column for the same list.
pub const EXTRA_FIELDS_COLUMN: &str = "extra_fields";

/// The fewest fields a record has ever had (records written before 2017 end
/// after the user agent).
pub const MIN_FIELDS: usize = 17;

/// Field counts AWS has written over the years, for documentation and tests:
/// 17 (up to user agent), 18 (+ version id), 24 (+ host id .. TLS version),
/// 25 (+ access point ARN), 26 (+ aclRequired), 27 (+ source region).
pub const KNOWN_FIELD_COUNTS: [usize; 6] = [17, 18, 24, 25, 26, 27];
