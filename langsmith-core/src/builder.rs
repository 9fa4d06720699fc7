//! [`RunBuilder`]: options of a run, and the three ways to trace with them —
//! [`traceable`] (wrap a call), [`trace`] (a scope you end yourself) and
//! [`RunTree`] (explicit, no ambient context).

use crate::client::{Client, RootInfo, default_client};
use crate::context::{ContextInner, RunContext, current_run};
use crate::handle::Run;
use crate::run::{Payload, RunRecord, to_payload};
use crate::traced::{record_output, record_result, traced};
use crate::{DottedOrder, RunType, Timestamp};
use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt::Display;
use std::future::Future;
use std::sync::Arc;
use uuid::Uuid;

/// Empty shared values every new trace starts with: one allocation per
/// process instead of several per root run.
pub(crate) struct EmptyShared {
    pub(crate) tags: Arc<[String]>,
    pub(crate) metadata: Arc<Map<String, Value>>,
    pub(crate) replicas: Arc<[crate::headers::ReplicaHint]>,
    /// The empty project of a run filed by agent address.
    pub(crate) project: Arc<str>,
}

pub(crate) fn empty_shared() -> &'static EmptyShared {
    static EMPTY: std::sync::OnceLock<EmptyShared> = std::sync::OnceLock::new();
    EMPTY.get_or_init(|| EmptyShared {
        tags: Arc::from(Vec::new()),
        metadata: Arc::new(Map::new()),
        replicas: Arc::from(Vec::new()),
        project: Arc::from(""),
    })
}

#[derive(Clone, Debug)]
enum Parent {
    /// The current run, if any (ambient APIs).
    Current,
    /// No parent: a new trace.
    Root,
    /// This parent.
    Explicit(RunContext),
    /// Never record (the parent was inactive).
    Inactive,
}

/// Options of one run. Made by [`trace`], [`traceable`], [`RunTree::new`] or
/// [`Run::child`]; cheap to clone, so one builder can serve many calls.
///
/// ```
/// use langsmith_core::{trace, RunType};
/// let retrieve = trace("retrieve").run_type(RunType::Retriever).tag("v2");
/// let again = retrieve.clone();
/// # let _ = again;
/// ```
#[derive(Clone, Debug)]
#[must_use = "a RunBuilder does nothing until started or called"]
pub struct RunBuilder {
    name: Cow<'static, str>,
    run_type: RunType,
    parent: Parent,
    /// Ambient APIs obey `LANGSMITH_TRACING`; the low-level one always records.
    ambient: bool,
    client: Option<Client>,
    id: Option<Uuid>,
    tags: Vec<String>,
    metadata: Map<String, Value>,
    inputs: Option<Payload>,
    project: Option<String>,
    start_time: Option<Timestamp>,
    reference_example_id: Option<Uuid>,
    serialized: Option<Value>,
}

/// Starts a run in the current context: a child of the current run, or a new
/// trace when there is none and tracing is on. The equivalent of the official
/// SDKs' `trace` context manager: start it, work inside it, end it.
///
/// ```
/// use langsmith_core::*;
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let sink = MemorySink::new();
/// let client = Client::builder().sink(sink.clone()).tracing(Some(true)).build();
/// let mut run = trace("summarize").client(client).inputs(&serde_json::json!({"text": "..."})).start();
/// let summary = run.instrument(async { "short".to_string() }).await;
/// run.set_outputs(&summary);
/// run.end();
/// assert_eq!(sink.runs()[0].name, "summarize");
/// # }
/// ```
pub fn trace(name: impl Into<Cow<'static, str>>) -> RunBuilder {
    RunBuilder::new(name, Parent::Current, true)
}

/// The `@traceable` equivalent: wraps one call (sync or async, plain or
/// `Result`) in a run that is a child of the current run. Inputs are set on
/// the builder, the output is recorded from the return value, an `Err` or a
/// panic is recorded as the run's error and passed on unchanged.
///
/// ```
/// use langsmith_core::*;
/// let sink = MemorySink::new();
/// let client = Client::builder().sink(sink.clone()).tracing(Some(true)).build();
/// let double = |x: i32| traceable("double").client(client.clone()).inputs(&serde_json::json!({"x": x})).call(|| x * 2);
/// assert_eq!(double(21), 42);
/// assert_eq!(sink.runs()[0].outputs.as_ref().unwrap().get(), r#"{"output":42}"#);
/// ```
pub fn traceable(name: impl Into<Cow<'static, str>>) -> RunBuilder {
    RunBuilder::new(name, Parent::Current, true)
}

/// The low-level API, like the official SDKs' `RunTree`: runs are created
/// and linked explicitly, the ambient context is neither read nor set, and
/// runs are recorded whatever `LANGSMITH_TRACING` says.
///
/// ```
/// use langsmith_core::*;
/// let sink = MemorySink::new();
/// let client = Client::builder().sink(sink.clone()).build();
/// let mut root = RunTree::new("pipeline").client(client).start();
/// let mut llm = root.child("model").run_type(RunType::Llm).start();
/// llm.set_outputs(&"hi");
/// llm.end();
/// root.end();
/// let runs = sink.runs();
/// assert_eq!(runs[0].parent_run_id, Some(runs[1].id));
/// ```
#[derive(Debug, Clone, Copy)]
pub struct RunTree;

impl RunTree {
    /// A builder for a new root run (set `.parent(..)` to make it a child).
    ///
    /// ```
    /// let run = langsmith_core::RunTree::new("root").client(
    ///     langsmith_core::Client::builder().sink(langsmith_core::MemorySink::new()).build(),
    /// ).start();
    /// assert!(run.is_recording());
    /// ```
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<Cow<'static, str>>) -> RunBuilder {
        RunBuilder::low_level(name)
    }

    /// The caller's run from incoming headers, to start children under
    /// (see [`RunContext::from_headers`]).
    ///
    /// ```
    /// use langsmith_core::*;
    /// let client = Client::builder().sink(MemorySink::new()).build();
    /// let parent = RunTree::from_headers(
    ///     [("langsmith-trace", "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001")],
    ///     &client,
    /// ).unwrap();
    /// let run = RunTree::new("handler").parent(&parent).start();
    /// assert_eq!(run.context().unwrap().parent_id(), Some(parent.id()));
    /// ```
    pub fn from_headers<I, K, V>(headers: I, client: &Client) -> Option<RunContext>
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<str>,
        V: AsRef<[u8]>,
    {
        RunContext::from_headers(headers, client)
    }
}

impl RunBuilder {
    fn new(name: impl Into<Cow<'static, str>>, parent: Parent, ambient: bool) -> Self {
        RunBuilder {
            name: name.into(),
            run_type: RunType::Chain,
            parent,
            ambient,
            client: None,
            id: None,
            tags: Vec::new(),
            metadata: Map::new(),
            inputs: None,
            project: None,
            start_time: None,
            reference_example_id: None,
            serialized: None,
        }
    }

    pub(crate) fn low_level(name: impl Into<Cow<'static, str>>) -> Self {
        RunBuilder::new(name, Parent::Root, false)
    }

    pub(crate) fn inactive(mut self) -> Self {
        self.parent = Parent::Inactive;
        self
    }

    /// Sets the run type (default `chain`).
    ///
    /// ```
    /// let b = langsmith_core::trace("llm").run_type(langsmith_core::RunType::Llm);
    /// # let _ = b;
    /// ```
    pub fn run_type(mut self, run_type: RunType) -> Self {
        self.run_type = run_type;
        self
    }

    /// Makes the run a child of `parent` (instead of the current run).
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let client = Client::builder().sink(MemorySink::new()).build();
    /// let root = RunTree::new("root").client(client).start();
    /// let child = trace("child").parent(root.context().unwrap()).start();
    /// assert_eq!(child.context().unwrap().parent_id(), root.id());
    /// ```
    pub fn parent(mut self, parent: &RunContext) -> Self {
        self.parent = Parent::Explicit(parent.clone());
        self
    }

    /// Makes the run the root of a new trace even inside another run.
    ///
    /// ```
    /// let b = langsmith_core::trace("new-trace").root();
    /// # let _ = b;
    /// ```
    pub fn root(mut self) -> Self {
        self.parent = Parent::Root;
        self
    }

    /// Sends the run through `client` (default: the parent's, else the default client).
    ///
    /// ```
    /// # use langsmith_core::*;
    /// let b = trace("x").client(Client::builder().sink(MemorySink::new()).build());
    /// # let _ = b;
    /// ```
    pub fn client(mut self, client: Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Uses a run id chosen in advance (so feedback can name it before the run
    /// ends). It should be a UUID v7 (see [`crate::uuid7`]); others are
    /// accepted with a one-time warning.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let client = Client::builder().sink(MemorySink::new()).build();
    /// let id = uuid7();
    /// let run = RunTree::new("r").id(id).client(client).start();
    /// assert_eq!(run.id(), Some(id));
    /// ```
    pub fn id(mut self, id: Uuid) -> Self {
        self.id = Some(crate::id::check_custom_id(id));
        self
    }

    /// Adds a tag.
    ///
    /// ```
    /// let b = langsmith_core::trace("x").tag("a").tag("b");
    /// # let _ = b;
    /// ```
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Adds tags.
    ///
    /// ```
    /// let b = langsmith_core::trace("x").tags(["a", "b"]);
    /// # let _ = b;
    /// ```
    pub fn tags<I, S>(mut self, tags: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.tags.extend(tags.into_iter().map(Into::into));
        self
    }

    /// Adds a metadata entry.
    ///
    /// ```
    /// let b = langsmith_core::trace("x").metadata("ls_provider", "openai");
    /// # let _ = b;
    /// ```
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Adds every entry of a metadata map.
    ///
    /// ```
    /// let mut m = serde_json::Map::new();
    /// m.insert("thread_id".into(), "t-1".into());
    /// let b = langsmith_core::trace("x").metadata_map(m);
    /// # let _ = b;
    /// ```
    pub fn metadata_map(mut self, metadata: Map<String, Value>) -> Self {
        self.metadata.extend(metadata);
        self
    }

    /// Sets the inputs (a JSON object; anything else becomes `{"input": value}`).
    ///
    /// ```
    /// let b = langsmith_core::trace("x").inputs(&serde_json::json!({"q": "hi"}));
    /// # let _ = b;
    /// ```
    pub fn inputs<T: Serialize + ?Sized>(mut self, inputs: &T) -> Self {
        self.inputs = Some(to_payload(inputs, "input"));
        self
    }

    /// Sets the inputs to an already serialized JSON object.
    pub(crate) fn set_inputs_payload(&mut self, inputs: Payload) {
        self.inputs = Some(inputs);
    }

    /// Sends the run (and its descendants) to `project` instead of the client's.
    ///
    /// ```
    /// let b = langsmith_core::trace("x").project("experiments");
    /// # let _ = b;
    /// ```
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// Sets the start time (default: now; a child never starts before its parent).
    ///
    /// ```
    /// let b = langsmith_core::trace("x").start_time(langsmith_core::Timestamp::now());
    /// # let _ = b;
    /// ```
    pub fn start_time(mut self, start: Timestamp) -> Self {
        self.start_time = Some(start);
        self
    }

    /// Links the run to a dataset example.
    ///
    /// ```
    /// let b = langsmith_core::trace("x").reference_example_id(langsmith_core::uuid7());
    /// # let _ = b;
    /// ```
    pub fn reference_example_id(mut self, id: Uuid) -> Self {
        self.reference_example_id = Some(id);
        self
    }

    /// Sets `serialized` (a description of the traced callable).
    ///
    /// ```
    /// let b = langsmith_core::trace("x").serialized(serde_json::json!({"name": "x"}));
    /// # let _ = b;
    /// ```
    pub fn serialized(mut self, serialized: Value) -> Self {
        self.serialized = Some(serialized);
        self
    }

    /// Starts the run. It is inactive (records nothing) when tracing is off
    /// for ambient APIs, or when the trace is not sampled.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let client = Client::builder().sink(MemorySink::new()).build();
    /// let run = RunTree::new("r").client(client).start();
    /// assert!(run.is_recording());
    /// ```
    pub fn start(self) -> Run {
        let parent = match &self.parent {
            Parent::Inactive => return Run::inactive(),
            Parent::Current => current_run(),
            Parent::Root => None,
            Parent::Explicit(p) => Some(p.clone()),
        };
        let client = match (&self.client, &parent) {
            (Some(c), _) => c.clone(),
            (None, Some(p)) => p.client().clone(),
            (None, None) => default_client(),
        };
        if self.ambient && client.tracing_forbidden() {
            return Run::inactive();
        }
        match parent {
            Some(p) => self.start_child(p, client),
            None => {
                if self.ambient && !client.starts_traces() {
                    return Run::inactive();
                }
                self.start_root(client)
            }
        }
    }

    /// The run's id: the one given, or a new v7 id; made from `start` (one
    /// clock read for both) when `start` was just read from the clock.
    fn new_id(&self, start: Timestamp) -> Uuid {
        match (self.id, self.start_time) {
            (Some(id), _) => id,
            (None, None) => crate::id::uuid7_at(start),
            (None, Some(_)) => crate::uuid7(),
        }
    }

    fn start_root(self, client: Client) -> Run {
        let start = self.start_time.unwrap_or_else(Timestamp::now);
        let id = self.new_id(start);
        let sampled = client.sample(
            id,
            &RootInfo {
                name: &self.name,
                run_type: self.run_type,
                tags: &self.tags,
                metadata: &self.metadata,
            },
        );
        let dotted = DottedOrder::root(start, id);
        let (project, address) = match &self.project {
            Some(p) => (Arc::from(p.as_str()), None),
            None => client.inner.destination(),
        };
        let empty = empty_shared();
        self.finish_start(ContextInner {
            notes: Default::default(),
            dotted_order: dotted,
            project,
            address,
            inherited_tags: empty.tags.clone(),
            inherited_metadata: empty.metadata.clone(),
            tags: empty.tags.clone(),
            metadata: empty.metadata.clone(),
            sampled,
            client,
            foreign_baggage: empty.tags.clone(),
            replicas: empty.replicas.clone(),
            remote: false,
        })
    }

    fn start_child(self, parent: RunContext, client: Client) -> Run {
        let p = &parent.inner;
        let start = self.start_time.unwrap_or_else(Timestamp::now);
        let id = self.new_id(start);
        let start = start.max(p.dotted_order.start_time());
        // Its own project, or where its parent goes (a project or an agent
        // address).
        let (project, address): (Arc<str>, _) = match &self.project {
            Some(proj) => (Arc::from(proj.as_str()), None),
            None => (p.project.clone(), p.address.clone()),
        };
        // As in the Python SDK (`create_child`, `@traceable`): a child starts
        // with all of its parent's tags and metadata, including those added
        // to the parent since it started.
        let (tags, metadata) = p.tags_and_metadata();
        self.finish_start(ContextInner {
            notes: Default::default(),
            dotted_order: p.dotted_order.child(start, id),
            project,
            address,
            inherited_tags: tags.clone(),
            inherited_metadata: metadata.clone(),
            tags,
            metadata,
            sampled: p.sampled,
            client,
            foreign_baggage: p.foreign_baggage.clone(),
            replicas: p.replicas.clone(),
            remote: false,
        })
    }

    /// Merges own tags/metadata over the inherited ones, builds the record.
    fn finish_start(self, mut inner: ContextInner) -> Run {
        if !self.tags.is_empty() {
            let mut tags = inner.inherited_tags.to_vec();
            for t in self.tags {
                if !tags.contains(&t) {
                    tags.push(t);
                }
            }
            inner.tags = Arc::from(tags);
        }
        if !self.metadata.is_empty() {
            let mut md = (*inner.inherited_metadata).clone();
            md.extend(self.metadata);
            inner.metadata = Arc::new(md);
        }
        let sampled = inner.sampled;
        let ctx = RunContext {
            inner: Arc::new(inner),
        };
        if !sampled {
            return Run {
                ctx: Some(ctx),
                rec: None,
                posted: false,
            };
        }
        let c = &ctx.inner;
        let d = &c.dotted_order;
        // The dotted order is left empty here: the context holds it, and
        // the record gets it when it leaves the run (moved from the
        // context when the run ends holding its last handle, copied
        // otherwise; see `Run::finish_last` and `RunContext::submit_ended`)
        // — one allocation and copy fewer per run.
        let mut rec = Box::new(RunRecord::new_without_dotted_order(
            d.run_id(),
            self.name,
            self.run_type,
            d.start_time(),
            d.trace_id(),
            d.parent_id(),
            c.project.clone(),
        ));
        rec.address = c.address.clone();
        rec.tags = c.tags.to_vec();
        rec.extra.metadata = (*c.metadata).clone();
        rec.inputs = self.inputs;
        rec.reference_example_id = self.reference_example_id;
        rec.serialized = self.serialized;
        Run {
            ctx: Some(ctx),
            rec: Some(rec),
            posted: false,
        }
    }

    /// Traces a synchronous call whose return value is the output.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let client = Client::builder().sink(MemorySink::new()).tracing(Some(true)).build();
    /// let n = traceable("count").client(client).call(|| 3);
    /// assert_eq!(n, 3);
    /// ```
    pub fn call<T: Serialize>(self, f: impl FnOnce() -> T) -> T {
        self.call_with(f, record_output::<T>)
    }

    /// Traces a synchronous call returning `Result`: `Ok` is the output, `Err`
    /// (its `Display`) the error; the result is returned unchanged.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let sink = MemorySink::new();
    /// # let client = Client::builder().sink(sink.clone()).tracing(Some(true)).build();
    /// let r: Result<u8, String> = traceable("parse").client(client).try_call(|| Err("bad".into()));
    /// assert!(r.is_err());
    /// assert_eq!(sink.runs()[0].error.as_deref(), Some("bad"));
    /// ```
    pub fn try_call<T: Serialize, E: Display>(
        self,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        self.call_with(f, record_result::<T, E>)
    }

    fn call_with<R>(self, f: impl FnOnce() -> R, record: fn(&mut Run, &R)) -> R {
        let mut run = self.start();
        let ctx = run.ctx.clone();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            crate::context::in_run_sync(ctx.or_else(current_run), f)
        }));
        match result {
            Ok(out) => {
                record(&mut run, &out);
                run.end();
                out
            }
            Err(panic) => {
                run.set_error(crate::traced::panic_message(&*panic));
                run.end();
                std::panic::resume_unwind(panic)
            }
        }
    }

    /// Traces a future whose output is the run's output. The run starts when
    /// the future is first polled (its parent is the run current there), and
    /// dropping the future before it completes ends the run as cancelled.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # let client = Client::builder().sink(MemorySink::new()).tracing(Some(true)).build();
    /// let n = traceable("fetch").client(client).call_async(async { 7 }).await;
    /// assert_eq!(n, 7);
    /// # }
    /// ```
    pub fn call_async<F>(self, fut: F) -> impl Future<Output = F::Output>
    where
        F: Future,
        F::Output: Serialize,
    {
        traced(self, fut, record_output::<F::Output>)
    }

    /// Traces a future returning `Result` (`Ok` output, `Err` error).
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # let client = Client::builder().sink(MemorySink::new()).tracing(Some(true)).build();
    /// let r: Result<u8, std::io::Error> = traceable("read").client(client).try_call_async(async { Ok(1) }).await;
    /// assert_eq!(r.unwrap(), 1);
    /// # }
    /// ```
    pub fn try_call_async<F, T, E>(self, fut: F) -> impl Future<Output = F::Output>
    where
        F: Future<Output = Result<T, E>>,
        T: Serialize,
        E: Display,
    {
        traced(self, fut, record_result::<T, E>)
    }
}
