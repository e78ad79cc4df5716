//! S3 Logs Analyzer's local runtime: the executor of the state-machine
//! definition ([`asl`]), its Task resources resolved to the step handlers in
//! process ([`local`]) or to Lambda functions invoked through Lambda's API
//! ([`lambda_tasks`]), and the embedded query engine ([`embedded`]). The `s3la` binary's commands live in `main.rs`'s tree.

pub mod asl;
pub mod embedded;
pub mod geoip;
pub mod lambda_tasks;
pub mod local;

/// The state-machine definition, as deployed (before substitutions).
pub const DEFINITION: &str = include_str!("../definition/s3la.asl.json");
