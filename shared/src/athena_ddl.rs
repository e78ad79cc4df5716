//! The Athena table over S3 server access logs: the statements `s3la ddl`
//! prints and the CDK stack creates as a Glue table.
//!
//! Columns and RegexSerDe pattern follow AWS's documented table for server
//! access logs (27 columns up to `sourceregion`), with two changes: the
//! referrer is matched as a quoted field like the user agent (AWS's pattern
//! breaks on a referrer holding a space), and partition projection starts at
//! a configurable date instead of a fixed one.

use chrono::NaiveDate;

use crate::log_format::fields::FIELDS;
use crate::validate::{athena_identifier, s3_prefix_uri};

/// The RegexSerDe pattern, as a plain regular expression (27 groups).
pub const LOG_REGEX: &str = concat!(
    r#"([^ ]*) ([^ ]*) \[(.*?)\] ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ("[^"]*"|-) "#,
    r#"(-|[0-9]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ("[^"]*"|-) ("[^"]*"|-) ([^ ]*)"#,
    r#"(?: ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*))?.*$"#,
);

/// How the logs are laid out under the location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyLayout {
    /// `<prefix><account>/<region>/<bucket>/YYYY/MM/DD/...` (S3's
    /// "date-based partitioning"): projected `timestamp` partitions.
    DateBased { projection_start: NaiveDate },
    /// `<prefix>YYYY-MM-DD-hh-mm-ss-UNIQUE`: no partitions; every query scans
    /// the whole prefix.
    Simple,
}

/// Everything the DDL needs, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub database: String,
    pub table: String,
    /// `s3://bucket/prefix/`, always with a trailing slash.
    pub location: String,
    pub layout: KeyLayout,
}

impl TableSpec {
    /// Validates names and location; errors name the variable to fix.
    pub fn new(
        database: &str,
        table: &str,
        location: &str,
        layout: KeyLayout,
    ) -> Result<Self, String> {
        athena_identifier("ATHENA_DATABASE", database)?;
        athena_identifier("ATHENA_TABLE", table)?;
        let location = s3_prefix_uri("S3_LOGS_LOCATION", location)?;
        Ok(Self {
            database: database.to_string(),
            table: table.to_string(),
            location,
            layout,
        })
    }

    pub fn create_database(&self) -> String {
        format!("CREATE DATABASE IF NOT EXISTS `{}`;", self.database)
    }

    pub fn create_table(&self) -> String {
        let columns = FIELDS
            .iter()
            .map(|f| format!("  `{}` {}", f.athena_name, athena_type(f.athena_name)))
            .collect::<Vec<_>>()
            .join(",\n");
        let mut ddl = format!(
            "CREATE EXTERNAL TABLE IF NOT EXISTS `{}`.`{}` (\n{columns}\n)\n",
            self.database, self.table
        );
        if matches!(self.layout, KeyLayout::DateBased { .. }) {
            ddl.push_str("PARTITIONED BY (`timestamp` STRING)\n");
        }
        ddl.push_str(&format!(
            "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'\n\
             WITH SERDEPROPERTIES (\n  'input.regex' = '{}'\n)\n\
             STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'\n\
             OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n\
             LOCATION '{}'",
            hive_string_body(LOG_REGEX),
            self.location
        ));
        if let KeyLayout::DateBased { projection_start } = self.layout {
            ddl.push_str(&format!(
                "\nTBLPROPERTIES (\n\
                 \x20 'projection.enabled' = 'true',\n\
                 \x20 'projection.timestamp.type' = 'date',\n\
                 \x20 'projection.timestamp.format' = 'yyyy/MM/dd',\n\
                 \x20 'projection.timestamp.interval' = '1',\n\
                 \x20 'projection.timestamp.interval.unit' = 'DAYS',\n\
                 \x20 'projection.timestamp.range' = '{},NOW',\n\
                 \x20 'storage.location.template' = '{}${{timestamp}}'\n)",
                projection_start.format("%Y/%m/%d"),
                self.location
            ));
        }
        ddl.push(';');
        ddl
    }
}

/// Athena types of AWS's table: everything is a string except the two byte
/// counts (AWS's choice; the typed values come from our queries' casts).
pub fn athena_type(athena_name: &str) -> &'static str {
    match athena_name {
        "bytessent" | "objectsize" => "BIGINT",
        _ => "STRING",
    }
}

/// Escapes text for the inside of a single-quoted Hive DDL string literal.
fn hive_string_body(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> TableSpec {
        TableSpec::new(
            "s3_access_logs_db",
            "mybucket_logs",
            "s3://log-bucket/logs/123456789012/us-east-1/mybucket",
            KeyLayout::DateBased {
                projection_start: NaiveDate::from_ymd_opt(2023, 5, 1).unwrap(),
            },
        )
        .unwrap()
    }

    #[test]
    fn table_has_every_column_and_projection() {
        let ddl = spec().create_table();
        for f in FIELDS {
            assert!(
                ddl.contains(&format!("`{}`", f.athena_name)),
                "{}",
                f.athena_name
            );
        }
        assert!(ddl.starts_with(
            "CREATE EXTERNAL TABLE IF NOT EXISTS `s3_access_logs_db`.`mybucket_logs`"
        ));
        assert!(ddl.contains("'projection.timestamp.range' = '2023/05/01,NOW'"));
        assert!(ddl.contains(
            "'storage.location.template' = 's3://log-bucket/logs/123456789012/us-east-1/mybucket/${timestamp}'"
        ));
        assert!(
            ddl.contains(r#"\\[(.*?)\\] "#),
            "regex escaped for the DDL literal"
        );
        assert!(ddl.ends_with(");"));
    }

    #[test]
    fn simple_layout_has_no_partitions() {
        let mut s = spec();
        s.layout = KeyLayout::Simple;
        let ddl = s.create_table();
        assert!(!ddl.contains("PARTITIONED BY"));
        assert!(!ddl.contains("projection"));
    }

    #[test]
    fn regex_has_one_group_per_field() {
        let groups = LOG_REGEX.matches('(').count() - LOG_REGEX.matches("(?:").count();
        assert_eq!(groups, FIELDS.len());
    }

    #[test]
    fn refuses_injection_in_every_setting() {
        let layout = KeyLayout::Simple;
        let e = TableSpec::new("db`; DROP", "t", "s3://log-bucket/", layout).unwrap_err();
        assert!(e.contains("ATHENA_DATABASE"), "{e}");
        let e = TableSpec::new("db", "t' --", "s3://log-bucket/", layout).unwrap_err();
        assert!(e.contains("ATHENA_TABLE"), "{e}");
        let e = TableSpec::new("db", "t", "s3://log-bucket/x') --", layout).unwrap_err();
        assert!(e.contains("S3_LOGS_LOCATION"), "{e}");
    }
}
