//! Delivery statistics of a sink.

/// Counters of what happened to submitted runs. Every run handed to the
/// exporter ends up counted exactly once as sent or under one of the drops,
/// so `queued + dropped_queue_full == sent + dropped() + pending` (read while
/// nothing is being resolved, e.g. after a flush). With replica endpoints
/// configured, each destination of a run counts once.
///
/// ```
/// let s = langsmith_core::Stats::default();
/// assert_eq!(s.dropped(), 0);
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Operations accepted into the queue.
    pub queued: u64,
    /// Operations delivered (2xx, or 409 "already have it").
    pub sent: u64,
    /// Request retries (one per retried request, not per run).
    pub retried: u64,
    /// Dropped because the queue was full (by count or bytes).
    pub dropped_queue_full: u64,
    /// Dropped because they stayed undelivered longer than the maximum age.
    pub dropped_too_old: u64,
    /// Dropped because the server refused them for good (4xx other than 408/409/425/429).
    pub dropped_rejected: u64,
    /// Dropped because one run alone was larger than the server accepts (413).
    pub dropped_too_large: u64,
    /// Dropped because the exporter was shut down before delivering them.
    pub dropped_shutdown: u64,
    /// Requests that failed (each attempt that did not succeed).
    pub failed_requests: u64,
    /// Operations waiting in the queue or in flight right now.
    pub pending: u64,
}

impl Stats {
    /// All drops, whatever the reason.
    ///
    /// ```
    /// let mut s = langsmith_core::Stats::default();
    /// s.dropped_queue_full = 2;
    /// s.dropped_too_old = 1;
    /// s.dropped_too_large = 1;
    /// assert_eq!(s.dropped(), 4);
    /// ```
    pub fn dropped(&self) -> u64 {
        self.dropped_queue_full
            + self.dropped_too_old
            + self.dropped_rejected
            + self.dropped_too_large
            + self.dropped_shutdown
    }
}
