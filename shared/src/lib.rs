//! S3 Logs Analyzer core library.
//!
//! Everything the pipeline's steps share lives here as plain logic over narrow
//! ports, so the Lambdas and the local `s3la` runtime run the same code:
//! the S3 server access log format and its Arrow schema ([`log_format`]),
//! the Athena table definition ([`athena_ddl`]), input validation
//! ([`validate`]), settings ([`config`]), the execution input
//! ([`request`]), periods ([`period`]), the query model ([`query`]), the
//! query-engine port ([`engine`]), the object-storage port ([`storage`]), the steps ([`steps`]) and their errors
//! ([`error`]). AWS adapters live in [`aws`] (feature `aws`).

pub mod athena_ddl;
#[cfg(feature = "aws")]
pub mod aws;
pub mod config;
pub mod engine;
pub mod error;
pub mod location;
pub mod log_format;
pub mod log_keys;
#[cfg(feature = "loggen")]
pub mod loggen;
pub mod period;
pub mod query;
pub mod request;
pub mod results;
pub mod steps;
pub mod storage;
pub mod validate;

/// Helpers for this crate's unit tests.
#[cfg(test)]
pub(crate) mod test_util {
    /// Runs a future to completion on a fresh single-threaded runtime.
    pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a tokio runtime")
            .block_on(f)
    }
}
