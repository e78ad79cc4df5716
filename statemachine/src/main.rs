//! `s3la`: S3 Logs Analyzer on one machine.

use std::process::ExitCode;

use clap::Parser;

mod cli;

/// jemalloc, not glibc's malloc. glibc gives each thread an arena, and with
/// the merge's reader, encoder, gzip and report threads the resident memory
/// grew by a third (260 against 195 MB for a month of selectAll rows); one
/// arena, the earlier setting, kept it flat but made every thread of the
/// embedded engine wait on the same lock: on 16 cores its query took 2.9 s
/// against 0.56 s under jemalloc (tests/bench/scaling.py). jemalloc keeps
/// per-thread caches over a few shared arenas and returns freed pages.
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// jemalloc's settings, read at its start. By default it gives allocations
/// over 8 MiB to an arena that returns their pages at once: `parse` takes
/// 16 MiB chunks of input and was 20% slower for the page faults; here they
/// are kept and reused like any other.
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: JemallocConf = JemallocConf(c"oversize_threshold:0".as_ptr());

/// A C string pointer jemalloc reads once, before any thread exists.
#[repr(transparent)]
struct JemallocConf(*const std::ffi::c_char);
// SAFETY: it points at a string literal, never written.
unsafe impl Sync for JemallocConf {}

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(code) => code,
        // A reader that stopped early (`s3la parse logs | head`) is not an error.
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", cli::error_text(&e));
            ExitCode::from(1)
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
