//! Command-line definitions and dispatch; each command lives in its own module.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod ddl;
mod demo;
mod execute;
mod executions;
mod gen_logs;
mod invoke;
mod merge;
mod parse;
mod paths;
mod progress;
mod query;
mod request_flags;
mod run;
mod sign_link;
mod sql;
mod values;

#[derive(Debug, Parser)]
#[command(
    name = "s3la",
    version,
    about = "S3 Logs Analyzer: exact, cheap usage reports from S3 server access logs",
    long_about = "S3 Logs Analyzer: exact, cheap usage reports from S3 server access logs.\n\n\
        Try it without an AWS account:\n  \
        s3la gen-logs ./sample-logs --start 2024-01-01 --days 7 --lines-per-day 20000\n  \
        s3la run --logs ./sample-logs --results ./results --date_range 2024-01-01 2024-01-07\n  \
        s3la query \"SELECT operation, count(*) FROM logs GROUP BY 1\" --logs ./sample-logs\n\n\
        (or all at once: s3la demo)",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the state machine locally over a directory of logs (no AWS account needed).
    Run(run::RunArgs),
    /// Ad-hoc SQL over a directory of logs (the table `logs`).
    Query(query::QueryArgs),
    /// Try the product with no AWS account: generate sample logs and process them locally.
    Demo(demo::DemoArgs),
    /// Parse S3 server access logs into JSON lines, CSV or Parquet.
    Parse(parse::ParseArgs),
    /// Generate realistic synthetic logs in S3's date-partitioned layout.
    #[command(name = "gen-logs", alias = "gen_logs")]
    GenLogs(gen_logs::GenLogsArgs),
    /// Print the Athena DDL (database and table) for the logs.
    Ddl(ddl::DdlArgs),
    /// Print the Athena statement StartQuery would submit for a period.
    Sql(sql::SqlArgs),
    /// Run one step of the state machine alone, with its JSON input.
    Invoke(invoke::InvokeArgs),
    /// Merge any Athena UNLOAD output into one Parquet file and one csv.gz (S3 or local).
    Merge(merge::MergeArgs),
    /// Run a definition here with its Tasks invoking Lambda functions (deployed or a local endpoint).
    Execute(execute::ExecuteArgs),
    /// Start, list, show and redrive executions of the deployed state machine.
    Executions(executions::ExecutionsArgs),
    /// Sign a URL as SendReport signs CloudFront links (tests compare it with botocore).
    #[command(name = "sign-cloudfront-url", hide = true)]
    SignCloudFrontUrl(sign_link::SignArgs),
}

/// An error and its causes on one line, each said once. Errors that put
/// their source in their own message (`"part {part}: {source}"`) would
/// otherwise show it twice, or more when nested: a cause already in the
/// text is left out.
pub fn error_text(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let message = cause.to_string();
        if text.contains(message.as_str()) {
            continue;
        }
        if !text.is_empty() {
            text.push_str(": ");
        }
        text.push_str(&message);
    }
    text
}

pub fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Query(args) => query::run(args),
        Command::Demo(args) => demo::run(args),
        Command::Parse(args) => parse::run(args),
        Command::GenLogs(args) => gen_logs::run(args),
        Command::Ddl(args) => ddl::run(args),
        Command::Sql(args) => sql::run(args),
        Command::Invoke(args) => invoke::run(args),
        Command::Merge(args) => merge::run(args),
        Command::Execute(args) => execute::run(args),
        Command::Executions(args) => executions::run(args),
        Command::SignCloudFrontUrl(args) => sign_link::run(args),
    }
}

#[cfg(test)]
mod tests {
    use super::error_text;

    /// As thiserror writes `#[error("part {part}: {source}")]`.
    #[derive(Debug)]
    struct Part {
        part: &'static str,
        source: std::io::Error,
    }

    impl std::fmt::Display for Part {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            write!(f, "part {}: {}", self.part, self.source)
        }
    }

    impl std::error::Error for Part {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.source)
        }
    }

    #[test]
    fn a_cause_already_in_the_message_is_said_once() {
        let io = std::io::Error::other("Invalid Parquet file. Corrupt footer");
        let e = anyhow::Error::new(Part {
            part: "p1",
            source: io,
        })
        .context("merging");
        assert_eq!(
            error_text(&e),
            "merging: part p1: Invalid Parquet file. Corrupt footer"
        );
        let plain = anyhow::anyhow!("no such file").context("reading 'x'");
        assert_eq!(error_text(&plain), "reading 'x': no such file");
    }
}
