//! S3 as the object store, through aws-sdk-s3: paginated listing, ranged
//! GETs, multipart uploads (parts uploaded a few at a time, aborted on any
//! failure), DeleteObjects in batches of 1000 with per-key errors, presigned
//! GETs. SDK errors are classified here, where their types are known.

use std::collections::BTreeMap;
use std::ops::Range;
use std::time::{Duration, SystemTime};

use aws_sdk_s3::config::{ProvideCredentials, SharedCredentialsProvider};

use aws_sdk_s3::Client;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    ChecksumAlgorithm, CompletedMultipartUpload, CompletedPart, Delete, ObjectIdentifier,
};
use bytes::Bytes;
use tokio::task::JoinSet;

use super::sdk_error::{SdkFailure, classify_sdk_error, missing_credentials};
use crate::location::Location;
use crate::storage::{
    DELETE_BATCH, DeleteFailure, DeleteReport, ObjectMeta, ObjectStore, SignedUrl, StorageError,
    Upload,
};

/// The longest a link is signed for with temporary credentials (a session
/// token) whose expiry the SDK does not know: aws-config reports none for
/// credentials read from environment variables, as on Lambda. Such a session
/// lasts 1 hour by default (AssumeRole's DurationSeconds default), so no
/// longer can be promised without knowing better.
pub const UNKNOWN_EXPIRY_LIFETIME: Duration = Duration::from_secs(3600);

/// Parts uploaded at once per object: enough to keep the link busy while
/// the merge produces the next part, few enough to bound memory.
const PARTS_IN_FLIGHT: usize = 3;

/// Server-side copies (UploadPartCopy) at once per object: they hold no
/// bytes here, and S3 copies a part at a rate of its own, so an assembly of
/// many shards waits on as many copies at once as it can keep going.
const COPIES_IN_FLIGHT: usize = 16;

#[derive(Debug, Clone)]
pub struct S3Store {
    client: Client,
    /// The credentials the client signs with, to know when a presigned link
    /// dies with them.
    credentials: Option<SharedCredentialsProvider>,
}

impl S3Store {
    pub fn new(client: Client, credentials: Option<SharedCredentialsProvider>) -> Self {
        Self {
            client,
            credentials,
        }
    }

    /// How long a link signed now can be relied on: the earlier of `max` and
    /// the credentials' expiry (a presigned URL dies with the credentials
    /// that signed it), a minute kept in hand for clock skew; at most
    /// [`UNKNOWN_EXPIRY_LIFETIME`] for temporary credentials whose expiry is
    /// not known; `max` for long-lived keys.
    async fn signing_lifetime(
        &self,
        at: &Location,
        max: Duration,
        now: SystemTime,
    ) -> Result<Duration, StorageError> {
        let Some(provider) = &self.credentials else {
            return Ok(max);
        };
        let credentials = provider.provide_credentials().await.map_err(|e| {
            let (variable, message) = missing_credentials("S3", &e);
            StorageError::Config {
                uri: at.to_string(),
                variable: variable.into(),
                message: format!("cannot sign a link: {message}"),
            }
        })?;
        let Some(expiry) = credentials.expiry() else {
            return Ok(if credentials.session_token().is_some() {
                max.min(UNKNOWN_EXPIRY_LIFETIME)
            } else {
                max
            });
        };
        let left = expiry
            .duration_since(now)
            .unwrap_or_default()
            .saturating_sub(Duration::from_secs(60));
        if left < Duration::from_secs(60) {
            // Fresh credentials come with the next attempt.
            return Err(StorageError::Transient {
                uri: at.to_string(),
                message: "the signing credentials expire within two minutes".into(),
            });
        }
        Ok(left.min(max))
    }

    /// A client from the SDK's standard settings. With an endpoint override
    /// (`AWS_ENDPOINT_URL`, an S3-compatible server) paths are addressed as
    /// `host/bucket/key`, which such servers expect.
    pub fn from_config(config: &aws_config::SdkConfig) -> Self {
        let s3 = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(config.endpoint_url().is_some())
            .build();
        Self::new(Client::from_conf(s3), config.credentials_provider())
    }
}

impl S3Store {
    async fn get_object(
        &self,
        at: &Location,
        range: Option<String>,
    ) -> Result<Bytes, StorageError> {
        let (bucket, key) = bucket_key(at)?;
        let uri = at.to_string();
        let out = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .set_range(range)
            .send()
            .await
            .map_err(|e| classify(&uri, e))?;
        read_body(&uri, out.body).await
    }
}

fn bucket_key(at: &Location) -> Result<(&str, &str), StorageError> {
    match at {
        Location::S3 { bucket, key } => Ok((bucket, key)),
        Location::Local(_) => Err(StorageError::local(
            at.to_string(),
            "is a local path, and this store is S3",
        )),
    }
}

/// The shared rule ([`classify_sdk_error`]: no credentials or region is a
/// setting to fix; throttling, 5xx and network faults are transient, the SDK
/// having retried them), then S3's own: 404 on an object is "not found"; the
/// rest are refusals.
fn classify<E>(uri: &str, e: SdkError<E, HttpResponse>) -> StorageError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    let uri = uri.to_string();
    match classify_sdk_error("S3", &e) {
        SdkFailure::Config { variable, message } => StorageError::Config {
            uri,
            variable: variable.into(),
            message,
        },
        SdkFailure::Transient { message } => StorageError::Transient { uri, message },
        SdkFailure::Client { message } => StorageError::Service {
            uri,
            code: "ClientError".into(),
            message,
        },
        SdkFailure::Service {
            status,
            code,
            message,
        } => {
            if code == "NoSuchKey" || (status == 404 && code != "NoSuchBucket") {
                StorageError::NotFound { uri }
            } else {
                StorageError::Service { uri, code, message }
            }
        }
    }
}

impl ObjectStore for S3Store {
    type Upload = S3Upload;

    async fn list(&self, prefix: &Location) -> Result<Vec<ObjectMeta>, StorageError> {
        let (bucket, key) = bucket_key(prefix)?;
        let uri = prefix.to_string();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(key)
            .into_paginator()
            .send();
        let mut out = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| classify(&uri, e))?;
            for object in page.contents() {
                let Some(key) = object.key() else { continue };
                out.push(ObjectMeta {
                    location: Location::S3 {
                        bucket: bucket.to_string(),
                        key: key.to_string(),
                    },
                    size: object.size().unwrap_or(0).max(0) as u64,
                });
            }
        }
        Ok(out)
    }

    async fn size(&self, at: &Location) -> Result<Option<u64>, StorageError> {
        let (bucket, key) = bucket_key(at)?;
        match self
            .client
            .head_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => Ok(Some(out.content_length().unwrap_or(0).max(0) as u64)),
            Err(e) => match classify(&at.to_string(), e) {
                StorageError::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn get_range(&self, at: &Location, range: Range<u64>) -> Result<Bytes, StorageError> {
        if range.is_empty() {
            return Ok(Bytes::new());
        }
        let header = format!("bytes={}-{}", range.start, range.end - 1);
        self.get_object(at, Some(header)).await
    }

    async fn get(&self, at: &Location) -> Result<Bytes, StorageError> {
        self.get_object(at, None).await
    }

    async fn put(&self, at: &Location, body: Bytes) -> Result<(), StorageError> {
        let (bucket, key) = bucket_key(at)?;
        self.client
            .put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(body))
            .send()
            .await
            .map_err(|e| classify(&at.to_string(), e))?;
        Ok(())
    }

    async fn upload(&self, at: &Location) -> Result<S3Upload, StorageError> {
        let (bucket, key) = bucket_key(at)?;
        let out = self
            .client
            .create_multipart_upload()
            .bucket(bucket)
            .key(key)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .send()
            .await
            .map_err(|e| classify(&at.to_string(), e))?;
        let upload_id = out.upload_id().ok_or_else(|| StorageError::Service {
            uri: at.to_string(),
            code: "NoUploadId".into(),
            message: "CreateMultipartUpload returned no upload id".into(),
        })?;
        Ok(S3Upload {
            client: self.client.clone(),
            bucket: bucket.to_string(),
            key: key.to_string(),
            uri: at.to_string(),
            upload_id: upload_id.to_string(),
            next_part: 1,
            in_flight: JoinSet::new(),
            done: Vec::new(),
            size: 0,
        })
    }

    async fn delete(&self, objects: &[Location]) -> Result<DeleteReport, StorageError> {
        let mut by_bucket: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for at in objects {
            let (bucket, key) = bucket_key(at)?;
            by_bucket.entry(bucket).or_default().push(key);
        }
        let mut report = DeleteReport::default();
        for (bucket, keys) in by_bucket {
            for chunk in keys.chunks(DELETE_BATCH) {
                let ids = chunk
                    .iter()
                    .map(|k| ObjectIdentifier::builder().key(*k).build())
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| StorageError::local(format!("s3://{bucket}/"), e))?;
                let delete = Delete::builder()
                    .set_objects(Some(ids))
                    .quiet(true)
                    .build()
                    .map_err(|e| StorageError::local(format!("s3://{bucket}/"), e))?;
                let out = self
                    .client
                    .delete_objects()
                    .bucket(bucket)
                    .delete(delete)
                    .send()
                    .await
                    .map_err(|e| classify(&format!("s3://{bucket}/"), e))?;
                let errors = out.errors();
                report.deleted += (chunk.len() - errors.len()) as u64;
                report.failed.extend(errors.iter().map(|e| DeleteFailure {
                    uri: format!("s3://{bucket}/{}", e.key().unwrap_or("?")),
                    code: e.code().unwrap_or("Unknown").to_string(),
                    message: e.message().unwrap_or("").to_string(),
                }));
            }
        }
        Ok(report)
    }

    async fn presign_get(&self, at: &Location, max: Duration) -> Result<SignedUrl, StorageError> {
        let (bucket, key) = bucket_key(at)?;
        // One instant for the signature and the stated expiry, in whole
        // seconds as SigV4 writes them, so the email states exactly
        // X-Amz-Date + X-Amz-Expires, never a fraction later.
        let whole_seconds = |d: Duration| Duration::from_secs(d.as_secs());
        let now = SystemTime::UNIX_EPOCH
            + whole_seconds(
                SystemTime::now()
                    .duration_since(SystemTime::UNIX_EPOCH)
                    .unwrap_or_default(),
            );
        let lifetime = whole_seconds(self.signing_lifetime(at, max, now).await?);
        let config = PresigningConfig::builder()
            .start_time(now)
            .expires_in(lifetime)
            .build()
            .map_err(|e| StorageError::local(at.to_string(), e))?;
        let request = self
            .client
            .get_object()
            .bucket(bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| classify(&at.to_string(), e))?;
        Ok(SignedUrl {
            url: request.uri().to_string(),
            expires: Some(now + lifetime),
            kind: crate::report::LinkKind::PresignedS3,
        })
    }
}

/// A key as `x-amz-copy-source` wants it: URL-encoded, its slashes kept.
fn encode_copy_source(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for b in key.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'/' | b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

async fn read_body(uri: &str, body: ByteStream) -> Result<Bytes, StorageError> {
    body.collect()
        .await
        .map(|data| data.into_bytes())
        .map_err(|e| StorageError::Transient {
            uri: uri.to_string(),
            message: format!("reading the body: {e}"),
        })
}

/// A multipart upload in progress. Dropped without `complete` or `abort`
/// (a crash), the parts stay invisible and the bucket's lifecycle rule for
/// incomplete uploads removes them.
pub struct S3Upload {
    client: Client,
    bucket: String,
    key: String,
    uri: String,
    upload_id: String,
    next_part: i32,
    in_flight: JoinSet<Result<CompletedPart, StorageError>>,
    done: Vec<CompletedPart>,
    size: u64,
}

impl S3Upload {
    /// Aborts after `cause`, the failure the caller reports. An abort that
    /// fails too is logged and otherwise ignored: `cause` is what to fix, and
    /// the bucket's lifecycle rule for incomplete uploads removes the parts.
    async fn abort_after(self, cause: &StorageError) {
        let uri = self.uri.clone();
        if let Err(e) = self.abort().await {
            eprintln!(
                "note: the upload to {uri} failed ({cause}) and aborting it failed too, ignored \
                 (the lifecycle rule removes its parts): {e}"
            );
        }
    }

    /// The number of the next part, of `bytes`, once fewer than `limit`
    /// parts are on their way ([`PARTS_IN_FLIGHT`] for bytes sent from
    /// here, [`COPIES_IN_FLIGHT`] for copies).
    async fn next_part(&mut self, bytes: u64, limit: usize) -> Result<i32, StorageError> {
        while self.in_flight.len() >= limit {
            self.wait_one().await?;
        }
        let number = self.next_part;
        self.next_part += 1;
        self.size += bytes;
        Ok(number)
    }

    async fn wait_one(&mut self) -> Result<(), StorageError> {
        if let Some(joined) = self.in_flight.join_next().await {
            let part = joined.map_err(|e| StorageError::local(&self.uri, e))??;
            self.done.push(part);
        }
        Ok(())
    }
}

impl Upload for S3Upload {
    async fn put_part(&mut self, data: Bytes) -> Result<(), StorageError> {
        let number = self.next_part(data.len() as u64, PARTS_IN_FLIGHT).await?;
        let request = self
            .client
            .upload_part()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .part_number(number)
            .checksum_algorithm(ChecksumAlgorithm::Crc32)
            .body(ByteStream::from(data));
        let uri = self.uri.clone();
        self.in_flight.spawn(async move {
            let out = request.send().await.map_err(|e| classify(&uri, e))?;
            Ok(CompletedPart::builder()
                .part_number(number)
                .set_e_tag(out.e_tag().map(str::to_string))
                .set_checksum_crc32(out.checksum_crc32().map(str::to_string))
                .build())
        });
        Ok(())
    }

    async fn copy_part(&mut self, from: &Location, range: Range<u64>) -> Result<(), StorageError> {
        let (bucket, key) = bucket_key(from)?;
        let number = self
            .next_part(range.end - range.start, COPIES_IN_FLIGHT)
            .await?;
        let request = self
            .client
            .upload_part_copy()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .part_number(number)
            // The source as `bucket/key`, the key URL-encoded (UploadPartCopy,
            // x-amz-copy-source); the range's end is inclusive.
            .copy_source(format!("{bucket}/{}", encode_copy_source(key)))
            .copy_source_range(format!("bytes={}-{}", range.start, range.end - 1));
        let uri = self.uri.clone();
        self.in_flight.spawn(async move {
            let out = request.send().await.map_err(|e| classify(&uri, e))?;
            let result = out.copy_part_result();
            Ok(CompletedPart::builder()
                .part_number(number)
                .set_e_tag(result.and_then(|r| r.e_tag()).map(str::to_string))
                .set_checksum_crc32(result.and_then(|r| r.checksum_crc32()).map(str::to_string))
                .build())
        });
        Ok(())
    }

    async fn complete(mut self) -> Result<u64, StorageError> {
        while !self.in_flight.is_empty() {
            if let Err(e) = self.wait_one().await {
                self.abort_after(&e).await;
                return Err(e);
            }
        }
        let mut parts = std::mem::take(&mut self.done);
        parts.sort_by_key(|p| p.part_number());
        let result = self
            .client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .multipart_upload(
                CompletedMultipartUpload::builder()
                    .set_parts(Some(parts))
                    .build(),
            )
            .send()
            .await;
        match result {
            Ok(_) => Ok(self.size),
            Err(e) => {
                let e = classify(&self.uri, e);
                self.abort_after(&e).await;
                Err(e)
            }
        }
    }

    async fn abort(mut self) -> Result<(), StorageError> {
        self.in_flight.abort_all();
        while self.in_flight.join_next().await.is_some() {}
        self.client
            .abort_multipart_upload()
            .bucket(&self.bucket)
            .key(&self.key)
            .upload_id(&self.upload_id)
            .send()
            .await
            .map_err(|e| classify(&self.uri, e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::Credentials;
    use aws_sdk_s3::config::{BehaviorVersion, Region};

    /// A store signing with `credentials`, as the SDK's client would; no
    /// server is needed to presign.
    fn store(credentials: Credentials) -> S3Store {
        let provider = SharedCredentialsProvider::new(credentials);
        let config = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("eu-west-1"))
            .credentials_provider(provider.clone())
            .build();
        S3Store::new(Client::from_conf(config), Some(provider))
    }

    fn keys(token: Option<&str>, expiry: Option<Duration>) -> Credentials {
        Credentials::new(
            "AKIDEXAMPLE",
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            token.map(String::from),
            expiry.map(|d| SystemTime::now() + d),
            "test",
        )
    }

    /// The link's `X-Amz-Expires`, and how far its stated expiry lies after
    /// the signature's `X-Amz-Date`.
    async fn signed(credentials: Credentials) -> Result<(u64, i64, SignedUrl), StorageError> {
        let at = Location::parse("s3://res-bkt/s3la/2024-01/requests-2024-01.csv.gz").unwrap();
        let signed = store(credentials)
            .presign_get(&at, Duration::from_secs(7 * 24 * 3600))
            .await?;
        let param = |name: &str| {
            signed
                .url
                .split(['?', '&'])
                .find_map(|p| p.strip_prefix(&format!("{name}=")))
                .unwrap_or_else(|| panic!("{name} in {}", signed.url))
                .to_string()
        };
        let x_amz_expires: u64 = param("X-Amz-Expires").parse().unwrap();
        let date = chrono::NaiveDateTime::parse_from_str(&param("X-Amz-Date"), "%Y%m%dT%H%M%SZ")
            .unwrap()
            .and_utc();
        let stated = chrono::DateTime::<chrono::Utc>::from(signed.expires.unwrap());
        assert_eq!(signed.kind, crate::report::LinkKind::PresignedS3);
        Ok((x_amz_expires, (stated - date).num_seconds(), signed))
    }

    #[tokio::test]
    async fn long_lived_keys_sign_for_seven_days_and_say_so() {
        let (expires, stated, _) = signed(keys(None, None)).await.unwrap();
        assert_eq!(expires, 7 * 24 * 3600);
        assert_eq!(stated, 7 * 24 * 3600);
    }

    #[tokio::test]
    async fn a_session_without_a_known_expiry_signs_for_one_hour_and_says_so() {
        // As on Lambda: AWS_SESSION_TOKEN in the environment, no expiry.
        let (expires, stated, link) = signed(keys(Some("session-token"), None)).await.unwrap();
        assert_eq!(expires, UNKNOWN_EXPIRY_LIFETIME.as_secs());
        assert_eq!(stated, 3600);
        assert!(link.url.contains("X-Amz-Security-Token=session-token"));
    }

    #[tokio::test]
    async fn a_known_expiry_bounds_the_link_less_a_minute() {
        let three_hours = Duration::from_secs(3 * 3600);
        let (expires, stated, _) = signed(keys(Some("t"), Some(three_hours))).await.unwrap();
        // The expiry is a few microseconds short of 3 h when signing starts.
        assert!(
            (3 * 3600 - 62..=3 * 3600 - 60).contains(&expires),
            "{expires}"
        );
        assert_eq!(stated, expires as i64);
        let month = Duration::from_secs(30 * 24 * 3600);
        let (expires, stated, _) = signed(keys(Some("t"), Some(month))).await.unwrap();
        assert_eq!((expires, stated), (7 * 24 * 3600, 7 * 24 * 3600));
    }

    #[test]
    fn each_failure_gets_the_name_the_definition_matches() {
        use crate::aws::sdk_error::samples::{answer, no_credentials};
        use crate::error::StepError;
        use aws_sdk_s3::operation::get_object::GetObjectError;
        let refused = |status, code| answer(GetObjectError::generic, status, code, "m");
        for (e, name) in [
            (refused(503, "SlowDown"), "Transient"),
            (no_credentials(), "ConfigError"),
            (refused(403, "AccessDenied"), "AwsError"),
            (refused(404, "NoSuchKey"), "StorageError"),
            // A missing bucket is a setting to fix, not a missing object.
            (refused(404, "NoSuchBucket"), "AwsError"),
        ] {
            assert_eq!(StepError::from(classify("s3://b/k", e)).name(), name);
        }
    }

    #[tokio::test]
    async fn credentials_about_to_expire_sign_nothing() {
        let e = signed(keys(Some("t"), Some(Duration::from_secs(90))))
            .await
            .unwrap_err();
        assert!(matches!(e, StorageError::Transient { .. }), "{e:?}");
    }
}
