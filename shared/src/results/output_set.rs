//! A period's outputs as one set that readers see whole: the Parquet file,
//! the csv.gz, `report.json` and `report.html` are named, with their sizes
//! and digests (CRC64/NVME, and SHA-256 where the bytes passed through this
//! process), by `_SUCCESS.json`, which MergeResults deletes
//! before it replaces any of them and writes only after all four are
//! complete. A killed or failed re-run therefore leaves no `_SUCCESS.json`
//! (or one naming files whose sizes and digests no longer match), never a
//! mix presented as complete. SendReport, RemoveOriginalLogs and the next
//! period's comparison read it; so should people and scripts.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::crc64::Crc64;
use crate::location::Location;
use crate::storage::{DeleteReport, ObjectMeta, ObjectStore, SignedUrl, StorageError, Upload};

/// The set's manifest, in the period's folder.
pub const OUTPUT_SET: &str = "_SUCCESS.json";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputSet {
    pub label: String,
    /// The execution that wrote the set.
    pub execution: String,
    /// Rows in the Parquet file and data records in the csv.gz.
    pub rows: u64,
    /// Each file, by its name in the period's folder.
    pub files: BTreeMap<String, OutputFile>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputFile {
    pub bytes: u64,
    /// Lower-case hex, as `sha256sum` prints it. Absent for a file
    /// assembled from shards by server-side copies: a SHA-256 cannot be
    /// put together from its pieces' digests.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sha256: Option<String>,
    /// CRC64/NVME (S3's default full-object checksum), 16 lower-case hex
    /// digits. Absent in sets written before it was recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub crc64nvme: Option<String>,
}

impl OutputFile {
    /// Size and digests of bytes seen whole.
    pub fn of(bytes: &[u8]) -> Self {
        Self {
            bytes: bytes.len() as u64,
            sha256: Some(hex(&Sha256::digest(bytes))),
            crc64nvme: Some(Crc64::of(bytes).hex()),
        }
    }

    /// The CRC64/NVME this entry records, with the file's length.
    pub fn crc(&self) -> Option<Crc64> {
        let hex = self.crc64nvme.as_deref()?;
        Some(Crc64 {
            crc: u64::from_str_radix(hex, 16).ok()?,
            len: self.bytes,
        })
    }

    /// Size and digest of a file known only by its CRC.
    pub fn assembled(crc: Crc64) -> Self {
        Self {
            bytes: crc.len,
            sha256: None,
            crc64nvme: Some(crc.hex()),
        }
    }
}

/// Why a set cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Incomplete {
    #[error("{0}")]
    Storage(StorageError),
    #[error("{0}")]
    Invalid(String),
}

impl From<StorageError> for Incomplete {
    fn from(e: StorageError) -> Self {
        Incomplete::Storage(e)
    }
}

impl OutputSet {
    /// Reads `folder`'s manifest and checks that each file it names exists
    /// with its recorded size. (Digests are checked by whoever reads a file
    /// whole: [`OutputSet::check_bytes`].)
    pub async fn read<S: ObjectStore>(store: &S, folder: &Location) -> Result<Self, Incomplete> {
        let at = folder.join(OUTPUT_SET);
        let bytes = match store.get(&at).await {
            Ok(b) => b,
            Err(StorageError::NotFound { .. }) => {
                return Err(Incomplete::Invalid(format!(
                    "{at} does not exist: the period's outputs are not a complete set (their \
                     run failed or was stopped before the end, or is still running); run the \
                     period again"
                )));
            }
            Err(e) => return Err(e.into()),
        };
        let set: OutputSet = serde_json::from_slice(&bytes)
            .map_err(|e| Incomplete::Invalid(format!("{at} cannot be read: {e}")))?;
        for (name, file) in &set.files {
            let file_at = folder.join(name);
            match store.size(&file_at).await? {
                Some(size) if size == file.bytes => {}
                Some(size) => {
                    return Err(Incomplete::Invalid(format!(
                        "{file_at} has {size} bytes, but {at} says {}: it was replaced by \
                         another run; run the period again",
                        file.bytes
                    )));
                }
                None => {
                    return Err(Incomplete::Invalid(format!(
                        "{file_at}, named by {at}, does not exist"
                    )));
                }
            }
        }
        Ok(set)
    }

    /// The entry for `name`, or why the set lacks it.
    pub fn file(&self, name: &str) -> Result<&OutputFile, Incomplete> {
        self.files.get(name).ok_or_else(|| {
            Incomplete::Invalid(format!("the output set of {} has no {name}", self.label))
        })
    }

    /// Checks that `bytes`, read whole, are the set's `name`.
    pub fn check_bytes(&self, name: &str, bytes: &[u8]) -> Result<(), Incomplete> {
        let want = self.file(name)?;
        let got = OutputFile::of(bytes);
        let same = |a: &Option<String>, b: &Option<String>| a.is_none() || b.is_none() || a == b;
        let digested = want.sha256.is_some() || want.crc64nvme.is_some();
        if digested
            && got.bytes == want.bytes
            && same(&want.sha256, &got.sha256)
            && same(&want.crc64nvme, &got.crc64nvme)
        {
            Ok(())
        } else {
            Err(Incomplete::Invalid(format!(
                "{name} is not the file the output set of {} names ({} bytes, CRC64/NVME {}; \
                 the set says {} bytes, {})",
                self.label,
                got.bytes,
                got.crc64nvme.unwrap_or_default(),
                want.bytes,
                want.crc64nvme.as_deref().unwrap_or("no CRC64/NVME")
            )))
        }
    }
}

fn hex(digest: &[u8]) -> String {
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// An object store that remembers the size, SHA-256 and CRC64/NVME of every
/// object written through it, computed as the bytes pass (no second read).
#[derive(Clone)]
pub struct Checksummed<S> {
    inner: S,
    written: Arc<Mutex<BTreeMap<String, OutputFile>>>,
}

impl<S: ObjectStore> Checksummed<S> {
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            written: Arc::default(),
        }
    }

    /// The size and digest of the object last written at `at`.
    pub fn written(&self, at: &Location) -> Option<OutputFile> {
        self.written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&at.to_string())
            .cloned()
    }

    fn record(&self, at: &Location, file: OutputFile) {
        self.written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(at.to_string(), file);
    }
}

pub struct ChecksummedUpload<U> {
    inner: U,
    hasher: Sha256,
    crc: crc_fast::Digest,
    at: Location,
    written: Arc<Mutex<BTreeMap<String, OutputFile>>>,
}

impl<U: Upload> Upload for ChecksummedUpload<U> {
    async fn put_part(&mut self, data: Bytes) -> Result<(), StorageError> {
        self.hasher.update(&data);
        self.crc.update(&data);
        self.inner.put_part(data).await
    }

    /// Refused: the SHA-256 of the whole output is computed from the bytes
    /// as they pass, and a server-side copy's bytes never do. (A sharded
    /// merge's assembly composes the outputs' CRCs from the shards' instead:
    /// [`Crc64`].)
    async fn copy_part(&mut self, from: &Location, _: Range<u64>) -> Result<(), StorageError> {
        Err(StorageError::local(
            from.to_string(),
            "a checksummed output cannot take a server-side copy",
        ))
    }

    async fn complete(self) -> Result<u64, StorageError> {
        let size = self.inner.complete().await?;
        let file = OutputFile {
            bytes: self.crc.get_amount(),
            sha256: Some(hex(&self.hasher.finalize())),
            crc64nvme: Some(
                Crc64 {
                    crc: self.crc.finalize(),
                    len: self.crc.get_amount(),
                }
                .hex(),
            ),
        };
        self.written
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(self.at.to_string(), file);
        Ok(size)
    }

    async fn abort(self) -> Result<(), StorageError> {
        self.inner.abort().await
    }
}

impl<S: ObjectStore> ObjectStore for Checksummed<S> {
    type Upload = ChecksummedUpload<S::Upload>;

    async fn list(&self, prefix: &Location) -> Result<Vec<ObjectMeta>, StorageError> {
        self.inner.list(prefix).await
    }
    async fn size(&self, at: &Location) -> Result<Option<u64>, StorageError> {
        self.inner.size(at).await
    }
    async fn get_range(&self, at: &Location, range: Range<u64>) -> Result<Bytes, StorageError> {
        self.inner.get_range(at, range).await
    }
    async fn get(&self, at: &Location) -> Result<Bytes, StorageError> {
        self.inner.get(at).await
    }
    async fn put(&self, at: &Location, body: Bytes) -> Result<(), StorageError> {
        let file = OutputFile::of(&body);
        self.inner.put(at, body).await?;
        self.record(at, file);
        Ok(())
    }
    async fn upload(&self, at: &Location) -> Result<Self::Upload, StorageError> {
        Ok(ChecksummedUpload {
            inner: self.inner.upload(at).await?,
            hasher: Sha256::new(),
            crc: crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Nvme),
            at: at.clone(),
            written: self.written.clone(),
        })
    }
    async fn delete(&self, objects: &[Location]) -> Result<DeleteReport, StorageError> {
        self.inner.delete(objects).await
    }
    async fn presign_get(&self, at: &Location, max: Duration) -> Result<SignedUrl, StorageError> {
        self.inner.presign_get(at, max).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::local::LocalStore;
    use crate::test_util::{block_on, temp_location};

    #[test]
    fn a_set_is_whole_only_while_its_files_are_the_ones_it_names() {
        let (_dir, folder) = temp_location("2024-01");
        let store = Checksummed::new(LocalStore);
        block_on(async {
            let a = folder.join("a.csv.gz");
            let mut up = store.upload(&a).await.unwrap();
            up.put_part(Bytes::from_static(b"hello ")).await.unwrap();
            up.put_part(Bytes::from_static(b"world")).await.unwrap();
            up.complete().await.unwrap();
            let file = store.written(&a).unwrap();
            // sha256sum of "hello world".
            assert_eq!(
                file.sha256.as_deref(),
                Some("b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9")
            );
            assert_eq!(file, OutputFile::of(b"hello world"));
            let set = OutputSet {
                label: "2024-01".into(),
                execution: "x".into(),
                rows: 1,
                files: BTreeMap::from([("a.csv.gz".to_string(), file)]),
            };
            let err = OutputSet::read(&LocalStore, &folder).await.unwrap_err();
            assert!(err.to_string().contains("not a complete set"), "{err}");
            store
                .put(
                    &folder.join(OUTPUT_SET),
                    serde_json::to_vec(&set).unwrap().into(),
                )
                .await
                .unwrap();
            let read = OutputSet::read(&LocalStore, &folder).await.unwrap();
            assert_eq!(read, set);
            read.check_bytes("a.csv.gz", b"hello world").unwrap();
            assert!(read.check_bytes("a.csv.gz", b"hello there").is_err());
            // Another run replaced the file: the set is no longer whole.
            LocalStore
                .put(&a, Bytes::from_static(b"something else"))
                .await
                .unwrap();
            let err = OutputSet::read(&LocalStore, &folder).await.unwrap_err();
            assert!(err.to_string().contains("replaced by another run"), "{err}");
        });
    }
}
