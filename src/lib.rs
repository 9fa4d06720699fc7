//! LangSmith tracing for Rust services: create runs, nest them, continue a
//! trace across HTTP hops (`langsmith-trace` + `baggage`, byte-compatible
//! with the official Python and TypeScript SDKs) and ship every run to
//! LangSmith in the background, without blocking the request path.
//!
//! ```toml
//! [dependencies]
//! langsmith = { version = "0.1", features = ["axum", "actix", "reqwest"] }  # pick what you use
//! ```
//!
//! | feature | gives |
//! |---|---|
//! | `macros` (default) | `#[langsmith::traceable]` |
//! | `tower`, `axum` | `langsmith::tower`: server `Layer`, axum `CurrentRun` extractor, client-side propagation |
//! | `actix` | `langsmith::actix`: actix-web middleware and extractor |
//! | `reqwest` | `langsmith::reqwest`: propagation on outgoing `reqwest-middleware` calls |
//!
//! Configuration comes from the environment — `LANGSMITH_TRACING=true` to
//! start traces, `LANGSMITH_API_KEY`, `LANGSMITH_ENDPOINT`,
//! `LANGSMITH_PROJECT`, … (the `LANGCHAIN_` names too; see [`Config`]) — or
//! from [`Client::builder`] in code. The snippets below record into a
//! [`MemorySink`] so that they can check what they made; in your code, leave
//! the client out and runs go where the environment says.
//!
//! # A tour
//!
//! Trace a function — the `@traceable` equivalent. Arguments become the
//! inputs, the return value the outputs, an `Err` or a panic the error; a
//! call made inside another traced call is its child:
//!
//! ```
//! # #[cfg(feature = "macros")] fn main() {
//! # use langsmith::{Client, MemorySink, trace};
//! #[langsmith::traceable(run_type = "retriever")]
//! fn retrieve(query: &str) -> Vec<String> {
//!     vec![format!("a document about {query}")]
//! }
//!
//! #[langsmith::traceable]
//! fn answer(question: &str) -> String {
//!     let docs = retrieve(question); // a child run
//!     format!("{} document(s)", docs.len())
//! }
//! # let sink = MemorySink::new();
//! # let client = Client::builder().sink(sink.clone()).tracing(Some(true)).build();
//!
//! // `trace` is a scope you end yourself (Python's `with trace(..)`).
//! let session = trace("session").client(client).start();
//! let reply = session.in_scope(|| answer("socks"));
//! session.end();
//! # assert_eq!(reply, "1 document(s)");
//! # let names: Vec<_> = sink.runs().iter().map(|r| r.name.to_string()).collect();
//! # assert_eq!(names, ["retrieve", "answer", "session"]);
//! # }
//! # #[cfg(not(feature = "macros"))] fn main() {}
//! ```
//!
//! Without a function of its own — [`traceable()`](fn@traceable) wraps one
//! call, [`trace`] a scope; futures carry their run with
//! [`Run::instrument`] or [`FutureExt::in_run`]:
//!
//! ```
//! use langsmith::{RunType, trace, traceable};
//! # use langsmith::{Client, MemorySink};
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
//! # assert_eq!(sink.runs().len(), 2);
//! # }
//! ```
//!
//! The low-level API, like the SDKs' `RunTree`: explicit parents, a run id
//! chosen in advance, `post`/`patch`/`end` when you say, feedback by id:
//!
//! ```
//! use langsmith::{Feedback, RunTree, RunType, uuid7};
//! # use langsmith::{Client, MemorySink};
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
//! # assert_eq!(sink.runs()[0].id, id);
//! # assert_eq!(sink.feedback()[0].run_id, id);
//! ```
//!
//! Continue a caller's trace from its headers without a middleware (a queue
//! consumer, a WebSocket handler):
//!
//! ```
//! use langsmith::{FutureExt, RunContext, traceable};
//! # use langsmith::{Client, MemorySink};
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! # let sink = MemorySink::new();
//! # let client = Client::builder().sink(sink.clone()).build();
//! let headers = [("langsmith-trace", "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001")];
//!
//! let parent = RunContext::from_headers(headers, &client);
//! traceable("handle_job").call_async(async { /* … */ }).in_run(parent).await;
//! # assert_eq!(sink.runs()[0].parent_run_id.unwrap().to_string(), "0193d5a2-0000-7000-8000-000000000001");
//! # }
//! ```
//!
//! axum (feature `axum`) — one run per request, named after the route
//! template, continuing the caller's trace:
//!
//! ```
//! # #[cfg(feature = "axum")] {
//! use axum::{Router, routing::get};
//!
//! let app: Router = Router::new()
//!     .route("/users/{id}", get(|| async { "hi" }))
//!     .layer(langsmith::tower::LangSmithLayer::new()); // after the routes
//! # }
//! ```
//!
//! actix-web (feature `actix`):
//!
//! ```
//! # #[cfg(feature = "actix")] {
//! use actix_web::{App, web};
//!
//! let app = App::new()
//!     .wrap(langsmith::actix::TracingMiddleware::new())
//!     .route("/users/{id}", web::get().to(|| async { "hi" }));
//! # let _ = app;
//! # }
//! ```
//!
//! reqwest (feature `reqwest`) — outgoing calls carry the current run:
//!
//! ```
//! # #[cfg(feature = "reqwest")] {
//! use langsmith::reqwest::reqwest_middleware::{ClientBuilder, reqwest};
//!
//! let http = ClientBuilder::new(reqwest::Client::new())
//!     .with(langsmith::reqwest::LangSmithMiddleware::new())
//!     .build();
//! # let _ = http;
//! # }
//! ```
//!
//! Runs are sent by a background thread; flush before the process exits:
//! [`Client::flush`]`.await`, [`Client::flush_blocking`]`(timeout)`, or keep
//! [`Client::flush_on_drop`]`(timeout)` alive in `main`. [`Client::stats`]
//! counts what was delivered and dropped.
//!
//! # How it maps to the official SDKs
//!
//! | Python / TypeScript | Rust |
//! |---|---|
//! | `@traceable` / `traceable()` | `#[langsmith::traceable]`, [`traceable(name)`](fn@traceable)`…call / try_call / call_async / try_call_async` |
//! | `with trace(...)` | [`trace(name)`](trace)`…start()` … [`Run::end`] (and [`Run::instrument`]) |
//! | `RunTree` | [`RunTree::new`], [`Run::child`], [`Run::post`], [`Run::patch`], [`Run::end`], [`Run::to_headers`], [`RunTree::from_headers`] |
//! | `tracing_context(parent=headers)` | [`RunContext::from_headers`] + [`FutureExt::in_run`] |
//! | `TracingMiddleware` | `langsmith::tower::LangSmithLayer`, `langsmith::actix::TracingMiddleware` |
//! | `run_tree.to_headers()` on outgoing calls | `langsmith::reqwest::LangSmithMiddleware` (or [`RunContext::to_headers`]) |
//! | `Client.create_feedback` | [`Client::create_feedback`], [`Run::feedback`] |
//! | `Client.flush()` | [`Client::flush`], [`Client::flush_blocking`] |
//!
//! # Examples
//!
//! In the repository: `cargo run --example distributed` (the demo: client →
//! axum → actix, offline, printed as trees), `quickstart`, `run_tree`,
//! `continue_trace`, and the services `axum_service`, `actix_service` and
//! `client` (configured by environment, flushing on Ctrl-C/SIGTERM).
pub use langsmith_core::*;

/// `#[traceable]`: trace every call of a function as a LangSmith run
/// (`macros` feature, on by default). See [`langsmith_macros::traceable`].
///
/// ```
/// use langsmith::traceable;
///
/// #[traceable(run_type = "tool")]
/// fn add(a: i32, b: i32) -> i32 {
///     a + b
/// }
/// assert_eq!(add(1, 2), 3);
/// // The function `traceable` (the builder API) lives on under the same name:
/// let n = langsmith::traceable("inline").call(|| 1);
/// assert_eq!(n, 1);
/// ```
#[cfg(feature = "macros")]
pub use langsmith_macros::traceable;

/// Outgoing trace propagation for reqwest (`reqwest` feature).
#[cfg(feature = "reqwest")]
pub use langsmith_reqwest as reqwest;

/// actix-web middleware and extractor (`actix` feature).
#[cfg(feature = "actix")]
pub use langsmith_actix as actix;

/// tower `Layer` for servers, axum extractor, client-side propagation (`tower` / `axum` features).
#[cfg(feature = "tower")]
pub use langsmith_tower as tower;
