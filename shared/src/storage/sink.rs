//! The bridge between the synchronous writers (Arrow's Parquet and CSV
//! writers, the parallel gzip writer) and an asynchronous [`Upload`]: the
//! writers fill a shared buffer; between batches the merge hands every full
//! part of it to the upload. Memory stays at about one part per output.

use std::io::{self, Write};
use std::ops::Range;
use std::sync::{Arc, Mutex, PoisonError};

use bytes::Bytes;

use super::{StorageError, Upload};
use crate::location::Location;

/// S3's smallest multipart part (all but the last).
pub const MIN_PART_BYTES: usize = 5 << 20;
/// The part size we upload: above the minimum, small enough to keep memory flat.
pub const PART_BYTES: usize = 8 << 20;

/// The largest part S3 copies in one UploadPartCopy: 5 GiB.
pub const MAX_COPY_PART_BYTES: u64 = 5 << 30;

/// A `Write` whose bytes the async side takes out.
#[derive(Debug, Clone, Default)]
pub struct SharedBuffer(Arc<Mutex<Vec<u8>>>);

impl SharedBuffer {
    fn bytes(&self) -> std::sync::MutexGuard<'_, Vec<u8>> {
        // A panic while holding the lock cannot leave a Vec<u8> invalid.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub fn len(&self) -> usize {
        self.bytes().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Everything written so far, leaving the buffer empty.
    pub fn take(&self) -> Bytes {
        Bytes::from(std::mem::take(&mut *self.bytes()))
    }
}

impl Write for SharedBuffer {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.bytes().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// One output being written: a buffer the writers fill, and its upload.
pub struct PartSink<U: Upload> {
    buffer: SharedBuffer,
    upload: U,
    parts: usize,
}

impl<U: Upload> PartSink<U> {
    pub fn new(upload: U) -> Self {
        Self {
            buffer: SharedBuffer::default(),
            upload,
            parts: 0,
        }
    }

    /// The `Write` end to give a synchronous writer.
    pub fn writer(&self) -> SharedBuffer {
        self.buffer.clone()
    }

    /// Uploads the buffer as a part once it holds a full one.
    pub async fn upload_full_parts(&mut self) -> Result<(), StorageError> {
        if self.buffer.len() >= PART_BYTES {
            self.parts += 1;
            self.upload.put_part(self.buffer.take()).await?;
        }
        Ok(())
    }

    /// Bytes written and not yet sent as a part.
    pub fn buffered(&self) -> usize {
        self.buffer.len()
    }

    /// Sends what the buffer holds as a part, whatever its size: the caller
    /// sees that a part before the last is at least [`MIN_PART_BYTES`].
    pub async fn flush_part(&mut self) -> Result<(), StorageError> {
        if !self.buffer.is_empty() {
            self.parts += 1;
            self.upload.put_part(self.buffer.take()).await?;
        }
        Ok(())
    }

    /// Appends bytes `range` of the object at `from` as a part copied by the
    /// store, after what the buffer holds (sent first, as a part of its own).
    pub async fn copy_part(
        &mut self,
        from: &Location,
        range: Range<u64>,
    ) -> Result<(), StorageError> {
        self.flush_part().await?;
        self.parts += 1;
        self.upload.copy_part(from, range).await
    }

    /// Uploads what is left and makes the object visible; returns its size.
    pub async fn complete(mut self) -> Result<u64, StorageError> {
        if !self.buffer.is_empty() || self.parts == 0 {
            self.upload.put_part(self.buffer.take()).await?;
        }
        self.upload.complete().await
    }

    /// Discards the object.
    pub async fn abort(self) -> Result<(), StorageError> {
        self.upload.abort().await
    }
}
