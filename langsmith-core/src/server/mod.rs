//! The framework-independent part of tracing an HTTP server: which requests
//! are traced, how a request's run continues the caller's trace, what it is
//! named and records, and how it ends. The tower/axum and actix-web adapters
//! are thin glue over this module, and it depends on no `http` crate (actix-web
//! 4 is on `http` 0.2, axum on `http` 1): requests are described with plain
//! strings and `(name, bytes)` header pairs.
//!
//! An adapter, per request:
//!
//! 1. builds a [`RequestInfo`] (method, path, route template when the router
//!    knows it, headers through a [`HeaderSource`]) and calls
//!    [`ServerRun::start`];
//! 2. puts [`ServerRun::context`] into the request's extensions and runs the
//!    handler inside it ([`crate::FutureExt::in_run`]), on every poll and
//!    on drop;
//! 3. calls [`ServerRun::set_status`] when the response head is ready,
//!    [`ServerRun::first_byte`] at the first body bytes, and
//!    [`ServerRun::finish`] when the body has been sent in full — or
//!    [`ServerRun::panicked`] / [`ServerRun::error`]; dropping the
//!    [`ServerRun`] early (client hang-up) ends it as cancelled.
//!
//! ```
//! use langsmith_core::server::{RequestInfo, ServerOptions, ServerRun};
//! use langsmith_core::{Client, FutureExt, MemorySink, current_run};
//! # #[tokio::main(flavor = "current_thread")] async fn main() {
//! let sink = MemorySink::new();
//! let client = Client::builder().sink(sink.clone()).tracing(Some(true)).build();
//! let opts = ServerOptions::new().client(client).skip_paths(["/health"]);
//!
//! // What an adapter does for `GET /users/42` matched by `/users/{id}`:
//! let headers: Vec<(String, Vec<u8>)> = vec![("accept".into(), b"*/*".to_vec())];
//! let req = RequestInfo::new("GET", "/users/42", &headers).route(Some("/users/{id}"));
//! let mut run = ServerRun::start(&opts, &req);
//! let handler = async { current_run().map(|c| c.id()) };
//! let seen = handler.in_run(run.context().cloned()).await;
//! assert_eq!(seen, run.context().map(|c| c.id()));
//! run.set_status(200);
//! run.first_byte();
//! run.finish(200);
//!
//! assert_eq!(sink.runs()[0].name, "GET /users/{id}");
//! # }
//! ```

mod options;
mod request;
mod run;
#[cfg(test)]
mod tests;

pub use options::{NEVER_RECORDED_HEADERS, RecordOptions, ServerOptions};
pub use request::{HeaderSource, RequestInfo};
pub use run::ServerRun;

use std::any::Any;

/// The message of a panic payload caught with `catch_unwind` (`&str` or
/// `String` payloads; anything else gives `"<non-string panic payload>"`),
/// for [`ServerRun::panicked`].
///
/// ```
/// let payload = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
/// assert_eq!(langsmith_core::server::panic_message(&*payload), "boom 1");
/// ```
pub fn panic_message(payload: &(dyn Any + Send)) -> &str {
    if let Some(s) = payload.downcast_ref::<&str>() {
        s
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s
    } else {
        "<non-string panic payload>"
    }
}
