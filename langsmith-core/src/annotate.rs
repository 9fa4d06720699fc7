//! Annotations added to a run through its context (e.g. `current_run()`
//! inside a `#[traceable]` function, which does not hold the run itself):
//! kept next to the context until the run's record next leaves — its post,
//! a patch or its end — and applied to the record then.
//!
//! Cost when unused: one byte of state, an empty mutex, and one atomic
//! read-modify-write when the run ends.

use crate::Attachment;
use crate::run::RunRecord;
use serde_json::Value;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Mutex, MutexGuard};

/// Some annotation was added (and may still wait in the slot).
const ADDED: u8 = 1;
/// The run ended: annotations added now would be lost, so they are refused.
const ENDED: u8 = 2;

/// What waits for the record.
#[derive(Default)]
pub(crate) struct Pending {
    pub(crate) metadata: Vec<(String, Value)>,
    pub(crate) tags: Vec<String>,
    pub(crate) events: Vec<Value>,
    pub(crate) attachments: Vec<Attachment>,
}

impl Pending {
    /// Applies the annotations to `rec`, in the order they were added per
    /// kind (a later metadata value or attachment of the same key wins; a
    /// tag already present is not repeated).
    pub(crate) fn apply(self, rec: &mut RunRecord) {
        for (k, v) in self.metadata {
            rec.extra.metadata.insert(k, v);
        }
        for t in self.tags {
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
    slot: Mutex<Option<Box<Pending>>>,
}

/// The run of this context has ended: an annotation now would be lost.
#[derive(Debug)]
pub(crate) struct Ended;

impl Notes {
    /// Adds an annotation, unless the run has ended.
    pub(crate) fn add(&self, f: impl FnOnce(&mut Pending)) -> Result<(), Ended> {
        let mut slot = self.lock();
        if self.state.fetch_or(ADDED, Ordering::AcqRel) & ENDED != 0 {
            return Err(Ended);
        }
        f(slot.get_or_insert_with(Box::default));
        Ok(())
    }

    /// Takes what was added so far (for a post or a patch).
    pub(crate) fn take(&self) -> Option<Box<Pending>> {
        if self.state.load(Ordering::Acquire) & ADDED == 0 {
            return None;
        }
        self.lock().take()
    }

    /// Marks the run ended; returns what was added and not yet taken.
    pub(crate) fn end(&self) -> Option<Box<Pending>> {
        if self.state.fetch_or(ENDED, Ordering::AcqRel) & ADDED == 0 {
            return None;
        }
        self.lock().take()
    }

    fn lock(&self) -> MutexGuard<'_, Option<Box<Pending>>> {
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
        n.add(|p| p.tags.push("a".into())).unwrap();
        assert_eq!(n.take().unwrap().tags, ["a"]);
        assert!(n.take().is_none());
        n.add(|p| p.tags.push("b".into())).unwrap();
        assert_eq!(n.end().unwrap().tags, ["b"]);
        assert!(n.add(|p| p.tags.push("c".into())).is_err());
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
                            .filter(|i| n.add(|p| p.tags.push(format!("{t}-{i}"))).is_ok())
                            .count()
                    })
                })
                .collect();
            let mut got = n.take().map_or(0, |p| p.tags.len());
            got += n.end().map_or(0, |p| p.tags.len());
            let accepted: usize = adders.into_iter().map(|h| h.join().unwrap()).sum();
            assert_eq!(got, accepted);
        }
    }
}
