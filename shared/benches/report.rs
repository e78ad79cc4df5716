//! The report's counting on one core: rows a second that one [`Tally`]
//! counts, the cost every row pays in MergeResults besides its encoding.
//! `cargo bench -p s3la-shared --features loggen --bench report`
//! Criterion prints rows per second (its "elements").

mod common;

use std::hint::black_box;

use arrow_array::RecordBatch;
use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use s3la_shared::log_format::arrow::LogBatchBuilder;
use s3la_shared::loggen::GenSpec;
use s3la_shared::report::destinations::Destinations;
use s3la_shared::report::geo::Countries;
use s3la_shared::report::tally::Tally;

const DAYS: u32 = 3;

/// Three days of generated logs (sessions, crawlers, CloudFront and
/// in-region traffic, as the demo has them) as the parser's batches.
fn sample_batches() -> Vec<RecordBatch> {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let spec = GenSpec::new(start, DAYS, 50_000, 11);
    common::generated_batches(&spec, LogBatchBuilder::with_capacity(8192), 8192)
}

fn bench(c: &mut Criterion) {
    let batches = sample_batches();
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).unwrap();
    let window = |d: NaiveDate| d.and_hms_opt(0, 0, 0).unwrap().and_utc().timestamp_millis();
    let end = start + chrono::Days::new(u64::from(DAYS));
    let destinations = Destinations::for_region("us-east-1");
    let mut group = c.benchmark_group("report");
    group.throughput(Throughput::Elements(rows as u64));
    group.sample_size(10);
    group.bench_function("count rows (one tally)", |b| {
        b.iter(|| {
            let mut t = Tally::new(
                window(start),
                window(end),
                Countries::unknown(),
                destinations.clone(),
            );
            for batch in &batches {
                t.add_batch(batch);
            }
            black_box(t.overall.requests)
        })
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
