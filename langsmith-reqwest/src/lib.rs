//! Outgoing LangSmith trace propagation for [`reqwest`] through
//! [`reqwest_middleware`].
//!
//! Add [`LangSmithMiddleware`] to a `reqwest_middleware` client and every
//! request made inside a run carries that run in the `langsmith-trace` and
//! `baggage` headers; a service using the LangSmith middleware (this SDK's,
//! or the Python and TypeScript SDKs') records its runs as children of it.
//!
//! Per-request options are request extensions: [`ParentRun`] (propagate a
//! given run instead of the current one), [`NoPropagation`] (add nothing) and
//! [`UrlTemplate`] (name child runs after a path template).
//!
//! ```
//! use langsmith_core::{Client, FutureExt, MemorySink, RunTree};
//! use langsmith_reqwest::{LangSmithMiddleware, NoPropagation};
//! use reqwest_middleware::{reqwest, ClientBuilder};
//!
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let http = ClientBuilder::new(reqwest::Client::new())
//!     .with(LangSmithMiddleware::new())
//!     .build();
//! let run = RunTree::new("agent")
//!     .client(Client::builder().sink(MemorySink::new()).build())
//!     .start();
//! async {
//!     // Carries the run (nobody listens on port 9; errors are ignored here).
//!     let _ = http.get("http://127.0.0.1:9/tools").send().await;
//!     // Carries nothing.
//!     let _ = http.get("http://127.0.0.1:9/ext").with_extension(NoPropagation).send().await;
//! }
//! .in_run(run.context().cloned())
//! .await;
//! # }
//! ```
//!
//! Usually reached through the `langsmith` crate: feature `reqwest` makes
//! this crate `langsmith::reqwest`. The repository's `client` example starts
//! a trace and calls a service with it.
//!
//! [`reqwest`]: reqwest_middleware::reqwest

mod child;
mod extensions;
mod inject;
mod middleware;

pub use extensions::{NoPropagation, ParentRun, UrlTemplate};
pub use middleware::LangSmithMiddleware;
pub use reqwest_middleware;
