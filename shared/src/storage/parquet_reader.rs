//! Parquet files read from an object store by ranged GETs: the footer first,
//! then one row group's column chunks at a time, so a part of any size is
//! never held whole in memory.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use parquet::arrow::arrow_reader::ArrowReaderOptions;
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use super::ObjectStore;
use crate::location::Location;

/// Footer bytes fetched in the first request: Athena's footers fit, so
/// opening a part costs one GET.
const FOOTER_HINT: usize = 64 * 1024;

pub struct StoreParquetReader<S> {
    store: S,
    at: Location,
    size: u64,
}

impl<S: ObjectStore> StoreParquetReader<S> {
    pub fn new(store: S, at: Location, size: u64) -> Self {
        Self { store, at, size }
    }
}

impl<S: ObjectStore> AsyncFileReader for StoreParquetReader<S> {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            self.store
                .get_range(&self.at, range)
                .await
                .map_err(|e| ParquetError::External(Box::new(e)))
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let metadata = ParquetMetaDataReader::new()
                .with_metadata_options(options.map(|o| o.metadata_options().clone()))
                .with_prefetch_hint(Some(FOOTER_HINT))
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}
