//! What the merge tells whoever watches it, without knowing who: each batch
//! it reads and each part it finishes. MergeResults counts the report from
//! the batches (`report::tally::Tally`); `s3la merge` prints its progress
//! from the parts. The merge runs the observer on a thread of its own, so
//! watching overlaps with encoding the outputs.

use std::sync::mpsc::{SyncSender, sync_channel};
use std::thread::JoinHandle;

use arrow_array::RecordBatch;

/// Watches a merge. Both methods default to doing nothing.
pub trait MergeObserver: Send + 'static {
    /// Every batch of every part, in order, conformed to the result schema,
    /// before the merge leaves out the rows it does not write.
    fn batch(&mut self, _batch: &RecordBatch) {}

    /// After each part is merged.
    fn part_done(&mut self, _progress: &Progress) {}
}

/// No observer.
impl MergeObserver for () {}

/// How far a merge is, after a part.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Parts merged so far.
    pub parts: usize,
    /// Rows written so far.
    pub rows: u64,
    /// Bytes of the parts read so far.
    pub input_bytes: u64,
}

enum Event {
    Batch(RecordBatch),
    PartDone(Progress),
}

/// Events in flight to the observer: enough to keep both threads busy, few
/// enough to keep memory flat.
const EVENTS_IN_FLIGHT: usize = 2;

/// An observer running on a thread of its own, fed in order.
pub(super) struct ObserverThread<O> {
    events: SyncSender<Event>,
    thread: JoinHandle<O>,
}

/// The observer's thread is gone (it panicked).
#[derive(Debug, thiserror::Error)]
#[error("the merge's observer stopped")]
pub struct ObserverStopped;

impl<O: MergeObserver> ObserverThread<O> {
    pub(super) fn start(mut observer: O) -> Self {
        let (events, rx) = sync_channel::<Event>(EVENTS_IN_FLIGHT);
        // Named, so a profile's per-thread view shows what it costs.
        let thread = std::thread::Builder::new()
            .name("merge-observer".into())
            .spawn(move || {
                for event in rx {
                    match event {
                        Event::Batch(batch) => observer.batch(&batch),
                        Event::PartDone(progress) => observer.part_done(&progress),
                    }
                }
                observer
            })
            .expect("starting a thread");
        Self { events, thread }
    }

    pub(super) fn batch(&self, batch: &RecordBatch) -> Result<(), ObserverStopped> {
        // Cheap: a batch's columns are shared, not copied.
        self.send(Event::Batch(batch.clone()))
    }

    pub(super) fn part_done(&self, progress: Progress) -> Result<(), ObserverStopped> {
        self.send(Event::PartDone(progress))
    }

    fn send(&self, event: Event) -> Result<(), ObserverStopped> {
        self.events.send(event).map_err(|_| ObserverStopped)
    }

    /// Waits for the observer to see every event sent; hands it back.
    pub(super) fn finish(self) -> Result<O, ObserverStopped> {
        drop(self.events);
        self.thread.join().map_err(|_| ObserverStopped)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    use arrow_array::Int64Array;

    #[derive(Default)]
    struct Log(Vec<String>);

    impl MergeObserver for Log {
        fn batch(&mut self, batch: &RecordBatch) {
            self.0.push(format!("batch {}", batch.num_rows()));
        }
        fn part_done(&mut self, p: &Progress) {
            self.0
                .push(format!("part {} {} {}", p.parts, p.rows, p.input_bytes));
        }
    }

    #[test]
    fn the_observer_sees_every_event_in_order() {
        let batch =
            RecordBatch::try_from_iter(vec![("n", Arc::new(Int64Array::from(vec![1, 2])) as _)])
                .unwrap();
        let watching = ObserverThread::start(Log::default());
        for parts in 1..=3 {
            watching.batch(&batch).unwrap();
            let progress = Progress {
                parts,
                rows: 2 * parts as u64,
                input_bytes: 10,
            };
            watching.part_done(progress).unwrap();
        }
        let log = watching.finish().unwrap();
        assert_eq!(
            log.0,
            [
                "batch 2",
                "part 1 2 10",
                "batch 2",
                "part 2 4 10",
                "batch 2",
                "part 3 6 10"
            ]
        );
    }
}
