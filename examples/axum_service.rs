//! An axum service traced with LangSmith, for other programs to call.
//!
//! ```text
//! LANGSMITH_TRACING=true LANGSMITH_API_KEY=lsv2_... cargo run --example axum_service
//! PORT=3000 DOWNSTREAM_URL=http://127.0.0.1:3001 cargo run --example axum_service
//! ```
//!
//! | variable | default | |
//! |---|---|---|
//! | `PORT` | `0` (any free port) | the first line printed is `listening on 127.0.0.1:PORT` |
//! | `DOWNSTREAM_URL` | — | the service `GET /chain` calls (`$DOWNSTREAM_URL/hello/chain`) |
//! | `LANGSMITH_*` | see the README | where runs go; `LANGSMITH_TRACING=true` also traces requests that carry no trace of their caller |
//! | `BENCH_DISCARD_RUNS` | — | `true`: runs are made as usual, then dropped instead of sent (for `bench/compare.sh`) |
//!
//! Routes:
//!
//! - `GET /hello/{name}`: a greeting, made in a traced function with one
//!   child run (`GET /hello/{name}` → `greet` → `pick_greeting`);
//! - `GET /chain`: calls `$DOWNSTREAM_URL/hello/chain` with the trace
//!   propagated (the reqwest middleware) and returns its body;
//! - `GET /slow`: answers after 2 s (to watch a graceful shutdown);
//! - `GET /health`: never traced.
//!
//! Ctrl-C or SIGTERM: stop accepting connections, finish the requests in
//! flight, send the remaining runs (waiting up to 10 s), print how many were
//! delivered, exit 0.
//!
//! To look at the traces without a LangSmith account, run the local
//! collector (`cargo run -p langsmith-collector`) and point
//! `LANGSMITH_ENDPOINT` at it.

mod support;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::get;
use langsmith::server::ServerOptions;
use langsmith_reqwest::LangSmithMiddleware;
use langsmith_reqwest::reqwest_middleware::{ClientBuilder, ClientWithMiddleware, reqwest};
// With the `axum` feature of `langsmith`: `langsmith::tower::LangSmithLayer`.
use langsmith_tower::LangSmithLayer;
use std::error::Error;
use std::time::Duration;

/// How long to wait for the last runs to be delivered when shutting down.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

// ------------------------------------------------------------------ traced code

/// Traced: a run named `greet` with inputs `{"name": ..}`, a child of the
/// request's run.
#[langsmith::traceable]
async fn greet(name: String) -> String {
    let greeting = pick_greeting(&name);
    format!("{greeting}, {name}!")
}

/// Traced too: a child of `greet`'s run.
#[langsmith::traceable(run_type = "tool")]
fn pick_greeting(name: &str) -> String {
    let greeting = if name.len() <= 3 { "Hi" } else { "Hello" };
    greeting.to_string()
}

// ------------------------------------------------------------------ handlers

#[derive(Clone)]
struct Downstream {
    /// Outgoing calls made with it carry the current run.
    http: ClientWithMiddleware,
    /// `DOWNSTREAM_URL`.
    base_url: Option<String>,
}

async fn hello(Path(name): Path<String>) -> String {
    greet(name).await
}

async fn chain(State(downstream): State<Downstream>) -> Result<String, (StatusCode, String)> {
    let Some(base_url) = &downstream.base_url else {
        return Err((
            StatusCode::SERVICE_UNAVAILABLE,
            "DOWNSTREAM_URL is not set".to_string(),
        ));
    };
    let response = downstream
        .http
        .get(format!("{base_url}/hello/chain"))
        .send()
        .await
        .map_err(bad_gateway)?
        .error_for_status()
        .map_err(bad_gateway)?;
    response.text().await.map_err(bad_gateway)
}

fn bad_gateway(error: impl std::fmt::Display) -> (StatusCode, String) {
    (StatusCode::BAD_GATEWAY, format!("downstream: {error}"))
}

async fn slow() -> &'static str {
    println!("GET /slow: answering in 2 s");
    tokio::time::sleep(Duration::from_secs(2)).await;
    "done"
}

// ------------------------------------------------------------------ main

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse().map_err(|e| format!("PORT={port:?}: {e}"))?,
        Err(_) => 0,
    };
    // Configured from the LANGSMITH_* variables; the layer, #[traceable] and
    // the reqwest middleware all use it. (`support::service_client` is
    // `langsmith::default_client()` unless a benchmark sets
    // BENCH_DISCARD_RUNS=true.)
    let client = support::service_client();
    if client.config().tracing != Some(true) {
        eprintln!(
            "LANGSMITH_TRACING is not true: only requests continuing a caller's trace are traced"
        );
    }
    // Installed before the first request, so that no signal is missed.
    let shutdown = support::shutdown_signal()?;

    let downstream = Downstream {
        http: ClientBuilder::new(reqwest::Client::new())
            // `.record_child_runs(true)` would also record each call as a
            // run of its own (see actix_service).
            .with(LangSmithMiddleware::new())
            .build(),
        base_url: std::env::var("DOWNSTREAM_URL")
            .ok()
            .map(|url| url.trim_end_matches('/').to_string()),
    };
    let app = Router::new()
        .route("/hello/{name}", get(hello))
        .route("/chain", get(chain))
        .route("/slow", get(slow))
        .route("/health", get(|| async { "ok" }))
        .with_state(downstream)
        // After the routes: runs are named after the route template.
        .layer(LangSmithLayer::with_options(
            ServerOptions::new()
                .client(client.clone())
                .skip_paths(["/health"]),
        ));

    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await?;

    // Every request has been answered, so every run has ended: send them.
    support::flush(&client, FLUSH_TIMEOUT).await;
    Ok(())
}
