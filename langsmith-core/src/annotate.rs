//! Annotations added to a run through its context (e.g. `current_run()`
//! inside a `#[traceable]` function, which does not hold the run itself):
//! kept next to the context until the run's record next leaves — its post,
//! a patch or its end — and applied to the record then.
//!
//! Metadata and tags added after the run started are also kept for the
//! run's outgoing `baggage` ([`Notes::outgoing`]), as the Python SDK's
//! `RunTree.to_headers()` carries what `add_metadata` / `add_tags` added.
//!
//! Cost when unused: one byte of state, an empty mutex, one atomic
//! read-modify-write when the run ends and one atomic load per
//! `to_headers`.

use crate::Attachment;
use crate::run::RunRecord;
use serde_json::Value;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Some annotation was added (and may still wait in the slot).
const ADDED: u8 = 1;
/// The run ended: annotations added now would be lost, so they are refused.
const ENDED: u8 = 2;
/// Some metadata or tag was added for the outgoing baggage.
const OUTGOING: u8 = 4;

/// Metadata and tags added to a run after it started, in the order first
/// added: a key set again replaces its value in place and a tag is kept
/// once, so that adding in a loop takes no more room. What waits for the
/// record ([`Pending::added`]) and what the run's outgoing baggage carries
/// besides the context's own ([`Slot::outgoing`]).
#[derive(Default, Debug)]
pub(crate) struct Added {
    pub(crate) metadata: Vec<(String, Value)>,
    pub(crate) tags: Vec<String>,
}

impl Added {
    /// Sets `key`, replacing its earlier value.
    pub(crate) fn set_metadata(&mut self, key: String, value: Value) {
        match self.metadata.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.metadata.push((key, value)),
        }
    }

    /// Adds `tag` unless it is there already.
    pub(crate) fn add_tag(&mut self, tag: String) {
        if !self.tags.contains(&tag) {
            self.tags.push(tag);
        }
    }
}

/// What waits for the record.
#[derive(Default)]
pub(crate) struct Pending {
    pub(crate) added: Added,
    pub(crate) events: Vec<Value>,
    pub(crate) attachments: Vec<Attachment>,
}

impl Pending {
    /// Applies the annotations to `rec`, in the order they were added per
    /// kind (a later metadata value or attachment of the same key wins; a
    /// tag already present is not repeated).
    pub(crate) fn apply(self, rec: &mut RunRecord) {
        for (k, v) in self.added.metadata {
            rec.extra.metadata.insert(k, v);
        }
        for t in self.added.tags {
            if !rec.tags.contains(&t) {
                rec.tags.push(t);
            }
        }
        rec.events.extend(self.events);
        for a in self.attachments {
            crate::attachment::upsert(&mut rec.attachments, a);
        }
    }
}

/// What the mutex of [`Notes`] guards.
#[derive(Default)]
pub(crate) struct Slot {
    pending: Option<Box<Pending>>,
    outgoing: Option<Box<Added>>,
}

impl Slot {
    /// What waits for the record.
    pub(crate) fn pending(&mut self) -> &mut Pending {
        self.pending.get_or_insert_with(Box::default)
    }

    /// What goes into the outgoing baggage (the caller passed `propagate`).
    pub(crate) fn outgoing(&mut self) -> &mut Added {
        self.outgoing.get_or_insert_with(Box::default)
    }
}

/// The annotations slot of one run context.
///
/// `add` and `end` order themselves by a read-modify-write of `state`: an
/// `add` whose update comes first holds the lock from before it until its
/// annotation is in the slot, so an `end` that then sees `ADDED` and takes
/// the lock finds it; an `add` that comes after `end` sees `ENDED` and
/// refuses.
#[derive(Default)]
pub(crate) struct Notes {
    state: AtomicU8,
    slot: Mutex<Slot>,
}

/// The run of this context has ended: an annotation now would be lost.
#[derive(Debug)]
pub(crate) struct Ended;

impl Notes {
    /// Adds an annotation, unless the run has ended; `propagate`: `f` also
    /// writes to [`Slot::outgoing`].
    pub(crate) fn add(&self, propagate: bool, f: impl FnOnce(&mut Slot)) -> Result<(), Ended> {
        let mut slot = self.lock();
        let flags = if propagate { ADDED | OUTGOING } else { ADDED };
        if self.state.fetch_or(flags, Ordering::AcqRel) & ENDED != 0 {
            return Err(Ended);
        }
        f(&mut slot);
        Ok(())
    }

    /// Adds metadata or tags for the outgoing baggage only (the run's own
    /// handle writes its record itself).
    pub(crate) fn propagate(&self, f: impl FnOnce(&mut Added)) {
        let mut slot = self.lock();
        self.state.fetch_or(OUTGOING, Ordering::AcqRel);
        f(slot.outgoing());
    }

    /// Calls `f` with what was added for the outgoing baggage, if anything.
    pub(crate) fn outgoing(&self, f: impl FnOnce(&Added)) {
        if self.state.load(Ordering::Acquire) & OUTGOING == 0 {
            return;
        }
        if let Some(out) = &self.lock().outgoing {
            f(out);
        }
    }

    /// Takes what was added so far (for a post or a patch).
    pub(crate) fn take(&self) -> Option<Box<Pending>> {
        if self.state.load(Ordering::Acquire) & ADDED == 0 {
            return None;
        }
        self.lock().pending.take()
    }

    /// Marks the run ended; returns what was added and not yet taken.
    pub(crate) fn end(&self) -> Option<Box<Pending>> {
        if self.state.fetch_or(ENDED, Ordering::AcqRel) & ADDED == 0 {
            return None;
        }
        self.lock().pending.take()
    }

    fn lock(&self) -> MutexGuard<'_, Slot> {
        // A panic while holding the lock can only have happened inside a
        // `Vec`/`Map` push; the data is still whole.
        self.slot.lock().unwrap_or_else(|p| p.into_inner())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use std::sync::Arc;

    #[test]
    fn nothing_is_taken_twice_and_nothing_is_added_after_the_end() {
        let n = Notes::default();
        assert!(n.take().is_none());
        n.add(false, |s| s.pending().added.tags.push("a".into()))
            .unwrap();
        assert_eq!(n.take().unwrap().added.tags, ["a"]);
        assert!(n.take().is_none());
        n.add(false, |s| s.pending().added.tags.push("b".into()))
            .unwrap();
        assert_eq!(n.end().unwrap().added.tags, ["b"]);
        assert!(
            n.add(false, |s| s.pending().added.tags.push("c".into()))
                .is_err()
        );
        assert!(n.end().is_none());
    }

    #[test]
    fn annotations_through_the_context_reach_the_record() {
        use crate::{Client, MemorySink, RunContext, RunOp, RunTree, current_run, traceable};
        let sink = MemorySink::new();
        let client = Client::builder()
            .sink(sink.clone())
            .tracing(Some(true))
            .build();
        let mut parent = RunTree::new("parent").client(client.clone()).start();
        let parent_ctx = parent.context().unwrap().clone();
        parent.add_metadata("direct", 1);
        parent.post();
        // A child annotates itself (through current_run) and its parent.
        let out = parent.in_scope(|| {
            traceable("child").call(|| {
                let me = current_run().unwrap();
                assert!(me.add_metadata("k", "v1"));
                assert!(me.add_metadata("k", "v2"));
                assert!(me.add_tag("t"));
                assert!(me.add_tag("t"));
                assert!(me.add_event(serde_json::json!({"name": "e"})));
                assert!(parent_ctx.add_tag("from-child"));
                7
            })
        });
        assert_eq!(out, 7);
        parent.add_metadata("direct", 2);
        parent.end();
        // After the end: refused, and nothing is sent.
        assert!(!parent_ctx.add_metadata("late", true));
        let runs = sink.runs();
        let child = runs.iter().find(|r| r.name == "child").unwrap();
        assert_eq!(child.extra.metadata["k"], "v2");
        assert_eq!(child.tags, ["t"]);
        assert_eq!(child.events, [serde_json::json!({"name": "e"})]);
        let parent = runs.iter().find(|r| r.name == "parent").unwrap();
        assert_eq!(parent.tags, ["from-child"]);
        assert_eq!(parent.extra.metadata["direct"], 2);
        assert!(!parent.extra.metadata.contains_key("late"));
        // The tag went with the update, not the (earlier) post.
        let parent_ops: Vec<Vec<String>> = sink
            .ops()
            .iter()
            .filter_map(|op| match op {
                RunOp::Create(r) | RunOp::Update(r) if r.name == "parent" => Some(r.tags.clone()),
                _ => None,
            })
            .collect();
        assert_eq!(parent_ops, [vec![], vec!["from-child".to_owned()]]);

        // A context continued from headers is the caller's run: refused.
        let headers = parent_ctx.to_headers();
        let remote = RunContext::from_headers(headers.iter(), &client).unwrap();
        assert!(remote.is_remote());
        assert!(!remote.add_metadata("x", 1));
        // An unsampled trace records nothing.
        let unsampled = Client::builder()
            .sink(MemorySink::new())
            .tracing(Some(true))
            .sampling_rate(0.0)
            .build();
        let run = RunTree::new("u").client(unsampled).start();
        assert!(!run.context().unwrap().add_metadata("x", 1));
    }

    #[test]
    fn a_key_or_tag_set_again_takes_no_more_room() {
        let n = Notes::default();
        for i in 0..1000 {
            n.propagate(|o| {
                o.set_metadata("k".into(), i.into());
                o.add_tag("t".into());
            });
            n.add(false, |s| {
                s.pending().added.set_metadata("k".into(), i.into());
                s.pending().added.add_tag("t".into());
            })
            .unwrap();
        }
        let mut seen = None;
        n.outgoing(|o| seen = Some((o.metadata.clone(), o.tags.clone())));
        assert_eq!(
            seen,
            Some((vec![("k".into(), 999.into())], vec!["t".into()]))
        );
        let p = n.take().unwrap();
        assert_eq!((p.added.metadata.len(), p.added.tags.len()), (1, 1));
    }

    #[test]
    fn added_tags_and_metadata_go_out_in_the_baggage_and_to_children() {
        use crate::{Client, MemorySink, RunTree, headers};
        let baggage_of = |ctx: &crate::RunContext| {
            let out = ctx.to_headers();
            headers::parse(out.iter()).context.baggage
        };
        let sink = MemorySink::new();
        let client = Client::builder()
            .sink(sink.clone())
            .tracing(Some(true))
            .build();
        let mut run = RunTree::new("r")
            .client(client.clone())
            .metadata("own", 1)
            .tag("t")
            .start();
        let ctx = run.context().unwrap().clone();
        let before = baggage_of(&ctx);
        assert_eq!(before.tags, ["t"]);
        assert_eq!(before.metadata.len(), 1);

        run.add_metadata("handle", "h");
        run.add_tag("t"); // already carried: not repeated
        assert!(ctx.add_metadata("ctx", 2));
        assert!(ctx.add_metadata("own", 3)); // a later value wins
        assert!(ctx.add_tag("c"));
        assert!(ctx.add_event(serde_json::json!({"name": "e"}))); // records only
        let after = baggage_of(&ctx);
        assert_eq!(after.tags, ["t", "c"]);
        assert_eq!(
            serde_json::Value::Object(after.metadata.clone()),
            serde_json::json!({"own": 3, "handle": "h", "ctx": 2})
        );
        // A child started now inherits all of it (its own record and its
        // own outgoing baggage).
        let child = run.child("c").start();
        assert_eq!(
            baggage_of(child.context().unwrap()).metadata,
            after.metadata
        );
        child.end();
        run.end();
        // The context outlives the run: still the same baggage.
        assert_eq!(baggage_of(&ctx).tags, ["t", "c"]);
        let runs = sink.runs();
        let child = runs.iter().find(|r| r.name == "c").unwrap();
        assert_eq!(child.extra.metadata["handle"], "h");
        assert_eq!(child.extra.metadata["own"], 3);
        assert_eq!(child.tags, ["t", "c"]);

        // A run the SDK itself annotates (time to first byte, token usage)
        // does not send that downstream.
        let mut llm = RunTree::new("m").client(client.clone()).start();
        llm.set_usage(&crate::llm::Usage::new(1, 1));
        assert!(baggage_of(llm.context().unwrap()).metadata.is_empty());
        llm.end();

        // Unsampled: nothing but `langsmith-sampled=0`.
        let unsampled = Client::builder()
            .sink(MemorySink::new())
            .tracing(Some(true))
            .sampling_rate(0.0)
            .build();
        let mut run = RunTree::new("u").client(unsampled).start();
        run.add_metadata("x", 1);
        assert_eq!(
            run.to_headers().baggage.as_deref(),
            Some("langsmith-sampled=0")
        );
    }

    #[test]
    fn concurrent_adds_are_either_delivered_or_refused() {
        // Threads add while the run ends: every add that returned Ok must be
        // in what the end (or an earlier take) returned; none is lost.
        for _ in 0..200 {
            let n = Arc::new(Notes::default());
            let adders: Vec<_> = (0..4)
                .map(|t| {
                    let n = n.clone();
                    std::thread::spawn(move || {
                        (0..50)
                            .filter(|i| {
                                n.add(false, |s| s.pending().added.tags.push(format!("{t}-{i}")))
                                    .is_ok()
                            })
                            .count()
                    })
                })
                .collect();
            let mut got = n.take().map_or(0, |p| p.added.tags.len());
            got += n.end().map_or(0, |p| p.added.tags.len());
            let accepted: usize = adders.into_iter().map(|h| h.join().unwrap()).sum();
            assert_eq!(got, accepted);
        }
    }
}
