//! SendReport: the period's report by email, HTML with a plain-text
//! alternative, with a link to the csv.gz.
//!
//! The link: a presigned URL lives no longer than the credentials that
//! signed it. A Lambda role's credentials last hours, so a "7-day" link
//! would die that day; the link is signed for as long as the credentials
//! still live (at most 7 days) and the email states when it stops working,
//! beside the `s3://` locations that always work for people with access.
//! Temporary credentials whose expiry is unknown (Lambda's) sign for an hour.
//! For week-long links the deployed stack can sign CloudFront URLs instead
//! ([`crate::links`]); the email says which kind of link it has.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::compute_period::ExecutionContext;
use super::merge_results::MergeOutput;
use super::query_status::QueryStatusOutput;
use crate::email::{EmailConfig, MailTransport, compose};
use crate::error::StepError;
use crate::links::{CLOUDFRONT_LINK_LIFETIME, SignLink};
use crate::location::Location;
use crate::period::Period;
use crate::report::{Downloads, Link, LinkKind, REPORT_JSON, Report, html, text, title};
use crate::results::output_set::{Incomplete, OutputSet};
use crate::storage::ObjectStore;

/// SigV4's longest presigned lifetime.
pub const MAX_LINK_LIFETIME: Duration = Duration::from_secs(7 * 24 * 3600);

/// The step's input, as [`super::catalog::Step::run`] reads it from JSON.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Input {
    execution: ExecutionContext,
    period: Period,
    results: MergeOutput,
    #[allow(
        dead_code,
        reason = "accepted in the state the definition passes; the report does not read it"
    )]
    status: Option<QueryStatusOutput>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendReportOutput {
    pub sent: bool,
    /// `ses`, `smtp` or `outbox`.
    pub transport: String,
    pub subject: String,
    pub recipients: usize,
    /// One per message (batches of at most 50 recipients): the service's
    /// message ids, or the `.eml` files written to the outbox.
    pub message_ids: Vec<String>,
    /// When the link to the csv.gz stops working (null: never, a local file).
    pub link_expires: Option<chrono::DateTime<chrono::Utc>>,
    /// `presignedS3`, `cloudFront` or `localFile`: what the link is.
    pub link_kind: LinkKind,
}

pub async fn send_report<S: ObjectStore, T: MailTransport>(
    input: Input,
    config: &EmailConfig,
    store: &S,
    transport: &T,
    links: Option<&dyn SignLink>,
) -> Result<SendReportOutput, StepError> {
    super::check_execution_name(&input.execution.name)?;
    input.period.check()?;
    let outputs = &input.results.outputs;
    let report_uri = outputs.report_json.as_deref().ok_or_else(|| {
        StepError::invalid(
            "results.outputs.reportJson",
            "is missing: MergeResults writes report.json beside the results; re-run MergeResults",
        )
    })?;
    let report_at = Location::parse_field(report_uri, "results.outputs.reportJson")?;
    let csv_at = Location::parse_field(&outputs.csv_gz, "results.outputs.csvGz")?;
    // Only a whole set is reported: a report beside outputs another run is
    // replacing would link to rows it does not describe.
    let set = OutputSet::read(store, &report_at.parent_folder())
        .await
        .map_err(|e| match e {
            Incomplete::Storage(e) => e.into(),
            Incomplete::Invalid(m) => StepError::invalid("results.outputs", m),
        })?;
    if set.execution != input.execution.name {
        return Err(StepError::invalid(
            "results.outputs",
            format!(
                "the period's outputs were written by execution {}, not by this one ({}): \
                 another run of {} replaced them; the report of that run is its own to send",
                set.execution, input.execution.name, input.period.label
            ),
        ));
    }
    let bytes = store.get(&report_at).await?;
    set.check_bytes(REPORT_JSON, &bytes)
        .map_err(|e| StepError::invalid("results.outputs.reportJson", e.to_string()))?;
    let report: Report = serde_json::from_slice(&bytes).map_err(|e| {
        StepError::invalid(
            "results.outputs.reportJson",
            format!("{report_uri} is not a report this version reads: {e}"),
        )
    })?;
    if report.period.label != input.period.label {
        return Err(StepError::invalid(
            "results.outputs.reportJson",
            format!(
                "{report_uri} is the report of {}, not of {}",
                report.period.label, input.period.label
            ),
        ));
    }
    let signed = match links {
        Some(signer) => signer.sign(&csv_at, CLOUDFRONT_LINK_LIFETIME)?,
        None => store.presign_get(&csv_at, MAX_LINK_LIFETIME).await?,
    };
    let link = Link {
        url: signed.url,
        expires: signed.expires.map(chrono::DateTime::<chrono::Utc>::from),
        kind: signed.kind,
    };
    let (link_expires, link_kind) = (link.expires, link.kind);
    let downloads = Downloads {
        parquet: &outputs.parquet,
        csv_gz: &outputs.csv_gz,
        link: Some(link),
    };
    let subject = title(&report);
    let messages = compose(
        config,
        &subject,
        &text::render(&report, &downloads),
        &html::render(&report, &downloads),
        &format!("{}-{}", input.period.label, input.execution.name),
    )?;
    let mut message_ids = Vec::with_capacity(messages.len());
    for m in &messages {
        message_ids.push(transport.send(m).await?);
    }
    Ok(SendReportOutput {
        sent: true,
        transport: transport.kind().to_string(),
        subject,
        recipients: config.to.len(),
        message_ids,
        link_expires,
        link_kind,
    })
}
