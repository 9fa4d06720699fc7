#![doc = include_str!("../README.md")]
//!
//! Configuration comes from the environment (`LANGSMITH_TRACING=true` to
//! start traces, `LANGSMITH_API_KEY`, `LANGSMITH_ENDPOINT`,
//! `LANGSMITH_PROJECT`, …; the `LANGCHAIN_` names too; see [`Config`]) or
//! from [`Client::builder`]. The snippets below record into a [`MemorySink`]
//! so that they can check what they made; in your code, leave the client out
//! and runs go where the environment says.
//!
//! # A tour
//!
//! [`traceable`] wraps one call (the `@traceable` equivalent), [`trace`] is
//! a scope you end yourself (Python's `with trace(..)`); both nest under the
//! current run, and futures carry their run with [`Run::instrument`] or
//! [`FutureExt::in_run`]:
//!
//! ```
//! use langsmith_core::{Client, MemorySink, RunType, trace, traceable};
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! # let sink = MemorySink::new();
//! # let client = Client::builder().sink(sink.clone()).tracing(Some(true)).build();
//!
//! let mut run = trace("agent").client(client).start();
//! let docs = run
//!     .instrument(async {
//!         traceable("retrieve")
//!             .run_type(RunType::Retriever)
//!             .inputs(&serde_json::json!({ "query": "socks" }))
//!             .call_async(async { vec!["Socks ship in 2 days."] })
//!             .await
//!     })
//!     .await;
//! run.set_outputs(&docs);
//! run.end();
//! # let runs = sink.runs();
//! # assert_eq!(runs[0].parent_run_id, Some(runs[1].id));
//! # }
//! ```
//!
//! The low-level API, [`RunTree`], like the SDKs': explicit parents, a run
//! id chosen in advance ([`uuid7`]), [`post`](Run::post) /
//! [`patch`](Run::patch) / [`end`](Run::end) when you say, feedback by id:
//!
//! ```
//! use langsmith_core::{Feedback, RunTree, RunType, uuid7};
//! # use langsmith_core::{Client, MemorySink};
//! # let sink = MemorySink::new();
//! # let client = Client::builder().sink(sink.clone()).build();
//!
//! let id = uuid7();
//! let mut root = RunTree::new("pipeline").client(client.clone()).id(id).start();
//! root.post(); // shows as running
//! let llm = root.child("model").run_type(RunType::Llm).start();
//! llm.end_with_outputs(&"hi");
//! root.end();
//! client.create_feedback(Feedback::new(id, "correct").score(1.0));
//! # assert_eq!(sink.feedback()[0].run_id, id);
//! ```
//!
//! Distributed tracing: [`Run::to_headers`] gives the `langsmith-trace` and
//! `baggage` values for an outgoing call (the same the Python and TypeScript
//! SDKs send); the receiving side continues the trace with
//! [`RunContext::from_headers`]:
//!
//! ```
//! use langsmith_core::{FutureExt, RunContext, RunTree, traceable};
//! # use langsmith_core::{Client, MemorySink};
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! # let sink = MemorySink::new();
//! # let client = Client::builder().sink(sink.clone()).build();
//! let caller = RunTree::new("caller").client(client.clone()).start();
//! let headers = caller.to_headers(); // send these with the request
//!
//! // In the called service:
//! let parent = RunContext::from_headers(headers.iter(), &client);
//! traceable("handle").call_async(async { /* … */ }).in_run(parent).await;
//! # caller.end();
//! # let runs = sink.runs();
//! # assert_eq!(runs[0].parent_run_id, Some(runs[1].id));
//! # }
//! ```
//!
//! Runs are sent by a background thread with a bounded queue; flush before
//! the process exits ([`Client::flush`]`.await`,
//! [`Client::flush_blocking`]`(timeout)` or
//! [`Client::flush_on_drop`]`(timeout)`); [`Client::stats`] counts what was
//! delivered and dropped. The [`server`] module holds the per-request policy
//! the HTTP adapters share, [`headers`] the header codec.

mod annotate;
mod attachment;
mod builder;
mod client;
mod config;
mod context;
mod dotted_order;
mod exporter;
mod extra;
mod global;
mod handle;
pub mod headers;
mod id;
mod json_kind;
pub mod llm;
mod merge;
pub mod redact;
mod run;
pub mod server;
mod sink;
mod stats;
mod time;
mod traced;
mod warn;

pub use attachment::{Attachment, InvalidAttachment};
pub use builder::{RunBuilder, RunTree, trace, traceable};
pub use client::{
    Client, ClientBuilder, FlushGuard, RedactFn, RootInfo, TraceRule, default_client,
    set_default_client,
};
pub use config::{
    ApiKey, Config, DEFAULT_ENDPOINT, DEFAULT_PROJECT, ExporterSettings, ReplicaEndpoint,
};
pub use context::{FutureExt, InRun, MaybeInRun, RunContext, current_run, in_run_sync, spawn};
pub use dotted_order::{DottedOrder, DottedOrderError};
pub use extra::{__private, TraceExtra, WithExtra, tracing_active, with_extra, with_extra_async};
pub use global::{set_tracing_enabled, tracing_override};
pub use handle::Run;
pub use id::uuid7;
pub use run::{Extra, Feedback, Payload, RunRecord, RunType, UnknownRunType, to_payload};
pub use sink::{Completion, CompletionSignal, MemorySink, RunOp, Sink};
pub use stats::Stats;
pub use time::Timestamp;
pub use traced::CANCELLED;
pub use uuid::Uuid;
pub use warn::RateLimited;
