//! One destination's queue of unsent operations, with create+update merging,
//! and the batches cut from it.

use crate::merge::merge_update;
use crate::run::{Feedback, RunRecord};
use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasherDefault, Hasher};
use tokio::time::Instant;
use uuid::Uuid;

/// What an item sends.
#[derive(Debug, Clone)]
pub(crate) enum Kind {
    /// A run's creation (possibly with updates merged in): `post.{id}`.
    Post(Box<RunRecord>),
    /// An update of a run whose creation was sent before: `patch.{id}`.
    Patch(Box<RunRecord>),
    /// Feedback: `feedback.{id}`.
    Feedback(Box<Feedback>),
}

/// Sequence numbers of the ops folded into one item (usually one, two for a
/// merged create+update). Inline for the first, so no allocation normally.
#[derive(Debug, Clone, Default)]
pub(crate) struct Seqs {
    first: u64,
    more: Vec<u64>,
}

impl Seqs {
    pub(crate) fn one(seq: u64) -> Self {
        Seqs {
            first: seq,
            more: Vec::new(),
        }
    }

    pub(crate) fn push(&mut self, seq: u64) {
        self.more.push(seq);
    }

    pub(crate) fn iter(&self) -> impl Iterator<Item = u64> + '_ {
        std::iter::once(self.first).chain(self.more.iter().copied())
    }

    pub(crate) fn len(&self) -> usize {
        1 + self.more.len()
    }
}

/// One unit of sending: a run (create, or update) or a feedback.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub(crate) kind: Kind,
    pub(crate) seqs: Seqs,
    /// Bytes reserved for the ops in it.
    pub(crate) bytes: u64,
    /// When its first op reached the worker (for `max_age`).
    pub(crate) since: Instant,
}

impl Item {
    pub(crate) fn new(kind: Kind, seq: u64, bytes: u64, since: Instant) -> Self {
        Item {
            kind,
            seqs: Seqs::one(seq),
            bytes,
            since,
        }
    }

    /// Whether it is a feedback item.
    pub(crate) fn is_feedback(&self) -> bool {
        matches!(self.kind, Kind::Feedback(_))
    }
}

/// A cheap multiply-rotate hash for run ids (SipHash over every queued run
/// showed in the exporter's profile). The ids are made here or by the
/// application, never chosen by a remote peer, so no flooding resistance is
/// needed; v7 ids end in random bits, which the last multiply spreads.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.0 = (self.0.rotate_left(5) ^ u64::from_le_bytes(word))
                .wrapping_mul(0x517c_c1b7_2722_0a95);
        }
    }
}

/// A destination's unsent items, oldest first. A create whose item is still
/// here absorbs later updates of the same run, so they leave as one `post`.
#[derive(Debug, Default)]
pub(crate) struct PendingQueue {
    items: VecDeque<Item>,
    /// Serial number of `items[0]`; items keep their serial while queued.
    front_serial: u64,
    /// Run id -> serial of its queued `Post` item.
    open_posts: HashMap<Uuid, u64, BuildHasherDefault<IdHasher>>,
    bytes: u64,
}

impl PendingQueue {
    pub(crate) fn len(&self) -> usize {
        self.items.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Estimated bytes queued.
    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// When the oldest item arrived.
    pub(crate) fn oldest(&self) -> Option<Instant> {
        self.items.front().map(|i| i.since)
    }

    pub(crate) fn front(&self) -> Option<&Item> {
        self.items.front()
    }

    /// Adds a create. A run created already ended (the usual: creates are
    /// deferred to the end) gets no later update, so only a create of a
    /// run still going is entered in `open_posts`.
    pub(crate) fn push_create(&mut self, run: Box<RunRecord>, seq: u64, bytes: u64, now: Instant) {
        if may_be_updated(&run) {
            let serial = self.front_serial + self.items.len() as u64;
            self.open_posts.insert(run.id, serial);
        }
        self.push_item(Item::new(Kind::Post(run), seq, bytes, now));
    }

    /// Adds an update: merged into the run's queued create if there is one,
    /// else queued as a patch.
    pub(crate) fn push_update(&mut self, run: Box<RunRecord>, seq: u64, bytes: u64, now: Instant) {
        if let Some(&serial) = self.open_posts.get(&run.id) {
            let idx = serial.wrapping_sub(self.front_serial) as usize;
            if let Some(item) = self.items.get_mut(idx)
                && let Kind::Post(create) = &mut item.kind
                && create.id == run.id
            {
                merge_update(create, *run);
                item.seqs.push(seq);
                item.bytes += bytes;
                self.bytes += bytes;
                return;
            }
            // Stale entry (cannot happen if the bookkeeping is right): forget it.
            self.open_posts.remove(&run.id);
        }
        self.push_item(Item::new(Kind::Patch(run), seq, bytes, now));
    }

    /// Adds a feedback.
    pub(crate) fn push_feedback(&mut self, fb: Box<Feedback>, seq: u64, bytes: u64, now: Instant) {
        self.push_item(Item::new(Kind::Feedback(fb), seq, bytes, now));
    }

    fn push_item(&mut self, item: Item) {
        self.bytes += item.bytes;
        self.items.push_back(item);
    }

    /// Takes the oldest item.
    pub(crate) fn pop_front(&mut self) -> Option<Item> {
        let item = self.items.pop_front()?;
        let serial = self.front_serial;
        self.front_serial += 1;
        self.bytes = self.bytes.saturating_sub(item.bytes);
        // (A create that absorbed its end is no longer `may_be_updated` but
        // is still entered: look it up whenever anything is.)
        if !self.open_posts.is_empty()
            && let Kind::Post(run) = &item.kind
            && self.open_posts.get(&run.id) == Some(&serial)
        {
            self.open_posts.remove(&run.id);
        }
        Some(item)
    }

    /// Puts an item just taken by [`pop_front`](Self::pop_front) back.
    pub(crate) fn push_front(&mut self, item: Item) {
        self.front_serial = self.front_serial.wrapping_sub(1);
        self.bytes += item.bytes;
        if let Kind::Post(run) = &item.kind
            && may_be_updated(run)
        {
            self.open_posts.entry(run.id).or_insert(self.front_serial);
        }
        self.items.push_front(item);
    }

    /// Removes the items older than `deadline` from the front (items are in
    /// arrival order) and returns them.
    pub(crate) fn take_older_than(&mut self, deadline: Instant) -> Vec<Item> {
        let mut out = Vec::new();
        while self.items.front().is_some_and(|i| i.since < deadline) {
            if let Some(item) = self.pop_front() {
                out.push(item);
            }
        }
        out
    }

    /// Removes everything.
    pub(crate) fn take_all(&mut self) -> Vec<Item> {
        let mut out = Vec::with_capacity(self.items.len());
        while let Some(item) = self.pop_front() {
            out.push(item);
        }
        out
    }
}

/// Whether a queued create may still absorb an update: runs created
/// already ended get none (an update arriving anyway is sent as a patch).
fn may_be_updated(run: &RunRecord) -> bool {
    run.end_time.is_none()
}

/// Items sent together in one request.
#[derive(Debug)]
pub(crate) struct Batch {
    pub(crate) items: Vec<Item>,
    /// The encoded request, kept for retries.
    pub(crate) request: Option<super::transport::Prepared>,
    /// Failed attempts so far.
    pub(crate) attempts: u32,
}

impl Batch {
    pub(crate) fn new(items: Vec<Item>) -> Self {
        Batch {
            items,
            request: None,
            attempts: 0,
        }
    }

    /// Splits into two halves (the first has the older items).
    pub(crate) fn split(self) -> (Batch, Batch) {
        let mut first = self.items;
        let second = first.split_off(first.len() / 2);
        (Batch::new(first), Batch::new(second))
    }

    /// Removes the items older than `deadline`, forgetting the encoded
    /// request if any went.
    pub(crate) fn take_older_than(&mut self, deadline: Instant) -> Vec<Item> {
        if !self.items.iter().any(|i| i.since < deadline) {
            return Vec::new();
        }
        let (old, keep): (Vec<Item>, Vec<Item>) = std::mem::take(&mut self.items)
            .into_iter()
            .partition(|i| i.since < deadline);
        self.items = keep;
        self.request = None;
        old
    }

    /// The oldest arrival among its items.
    pub(crate) fn oldest(&self) -> Option<Instant> {
        self.items.iter().map(|i| i.since).min()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::{DottedOrder, RunType, Timestamp};

    fn run(name: &'static str) -> Box<RunRecord> {
        let id = crate::uuid7();
        let t = Timestamp::now();
        Box::new(RunRecord::new(
            id,
            name,
            RunType::Chain,
            t,
            DottedOrder::root(t, id),
            None,
            "p".into(),
        ))
    }

    #[test]
    fn update_merges_into_queued_create_only() {
        let now = Instant::now();
        let mut q = PendingQueue::default();
        let a = run("a");
        let b = run("b");
        let mut a_end = a.clone();
        a_end.end_time = Some(Timestamp::now());
        let mut b_end = b.clone();
        b_end.end_time = Some(Timestamp::now());
        q.push_create(a, 0, 10, now);
        q.push_create(b, 1, 10, now);
        q.push_update(a_end, 2, 5, now);
        assert_eq!(q.len(), 2);
        assert_eq!(q.bytes(), 25);
        let first = q.pop_front().unwrap();
        assert_eq!(first.seqs.iter().collect::<Vec<_>>(), [0, 2]);
        match &first.kind {
            Kind::Post(r) => assert!(r.end_time.is_some()),
            other => panic!("{other:?}"),
        }
        // Put it back and take it again: still mergeable.
        q.push_front(first);
        let first = q.pop_front().unwrap();
        assert_eq!(first.seqs.len(), 2);
        // b's create is still queued: its update merges.
        q.push_update(b_end.clone(), 3, 5, now);
        assert_eq!(q.len(), 1);
        let second = q.pop_front().unwrap();
        assert_eq!(second.seqs.iter().collect::<Vec<_>>(), [1, 3]);
        // Once the create is gone, an update is a patch.
        q.push_update(b_end, 4, 5, now);
        assert!(matches!(q.pop_front().unwrap().kind, Kind::Patch(_)));
        assert!(q.is_empty());
        assert_eq!(q.bytes(), 0);
    }

    #[test]
    fn ended_creates_are_not_kept_for_merging_and_nothing_stays_behind() {
        let now = Instant::now();
        let mut q = PendingQueue::default();
        // A run created already ended, then one created while going and
        // ended later (merged), then an update of the ended one (sent as a
        // patch: nothing can merge into it).
        let mut done = run("done");
        done.end_time = Some(Timestamp::now());
        let going = run("going");
        let mut going_end = going.clone();
        going_end.end_time = Some(Timestamp::now());
        q.push_create(done.clone(), 0, 1, now);
        q.push_create(going, 1, 1, now);
        assert_eq!(q.open_posts.len(), 1, "only the run still going");
        q.push_update(going_end, 2, 1, now);
        q.push_update(done, 3, 1, now);
        assert_eq!(q.len(), 3);
        let kinds: Vec<(String, usize)> = q
            .take_all()
            .into_iter()
            .map(|i| match &i.kind {
                Kind::Post(r) => (format!("post {}", r.name), i.seqs.len()),
                Kind::Patch(r) => (format!("patch {}", r.name), i.seqs.len()),
                Kind::Feedback(_) => ("feedback".into(), 1),
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("post done".to_string(), 1),
                ("post going".to_string(), 2),
                ("patch done".to_string(), 1)
            ]
        );
        assert!(q.open_posts.is_empty(), "no entry left behind");
    }

    #[test]
    fn expiry_takes_only_old_items() {
        let t0 = Instant::now();
        let t1 = t0 + std::time::Duration::from_secs(5);
        let mut q = PendingQueue::default();
        q.push_create(run("old"), 0, 1, t0);
        q.push_create(run("new"), 1, 1, t1);
        let old = q.take_older_than(t0 + std::time::Duration::from_secs(1));
        assert_eq!(old.len(), 1);
        assert_eq!(q.len(), 1);
        let mut batch = Batch::new(q.take_all());
        assert!(batch.take_older_than(t0).is_empty());
        assert_eq!(
            batch
                .take_older_than(t1 + std::time::Duration::from_secs(1))
                .len(),
            1
        );
        assert!(batch.items.is_empty());
    }
}
