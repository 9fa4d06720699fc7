//! The run context (a run's identity) and the ambient "current run".
//!
//! The current run lives in a `tokio::task_local!`. Futures carry it through
//! [`FutureExt::in_run`] (entered on every poll and while the inner future is
//! dropped, like `tracing::Instrument`); synchronous code uses
//! [`in_run_sync`]; spawned tasks get it through [`spawn`] or
//! [`FutureExt::in_current_run`].

use crate::client::Client;
use crate::headers::{self, Baggage, IncomingContext, Outgoing, ReplicaHint};
use crate::{DottedOrder, RunRecord, Timestamp};
use serde_json::{Map, Value};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use uuid::Uuid;

static ANNOTATION_DROPPED: crate::RateLimited = crate::RateLimited::new(60);

tokio::task_local! {
    static CURRENT: Option<RunContext>;
}

/// A run's identity: what children and outgoing headers need. Cheap to
/// clone (one reference count); the identity never changes. Annotations
/// added through it ([`add_metadata`](Self::add_metadata) and the like) go
/// to the run's record only: they are not inherited by children nor sent
/// in outgoing headers.
///
/// ```
/// use langsmith_core::{Client, MemorySink, RunTree};
/// let client = Client::builder().sink(MemorySink::new()).build();
/// let run = RunTree::new("root").client(client).start();
/// let ctx = run.context().unwrap().clone();
/// assert_eq!(ctx.trace_id(), ctx.id());
/// assert_eq!(ctx.parent_id(), None);
/// ```
#[derive(Clone)]
pub struct RunContext {
    pub(crate) inner: Arc<ContextInner>,
}

pub(crate) struct ContextInner {
    /// Also the run's id, trace id, parent id and start time (read once
    /// when it was built or parsed).
    pub(crate) dotted_order: DottedOrder,
    pub(crate) project: Arc<str>,
    /// The agent address (an LRN) runs are filed under instead of `project`
    /// (then empty): the caller addressed the trace so.
    pub(crate) address: Option<Arc<str>>,
    /// Tags and metadata this run inherited (from its parent, baggage or
    /// scope).
    pub(crate) inherited_tags: Arc<[String]>,
    pub(crate) inherited_metadata: Arc<Map<String, Value>>,
    /// This run's own tags and metadata merged over the inherited ones: what
    /// its children inherit and its outgoing baggage carries (with what was
    /// added since, [`ContextInner::tags_and_metadata`]).
    pub(crate) tags: Arc<[String]>,
    pub(crate) metadata: Arc<Map<String, Value>>,
    pub(crate) sampled: bool,
    pub(crate) client: Client,
    pub(crate) foreign_baggage: Arc<[String]>,
    pub(crate) replicas: Arc<[ReplicaHint]>,
    /// The run lives in another process (continued from headers).
    pub(crate) remote: bool,
    /// Annotations added through the context, waiting for the record.
    pub(crate) notes: crate::annotate::Notes,
}

impl ContextInner {
    /// This run's tags and metadata with those added since it started
    /// (through its handle or its context): what its children start with and
    /// its outgoing baggage carries. Shared, not copied, when nothing was
    /// added.
    pub(crate) fn tags_and_metadata(&self) -> (Arc<[String]>, Arc<Map<String, Value>>) {
        let (mut tags, mut metadata) = (self.tags.clone(), self.metadata.clone());
        self.notes.outgoing(|added| {
            if !added.metadata.is_empty() {
                let md = Arc::make_mut(&mut metadata);
                for (k, v) in &added.metadata {
                    md.insert(k.clone(), v.clone());
                }
            }
            if added.tags.iter().any(|t| !tags.contains(t)) {
                let mut all = tags.to_vec();
                for t in &added.tags {
                    if !all.contains(t) {
                        all.push(t.clone());
                    }
                }
                tags = Arc::from(all);
            }
        });
        (tags, metadata)
    }
}

impl fmt::Debug for RunContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RunContext")
            .field("id", &self.id())
            .field("trace_id", &self.trace_id())
            .field("dotted_order", &self.inner.dotted_order)
            .field("project", &self.inner.project)
            .field("sampled", &self.inner.sampled)
            .field("remote", &self.inner.remote)
            .finish()
    }
}

impl RunContext {
    /// Hands `rec`, the record of this context's run (ending now), to the
    /// client. An empty dotted order is filled from this context: moved out
    /// when this is its last handle (the usual end of a run), copied
    /// otherwise.
    pub(crate) fn submit_ended(mut self, mut rec: Box<RunRecord>, create: bool) {
        if rec.dotted_order.is_empty() {
            rec.dotted_order = match Arc::get_mut(&mut self.inner) {
                Some(inner) => inner.dotted_order.take_text(),
                None => self.inner.dotted_order.as_str().to_owned(),
            };
        }
        self.inner.client.submit_run(rec, create);
    }

    /// Adds a metadata entry to this context's run (replacing one of the same
    /// key), for code that has the context but not the run: inside a
    /// `#[traceable]` function or a traced request handler, through
    /// [`current_run`]. The entry is applied when the run's record next
    /// leaves (its post, a patch, or its end), and calls made by the run from
    /// now on carry it in their `baggage` ([`to_headers`](Self::to_headers)),
    /// as the Python SDK's `RunTree.add_metadata` does.
    ///
    /// Returns whether it will be recorded: `false` (with a rate-limited
    /// warning) when the run has already ended or lives in another process
    /// (a context continued from headers); `false` silently when the trace
    /// is not sampled.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let sink = MemorySink::new();
    /// # let client = Client::builder().sink(sink.clone()).tracing(Some(true)).build();
    /// let answer = traceable("answer").client(client).call(|| {
    ///     if let Some(run) = current_run() {
    ///         run.add_metadata("cache_hit", true);
    ///     }
    ///     42
    /// });
    /// assert_eq!(sink.runs()[0].extra.metadata["cache_hit"], true);
    /// ```
    pub fn add_metadata(&self, key: impl Into<String>, value: impl Into<Value>) -> bool {
        let (key, value) = (key.into(), value.into());
        self.annotate("metadata", true, |s| {
            s.outgoing().set_metadata(key.clone(), value.clone());
            s.pending().added.set_metadata(key, value);
        })
    }

    /// Adds a tag to this context's run (once); see
    /// [`add_metadata`](Self::add_metadata) for when it is applied (it also
    /// goes into the outgoing `baggage`).
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let sink = MemorySink::new();
    /// # let client = Client::builder().sink(sink.clone()).tracing(Some(true)).build();
    /// traceable("t").client(client).call(|| current_run().map(|r| r.add_tag("slow-path")));
    /// assert_eq!(sink.runs()[0].tags, ["slow-path"]);
    /// ```
    pub fn add_tag(&self, tag: impl Into<String>) -> bool {
        let tag = tag.into();
        self.annotate("tag", true, |s| {
            s.outgoing().add_tag(tag.clone());
            s.pending().added.add_tag(tag);
        })
    }

    /// Adds an event (e.g. a streamed token) to this context's run; see
    /// [`add_metadata`](Self::add_metadata) for when it is applied.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let sink = MemorySink::new();
    /// # let client = Client::builder().sink(sink.clone()).tracing(Some(true)).build();
    /// traceable("t").client(client).call(|| {
    ///     current_run().map(|r| r.add_event(serde_json::json!({"name": "new_token", "kwargs": {"token": "Hi"}})))
    /// });
    /// assert_eq!(sink.runs()[0].events.len(), 1);
    /// ```
    pub fn add_event(&self, event: Value) -> bool {
        self.annotate("event", false, |s| s.pending().events.push(event))
    }

    /// Attaches a file to this context's run (see
    /// [`Run::add_attachment`](crate::Run::add_attachment)); see
    /// [`add_metadata`](Self::add_metadata) for when it is applied.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let sink = MemorySink::new();
    /// # let client = Client::builder().sink(sink.clone()).tracing(Some(true)).build();
    /// traceable("render").client(client).call(|| {
    ///     let svg = Attachment::new("chart", "image/svg+xml", "<svg/>").unwrap();
    ///     current_run().map(|r| r.add_attachment(svg))
    /// });
    /// assert_eq!(sink.runs()[0].attachments[0].name(), "chart");
    /// ```
    pub fn add_attachment(&self, attachment: crate::Attachment) -> bool {
        self.annotate("attachment", false, |s| {
            crate::attachment::upsert(&mut s.pending().attachments, attachment)
        })
    }

    /// Applies to `rec` what was added through this context since it last
    /// left; `ending`: the run ends now, later additions are refused.
    pub(crate) fn apply_notes(&self, rec: &mut RunRecord, ending: bool) {
        let notes = &self.inner.notes;
        let pending = if ending { notes.end() } else { notes.take() };
        if let Some(p) = pending {
            p.apply(rec);
        }
    }

    /// `propagate`: the annotation also goes into the outgoing baggage.
    fn annotate(
        &self,
        what: &'static str,
        propagate: bool,
        f: impl FnOnce(&mut crate::annotate::Slot),
    ) -> bool {
        let c = &self.inner;
        if !c.sampled {
            return false;
        }
        let why = if c.remote {
            "it is the caller's run, in another process"
        } else if c.notes.add(propagate, f).is_ok() {
            return true;
        } else {
            "the run has already ended"
        };
        ANNOTATION_DROPPED.log(|suppressed| {
            tracing::warn!(
                run_id = %self.id(),
                what,
                suppressed,
                "LangSmith: an annotation was not recorded: {why}"
            )
        });
        false
    }

    /// The run id.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let run = RunTree::new("r").client(Client::builder().sink(MemorySink::new()).build()).start();
    /// let ctx = run.context().unwrap();
    /// assert_eq!(ctx.id().get_version_num(), 7);
    /// ```
    pub fn id(&self) -> Uuid {
        self.inner.dotted_order.run_id()
    }

    /// The trace id (the root run's id).
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let run = RunTree::new("r").client(Client::builder().sink(MemorySink::new()).build()).start();
    /// assert_eq!(run.context().unwrap().trace_id(), run.context().unwrap().id());
    /// ```
    pub fn trace_id(&self) -> Uuid {
        self.inner.dotted_order.trace_id()
    }

    /// The parent run's id.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let run = RunTree::new("r").client(Client::builder().sink(MemorySink::new()).build()).start();
    /// let child = run.child("c").start();
    /// assert_eq!(child.context().unwrap().parent_id(), Some(run.context().unwrap().id()));
    /// ```
    pub fn parent_id(&self) -> Option<Uuid> {
        self.inner.dotted_order.parent_id()
    }

    /// The dotted order.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let run = RunTree::new("r").client(Client::builder().sink(MemorySink::new()).build()).start();
    /// assert_eq!(run.context().unwrap().dotted_order().depth(), 1);
    /// ```
    pub fn dotted_order(&self) -> &DottedOrder {
        &self.inner.dotted_order
    }

    /// When the run started.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let run = RunTree::new("r").client(Client::builder().sink(MemorySink::new()).build()).start();
    /// assert!(run.context().unwrap().start_time() <= Timestamp::now());
    /// ```
    pub fn start_time(&self) -> Timestamp {
        self.inner.dotted_order.start_time()
    }

    /// The project the run goes to; empty when it is filed by agent
    /// address ([`address`](Self::address)).
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let run = RunTree::new("r").project("p").client(Client::builder().sink(MemorySink::new()).build()).start();
    /// assert_eq!(run.context().unwrap().project(), "p");
    /// ```
    pub fn project(&self) -> &str {
        &self.inner.project
    }

    /// The agent address (its LRN, `lrn:agents/{id}/environments/{env}`) the
    /// run is filed under instead of a project: the client's
    /// ([`ClientBuilder::agent_address`](crate::ClientBuilder::agent_address),
    /// `LANGSMITH_AGENT_ID`), or the caller's, from its `baggage`.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// let client = Client::builder().sink(MemorySink::new()).build();
    /// let headers = [
    ///     ("langsmith-trace", "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001"),
    ///     ("baggage", "langsmith-address=lrn%3Aagents/bot/environments/production"),
    /// ];
    /// let caller = RunContext::from_headers(headers, &client).unwrap();
    /// assert_eq!(caller.address(), Some("lrn:agents/bot/environments/production"));
    /// assert_eq!(caller.project(), "");
    /// ```
    pub fn address(&self) -> Option<&str> {
        self.inner.address.as_deref()
    }

    /// The run's tags (inherited ones first).
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let run = RunTree::new("r").tag("t").client(Client::builder().sink(MemorySink::new()).build()).start();
    /// assert_eq!(run.context().unwrap().tags(), ["t"]);
    /// ```
    pub fn tags(&self) -> &[String] {
        &self.inner.tags
    }

    /// The run's metadata (its own over the inherited).
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let run = RunTree::new("r").metadata("k", "v").client(Client::builder().sink(MemorySink::new()).build()).start();
    /// assert_eq!(run.context().unwrap().metadata()["k"], "v");
    /// ```
    pub fn metadata(&self) -> &Map<String, Value> {
        &self.inner.metadata
    }

    /// Whether this trace is recorded (head-based sampling).
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let run = RunTree::new("r").client(Client::builder().sink(MemorySink::new()).build()).start();
    /// assert!(run.context().unwrap().is_sampled());
    /// ```
    pub fn is_sampled(&self) -> bool {
        self.inner.sampled
    }

    /// Whether the run lives in another process (continued from headers).
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let run = RunTree::new("r").client(Client::builder().sink(MemorySink::new()).build()).start();
    /// assert!(!run.context().unwrap().is_remote());
    /// ```
    pub fn is_remote(&self) -> bool {
        self.inner.remote
    }

    /// The client runs under this context are sent through.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let run = RunTree::new("r").project("p").client(Client::builder().sink(MemorySink::new()).build()).start();
    /// let _client = run.context().unwrap().client();
    /// ```
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// Replicas named in incoming baggage (project and field updates only).
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let run = RunTree::new("r").client(Client::builder().sink(MemorySink::new()).build()).start();
    /// assert!(run.context().unwrap().replicas().is_empty());
    /// ```
    pub fn replicas(&self) -> &[ReplicaHint] {
        &self.inner.replicas
    }

    /// The `langsmith-trace` and `baggage` values for a call made by this run.
    /// The baggage carries the run's tags and metadata: those it was started
    /// with (its own and inherited) and those added since, through the run's
    /// handle ([`Run::add_metadata`](crate::Run::add_metadata)) or this
    /// context ([`add_metadata`](Self::add_metadata)).
    /// An unsampled trace sends no `langsmith-trace`, only
    /// `baggage: langsmith-sampled=0`, so that downstream services do not
    /// start a new trace either.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let run = RunTree::new("r").project("shop").client(Client::builder().sink(MemorySink::new()).build()).start();
    /// let headers = run.context().unwrap().to_headers();
    /// assert_eq!(headers.trace.as_deref(), Some(run.context().unwrap().dotted_order().as_str()));
    /// assert_eq!(headers.baggage.as_deref(), Some("langsmith-project=shop"));
    /// ```
    pub fn to_headers(&self) -> Outgoing {
        let inner = &self.inner;
        let (tags, metadata) = if inner.sampled {
            inner.tags_and_metadata()
        } else {
            Default::default()
        };
        let mut baggage = Baggage {
            metadata: Arc::unwrap_or_clone(metadata),
            tags: tags.to_vec(),
            project: inner.sampled.then(|| inner.project.to_string()),
            sampled: (!inner.sampled).then_some(false),
            replicas: if inner.sampled {
                inner.replicas.to_vec()
            } else {
                Vec::new()
            },
            foreign: inner.foreign_baggage.to_vec(),
        };
        // Filed by agent address: the callee's runs go there too (the
        // address the caller sent is already among the foreign entries; one
        // this run's client chose is written here).
        if inner.sampled
            && let Some(lrn) = &inner.address
            && baggage.address().is_none()
        {
            baggage.push_address_lrn(lrn);
        }
        headers::emit(inner.sampled.then_some(&inner.dotted_order), &baggage)
    }

    /// Continues a trace from incoming headers (any `(name, value)` pairs,
    /// names case-insensitive), the way `tracing_context(parent=headers)` does
    /// in the Python SDK: runs started inside become children of the caller's
    /// run. Returns `None` when the headers carry no LangSmith trace; bad
    /// entries are skipped with a (rate-limited) warning and never fail.
    ///
    /// ```
    /// use langsmith_core::{Client, MemorySink, RunContext};
    /// let client = Client::builder().sink(MemorySink::new()).build();
    /// let headers = [
    ///     ("langsmith-trace", "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001"),
    ///     ("baggage", "langsmith-project=shop,langsmith-tags=a"),
    /// ];
    /// let parent = RunContext::from_headers(headers, &client).unwrap();
    /// assert_eq!(parent.id().to_string(), "0193d5a2-0000-7000-8000-000000000001");
    /// assert_eq!(parent.project(), "shop");
    /// ```
    pub fn from_headers<I, K, V>(headers: I, client: &Client) -> Option<RunContext>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<[u8]>,
    {
        let parsed = headers::parse(headers);
        for err in &parsed.errors {
            crate::warn::header_problem(err);
        }
        RunContext::from_incoming(parsed.context, client, true)
    }

    /// Builds the remote parent from an already parsed [`IncomingContext`].
    /// With `use_project` false a project named in baggage is ignored.
    ///
    /// ```
    /// use langsmith_core::{Client, MemorySink, RunContext, headers::IncomingContext};
    /// let client = Client::builder().sink(MemorySink::new()).build();
    /// assert!(RunContext::from_incoming(IncomingContext::default(), &client, true).is_none());
    /// ```
    pub fn from_incoming(
        incoming: IncomingContext,
        client: &Client,
        use_project: bool,
    ) -> Option<RunContext> {
        let IncomingContext { parent, baggage } = incoming;
        let sampled = baggage.sampled != Some(false);
        let dotted_order = match (parent, sampled) {
            (Some(d), true) => d,
            // No trace header but an explicit "not sampled": stay unsampled downstream.
            (_, false) => DottedOrder::root(Timestamp::now(), crate::uuid7()),
            (None, true) => return None,
        };
        // The caller's destination: its project, or (Python's agent
        // addressing) its agent address, when the service follows the
        // caller's; a header naming both was refused by the codec.
        let (project, address): (Arc<str>, Option<Arc<str>>) = match baggage.project {
            Some(p) if use_project && !p.is_empty() => match *p == *client.inner.project {
                true => (client.inner.project.clone(), None),
                false => (Arc::from(p), None),
            },
            _ => match baggage.address().filter(|_| use_project) {
                Some(a) => (
                    crate::builder::empty_shared().project.clone(),
                    Some(Arc::from(a.to_lrn())),
                ),
                // The caller named no destination: this service's own
                // (its project, or its agent address).
                None => client.inner.destination(),
            },
        };
        // Nothing to share: the process-wide empty values (no allocation).
        let empty = crate::builder::empty_shared();
        let shared = |v: Vec<String>| {
            if v.is_empty() {
                empty.tags.clone()
            } else {
                Arc::from(v)
            }
        };
        let mut tags = baggage.tags;
        dedup_keeping_first(&mut tags);
        let tags = shared(tags);
        let foreign_baggage = shared(baggage.foreign);
        let metadata = if baggage.metadata.is_empty() {
            empty.metadata.clone()
        } else {
            Arc::new(baggage.metadata)
        };
        let replicas = if baggage.replicas.is_empty() {
            empty.replicas.clone()
        } else {
            Arc::from(baggage.replicas)
        };
        Some(RunContext {
            inner: Arc::new(ContextInner {
                notes: Default::default(),
                dotted_order,
                project,
                address,
                inherited_tags: tags.clone(),
                inherited_metadata: metadata.clone(),
                tags,
                metadata,
                sampled,
                client: client.clone(),
                foreign_baggage,
                replicas,
                remote: true,
            }),
        })
    }
}

/// Drops repeated tags, keeping each one's first place: the Python SDK
/// de-duplicates the tags a run inherits from `baggage` too. Linear for
/// long lists, so that a hostile header cannot make it quadratic.
fn dedup_keeping_first(tags: &mut Vec<String>) {
    if tags.len() <= 16 {
        let mut i = 1;
        while i < tags.len() {
            if tags[..i].contains(&tags[i]) {
                tags.remove(i);
            } else {
                i += 1;
            }
        }
    } else {
        let mut seen = std::collections::HashSet::with_capacity(tags.len());
        tags.retain(|t| seen.insert(t.clone()));
    }
}

/// The current run's context, if any.
///
/// ```
/// assert!(langsmith_core::current_run().is_none());
/// ```
pub fn current_run() -> Option<RunContext> {
    CURRENT.try_with(|c| c.clone()).ok().flatten()
}

/// Runs `f` with `ctx` as the current run (synchronous code).
///
/// ```
/// use langsmith_core::*;
/// let client = Client::builder().sink(MemorySink::new()).build();
/// let run = RunTree::new("r").client(client).start();
/// let ctx = run.context().cloned();
/// let seen = in_run_sync(ctx.clone(), || current_run().map(|c| c.id()));
/// assert_eq!(seen, ctx.map(|c| c.id()));
/// ```
pub fn in_run_sync<R>(ctx: Option<RunContext>, f: impl FnOnce() -> R) -> R {
    CURRENT.sync_scope(ctx, f)
}

pin_project_lite::pin_project! {
    /// A future that runs inside a run context: the context is current on
    /// every poll and while the inner future is dropped.
    /// Made by [`FutureExt::in_run`].
    #[must_use = "futures do nothing unless polled"]
    pub struct InRun<F: Future> {
        #[pin]
        inner: tokio::task::futures::TaskLocalFuture<Option<RunContext>, F>,
    }
}

impl<F: Future> Future for InRun<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.project().inner.poll(cx)
    }
}

impl<F: Future> fmt::Debug for InRun<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InRun")
    }
}

pin_project_lite::pin_project! {
    /// A future polled inside a run's context when there is one, and as it
    /// is otherwise: no scope is entered, so an outer current run stays
    /// visible (unlike `in_run(None)`, which hides it). What the framework
    /// adapters wrap a handler's future in.
    ///
    /// ```
    /// use langsmith_core::{current_run, Client, MaybeInRun, MemorySink, RunTree};
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let run = RunTree::new("r").client(Client::builder().sink(MemorySink::new()).build()).start();
    /// let inside = MaybeInRun::new(async { current_run().map(|c| c.id()) }, run.context().cloned());
    /// assert_eq!(inside.await, run.id());
    /// let plain = MaybeInRun::new(async { current_run().is_none() }, None);
    /// assert!(plain.await);
    /// # });
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct MaybeInRun<F: Future> {
        #[pin]
        inner: Maybe<F>,
    }
}

pin_project_lite::pin_project! {
    #[project = MaybeProj]
    enum Maybe<F: Future> {
        InRun { #[pin] fut: InRun<F> },
        Plain { #[pin] fut: F },
    }
}

impl<F: Future> MaybeInRun<F> {
    /// `fut` inside `ctx` when it is `Some`, else `fut` as it is.
    pub fn new(fut: F, ctx: Option<RunContext>) -> Self {
        let inner = match ctx {
            Some(ctx) => Maybe::InRun {
                fut: fut.in_run(Some(ctx)),
            },
            None => Maybe::Plain { fut },
        };
        MaybeInRun { inner }
    }

    /// `fut` as it is.
    ///
    /// ```
    /// # use langsmith_core::MaybeInRun;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// assert_eq!(MaybeInRun::plain(async { 7 }).await, 7);
    /// # });
    /// ```
    pub fn plain(fut: F) -> Self {
        MaybeInRun {
            inner: Maybe::Plain { fut },
        }
    }
}

impl<F: Future> Future for MaybeInRun<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        match self.project().inner.project() {
            MaybeProj::InRun { fut } => fut.poll(cx),
            MaybeProj::Plain { fut } => fut.poll(cx),
        }
    }
}

impl<F: Future> fmt::Debug for MaybeInRun<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self.inner {
            Maybe::InRun { .. } => "MaybeInRun::InRun",
            Maybe::Plain { .. } => "MaybeInRun::Plain",
        })
    }
}

/// Carries run contexts into futures.
pub trait FutureExt: Future + Sized {
    /// Runs this future with `ctx` as the current run.
    ///
    /// ```
    /// use langsmith_core::*;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let client = Client::builder().sink(MemorySink::new()).build();
    /// let run = RunTree::new("r").client(client).start();
    /// let ctx = run.context().cloned();
    /// let seen = async { current_run().map(|c| c.id()) }.in_run(ctx.clone()).await;
    /// assert_eq!(seen, ctx.map(|c| c.id()));
    /// # }
    /// ```
    fn in_run(self, ctx: Option<RunContext>) -> InRun<Self> {
        InRun {
            inner: CURRENT.scope(ctx, self),
        }
    }

    /// Captures the current run now and runs this future inside it later,
    /// wherever it is polled (e.g. in a spawned task).
    ///
    /// ```
    /// use langsmith_core::*;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let fut = async { current_run().is_some() }.in_current_run();
    /// assert!(!tokio::spawn(fut).await.unwrap());
    /// # }
    /// ```
    fn in_current_run(self) -> InRun<Self> {
        self.in_run(current_run())
    }
}

impl<F: Future> FutureExt for F {}

/// `tokio::spawn` that carries the current run into the new task (tokio's
/// task-locals are not inherited otherwise).
///
/// ```
/// use langsmith_core::*;
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let client = Client::builder().sink(MemorySink::new()).build();
/// let run = RunTree::new("r").client(client).start();
/// let id = run.context().map(|c| c.id());
/// let seen = async { spawn(async { current_run().map(|c| c.id()) }).await.unwrap() }
///     .in_run(run.context().cloned())
///     .await;
/// assert_eq!(seen, id);
/// # }
/// ```
pub fn spawn<F>(fut: F) -> tokio::task::JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    tokio::spawn(fut.in_current_run())
}

#[cfg(test)]
mod dedup_tests {
    use super::dedup_keeping_first;

    #[test]
    fn repeated_tags_keep_their_first_place() {
        let tags = |v: &[&str]| v.iter().map(|t| t.to_string()).collect::<Vec<_>>();
        for (have, want) in [
            (&["a", "b", "a", "c", "b"][..], &["a", "b", "c"][..]),
            (&["x", "x"], &["x"]),
            (&[], &[]),
        ] {
            let mut t = tags(have);
            dedup_keeping_first(&mut t);
            assert_eq!(t, tags(want));
        }
        // Long lists take the hashed path: same result.
        let mut t: Vec<String> = (0..40).map(|i| format!("t{}", i % 7)).collect();
        dedup_keeping_first(&mut t);
        assert_eq!(t, (0..7).map(|i| format!("t{i}")).collect::<Vec<_>>());
    }
}
