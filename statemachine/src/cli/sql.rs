//! `s3la sql`: the exact statement StartQuery would submit to Athena.

use std::process::ExitCode;

use clap::Args;
use s3la_shared::aws::athena;
use s3la_shared::config::{PeriodConfig, ProcessEnv, QueryConfig};
use s3la_shared::steps::compute_period::compute_period;
use s3la_shared::steps::start_query::plan_job;
use serde_json::{Map, Value, json};

use super::invoke::step_failed;
use super::request_flags::{PeriodFlags, QueryFlags};

#[derive(Debug, Args)]
#[command(
    after_help = "Settings come from the environment, as in the Lambdas:\n  \
    ATHENA_DATABASE, ATHENA_TABLE, RESULT_PATH (required); UNLOAD_COMPRESSION, S3_LOGS_LAYOUT,\n  \
    PROJECTION_START, LATE_DELIVERY_SLACK_DAYS, MAX_RANGE_DAYS, LOG_FORMAT, LOG_HIVE_PATHS,\n  \
    LOG_TABLE (projected: the table `s3la ddl` creates; glue: a Glue table you have;\n  \
    s3tables: the S3 Tables integration's table), ATHENA_CATALOG (optional).\n\n\
    Example:\n  \
    ATHENA_DATABASE=s3_access_logs_db ATHENA_TABLE=mybucket_logs RESULT_PATH=s3://my-results/s3la/ \\\n  \
    s3la sql --frequency weekly"
)]
pub struct SqlArgs {
    #[command(flatten)]
    period: PeriodFlags,
    #[command(flatten)]
    query: QueryFlags,
    /// The execution whose staging folder the UNLOAD writes to.
    #[arg(long, value_name = "NAME")]
    execution: Option<String>,
    /// Print only the SELECT, without the UNLOAD around it.
    #[arg(long)]
    select_only: bool,
}

pub fn run(a: SqlArgs) -> anyhow::Result<ExitCode> {
    let mut input = Map::new();
    a.period.write(&mut input);
    a.query.write(&mut input);
    let now = chrono::Utc::now();
    let mut step_input = json!({"input": Value::Object(input)});
    if let Some(name) = a.execution {
        step_input["execution"] = json!({"name": name, "startTime": now});
    }
    let period_config = PeriodConfig::from_env(&ProcessEnv)?;
    let query_config = QueryConfig::from_env(&ProcessEnv)?;
    let plan = compute_period(step_input, &period_config, now).map_err(step_failed)?;
    let job = plan_job(&plan, &query_config).map_err(step_failed)?;
    if a.select_only {
        let select =
            s3la_shared::query::athena_sql::select_from(&job.spec, &query_config.table_ref());
        println!("{select}");
    } else {
        println!("{}", athena::statement(&query_config, &job));
    }
    eprintln!(
        "-- period {} ({} to {}), partitions {} to {}",
        plan.period.label,
        plan.period.start,
        plan.period.end,
        plan.period.partitions.first,
        plan.period.partitions.last
    );
    Ok(ExitCode::SUCCESS)
}
