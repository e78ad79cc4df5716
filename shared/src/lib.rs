//! S3 Logs Analyzer core library.
//!
//! Everything the pipeline's steps share lives here as plain logic over narrow
//! ports, so the Lambdas and the local `s3la` runtime run the same code:
//! the S3 server access log format and its Arrow schema ([`log_format`]),
//! the Athena table definition ([`athena_ddl`]), input validation
//! ([`validate`]), settings ([`config`]), the execution input
//! ([`request`]), periods ([`period`]), the query model ([`query`]), the
//! query-engine port ([`engine`]), the steps ([`steps`]) and their errors
//! ([`error`]). AWS adapters live in [`aws`] (feature `aws`).

pub mod athena_ddl;
#[cfg(feature = "aws")]
pub mod aws;
pub mod config;
pub mod engine;
pub mod error;
pub mod location;
pub mod log_format;
#[cfg(feature = "loggen")]
pub mod loggen;
pub mod period;
pub mod query;
pub mod request;
pub mod results;
pub mod steps;
pub mod validate;
