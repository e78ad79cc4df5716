//! The Athena table over S3 server access logs: the statements `s3la ddl`
//! prints and the CDK stack creates as a Glue table.
//!
//! Columns and RegexSerDe pattern follow AWS's documented table for server
//! access logs (27 columns up to `sourceregion`), with two changes: the
//! referrer is matched as a quoted field like the user agent (AWS's pattern
//! breaks on a referrer holding a space), and partition projection starts at
//! a configurable date instead of a fixed one.

use chrono::NaiveDate;
use serde::Serialize;

use crate::log_format::fields::{BUCKET_ARN_FIELD, FIELDS, Quoting, SCHEMA_VERSION_FIELD, Value};
use crate::log_format::forms::LogForm;
use crate::validate::{athena_identifier, s3_prefix_uri};

/// The RegexSerDe pattern, as a plain regular expression: one group per
/// field of [`FIELDS`], written from each field's quoting. It is AWS's
/// documented pattern (test `the_pattern_is_awss`), built at compile time.
pub const LOG_REGEX: &str = match std::str::from_utf8(&REGEX_BYTES) {
    Ok(regex) => regex,
    Err(_) => panic!("the pattern is ASCII"),
};

/// AWS's pattern requires the fields of an 18-field record (the version
/// id's `[^ ]*` also matches a missing one) and reads the later fields as
/// one optional group, so older records match too.
const REGEX_REQUIRED_UP_TO: usize = 18;

const REGEX_BYTES: [u8; write_regex::<0>().1] = write_regex().0;

/// The pattern's group for a field written with `quoting`.
const fn group(quoting: Quoting) -> &'static str {
    match quoting {
        Quoting::Bare => "([^ ]*)",
        Quoting::Digits => "(-|[0-9]*)",
        Quoting::Bracketed => r"\[(.*?)\]",
        Quoting::Quoted => r#"("[^"]*"|-)"#,
    }
}

/// The pattern in `N` bytes, and its length (the bytes past `N` are only
/// counted: `N` = 0 measures it).
const fn write_regex<const N: usize>() -> ([u8; N], usize) {
    let mut out = [0; N];
    let mut len = 0;
    let mut i = 0;
    while i < FIELDS.len() {
        if i > 0 {
            if FIELDS[i].since > REGEX_REQUIRED_UP_TO && FIELDS[i - 1].since <= REGEX_REQUIRED_UP_TO
            {
                len = put(&mut out, len, "(?:");
            }
            len = put(&mut out, len, " ");
        }
        len = put(&mut out, len, group(FIELDS[i].quoting));
        i += 1;
    }
    if FIELDS[FIELDS.len() - 1].since > REGEX_REQUIRED_UP_TO {
        len = put(&mut out, len, ")?");
    }
    // Fields AWS adds later are left to the end of the line.
    len = put(&mut out, len, ".*$");
    (out, len)
}

/// Writes `s` at `at` (what fits), returning where it ends.
const fn put<const N: usize>(out: &mut [u8; N], at: usize, s: &str) -> usize {
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if at + i < N {
            out[at + i] = bytes[i];
        }
        i += 1;
    }
    at + bytes.len()
}

/// Which table StartQuery reads (`LOG_TABLE`; the stack's `logsTable`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogTable {
    /// The table `s3la ddl` prints and the stack creates over the delivery's
    /// folders: its projected date partitions are what a query filters on.
    Projected,
    /// A Glue table the user already has over the delivery's files (the
    /// columns of `LOG_FORMAT`). Its partitions, if any, are its own: the
    /// query filters on the request time alone.
    Glue,
    /// The S3 Tables (Iceberg) table of a log group's integration: the
    /// records' columns, with `request_time` a timestamp ("Log format in
    /// CloudWatch Logs": "stored as timestamptz"). Iceberg prunes its files
    /// by the time filter itself.
    S3Tables,
}

impl LogTable {
    /// Each kind with its name, the one list `name`, `from_name` and
    /// [`Self::NAMES`] are read from.
    const ALL: [(LogTable, &'static str); 3] = [
        (LogTable::Projected, "projected"),
        (LogTable::Glue, "glue"),
        (LogTable::S3Tables, "s3tables"),
    ];

    pub const NAMES: [&'static str; 3] = [Self::ALL[0].1, Self::ALL[1].1, Self::ALL[2].1];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(t, _)| *t == self)
            .map(|(_, name)| *name)
            .expect("every kind is in ALL")
    }

    pub fn from_name(name: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(t, _)| *t)
            .ok_or_else(|| format!("must be one of {}, got '{name}'", Self::NAMES.join(", ")))
    }

    /// Whether this product made the table, and so knows which log objects
    /// its rows come from. Only then may RemoveOriginalLogs delete any: a
    /// table someone else made may read other objects, or none of the ones
    /// under the logs' location, and its files are its owner's to manage.
    pub fn owned(self) -> bool {
        self == LogTable::Projected
    }
}

/// Where the S3 Tables integration puts a bucket's server access logs
/// ("Querying server access logs in S3 Tables"): "the `aws-cloudwatch`
/// managed table bucket", namespace `logs`, table
/// `amazon_s3__server_access`; Athena names it
/// `"s3tablescatalog/aws-cloudwatch"."logs"."amazon_s3__server_access"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct S3TablesLogs {
    pub catalog: &'static str,
    pub database: &'static str,
    pub table: &'static str,
}

pub const S3_TABLES_LOGS: S3TablesLogs = S3TablesLogs {
    catalog: "s3tablescatalog/aws-cloudwatch",
    database: "logs",
    table: "amazon_s3__server_access",
};

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

/// The form of the logs a table reads, and for the structured forms whether
/// their date folders are Hive-compatible (`year=YYYY/month=MM/day=DD`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogSource {
    pub form: LogForm,
    pub hive: bool,
}

impl LogSource {
    /// S3's classic text logs.
    pub const TEXT: LogSource = LogSource {
        form: LogForm::Text,
        hive: false,
    };

    /// Whether the table's columns are the structured records' (typed,
    /// named as `sal-cw-log-format` names them) rather than the text
    /// table's strings.
    pub fn structured(self) -> bool {
        self.form != LogForm::Text
    }

    /// The partition projection's date format (Java's, as Athena reads it):
    /// the date folders' shape, so a partition value is the folders' path.
    pub fn partition_format(self) -> &'static str {
        if self.hive {
            "'year='yyyy'/month='MM'/day='dd"
        } else {
            "yyyy/MM/dd"
        }
    }

    /// A day as a partition value of [`Self::partition_format`]; string
    /// order is date order in both.
    pub fn partition_value(self, day: NaiveDate) -> String {
        let format = if self.hive {
            "year=%Y/month=%m/day=%d"
        } else {
            "%Y/%m/%d"
        };
        day.format(format).to_string()
    }
}

/// The structured records' table columns: the two fields only they have,
/// then every field by its structured name, typed as the records are.
pub fn structured_columns() -> Vec<(&'static str, &'static str)> {
    let mut columns = vec![
        (SCHEMA_VERSION_FIELD, "string"),
        (BUCKET_ARN_FIELD, "string"),
    ];
    columns.extend(FIELDS.iter().map(|f| {
        let t = match f.value {
            Value::Text | Value::Time => "string",
            Value::Int32 => "int",
            Value::Int64 => "bigint",
        };
        (f.structured_name, t)
    }));
    columns
}

/// Everything the DDL needs, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableSpec {
    pub database: String,
    pub table: String,
    /// `s3://bucket/prefix/`, always with a trailing slash.
    pub location: String,
    pub layout: KeyLayout,
    pub source: LogSource,
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
            source: LogSource::TEXT,
        })
    }

    /// The same table over logs of `source`.
    pub fn with_source(self, source: LogSource) -> Self {
        Self { source, ..self }
    }

    pub fn create_database(&self) -> String {
        format!("CREATE DATABASE IF NOT EXISTS `{}`;", self.database)
    }

    pub fn create_table(&self) -> String {
        if self.source.structured() {
            return self.create_structured_table();
        }
        let mut ddl = self.create_head(
            FIELDS
                .iter()
                .map(|f| (f.athena_name, f.athena_type.ddl_name().to_string())),
        );
        ddl.push_str(&format!(
            "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'\n\
             WITH SERDEPROPERTIES (\n  'input.regex' = '{}'\n)\n\
             STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'\n\
             OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n\
             LOCATION '{}'",
            hive_string_body(LOG_REGEX),
            self.location
        ));
        self.push_projection(&mut ddl);
        ddl
    }

    /// `CREATE EXTERNAL TABLE` with `columns` (name, DDL type), then the
    /// date-based layout's partition column.
    fn create_head<'c>(&self, columns: impl Iterator<Item = (&'c str, String)>) -> String {
        let columns = columns
            .map(|(name, t)| format!("  `{name}` {t}"))
            .collect::<Vec<_>>()
            .join(",\n");
        let mut ddl = format!(
            "CREATE EXTERNAL TABLE IF NOT EXISTS `{}`.`{}` (\n{columns}\n)\n",
            self.database, self.table
        );
        if matches!(self.layout, KeyLayout::DateBased { .. }) {
            ddl.push_str("PARTITIONED BY (`timestamp` STRING)\n");
        }
        ddl
    }

    /// The date-based layout's partition projection over the date folders
    /// (in the source's shape), then the statement's end.
    fn push_projection(&self, ddl: &mut String) {
        if let KeyLayout::DateBased { projection_start } = self.layout {
            ddl.push_str("\nTBLPROPERTIES (\n");
            for (key, value) in projection_settings(self.source) {
                ddl.push_str(&format!("  '{key}' = '{}',\n", hive_string_body(value)));
            }
            ddl.push_str(&format!(
                "  'projection.timestamp.range' = '{},NOW',\n\
                 \x20 'storage.location.template' = '{}${{timestamp}}'\n)",
                self.source.partition_value(projection_start),
                self.location
            ));
        }
        ddl.push(';');
    }
}

impl TableSpec {
    /// The table over the structured delivery's JSON or Parquet files: typed
    /// columns, no pattern, the same `timestamp` partition projected over the
    /// V2 key layout's date folders. JSON is read by the Hive JSON SerDe, not
    /// the OpenX one: Athena's guide ("OpenX JSON SerDe", considerations)
    /// warns that with OpenX "the number of results and their values can be
    /// non-deterministic" and points to the Hive JSON SerDe. A line that is
    /// not a JSON object fails the query (AWS writes none); nothing is counted
    /// short.
    fn create_structured_table(&self) -> String {
        let mut ddl = self.create_head(
            structured_columns()
                .into_iter()
                .map(|(name, t)| (name, t.to_uppercase())),
        );
        match self.source.form {
            LogForm::Parquet => ddl.push_str("STORED AS PARQUET\n"),
            _ => ddl.push_str(
                "ROW FORMAT SERDE 'org.apache.hive.hcatalog.data.JsonSerDe'\n\
                 STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'\n\
                 OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'\n",
            ),
        }
        ddl.push_str(&format!("LOCATION '{}'", self.location));
        self.push_projection(&mut ddl);
        ddl
    }
}

/// The partition projection's settings for logs of `source`, less its range
/// and location template (which name the table's start and location): what
/// the DDL writes and, through [`GLUE_JSON_PATH`], the Glue table holds.
pub fn projection_settings(source: LogSource) -> [(&'static str, &'static str); 5] {
    [
        ("projection.enabled", "true"),
        ("projection.timestamp.type", "date"),
        ("projection.timestamp.format", source.partition_format()),
        ("projection.timestamp.interval", "1"),
        ("projection.timestamp.interval.unit", "DAYS"),
    ]
}

/// Where the CDK stack reads the Glue table's columns and pattern, relative
/// to the workspace root: TypeScript cannot read [`FIELDS`], so the test
/// `the_glue_json_is_current` keeps this file what [`glue_table_json`] says.
pub const GLUE_JSON_PATH: &str = "infra/lib/generated/log-fields.json";

/// The command that rewrites [`GLUE_JSON_PATH`] after a change to [`FIELDS`].
pub const GLUE_JSON_REGENERATE: &str = "UPDATE_GENERATED=1 cargo test -p s3la-shared --lib athena_ddl::tests::the_glue_json_is_current";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct GlueTable {
    generated_by: String,
    columns: Vec<GlueColumn>,
    regex: &'static str,
    /// The structured delivery's table (`LOG_FORMAT` json or parquet).
    structured_columns: Vec<GlueColumn>,
    /// [`projection_settings`] by the date folders' shape: `plain`
    /// (`YYYY/MM/DD`) and `hive` (`year=YYYY/month=MM/day=DD`).
    projection: std::collections::BTreeMap<
        &'static str,
        std::collections::BTreeMap<&'static str, &'static str>,
    >,
    /// [`LogTable::NAMES`]: the values of `LOG_TABLE` and the stack's
    /// `logsTable`.
    log_tables: [&'static str; 3],
    /// [`S3_TABLES_LOGS`]: the stack's defaults for `logsTable=s3tables`.
    s3_tables: S3TablesLogs,
}

#[derive(Serialize)]
struct GlueColumn {
    name: &'static str,
    #[serde(rename = "type")]
    kind: &'static str,
}

/// The Glue tables' columns (Glue's type names), the RegexSerDe pattern and
/// the projection settings, as the JSON the CDK stack reads (see
/// [`GLUE_JSON_PATH`]).
pub fn glue_table_json() -> String {
    let table = GlueTable {
        generated_by: format!(
            "shared/src/log_format/fields.rs; do not edit, regenerate with `{GLUE_JSON_REGENERATE}`"
        ),
        columns: FIELDS
            .iter()
            .map(|f| GlueColumn {
                name: f.athena_name,
                kind: f.athena_type.glue_name(),
            })
            .collect(),
        regex: LOG_REGEX,
        structured_columns: structured_columns()
            .into_iter()
            .map(|(name, kind)| GlueColumn { name, kind })
            .collect(),
        projection: [("plain", false), ("hive", true)]
            .into_iter()
            .map(|(shape, hive)| {
                let source = LogSource {
                    form: LogForm::Json,
                    hive,
                };
                (shape, projection_settings(source).into_iter().collect())
            })
            .collect(),
        log_tables: LogTable::NAMES,
        s3_tables: S3_TABLES_LOGS,
    };
    let mut json = serde_json::to_string_pretty(&table).expect("plain strings serialize");
    json.push('\n');
    json
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

    /// AWS's documented pattern, with the referrer quoted like the user
    /// agent: the deployed Glue table is compared with our parser, so the
    /// pattern derived from the fields must stay this one to the byte.
    #[test]
    fn the_pattern_is_awss() {
        const AWS_PATTERN: &str = concat!(
            r#"([^ ]*) ([^ ]*) \[(.*?)\] ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ("[^"]*"|-) "#,
            r#"(-|[0-9]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ("[^"]*"|-) ("[^"]*"|-) ([^ ]*)"#,
            r#"(?: ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*) ([^ ]*))?.*$"#,
        );
        assert_eq!(LOG_REGEX, AWS_PATTERN);
    }

    /// The JSON the CDK stack reads is what the fields say; with
    /// `UPDATE_GENERATED=1` this test writes it.
    #[test]
    fn the_glue_json_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join(GLUE_JSON_PATH);
        let want = glue_table_json();
        if std::env::var_os("UPDATE_GENERATED").is_some() {
            std::fs::write(&path, &want).unwrap();
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "{GLUE_JSON_PATH} is not what shared/src/log_format/fields.rs says; \
             regenerate it with `{GLUE_JSON_REGENERATE}`"
        );
    }

    #[test]
    fn the_glue_json_has_every_column_typed_as_the_ddl() {
        let json: serde_json::Value = serde_json::from_str(&glue_table_json()).unwrap();
        let columns = json["columns"].as_array().unwrap();
        assert_eq!(columns.len(), FIELDS.len());
        let ddl = spec().create_table();
        for c in columns {
            let (name, kind) = (c["name"].as_str().unwrap(), c["type"].as_str().unwrap());
            assert!(
                ddl.contains(&format!("`{name}` {}", kind.to_uppercase())),
                "{name}"
            );
        }
        assert_eq!(json["regex"], LOG_REGEX);
        // The structured tables: their columns and each shape's projection.
        for (shape, hive) in [("plain", false), ("hive", true)] {
            let source = LogSource {
                form: LogForm::Json,
                hive,
            };
            let ddl = spec().with_source(source).create_table();
            for c in json["structuredColumns"].as_array().unwrap() {
                let (name, kind) = (c["name"].as_str().unwrap(), c["type"].as_str().unwrap());
                assert!(
                    ddl.contains(&format!("`{name}` {}", kind.to_uppercase())),
                    "{name}"
                );
            }
            let settings = json["projection"][shape].as_object().unwrap();
            assert_eq!(settings.len(), 5);
            for (key, value) in settings {
                let value = hive_string_body(value.as_str().unwrap());
                assert!(
                    ddl.contains(&format!("'{key}' = '{value}'")),
                    "{shape} {key}"
                );
            }
        }
        let text = spec().create_table();
        for (key, value) in json["projection"]["plain"].as_object().unwrap() {
            assert!(
                text.contains(&format!("'{key}' = '{}'", value.as_str().unwrap())),
                "{key}"
            );
        }
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
