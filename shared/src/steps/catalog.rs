//! The steps, described once: each step's name (the definition's
//! `${<Name>FunctionArn}` and the CDK's key), its Lambda binary, what it does
//! in a line, the settings it reads and the clients it uses; and, in
//! [`Step::run`], its handler. The Lambda mains, the local executor,
//! `s3la invoke` and (through a test) the CDK's list of functions all come
//! from here.
//!
//! A host supplies the clients through [`Clients`]: S3, Athena and SES on AWS
//! ([`super::on_aws::AwsClients`]), a folder, the embedded engine and the outbox
//! locally.

use chrono::Utc;
use serde_json::Value;

use super::compute_period::compute_period;
use super::merge_results::merge_results;
use super::merge_shards::{assemble_results, merge_shard};
use super::query_status::query_status;
use super::remove_meta::remove_meta;
use super::remove_original_logs::remove_original_logs;
use super::send_report::send_report;
use super::start_query::start_query;
use super::{from_input, to_output};
use crate::config::{CleanupConfig, Env, MergeConfig, PeriodConfig, QueryConfig, StatusConfig};
use crate::email::{EmailConfig, MailTransport};
use crate::engine::QueryEngine;
use crate::error::StepError;
use crate::links::SignLink;
use crate::storage::ObjectStore;
use serde::Serialize;

/// A step of the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    ComputePeriod,
    StartQuery,
    QueryStatus,
    MergeResults,
    MergeShard,
    AssembleResults,
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
pub const CATALOG: [Description; 9] = [
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
        step: Step::MergeShard,
        name: "MergeShard",
        binary: "merge-shard",
        summary: "{plan, shard} -> one shard of a sharded MergeResults: its Parquet file, \
                  csv.gz and tally beside the plan",
        reads: Reads::Merge,
        uses: &[Port::Store],
    },
    Description {
        step: Step::AssembleResults,
        name: "AssembleResults",
        binary: "assemble-results",
        summary: "MergeResults' input and its sharded answer -> the outputs assembled from the \
                  shards by server-side copies, and the report",
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

    /// The step's handler, on `input` with the host's settings and clients.
    /// The input is read into the handler's own `Input` type here, once for
    /// every step (a refusal is `InvalidInput` naming the field): handlers
    /// take typed inputs. ComputePeriod reads its own, to add what it takes
    /// to the message.
    pub async fn run<C: Clients>(
        self,
        input: Value,
        settings: &Settings,
        clients: &C,
    ) -> Result<Value, StepError> {
        let (s, c) = (settings, clients);
        match self {
            Step::ComputePeriod => out(compute_period(input, need(&s.period)?, Utc::now())),
            Step::StartQuery => {
                out(start_query(from_input(input)?, need(&s.query)?, c.engine()?).await)
            }
            Step::QueryStatus => {
                out(query_status(from_input(input)?, need(&s.status)?, c.engine()?).await)
            }
            Step::MergeResults => {
                out(merge_results(from_input(input)?, need(&s.merge)?, c.store()?).await)
            }
            Step::MergeShard => {
                out(merge_shard(from_input(input)?, need(&s.merge)?, c.store()?).await)
            }
            Step::AssembleResults => {
                out(assemble_results(from_input(input)?, need(&s.merge)?, c.store()?).await)
            }
            Step::RemoveMeta => {
                out(remove_meta(from_input(input)?, need(&s.cleanup)?, c.store()?).await)
            }
            Step::RemoveOriginalLogs => {
                out(remove_original_logs(from_input(input)?, need(&s.cleanup)?, c.store()?).await)
            }
            Step::SendReport => {
                let mail = c.mail()?;
                out(send_report(
                    from_input(input)?,
                    need(&s.email)?,
                    c.store()?,
                    mail,
                    c.links(),
                )
                .await)
            }
        }
    }
}

fn out<T: Serialize>(result: Result<T, StepError>) -> Result<Value, StepError> {
    result.map(|o| to_output(&o))
}

/// The clients a host supplies to the steps. A host need only build those
/// its steps use ([`Description::uses`]); asked for another, it answers
/// with [`not_supplied`].
pub trait Clients {
    type Store: ObjectStore;
    type Engine: QueryEngine;
    type Mail: MailTransport;
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

/// A setting the host read for this step.
fn need<T>(slot: &Option<T>) -> Result<&T, StepError> {
    let what = std::any::type_name::<T>();
    slot.as_ref()
        .ok_or_else(|| not_supplied(what.rsplit("::").next().unwrap_or(what)))
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
        assert_eq!(STEP_NAMES[8], "SendReport");
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
        assert_eq!(s.period.unwrap().slack_days, 2);
        let missing = need(&s.query).unwrap_err();
        assert_eq!(missing.name(), "ConfigError");
    }
}
