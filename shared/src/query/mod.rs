//! The query model: one description of what a run selects — columns and
//! filters — that the Athena renderer ([`athena_sql`]) turns into SQL and the
//! embedded engine evaluates itself, so both engines produce the same rows.

pub mod athena_sql;

use std::sync::Arc;

use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};

use crate::athena_ddl::KeyLayout;
use crate::log_format::fields::{AthenaType, FIELDS};
use crate::period::{PartitionRange, Period, TimeWindow};
use crate::request::Options;

/// How a report column is derived from the table's raw text column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    /// The bracketed request time as a UTC timestamp (milliseconds).
    Timestamp,
    /// Text; `-` is null.
    Text,
    /// A quoted field (referrer, user agent): quotes removed, `-` and `"-"` null.
    QuotedText,
    /// A 32-bit integer; `-` is null.
    Int32,
    /// A 64-bit integer; `-` is null.
    Int64,
    /// The key up to and including its first `/`, `""` for keys at the
    /// bucket's root, null for bucket-level operations.
    TopLevelPrefix,
}

/// One column of the default (report) result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReportColumn {
    /// Column name in the results (the `s3la parse` name where one exists).
    pub name: &'static str,
    /// The Athena table column it is derived from.
    pub source: &'static str,
    pub kind: ColumnKind,
}

const fn col(name: &'static str, source: &'static str, kind: ColumnKind) -> ReportColumn {
    ReportColumn { name, source, kind }
}

/// The default result: one row per request, typed, with what the report
/// needs and nothing it does not (no request/host ids, cipher suites,
/// version ids or endpoints).
pub const REPORT_COLUMNS: [ReportColumn; 20] = [
    col("request_time", "requestdatetime", ColumnKind::Timestamp),
    col("bucket", "bucket_name", ColumnKind::Text),
    col("operation", "operation", ColumnKind::Text),
    col("key", "key", ColumnKind::Text),
    col("key_prefix", "key", ColumnKind::TopLevelPrefix),
    col("requester", "requester", ColumnKind::Text),
    col("remote_ip", "remoteip", ColumnKind::Text),
    col("http_status", "httpstatus", ColumnKind::Int32),
    col("error_code", "errorcode", ColumnKind::Text),
    col("bytes_sent", "bytessent", ColumnKind::Int64),
    col("object_size", "objectsize", ColumnKind::Int64),
    col("total_time", "totaltime", ColumnKind::Int64),
    col("turn_around_time", "turnaroundtime", ColumnKind::Int64),
    col("referer", "referrer", ColumnKind::QuotedText),
    col("user_agent", "useragent", ColumnKind::QuotedText),
    col("signature_version", "sigv", ColumnKind::Text),
    col("authentication_type", "authtype", ColumnKind::Text),
    col("tls_version", "tlsversion", ColumnKind::Text),
    col("acl_required", "aclrequired", ColumnKind::Text),
    col("source_region", "sourceregion", ColumnKind::Text),
];

/// Which columns a run selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Projection {
    /// [`REPORT_COLUMNS`].
    Report,
    /// Every column of the table, raw text as the table holds it (the
    /// original tool's `--select_all`), plus the partition column.
    SelectAll,
}

/// A run's query: what to select and exactly which rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuerySpec {
    pub projection: Projection,
    /// Rows whose request time is in `[start, end)`: what makes numbers exact.
    pub window: TimeWindow,
    /// Delivery-day partitions to read (date-based layout only): what keeps
    /// Athena's bill small. `None` reads every log object.
    pub partitions: Option<PartitionRange>,
    /// Drop records whose key is `-` (bucket-level operations).
    pub exclude_bucket_operations: bool,
}

impl QuerySpec {
    pub fn new(period: &Period, options: &Options, layout: KeyLayout) -> Self {
        Self {
            projection: if options.select_all {
                Projection::SelectAll
            } else {
                Projection::Report
            },
            window: period.window,
            partitions: match layout {
                KeyLayout::DateBased { .. } => Some(period.partitions),
                KeyLayout::Simple => None,
            },
            exclude_bucket_operations: options.exclude_bucket_operations,
        }
    }
}

/// The Arrow schema of a run's rows, whichever engine produced them:
/// Athena's INT96 or the embedded engine's timestamps, and string views or
/// plain strings, all become these types.
pub fn result_schema(projection: Projection, partitioned: bool) -> SchemaRef {
    let fields: Vec<Field> = match projection {
        Projection::Report => REPORT_COLUMNS
            .iter()
            .map(|c| {
                let t = match c.kind {
                    ColumnKind::Timestamp => {
                        DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
                    }
                    ColumnKind::Int32 => DataType::Int32,
                    ColumnKind::Int64 => DataType::Int64,
                    ColumnKind::Text | ColumnKind::QuotedText | ColumnKind::TopLevelPrefix => {
                        DataType::Utf8
                    }
                };
                Field::new(c.name, t, true)
            })
            .collect(),
        Projection::SelectAll => {
            let mut raw: Vec<Field> = FIELDS
                .iter()
                .map(|f| {
                    let t = match f.athena_type {
                        AthenaType::Bigint => DataType::Int64,
                        AthenaType::String => DataType::Utf8,
                    };
                    Field::new(f.athena_name, t, true)
                })
                .collect();
            if partitioned {
                raw.push(Field::new("timestamp", DataType::Utf8, true));
            }
            raw
        }
    };
    Arc::new(Schema::new(fields))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_columns_come_from_table_columns() {
        for c in REPORT_COLUMNS {
            assert!(
                FIELDS.iter().any(|f| f.athena_name == c.source),
                "{} reads unknown column {}",
                c.name,
                c.source
            );
        }
    }
}
