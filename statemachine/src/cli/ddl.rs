//! `s3la ddl`: the Athena statements that make the logs queryable.

use std::process::ExitCode;

use anyhow::{anyhow, bail};
use chrono::NaiveDate;
use clap::{Args, ValueEnum};
use s3la_shared::athena_ddl::{KeyLayout, LOG_REGEX, LogSource, TableSpec};
use s3la_shared::log_format::forms::LogForm;

use super::values;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Layout {
    /// <prefix><account>/<region>/<bucket>/YYYY/MM/DD/... (S3's date-based partitioning)
    DateBased,
    /// <prefix>YYYY-MM-DD-hh-mm-ss-UNIQUE (S3's default simple format; no partitions)
    Simple,
}

#[derive(Debug, Args)]
#[command(after_help = "Example:\n  \
    ATHENA_DATABASE=s3_access_logs_db ATHENA_TABLE=mybucket_logs \\\n  \
    S3_LOGS_LOCATION=s3://my-log-bucket/logs/123456789012/us-east-1/mybucket/ s3la ddl")]
pub struct DdlArgs {
    /// Athena database.
    #[arg(long, env = "ATHENA_DATABASE")]
    database: Option<String>,
    /// Athena table.
    #[arg(long, env = "ATHENA_TABLE")]
    table: Option<String>,
    /// Where the logs are: with date-based partitioning, the prefix that holds the
    /// YYYY/MM/DD folders (s3://log-bucket/prefix/<account>/<region>/<bucket>/).
    #[arg(long, env = "S3_LOGS_LOCATION", value_name = "S3_URI")]
    location: Option<String>,
    /// Key layout of the logs.
    #[arg(long, value_enum, env = "S3_LOGS_LAYOUT", default_value_t = Layout::DateBased)]
    layout: Layout,
    /// First day of partition projection (when logging was enabled).
    #[arg(long, alias = "projection_start", env = "PROJECTION_START", value_name = "YYYY-MM-DD", default_value = "2020-01-01",
          value_parser = values::date)]
    projection_start: NaiveDate,
    /// The logs' form: text (S3's classic files, RegexSerDe), json (the structured
    /// delivery's JSON files, JSON SerDe) or parquet (its Parquet files).
    #[arg(long, env = "LOG_FORMAT", value_name = "FORMAT", default_value = "text",
          value_parser = values::log_form)]
    source: LogForm,
    /// The structured delivery writes Hive-compatible folders (year=YYYY/month=MM/day=DD).
    #[arg(long, env = "LOG_HIVE_PATHS")]
    hive: bool,
    /// Print only the RegexSerDe pattern (plain regex, for other tools).
    #[arg(long)]
    regex: bool,
}

fn required(v: Option<String>, var: &str, flag: &str) -> anyhow::Result<String> {
    v.filter(|s| !s.is_empty())
        .ok_or_else(|| anyhow!("{var} is not set: set the environment variable or pass {flag}"))
}

pub fn run(a: DdlArgs) -> anyhow::Result<ExitCode> {
    if a.regex {
        println!("{LOG_REGEX}");
        return Ok(ExitCode::SUCCESS);
    }
    let database = required(a.database, "ATHENA_DATABASE", "--database")?;
    let table = required(a.table, "ATHENA_TABLE", "--table")?;
    let location = required(a.location, "S3_LOGS_LOCATION", "--location")?;
    let layout = match a.layout {
        Layout::DateBased => KeyLayout::DateBased {
            projection_start: a.projection_start,
        },
        Layout::Simple => KeyLayout::Simple,
    };
    if a.hive && a.source == LogForm::Text {
        bail!(
            "--hive is for the structured forms (--source json or parquet): S3 writes text logs without Hive folders"
        );
    }
    let source = LogSource {
        form: a.source,
        hive: a.hive,
    };
    let spec = TableSpec::new(&database, &table, &location, layout)
        .map_err(|e| anyhow!(e))?
        .with_source(source);
    println!("{}\n\n{}", spec.create_database(), spec.create_table());
    Ok(ExitCode::SUCCESS)
}
