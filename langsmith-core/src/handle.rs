//! [`Run`]: the live record of one run, owned by the code doing the work.

use crate::builder::RunBuilder;
use crate::context::{FutureExt, InRun, RunContext, in_run_sync};
use crate::headers::Outgoing;
use crate::run::{RunRecord, to_payload};
use crate::{Feedback, Timestamp};
use serde::Serialize;
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;
use std::future::Future;

/// A live run. Set inputs, outputs, errors and events on it, then [`end`](Run::end)
/// it (dropping it ends it too). Ending hands the finished run to the
/// client's exporter; nothing on this path blocks.
///
/// A `Run` may be inactive (tracing off or the trace not sampled): every
/// method is then a cheap no-op, so code never needs to check.
///
/// ```
/// use langsmith_core::{Client, MemorySink, RunTree, RunType};
/// let sink = MemorySink::new();
/// let client = Client::builder().sink(sink.clone()).build();
/// let mut run = RunTree::new("answer").run_type(RunType::Chain).client(client).start();
/// run.set_inputs(&serde_json::json!({"question": "2+2?"}));
/// run.set_outputs(&"4");
/// run.end();
/// let rec = &sink.runs()[0];
/// assert_eq!(rec.outputs.as_ref().unwrap().get(), r#"{"output":"4"}"#);
/// ```
pub struct Run {
    pub(crate) ctx: Option<RunContext>,
    pub(crate) rec: Option<Box<RunRecord>>,
    pub(crate) posted: bool,
}

impl fmt::Debug for Run {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Run")
            .field("context", &self.ctx)
            .field("recording", &self.rec.is_some())
            .field("posted", &self.posted)
            .finish()
    }
}

impl Run {
    /// A run that records nothing and has no context.
    ///
    /// ```
    /// let run = langsmith_core::Run::inactive();
    /// assert!(!run.is_recording());
    /// assert!(run.context().is_none());
    /// ```
    pub fn inactive() -> Run {
        Run {
            ctx: None,
            rec: None,
            posted: false,
        }
    }

    /// The run's context (for children, headers, or [`FutureExt::in_run`]);
    /// `None` when tracing is off.
    ///
    /// ```
    /// assert!(langsmith_core::Run::inactive().context().is_none());
    /// ```
    pub fn context(&self) -> Option<&RunContext> {
        self.ctx.as_ref()
    }

    /// The run id, when the run has a context.
    ///
    /// ```
    /// assert!(langsmith_core::Run::inactive().id().is_none());
    /// ```
    pub fn id(&self) -> Option<uuid::Uuid> {
        self.ctx.as_ref().map(RunContext::id)
    }

    /// Whether anything is recorded (tracing on and the trace sampled).
    ///
    /// ```
    /// assert!(!langsmith_core::Run::inactive().is_recording());
    /// ```
    pub fn is_recording(&self) -> bool {
        self.rec.is_some()
    }

    /// A builder for a child of this run.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let client = Client::builder().sink(MemorySink::new()).build();
    /// let root = RunTree::new("root").client(client).start();
    /// let child = root.child("step").run_type(RunType::Tool).start();
    /// assert_eq!(child.context().unwrap().parent_id(), root.id());
    /// ```
    pub fn child(&self, name: impl Into<Cow<'static, str>>) -> RunBuilder {
        let b = RunBuilder::low_level(name);
        match &self.ctx {
            Some(ctx) => b.parent(ctx),
            None => b.inactive(),
        }
    }

    /// Sets the inputs. A JSON object is kept as it is, anything else becomes
    /// `{"input": value}`. Serialized once, here.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let sink = MemorySink::new();
    /// # let mut run = RunTree::new("r").client(Client::builder().sink(sink.clone()).build()).start();
    /// run.set_inputs(&"hello");
    /// # run.end();
    /// assert_eq!(sink.runs()[0].inputs.as_ref().unwrap().get(), r#"{"input":"hello"}"#);
    /// ```
    pub fn set_inputs<T: Serialize + ?Sized>(&mut self, inputs: &T) {
        if let Some(rec) = &mut self.rec {
            rec.inputs = Some(to_payload(inputs, "input"));
        }
    }

    /// Sets the outputs. A JSON object is kept as it is, anything else becomes
    /// `{"output": value}`.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let sink = MemorySink::new();
    /// # let mut run = RunTree::new("r").client(Client::builder().sink(sink.clone()).build()).start();
    /// run.set_outputs(&serde_json::json!({"answer": 4}));
    /// # run.end();
    /// assert_eq!(sink.runs()[0].outputs.as_ref().unwrap().get(), r#"{"answer":4}"#);
    /// ```
    pub fn set_outputs<T: Serialize + ?Sized>(&mut self, outputs: &T) {
        if let Some(rec) = &mut self.rec {
            rec.outputs = Some(to_payload(outputs, "output"));
        }
    }

    /// Marks the run as failed with `error` (its `Display` text).
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let sink = MemorySink::new();
    /// # let mut run = RunTree::new("r").client(Client::builder().sink(sink.clone()).build()).start();
    /// run.set_error("timeout talking to the model");
    /// # run.end();
    /// assert_eq!(sink.runs()[0].error.as_deref(), Some("timeout talking to the model"));
    /// ```
    pub fn set_error(&mut self, error: impl fmt::Display) {
        if let Some(rec) = &mut self.rec {
            rec.error = Some(error.to_string());
        }
    }

    /// Appends an event (e.g. `{"name": "new_token", "time": ..., "kwargs": {...}}`).
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let sink = MemorySink::new();
    /// # let mut run = RunTree::new("r").client(Client::builder().sink(sink.clone()).build()).start();
    /// run.add_event(serde_json::json!({"name": "new_token", "kwargs": {"token": "Hi"}}));
    /// # run.end();
    /// assert_eq!(sink.runs()[0].events.len(), 1);
    /// ```
    pub fn add_event(&mut self, event: Value) {
        if let Some(rec) = &mut self.rec {
            rec.events.push(event);
        }
    }

    /// Adds one metadata entry to this run. Calls the run makes from now on
    /// carry it in their `baggage` ([`to_headers`](Self::to_headers)), as
    /// the Python SDK's `RunTree.add_metadata` does.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let sink = MemorySink::new();
    /// # let mut run = RunTree::new("r").client(Client::builder().sink(sink.clone()).build()).start();
    /// run.add_metadata("tenant", "acme");
    /// assert!(run.to_headers().baggage.unwrap().contains("langsmith-metadata="));
    /// # run.end();
    /// assert_eq!(sink.runs()[0].extra.metadata["tenant"], "acme");
    /// ```
    pub fn add_metadata(&mut self, key: impl Into<String>, value: impl Into<Value>) {
        let (key, value) = (key.into(), value.into());
        self.propagate(|o| o.set_metadata(key.clone(), value.clone()));
        self.record_metadata(key, value);
    }

    /// Adds to what this run's outgoing baggage and its later children carry
    /// (only while it records: an unsampled or ended run has no record).
    fn propagate(&self, f: impl FnOnce(&mut crate::annotate::Added)) {
        if let (Some(_), Some(ctx)) = (&self.rec, &self.ctx) {
            ctx.inner.notes.propagate(f);
        }
    }

    /// Adds a metadata entry to the record only (not to the outgoing
    /// baggage): for what the SDK itself records, such as a server run's
    /// `time_to_first_byte_ms`.
    pub(crate) fn record_metadata(&mut self, key: String, value: Value) {
        if let Some(rec) = &mut self.rec {
            rec.extra.metadata.insert(key, value);
        }
    }

    /// Adds a tag to this run; calls it makes from now on carry it in their
    /// `baggage`, as with [`add_metadata`](Self::add_metadata).
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let sink = MemorySink::new();
    /// # let mut run = RunTree::new("r").client(Client::builder().sink(sink.clone()).build()).start();
    /// run.add_tag("beta");
    /// assert!(run.to_headers().baggage.unwrap().contains("langsmith-tags=beta"));
    /// # run.end();
    /// assert_eq!(sink.runs()[0].tags, ["beta"]);
    /// ```
    pub fn add_tag(&mut self, tag: impl Into<String>) {
        let tag = tag.into();
        self.propagate(|o| o.add_tag(tag.clone()));
        if let Some(rec) = &mut self.rec {
            rec.tags.push(tag);
        }
    }

    /// Attaches a file to this run (an image, audio, a document): it is sent
    /// as its own part, `attachment.{run_id}.{name}`, with its MIME type as
    /// the part's `Content-Type`. An attachment of the same name replaces
    /// the earlier one. Each attachment is sent once: with the run's
    /// creation ([`post`](Self::post)), its next [`patch`](Self::patch) or
    /// its end, whichever comes first after it was added.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let sink = MemorySink::new();
    /// # let mut run = RunTree::new("r").client(Client::builder().sink(sink.clone()).build()).start();
    /// let png = Attachment::new("chart", "image/png", std::fs::read("chart.png").unwrap_or_default())?;
    /// run.add_attachment(png);
    /// # run.end();
    /// assert_eq!(sink.runs()[0].attachments[0].name(), "chart");
    /// # Ok::<(), InvalidAttachment>(())
    /// ```
    pub fn add_attachment(&mut self, attachment: crate::Attachment) {
        if let Some(rec) = &mut self.rec {
            crate::attachment::upsert(&mut rec.attachments, attachment);
        }
    }

    /// Gives mutable access to the whole record, for fields without a setter.
    /// Returns `None` when the run is not recording.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let mut run = RunTree::new("r").client(Client::builder().sink(MemorySink::new()).build()).start();
    /// if let Some(rec) = run.record_mut() {
    ///     rec.serialized = Some(serde_json::json!({"name": "r"}));
    /// }
    /// ```
    pub fn record_mut(&mut self) -> Option<&mut RunRecord> {
        self.fill_dotted_order();
        self.rec.as_deref_mut()
    }

    /// Copies the context's dotted order into the record when it is still
    /// empty (it is filled only when the record leaves the run, see
    /// `finish_start` in the builder).
    fn fill_dotted_order(&mut self) {
        if let (Some(rec), Some(ctx)) = (&mut self.rec, &self.ctx)
            && rec.dotted_order.is_empty()
        {
            rec.dotted_order = ctx.dotted_order().as_str().to_owned();
        }
    }

    /// Sends the run's creation now, before it ends (useful for long runs, so
    /// they show up while in progress). The end is sent later as an update.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let sink = MemorySink::new();
    /// # let mut run = RunTree::new("r").client(Client::builder().sink(sink.clone()).build()).start();
    /// run.post();
    /// assert_eq!(sink.ops().len(), 1);
    /// run.end();
    /// assert_eq!(sink.ops().len(), 2);
    /// assert!(sink.runs()[0].end_time.is_some());
    /// ```
    pub fn post(&mut self) {
        if self.posted {
            return;
        }
        self.fill_dotted_order();
        if let (Some(rec), Some(ctx)) = (&mut self.rec, &self.ctx) {
            ctx.apply_notes(rec, false);
            ctx.client().submit_run(clone_for_sending(rec), true);
            self.posted = true;
        }
    }

    /// Sends the current state as an update of an already posted run (posts
    /// it first if needed), without ending it.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let sink = MemorySink::new();
    /// # let mut run = RunTree::new("r").client(Client::builder().sink(sink.clone()).build()).start();
    /// run.post();
    /// run.add_metadata("progress", 50);
    /// run.patch();
    /// assert_eq!(sink.runs()[0].extra.metadata["progress"], 50);
    /// ```
    pub fn patch(&mut self) {
        if !self.posted {
            self.post();
            return;
        }
        self.fill_dotted_order();
        if let (Some(rec), Some(ctx)) = (&mut self.rec, &self.ctx) {
            ctx.apply_notes(rec, false);
            ctx.client().submit_run(clone_for_sending(rec), false);
        }
    }

    /// Ends the run now and hands it to the exporter.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let sink = MemorySink::new();
    /// # let run = RunTree::new("r").client(Client::builder().sink(sink.clone()).build()).start();
    /// run.end();
    /// assert!(sink.runs()[0].end_time.is_some());
    /// ```
    pub fn end(mut self) {
        self.finish_last(None);
    }

    /// Sets the outputs and ends the run.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let sink = MemorySink::new();
    /// # let run = RunTree::new("r").client(Client::builder().sink(sink.clone()).build()).start();
    /// run.end_with_outputs(&serde_json::json!({"ok": true}));
    /// assert!(sink.runs()[0].outputs.is_some());
    /// ```
    pub fn end_with_outputs<T: Serialize + ?Sized>(mut self, outputs: &T) {
        self.set_outputs(outputs);
        self.finish_last(None);
    }

    /// Sets the error and ends the run.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let sink = MemorySink::new();
    /// # let run = RunTree::new("r").client(Client::builder().sink(sink.clone()).build()).start();
    /// run.end_with_error("boom");
    /// assert_eq!(sink.runs()[0].error.as_deref(), Some("boom"));
    /// ```
    pub fn end_with_error(mut self, error: impl fmt::Display) {
        self.set_error(error);
        self.finish_last(None);
    }

    /// Ends the run with an explicit end time.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let sink = MemorySink::new();
    /// # let run = RunTree::new("r").client(Client::builder().sink(sink.clone()).build()).start();
    /// let t = Timestamp::now();
    /// run.end_at(t);
    /// assert_eq!(sink.runs()[0].end_time, Some(t));
    /// ```
    pub fn end_at(mut self, end_time: Timestamp) {
        self.finish_last(Some(end_time));
    }

    /// Ends the run and hands its record to the client; the run keeps its
    /// context.
    pub(crate) fn finish(&mut self, end_time: Option<Timestamp>) {
        self.fill_dotted_order();
        let (Some(mut rec), Some(ctx)) = (self.rec.take(), self.ctx.as_ref()) else {
            return;
        };
        stamp_end(&mut rec, end_time);
        ctx.apply_notes(&mut rec, true);
        ctx.client().submit_run(rec, !self.posted);
    }

    /// [`finish`](Self::finish) for a run going away (`end*`, drop): the
    /// context goes with the record, which takes its dotted order without a
    /// copy when nothing else holds the context.
    fn finish_last(&mut self, end_time: Option<Timestamp>) {
        let (Some(mut rec), Some(ctx)) = (self.rec.take(), self.ctx.take()) else {
            return;
        };
        stamp_end(&mut rec, end_time);
        ctx.apply_notes(&mut rec, true);
        ctx.submit_ended(rec, !self.posted);
    }

    /// The headers for an outgoing call made by this run.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let run = RunTree::new("r").client(Client::builder().sink(MemorySink::new()).build()).start();
    /// let h = run.to_headers();
    /// assert!(h.trace.is_some());
    /// assert!(Run::inactive().to_headers().trace.is_none());
    /// ```
    pub fn to_headers(&self) -> Outgoing {
        self.ctx
            .as_ref()
            .map(RunContext::to_headers)
            .unwrap_or_default()
    }

    /// Sends feedback on this run.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let sink = MemorySink::new();
    /// # let run = RunTree::new("r").client(Client::builder().sink(sink.clone()).build()).start();
    /// run.feedback("helpful", 1.0);
    /// assert_eq!(sink.feedback()[0].run_id, run.id().unwrap());
    /// ```
    pub fn feedback(&self, key: impl Into<String>, score: f64) {
        if let (Some(ctx), true) = (&self.ctx, self.rec.is_some()) {
            let fb = Feedback::new(ctx.id(), key)
                .score(score)
                .trace_id(ctx.trace_id());
            ctx.client().create_feedback(fb);
        }
    }

    /// Runs synchronous `f` with this run as the current run.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # let run = RunTree::new("r").client(Client::builder().sink(MemorySink::new()).build()).start();
    /// let inner = run.in_scope(|| current_run().map(|c| c.id()));
    /// assert_eq!(inner, run.id());
    /// ```
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        match &self.ctx {
            Some(ctx) => in_run_sync(Some(ctx.clone()), f),
            None => f(),
        }
    }

    /// Wraps `fut` so that this run is current whenever it is polled.
    ///
    /// ```
    /// # use langsmith_core::*;
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # let run = RunTree::new("r").client(Client::builder().sink(MemorySink::new()).build()).start();
    /// let inner = run.instrument(async { current_run().map(|c| c.id()) }).await;
    /// assert_eq!(inner, run.id());
    /// # }
    /// ```
    pub fn instrument<F: Future>(&self, fut: F) -> InRun<F> {
        match &self.ctx {
            Some(ctx) => fut.in_run(Some(ctx.clone())),
            None => fut.in_run(crate::current_run()),
        }
    }
}

/// Sets the end time: the one given or now, never before the start.
fn stamp_end(rec: &mut RunRecord, end_time: Option<Timestamp>) {
    rec.end_time = Some(end_time.unwrap_or_else(Timestamp::now).max(rec.start_time));
}

impl Drop for Run {
    fn drop(&mut self) {
        if self.rec.is_some() {
            if std::thread::panicking() {
                self.set_error("panicked");
            }
            self.finish_last(None);
        }
    }
}

/// A copy of `rec` to send now: it takes the attachments not sent yet, so
/// that a later patch or the end does not send them again.
fn clone_for_sending(rec: &mut RunRecord) -> Box<RunRecord> {
    let attachments = std::mem::take(&mut rec.attachments);
    let mut out = Box::new(rec.clone());
    out.attachments = attachments;
    out
}
