//! Fault injection for reliability tests of exporters: make the next ingest
//! requests fail with a status, answer late, or lose the connection.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;

/// A failure the collector injects into ingest requests (`/runs/multipart`,
/// `/runs/batch`, `POST /runs`, `PATCH /runs/{id}`, `POST /feedback`).
/// Read routes and `/info` are never affected.
///
/// ```
/// use std::time::Duration;
/// use langsmith_collector::{Collector, Fault};
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let c = Collector::builder().start()?;
/// // The next two ingest requests get 503 with `Retry-After: 1`, nothing stored.
/// c.fail_next(2, Fault::Status { code: 503, retry_after: Some(1) });
/// // Afterwards, every ingest request is answered 300 ms late (and stored).
/// c.set_fault(Some(Fault::Delay(Duration::from_millis(300))));
/// c.clear_faults();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Answer with this status code (and `Retry-After: N` seconds if given)
    /// without storing anything. The body is read first.
    Status {
        /// HTTP status code to answer with, e.g. 429, 500, 503.
        code: u16,
        /// Seconds for a `Retry-After` header, if any.
        retry_after: Option<u64>,
    },
    /// Wait this long, then handle the request normally (it is stored).
    Delay(Duration),
    /// Read the request, store nothing, and close the connection without
    /// answering.
    Drop,
}

#[derive(Default)]
struct State {
    queue: VecDeque<Fault>,
    always: Option<Fault>,
    injected: u64,
}

/// The fault schedule of one collector.
#[derive(Default)]
pub(crate) struct Faults {
    state: Mutex<State>,
}

impl Faults {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut s)
    }

    /// Queues `fault` for the next `n` ingest requests (after those already queued).
    pub(crate) fn fail_next(&self, n: usize, fault: Fault) {
        self.with(|s| s.queue.extend(std::iter::repeat_n(fault, n)));
    }

    /// Sets the fault applied when the queue is empty.
    pub(crate) fn set(&self, fault: Option<Fault>) {
        self.with(|s| s.always = fault);
    }

    /// Removes every scheduled fault.
    pub(crate) fn clear(&self) {
        self.with(|s| {
            s.queue.clear();
            s.always = None;
        });
    }

    /// How many faults were injected so far.
    pub(crate) fn injected(&self) -> u64 {
        self.with(|s| s.injected)
    }

    /// The fault for the next ingest request, if any.
    pub(crate) fn take(&self) -> Option<Fault> {
        self.with(|s| {
            let f = s.queue.pop_front().or_else(|| s.always.clone());
            if f.is_some() {
                s.injected += 1;
            }
            f
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_then_persistent() {
        let f = Faults::default();
        f.fail_next(2, Fault::Drop);
        f.set(Some(Fault::Delay(Duration::ZERO)));
        assert_eq!(f.take(), Some(Fault::Drop));
        assert_eq!(f.take(), Some(Fault::Drop));
        assert_eq!(f.take(), Some(Fault::Delay(Duration::ZERO)));
        f.clear();
        assert_eq!(f.take(), None);
        assert_eq!(f.injected(), 3);
    }
}
