//! S3 Logs Analyzer's local runtime: the executor of the state-machine
//! definition ([`asl`]) and its Task resources resolved to the step handlers
//! ([`local`]). The `s3la` binary's commands live in `main.rs`'s tree.

pub mod asl;
pub mod embedded;
pub mod lambda_tasks;
pub mod local;

/// The state-machine definition, as deployed (before substitutions).
pub const DEFINITION: &str = include_str!("../definition/s3la.asl.json");
