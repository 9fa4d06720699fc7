//! Where finished runs go: the [`Sink`] trait, the operations it receives,
//! flush completion, and an in-memory sink for tests.

use crate::run::{Feedback, RunRecord};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};
use uuid::Uuid;

/// One thing to send to LangSmith.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum RunOp {
    /// A run was created (posted). It may already be finished.
    Create(Box<RunRecord>),
    /// A previously created run changed (typically: it ended).
    Update(Box<RunRecord>),
    /// Feedback on a run.
    Feedback(Box<Feedback>),
}

impl RunOp {
    /// The id of the run this operation is about.
    ///
    /// ```
    /// # use langsmith_core::{Feedback, RunOp, uuid7};
    /// let run = uuid7();
    /// assert_eq!(RunOp::Feedback(Box::new(Feedback::new(run, "k"))).run_id(), run);
    /// ```
    pub fn run_id(&self) -> Uuid {
        match self {
            RunOp::Create(r) | RunOp::Update(r) => r.id,
            RunOp::Feedback(f) => f.run_id,
        }
    }
}

/// Receives finished runs. The background exporter is one; [`MemorySink`]
/// (for tests) is another. `submit` is called on the caller's thread and
/// must never block.
///
/// ```
/// use langsmith_core::{RunOp, Sink, Completion};
/// struct Discard;
/// impl Sink for Discard {
///     fn submit(&self, _op: RunOp) {}
///     fn flush(&self) -> Completion { Completion::done() }
/// }
/// ```
pub trait Sink: Send + Sync + 'static {
    /// Hands one operation over. Never blocks; may drop (and count) it.
    fn submit(&self, op: RunOp);
    /// Starts a flush of everything submitted before this call; the returned
    /// [`Completion`] is done when all of it has been delivered or given up.
    fn flush(&self) -> Completion;
    /// Delivery statistics, when the sink keeps them.
    fn stats(&self) -> crate::Stats {
        crate::Stats::default()
    }
}

/// A one-shot signal that some work (typically a flush) is finished. It can
/// be awaited from async code on any runtime, or waited on with a timeout
/// from synchronous code.
///
/// ```
/// use langsmith_core::Completion;
/// let (c, signal) = Completion::new();
/// std::thread::spawn(move || signal.complete());
/// assert!(c.wait_timeout(std::time::Duration::from_secs(5)));
/// ```
#[derive(Clone, Debug)]
pub struct Completion {
    inner: Arc<CompletionInner>,
}

#[derive(Debug, Default)]
struct CompletionInner {
    done: AtomicBool,
    lock: Mutex<()>,
    cv: Condvar,
    notify: tokio::sync::Notify,
}

/// The sending side of a [`Completion`]. Dropping it also completes, so a
/// waiter is never left hanging by a worker that goes away.
#[derive(Debug)]
pub struct CompletionSignal {
    inner: Arc<CompletionInner>,
}

impl Completion {
    /// A pending completion and the signal that finishes it.
    ///
    /// ```
    /// let (c, s) = langsmith_core::Completion::new();
    /// assert!(!c.is_done());
    /// s.complete();
    /// assert!(c.is_done());
    /// ```
    pub fn new() -> (Completion, CompletionSignal) {
        let inner = Arc::new(CompletionInner::default());
        (
            Completion {
                inner: inner.clone(),
            },
            CompletionSignal { inner },
        )
    }

    /// An already finished completion.
    ///
    /// ```
    /// assert!(langsmith_core::Completion::done().is_done());
    /// ```
    pub fn done() -> Completion {
        let (c, s) = Completion::new();
        s.complete();
        c
    }

    /// Whether it is finished.
    ///
    /// ```
    /// assert!(langsmith_core::Completion::done().is_done());
    /// ```
    pub fn is_done(&self) -> bool {
        self.inner.done.load(Ordering::Acquire)
    }

    /// Blocks the current thread until done or `timeout` passes; returns
    /// whether it is done. Does not need (or block) any async runtime's
    /// worker other than the calling thread.
    ///
    /// ```
    /// let (c, _s) = langsmith_core::Completion::new();
    /// assert!(!c.wait_timeout(std::time::Duration::from_millis(1)));
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let mut guard = match self.inner.lock.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        while !self.is_done() {
            let now = Instant::now();
            if now >= deadline {
                return false;
            }
            guard = match self.inner.cv.wait_timeout(guard, deadline - now) {
                Ok((g, _)) => g,
                Err(p) => p.into_inner().0,
            };
        }
        true
    }

    /// Waits asynchronously until done.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// langsmith_core::Completion::done().wait().await;
    /// # }
    /// ```
    pub async fn wait(&self) {
        loop {
            let notified = self.inner.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.is_done() {
                return;
            }
            notified.await;
        }
    }
}

impl CompletionSignal {
    /// Marks the completion done and wakes every waiter.
    ///
    /// ```
    /// let (c, s) = langsmith_core::Completion::new();
    /// s.complete();
    /// assert!(c.is_done());
    /// ```
    pub fn complete(self) {
        // Drop does the work.
    }
}

impl Drop for CompletionSignal {
    fn drop(&mut self) {
        let _guard = self.inner.lock.lock();
        self.inner.done.store(true, Ordering::Release);
        self.inner.cv.notify_all();
        self.inner.notify.notify_waiters();
    }
}

/// A sink that keeps everything in memory, for tests: what would have been
/// sent, and the runs as LangSmith would store them (creates and updates merged).
///
/// ```
/// use langsmith_core::{Client, MemorySink, RunTree};
/// let sink = MemorySink::new();
/// let client = Client::builder().sink(sink.clone()).build();
/// let run = RunTree::new("root").client(client).start();
/// run.end();
/// assert_eq!(sink.runs()[0].name, "root");
/// ```
#[derive(Clone, Default)]
pub struct MemorySink {
    ops: Arc<Mutex<Vec<RunOp>>>,
}

impl std::fmt::Debug for MemorySink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemorySink")
            .field("ops", &self.ops().len())
            .finish()
    }
}

impl MemorySink {
    /// An empty sink.
    ///
    /// ```
    /// assert!(langsmith_core::MemorySink::new().ops().is_empty());
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Everything submitted, in order.
    ///
    /// ```
    /// assert!(langsmith_core::MemorySink::new().ops().is_empty());
    /// ```
    pub fn ops(&self) -> Vec<RunOp> {
        match self.ops.lock() {
            Ok(g) => g.clone(),
            Err(p) => p.into_inner().clone(),
        }
    }

    /// The runs, with each update merged into its create, in order of creation.
    ///
    /// ```
    /// assert!(langsmith_core::MemorySink::new().runs().is_empty());
    /// ```
    pub fn runs(&self) -> Vec<RunRecord> {
        let mut out: Vec<RunRecord> = Vec::new();
        for op in self.ops() {
            match op {
                RunOp::Create(r) => out.push(*r),
                RunOp::Update(r) => match out.iter_mut().find(|x| x.id == r.id) {
                    Some(existing) => crate::merge::merge_update(existing, *r),
                    None => out.push(*r),
                },
                RunOp::Feedback(_) => {}
            }
        }
        out
    }

    /// Feedback submitted, in order.
    ///
    /// ```
    /// assert!(langsmith_core::MemorySink::new().feedback().is_empty());
    /// ```
    pub fn feedback(&self) -> Vec<Feedback> {
        self.ops()
            .into_iter()
            .filter_map(|op| match op {
                RunOp::Feedback(f) => Some(*f),
                _ => None,
            })
            .collect()
    }

    /// Forgets everything recorded.
    ///
    /// ```
    /// langsmith_core::MemorySink::new().clear();
    /// ```
    pub fn clear(&self) {
        match self.ops.lock() {
            Ok(mut g) => g.clear(),
            Err(p) => p.into_inner().clear(),
        }
    }
}

impl Sink for MemorySink {
    fn submit(&self, op: RunOp) {
        match self.ops.lock() {
            Ok(mut g) => g.push(op),
            Err(p) => p.into_inner().push(op),
        }
    }

    fn flush(&self) -> Completion {
        Completion::done()
    }
}
