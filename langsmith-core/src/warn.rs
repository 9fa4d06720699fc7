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
