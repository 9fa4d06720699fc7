//! Per-call overrides for `#[traceable]` functions — the equivalent of the
//! official SDKs' `langsmith_extra` — and the small runtime the macro's
//! generated code calls.
//!
//! Overrides are *scoped*: [`with_extra`] (sync) and [`with_extra_async`]
//! stash a [`TraceExtra`] that the next `#[traceable]` call started inside
//! the scope takes (only that one: its nested calls do not see it).

use crate::builder::{RunBuilder, traceable};
use crate::client::Client;
use crate::context::{RunContext, current_run};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use uuid::Uuid;

thread_local! {
    static PENDING: Cell<Option<Box<TraceExtra>>> = const { Cell::new(None) };
    /// `PENDING` is `Some`: a plain flag, cheaper to read on every call than
    /// a slot with a destructor.
    static HAS_PENDING: Cell<bool> = const { Cell::new(false) };
}

/// Replaces this thread's pending overrides, returning the previous ones.
fn swap_pending(new: Option<Box<TraceExtra>>) -> Option<Box<TraceExtra>> {
    HAS_PENDING.set(new.is_some());
    PENDING.replace(new)
}

/// Takes this thread's pending overrides.
#[inline]
fn take_pending() -> Option<Box<TraceExtra>> {
    if !HAS_PENDING.get() {
        return None;
    }
    swap_pending(None)
}

static UNUSED_EXTRA: crate::RateLimited = crate::RateLimited::new(60);

/// Overrides for one traced call, like the Python SDK's `langsmith_extra`:
/// a run id chosen in advance, an explicit parent, extra metadata and tags,
/// another name, project or client. Every field is optional.
///
/// Apply it with [`with_extra`] / [`with_extra_async`] (or the equivalent
/// methods [`TraceExtra::scope`] / [`TraceExtra::scope_async`]).
///
/// ```
/// use langsmith_core::{TraceExtra, uuid7};
/// let id = uuid7();
/// let extra = TraceExtra::new().run_id(id).metadata("user", "u-42").tag("beta");
/// assert_eq!(extra.run_id, Some(id));
/// // struct-literal form
/// let extra = TraceExtra { run_id: Some(id), ..TraceExtra::default() };
/// # let _ = extra;
/// ```
#[derive(Clone, Debug, Default)]
pub struct TraceExtra {
    /// The run's id (should be a UUID v7, see [`crate::uuid7`]), e.g. to
    /// attach feedback to it later.
    pub run_id: Option<Uuid>,
    /// The parent run, instead of the current one.
    pub parent: Option<RunContext>,
    /// The run's name, instead of the function's.
    pub name: Option<String>,
    /// Tags added to the attribute's.
    pub tags: Vec<String>,
    /// Metadata added over the attribute's (these win on equal keys).
    pub metadata: Map<String, Value>,
    /// The project, instead of the parent's or the client's.
    pub project: Option<String>,
    /// The client, instead of the parent's or the default one.
    pub client: Option<Client>,
    /// A dataset example the run is linked to.
    pub reference_example_id: Option<Uuid>,
}

impl TraceExtra {
    /// No overrides.
    ///
    /// ```
    /// assert!(langsmith_core::TraceExtra::new().run_id.is_none());
    /// ```
    pub fn new() -> Self {
        TraceExtra::default()
    }

    /// Sets the run id.
    ///
    /// ```
    /// let id = langsmith_core::uuid7();
    /// assert_eq!(langsmith_core::TraceExtra::new().run_id(id).run_id, Some(id));
    /// ```
    pub fn run_id(mut self, id: Uuid) -> Self {
        self.run_id = Some(id);
        self
    }

    /// Sets the parent run.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// let root = RunTree::new("root").client(Client::builder().sink(MemorySink::new()).build()).start();
    /// let extra = TraceExtra::new().parent(root.context().unwrap());
    /// assert_eq!(extra.parent.map(|p| p.id()), root.id());
    /// ```
    pub fn parent(mut self, parent: &RunContext) -> Self {
        self.parent = Some(parent.clone());
        self
    }

    /// Sets the run name.
    ///
    /// ```
    /// assert_eq!(langsmith_core::TraceExtra::new().name("n").name.as_deref(), Some("n"));
    /// ```
    pub fn name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Adds a tag.
    ///
    /// ```
    /// assert_eq!(langsmith_core::TraceExtra::new().tag("a").tags, ["a"]);
    /// ```
    pub fn tag(mut self, tag: impl Into<String>) -> Self {
        self.tags.push(tag.into());
        self
    }

    /// Adds a metadata entry.
    ///
    /// ```
    /// let extra = langsmith_core::TraceExtra::new().metadata("thread_id", "t-1");
    /// assert_eq!(extra.metadata["thread_id"], "t-1");
    /// ```
    pub fn metadata(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.metadata.insert(key.into(), value.into());
        self
    }

    /// Sets the project.
    ///
    /// ```
    /// assert_eq!(langsmith_core::TraceExtra::new().project("p").project.as_deref(), Some("p"));
    /// ```
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.project = Some(project.into());
        self
    }

    /// Sets the client.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// let extra = TraceExtra::new().client(Client::builder().sink(MemorySink::new()).build());
    /// assert!(extra.client.is_some());
    /// ```
    pub fn client(mut self, client: Client) -> Self {
        self.client = Some(client);
        self
    }

    /// Links the run to a dataset example.
    ///
    /// ```
    /// let id = langsmith_core::uuid7();
    /// let extra = langsmith_core::TraceExtra::new().reference_example_id(id);
    /// assert_eq!(extra.reference_example_id, Some(id));
    /// ```
    pub fn reference_example_id(mut self, id: Uuid) -> Self {
        self.reference_example_id = Some(id);
        self
    }

    /// Same as [`with_extra`]`(self, f)`.
    ///
    /// ```
    /// let n = langsmith_core::TraceExtra::new().scope(|| 1 + 1);
    /// assert_eq!(n, 2);
    /// ```
    pub fn scope<R>(self, f: impl FnOnce() -> R) -> R {
        with_extra(self, f)
    }

    /// Same as [`with_extra_async`]`(self, fut)`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// let n = langsmith_core::TraceExtra::new().scope_async(async { 2 }).await;
    /// assert_eq!(n, 2);
    /// # }
    /// ```
    pub fn scope_async<F: Future>(self, fut: F) -> WithExtra<F> {
        with_extra_async(self, fut)
    }

    /// Applies the overrides other than the name to `builder`.
    fn apply(self, mut b: RunBuilder) -> RunBuilder {
        if let Some(id) = self.run_id {
            b = b.id(id);
        }
        if let Some(p) = &self.parent {
            b = b.parent(p);
        }
        if let Some(c) = self.client {
            b = b.client(c);
        }
        if let Some(p) = self.project {
            b = b.project(p);
        }
        if let Some(id) = self.reference_example_id {
            b = b.reference_example_id(id);
        }
        if !self.tags.is_empty() {
            b = b.tags(self.tags);
        }
        if !self.metadata.is_empty() {
            b = b.metadata_map(self.metadata);
        }
        b
    }
}

/// Puts `extra` back as the pending overrides of this thread on drop (also
/// when unwinding), warning when the overrides it replaced were never used.
struct Restore {
    prev: Option<Box<TraceExtra>>,
}

impl Drop for Restore {
    fn drop(&mut self) {
        let unused = swap_pending(self.prev.take());
        if unused.is_some() {
            warn_unused();
        }
    }
}

fn warn_unused() {
    UNUSED_EXTRA.log(|suppressed| {
        tracing::warn!(
            suppressed,
            "LangSmith: TraceExtra overrides were not used by any #[traceable] call \
             (for async functions, use with_extra_async)"
        );
    });
}

/// Runs `f` with `extra` as overrides for the next `#[traceable]` call made
/// inside it, on this thread — the `langsmith_extra` of the official SDKs.
/// Only that call takes them; calls nested in it are traced as usual.
/// For `async fn`s, whose body runs when polled, use [`with_extra_async`].
///
/// ```
/// use langsmith_core::{with_extra, TraceExtra, uuid7};
/// let id = uuid7();
/// // `answer` would be a #[traceable] fn: its run gets the id `id`.
/// fn answer(q: &str) -> usize { q.len() }
/// let n = with_extra(TraceExtra::new().run_id(id).metadata("user", "u-1"), || answer("hi"));
/// assert_eq!(n, 2);
/// ```
pub fn with_extra<R>(extra: TraceExtra, f: impl FnOnce() -> R) -> R {
    let prev = swap_pending(Some(Box::new(extra)));
    let _restore = Restore { prev };
    f()
}

/// Runs the future `fut` with `extra` as overrides for the next
/// `#[traceable]` call started while it is polled (typically: `fut` is the
/// call of a traced `async fn`).
///
/// ```
/// use langsmith_core::{with_extra_async, TraceExtra, uuid7};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// async fn answer(q: &str) -> usize { q.len() }
/// let n = with_extra_async(TraceExtra::new().run_id(uuid7()), answer("hi")).await;
/// assert_eq!(n, 2);
/// # }
/// ```
pub fn with_extra_async<F: Future>(extra: TraceExtra, fut: F) -> WithExtra<F> {
    WithExtra {
        extra: Some(Box::new(extra)),
        inner: fut,
    }
}

pin_project_lite::pin_project! {
    /// A future with per-call overrides; made by [`with_extra_async`].
    #[must_use = "futures do nothing unless polled"]
    pub struct WithExtra<F> {
        extra: Option<Box<TraceExtra>>,
        #[pin]
        inner: F,
    }

    impl<F> PinnedDrop for WithExtra<F> {
        fn drop(this: Pin<&mut Self>) {
            if this.project().extra.is_some() {
                warn_unused();
            }
        }
    }
}

impl<F> std::fmt::Debug for WithExtra<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WithExtra")
            .field("extra", &self.extra)
            .finish_non_exhaustive()
    }
}

impl<F: Future> Future for WithExtra<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        if this.extra.is_none() {
            return this.inner.poll(cx);
        }
        /// Takes back whatever is left unused when the poll ends (or unwinds).
        struct Back<'a> {
            slot: &'a mut Option<Box<TraceExtra>>,
            prev: Option<Box<TraceExtra>>,
        }
        impl Drop for Back<'_> {
            fn drop(&mut self) {
                *self.slot = swap_pending(self.prev.take());
            }
        }
        let prev = swap_pending(this.extra.take());
        let _back = Back {
            slot: this.extra,
            prev,
        };
        this.inner.poll(cx)
    }
}

/// Whether a traced call started here would be recorded or could be: a
/// current run exists (a continued trace is traced even when
/// `LANGSMITH_TRACING` is unset), or the default client starts traces —
/// with the process-wide override of [`crate::set_tracing_enabled`] first.
/// `false` means a traced call would record nothing, so the
/// `#[traceable]` macro calls the plain function body instead.
///
/// ```
/// use langsmith_core::*;
/// set_tracing_enabled(Some(false));
/// assert!(!tracing_active());
/// set_tracing_enabled(None);
/// ```
#[inline]
pub fn tracing_active() -> bool {
    match crate::global::tracing_override() {
        Some(on) => on,
        None => match current_run() {
            // An unsampled trace records nothing below it either.
            Some(ctx) => ctx.is_sampled(),
            // One atomic load: the default client's tracing setting, mirrored.
            None => crate::client::default_client_traces(),
        },
    }
}

/// Support for the code generated by `#[traceable]`. Not a public API: it
/// may change in any release.
#[doc(hidden)]
pub mod __private {
    use super::*;

    /// A traced call about to start: the overrides it took, if any.
    pub struct Call {
        extra: Option<Box<TraceExtra>>,
    }

    /// Takes this thread's pending overrides and decides whether the call
    /// is traced (`Some`) or runs plain (`None`).
    #[inline]
    pub fn begin() -> Option<Call> {
        let extra = take_pending();
        if extra.is_some() || tracing_active() {
            Some(Call { extra })
        } else {
            None
        }
    }

    impl Call {
        /// The builder for a run named `name` (or the override's name).
        pub fn builder(&mut self, name: &'static str) -> RunBuilder {
            match self.extra.as_mut().and_then(|e| e.name.take()) {
                Some(n) => traceable(n),
                None => traceable(name),
            }
        }

        /// Applies the overrides (after the attribute's options, so they win).
        pub fn apply(self, b: RunBuilder) -> RunBuilder {
            match self.extra {
                Some(e) => e.apply(b),
                None => b,
            }
        }
    }

    /// An argument recorded in the inputs: anything `Serialize` (a trait of
    /// its own so that the macro's error message can name the argument).
    pub trait Input: Serialize {}

    impl<T: Serialize> Input for T {}

    /// An argument of a function with more recorded arguments than
    /// [`InputsOf`] takes, serialized to JSON on its own.
    pub trait InputDyn {
        /// The value as JSON (an error text when it cannot be serialized).
        fn to_json(&self) -> Box<RawValue>;
    }

    impl<T: Serialize> InputDyn for T {
        fn to_json(&self) -> Box<RawValue> {
            match serde_json::value::to_raw_value(self) {
                Ok(raw) => raw,
                Err(e) => unserializable(&e),
            }
        }
    }

    fn unserializable(e: &serde_json::Error) -> Box<RawValue> {
        let text = format!("<unserializable: {e}>");
        serde_json::value::to_raw_value(&text).unwrap_or_default()
    }

    /// One argument: its value or the redaction marker.
    pub enum Arg<'a> {
        /// Recorded as it is.
        Value(&'a dyn InputDyn),
        /// Recorded as `"<redacted>"`.
        Redacted,
    }

    /// The inputs object `{"arg": value, ...}` in argument order, for
    /// functions with many recorded arguments (see [`InputsOf`]).
    pub struct Inputs<'a>(pub &'a [(&'static str, Arg<'a>)]);

    impl Serialize for Inputs<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            let mut m = s.serialize_map(Some(self.0.len()))?;
            for (k, v) in self.0 {
                match v {
                    Arg::Value(v) => m.serialize_entry(k, &*v.to_json())?,
                    Arg::Redacted => m.serialize_entry(k, "<redacted>")?,
                }
            }
            m.end()
        }
    }

    /// One recorded argument: its name and value ([`Redacted`] for a
    /// redacted one).
    pub struct Entry<'a, T: ?Sized>(pub &'static str, pub &'a T);

    /// The value of a redacted argument: `"<redacted>"`.
    pub struct Redacted;

    impl Serialize for Redacted {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str("<redacted>")
        }
    }

    /// The inputs object `{"arg": value, ...}` in argument order, from a
    /// tuple of [`Entry`]s (up to twelve: the macro's limit, which its
    /// twelve-argument test holds to these impls): each argument serialized once,
    /// straight into the object, where [`Inputs`] serializes each on its
    /// own first (an allocation, a reallocation and a copy per argument).
    pub struct InputsOf<T>(pub T);

    macro_rules! inputs_of {
        ($n:expr; $($t:ident $i:tt),*) => {
            impl<$($t: Serialize + ?Sized),*> Serialize for InputsOf<($(Entry<'_, $t>,)*)> {
                #[allow(unused_mut)]
                fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                    use serde::ser::SerializeMap;
                    let mut m = s.serialize_map(Some($n))?;
                    $( m.serialize_entry((self.0).$i.0, (self.0).$i.1)?; )*
                    m.end()
                }
            }

            impl<$($t: Serialize),*> InputsOf<($(Entry<'_, $t>,)*)> {
                /// The inputs payload, in one pass. When an argument fails
                /// to serialize, each is serialized on its own instead, so
                /// that the failing one is recorded as an error text and
                /// the others are kept.
                pub fn payload(&self) -> crate::Payload {
                    match serde_json::value::to_raw_value(self) {
                        Ok(raw) => raw,
                        Err(_) => {
                            let args: [(&'static str, Arg<'_>); $n] =
                                [$( ((self.0).$i.0, Arg::Value((self.0).$i.1)) ),*];
                            crate::to_payload(&Inputs(&args), "input")
                        }
                    }
                }
            }
        };
    }
    inputs_of!(0;);
    inputs_of!(1; A 0);
    inputs_of!(2; A 0, B 1);
    inputs_of!(3; A 0, B 1, C 2);
    inputs_of!(4; A 0, B 1, C 2, D 3);
    inputs_of!(5; A 0, B 1, C 2, D 3, E 4);
    inputs_of!(6; A 0, B 1, C 2, D 3, E 4, F 5);
    inputs_of!(7; A 0, B 1, C 2, D 3, E 4, F 5, G 6);
    inputs_of!(8; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
    inputs_of!(9; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
    inputs_of!(10; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
    inputs_of!(11; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
    inputs_of!(12; A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);

    pub use crate::Payload;

    /// Adds the attachment arguments of a traced call to its run (called
    /// inside the run, before the body).
    pub fn attach<const N: usize>(attachments: Option<[crate::Attachment; N]>) {
        if let (Some(list), Some(run)) = (attachments, crate::current_run()) {
            for a in list {
                run.add_attachment(a);
            }
        }
    }

    /// Sets the builder's inputs to a payload made by [`InputsOf::payload`].
    pub fn with_inputs(mut b: RunBuilder, inputs: crate::Payload) -> RunBuilder {
        b.set_inputs_payload(inputs);
        b
    }

    /// Output recorded as `{}` (`skip_output`).
    pub struct Opaque<T>(pub T);

    impl<T> Serialize for Opaque<T> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeMap;
            s.serialize_map(Some(0))?.end()
        }
    }

    /// The return value of a traced function, recorded as its output.
    #[diagnostic::on_unimplemented(
        message = "the return value of a #[traceable] function must implement `serde::Serialize`: `{Self}` does not",
        label = "recorded as the run's output",
        note = "record no output with #[traceable(skip_output)]"
    )]
    pub trait Output: Serialize {}
    impl<T: Serialize> Output for T {}

    /// The `Err` of a traced function returning `Result`, recorded as its error.
    #[diagnostic::on_unimplemented(
        message = "the error type of a #[traceable] function returning `Result` must implement `Display`: `{Self}` does not",
        label = "its `Display` text is recorded as the run's error",
        note = "if the return type is not a `Result`, use #[traceable(no_result)]"
    )]
    pub trait ErrorOutput: std::fmt::Display {}
    impl<T: std::fmt::Display + ?Sized> ErrorOutput for T {}

    pin_project_lite::pin_project! {
        /// The future of a `#[traceable]` async fn: the plain body when the
        /// call is not traced, or the traced call, boxed so that an untraced
        /// future is no bigger than the plain one.
        #[project = MaybeTracedProj]
        #[allow(missing_docs)] // the fields: `fut`, the future
        pub enum MaybeTraced<F, T> {
            /// Not traced: the body as it is.
            Plain {
                #[pin]
                fut: F,
            },
            /// Traced: the body inside a run.
            Traced {
                fut: Pin<Box<T>>,
            },
        }
    }

    impl<F: Future, T: Future<Output = F::Output>> Future for MaybeTraced<F, T> {
        type Output = F::Output;
        #[inline]
        fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
            match self.project() {
                MaybeTracedProj::Plain { fut } => fut.poll(cx),
                MaybeTracedProj::Traced { fut } => poll_out_of_line(fut.as_mut(), cx),
            }
        }
    }

    /// Keeps the traced state machine out of the function's own poll.
    #[inline(never)]
    fn poll_out_of_line<T: Future>(fut: Pin<&mut T>, cx: &mut Context<'_>) -> Poll<T::Output> {
        fut.poll(cx)
    }

    /// Runs `f` out of line: the setup of a traced call is kept out of the
    /// traced function's own code, so that the untraced path stays small.
    #[cold]
    #[inline(never)]
    pub fn cold<R>(f: impl FnOnce() -> R) -> R {
        f()
    }

    /// Fixes a closure's return type (helps inference inside the body).
    #[inline(always)]
    pub fn typed_fn<T, F: FnOnce() -> T>(f: F) -> F {
        f
    }

    /// Fixes a future's output type (helps inference inside the body).
    #[inline(always)]
    pub fn typed_future<T, F: Future<Output = T>>(f: F) -> F {
        f
    }

    /// Traces a sync call; the value is the output.
    #[inline(never)]
    pub fn call<T: Output>(b: RunBuilder, f: impl FnOnce() -> T) -> T {
        b.call(f)
    }

    /// Traces a sync `Result` call: `Ok` is the output, `Err` the error.
    #[inline(never)]
    pub fn try_call<T: Output, E: ErrorOutput>(
        b: RunBuilder,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        b.try_call(f)
    }

    /// Traces a future; its value is the output.
    #[inline(never)]
    pub fn call_async<T: Output, F: Future<Output = T>>(
        b: RunBuilder,
        fut: F,
    ) -> impl Future<Output = T> {
        b.call_async(fut)
    }

    /// Traces a `Result` future.
    #[inline(never)]
    pub fn try_call_async<T: Output, E: ErrorOutput, F: Future<Output = Result<T, E>>>(
        b: RunBuilder,
        fut: F,
    ) -> impl Future<Output = Result<T, E>> {
        b.try_call_async(fut)
    }

    /// Traces a sync call whose output is not recorded.
    #[inline(never)]
    pub fn call_opaque<T>(b: RunBuilder, f: impl FnOnce() -> T) -> T {
        b.call(move || Opaque(f())).0
    }

    /// Traces a sync `Result` call whose output is not recorded.
    #[inline(never)]
    pub fn try_call_opaque<T, E: ErrorOutput>(
        b: RunBuilder,
        f: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        b.try_call(move || f().map(Opaque)).map(|o| o.0)
    }

    /// Traces a future whose output is not recorded.
    #[inline(never)]
    pub async fn call_async_opaque<F: Future>(b: RunBuilder, fut: F) -> F::Output {
        b.call_async(async move { Opaque(fut.await) }).await.0
    }

    /// Traces a `Result` future whose output is not recorded.
    #[inline(never)]
    pub async fn try_call_async_opaque<T, E: ErrorOutput, F>(b: RunBuilder, fut: F) -> Result<T, E>
    where
        F: Future<Output = Result<T, E>>,
    {
        b.try_call_async(async move { fut.await.map(Opaque) })
            .await
            .map(|o| o.0)
    }
}
