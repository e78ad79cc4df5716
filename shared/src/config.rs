//! Settings from the environment, read and validated once when a Lambda (or
//! `s3la`) starts. Every error names the variable and what it accepts.
//!
//! Readers take a lookup function instead of touching the process
//! environment, so tests pass a list of pairs.

use chrono::NaiveDate;

use crate::athena_ddl::{KeyLayout, LogSource, LogTable, S3_TABLES_LOGS};
use crate::error::StepError;
use crate::location::Location;
use crate::log_format::forms::LogForm;
use crate::period::MAX_SLACK_DAYS;
use crate::query::athena_sql::TableRef;
use crate::report::geo::Countries;
use crate::report::pricing::Prices;
use crate::validate::{athena_identifier, s3_prefix_uri};

/// Where settings come from: `std::env::var` in production, pairs in tests.
pub trait Env {
    fn get(&self, name: &str) -> Option<String>;
}

/// The process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn get(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

impl<const N: usize> Env for [(&str, &str); N] {
    fn get(&self, name: &str) -> Option<String> {
        self.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }
}

impl Env for Vec<(String, String)> {
    fn get(&self, name: &str) -> Option<String> {
        self.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone())
    }
}

/// A validator's message ("VAR must be ...") as the variable's error.
fn invalid(variable: &str, message: String) -> StepError {
    let message = message
        .strip_prefix(variable)
        .map(|m| m.trim_start().to_string())
        .unwrap_or(message);
    StepError::config(variable, message)
}

/// A set, non-empty value.
fn value(env: &dyn Env, name: &str) -> Option<String> {
    env.get(name).filter(|v| !v.trim().is_empty())
}

fn required(env: &dyn Env, name: &str, example: &str) -> Result<String, StepError> {
    value(env, name).ok_or_else(|| StepError::config(name, format!("is not set (e.g. {example})")))
}

/// `name`'s `s3://bucket/prefix/` value, checked as Athena accepts it and
/// parsed once, so that no step parses a setting again.
fn s3_prefix(name: &str, raw: &str) -> Result<Location, StepError> {
    let uri = s3_prefix_uri(name, raw.trim()).map_err(|m| invalid(name, m))?;
    Location::parse(&uri).map_err(|m| StepError::config(name, m))
}

/// `RESULT_PATH`, required.
fn result_path(env: &dyn Env) -> Result<Location, StepError> {
    s3_prefix(
        "RESULT_PATH",
        &required(env, "RESULT_PATH", "s3://my-results-bucket/s3la/")?,
    )
}

fn number<T: std::str::FromStr + PartialOrd + std::fmt::Display + Copy>(
    env: &dyn Env,
    name: &str,
    default: T,
    range: std::ops::RangeInclusive<T>,
) -> Result<T, StepError> {
    let Some(raw) = value(env, name) else {
        return Ok(default);
    };
    match raw.trim().parse::<T>() {
        Ok(v) if range.contains(&v) => Ok(v),
        _ => Err(StepError::config(
            name,
            format!(
                "must be a number from {} to {}, got '{raw}'",
                range.start(),
                range.end()
            ),
        )),
    }
}

/// `S3_LOGS_LAYOUT` and `PROJECTION_START`: how log keys are laid out.
pub fn key_layout(env: &dyn Env) -> Result<KeyLayout, StepError> {
    let layout = value(env, "S3_LOGS_LAYOUT").unwrap_or_else(|| "date-based".into());
    match layout.trim() {
        "date-based" => {
            let start = match value(env, "PROJECTION_START") {
                None => DEFAULT_PROJECTION_START,
                Some(raw) => parse_day(raw.trim()).ok_or_else(|| {
                    StepError::config(
                        "PROJECTION_START",
                        format!("must be a date as YYYY-MM-DD, got '{raw}'"),
                    )
                })?,
            };
            Ok(KeyLayout::DateBased {
                projection_start: start,
            })
        }
        "simple" => Ok(KeyLayout::Simple),
        other => Err(StepError::config(
            "S3_LOGS_LAYOUT",
            format!("must be 'date-based' or 'simple', got '{other}'"),
        )),
    }
}

/// The projection start `s3la ddl` and the stack use when none is given.
pub const DEFAULT_PROJECTION_START: NaiveDate = match NaiveDate::from_ymd_opt(2020, 1, 1) {
    Some(d) => d,
    None => panic!("valid date"),
};

/// `YYYY-MM-DD`, or `YYYY/MM/DD` as partition values are written.
pub fn parse_day(s: &str) -> Option<NaiveDate> {
    if s.len() != 10 {
        return None;
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%Y/%m/%d"))
        .ok()
}

/// What ComputePeriod needs.
#[derive(Debug, Clone, PartialEq)]
pub struct PeriodConfig {
    pub layout: KeyLayout,
    /// The longest custom range accepted, in days (`MAX_RANGE_DAYS`).
    pub max_range_days: u32,
    /// Days of partitions scanned after the period's end, for records S3
    /// delivers late (`LATE_DELIVERY_SLACK_DAYS`).
    pub slack_days: u32,
    /// `LOG_TABLE`: an execution asking to remove the logs of a table this
    /// product did not make is refused before any query runs.
    pub log_table: LogTable,
}

impl PeriodConfig {
    pub fn from_env(env: &dyn Env) -> Result<Self, StepError> {
        Ok(Self {
            layout: key_layout(env)?,
            max_range_days: number(env, "MAX_RANGE_DAYS", 366, 1..=3660)?,
            slack_days: number(env, "LATE_DELIVERY_SLACK_DAYS", 1, 0..=MAX_SLACK_DAYS)?,
            log_table: log_table(env)?,
        })
    }
}

/// Parquet compression Athena's UNLOAD writes (`UNLOAD_COMPRESSION`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnloadCompression {
    Zstd,
    Snappy,
    Gzip,
}

impl UnloadCompression {
    pub fn sql_name(self) -> &'static str {
        match self {
            UnloadCompression::Zstd => "ZSTD",
            UnloadCompression::Snappy => "SNAPPY",
            UnloadCompression::Gzip => "GZIP",
        }
    }
}

/// What StartQuery needs.
#[derive(Debug, Clone, PartialEq)]
pub struct QueryConfig {
    pub database: String,
    pub table: String,
    /// `RESULT_PATH`: `s3://bucket/prefix/` (a `file:///dir/` locally).
    pub result_path: Location,
    pub workgroup: String,
    pub compression: UnloadCompression,
    pub layout: KeyLayout,
    /// `LOG_FORMAT` and `LOG_HIVE_PATHS`: the form of the logs the table
    /// reads (text by default), which the SQL is written for.
    pub source: LogSource,
    /// `LOG_TABLE`: the table `s3la ddl` and the stack create (default), or
    /// one the user already has (a Glue table, an S3 Tables table).
    pub log_table: LogTable,
    /// `ATHENA_CATALOG`: the data catalog of the table; Athena's default
    /// `AwsDataCatalog` when unset. An S3 Tables table is in
    /// `s3tablescatalog/<table bucket>`.
    pub catalog: Option<String>,
}

/// The catalog Athena reads tables from when none is named.
pub const DEFAULT_CATALOG: &str = "AwsDataCatalog";

/// `LOG_TABLE` (projected, glue or s3tables; projected when unset).
pub fn log_table(env: &dyn Env) -> Result<LogTable, StepError> {
    match value(env, "LOG_TABLE") {
        None => Ok(LogTable::Projected),
        Some(v) => LogTable::from_name(v.trim()).map_err(|m| invalid("LOG_TABLE", m)),
    }
}

/// `ATHENA_CATALOG`, checked: Athena's catalog names (letters, digits,
/// `_`, `@`, `-`), and S3 Tables' `s3tablescatalog/<table bucket>`, which
/// is also the default with `LOG_TABLE=s3tables`.
fn catalog(env: &dyn Env, table: LogTable) -> Result<Option<String>, StepError> {
    let catalog = value(env, "ATHENA_CATALOG")
        .map(|v| v.trim().to_string())
        .or_else(|| (table == LogTable::S3Tables).then(|| S3_TABLES_LOGS.catalog.into()));
    if let Some(c) = &catalog {
        let ok = (1..=255).contains(&c.len())
            && c.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'@' | b'-' | b'/'));
        if !ok {
            return Err(invalid(
                "ATHENA_CATALOG",
                format!(
                    "must be 1-255 letters, digits, '_', '@', '-' or '/' \
                     (e.g. s3tablescatalog/my-table-bucket), got '{c}'"
                ),
            ));
        }
    }
    if table == LogTable::S3Tables
        && !catalog
            .as_deref()
            .and_then(|c| c.strip_prefix("s3tablescatalog/"))
            .is_some_and(|bucket| !bucket.is_empty() && !bucket.contains('/'))
    {
        return Err(invalid(
            "ATHENA_CATALOG",
            format!(
                "LOG_TABLE=s3tables reads a table of an S3 table bucket: set it to \
                 s3tablescatalog/<table bucket name> (or leave it unset for {}), got '{}'",
                S3_TABLES_LOGS.catalog,
                catalog.as_deref().unwrap_or_default()
            ),
        ));
    }
    Ok(catalog)
}

/// `LOG_FORMAT` (text, json or parquet; text when unset) and, for the
/// structured forms, `LOG_HIVE_PATHS` (`true` when the delivery writes
/// Hive-compatible folders).
pub fn log_source(env: &dyn Env) -> Result<LogSource, StepError> {
    let form = match value(env, "LOG_FORMAT") {
        None => LogForm::Text,
        Some(v) => LogForm::from_name(v.trim()).map_err(|m| invalid("LOG_FORMAT", m))?,
    };
    let hive = match value(env, "LOG_HIVE_PATHS").as_deref().map(str::trim) {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return Err(invalid(
                "LOG_HIVE_PATHS",
                format!("must be true or false, got '{other}'"),
            ));
        }
    };
    if hive && form == LogForm::Text {
        return Err(invalid(
            "LOG_HIVE_PATHS",
            "S3 writes text logs without Hive-compatible folders: set it only with LOG_FORMAT=json or parquet".into(),
        ));
    }
    Ok(LogSource { form, hive })
}

impl QueryConfig {
    pub fn from_env(env: &dyn Env) -> Result<Self, StepError> {
        let log_table = log_table(env)?;
        // The S3 Tables integration names its table itself.
        let named = |var: &str, integrations: &str, example: &str| {
            if log_table == LogTable::S3Tables {
                Ok(value(env, var).unwrap_or_else(|| integrations.into()))
            } else {
                required(env, var, example)
            }
        };
        let database = named(
            "ATHENA_DATABASE",
            S3_TABLES_LOGS.database,
            "s3la_access_logs",
        )?;
        athena_identifier("ATHENA_DATABASE", &database)
            .map_err(|m| invalid("ATHENA_DATABASE", m))?;
        let table = named("ATHENA_TABLE", S3_TABLES_LOGS.table, "mybucket_logs")?;
        athena_identifier("ATHENA_TABLE", &table).map_err(|m| invalid("ATHENA_TABLE", m))?;
        let result_path = result_path(env)?;
        let workgroup = value(env, "ATHENA_WORKGROUP").unwrap_or_else(|| "primary".into());
        let workgroup_ok = (1..=128).contains(&workgroup.len())
            && workgroup
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !workgroup_ok {
            return Err(StepError::config(
                "ATHENA_WORKGROUP",
                format!("must be 1-128 letters, digits, '.', '_' or '-', got '{workgroup}'"),
            ));
        }
        let compression = match value(env, "UNLOAD_COMPRESSION")
            .unwrap_or_else(|| "zstd".into())
            .to_ascii_lowercase()
            .trim()
        {
            "zstd" => UnloadCompression::Zstd,
            "snappy" => UnloadCompression::Snappy,
            "gzip" => UnloadCompression::Gzip,
            other => {
                return Err(StepError::config(
                    "UNLOAD_COMPRESSION",
                    format!("must be zstd, snappy or gzip, got '{other}'"),
                ));
            }
        };
        let mut source = log_source(env)?;
        if log_table != LogTable::Projected && source.hive {
            return Err(invalid(
                "LOG_HIVE_PATHS",
                format!(
                    "names the folders of the table s3la creates; with LOG_TABLE={} the \
                     query reads the table's own partitions: leave it unset",
                    log_table.name()
                ),
            ));
        }
        if log_table == LogTable::S3Tables {
            // The integration's table has the records' columns, whatever
            // form a delivery to S3 would have had.
            match value(env, "LOG_FORMAT") {
                None => source.form = LogForm::Parquet,
                Some(_) if !source.structured() => {
                    return Err(invalid(
                        "LOG_FORMAT",
                        "an S3 Tables table has the structured records' columns, not the text \
                         logs': leave it unset (or json or parquet) with LOG_TABLE=s3tables"
                            .into(),
                    ));
                }
                Some(_) => {}
            }
        }
        Ok(Self {
            database,
            table,
            result_path,
            workgroup,
            compression,
            layout: key_layout(env)?,
            source,
            catalog: catalog(env, log_table)?,
            log_table,
        })
    }
}

impl QueryConfig {
    /// Settings for a local run: results (and staging) under a directory,
    /// the embedded engine's single table.
    pub fn local(result_dir: &std::path::Path, layout: KeyLayout) -> Self {
        Self {
            database: "local".into(),
            table: "logs".into(),
            result_path: Location::local_folder(result_dir),
            workgroup: "local".into(),
            compression: UnloadCompression::Zstd,
            layout,
            source: LogSource::TEXT,
            log_table: LogTable::Projected,
            catalog: None,
        }
    }

    /// The table the SELECT reads, as the SQL must know it.
    pub fn table_ref(&self) -> TableRef<'_> {
        TableRef {
            catalog: self.catalog.as_deref(),
            database: &self.database,
            table: &self.table,
            source: self.source,
            kind: self.log_table,
        }
    }
}

/// The value of `GEOIP_DB` that turns country lookups off.
pub const GEOIP_OFF: &str = "none";

/// What the report needs: where countries come from and the prices of its
/// cost estimate.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportConfig {
    /// `GEOIP_DB`: a MaxMind-format country database; without one, countries
    /// are unknown.
    pub geoip_db: Option<std::path::PathBuf>,
    /// `GEOIP_DB=none`: no countries, even where a database would be
    /// supplied by default (`s3la` ships one).
    pub geoip_off: bool,
    /// `PRICING_REGION` (default `us-east-1`), or explicit
    /// `S3_PRICE_WRITE_PER_1000`, `S3_PRICE_READ_PER_1000` and
    /// `S3_PRICE_TRANSFER_OUT_PER_GB`.
    pub prices: Prices,
}

impl Default for ReportConfig {
    fn default() -> Self {
        Self {
            geoip_db: None,
            geoip_off: false,
            prices: Prices::for_region("us-east-1").expect("us-east-1 prices are built in"),
        }
    }
}

impl ReportConfig {
    pub fn from_env(env: &dyn Env) -> Result<Self, StepError> {
        let geoip = value(env, "GEOIP_DB");
        let geoip_off = geoip.as_deref() == Some(GEOIP_OFF);
        let geoip_db = geoip.filter(|_| !geoip_off).map(std::path::PathBuf::from);
        if let Some(path) = &geoip_db {
            // Checked at start, so a wrong path fails the deployment's first
            // run loudly instead of every report saying "unknown".
            Countries::open(path).map_err(|m| StepError::config("GEOIP_DB", m))?;
        }
        let region = value(env, "PRICING_REGION").unwrap_or_else(|| "us-east-1".into());
        let explicit = [
            "S3_PRICE_WRITE_PER_1000",
            "S3_PRICE_READ_PER_1000",
            "S3_PRICE_TRANSFER_OUT_PER_GB",
        ];
        let prices = if explicit.iter().any(|n| value(env, n).is_some()) {
            if let Some(missing) = explicit.iter().find(|n| value(env, n).is_none()) {
                return Err(StepError::config(
                    *missing,
                    format!("is not set: set all of {} or none", explicit.join(", ")),
                ));
            }
            Prices {
                region,
                write_and_list_per_1000: number(env, explicit[0], 0.0, 0.0..=100.0)?,
                read_and_other_per_1000: number(env, explicit[1], 0.0, 0.0..=100.0)?,
                transfer_out_per_gb: number(env, explicit[2], 0.0, 0.0..=100.0)?,
            }
        } else {
            Prices::for_region(&region)?
        };
        Ok(Self {
            geoip_db,
            geoip_off,
            prices,
        })
    }

    /// The country lookups for one run.
    pub fn countries(&self) -> Result<Countries, StepError> {
        match &self.geoip_db {
            Some(path) => Countries::open(path).map_err(|m| StepError::config("GEOIP_DB", m)),
            None => Ok(Countries::unknown()),
        }
    }
}

/// What MergeResults needs.
#[derive(Debug, Clone, PartialEq)]
pub struct MergeConfig {
    /// `RESULT_PATH`: `s3://bucket/prefix/`, or `file:///dir/` locally.
    pub result_path: Location,
    pub layout: KeyLayout,
    pub report: ReportConfig,
    pub shards: ShardSettings,
}

impl MergeConfig {
    pub fn from_env(env: &dyn Env) -> Result<Self, StepError> {
        Ok(Self {
            result_path: result_path(env)?,
            layout: key_layout(env)?,
            report: ReportConfig::from_env(env)?,
            shards: ShardSettings::from_env(env)?,
        })
    }

    pub fn local(result_dir: &std::path::Path, layout: KeyLayout, report: ReportConfig) -> Self {
        Self {
            result_path: Location::local_folder(result_dir),
            layout,
            report,
            shards: ShardSettings::default(),
        }
    }
}

/// How MergeResults splits a period's rows into shards, each merged by a
/// Lambda of its own (the definition's Map state) and then assembled.
///
/// The defaults keep a shard far inside a Lambda's 15 minutes: the merge
/// ran at about 290,000 rows/s on 2 cores here (README, "Merging a month"),
/// so 25 M rows take about 1.5 minutes on 2 cores, and under 5 on the ~1.2
/// vCPU of the stack's 2048 MB function even at half that rate per core.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardSettings {
    /// `MERGE_SHARD_ROWS`: at most this many rows a shard (as the parts'
    /// footers count them).
    pub max_rows: u64,
    /// `MERGE_SHARD_BYTES`: at most this many bytes of Parquet parts a shard.
    pub max_bytes: u64,
    /// `MERGE_MAX_SHARDS`: never more shards than this (the Map state's
    /// items are their numbers, so the list stays far under 256 KiB); past
    /// it, shards grow instead.
    pub max_shards: usize,
    /// `MERGE_SHARDS`: exactly this many shards (at most one per row
    /// group), whatever the sizes: for tests and benchmarks.
    pub forced: Option<usize>,
}

pub const MAX_SHARDS_LIMIT: usize = 10_000;

impl Default for ShardSettings {
    fn default() -> Self {
        Self {
            max_rows: 25_000_000,
            max_bytes: 2 << 30,
            max_shards: 1000,
            forced: None,
        }
    }
}

impl ShardSettings {
    pub fn from_env(env: &dyn Env) -> Result<Self, StepError> {
        let d = Self::default();
        let forced = match value(env, "MERGE_SHARDS") {
            None => None,
            Some(_) => Some(number(env, "MERGE_SHARDS", 1, 1..=MAX_SHARDS_LIMIT)?),
        };
        Ok(Self {
            max_rows: number(env, "MERGE_SHARD_ROWS", d.max_rows, 1_000..=u64::MAX)?,
            max_bytes: number(env, "MERGE_SHARD_BYTES", d.max_bytes, 1 << 20..=u64::MAX)?,
            max_shards: number(env, "MERGE_MAX_SHARDS", d.max_shards, 1..=MAX_SHARDS_LIMIT)?,
            forced,
        })
    }

    /// How many shards `rows` rows in `bytes` bytes of parts take.
    pub fn shards_for(&self, rows: u64, bytes: u64) -> usize {
        if let Some(n) = self.forced {
            return n;
        }
        let by_rows = rows.div_ceil(self.max_rows);
        let by_bytes = bytes.div_ceil(self.max_bytes);
        (by_rows.max(by_bytes).max(1) as usize).min(self.max_shards)
    }
}

/// What the cleanup steps need: where results and staging live (RemoveMeta
/// deletes only under them) and where the logs live (RemoveOriginalLogs).
#[derive(Debug, Clone, PartialEq)]
pub struct CleanupConfig {
    /// `RESULT_PATH`, as in [`QueryConfig`].
    pub result_path: Location,
    /// `S3_LOGS_LOCATION`: the logs table's location, `s3://bucket/prefix/`
    /// (`file:///dir/` locally). Only RemoveOriginalLogs requires it.
    pub logs_location: Option<Location>,
    pub layout: KeyLayout,
    /// `LOG_TABLE`: RemoveOriginalLogs deletes only the logs of the table
    /// this product made ([`LogTable::owned`]).
    pub log_table: LogTable,
}

impl CleanupConfig {
    pub fn from_env(env: &dyn Env) -> Result<Self, StepError> {
        let merge = MergeConfig::from_env(env)?;
        let logs_location = value(env, "S3_LOGS_LOCATION")
            .map(|v| s3_prefix("S3_LOGS_LOCATION", &v))
            .transpose()?;
        Ok(Self {
            result_path: result_path(env)?,
            logs_location,
            layout: merge.layout,
            log_table: log_table(env)?,
        })
    }

    pub fn local(
        result_dir: &std::path::Path,
        logs_dir: &std::path::Path,
        layout: KeyLayout,
    ) -> Self {
        Self {
            result_path: Location::local_folder(result_dir),
            logs_location: Some(Location::local_folder(logs_dir)),
            layout,
            log_table: LogTable::Projected,
        }
    }
}

/// What QueryStatus needs.
#[derive(Debug, Clone, PartialEq)]
pub struct StatusConfig {
    /// Athena's list price per TB scanned (`ATHENA_PRICE_PER_TB_USD`).
    pub price_per_tb_usd: f64,
}

impl StatusConfig {
    pub fn from_env(env: &dyn Env) -> Result<Self, StepError> {
        Ok(Self {
            price_per_tb_usd: number(env, "ATHENA_PRICE_PER_TB_USD", 5.0, 0.0..=1000.0)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: [(&str, &str); 3] = [
        ("ATHENA_DATABASE", "s3la_access_logs"),
        ("ATHENA_TABLE", "mybucket_logs"),
        ("RESULT_PATH", "s3://results-bucket/s3la"),
    ];

    #[test]
    fn query_config_defaults() {
        let c = QueryConfig::from_env(&BASE).unwrap();
        assert_eq!(c.result_path.to_string(), "s3://results-bucket/s3la/");
        assert_eq!(c.workgroup, "primary");
        assert_eq!(c.compression, UnloadCompression::Zstd);
        assert_eq!(
            c.layout,
            KeyLayout::DateBased {
                projection_start: DEFAULT_PROJECTION_START
            }
        );
    }

    fn with(extra: &[(&str, &str)]) -> Vec<(String, String)> {
        BASE.iter()
            .chain(extra)
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn log_table_names_whose_table_is_read_and_in_which_catalog() {
        let c = QueryConfig::from_env(&BASE).unwrap();
        assert_eq!(
            (c.log_table, c.catalog.as_deref()),
            (LogTable::Projected, None)
        );

        let c =
            QueryConfig::from_env(&with(&[("LOG_TABLE", "glue"), ("LOG_FORMAT", "json")])).unwrap();
        assert_eq!(
            (c.log_table, c.source.form),
            (LogTable::Glue, LogForm::Json)
        );

        // The integration's own table bucket unless another is named; the
        // records' columns whatever LOG_FORMAT says of files.
        let only = [
            ("LOG_TABLE", "s3tables"),
            ("RESULT_PATH", "s3://results-bucket/s3la"),
        ];
        let c = QueryConfig::from_env(&only).unwrap();
        let t = c.table_ref();
        assert_eq!((t.database, t.table), ("logs", "amazon_s3__server_access"));
        assert_eq!(c.catalog.as_deref(), Some("s3tablescatalog/aws-cloudwatch"));
        assert!(c.source.structured());
        let c = QueryConfig::from_env(&with(&[
            ("LOG_TABLE", "s3tables"),
            ("ATHENA_CATALOG", "s3tablescatalog/acme-logs"),
        ]))
        .unwrap();
        assert_eq!(c.table_ref().catalog, Some("s3tablescatalog/acme-logs"));

        for (extra, var, says) in [
            (
                &[("LOG_TABLE", "iceberg")][..],
                "LOG_TABLE",
                "projected, glue, s3tables",
            ),
            (
                &[
                    ("LOG_TABLE", "s3tables"),
                    ("ATHENA_CATALOG", "AwsDataCatalog"),
                ],
                "ATHENA_CATALOG",
                "s3tablescatalog/<table bucket name>",
            ),
            (
                &[("LOG_TABLE", "s3tables"), ("LOG_FORMAT", "text")],
                "LOG_FORMAT",
                "structured records' columns",
            ),
            (
                &[
                    ("LOG_TABLE", "glue"),
                    ("LOG_FORMAT", "json"),
                    ("LOG_HIVE_PATHS", "true"),
                ],
                "LOG_HIVE_PATHS",
                "LOG_TABLE=glue",
            ),
            (
                &[("ATHENA_CATALOG", "cat\"; drop")],
                "ATHENA_CATALOG",
                "letters, digits",
            ),
        ] {
            let e = QueryConfig::from_env(&with(extra)).unwrap_err();
            let m = e.to_string();
            assert!(
                m.starts_with(&format!("{var}: ")) && m.contains(says),
                "{m}"
            );
        }

        let cleanup = CleanupConfig::from_env(&with(&[("LOG_TABLE", "s3tables")])).unwrap();
        assert!(!cleanup.log_table.owned());
    }

    #[test]
    fn shard_settings_bound_a_shard_by_rows_and_bytes_and_name_a_bad_value() {
        let d = ShardSettings::from_env(&BASE).unwrap();
        assert_eq!(d, ShardSettings::default());
        assert_eq!(d.shards_for(0, 0), 1, "an empty period is one shard");
        assert_eq!(d.shards_for(25_000_000, 1 << 30), 1);
        assert_eq!(d.shards_for(25_000_001, 1 << 30), 2, "by rows");
        assert_eq!(d.shards_for(1, 5 << 30), 3, "by bytes");
        assert_eq!(
            d.shards_for(u64::MAX, 0),
            1000,
            "never past MERGE_MAX_SHARDS"
        );
        let forced = ShardSettings::from_env(&[("MERGE_SHARDS", "37")]).unwrap();
        assert_eq!(forced.shards_for(1, 1), 37);
        for (var, bad) in [
            ("MERGE_SHARDS", "0"),
            ("MERGE_SHARDS", "10001"),
            ("MERGE_SHARD_ROWS", "10"),
            ("MERGE_SHARD_BYTES", "1MB"),
            ("MERGE_MAX_SHARDS", "-1"),
        ] {
            let e = ShardSettings::from_env(&[(var, bad)]).unwrap_err();
            assert!(
                e.to_string()
                    .starts_with(&format!("{var}: must be a number from")),
                "{e}"
            );
        }
    }

    #[test]
    fn missing_and_bad_settings_name_the_variable() {
        let e = QueryConfig::from_env(&[("ATHENA_DATABASE", "db")]).unwrap_err();
        assert_eq!(e.name(), "ConfigError");
        assert!(e.to_string().starts_with("ATHENA_TABLE: is not set"), "{e}");

        let cases: [(&str, &str); 6] = [
            ("ATHENA_DATABASE", "db\"; drop"),
            ("RESULT_PATH", "s3://results-bucket/x'--"),
            ("ATHENA_WORKGROUP", "wg with space"),
            ("UNLOAD_COMPRESSION", "brotli"),
            ("S3_LOGS_LAYOUT", "hourly"),
            ("PROJECTION_START", "2020-13-01"),
        ];
        for (var, bad) in cases {
            let mut env: Vec<(String, String)> = BASE
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .filter(|(k, _)| k != var)
                .collect();
            env.push((var.to_string(), bad.to_string()));
            let e = QueryConfig::from_env(&env).unwrap_err();
            assert!(e.to_string().starts_with(&format!("{var}: ")), "{var}: {e}");
        }
    }

    #[test]
    fn geoip_db_none_turns_countries_off_and_a_wrong_path_is_refused() {
        let off = ReportConfig::from_env(&[("GEOIP_DB", "none")]).unwrap();
        assert!(off.geoip_off && off.geoip_db.is_none());
        assert!(off.countries().unwrap().source().is_none());
        let unset = ReportConfig::from_env(&BASE).unwrap();
        assert!(!unset.geoip_off && unset.geoip_db.is_none());
        let e = ReportConfig::from_env(&[("GEOIP_DB", "/no/such/country.mmdb")]).unwrap_err();
        assert!(e.to_string().starts_with("GEOIP_DB: "), "{e}");
    }

    #[test]
    fn period_config_numbers_are_bounded() {
        let c = PeriodConfig::from_env(&[("MAX_RANGE_DAYS", "31"), ("S3_LOGS_LAYOUT", "simple")])
            .unwrap();
        assert_eq!((c.max_range_days, c.slack_days), (31, 1));
        assert_eq!(c.layout, KeyLayout::Simple);
        let e = PeriodConfig::from_env(&[("LATE_DELIVERY_SLACK_DAYS", "30")]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "LATE_DELIVERY_SLACK_DAYS: must be a number from 0 to 7, got '30'"
        );
        let e = StatusConfig::from_env(&[("ATHENA_PRICE_PER_TB_USD", "five")]).unwrap_err();
        assert!(
            e.to_string().starts_with("ATHENA_PRICE_PER_TB_USD: "),
            "{e}"
        );
    }
}
