//! LangSmith tracing for [actix-web](https://actix.rs) 4: one run per request,
//! continuing the caller's trace from the `langsmith-trace` and `baggage`
//! headers (as sent by this SDK's `langsmith-reqwest`, or the Python and
//! TypeScript SDKs' `RunTree.to_headers()`).
//!
//! - [`TracingMiddleware`]: the middleware (`App::wrap`); options in
//!   [`ServerOptions`] (shared with the tower/axum adapter).
//! - [`CurrentRun`]: an extractor for the request's run.
//!
//! ```
//! use actix_web::{test, web, App};
//! use langsmith_actix::{CurrentRun, ServerOptions, TracingMiddleware};
//! use langsmith_core::{Client, MemorySink, current_run};
//!
//! # #[actix_web::main] async fn main() {
//! let sink = MemorySink::new();
//! let client = Client::builder().sink(sink.clone()).tracing(Some(true)).build();
//! let app = test::init_service(
//!     App::new()
//!         .wrap(TracingMiddleware::with_options(ServerOptions::new().client(client)))
//!         .route("/users/{id}", web::get().to(|run: CurrentRun| async move {
//!             // The same run, ambient and extracted.
//!             assert_eq!(current_run().map(|c| c.id()), run.0.map(|c| c.id()));
//!             "ok"
//!         })),
//! )
//! .await;
//! let req = test::TestRequest::get()
//!     .uri("/users/7")
//!     .insert_header(("langsmith-trace", "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001"))
//!     .to_request();
//! let body = test::call_and_read_body(&app, req).await;
//! assert_eq!(body, "ok");
//! let run = &sink.runs()[0];
//! assert_eq!(run.name, "GET /users/{id}");
//! assert_eq!(run.parent_run_id.unwrap().to_string(), "0193d5a2-0000-7000-8000-000000000001");
//! # }
//! ```
//!
//! Usually reached through the `langsmith` crate: feature `actix` makes this
//! crate `langsmith::actix`. A complete service, configured by environment
//! and flushing on Ctrl-C/SIGTERM, is the repository's `actix_service`
//! example.

mod body;
mod extract;
mod future;
mod middleware;
mod panic;
mod request;

pub use body::TracedBody;
pub use extract::CurrentRun;
pub use future::TracedFuture;
pub use langsmith_core::server::{RecordOptions, ServerOptions};
pub use middleware::{TracingMiddleware, TracingService};
