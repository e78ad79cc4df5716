//! The query model rendered as Athena (Trino) SQL over the table `s3la ddl`
//! creates, and the UNLOAD statement StartQuery submits.
//!
//! Nothing here takes free text: dates and instants are rendered from parsed
//! values, names and locations were validated by [`crate::config`], and every
//! literal still goes through [`string_literal`].

use std::fmt::Write;

use chrono::{DateTime, Utc};

use super::{ColumnKind, Projection, QuerySpec, REPORT_COLUMNS};
use crate::athena_ddl::{LogSource, LogTable, structured_columns};
use crate::config::UnloadCompression;
use crate::log_format::fields::{self, AthenaType, FIELDS};

/// Joda pattern of the bracketed time field, e.g. `06/Feb/2019:00:00:38 +0000`.
const TIME_PATTERN: &str = "dd/MMM/yyyy:HH:mm:ss Z";

/// The request time parsed once per row in the inner query; `try` turns a
/// malformed time into NULL (the row is then outside every window) instead
/// of failing the whole query.
const PARSED_TIME: &str = "s3la_request_time";

/// The table a SELECT reads, and what the SQL must know of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableRef<'a> {
    /// The data catalog, when not Athena's default one.
    pub catalog: Option<&'a str>,
    pub database: &'a str,
    pub table: &'a str,
    /// The form of the logs the table reads (its columns).
    pub source: LogSource,
    /// Whose table it is, which decides the partition filter.
    pub kind: LogTable,
}

impl<'a> TableRef<'a> {
    /// The table `s3la ddl` creates as `database.table` over logs of `source`.
    pub fn projected(database: &'a str, table: &'a str, source: LogSource) -> Self {
        Self {
            catalog: None,
            database,
            table,
            source,
            kind: LogTable::Projected,
        }
    }
}

/// The SELECT for `spec` over `database.table`, AWS's table over text logs.
pub fn select(spec: &QuerySpec, database: &str, table: &str) -> String {
    select_from(spec, &TableRef::projected(database, table, LogSource::TEXT))
}

/// The SELECT for `spec` over `table`. Over the structured records' table
/// the columns are typed already: no pattern, no text-to-number casts, no
/// `-`. Only the table `s3la ddl` creates is filtered on its date
/// partitions: another table's partitions are not known here.
pub fn select_from(spec: &QuerySpec, table: &TableRef) -> String {
    let mut sql = String::from("SELECT\n");
    let source = table.source;
    let structured = source.structured() || table.kind == LogTable::S3Tables;
    let partitions = spec
        .partitions
        .filter(|_| table.kind == LogTable::Projected);
    let columns: Vec<String> = match spec.projection {
        Projection::Report => REPORT_COLUMNS
            .iter()
            .map(|c| {
                let e = if structured {
                    structured_expression(c.kind, c.source)
                } else {
                    expression(c.kind, c.source)
                };
                format!("  {e} AS {}", identifier(c.name))
            })
            .collect(),
        Projection::SelectAll => {
            let mut raw: Vec<String> = if structured {
                structured_columns()
                    .iter()
                    .map(|(name, _)| format!("  {}", identifier(name)))
                    .collect()
            } else {
                FIELDS
                    .iter()
                    .map(|f| format!("  {}", identifier(f.athena_name)))
                    .collect()
            };
            if partitions.is_some() {
                raw.push(format!("  {}", identifier("timestamp")));
            }
            raw
        }
    };
    sql.push_str(&columns.join(",\n"));
    let time = if table.kind == LogTable::S3Tables {
        // Already a timestamp with time zone in the Iceberg table.
        identifier(time_field().structured_name)
    } else if structured {
        format!(
            "from_iso8601_timestamp({})",
            identifier(time_field().structured_name)
        )
    } else {
        format!(
            "parse_datetime({}, {})",
            identifier(time_field().athena_name),
            string_literal(TIME_PATTERN)
        )
    };
    let catalog = table
        .catalog
        .map(|c| format!("{}.", identifier(c)))
        .unwrap_or_default();
    let _ = write!(
        sql,
        "\nFROM (\n  SELECT *, try({time}) AS {PARSED_TIME}\n  FROM {catalog}{}.{}",
        identifier(table.database),
        identifier(table.table),
    );
    if let Some(p) = partitions {
        // Partition values are the date folders' path (the projection's
        // format), so string order is date order.
        let _ = write!(
            sql,
            "\n  WHERE {} BETWEEN {} AND {}",
            identifier("timestamp"),
            string_literal(&source.partition_value(p.first)),
            string_literal(&source.partition_value(p.last)),
        );
    }
    let _ = write!(
        sql,
        "\n)\nWHERE ({PARSED_TIME} >= {}\n  AND {PARSED_TIME} < {}",
        timestamp_literal(spec.window.start),
        timestamp_literal(spec.window.end),
    );
    if spec.exclude_bucket_operations && structured {
        let _ = write!(
            sql,
            "\n  AND {} IS NOT NULL",
            identifier(key_field().structured_name)
        );
    } else if spec.exclude_bucket_operations {
        sql.push_str("\n  AND \"key\" IS NOT NULL AND \"key\" <> '-'");
    }
    // Lines the table cannot read (the regex does not match, or the time is
    // not a time) come back as rows without a time: MergeResults counts them
    // as the report's malformed lines and leaves them out of the outputs.
    // Athena would otherwise skip them without a trace.
    let _ = write!(sql, ")\n  OR {PARSED_TIME} IS NULL");
    sql
}

/// `UNLOAD (select) TO 'target' WITH (...)`: Parquet data files under
/// `target`, which Athena requires to be empty.
pub fn unload(select: &str, target: &str, compression: UnloadCompression) -> String {
    format!(
        "UNLOAD (\n{select}\n)\nTO {}\nWITH (format = 'PARQUET', compression = {})",
        string_literal(target),
        string_literal(compression.sql_name()),
    )
}

fn expression(kind: ColumnKind, source: &str) -> String {
    let c = identifier(source);
    match kind {
        ColumnKind::Timestamp => {
            format!("CAST({PARSED_TIME} AT TIME ZONE 'UTC' AS timestamp(3))")
        }
        ColumnKind::Text => format!("NULLIF({c}, '-')"),
        ColumnKind::QuotedText => format!(
            "CASE WHEN {c} IN ('-', '\"-\"') THEN NULL \
             WHEN length({c}) >= 2 AND {c} LIKE '\"%\"' THEN substr({c}, 2, length({c}) - 2) \
             ELSE {c} END"
        ),
        // BIGINT in the table already ('-' reads as NULL).
        ColumnKind::Int64 if is_bigint(source) => c,
        ColumnKind::Int32 => format!("TRY_CAST(NULLIF({c}, '-') AS integer)"),
        ColumnKind::Int64 => format!("TRY_CAST(NULLIF({c}, '-') AS bigint)"),
        ColumnKind::TopLevelPrefix => format!(
            "CASE WHEN {c} IS NULL OR {c} = '-' THEN NULL \
             WHEN strpos({c}, '/') > 0 THEN substr({c}, 1, strpos({c}, '/')) ELSE '' END"
        ),
    }
}

/// A report column over the structured records' table, whose column for
/// the text table's `source` is the field's structured name, typed.
fn structured_expression(kind: ColumnKind, source: &str) -> String {
    let name = fields::by_athena_name(source).map_or(source, |f| f.structured_name);
    let c = identifier(name);
    match kind {
        ColumnKind::Timestamp => {
            format!("CAST({PARSED_TIME} AT TIME ZONE 'UTC' AS timestamp(3))")
        }
        ColumnKind::Text | ColumnKind::QuotedText | ColumnKind::Int32 | ColumnKind::Int64 => c,
        ColumnKind::TopLevelPrefix => format!(
            "CASE WHEN {c} IS NULL THEN NULL \
             WHEN strpos({c}, '/') > 0 THEN substr({c}, 1, strpos({c}, '/')) ELSE '' END"
        ),
    }
}

fn time_field() -> &'static fields::Field {
    fields::by_athena_name("requestdatetime").expect("the time is a field")
}

fn key_field() -> &'static fields::Field {
    fields::by_athena_name("key").expect("the key is a field")
}

/// Whether the table declares the column `source` BIGINT.
fn is_bigint(source: &str) -> bool {
    fields::by_athena_name(source).is_some_and(|f| f.athena_type == AthenaType::Bigint)
}

/// A double-quoted identifier. Callers pass validated names; quotes are
/// doubled anyway so no name can end the identifier early.
fn identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A single-quoted string literal with quotes doubled.
pub fn string_literal(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn timestamp_literal(t: DateTime<Utc>) -> String {
    format!("TIMESTAMP '{} UTC'", t.format("%Y-%m-%d %H:%M:%S%.3f"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::athena_ddl::KeyLayout;
    use crate::period::Period;
    use crate::request::Options;

    fn spec(options: Options, layout: KeyLayout) -> QuerySpec {
        let p = Period::custom(
            "2024-01-03".parse().unwrap(),
            "2024-01-17".parse().unwrap(),
            1,
        );
        QuerySpec::new(&p, &options, layout)
    }
    const DATED: KeyLayout = KeyLayout::DateBased {
        projection_start: crate::config::DEFAULT_PROJECTION_START,
    };

    #[test]
    fn filters_on_partitions_and_exact_window() {
        let sql = select(&spec(Options::default(), DATED), "db", "logs");
        assert!(sql.contains("FROM \"db\".\"logs\""), "{sql}");
        assert!(
            sql.contains("WHERE \"timestamp\" BETWEEN '2024/01/03' AND '2024/01/18'"),
            "{sql}"
        );
        assert!(
            sql.contains("s3la_request_time >= TIMESTAMP '2024-01-03 00:00:00.000 UTC'"),
            "{sql}"
        );
        assert!(
            sql.contains("s3la_request_time < TIMESTAMP '2024-01-18 00:00:00.000 UTC'"),
            "{sql}"
        );
        assert!(
            sql.ends_with("UTC')\n  OR s3la_request_time IS NULL"),
            "rows without a time come back, to be counted as malformed: {sql}"
        );
        assert!(
            !sql.contains("\"key\" <> '-'"),
            "bucket operations are kept by default"
        );
        for c in REPORT_COLUMNS {
            assert!(sql.contains(&format!(" AS \"{}\"", c.name)), "{}", c.name);
        }
    }

    #[test]
    fn simple_layout_has_no_partition_filter_and_options_apply() {
        let options = Options {
            select_all: true,
            exclude_bucket_operations: true,
            ..Options::default()
        };
        let sql = select(&spec(options, KeyLayout::Simple), "db", "logs");
        assert!(!sql.contains("BETWEEN"), "{sql}");
        assert!(!sql.contains("\"timestamp\""), "{sql}");
        assert!(
            sql.contains(
                "AND \"key\" IS NOT NULL AND \"key\" <> '-')\n  OR s3la_request_time IS NULL"
            ),
            "{sql}"
        );
        for f in FIELDS {
            assert!(
                sql.contains(&format!("\n  \"{}\"", f.athena_name)),
                "{}",
                f.athena_name
            );
        }
    }

    #[test]
    fn a_table_the_user_has_is_filtered_on_the_time_alone() {
        let glue = TableRef {
            kind: LogTable::Glue,
            ..TableRef::projected("db", "their_logs", LogSource::TEXT)
        };
        let options = Options {
            select_all: true,
            ..Options::default()
        };
        // The date-based layout's partitions are the table s3la creates; not this one's.
        let sql = select_from(&spec(options, DATED), &glue);
        assert!(sql.contains("FROM \"db\".\"their_logs\""), "{sql}");
        assert!(!sql.contains("BETWEEN"), "{sql}");
        assert!(!sql.contains("\"timestamp\""), "{sql}");
        assert!(
            sql.contains("try(parse_datetime(\"requestdatetime\""),
            "{sql}"
        );
        assert!(
            sql.contains("s3la_request_time >= TIMESTAMP '2024-01-03 00:00:00.000 UTC'"),
            "{sql}"
        );
    }

    #[test]
    fn the_s3_tables_table_is_named_with_its_catalog_and_its_time_is_a_timestamp() {
        let table = TableRef {
            catalog: Some("s3tablescatalog/aws-cloudwatch"),
            database: "logs",
            table: "amazon_s3__server_access",
            source: LogSource {
                form: crate::log_format::forms::LogForm::Parquet,
                hive: false,
            },
            kind: LogTable::S3Tables,
        };
        let sql = select_from(&spec(Options::default(), DATED), &table);
        assert!(
            sql.contains(
                "FROM \"s3tablescatalog/aws-cloudwatch\".\"logs\".\"amazon_s3__server_access\""
            ),
            "{sql}"
        );
        assert!(
            sql.contains("SELECT *, try(\"request_time\") AS s3la_request_time"),
            "{sql}"
        );
        assert!(!sql.contains("from_iso8601_timestamp"), "{sql}");
        assert!(!sql.contains("BETWEEN"), "{sql}");
        assert!(
            sql.contains("\"bytes_sent_size\" AS \"bytes_sent\""),
            "{sql}"
        );
        assert!(!sql.contains("CAST(\"bytes_sent_size\""), "{sql}");
    }

    #[test]
    fn unload_quotes_its_target() {
        let sql = unload(
            "SELECT 1",
            "s3://b/p/_staging/2024-01/x/",
            UnloadCompression::Zstd,
        );
        assert_eq!(
            sql,
            "UNLOAD (\nSELECT 1\n)\nTO 's3://b/p/_staging/2024-01/x/'\n\
             WITH (format = 'PARQUET', compression = 'ZSTD')"
        );
        assert_eq!(string_literal("it's"), "'it''s'");
        assert_eq!(identifier("a\"b"), "\"a\"\"b\"");
    }
}
