//! The object-storage port: what MergeResults and the cleanup steps need
//! from S3, and what a local directory provides in its place (`s3la run`,
//! `s3la merge`). Adapters: [`local::LocalStore`], `aws::s3::S3Store`
//! (feature `aws`), and [`AnyStore`], which routes by URI scheme.
//!
//! Locations are [`Location`]s (`s3://bucket/key` or `file:///path`); a
//! prefix is a plain string prefix of keys, as in S3.

pub mod local;
pub mod parquet_reader;
pub mod sink;

use std::future::Future;
use std::ops::Range;
use std::time::Duration;

use bytes::Bytes;

use crate::error::StepError;
use crate::location::Location;

/// S3 deletes at most this many keys per DeleteObjects request.
pub const DELETE_BATCH: usize = 1000;

/// An object found by a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectMeta {
    pub location: Location,
    pub size: u64,
}

/// What a batch delete did: every key is either deleted or reported.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeleteReport {
    pub deleted: u64,
    pub failed: Vec<DeleteFailure>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeleteFailure {
    pub uri: String,
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StorageError {
    #[error("{uri} does not exist")]
    NotFound { uri: String },
    /// Throttling, timeouts, network faults: the same call may succeed later.
    #[error("{uri}: {message} (transient)")]
    Transient { uri: String, message: String },
    /// The service refused (access denied, no such bucket, ...).
    #[error("{uri}: {code}: {message}")]
    Service {
        uri: String,
        code: String,
        message: String,
    },
    /// A local file-system error, or a location this store cannot serve.
    #[error("{uri}: {message}")]
    Local { uri: String, message: String },
    /// The store cannot be reached for want of a setting (no credentials, no
    /// region): `variable` names it.
    #[error("{uri}: {variable}: {message}")]
    Config {
        uri: String,
        variable: String,
        message: String,
    },
}

impl StorageError {
    pub fn local(uri: impl Into<String>, message: impl std::fmt::Display) -> Self {
        StorageError::Local {
            uri: uri.into(),
            message: message.to_string(),
        }
    }
}

impl From<StorageError> for StepError {
    fn from(e: StorageError) -> Self {
        match e {
            StorageError::Transient { .. } => StepError::transient(e.to_string()),
            StorageError::Service { ref code, .. } => StepError::Aws {
                service: "s3",
                code: code.clone(),
                message: e.to_string(),
            },
            StorageError::Config {
                variable, message, ..
            } => StepError::config(variable, message),
            StorageError::NotFound { .. } | StorageError::Local { .. } => StepError::Storage {
                message: e.to_string(),
            },
        }
    }
}

/// Where objects are read, written and deleted.
///
/// Stores are cheap to clone (a client handle), so a Parquet reader can own one.
pub trait ObjectStore: Clone + Send + Sync + Unpin + 'static {
    type Upload: Upload;

    /// Every object whose key starts with `prefix`, in key order; S3 pages
    /// of 1000 are followed to the end.
    fn list(
        &self,
        prefix: &Location,
    ) -> impl Future<Output = Result<Vec<ObjectMeta>, StorageError>> + Send;

    /// The object's size, or `None` when it does not exist.
    fn size(&self, at: &Location)
    -> impl Future<Output = Result<Option<u64>, StorageError>> + Send;

    /// The bytes of `range` (end exclusive).
    fn get_range(
        &self,
        at: &Location,
        range: Range<u64>,
    ) -> impl Future<Output = Result<Bytes, StorageError>> + Send;

    /// A small object, whole (manifests, reports).
    fn get(&self, at: &Location) -> impl Future<Output = Result<Bytes, StorageError>> + Send;

    /// Writes a small object in one request.
    fn put(
        &self,
        at: &Location,
        body: Bytes,
    ) -> impl Future<Output = Result<(), StorageError>> + Send;

    /// Starts writing a large object in parts. Nothing is visible at `at`
    /// until [`Upload::complete`]; [`Upload::abort`] leaves nothing behind.
    fn upload(
        &self,
        at: &Location,
    ) -> impl Future<Output = Result<Self::Upload, StorageError>> + Send;

    /// Deletes `objects`, in requests of at most [`DELETE_BATCH`] keys; keys
    /// that could not be deleted are reported, not hidden.
    fn delete(
        &self,
        objects: &[Location],
    ) -> impl Future<Output = Result<DeleteReport, StorageError>> + Send;

    /// A URL that lets its holder GET the object for at most `max`; less
    /// when the signing credentials expire sooner (a Lambda role's last
    /// hours, not days): the answer says when the link stops working.
    fn presign_get(
        &self,
        at: &Location,
        max: Duration,
    ) -> impl Future<Output = Result<SignedUrl, StorageError>> + Send;
}

/// A link to an object and when it stops working.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedUrl {
    pub url: String,
    /// `None`: the link does not expire (a local file).
    pub expires: Option<std::time::SystemTime>,
    /// What the link is, for the email to say.
    pub kind: crate::report::LinkKind,
}

/// A large object being written.
pub trait Upload: Send {
    /// Appends a part. Every part but the last must be at least
    /// [`sink::MIN_PART_BYTES`] (S3's multipart minimum).
    fn put_part(&mut self, data: Bytes) -> impl Future<Output = Result<(), StorageError>> + Send;
    /// Appends a part that is the bytes `range` of the object at `from`, on
    /// the same store, without them passing through this process where the
    /// store can copy (S3's UploadPartCopy). The same size rules as
    /// [`Upload::put_part`], and at most [`sink::MAX_COPY_PART_BYTES`].
    fn copy_part(
        &mut self,
        from: &Location,
        range: std::ops::Range<u64>,
    ) -> impl Future<Output = Result<(), StorageError>> + Send;
    /// Makes the object visible, whole; returns its size.
    fn complete(self) -> impl Future<Output = Result<u64, StorageError>> + Send;
    /// Discards everything written.
    fn abort(self) -> impl Future<Output = Result<(), StorageError>> + Send;
}

/// Routes `file://` locations to a local directory and `s3://` ones to S3
/// (when configured): `s3la merge` reads parts from one and writes to the other.
#[derive(Clone)]
pub struct AnyStore<S> {
    pub local: local::LocalStore,
    pub s3: Option<S>,
}

impl<S: ObjectStore> AnyStore<S> {
    fn s3(&self, at: &Location) -> Result<&S, StorageError> {
        self.s3.as_ref().ok_or_else(|| {
            StorageError::local(
                at.to_string(),
                "S3 is not configured for this command (no AWS settings)",
            )
        })
    }
}

/// An upload on either store.
pub enum AnyUpload<U> {
    Local(local::LocalUpload),
    S3(U),
}

impl<U: Upload> Upload for AnyUpload<U> {
    async fn put_part(&mut self, data: Bytes) -> Result<(), StorageError> {
        match self {
            AnyUpload::Local(u) => u.put_part(data).await,
            AnyUpload::S3(u) => u.put_part(data).await,
        }
    }
    async fn copy_part(
        &mut self,
        from: &Location,
        range: std::ops::Range<u64>,
    ) -> Result<(), StorageError> {
        match self {
            AnyUpload::Local(u) => u.copy_part(from, range).await,
            AnyUpload::S3(u) => u.copy_part(from, range).await,
        }
    }
    async fn complete(self) -> Result<u64, StorageError> {
        match self {
            AnyUpload::Local(u) => u.complete().await,
            AnyUpload::S3(u) => u.complete().await,
        }
    }
    async fn abort(self) -> Result<(), StorageError> {
        match self {
            AnyUpload::Local(u) => u.abort().await,
            AnyUpload::S3(u) => u.abort().await,
        }
    }
}

macro_rules! route {
    ($self:ident, $at:expr, $method:ident ( $($arg:expr),* )) => {
        match $at {
            Location::Local(_) => $self.local.$method($($arg),*).await,
            Location::S3 { .. } => $self.s3($at)?.$method($($arg),*).await,
        }
    };
}

impl<S: ObjectStore> ObjectStore for AnyStore<S> {
    type Upload = AnyUpload<S::Upload>;

    async fn list(&self, prefix: &Location) -> Result<Vec<ObjectMeta>, StorageError> {
        route!(self, prefix, list(prefix))
    }
    async fn size(&self, at: &Location) -> Result<Option<u64>, StorageError> {
        route!(self, at, size(at))
    }
    async fn get_range(&self, at: &Location, range: Range<u64>) -> Result<Bytes, StorageError> {
        route!(self, at, get_range(at, range))
    }
    async fn get(&self, at: &Location) -> Result<Bytes, StorageError> {
        route!(self, at, get(at))
    }
    async fn put(&self, at: &Location, body: Bytes) -> Result<(), StorageError> {
        route!(self, at, put(at, body))
    }
    async fn upload(&self, at: &Location) -> Result<Self::Upload, StorageError> {
        match at {
            Location::Local(_) => self.local.upload(at).await.map(AnyUpload::Local),
            Location::S3 { .. } => self.s3(at)?.upload(at).await.map(AnyUpload::S3),
        }
    }
    async fn delete(&self, objects: &[Location]) -> Result<DeleteReport, StorageError> {
        let (local, s3): (Vec<_>, Vec<_>) = objects
            .iter()
            .cloned()
            .partition(|l| matches!(l, Location::Local(_)));
        let mut report = self.local.delete(&local).await?;
        if let Some(first) = s3.first() {
            let more = self.s3(first)?.delete(&s3).await?;
            report.deleted += more.deleted;
            report.failed.extend(more.failed);
        }
        Ok(report)
    }
    async fn presign_get(&self, at: &Location, max: Duration) -> Result<SignedUrl, StorageError> {
        route!(self, at, presign_get(at, max))
    }
}
