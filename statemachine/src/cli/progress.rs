//! Progress bars on stderr, shown only when stderr is a terminal so that logs
//! and pipes stay clean.

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A byte-counting progress bar; hidden when stderr is not a terminal.
pub fn bytes_bar(total: Option<u64>, what: &str) -> ProgressBar {
    let bar = match total {
        Some(t) => ProgressBar::new(t),
        None => ProgressBar::no_length(),
    };
    if !std::io::stderr().is_terminal() {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    let template = if total.is_some() {
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}"
    } else {
        "{msg} {bytes} {bytes_per_sec}"
    };
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(what.to_string());
    bar
}

/// `1234567` as `1,234,567`, for summaries people read (as the report writes counts).
pub use s3la_shared::report::format::count as thousands;
use s3la_shared::report::format::{ByteUnits, bytes_in};

/// Bytes in decimal units (MB = 10^6 bytes), as the report's formatter writes them.
pub fn human_bytes(n: u64) -> String {
    bytes_in(n, ByteUnits::Decimal)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_numbers_for_people() {
        for (n, text) in [(0, "0"), (999, "999"), (1_234_567, "1,234,567")] {
            assert_eq!(thousands(n), text);
        }
        for (n, text) in [(999, "999 B"), (1_500_000, "1.5 MB")] {
            assert_eq!(human_bytes(n), text);
        }
    }
}
