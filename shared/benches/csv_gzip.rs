//! The csv.gz writer against the streaming alternative: the same batches
//! written as CSV and gzip at about the same compression ratio, by
//! `CsvGzWriter` (chunks of rows formatted and compressed by libdeflate at
//! level 1 on every core, as gzip members) and by arrow-csv feeding one
//! `async-compression` gzip stream at zlib level 3 (one core).
//! `cargo bench -p s3la-shared --features loggen --bench csv_gzip`
//! Criterion prints MB/s of CSV text.

mod common;

use std::hint::black_box;

use arrow_array::RecordBatch;
use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use s3la_shared::log_format::arrow::LogBatchBuilder;
use s3la_shared::loggen::GenSpec;
use s3la_shared::results::csv_gz::CsvGzWriter;
use s3la_shared::results::merge::GZIP_LEVEL;
use tokio::io::AsyncWriteExt;

/// A day of generated logs as batches of every column but the request time
/// (`CsvGzWriter` formats times its own way; without them both sides write
/// the same text) and the list of extra fields (CSV has no lists).
fn sample_batches() -> Vec<RecordBatch> {
    let spec = GenSpec::new(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(), 1, 60_000, 1);
    let columns: Vec<usize> = (0..27).filter(|&c| c != 2).collect();
    common::generated_batches(&spec, LogBatchBuilder::with_columns(8192, &columns), 8192)
}

fn csv_text(batches: &[RecordBatch]) -> Vec<u8> {
    let mut w = arrow_csv::Writer::new(Vec::new());
    for b in batches {
        w.write(b).unwrap();
    }
    w.into_inner()
}

fn bench(c: &mut Criterion) {
    let batches = sample_batches();
    let schema = batches[0].schema();
    let text_bytes = csv_text(&batches).len();
    eprintln!("sample: {} MB of CSV text", text_bytes >> 20);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut g = c.benchmark_group("csv_gzip");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(text_bytes as u64));
    g.bench_function("CsvGzWriter, members on every core", |b| {
        b.iter(|| {
            let mut w = CsvGzWriter::new(Vec::new(), schema.clone(), GZIP_LEVEL);
            for batch in &batches {
                w.write(black_box(batch)).unwrap();
            }
            w.finish().unwrap().len()
        })
    });
    g.bench_function("arrow-csv into one async-compression stream", |b| {
        b.iter(|| {
            runtime.block_on(async {
                // zlib level 3 compresses this text about as much as
                // libdeflate's level 1 (7.0 and 6.9 times).
                let level = async_compression::Level::Precise(3);
                let mut gz =
                    async_compression::tokio::write::GzipEncoder::with_quality(Vec::new(), level);
                for batch in &batches {
                    let mut csv = arrow_csv::WriterBuilder::new()
                        .with_header(false)
                        .build(Vec::new());
                    csv.write(black_box(batch)).unwrap();
                    gz.write_all(&csv.into_inner()).await.unwrap();
                }
                gz.shutdown().await.unwrap();
                gz.into_inner().len()
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
