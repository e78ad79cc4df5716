//! Checks that a run's outputs exist, are readable and hold the rows the
//! merge reported — what RemoveOriginalLogs requires before deleting the
//! logs those rows came from. Both files are read by streaming, in bounded
//! memory: the Parquet footer's row counts, and the whole csv.gz decompressed
//! and counted record by record.

use std::io::Write;

use flate2::write::MultiGzDecoder;
use parquet::arrow::async_reader::AsyncFileReader;

use crate::location::Location;
use crate::storage::parquet_reader::StoreParquetReader;
use crate::storage::{ObjectStore, StorageError};

/// Why an output could not be verified.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unverified {
    /// Reading failed; a transient failure may pass on a retry.
    #[error("{0}")]
    Storage(StorageError),
    /// The file is missing, cut short or not what it should be.
    #[error("{0}")]
    Invalid(String),
}

impl From<StorageError> for Unverified {
    fn from(e: StorageError) -> Self {
        Unverified::Storage(e)
    }
}

/// Compressed bytes read per request while checking the csv.gz.
const CHUNK: u64 = 8 << 20;

async fn existing_size<S: ObjectStore>(store: &S, at: &Location) -> Result<u64, Unverified> {
    store
        .size(at)
        .await?
        .ok_or_else(|| Unverified::Invalid(format!("{at} does not exist")))
}

/// Rows in the Parquet file at `at`, from its footer.
pub async fn parquet_rows<S: ObjectStore>(store: &S, at: &Location) -> Result<u64, Unverified> {
    let size = existing_size(store, at).await?;
    let mut reader = StoreParquetReader::new(store.clone(), at.clone(), size);
    let metadata = reader.get_metadata(None).await.map_err(|e| {
        // A read that failed underneath stays a storage error.
        if let parquet::errors::ParquetError::External(inner) = &e
            && let Some(storage) = inner.downcast_ref::<StorageError>()
        {
            return Unverified::Storage(storage.clone());
        }
        Unverified::Invalid(format!("{at} is not a readable Parquet file: {e}"))
    })?;
    Ok(metadata.file_metadata().num_rows().max(0) as u64)
}

/// Data records (after the header) in the csv.gz at `at`.
pub async fn csv_gz_records<S: ObjectStore>(store: &S, at: &Location) -> Result<u64, Unverified> {
    let size = existing_size(store, at).await?;
    let mut decoder = MultiGzDecoder::new(RecordCounter::default());
    let mut offset = 0;
    while offset < size {
        let end = (offset + CHUNK).min(size);
        let chunk = store.get_range(at, offset..end).await?;
        decoder
            .write_all(&chunk)
            .map_err(|e| Unverified::Invalid(format!("{at} is not a readable gzip stream: {e}")))?;
        offset = end;
    }
    let counter = decoder
        .finish()
        .map_err(|e| Unverified::Invalid(format!("{at} is not a complete gzip stream: {e}")))?;
    counter.data_records(at).map_err(Unverified::Invalid)
}

/// Counts CSV records (RFC 4180: a line break inside quotes is data).
#[derive(Debug, Default)]
struct RecordCounter {
    in_quotes: bool,
    records: u64,
    /// Bytes since the last record's end.
    pending: bool,
}

impl RecordCounter {
    fn data_records(self, at: &Location) -> Result<u64, String> {
        if self.in_quotes || self.pending {
            return Err(format!("{at} ends inside a record: the file is cut short"));
        }
        self.records
            .checked_sub(1)
            .ok_or_else(|| format!("{at} has no header line"))
    }
}

impl Write for RecordCounter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        for &b in buf {
            match b {
                b'"' => self.in_quotes = !self.in_quotes,
                b'\n' if !self.in_quotes => {
                    self.records += 1;
                    self.pending = false;
                    continue;
                }
                _ => {}
            }
            self.pending = true;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::local::LocalStore;
    use flate2::Compression;
    use flate2::write::GzEncoder;

    fn gz(text: &str) -> Vec<u8> {
        let mut e = GzEncoder::new(Vec::new(), Compression::fast());
        e.write_all(text.as_bytes()).unwrap();
        e.finish().unwrap()
    }

    fn count(bytes: &[u8]) -> Result<u64, String> {
        count_in(bytes).map_err(|e| e.to_string())
    }

    fn count_in(bytes: &[u8]) -> Result<u64, Unverified> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.csv.gz");
        std::fs::write(&path, bytes).unwrap();
        crate::test_util::block_on(csv_gz_records(&LocalStore, &Location::Local(path)))
    }

    #[test]
    fn counts_records_not_line_breaks() {
        let csv = "a,b\n1,\"two\nlines\"\n2,\"say \"\"hi\"\"\"\n";
        assert_eq!(count(&gz(csv)), Ok(2));
        // Two gzip members, as the parallel writer makes them.
        let mut two = gz("a,b\n1,x\n");
        two.extend(gz("2,y\n"));
        assert_eq!(count(&two), Ok(2));
        assert_eq!(count(&gz("a,b\n")), Ok(0));
    }

    #[test]
    fn a_throttled_read_stays_a_transient_storage_error() {
        use crate::test_util::{Throttled, slow_down};
        let at = Location::Local("/r/x".into());
        let (parquet, csv) = crate::test_util::block_on(async {
            (
                parquet_rows(&Throttled, &at).await,
                csv_gz_records(&Throttled, &at).await,
            )
        });
        assert_eq!(parquet, Err(Unverified::Storage(slow_down(&at))));
        assert_eq!(csv, Err(Unverified::Storage(slow_down(&at))));
    }

    #[test]
    fn a_cut_or_broken_file_is_an_error() {
        let whole = gz("a,b\n1,x\n2,y\n");
        assert!(count(&whole[..whole.len() - 12]).is_err());
        assert!(
            count(&gz("a,b\n1,\"open"))
                .unwrap_err()
                .contains("cut short")
        );
        assert!(count(b"not gzip at all").is_err());
        assert!(count(&gz("")).unwrap_err().contains("no header"));
    }
}
