//! Parse throughput: log text to records, and log text to Arrow batches.
//! `cargo bench -p s3la-shared --features loggen --bench parse`
//! Criterion prints MB/s (bytes) for each; lines/s = MB/s / average line size,
//! printed once at start.

use std::hint::black_box;
use std::path::Path;

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use s3la_shared::log_format::arrow::LogBatchBuilder;
use s3la_shared::log_format::lines::for_each_line;
use s3la_shared::loggen::{GenSpec, generate};

fn sample_text() -> Vec<u8> {
    let dir = std::env::temp_dir().join(format!("s3la-bench-{}", std::process::id()));
    let spec = GenSpec::new(NaiveDate::from_ymd_opt(2024, 1, 1).unwrap(), 1, 40_000, 1);
    generate(&spec, &dir, |_| {}).expect("generate sample logs");
    let mut text = Vec::new();
    collect(&dir, &mut text);
    std::fs::remove_dir_all(&dir).ok();
    text
}

fn collect(dir: &Path, out: &mut Vec<u8>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.extend(std::fs::read(p).unwrap());
        }
    }
}

fn bench(c: &mut Criterion) {
    let text = sample_text();
    let lines = text.iter().filter(|&&b| b == b'\n').count();
    eprintln!(
        "sample: {lines} lines, {} bytes, {:.0} bytes/line",
        text.len(),
        text.len() as f64 / lines as f64
    );
    let mut g = c.benchmark_group("parse");
    g.throughput(Throughput::Bytes(text.len() as u64));
    g.bench_function("records", |b| {
        b.iter(|| {
            let mut n = 0u64;
            for_each_line(black_box(&text), 1, |_, r| n += u64::from(r.is_ok()));
            n
        })
    });
    g.bench_function("arrow", |b| {
        let mut builder = LogBatchBuilder::with_capacity(8192);
        b.iter(|| {
            let mut rows = 0;
            for_each_line(black_box(&text), 1, |_, r| {
                if let Ok(r) = r {
                    builder.append(&r);
                    if builder.len() == 8192 {
                        rows += builder.finish().unwrap().num_rows();
                    }
                }
            });
            rows + builder.finish().unwrap().num_rows()
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(20);
    targets = bench
}
criterion_main!(benches);
