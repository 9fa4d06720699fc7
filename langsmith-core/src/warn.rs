//! Rate-limited warnings for problems caused by input we do not control.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

/// A warning that is logged at most once per interval; the rest are counted
/// and the count is reported with the next one logged.
#[derive(Debug)]
pub struct RateLimited {
    interval_secs: u64,
    last: AtomicU64,
    suppressed: AtomicU64,
}

impl RateLimited {
    /// At most one log line per `interval_secs`.
    pub const fn new(interval_secs: u64) -> Self {
        RateLimited {
            interval_secs,
            last: AtomicU64::new(0),
            suppressed: AtomicU64::new(0),
        }
    }

    /// Calls `log(suppressed_since_last)` if the interval has passed, else counts.
    pub fn log(&self, log: impl FnOnce(u64)) {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0)
            .max(1);
        let last = self.last.load(Ordering::Relaxed);
        if (last == 0 || now >= last + self.interval_secs)
            && self
                .last
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            log(self.suppressed.swap(0, Ordering::Relaxed));
        } else {
            self.suppressed.fetch_add(1, Ordering::Relaxed);
        }
    }
}

static HEADER_WARNING: RateLimited = RateLimited::new(10);

pub(crate) fn header_problem(err: &crate::headers::HeaderError) {
    HEADER_WARNING.log(|suppressed| {
        tracing::warn!(
            error = %err,
            suppressed,
            "LangSmith: ignoring a bad trace header entry; the request is handled as if it was not sent"
        )
    });
}

/// Runs `f` with this thread's `tracing` output captured; returns its value
/// and what was logged (for tests of warnings).
#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) fn capture_logs<R>(f: impl FnOnce() -> R) -> (R, String) {
    use std::sync::{Arc, Mutex};
    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let buf = Buf::default();
    let w = buf.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || w.clone())
        .with_ansi(false)
        .finish();
    let out = tracing::subscriber::with_default(subscriber, f);
    let log = String::from_utf8_lossy(&buf.0.lock().unwrap()).into_owned();
    (out, log)
}
