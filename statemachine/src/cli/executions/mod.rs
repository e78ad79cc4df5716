//! `s3la executions`: start, list, show and redrive executions of the
//! deployed state machine (AWS Step Functions), found from the stack's
//! output unless named.

mod history;
mod naming;

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use aws_sdk_sfn::config::http::HttpResponse;
use aws_sdk_sfn::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sfn::operation::describe_execution::{DescribeExecutionError, DescribeExecutionOutput};
use aws_sdk_sfn::operation::redrive_execution::RedriveExecutionError;
use aws_sdk_sfn::operation::start_execution::StartExecutionError;
use aws_sdk_sfn::types::{ExecutionRedriveStatus, ExecutionStatus};
use chrono::{DateTime, SecondsFormat, Utc};
use clap::{Args, Subcommand};
use s3la::local::readable_cause;
use s3la_shared::aws::sdk_config;
use serde_json::{Value, json};

use super::invoke::{block_on, read_input, step_failed};
use super::request_flags::{INPUT_FLAGS, RequestFlags};
use history::{Event, Rows, StateRow, StateStatus, time};
use naming::{check_state_machine_arn, execution_arn, is_execution_arn};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    s3la executions start --frequency weekly\n  \
    s3la executions start --date_range 2024-01-01 2024-01-31 --select_all --email\n  \
    s3la executions list --status FAILED\n  \
    s3la executions show s3la-2024-W05\n  \
    s3la executions redrive s3la-2024-W05\n\n\
    The state machine is --state-machine ARN, else $S3LA_STATE_MACHINE_ARN, else the output\n\
    StateMachineArn of the CloudFormation stack --stack (default S3LogsAnalyzer).\n\
    AWS settings are the standard ones: AWS_PROFILE, AWS_REGION, credentials, AWS_ENDPOINT_URL.")]
pub struct ExecutionsArgs {
    #[command(subcommand)]
    command: ExecutionsCommand,
}

#[derive(Debug, Subcommand)]
enum ExecutionsCommand {
    /// Start an execution for a period, named after it so that a period runs once.
    Start(StartArgs),
    /// The latest executions, newest first: name, status, start and stop.
    List(ListArgs),
    /// An execution's status, input and output, then each state's, with a failed one's error and cause.
    Show(ShowArgs),
    /// Redrive a failed, aborted or timed-out execution from the state where it stopped.
    Redrive(RedriveArgs),
}

/// Which state machine.
#[derive(Debug, Clone, Args)]
struct Target {
    /// The state machine's ARN [default: the stack's output StateMachineArn].
    #[arg(
        long = "state-machine",
        env = "S3LA_STATE_MACHINE_ARN",
        value_name = "ARN"
    )]
    state_machine: Option<String>,
    /// The CloudFormation stack whose output StateMachineArn names the state machine.
    #[arg(long, default_value = "S3LogsAnalyzer", value_name = "NAME")]
    stack: String,
}

#[derive(Debug, Args)]
#[command(
    after_help = "The execution is named after the period as of now (s3la-2026-W47,\n\
    s3la-2026-10, s3la-2026-Q3, s3la-2026-10-01_2026-10-31), with a short hash of the options\n\
    when any is on, and the input carries that now so the execution computes the same period.\n\
    A period already started with the same options is refused; --force starts another."
)]
struct StartArgs {
    #[command(flatten)]
    request: RequestFlags,
    /// The whole execution input (JSON text, a file or - for stdin) instead of the flags above;
    /// checked as ComputePeriod checks it.
    #[arg(long, value_name = "JSON|FILE|-", conflicts_with_all = INPUT_FLAGS)]
    input: Option<String>,
    /// Start even if this period was started with these options (named NAME-r<unix time>).
    #[arg(long)]
    force: bool,
    /// Print the execution's name and input; start nothing.
    #[arg(long)]
    dry_run: bool,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, Args)]
struct ListArgs {
    /// Only executions with this status.
    #[arg(long, value_parser = ["RUNNING", "SUCCEEDED", "FAILED", "TIMED_OUT", "ABORTED", "PENDING_REDRIVE"])]
    status: Option<String>,
    /// At most this many executions.
    #[arg(long, default_value_t = 20, value_name = "N")]
    max: usize,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, Args)]
struct ShowArgs {
    /// The execution's ARN, or its name (of the state machine below).
    #[arg(value_name = "ARN|NAME")]
    execution: String,
    /// One JSON document: the execution and its states.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    target: Target,
}

#[derive(Debug, Args)]
struct RedriveArgs {
    /// The execution's ARN, or its name (of the state machine below).
    #[arg(value_name = "ARN|NAME")]
    execution: String,
    #[command(flatten)]
    target: Target,
}

pub fn run(a: ExecutionsArgs) -> anyhow::Result<ExitCode> {
    match a.command {
        ExecutionsCommand::Start(a) => start(a),
        ExecutionsCommand::List(a) => block_on(list(a))?,
        ExecutionsCommand::Show(a) => block_on(show(a))?,
        ExecutionsCommand::Redrive(a) => block_on(redrive(a))?,
    }
}

/// The clients, built once from the standard AWS settings.
struct Aws {
    sfn: aws_sdk_sfn::Client,
    cfn: aws_sdk_cloudformation::Client,
}

async fn connect() -> anyhow::Result<Aws> {
    let config = sdk_config().await;
    if config.region().is_none() {
        bail!(
            "no AWS region: set AWS_REGION (e.g. AWS_REGION=eu-west-1), or AWS_PROFILE to a \
             profile that has a region"
        );
    }
    Ok(Aws {
        sfn: aws_sdk_sfn::Client::new(&config),
        cfn: aws_sdk_cloudformation::Client::new(&config),
    })
}

fn region(aws: &Aws) -> String {
    aws.sfn
        .config()
        .region()
        .map(|r| r.to_string())
        .unwrap_or_default()
}

/// `--state-machine`, `$S3LA_STATE_MACHINE_ARN`, or the stack's output.
async fn state_machine(aws: &Aws, target: &Target) -> anyhow::Result<String> {
    if let Some(arn) = &target.state_machine {
        check_state_machine_arn(arn).context("--state-machine (or S3LA_STATE_MACHINE_ARN)")?;
        return Ok(arn.clone());
    }
    let stack = &target.stack;
    let out = match aws.cfn.describe_stacks().stack_name(stack).send().await {
        Ok(out) => out,
        // CloudFormation answers a missing stack with a ValidationError.
        Err(e) if e.code() == Some("ValidationError") => bail!(
            "no CloudFormation stack '{stack}' in {}: pass --state-machine ARN (or set \
             S3LA_STATE_MACHINE_ARN), or --stack NAME if the stack has another name ({})",
            region(aws),
            e.message().unwrap_or("stack not found")
        ),
        Err(e) => return Err(aws_error("DescribeStacks", e)),
    };
    let arn = out
        .stacks()
        .iter()
        .flat_map(|s| s.outputs())
        .find(|o| o.output_key() == Some("StateMachineArn"))
        .and_then(|o| o.output_value());
    let Some(arn) = arn else {
        bail!(
            "stack '{stack}' has no output StateMachineArn: pass --state-machine ARN (or set \
             S3LA_STATE_MACHINE_ARN)"
        );
    };
    check_state_machine_arn(arn)
        .with_context(|| format!("stack '{stack}' output StateMachineArn"))?;
    Ok(arn.to_string())
}

/// An execution given as ARN or name.
async fn execution(aws: &Aws, target: &Target, given: &str) -> anyhow::Result<String> {
    if is_execution_arn(given) {
        return Ok(given.to_string());
    }
    execution_arn(&state_machine(aws, target).await?, given)
}

/// An SDK error with what to do about it.
fn aws_error<E>(operation: &str, e: SdkError<E, HttpResponse>) -> anyhow::Error
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
{
    let hint = match &e {
        SdkError::ServiceError(_) => match e.code().unwrap_or_default() {
            "UnrecognizedClientException"
            | "InvalidSignatureException"
            | "InvalidClientTokenId"
            | "SignatureDoesNotMatch"
            | "ExpiredToken"
            | "ExpiredTokenException" => Some(CREDENTIALS_HINT.to_string()),
            "AccessDenied" | "AccessDeniedException" => Some(format!(
                "these credentials may not call {operation} on it: use a role or profile that \
                 may (AWS_PROFILE)"
            )),
            _ => None,
        },
        SdkError::DispatchFailure(d) if d.is_io() || d.is_timeout() => Some(
            "the endpoint could not be reached: check the network, AWS_REGION and any \
             AWS_ENDPOINT_URL"
                .to_string(),
        ),
        // An "other" failure before anything is sent is the signing step
        // finding no credentials to sign with.
        SdkError::DispatchFailure(d) if d.is_other() => Some(CREDENTIALS_HINT.to_string()),
        _ => None,
    };
    let error = anyhow!("{operation} failed: {}", sdk_message(&e));
    match hint {
        Some(hint) => error.context(hint),
        None => error,
    }
}

const CREDENTIALS_HINT: &str = "no usable AWS credentials (set AWS_PROFILE to a configured \
    profile, after `aws configure` or `aws sso login`, or AWS_ACCESS_KEY_ID and \
    AWS_SECRET_ACCESS_KEY; with AWS_REGION)";

/// The service's code and message, else the error and its sources, without
/// the SDK's debug dump of the response.
fn sdk_message<E>(e: &SdkError<E, HttpResponse>) -> String
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    if matches!(e, SdkError::ServiceError(_)) && (e.code().is_some() || e.message().is_some()) {
        return format!(
            "{}: {}",
            e.code().unwrap_or("error"),
            e.message().unwrap_or("no message")
        );
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    if let Some(response) = e.raw_response() {
        text.push_str(&format!(" (HTTP {})", response.status().as_u16()));
    }
    text
}

fn instant(t: Option<DateTime<Utc>>) -> String {
    t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true))
        .unwrap_or_else(|| "-".into())
}

// ---------------------------------------------------------------- start

fn start(a: StartArgs) -> anyhow::Result<ExitCode> {
    let input = match &a.input {
        Some(i) => read_input(i)?,
        None => a.request.input(),
    };
    let clock = Utc::now();
    let force = a.force.then(|| clock.timestamp());
    let plan = naming::plan(input, clock, force).map_err(step_failed)?;
    let input_text = serde_json::to_string(&plan.input)?;
    if a.dry_run {
        println!(
            "{}",
            serde_json::to_string_pretty(&json!({"name": plan.name, "input": plan.input}))?
        );
        return Ok(ExitCode::SUCCESS);
    }
    block_on(async {
        let aws = connect().await?;
        let machine = state_machine(&aws, &a.target).await?;
        let arn = execution_arn(&machine, &plan.name)?;
        // Step Functions answers a start with the name and input of a running
        // execution by returning that execution: ask first, so a repeat is
        // refused whatever its state.
        match aws
            .sfn
            .describe_execution()
            .execution_arn(&arn)
            .send()
            .await
        {
            Ok(existing) => return Err(already_started(&plan.name, &arn, Some(&existing))),
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(DescribeExecutionError::ExecutionDoesNotExist(_))
                ) => {}
            Err(e) => return Err(aws_error("DescribeExecution", e)),
        }
        let started = aws
            .sfn
            .start_execution()
            .state_machine_arn(&machine)
            .name(&plan.name)
            .input(&input_text)
            .send()
            .await;
        let started = match started {
            Ok(s) => s,
            Err(e)
                if matches!(
                    e.as_service_error(),
                    Some(StartExecutionError::ExecutionAlreadyExists(_))
                ) =>
            {
                return Err(already_started(&plan.name, &arn, None));
            }
            Err(e) => return Err(aws_error("StartExecution", e)),
        };
        eprintln!(
            "Started {} for {} ({} to {}, as of {}) at {}",
            plan.name,
            plan.period.label,
            plan.period.start,
            plan.period.end,
            plan.as_of.to_rfc3339_opts(SecondsFormat::Secs, true),
            instant(time(started.start_date()))
        );
        eprintln!("Follow it with: s3la executions show {}", plan.name);
        println!("{}", started.execution_arn());
        Ok(ExitCode::SUCCESS)
    })?
}

fn already_started(
    name: &str,
    arn: &str,
    existing: Option<&DescribeExecutionOutput>,
) -> anyhow::Error {
    let state = existing
        .map(|e| {
            format!(
                " ({}, started {})",
                e.status().as_str(),
                instant(time(e.start_date()))
            )
        })
        .unwrap_or_default();
    anyhow!(
        "execution {name} already exists{state}: {arn}\n\
         This period was already started with these options; `s3la executions show {name}` \
         shows it, and --force starts another (named {name}-r<unix time>)."
    )
}

// ---------------------------------------------------------------- list

/// Executions asked for at a time (Step Functions allows up to 1000).
const PAGE: usize = 100;

async fn list(a: ListArgs) -> anyhow::Result<ExitCode> {
    let aws = connect().await?;
    let machine = state_machine(&aws, &a.target).await?;
    let mut pages = aws
        .sfn
        .list_executions()
        .state_machine_arn(&machine)
        .set_status_filter(a.status.as_deref().map(ExecutionStatus::from))
        .max_results(a.max.clamp(1, PAGE) as i32)
        .into_paginator()
        .items()
        .send();
    let mut out = std::io::stdout().lock();
    let mut shown = 0;
    while shown < a.max {
        let Some(item) = pages.next().await else {
            break;
        };
        let item = item.map_err(|e| aws_error("ListExecutions", e))?;
        if shown == 0 {
            writeln!(
                out,
                "{:<44} {:<15} {:<20} {:<20}",
                "NAME", "STATUS", "STARTED", "STOPPED"
            )?;
        }
        writeln!(
            out,
            "{:<44} {:<15} {:<20} {:<20}",
            item.name(),
            item.status().as_str(),
            instant(time(item.start_date())),
            instant(item.stop_date().and_then(time))
        )?;
        shown += 1;
    }
    if shown == 0 {
        eprintln!(
            "No {}executions of {machine}",
            a.status.map(|s| s + " ").unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------- show

async fn show(a: ShowArgs) -> anyhow::Result<ExitCode> {
    let aws = connect().await?;
    let arn = execution(&aws, &a.target, &a.execution).await?;
    let described = describe(&aws, &arn).await?;
    let mut rows = Rows::default();
    let mut events = aws
        .sfn
        .get_execution_history()
        .execution_arn(&arn)
        .max_results(1000)
        .into_paginator()
        .items()
        .send();
    while let Some(event) = events.next().await {
        let event = event.map_err(|e| aws_error("GetExecutionHistory", e))?;
        rows.push(&Event::from(&event));
    }
    let mut out = std::io::stdout().lock();
    if a.json {
        let doc = json!({"execution": execution_json(&described), "states": rows.rows});
        writeln!(out, "{}", serde_json::to_string_pretty(&doc)?)?;
    } else {
        write_execution(&mut out, &described)?;
        write_states(&mut out, &rows.rows)?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn describe(aws: &Aws, arn: &str) -> anyhow::Result<DescribeExecutionOutput> {
    match aws.sfn.describe_execution().execution_arn(arn).send().await {
        Ok(d) => Ok(d),
        Err(e)
            if matches!(
                e.as_service_error(),
                Some(DescribeExecutionError::ExecutionDoesNotExist(_))
            ) =>
        {
            Err(anyhow!(
                "no execution {arn}: `s3la executions list` shows the state machine's executions"
            ))
        }
        Err(e) => Err(aws_error("DescribeExecution", e)),
    }
}

/// JSON text as a value, other text as a string.
fn parsed(text: Option<&str>) -> Value {
    match text {
        None => Value::Null,
        Some(t) => serde_json::from_str(t).unwrap_or_else(|_| json!(t)),
    }
}

fn execution_json(d: &DescribeExecutionOutput) -> Value {
    json!({
        "name": d.name(),
        "executionArn": d.execution_arn(),
        "stateMachineArn": d.state_machine_arn(),
        "status": d.status().as_str(),
        "startDate": time(d.start_date()),
        "stopDate": d.stop_date().and_then(time),
        "input": parsed(d.input()),
        "output": parsed(d.output()),
        "error": d.error(),
        "cause": d.cause(),
        "redriveStatus": d.redrive_status().map(|s| s.as_str()),
        "redriveStatusReason": d.redrive_status_reason(),
        "redriveCount": d.redrive_count(),
    })
}

fn write_execution(out: &mut impl Write, d: &DescribeExecutionOutput) -> std::io::Result<()> {
    writeln!(out, "Execution  {}", d.name().unwrap_or("-"))?;
    writeln!(out, "ARN        {}", d.execution_arn())?;
    writeln!(out, "Status     {}", d.status().as_str())?;
    writeln!(out, "Started    {}", instant(time(d.start_date())))?;
    writeln!(out, "Stopped    {}", instant(d.stop_date().and_then(time)))?;
    if let Some(error) = d.error() {
        writeln!(out, "Error      {error}")?;
    }
    if let Some(cause) = d.cause() {
        writeln!(out, "Cause      {}", readable_cause(cause))?;
    }
    if let Some(status) = d.redrive_status() {
        let reason = d
            .redrive_status_reason()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default();
        writeln!(out, "Redrive    {}{reason}", status.as_str())?;
    }
    write_json(out, "Input     ", d.input())?;
    write_json(out, "Output    ", d.output())?;
    Ok(())
}

/// The states as the console's step details list them.
fn write_states(out: &mut impl Write, rows: &[StateRow]) -> std::io::Result<()> {
    writeln!(out, "\nStates ({}):", rows.len())?;
    for (i, r) in rows.iter().enumerate() {
        let attempts = if r.attempts > 1 {
            format!(", {} attempts", r.attempts)
        } else {
            String::new()
        };
        writeln!(
            out,
            "\n{:>3}. {} ({}) {}{attempts}   {} .. {}",
            i + 1,
            r.name,
            r.kind,
            r.status.as_str(),
            instant(r.entered),
            instant(r.exited)
        )?;
        if r.status == StateStatus::Failed || r.error.is_some() {
            let label = if r.status == StateStatus::Failed {
                ""
            } else {
                "last retried "
            };
            if let Some(error) = &r.error {
                writeln!(out, "     {label}error:  {error}")?;
            }
            if let Some(cause) = &r.cause {
                writeln!(out, "     {label}cause:  {}", readable_cause(cause))?;
            }
        }
        write_json(out, "     input: ", r.input.as_deref())?;
        write_json(out, "     output:", r.output.as_deref())?;
    }
    Ok(())
}

/// A label, then JSON pretty-printed and indented under it (or `-`).
fn write_json(out: &mut impl Write, label: &str, text: Option<&str>) -> std::io::Result<()> {
    let Some(text) = text else {
        return writeln!(out, "{label} -");
    };
    let pretty = serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_string());
    let indent = " ".repeat(label.len() + 1);
    let mut lines = pretty.lines();
    writeln!(out, "{label} {}", lines.next().unwrap_or(""))?;
    for line in lines {
        writeln!(out, "{indent}{line}")?;
    }
    Ok(())
}

// ---------------------------------------------------------------- redrive

async fn redrive(a: RedriveArgs) -> anyhow::Result<ExitCode> {
    let aws = connect().await?;
    let arn = execution(&aws, &a.target, &a.execution).await?;
    let d = describe(&aws, &arn).await?;
    let name = d.name().unwrap_or(&a.execution).to_string();
    // Refused here with the reason Step Functions gives, before asking it to.
    let redrivable = matches!(
        d.status(),
        ExecutionStatus::Failed | ExecutionStatus::Aborted | ExecutionStatus::TimedOut
    );
    if !redrivable || d.redrive_status() == Some(&ExecutionRedriveStatus::NotRedrivable) {
        let reason = d
            .redrive_status_reason()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        bail!(
            "execution {name} is {} and cannot be redriven{reason}. Only a FAILED, ABORTED or \
             TIMED_OUT standard execution can, within 14 days of its end; to run the period \
             again, `s3la executions start ... --force`",
            d.status().as_str()
        );
    }
    match aws.sfn.redrive_execution().execution_arn(&arn).send().await {
        Ok(r) => {
            eprintln!(
                "Redriven {name} at {}: it goes on from the state that stopped it",
                instant(time(r.redrive_date()))
            );
            eprintln!("Follow it with: s3la executions show {name}");
            println!("{arn}");
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => match e.as_service_error() {
            Some(RedriveExecutionError::ExecutionNotRedrivable(n)) => Err(anyhow!(
                "execution {name} cannot be redriven: {}. To run the period again, `s3la \
                 executions start ... --force`",
                n.message().unwrap_or("Step Functions refused")
            )),
            _ => Err(aws_error("RedriveExecution", e)),
        },
    }
}
