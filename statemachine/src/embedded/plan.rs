//! The query model evaluated by DataFusion over the logs table: the same
//! columns and filters the Athena SQL renders, on the parser's typed columns
//! (where `-` is already null and quotes are already removed).

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::prelude::*;
use s3la_shared::log_format::fields::{AthenaType, FIELDS, Field, Quoting, Value};
use s3la_shared::query::{ColumnKind, Projection, QuerySpec, REPORT_COLUMNS};

use super::table::PARTITION_COLUMN;

/// Time of day in the log's bracketed format, for `selectAll`'s raw text.
const RAW_TIME_FORMAT: &str = "%d/%b/%Y:%H:%M:%S +0000";

fn timestamp(t: chrono::DateTime<chrono::Utc>) -> Expr {
    lit(ScalarValue::TimestampMillisecond(
        Some(t.timestamp_millis()),
        Some("UTC".into()),
    ))
}

/// `logs` filtered and projected as `spec` says.
pub fn query(logs: DataFrame, spec: &QuerySpec) -> Result<DataFrame> {
    let time = col("requestdatetime");
    let mut filter = time
        .clone()
        .gt_eq(timestamp(spec.window.start))
        .and(time.lt(timestamp(spec.window.end)));
    if spec.exclude_bucket_operations {
        filter = filter.and(col("key").is_not_null());
    }
    let logs = logs.filter(filter)?;
    match spec.projection {
        Projection::Report => logs.select(
            REPORT_COLUMNS
                .iter()
                .map(|c| report_expr(c.kind, c.source).alias(c.name))
                .collect::<Vec<_>>(),
        ),
        Projection::SelectAll => {
            let mut columns: Vec<Expr> = FIELDS.iter().map(raw_expr).collect();
            if spec.partitions.is_some() {
                columns.push(col(PARTITION_COLUMN));
            }
            logs.select(columns)
        }
    }
}

fn report_expr(kind: ColumnKind, source: &str) -> Expr {
    let c = col(source);
    match kind {
        ColumnKind::TopLevelPrefix => super::prefix::top_level_prefix_udf().call(vec![c]),
        _ => c,
    }
}

/// A column as Athena's RegexSerDe table holds it: text with `-` for
/// missing values and the quotes of quoted fields, except the columns that
/// table declares BIGINT (`-` reads as null there).
fn raw_expr(field: &Field) -> Expr {
    let name = field.athena_name;
    let c = col(name);
    if field.athena_type == AthenaType::Bigint {
        return c.alias(name);
    }
    let text = match (field.quoting, field.value) {
        (Quoting::Quoted, _) => {
            return when(c.clone().is_null(), lit("-"))
                .otherwise(concat(vec![lit("\""), c, lit("\"")]))
                .expect("a CASE with branches")
                .alias(name);
        }
        // The pattern's group holds the time without its brackets.
        (_, Value::Time) => to_char(c, lit(RAW_TIME_FORMAT)),
        (_, Value::Int32 | Value::Int64) => cast(c, DataType::Utf8),
        (_, Value::Text) => c,
    };
    coalesce(vec![text, lit("-")]).alias(name)
}
