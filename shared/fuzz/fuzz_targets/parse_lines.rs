//! Arbitrary bytes through the line walker, the parser and the Arrow builder:
//! no panic, and every record that parses renders back to a line that parses
//! to the same record.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3la_shared::log_format::arrow::LogBatchBuilder;
use s3la_shared::log_format::lines::for_each_line;
use s3la_shared::log_format::parse_line;

fuzz_target!(|data: &[u8]| {
    let mut builder = LogBatchBuilder::with_capacity(8);
    for_each_line(data, 1, |_, r| {
        if let Ok(r) = r {
            builder.append(&r);
            let again = r.to_line();
            let reparsed = parse_line(&again).expect("a rendered record parses");
            assert_eq!(reparsed.field_count, r.field_count);
        }
    });
    builder.finish().expect("batch builds");
});
