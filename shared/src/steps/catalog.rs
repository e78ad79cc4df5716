//! The steps, described once: each step's name (the definition's
//! `${<Name>FunctionArn}` and the CDK's key), its Lambda binary, what it does
//! in a line, the settings it reads and the clients it uses; and, in
//! [`Step::run`], its handler. The Lambda mains, the local executor,
//! `s3la invoke` and (through a test) the CDK's list of functions all come
//! from here.
//!
//! A host supplies the clients through [`Host`]: S3, Athena and SES on AWS
//! ([`super::on_aws::AwsHost`]), a folder, the embedded engine and the outbox
//! locally.

use chrono::Utc;
use serde_json::Value;

use super::{
    compute_period, merge_results, query_status, remove_meta, remove_original_logs, send_report,
    start_query, to_output,
};
use crate::config::{CleanupConfig, Env, MergeConfig, PeriodConfig, QueryConfig, StatusConfig};
use crate::email::{EmailConfig, MailTransport};
use crate::engine::QueryEngine;
use crate::error::StepError;
use crate::links::SignLink;
use crate::storage::ObjectStore;

/// A step of the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    ComputePeriod,
    StartQuery,
    QueryStatus,
    MergeResults,
    RemoveMeta,
    RemoveOriginalLogs,
    SendReport,
}

/// The settings a step reads: each kind is one config type, read from the
/// environment on AWS and built for the folders locally.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reads {
    Period,
    Query,
    Status,
    Merge,
    Cleanup,
    Email,
}

/// A client a step uses, which its host builds once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Port {
    /// The object store (S3, or a folder).
    Store,
    /// The query engine (Athena, or the embedded one).
    Engine,
    /// The mail transport (SES v2 or the outbox, SMTP when `SMTP_HOST` is set).
    Mail,
    /// The CloudFront link signer, when `LINK_*` are set.
    Links,
}

/// One step's row.
pub struct Description {
    pub step: Step,
    /// PascalCase, as the definition's `${<Name>FunctionArn}` and the CDK name it.
    pub name: &'static str,
    /// Its Lambda binary (`lambdas/Cargo.toml` `[[bin]]`), also accepted by `s3la invoke`.
    pub binary: &'static str,
    /// Input -> output in a line, for `s3la invoke --help`.
    pub summary: &'static str,
    pub reads: Reads,
    pub uses: &'static [Port],
}

/// The steps in the order an execution runs them.
pub const CATALOG: [Description; 7] = [
    Description {
        step: Step::ComputePeriod,
        name: "ComputePeriod",
        binary: "compute-period",
        summary: "Execution input -> period, options and execution (no AWS calls)",
        reads: Reads::Period,
        uses: &[],
    },
    Description {
        step: Step::StartQuery,
        name: "StartQuery",
        binary: "start-query",
        summary: "ComputePeriod's output -> the Athena UNLOAD query, started once",
        reads: Reads::Query,
        uses: &[Port::Engine],
    },
    Description {
        step: Step::QueryStatus,
        name: "QueryStatus",
        binary: "query-status",
        summary: "{\"queryExecutionId\": ...} -> the query's state, data scanned and cost",
        reads: Reads::Status,
        uses: &[Port::Engine],
    },
    Description {
        step: Step::MergeResults,
        name: "MergeResults",
        binary: "merge-results",
        summary: "The state after QueryStatus -> one Parquet and one csv.gz under \
                  RESULT_PATH/<period>/",
        reads: Reads::Merge,
        uses: &[Port::Store],
    },
    Description {
        step: Step::RemoveMeta,
        name: "RemoveMeta",
        binary: "remove-meta",
        summary: "{query, status, results} -> this query's staging data and Athena metadata \
                  deleted",
        reads: Reads::Cleanup,
        uses: &[Port::Store],
    },
    Description {
        step: Step::RemoveOriginalLogs,
        name: "RemoveOriginalLogs",
        binary: "remove-original-logs",
        summary: "{period, results, query} -> the period's own log objects deleted, after the \
                  outputs check",
        reads: Reads::Cleanup,
        uses: &[Port::Store],
    },
    Description {
        step: Step::SendReport,
        name: "SendReport",
        binary: "send-report",
        summary: "{execution, period, results, status} -> the report emailed (SES v2, SMTP or \
                  the outbox)",
        reads: Reads::Email,
        uses: &[Port::Store, Port::Mail, Port::Links],
    },
];

/// The steps' names, in [`CATALOG`]'s order.
pub const STEP_NAMES: [&str; CATALOG.len()] = {
    let mut names = [""; CATALOG.len()];
    let mut i = 0;
    while i < names.len() {
        names[i] = CATALOG[i].name;
        i += 1;
    }
    names
};

impl Step {
    /// Every step, in [`CATALOG`]'s order.
    pub const ALL: [Step; CATALOG.len()] = {
        let mut steps = [Step::ComputePeriod; CATALOG.len()];
        let mut i = 0;
        while i < steps.len() {
            steps[i] = CATALOG[i].step;
            i += 1;
        }
        steps
    };

    pub const fn describe(self) -> &'static Description {
        // CATALOG lists the steps in declaration order (checked by a test).
        &CATALOG[self as usize]
    }

    pub const fn name(self) -> &'static str {
        self.describe().name
    }

    pub const fn binary(self) -> &'static str {
        self.describe().binary
    }

    /// The step `name` (PascalCase) names.
    pub fn named(name: &str) -> Option<Step> {
        CATALOG.iter().find(|d| d.name == name).map(|d| d.step)
    }

    pub fn uses(self, port: Port) -> bool {
        self.describe().uses.contains(&port)
    }

    /// The step's handler, on `input` with the settings and clients `host`
    /// supplies.
    pub async fn run<H: Host>(self, input: Value, host: &H) -> Result<Value, StepError> {
        let settings = host.settings();
        match self {
            Step::ComputePeriod => {
                compute_period::compute_period(input, settings.period()?, Utc::now())
                    .map(|o| to_output(&o))
            }
            Step::StartQuery => start_query::start_query(input, settings.query()?, host.engine()?)
                .await
                .map(|o| to_output(&o)),
            Step::QueryStatus => {
                query_status::query_status(input, settings.status()?, host.engine()?)
                    .await
                    .map(|o| to_output(&o))
            }
            Step::MergeResults => {
                merge_results::merge_results(input, settings.merge()?, host.store()?)
                    .await
                    .map(|o| to_output(&o))
            }
            Step::RemoveMeta => remove_meta::remove_meta(input, settings.cleanup()?, host.store()?)
                .await
                .map(|o| to_output(&o)),
            Step::RemoveOriginalLogs => remove_original_logs::remove_original_logs(
                input,
                settings.cleanup()?,
                host.store()?,
            )
            .await
            .map(|o| to_output(&o)),
            Step::SendReport => send_report::send_report(
                input,
                settings.email()?,
                host.store()?,
                host.mail()?,
                host.links(),
            )
            .await
            .map(|o| to_output(&o)),
        }
    }
}

/// What runs the steps supplies: their settings and clients. A host need
/// only supply what its steps read and use ([`Description::reads`],
/// [`Description::uses`]); asked for anything else, it answers with
/// [`not_supplied`].
pub trait Host {
    type Store: ObjectStore;
    type Engine: QueryEngine;
    type Mail: MailTransport;
    fn settings(&self) -> &Settings;
    fn store(&self) -> Result<&Self::Store, StepError>;
    fn engine(&self) -> Result<&Self::Engine, StepError>;
    fn mail(&self) -> Result<&Self::Mail, StepError>;
    /// The link signer, when links are signed (else the store presigns).
    fn links(&self) -> Option<&dyn SignLink>;
}

/// A setting or client the host did not build: a mistake in [`CATALOG`],
/// never the user's.
pub fn not_supplied(what: &str) -> StepError {
    StepError::config(
        what,
        "was not set up for this step: its row in the step catalog misses it",
    )
}

fn supplied<'a, T>(slot: &'a Option<T>, what: &str) -> Result<&'a T, StepError> {
    slot.as_ref().ok_or_else(|| not_supplied(what))
}

/// The settings the steps read, each present when a step the host runs
/// reads it: a Lambda reads only its own step's ([`Settings::from_env`]),
/// `s3la run` has all of them.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub period: Option<PeriodConfig>,
    pub query: Option<QueryConfig>,
    pub status: Option<StatusConfig>,
    pub merge: Option<MergeConfig>,
    pub cleanup: Option<CleanupConfig>,
    pub email: Option<EmailConfig>,
}

impl Settings {
    /// What `step` reads, from the environment, as its Lambda does at start.
    pub fn from_env(step: Step, env: &dyn Env) -> Result<Self, StepError> {
        let mut s = Settings::default();
        match step.describe().reads {
            Reads::Period => s.period = Some(PeriodConfig::from_env(env)?),
            Reads::Query => s.query = Some(QueryConfig::from_env(env)?),
            Reads::Status => s.status = Some(StatusConfig::from_env(env)?),
            Reads::Merge => s.merge = Some(MergeConfig::from_env(env)?),
            Reads::Cleanup => s.cleanup = Some(CleanupConfig::from_env(env)?),
            Reads::Email => s.email = Some(EmailConfig::from_env(env)?),
        }
        Ok(s)
    }

    pub fn period(&self) -> Result<&PeriodConfig, StepError> {
        supplied(&self.period, "the period settings")
    }
    pub fn query(&self) -> Result<&QueryConfig, StepError> {
        supplied(&self.query, "the query settings")
    }
    pub fn status(&self) -> Result<&StatusConfig, StepError> {
        supplied(&self.status, "the status settings")
    }
    pub fn merge(&self) -> Result<&MergeConfig, StepError> {
        supplied(&self.merge, "the merge settings")
    }
    pub fn cleanup(&self) -> Result<&CleanupConfig, StepError> {
        supplied(&self.cleanup, "the cleanup settings")
    }
    pub fn email(&self) -> Result<&EmailConfig, StepError> {
        supplied(&self.email, "the email settings")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_catalog_lists_each_step_once_in_declaration_order() {
        for (i, d) in CATALOG.iter().enumerate() {
            assert_eq!(d.step as usize, i, "{} is out of place", d.name);
            assert_eq!(Step::named(d.name), Some(d.step));
            assert_eq!(Step::named(d.binary), None);
        }
        assert_eq!(STEP_NAMES[6], "SendReport");
        assert_eq!(Step::named("Nope"), None);
    }

    #[test]
    fn binaries_are_the_names_in_kebab_case() {
        for d in &CATALOG {
            let mut kebab = String::new();
            for (i, c) in d.name.char_indices() {
                if c.is_ascii_uppercase() && i > 0 {
                    kebab.push('-');
                }
                kebab.push(c.to_ascii_lowercase());
            }
            assert_eq!(d.binary, kebab);
        }
    }

    #[test]
    fn a_lambda_reads_only_its_own_steps_settings() {
        let env = [("LATE_DELIVERY_SLACK_DAYS", "2")];
        let s = Settings::from_env(Step::ComputePeriod, &env).unwrap();
        assert_eq!(s.period().unwrap().slack_days, 2);
        let missing = s.query().unwrap_err();
        assert_eq!(missing.name(), "ConfigError");
    }
}
