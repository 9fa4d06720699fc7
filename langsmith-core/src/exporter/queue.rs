//! The hand-over between callers and the worker thread: admission control
//! (bounded by runs and by estimated bytes), the inbox, flush waiters and the
//! delivery counters.
//!
//! Everything here is called on the caller's thread and never blocks for
//! longer than a short, uncontended mutex section: `submit` reserves room with
//! two atomic adds, takes a sequence number and pushes into the inbox, and
//! wakes the worker only when it is idle or a full batch is waiting.

use crate::sink::RunOp;
use crate::sink::{Completion, CompletionSignal};
use crate::warn::RateLimited;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use tokio::sync::Notify;

/// One accepted operation waiting in the inbox.
#[derive(Debug)]
pub(crate) struct Entry {
    /// Its sequence number: ops are numbered in submission order.
    pub(crate) seq: u64,
    /// The operation.
    pub(crate) op: RunOp,
    /// Bytes reserved for it (per destination).
    pub(crate) bytes: u64,
}

/// The inbox proper: entries in sequence order and the next number to give.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    pub(crate) entries: Vec<Entry>,
    pub(crate) next_seq: u64,
}

/// Delivery counters; see [`crate::Stats`] for their meaning.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) queued: AtomicU64,
    pub(crate) sent: AtomicU64,
    pub(crate) retried: AtomicU64,
    pub(crate) dropped_queue_full: AtomicU64,
    pub(crate) dropped_too_old: AtomicU64,
    pub(crate) dropped_rejected: AtomicU64,
    pub(crate) dropped_too_large: AtomicU64,
    pub(crate) dropped_shutdown: AtomicU64,
    pub(crate) failed_requests: AtomicU64,
}

/// Why an operation left the exporter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resolution {
    Sent,
    TooOld,
    Rejected,
    TooLarge,
    Shutdown,
}

impl Counters {
    pub(crate) fn count(&self, how: Resolution, n: u64) {
        let c = match how {
            Resolution::Sent => &self.sent,
            Resolution::TooOld => &self.dropped_too_old,
            Resolution::Rejected => &self.dropped_rejected,
            Resolution::TooLarge => &self.dropped_too_large,
            Resolution::Shutdown => &self.dropped_shutdown,
        };
        c.fetch_add(n, Ordering::Relaxed);
    }
}

/// State shared by the exporter handle (callers) and the worker thread.
#[derive(Debug)]
pub(crate) struct Shared {
    inbox: Mutex<Inbox>,
    /// Wakes the worker.
    pub(crate) notify: Notify,
    /// Set by the worker when it has nothing to do and waits for work.
    pub(crate) worker_idle: AtomicBool,
    /// Set when the last handle is dropped.
    pub(crate) shutdown: AtomicBool,
    /// Set when the worker has stopped (or never started).
    pub(crate) worker_gone: AtomicBool,
    /// Every sequence number below this one is resolved (sent or dropped).
    pub(crate) watermark: AtomicU64,
    /// Flushes waiting for the watermark to reach their target.
    waiters: Mutex<Vec<(u64, CompletionSignal)>>,
    /// Whether `waiters` is non-empty (read by the worker without locking).
    pub(crate) flush_pending: AtomicBool,
    /// Runs (times destinations) accepted and not yet resolved.
    pub(crate) pending_runs: AtomicU64,
    /// Estimated bytes of those.
    pub(crate) pending_bytes: AtomicU64,
    max_runs: u64,
    max_bytes: u64,
    /// How many destinations each op goes to.
    pub(crate) fanout: u64,
    /// Inbox length at which an early wake-up is worth it (a full batch).
    wake_at: usize,
    pub(crate) counters: Counters,
}

static QUEUE_FULL: RateLimited = RateLimited::new(10);

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    match m.lock() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    }
}

impl Shared {
    pub(crate) fn new(max_runs: usize, max_bytes: usize, fanout: usize, wake_at: usize) -> Self {
        Shared {
            inbox: Mutex::new(Inbox {
                entries: Vec::with_capacity(wake_at.clamp(16, 1024)),
                next_seq: 0,
            }),
            notify: Notify::new(),
            worker_idle: AtomicBool::new(false),
            shutdown: AtomicBool::new(false),
            worker_gone: AtomicBool::new(false),
            watermark: AtomicU64::new(0),
            waiters: Mutex::new(Vec::new()),
            flush_pending: AtomicBool::new(false),
            pending_runs: AtomicU64::new(0),
            pending_bytes: AtomicU64::new(0),
            max_runs: max_runs as u64,
            max_bytes: max_bytes as u64,
            fanout: fanout.max(1) as u64,
            wake_at: wake_at.max(1),
            counters: Counters::default(),
        }
    }

    /// Accepts `op` or drops (and counts) it when the queue is full. Never blocks.
    pub(crate) fn submit(&self, op: RunOp) {
        let n = self.fanout;
        let bytes = estimate_bytes(&op);
        if self.worker_gone.load(Ordering::Acquire) || !self.reserve(n, bytes * n) {
            self.counters
                .dropped_queue_full
                .fetch_add(n, Ordering::Relaxed);
            let gone = self.worker_gone.load(Ordering::Relaxed);
            QUEUE_FULL.log(|suppressed| {
                tracing::warn!(
                    max_runs = self.max_runs,
                    max_bytes = self.max_bytes,
                    suppressed,
                    exporter_stopped = gone,
                    "LangSmith: the run queue is full; dropping runs (see Client::stats)"
                )
            });
            return;
        }
        self.counters.queued.fetch_add(n, Ordering::Relaxed);
        let len = {
            let mut inbox = lock(&self.inbox);
            let seq = inbox.next_seq;
            inbox.next_seq += 1;
            inbox.entries.push(Entry { seq, op, bytes });
            inbox.entries.len()
        };
        if len == self.wake_at || (len == 1 && self.worker_idle.load(Ordering::SeqCst)) {
            self.notify.notify_one();
        }
    }

    fn reserve(&self, runs: u64, bytes: u64) -> bool {
        let before = self.pending_runs.fetch_add(runs, Ordering::AcqRel);
        if before + runs > self.max_runs {
            self.pending_runs.fetch_sub(runs, Ordering::AcqRel);
            return false;
        }
        let before = self.pending_bytes.fetch_add(bytes, Ordering::AcqRel);
        // A single op larger than the whole byte cap is still accepted into
        // an otherwise empty queue, so that huge runs are not silently lost.
        if before > 0 && before + bytes > self.max_bytes {
            self.pending_bytes.fetch_sub(bytes, Ordering::AcqRel);
            self.pending_runs.fetch_sub(runs, Ordering::AcqRel);
            return false;
        }
        true
    }

    /// Gives back what one resolved op (for one destination) had reserved.
    pub(crate) fn release(&self, runs: u64, bytes: u64) {
        self.pending_runs.fetch_sub(runs, Ordering::AcqRel);
        self.pending_bytes.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// Moves every waiting entry into `into` (which must be empty); returns
    /// the first sequence number not yet handed out.
    pub(crate) fn drain(&self, into: &mut Vec<Entry>) -> u64 {
        let mut inbox = lock(&self.inbox);
        std::mem::swap(&mut inbox.entries, into);
        inbox.next_seq
    }

    /// Whether the inbox is empty.
    pub(crate) fn inbox_is_empty(&self) -> bool {
        lock(&self.inbox).entries.is_empty()
    }

    /// A completion for everything submitted so far.
    pub(crate) fn flush(&self) -> Completion {
        if self.worker_gone.load(Ordering::Acquire) {
            return Completion::done();
        }
        let target = lock(&self.inbox).next_seq;
        if self.watermark.load(Ordering::Acquire) >= target {
            return Completion::done();
        }
        let (completion, signal) = Completion::new();
        {
            let mut waiters = lock(&self.waiters);
            waiters.push((target, signal));
            self.flush_pending.store(true, Ordering::Release);
        }
        self.notify.notify_one();
        // The worker may have stopped between the check above and the push.
        if self.worker_gone.load(Ordering::Acquire) {
            self.release_all_waiters();
        }
        completion
    }

    /// Completes the flushes whose target the watermark has reached.
    pub(crate) fn complete_waiters(&self, watermark: u64) {
        self.watermark.store(watermark, Ordering::Release);
        if !self.flush_pending.load(Ordering::Acquire) {
            return;
        }
        let done: Vec<CompletionSignal> = {
            let mut waiters = lock(&self.waiters);
            let mut done = Vec::new();
            let mut i = 0;
            while i < waiters.len() {
                if waiters[i].0 <= watermark {
                    done.push(waiters.swap_remove(i).1);
                } else {
                    i += 1;
                }
            }
            self.flush_pending
                .store(!waiters.is_empty(), Ordering::Release);
            done
        };
        drop(done); // completes them, outside the lock
    }

    /// Completes every waiting flush (the worker is stopping).
    pub(crate) fn release_all_waiters(&self) {
        let all = std::mem::take(&mut *lock(&self.waiters));
        self.flush_pending.store(false, Ordering::Release);
        drop(all);
    }

    /// The counters as [`crate::Stats`].
    pub(crate) fn stats(&self) -> crate::Stats {
        let c = &self.counters;
        let r = |a: &AtomicU64| a.load(Ordering::Relaxed);
        crate::Stats {
            queued: r(&c.queued),
            sent: r(&c.sent),
            retried: r(&c.retried),
            dropped_queue_full: r(&c.dropped_queue_full),
            dropped_too_old: r(&c.dropped_too_old),
            dropped_rejected: r(&c.dropped_rejected),
            dropped_too_large: r(&c.dropped_too_large),
            dropped_shutdown: r(&c.dropped_shutdown),
            failed_requests: r(&c.failed_requests),
            pending: r(&self.pending_runs),
        }
    }
}

/// What a run costs in memory while it waits, roughly: its payloads and
/// strings plus a fixed overhead. Cheap (no serialization).
pub(crate) fn estimate_bytes(op: &RunOp) -> u64 {
    const OVERHEAD: usize = 512;
    let n = match op {
        RunOp::Create(r) | RunOp::Update(r) => {
            OVERHEAD
                + r.name.len()
                + r.dotted_order.len()
                + r.session_name.len()
                + r.inputs.as_ref().map_or(0, |p| p.get().len())
                + r.outputs.as_ref().map_or(0, |p| p.get().len())
                + r.error.as_ref().map_or(0, String::len)
                + r.tags.iter().map(|t| t.len() + 24).sum::<usize>()
                + r.extra.metadata.len() * 96
                + r.events.len() * 128
                + if r.serialized.is_some() { 256 } else { 0 }
                + r.attachments
                    .iter()
                    .map(|a| a.data().len() + 160)
                    .sum::<usize>()
        }
        RunOp::Feedback(f) => {
            OVERHEAD + f.key.len() + f.comment.as_ref().map_or(0, String::len) + 128
        }
    };
    n as u64
}
