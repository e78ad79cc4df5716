//! A thread fed through a bounded channel: it takes what is sent to it, in
//! order, and hands back what it made once its input ends. The Parquet
//! column lanes ([`super::parquet_columns`]) and the report's workers
//! (`report::tally_workers`) are each one; the bound keeps memory flat.

use std::sync::mpsc::{Receiver, SyncSender, sync_channel};
use std::thread::JoinHandle;

pub struct FedThread<T, R> {
    input: SyncSender<T>,
    thread: JoinHandle<R>,
}

impl<T: Send + 'static, R: Send + 'static> FedThread<T, R> {
    /// Starts `work` on a thread called `name`, over an input that holds
    /// at most `queued` items not yet taken.
    pub fn spawn(
        name: &str,
        queued: usize,
        work: impl FnOnce(Receiver<T>) -> R + Send + 'static,
    ) -> std::io::Result<Self> {
        let (input, receive) = sync_channel(queued);
        let thread = std::thread::Builder::new()
            .name(name.into())
            .spawn(move || work(receive))?;
        Ok(Self { input, thread })
    }

    /// Queues `item`, waiting while the queue is full; gives it back if the
    /// thread has stopped (it panicked, or returned early on an error).
    pub fn send(&self, item: T) -> Result<(), T> {
        self.input.send(item).map_err(|e| e.0)
    }

    /// Ends the input; the thread finishes on its own, to be joined later.
    pub fn close(self) -> JoinHandle<R> {
        self.thread
    }

    /// Ends the input and waits for what the thread made (`Err` if it
    /// panicked).
    pub fn finish(self) -> std::thread::Result<R> {
        self.close().join()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn takes_everything_in_order_and_hands_back_its_result() {
        let summing =
            FedThread::spawn("sum", 1, |input| input.iter().collect::<Vec<u32>>()).unwrap();
        for n in 1..=5 {
            summing.send(n).unwrap();
        }
        assert_eq!(summing.finish().unwrap(), [1, 2, 3, 4, 5]);
    }

    #[test]
    fn a_stopped_thread_gives_the_item_back() {
        let stopped = FedThread::spawn("stop", 1, |input: Receiver<u32>| drop(input)).unwrap();
        // A send before the thread has dropped its input is queued; once it
        // has, every send is refused and the item comes back.
        let refused = (0..1000).find_map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(5));
            stopped.send(7).err()
        });
        assert_eq!(refused, Some(7));
        assert!(stopped.finish().is_ok());
    }
}
