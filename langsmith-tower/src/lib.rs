//! tower middleware for the LangSmith Rust SDK.
//!
//! - [`LangSmithLayer`]: a server `Layer` (axum, hyper, tonic) giving every
//!   request a run. It continues the caller's trace from the
//!   `langsmith-trace` and `baggage` headers or starts a new one (per
//!   `LANGSMITH_TRACING`, sampling and the rules in
//!   [`ServerOptions`]), names it after the route template, runs the inner
//!   service inside the run's context, puts the [`RunContext`] into the
//!   request's extensions, and ends the run when the response body has been
//!   sent in full — so a streamed (SSE) response gets its real duration.
//!   Status, time to first byte and outcome are recorded: 5xx and panics are
//!   errors, a client hang-up or an early drop is cancelled. The
//!   framework-independent logic lives in [`langsmith_core::server`].
//! - [`CurrentRun`] (feature `axum`): an extractor giving handlers the
//!   request's run context.
//! - [`PropagateLayer`]: for tower-based HTTP clients, injects
//!   `langsmith-trace` and `baggage` into outgoing requests.
//!
//! ```
//! use axum::{Router, routing::get};
//! use langsmith_core::{Client, MemorySink};
//! use langsmith_core::server::ServerOptions;
//! use langsmith_tower::LangSmithLayer;
//!
//! let client = Client::builder().sink(MemorySink::new()).build();
//! let app: Router = Router::new()
//!     .route("/users/{id}", get(|| async { "hi" }))
//!     // `Router::layer` runs after routing, so runs are named after the
//!     // route template (`GET /users/{id}`).
//!     .layer(LangSmithLayer::with_options(
//!         ServerOptions::new().client(client).skip_paths(["/health"]),
//!     ));
//! # let _ = app;
//! ```
//!
//! Usually reached through the `langsmith` crate: feature `tower` (or
//! `axum`, which adds `CurrentRun`) makes this crate `langsmith::tower`.
//! A complete service, configured by environment and flushing on
//! Ctrl-C/SIGTERM, is the repository's `axum_service` example.

mod body;
#[cfg(feature = "axum")]
mod extract;
mod future;
mod headers;
mod layer;
mod propagate;
mod service;

pub use body::TracedBody;
#[cfg(feature = "axum")]
pub use extract::CurrentRun;
pub use future::ResponseFuture;
pub use headers::HeaderMapSource;
pub use layer::LangSmithLayer;
pub use propagate::{Propagate, PropagateLayer, inject_headers};
pub use service::LangSmithService;

pub use langsmith_core::RunContext;
pub use langsmith_core::server::{RecordOptions, ServerOptions};
