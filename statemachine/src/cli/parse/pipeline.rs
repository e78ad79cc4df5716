//! An ordered parallel map over input chunks: one reader thread, `workers`
//! parsing threads, and the caller's thread consuming results in input order.
//! Channels are bounded, so memory stays at a few chunks per worker however
//! large the input is.

use std::collections::BTreeMap;
use std::sync::mpsc::sync_channel;
use std::sync::{Arc, Mutex};

use s3la_shared::log_format::forms::LogForm;

use super::sources::{Chunk, Source, read_chunks};

pub fn run_ordered<T: Send>(
    (sources, expected): (&[Source], Option<LogForm>),
    workers: usize,
    chunk_bytes: usize,
    work: impl Fn(Chunk) -> T + Sync,
    mut consume: impl FnMut(T) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let workers = workers.max(1);
    let (chunk_tx, chunk_rx) = sync_channel::<(u64, Chunk)>(workers * 2);
    // Shared by the workers only: when the last one exits, the receiver is
    // dropped and the reader's next send fails, so nothing blocks forever.
    let chunk_rx = Arc::new(Mutex::new(chunk_rx));
    let (result_tx, result_rx) = sync_channel::<(u64, T)>(workers * 2);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut seq = 0u64;
            read_chunks(sources, chunk_bytes, expected, |chunk| {
                seq += 1;
                chunk_tx.send((seq - 1, chunk)).is_ok()
            })
        });
        for _ in 0..workers {
            let tx = result_tx.clone();
            let (rx, work) = (Arc::clone(&chunk_rx), &work);
            scope.spawn(move || {
                loop {
                    // The lock is held only while taking the next chunk.
                    let next = rx
                        .lock()
                        .map_err(|_| ())
                        .and_then(|r| r.recv().map_err(|_| ()));
                    let Ok((seq, chunk)) = next else { break };
                    if tx.send((seq, work(chunk))).is_err() {
                        break;
                    }
                }
            });
        }
        drop(result_tx);
        drop(chunk_rx);
        let mut pending = BTreeMap::new();
        let mut next = 0u64;
        let mut outcome = Ok(());
        for (seq, item) in result_rx.iter() {
            pending.insert(seq, item);
            while let Some(item) = pending.remove(&next) {
                next += 1;
                outcome = consume(item);
                if outcome.is_err() {
                    break;
                }
            }
            if outcome.is_err() {
                break;
            }
        }
        // Dropping the receiver stops the workers, which stops the reader.
        drop(result_rx);
        let read = reader.join().expect("reader thread panicked");
        outcome.and(read)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn results_arrive_in_input_order() {
        let dir = tempfile::tempdir().unwrap();
        let mut sources = vec![];
        for i in 0..20 {
            let p = dir.path().join(format!("{i:02}"));
            let mut f = std::fs::File::create(&p).unwrap();
            writeln!(f, "{i}").unwrap();
            sources.push(Source::File(p));
        }
        let mut seen = vec![];
        run_ordered(
            (&sources, None),
            4,
            // One chunk per file.
            1,
            |c| {
                // Uneven work so that completion order differs from input order.
                let n: u64 = std::str::from_utf8(&c.data)
                    .unwrap()
                    .trim()
                    .parse()
                    .unwrap();
                std::thread::sleep(std::time::Duration::from_millis((n * 7) % 5));
                n
            },
            |n| {
                seen.push(n);
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(seen, (0..20).collect::<Vec<_>>());
    }

    #[test]
    fn a_consumer_error_stops_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let sources: Vec<_> = (0..50)
            .map(|i| {
                let p = dir.path().join(format!("{i:02}"));
                std::fs::write(&p, "x\n").unwrap();
                Source::File(p)
            })
            .collect();
        let mut calls = 0;
        let r = run_ordered(
            (&sources, None),
            2,
            1,
            |_| (),
            |_| {
                calls += 1;
                if calls == 3 {
                    anyhow::bail!("disk full")
                } else {
                    Ok(())
                }
            },
        );
        assert_eq!(r.unwrap_err().to_string(), "disk full");
        assert_eq!(calls, 3);
    }
}
