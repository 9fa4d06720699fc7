//! The worker: a dedicated thread running a small `current_thread` tokio
//! runtime of its own. It drains the inbox into one queue per destination,
//! cuts batches, sends them (one request in flight per destination, so a
//! run's `post` always goes before its `patch`), retries with backoff, drops
//! what is too old, and completes flushes. It never touches the caller's
//! runtime, so nothing the caller does can deadlock with it.

use super::batch::{Batch, Item, Kind, PendingQueue};
use super::multipart::{self, MultipartWriter};
use super::queue::{Entry, Resolution, Shared};
use super::transport::{self, Destination, Outcome, Prepared, ServerInfo};
use crate::config::ExporterSettings;
use crate::sink::RunOp;
use crate::warn::RateLimited;
use bytes::Bytes;
use rand::SeedableRng;
use rand::rngs::SmallRng;
use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// First retry delay (before jitter and doubling).
const BACKOFF_BASE: Duration = Duration::from_millis(250);
/// Timeout of `GET /info`.
const INFO_TIMEOUT: Duration = Duration::from_secs(5);
/// After a failed `GET /info`, defaults are used and it is asked again this much later.
const INFO_RETRY: Duration = Duration::from_secs(60);

static SEND_FAILED: RateLimited = RateLimited::new(10);
static TOO_OLD: RateLimited = RateLimited::new(10);

#[derive(Debug)]
enum InfoState {
    Unknown,
    Known(ServerInfo),
    Failed { retry_at: Instant },
}

/// One destination and everything waiting for it.
#[derive(Debug)]
struct Endpoint {
    dest: Arc<Destination>,
    queue: PendingQueue,
    /// Batches that failed and will be sent again, in order, before anything new.
    retry: VecDeque<Batch>,
    /// The batches whose requests are running, with their tasks. More than
    /// one only while full batches wait (see `ExporterSettings::max_in_flight`).
    inflight: Vec<(tokio::task::Id, Batch)>,
    fetching_info: bool,
    info: InfoState,
    /// Backoff: nothing is sent before this.
    not_before: Option<Instant>,
    /// Consecutive failed attempts.
    failures: u32,
    /// `/runs/multipart` answered 404: use `/runs/batch` and `/feedback`.
    json_mode: bool,
    /// Statuses already logged as rejections (each is logged once).
    logged: HashSet<u16>,
}

impl Endpoint {
    fn new(dest: Destination) -> Self {
        Endpoint {
            dest: Arc::new(dest),
            queue: PendingQueue::default(),
            retry: VecDeque::new(),
            inflight: Vec::new(),
            fetching_info: false,
            info: InfoState::Unknown,
            not_before: None,
            failures: 0,
            json_mode: false,
            logged: HashSet::new(),
        }
    }

    /// Whether a request (or the `/info` fetch) is running.
    fn busy(&self) -> bool {
        !self.inflight.is_empty() || self.fetching_info
    }

    fn info(&self) -> ServerInfo {
        match &self.info {
            InfoState::Known(i) => i.clone(),
            _ => ServerInfo::default(),
        }
    }

    fn needs_info(&self, now: Instant) -> bool {
        match self.info {
            InfoState::Unknown => true,
            InfoState::Failed { retry_at } => now >= retry_at,
            InfoState::Known(_) => false,
        }
    }

    fn limits(&self, s: &ExporterSettings) -> (usize, usize) {
        let info = self.info();
        let runs = s
            .batch_max_runs
            .min(info.size_limit.unwrap_or(usize::MAX))
            .max(1);
        let bytes = s
            .batch_max_bytes
            .min(info.size_limit_bytes.unwrap_or(usize::MAX))
            .max(1);
        (runs, bytes)
    }

    fn holds_nothing(&self) -> bool {
        self.queue.is_empty() && self.retry.is_empty() && self.inflight.is_empty()
    }
}

enum Event {
    Sent(Outcome),
    Info(Result<ServerInfo, String>),
}

pub(crate) struct Worker {
    shared: Arc<Shared>,
    settings: ExporterSettings,
    http: reqwest::Client,
    endpoints: Vec<Endpoint>,
    /// Per sequence number from `base_seq` on: destinations still to resolve it.
    outstanding: VecDeque<u32>,
    base_seq: u64,
    tasks: JoinSet<(usize, Event)>,
    task_owner: HashMap<tokio::task::Id, usize>,
    spare: Vec<Entry>,
    rng: SmallRng,
    shutdown_deadline: Option<Instant>,
    /// zstd context, reused from batch to batch.
    compressor: multipart::Compressor,
    /// Length of the last multipart body: the next one starts with room for
    /// about as much (a 100-run body grows through five reallocations
    /// otherwise).
    body_hint: usize,
}

/// Most room reserved up front for a multipart body.
const MAX_BODY_HINT: usize = 4 * 1024 * 1024;

impl Worker {
    pub(crate) fn new(
        shared: Arc<Shared>,
        settings: ExporterSettings,
        http: reqwest::Client,
        dests: Vec<Destination>,
    ) -> Self {
        Worker {
            shared,
            compressor: multipart::Compressor::new(settings.compression_level),
            settings,
            http,
            endpoints: dests.into_iter().map(Endpoint::new).collect(),
            outstanding: VecDeque::new(),
            base_seq: 0,
            tasks: JoinSet::new(),
            task_owner: HashMap::new(),
            spare: Vec::new(),
            rng: SmallRng::from_os_rng(),
            shutdown_deadline: None,
            body_hint: 0,
        }
    }

    /// Runs until shut down, then resolves whatever is left.
    pub(crate) async fn run(mut self) {
        loop {
            let now = Instant::now();
            if self.shutdown_deadline.is_none() && self.shared.shutdown.load(Ordering::Acquire) {
                self.shutdown_deadline = Some(now + self.settings.shutdown_timeout);
            }
            self.take_inbox(now);
            self.expire(now);
            let urgent = self.shutdown_deadline.is_some()
                || self.shared.flush_pending.load(Ordering::Acquire);
            for i in 0..self.endpoints.len() {
                // Several batches when a backlog allows more requests at once.
                for _ in 0..self.settings.max_in_flight.max(1) {
                    if !self.dispatch(i, now, urgent) {
                        break;
                    }
                }
            }
            self.publish();
            if let Some(deadline) = self.shutdown_deadline {
                if self.endpoints.iter().all(Endpoint::holds_nothing)
                    && self.shared.inbox_is_empty()
                {
                    break;
                }
                if now >= deadline {
                    self.abandon();
                    break;
                }
            }
            let wake = self.next_wake(now, urgent);
            // Ask callers to wake us for new work only when no queue holds
            // anything (else the batch timer will come round anyway).
            if self.endpoints.iter().all(|e| e.queue.is_empty()) {
                self.shared.worker_idle.store(true, Ordering::SeqCst);
                if !self.shared.inbox_is_empty() {
                    self.shared.worker_idle.store(false, Ordering::SeqCst);
                    continue;
                }
            }
            let sleep_to = wake.unwrap_or_else(|| now + Duration::from_secs(3600));
            tokio::select! {
                _ = self.shared.notify.notified() => {}
                Some(res) = self.tasks.join_next_with_id(), if !self.tasks.is_empty() => {
                    self.on_task(res);
                }
                _ = tokio::time::sleep_until(sleep_to) => {}
            }
            self.shared.worker_idle.store(false, Ordering::SeqCst);
        }
        self.tasks.abort_all();
        self.publish();
    }

    /// Moves new entries from the inbox into the destinations' queues.
    fn take_inbox(&mut self, now: Instant) {
        let mut entries = std::mem::take(&mut self.spare);
        self.shared.drain(&mut entries);
        let fanout = self.endpoints.len();
        for e in entries.drain(..) {
            let idx = e.seq.saturating_sub(self.base_seq) as usize;
            while self.outstanding.len() < idx {
                // A gap cannot happen (numbers are given under the inbox
                // lock); treat any as resolved rather than wait forever.
                self.outstanding.push_back(0);
            }
            self.outstanding.push_back(fanout as u32);
            let Some((last, rest)) = self.endpoints.split_last_mut() else {
                continue;
            };
            for ep in rest {
                push_op(&mut ep.queue, e.op.clone(), e.seq, e.bytes, now);
            }
            push_op(&mut last.queue, e.op, e.seq, e.bytes, now);
        }
        self.spare = entries;
    }

    /// Drops (and counts) what has waited longer than `max_age`.
    fn expire(&mut self, now: Instant) {
        let Some(deadline) = now.checked_sub(self.settings.max_age) else {
            return;
        };
        let mut old = Vec::new();
        for ep in &mut self.endpoints {
            old.extend(ep.queue.take_older_than(deadline));
            for b in &mut ep.retry {
                old.extend(b.take_older_than(deadline));
            }
            ep.retry.retain(|b| !b.items.is_empty());
        }
        if !old.is_empty() {
            let n: usize = old.iter().map(|i| i.seqs.len()).sum();
            let max_age = self.settings.max_age;
            TOO_OLD.log(|suppressed| {
                tracing::warn!(
                    runs = n,
                    ?max_age,
                    suppressed,
                    "LangSmith: dropping runs that could not be delivered within the maximum age"
                )
            });
            for item in old {
                self.resolve(item, Resolution::TooOld);
            }
        }
    }

    /// Starts whatever destination `i` can do now: fetch `/info`, resend a
    /// failed batch, or cut and send a new one.
    /// Returns whether a request was started.
    fn dispatch(&mut self, i: usize, now: Instant, urgent: bool) -> bool {
        let shutting_down = self.shutdown_deadline.is_some();
        let Some(ep) = self.endpoints.get_mut(i) else {
            return false;
        };
        let running = ep.inflight.len();
        if ep.fetching_info
            || running >= self.settings.max_in_flight.max(1)
            || ep.not_before.is_some_and(|t| now < t)
        {
            return false;
        }
        // After a failure, one request at a time until one gets through.
        if running > 0 && (ep.failures > 0 || !ep.retry.is_empty()) {
            return false;
        }
        if ep.retry.is_empty() && ep.queue.is_empty() {
            return false;
        }
        if ep.needs_info(now) && !shutting_down {
            ep.fetching_info = true;
            let http = self.http.clone();
            let dest = ep.dest.clone();
            let timeout = INFO_TIMEOUT.min(self.settings.request_timeout);
            let handle = self.tasks.spawn(async move {
                (
                    i,
                    Event::Info(transport::fetch_info(&http, &dest, timeout).await),
                )
            });
            self.task_owner.insert(handle.id(), i);
            return false;
        }
        let batch = match ep.retry.pop_front() {
            Some(b) => Some(b),
            None => {
                let (max_runs, max_bytes) = ep.limits(&self.settings);
                let full = ep.queue.len() >= max_runs || ep.queue.bytes() >= max_bytes as u64;
                // A request already running: another one only for a full
                // batch (a backlog), or to drain for a flush or shutdown.
                let due = urgent
                    || full
                    || (running == 0
                        && ep
                            .queue
                            .oldest()
                            .is_some_and(|t| now >= t + self.settings.batch_interval));
                if !due {
                    return false;
                }
                self.cut_batch(i)
            }
        };
        let Some(mut batch) = batch else {
            return false;
        };
        if batch.request.is_none() {
            self.prepare(i, &mut batch);
        }
        let Some(req) = batch.request.clone() else {
            return false;
        };
        let Some(ep) = self.endpoints.get_mut(i) else {
            return false;
        };
        let http = self.http.clone();
        let dest = ep.dest.clone();
        let timeout = self.settings.request_timeout;
        let handle = self.tasks.spawn(async move {
            (
                i,
                Event::Sent(transport::send(&http, &dest, &req, timeout).await),
            )
        });
        ep.inflight.push((handle.id(), batch));
        self.task_owner.insert(handle.id(), i);
        true
    }

    /// Takes the next batch from destination `i`'s queue; in multipart mode
    /// it is encoded on the way, so the byte limit is exact.
    fn cut_batch(&mut self, i: usize) -> Option<Batch> {
        let compression = self.settings.compression;
        let ep = self.endpoints.get_mut(i)?;
        let (max_runs, max_bytes) = ep.limits(&self.settings);
        let mut items: Vec<Item> = Vec::new();
        let mut failed = Vec::new();
        let batch = if ep.json_mode {
            let first = ep.queue.pop_front()?;
            if first.is_feedback() {
                items.push(first);
            } else {
                let mut bytes = first.bytes;
                items.push(first);
                while items.len() < max_runs {
                    match ep.queue.front() {
                        Some(next)
                            if !next.is_feedback() && bytes + next.bytes <= max_bytes as u64 =>
                        {
                            bytes += next.bytes;
                            if let Some(it) = ep.queue.pop_front() {
                                items.push(it);
                            }
                        }
                        _ => break,
                    }
                }
            }
            Some(Batch::new(items))
        } else {
            let hint = (self.body_hint + self.body_hint / 8).min(MAX_BODY_HINT);
            let mut w = MultipartWriter::with_capacity(hint);
            let project = ep.dest.project.as_deref();
            while items.len() < max_runs {
                let Some(item) = ep.queue.pop_front() else {
                    break;
                };
                let mark = w.len();
                match w.write_item(&item, project) {
                    Ok(()) if w.len() + w.closing_len() > max_bytes && !items.is_empty() => {
                        w.truncate(mark);
                        ep.queue.push_front(item);
                        break;
                    }
                    Ok(()) => items.push(item),
                    Err(e) => failed.push((item, e)),
                }
            }
            if items.is_empty() {
                None
            } else {
                let (body, content_type) = w.finish();
                let zstd = compression && ep.info().zstd;
                let mut b = Batch::new(items);
                self.body_hint = body.len();
                b.request = Some(finish_multipart(
                    &mut self.compressor,
                    body,
                    content_type,
                    zstd,
                ));
                Some(b)
            }
        };
        for (item, e) in failed {
            self.encode_failed(item, &e);
        }
        batch
    }

    /// Encodes a batch that has no request yet (after a split, an expiry or
    /// a switch to `/runs/batch`). Items that cannot be encoded are dropped.
    fn prepare(&mut self, i: usize, batch: &mut Batch) {
        let compression = self.settings.compression;
        let Some(ep) = self.endpoints.get(i) else {
            return;
        };
        let project = ep.dest.project.clone();
        let project = project.as_deref();
        let json_mode = ep.json_mode;
        let zstd = compression && ep.info().zstd;
        let mut failed = Vec::new();
        let request = if json_mode {
            match batch.items.as_slice() {
                [item] if item.is_feedback() => match &item.kind {
                    Kind::Feedback(fb) => match multipart::feedback_json(fb, project) {
                        Ok(body) => Some(json_request("/feedback", body)),
                        Err(e) => {
                            failed.extend(
                                std::mem::take(&mut batch.items)
                                    .into_iter()
                                    .map(|i| (i, e.to_string())),
                            );
                            None
                        }
                    },
                    _ => None,
                },
                items => match multipart::batch_json(items, project) {
                    Ok(body) => Some(json_request("/runs/batch", body)),
                    Err(e) => {
                        failed.extend(
                            std::mem::take(&mut batch.items)
                                .into_iter()
                                .map(|i| (i, e.to_string())),
                        );
                        None
                    }
                },
            }
        } else {
            let mut w = MultipartWriter::new();
            let mut keep = Vec::with_capacity(batch.items.len());
            for item in std::mem::take(&mut batch.items) {
                match w.write_item(&item, project) {
                    Ok(()) => keep.push(item),
                    Err(e) => failed.push((item, e.to_string())),
                }
            }
            batch.items = keep;
            if batch.items.is_empty() {
                None
            } else {
                let (body, ct) = w.finish();
                Some(finish_multipart(&mut self.compressor, body, ct, zstd))
            }
        };
        batch.request = request;
        for (item, e) in failed {
            self.encode_failed(item, &e);
        }
    }

    fn encode_failed(&mut self, item: Item, e: &dyn std::fmt::Display) {
        tracing::error!(error = %e, "LangSmith: a run could not be encoded; it is dropped");
        self.resolve(item, Resolution::Rejected);
    }

    fn on_task(&mut self, res: Result<(tokio::task::Id, (usize, Event)), tokio::task::JoinError>) {
        let (id, i, event) = match res {
            Ok((id, (i, event))) => {
                self.task_owner.remove(&id);
                (id, i, event)
            }
            Err(e) => {
                // Only a panic or an abort lands here; treat it as a failed
                // attempt so the batch is retried, not lost.
                let id = e.id();
                let Some(i) = self.task_owner.remove(&id) else {
                    return;
                };
                let sending = self
                    .endpoints
                    .get(i)
                    .is_some_and(|ep| ep.inflight.iter().any(|(t, _)| *t == id));
                let event = if sending {
                    Event::Sent(Outcome::Retry {
                        after: None,
                        why: e.to_string(),
                    })
                } else {
                    Event::Info(Err(e.to_string()))
                };
                (id, i, event)
            }
        };
        let now = Instant::now();
        match event {
            Event::Info(result) => {
                let Some(ep) = self.endpoints.get_mut(i) else {
                    return;
                };
                ep.fetching_info = false;
                ep.info = match result {
                    Ok(info) => {
                        tracing::debug!(endpoint = %ep.dest.base, ?info, "LangSmith: server info");
                        InfoState::Known(info)
                    }
                    Err(why) => {
                        tracing::debug!(
                            endpoint = %ep.dest.base,
                            %why,
                            "LangSmith: GET /info failed; using defaults (no compression) for now"
                        );
                        InfoState::Failed {
                            retry_at: now + INFO_RETRY,
                        }
                    }
                };
            }
            Event::Sent(outcome) => self.on_sent(i, id, outcome, now),
        }
    }

    fn on_sent(&mut self, i: usize, task: tokio::task::Id, outcome: Outcome, now: Instant) {
        let counters = &self.shared.counters;
        let Some(ep) = self.endpoints.get_mut(i) else {
            return;
        };
        let Some(pos) = ep.inflight.iter().position(|(t, _)| *t == task) else {
            return;
        };
        let (_, mut batch) = ep.inflight.swap_remove(pos);
        match outcome {
            Outcome::Delivered => {
                ep.failures = 0;
                ep.not_before = None;
                for item in batch.items {
                    self.resolve(item, Resolution::Sent);
                }
            }
            Outcome::Retry { after, why } => {
                counters.failed_requests.fetch_add(1, Ordering::Relaxed);
                counters.retried.fetch_add(1, Ordering::Relaxed);
                ep.failures = ep.failures.saturating_add(1);
                batch.attempts = batch.attempts.saturating_add(1);
                // A zero `Retry-After` (or a date already past) means "use
                // your backoff", as in urllib3 (the Python SDK), not "again
                // at once": else a server answering it to everything gets a
                // request every few milliseconds until `max_age`.
                let delay = match after.filter(|d| !d.is_zero()) {
                    Some(d) => d.max(Duration::from_millis(10)),
                    None => transport::backoff(
                        ep.failures,
                        BACKOFF_BASE,
                        self.settings.max_backoff,
                        &mut self.rng,
                    ),
                };
                ep.not_before = Some(now + delay);
                let runs = batch.items.len();
                let endpoint = ep.dest.base.clone();
                ep.retry.push_front(batch);
                SEND_FAILED.log(|suppressed| {
                    tracing::warn!(
                        %endpoint,
                        %why,
                        runs,
                        retry_in = ?delay,
                        suppressed,
                        "LangSmith: sending runs failed; they stay queued and will be retried"
                    )
                });
            }
            Outcome::NotFound => {
                let multipart = batch
                    .request
                    .as_ref()
                    .is_some_and(|r| r.path == "/runs/multipart");
                if multipart && !ep.json_mode {
                    tracing::info!(
                        endpoint = %ep.dest.base,
                        "LangSmith: /runs/multipart not found; falling back to /runs/batch and /feedback"
                    );
                    ep.json_mode = true;
                    // Feedback goes one by one to /feedback; runs together.
                    let (fb, runs): (Vec<Item>, Vec<Item>) =
                        batch.items.into_iter().partition(Item::is_feedback);
                    for f in fb.into_iter().rev() {
                        ep.retry.push_front(Batch::new(vec![f]));
                    }
                    if !runs.is_empty() {
                        ep.retry.push_front(Batch::new(runs));
                    }
                } else {
                    counters.failed_requests.fetch_add(1, Ordering::Relaxed);
                    self.reject(i, batch, 404, String::new());
                }
            }
            Outcome::TooLarge => {
                counters.failed_requests.fetch_add(1, Ordering::Relaxed);
                if batch.items.len() > 1 {
                    let (a, b) = batch.split();
                    ep.retry.push_front(b);
                    ep.retry.push_front(a);
                } else {
                    let size = batch.request.as_ref().map_or(0, |r| r.body.len());
                    for item in &batch.items {
                        let id = match &item.kind {
                            Kind::Post(r) | Kind::Patch(r) => r.id,
                            Kind::Feedback(f) => f.id,
                        };
                        tracing::error!(
                            endpoint = %ep.dest.base,
                            run_id = %id,
                            request_bytes = size,
                            "LangSmith: a single run is larger than the server accepts (413); it is dropped"
                        );
                    }
                    for item in batch.items {
                        self.resolve(item, Resolution::TooLarge);
                    }
                }
            }
            Outcome::Rejected { status, detail } => {
                counters.failed_requests.fetch_add(1, Ordering::Relaxed);
                self.reject(i, batch, status, detail);
            }
        }
    }

    fn reject(&mut self, i: usize, batch: Batch, status: u16, detail: String) {
        if let Some(ep) = self.endpoints.get_mut(i) {
            let runs = batch.items.len();
            let hint = match status {
                401 | 403 => {
                    " (check LANGSMITH_API_KEY and LANGSMITH_WORKSPACE_ID for this endpoint)"
                }
                _ => "",
            };
            if ep.logged.insert(status) {
                tracing::error!(
                    endpoint = %ep.dest.base,
                    status,
                    runs,
                    response = %detail,
                    "LangSmith refused runs; they are dropped and not retried{hint}"
                );
            } else {
                tracing::debug!(endpoint = %ep.dest.base, status, runs, "LangSmith refused runs; dropped");
            }
        }
        for item in batch.items {
            self.resolve(item, Resolution::Rejected);
        }
    }

    /// Counts one item's ops as resolved for one destination.
    fn resolve(&mut self, item: Item, how: Resolution) {
        let n = item.seqs.len() as u64;
        self.shared.counters.count(how, n);
        self.shared.release(n, item.bytes);
        for seq in item.seqs.iter() {
            let Some(idx) = seq.checked_sub(self.base_seq) else {
                continue;
            };
            if let Some(c) = self.outstanding.get_mut(idx as usize) {
                *c = c.saturating_sub(1);
            }
        }
        while self.outstanding.front() == Some(&0) {
            self.outstanding.pop_front();
            self.base_seq += 1;
        }
    }

    /// Publishes the watermark and completes the flushes it satisfies.
    fn publish(&mut self) {
        self.shared.complete_waiters(self.base_seq);
    }

    /// When to look again, if nothing else happens first.
    fn next_wake(&self, now: Instant, urgent: bool) -> Option<Instant> {
        let mut wake: Option<Instant> = self.shutdown_deadline;
        let mut at = |t: Instant| {
            wake = Some(wake.map_or(t, |w| w.min(t)));
        };
        for ep in &self.endpoints {
            // Expiry of the oldest held item.
            let oldest = [
                ep.queue.oldest(),
                ep.retry.iter().filter_map(Batch::oldest).min(),
            ]
            .into_iter()
            .flatten()
            .min();
            if let Some(t) = oldest {
                at(t + self.settings.max_age);
            }
            if ep.busy() || (ep.queue.is_empty() && ep.retry.is_empty()) {
                continue;
            }
            match ep.not_before {
                Some(t) if t > now => at(t),
                _ if !ep.retry.is_empty() || urgent => at(now),
                _ => {
                    if let Some(t) = ep.queue.oldest() {
                        at(t + self.settings.batch_interval);
                    }
                }
            }
        }
        wake
    }

    /// Shutdown deadline passed: everything still held is dropped and counted.
    fn abandon(&mut self) {
        self.tasks.abort_all();
        let mut left = Vec::new();
        for ep in &mut self.endpoints {
            for (_, b) in ep.inflight.drain(..) {
                left.extend(b.items);
            }
            for b in ep.retry.drain(..) {
                left.extend(b.items);
            }
            left.extend(ep.queue.take_all());
        }
        if !left.is_empty() {
            let runs: usize = left.iter().map(|i| i.seqs.len()).sum();
            tracing::warn!(
                runs,
                timeout = ?self.settings.shutdown_timeout,
                "LangSmith: exporter shut down before these runs could be delivered; they are dropped"
            );
        }
        for item in left {
            self.resolve(item, Resolution::Shutdown);
        }
    }
}

fn push_op(queue: &mut PendingQueue, op: RunOp, seq: u64, bytes: u64, now: Instant) {
    match op {
        RunOp::Create(r) => queue.push_create(r, seq, bytes, now),
        RunOp::Update(r) => queue.push_update(r, seq, bytes, now),
        RunOp::Feedback(f) => queue.push_feedback(f, seq, bytes, now),
    }
}

fn json_request(path: &'static str, body: Vec<u8>) -> Prepared {
    Prepared {
        path,
        body: Bytes::from(body),
        content_type: "application/json".to_owned(),
        compressed: None,
    }
}

fn finish_multipart(
    compressor: &mut multipart::Compressor,
    body: Vec<u8>,
    content_type: String,
    zstd: bool,
) -> Prepared {
    let compressed = if zstd {
        match compressor.compress(&body) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::debug!(error = %e, "LangSmith: zstd compression failed; sending uncompressed");
                None
            }
        }
    } else {
        None
    };
    match compressed {
        Some(c) => Prepared {
            path: transport::MULTIPART,
            compressed: Some((body.len(), c.len())),
            body: Bytes::from(c),
            content_type,
        },
        None => Prepared {
            path: transport::MULTIPART,
            body: Bytes::from(body),
            content_type,
            compressed: None,
        },
    }
}
