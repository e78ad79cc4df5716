//! S3 Logs Analyzer core library.
//!
//! Everything the pipeline's steps share lives here as plain logic over narrow
//! ports, so the Lambdas and the local `s3la` runtime run the same code:
//! the S3 server access log format and its Arrow schema ([`log_format`]),
//! the Athena table definition ([`athena_ddl`]) and input validation
//! ([`validate`]).

pub mod athena_ddl;
pub mod log_format;
#[cfg(feature = "loggen")]
pub mod loggen;
pub mod validate;
