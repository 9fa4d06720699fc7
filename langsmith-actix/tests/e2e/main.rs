//! End-to-end tests of the actix-web middleware: real servers on 127.0.0.1
//! ephemeral ports, real HTTP clients, runs checked as they arrive.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod concurrency;
mod endings;
mod headers;
mod support;
