//! What the benches share: generated logs as the parser's Arrow batches.

use arrow_array::RecordBatch;
use s3la_shared::log_format::arrow::LogBatchBuilder;
use s3la_shared::log_format::lines::for_each_line;
use s3la_shared::loggen::{GenSpec, files_under, generate};

/// The logs `spec` generates, parsed by `builder` into batches of `rows`
/// rows (malformed lines left out), in the generator's file order.
pub fn generated_batches(
    spec: &GenSpec,
    mut builder: LogBatchBuilder,
    rows: usize,
) -> Vec<RecordBatch> {
    let dir = std::env::temp_dir().join(format!("s3la-bench-logs-{}", std::process::id()));
    generate(spec, &dir, |_| {}).expect("generate sample logs");
    let mut batches = Vec::new();
    for file in files_under(&dir).unwrap() {
        let text = std::fs::read(file).unwrap();
        for_each_line(&text, 1, |_, r| {
            if let Ok(r) = r {
                builder.append(&r);
                if builder.len() == rows {
                    batches.push(builder.finish().unwrap());
                }
            }
        });
    }
    batches.push(builder.finish().unwrap());
    std::fs::remove_dir_all(&dir).ok();
    batches
}
