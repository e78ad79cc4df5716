//! `s3la parse`: log files to JSON lines, CSV or Parquet, through its own
//! pipeline: [`sources`] read and split the files into chunks, [`pipeline`]
//! renders them on several threads in order, [`sinks`] write the format.

mod pipeline;
mod sinks;
mod sources;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::bail;
use clap::Args;
use s3la_shared::log_format::forms::LogForm;
use s3la_shared::log_format::lines::LineCounts;

use super::paths::refuse_overlap;
use super::progress::{bytes_bar, human_bytes, thousands};
use super::values;
use pipeline::run_ordered;
use sinks::{Destination, Format, Sink, render_chunk};
use sources::{Source, expand, total_bytes};

#[derive(Debug, Args)]
#[command(after_help = "Examples:\n  \
    s3la parse ./logs --output parquet --out logs.parquet\n  \
    aws s3 cp s3://my-log-bucket/logs/2024-01-05-10-00-00-ABCDEF - | s3la parse - | jq .operation\n\n\
    Malformed lines never stop the run unless --strict: each is reported on stderr with its\n\
    file and line number (and, in JSON lines, as {\"error\", \"line_number\", \"file\"} in its place).")]
pub struct ParseArgs {
    /// Log files, directories (read recursively, in name order) or - for stdin.
    #[arg(value_name = "PATH", required = true)]
    paths: Vec<PathBuf>,
    /// Output format.
    #[arg(long, short = 'o', value_enum, default_value_t = Format::Jsonl)]
    output: Format,
    /// Write to FILE instead of stdout (written under a temporary name, renamed when complete).
    #[arg(long, value_name = "FILE")]
    out: Option<PathBuf>,
    /// Exit non-zero if any line is malformed; with --out, write no file then.
    #[arg(long)]
    strict: bool,
    /// The logs' form (default: each file's, detected from its first bytes).
    #[arg(long, value_name = "FORMAT", value_parser = values::log_form)]
    log_format: Option<LogForm>,
    /// Parsing threads (default: one per core).
    #[arg(long, value_name = "N", value_parser = values::number::<usize, 1, 1024>)]
    threads: Option<usize>,
}

/// Malformed lines printed in full on stderr before the rest are only counted.
const SHOWN_ERRORS: u64 = 20;

pub fn run(args: ParseArgs) -> anyhow::Result<ExitCode> {
    if let Some(out) = &args.out {
        for input in args.paths.iter().filter(|p| p.as_os_str() != "-") {
            refuse_overlap(("the input", input), ("--out", out))?;
        }
    }
    let sources = expand(&args.paths)?;
    if args.out.is_none() && args.output == Format::Parquet && std::io::stdout().is_terminal() {
        bail!("refusing to write Parquet to a terminal: add --out FILE or redirect stdout");
    }
    let started = Instant::now();
    let (dest, writer) = Destination::new(args.out.as_deref())?;
    let result = convert(&args, &sources, writer);
    let counts = match result {
        Ok(c) => c,
        Err(e) => {
            dest.discard();
            return Err(e);
        }
    };
    let files = sources
        .iter()
        .filter(|s| matches!(s, Source::File(_)))
        .count();
    eprintln!(
        "s3la parse: {} {} from {} {} in {:.1}s: {} {}, {} malformed",
        thousands(counts.lines),
        if counts.lines == 1 { "line" } else { "lines" },
        thousands(files as u64 + u64::from(sources.contains(&Source::Stdin))),
        if sources.len() == 1 {
            "input"
        } else {
            "inputs"
        },
        started.elapsed().as_secs_f64(),
        thousands(counts.records),
        if counts.records == 1 {
            "record"
        } else {
            "records"
        },
        thousands(counts.malformed),
    );
    if args.strict && counts.malformed > 0 {
        dest.discard();
        if let Destination::File { path, .. } = &dest {
            eprintln!(
                "error: --strict: {} malformed lines; '{}' was not written",
                counts.malformed,
                path.display()
            );
        } else {
            eprintln!("error: --strict: {} malformed lines", counts.malformed);
        }
        return Ok(ExitCode::from(1));
    }
    dest.commit()?;
    if let Destination::File { path, .. } = &dest {
        let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        eprintln!("wrote {} ({})", path.display(), human_bytes(size));
    }
    Ok(ExitCode::SUCCESS)
}

/// Input per chunk. A Parquet chunk becomes one row group: 16 MB of logs is
/// about 28,000 rows, a row group large enough to compress well and small
/// enough that a few in flight per core keep memory low.
fn chunk_bytes(format: Format) -> usize {
    match format {
        Format::Parquet => 16 << 20,
        Format::Jsonl | Format::Csv => 4 << 20,
    }
}

fn convert(
    args: &ParseArgs,
    sources: &[Source],
    writer: Box<dyn std::io::Write + Send>,
) -> anyhow::Result<LineCounts> {
    let (mut sink, row_groups) = Sink::new(args.output, writer)?;
    let workers = args
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get()));
    let bar = bytes_bar(total_bytes(sources), "parsing");
    let mut counts = LineCounts::default();
    let format = args.output;
    run_ordered(
        (sources, args.log_format),
        workers,
        chunk_bytes(format),
        |chunk| render_chunk(format, &chunk, row_groups.as_ref()),
        |out| {
            let out = out?;
            for (source, e) in &out.errors {
                counts.malformed += 1;
                if counts.malformed <= SHOWN_ERRORS {
                    bar.suspend(|| eprintln!("malformed: {source}:{}: {}", e.line_number, e.error));
                } else if counts.malformed == SHOWN_ERRORS + 1 {
                    bar.suspend(|| {
                        eprintln!("malformed: (further malformed lines are counted, not shown)")
                    });
                }
            }
            counts.lines += out.counts.lines;
            counts.records += out.counts.records;
            bar.inc(out.bytes);
            sink.write(out.piece)
        },
    )?;
    bar.finish_and_clear();
    sink.finish()?;
    Ok(counts)
}
