//! Writer settings for the Parquet files users keep: `s3la parse`'s output
//! and the merged result of every run. One policy, measured on a month of
//! generated logs:
//!
//! - zstd level 1. On these pages (dictionary-encoded, or random ids) level 3
//!   made the merged file no smaller (1.8% larger, in fact) and the merge 12%
//!   slower.
//! - Min/max statistics per row group only where readers prune on them:
//!   time, status, sizes, operation. Computing them for every text column,
//!   page by page, costs 7-8% of the write and prunes nothing, since keys,
//!   IPs and agents are spread over every row group.
//! - No dictionary for the columns that are unique per request: building one
//!   only costs time before the writer falls back to plain encoding.
//!
//! The pruned columns are named both as in the Athena table
//! (`requestdatetime`, ...) and as in the report columns (`request_time`,
//! ...), which have no ids; settings for a column a file does not have are
//! ignored.

use parquet::basic::{Compression, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;
use parquet::file::properties::{EnabledStatistics, WriterPropertiesBuilder};
use parquet::schema::types::ColumnPath;

/// Columns whose row-group min/max lets a reader skip data.
const PRUNED: [&str; 9] = [
    "requestdatetime",
    "request_time",
    "httpstatus",
    "http_status",
    "bytessent",
    "bytes_sent",
    "objectsize",
    "object_size",
    "operation",
];

/// Columns with a different value on (nearly) every row.
const UNIQUE: [&str; 3] = ["requestid", "hostid", "request_uri"];

/// The settings above, signed by this version (`created_by`); callers add
/// row-group sizes.
pub fn properties() -> Result<WriterPropertiesBuilder, ParquetError> {
    let mut b = WriterProperties::builder()
        .set_created_by(format!("s3la {}", env!("CARGO_PKG_VERSION")))
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(1)?))
        .set_statistics_enabled(EnabledStatistics::None);
    for column in PRUNED {
        b = b.set_column_statistics_enabled(ColumnPath::from(column), EnabledStatistics::Chunk);
    }
    for column in UNIQUE {
        b = b.set_column_dictionary_enabled(ColumnPath::from(column), false);
    }
    Ok(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_keeps_statistics_and_ids_lose_their_dictionary() {
        let p = properties().unwrap().build();
        let time = ColumnPath::from("request_time");
        let key = ColumnPath::from("key");
        assert_eq!(p.statistics_enabled(&time), EnabledStatistics::Chunk);
        assert_eq!(p.statistics_enabled(&key), EnabledStatistics::None);
        assert!(!p.dictionary_enabled(&ColumnPath::from("requestid")));
        assert!(p.dictionary_enabled(&key));
        assert!(matches!(p.compression(&key), Compression::ZSTD(_)));
        assert!(p.created_by().starts_with("s3la "), "{}", p.created_by());
    }
}
