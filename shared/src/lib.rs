//! S3 Logs Analyzer core library.
//!
//! Everything the pipeline's steps share lives here as plain logic over narrow
//! ports, so the Lambdas and the local `s3la` runtime run the same code. Each
//! fact is described once and derived elsewhere: the steps in
//! [`steps::catalog`], the log fields in [`log_format::fields`], the
//! execution input's fields in [`request::fields`].
//!
//! - [`log_format`]: the S3 server access log format, its parser and Arrow
//!   schema; [`athena_ddl`]: the Athena/Glue table derived from it;
//!   [`log_keys`]: where log objects live (date-based and simple layouts).
//! - [`request`]: the execution input; [`period`]: the periods;
//!   [`validate`]: checks shared by the inputs; [`config`]: the settings
//!   (environment) each step reads; [`location`]: S3 or local locations.
//! - [`query`]: the query model and its Athena SQL; [`engine`]: the
//!   query-engine port.
//! - [`storage`]: the object-storage port and the local-folder store;
//!   [`results`]: the merge into Parquet and csv.gz (each batch handed to an
//!   observer) and the outputs as one set; [`parquet_output`]: the writer
//!   settings.
//! - [`report`]: the report (its tally observes the merge; `report.json`,
//!   HTML, text); [`email`]: the message, its SMTP (feature `smtp`) and
//!   outbox transports; [`links`]: links to the outputs.
//! - [`steps`]: the steps' handlers and their catalog; [`error`]: the
//!   errors they report; [`log_accounting`]: what a log object holds
//!   against a run's outputs, before RemoveOriginalLogs deletes it.
//! - [`aws`] (feature `aws`): the Athena, S3, SES v2 and Secrets Manager
//!   adapters, the mail transports, and one classification of SDK errors.
//! - [`loggen`] (feature `loggen`): the sample-log generator.

pub mod athena_ddl;
#[cfg(feature = "aws")]
pub mod aws;
pub mod config;
pub mod email;
pub mod engine;
pub mod error;
pub mod links;
pub mod location;
pub mod log_accounting;
pub mod log_format;
pub mod log_keys;
#[cfg(feature = "loggen")]
pub mod loggen;
pub mod parquet_output;
pub mod period;
pub mod query;
pub mod report;
pub mod request;
pub mod results;
pub mod steps;
pub mod storage;
pub mod validate;

/// Helpers for this crate's unit tests.
#[cfg(test)]
pub(crate) mod test_util {
    use crate::location::Location;
    use crate::storage::{ObjectStore, StorageError};

    /// Runs a future to completion on a fresh single-threaded runtime.
    pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("a tokio runtime")
            .block_on(f)
    }

    /// A fresh temporary directory and the local location of `rel` inside it.
    pub fn temp_location(rel: &str) -> (tempfile::TempDir, Location) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let at = Location::Local(dir.path().join(rel));
        (dir, at)
    }

    /// A store where every object exists and every read is throttled.
    #[derive(Clone)]
    pub struct Throttled;

    pub fn slow_down(at: &Location) -> StorageError {
        StorageError::Transient {
            uri: at.to_string(),
            message: "SlowDown".into(),
        }
    }

    impl ObjectStore for Throttled {
        type Upload = crate::storage::local::LocalUpload;
        async fn list(
            &self,
            at: &Location,
        ) -> Result<Vec<crate::storage::ObjectMeta>, StorageError> {
            Err(slow_down(at))
        }
        async fn size(&self, _: &Location) -> Result<Option<u64>, StorageError> {
            Ok(Some(1 << 20))
        }
        async fn get_range(
            &self,
            at: &Location,
            _: std::ops::Range<u64>,
        ) -> Result<bytes::Bytes, StorageError> {
            Err(slow_down(at))
        }
        async fn get(&self, at: &Location) -> Result<bytes::Bytes, StorageError> {
            Err(slow_down(at))
        }
        async fn put(&self, at: &Location, _: bytes::Bytes) -> Result<(), StorageError> {
            Err(slow_down(at))
        }
        async fn upload(&self, at: &Location) -> Result<Self::Upload, StorageError> {
            Err(slow_down(at))
        }
        async fn delete(
            &self,
            _: &[Location],
        ) -> Result<crate::storage::DeleteReport, StorageError> {
            unreachable!("verification never deletes")
        }
        async fn presign_get(
            &self,
            at: &Location,
            _: std::time::Duration,
        ) -> Result<crate::storage::SignedUrl, StorageError> {
            Err(slow_down(at))
        }
    }
}
