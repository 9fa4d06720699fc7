//! An actix-web service traced with LangSmith, for other programs to call.
//!
//! ```text
//! LANGSMITH_TRACING=true LANGSMITH_API_KEY=lsv2_... cargo run --example actix_service
//! PORT=3001 DOWNSTREAM_URL=http://127.0.0.1:3000 cargo run --example actix_service
//! ```
//!
//! | variable | default | |
//! |---|---|---|
//! | `PORT` | `0` (any free port) | the first line printed is `listening on 127.0.0.1:PORT` |
//! | `DOWNSTREAM_URL` | — | the service `GET /chain` calls (`$DOWNSTREAM_URL/hello/chain`), e.g. `axum_service` |
//! | `LANGSMITH_*` | see the README | where runs go; `LANGSMITH_TRACING=true` also traces requests that carry no trace of their caller |
//!
//! Routes:
//!
//! - `GET /hello/{name}`: a greeting, made in a traced function with one
//!   child run (`GET /hello/{name}` → `greet` → `pick_greeting`);
//! - `GET /chain`: calls `$DOWNSTREAM_URL/hello/chain` with the trace
//!   propagated and returns its body; the call is recorded as a run of its
//!   own (`GET /chain` → `GET 127.0.0.1:PORT/hello/chain`), the downstream
//!   service's run becomes its child;
//! - `GET /slow`: answers after 2 s (to watch a graceful shutdown);
//! - `GET /health`: never traced.
//!
//! Ctrl-C or SIGTERM: stop accepting connections, finish the requests in
//! flight, send the remaining runs (waiting up to 10 s), print how many were
//! delivered, exit 0.

mod support;

use actix_web::{App, HttpResponse, HttpServer, web};
use langsmith::server::ServerOptions;
// With the `actix` feature of `langsmith`: `langsmith::actix::TracingMiddleware`.
use langsmith_actix::TracingMiddleware;
use langsmith_reqwest::LangSmithMiddleware;
use langsmith_reqwest::reqwest_middleware::{ClientBuilder, ClientWithMiddleware, reqwest};
use std::error::Error;
use std::time::Duration;

/// How long to wait for the last runs to be delivered when shutting down.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);
/// How long requests in flight get to finish when shutting down (seconds).
const SHUTDOWN_TIMEOUT_SECS: u64 = 10;

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

struct Downstream {
    /// Outgoing calls made with it carry the current run.
    http: ClientWithMiddleware,
    /// `DOWNSTREAM_URL`.
    base_url: Option<String>,
}

async fn hello(name: web::Path<String>) -> String {
    greet(name.into_inner()).await
}

async fn chain(downstream: web::Data<Downstream>) -> HttpResponse {
    let Some(base_url) = &downstream.base_url else {
        return HttpResponse::ServiceUnavailable().body("DOWNSTREAM_URL is not set");
    };
    let response = match downstream
        .http
        .get(format!("{base_url}/hello/chain"))
        .send()
        .await
    {
        Ok(response) => response,
        Err(e) => return HttpResponse::BadGateway().body(format!("downstream: {e}")),
    };
    let status = response.status();
    match response.text().await {
        Ok(body) if status.is_success() => HttpResponse::Ok().body(body),
        Ok(body) => HttpResponse::BadGateway().body(format!("downstream: {status}: {body}")),
        Err(e) => HttpResponse::BadGateway().body(format!("downstream: {e}")),
    }
}

async fn slow() -> &'static str {
    println!("GET /slow: answering in 2 s");
    tokio::time::sleep(Duration::from_secs(2)).await;
    "done"
}

// ------------------------------------------------------------------ main

#[actix_web::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse().map_err(|e| format!("PORT={port:?}: {e}"))?,
        Err(_) => 0,
    };
    let base_url = std::env::var("DOWNSTREAM_URL")
        .ok()
        .map(|url| url.trim_end_matches('/').to_string());
    // Configured from the LANGSMITH_* variables; the middleware, #[traceable]
    // and the reqwest middleware all use it.
    let client = langsmith::default_client();
    if client.config().tracing != Some(true) {
        eprintln!(
            "LANGSMITH_TRACING is not true: only requests continuing a caller's trace are traced"
        );
    }
    // Installed before the first request, so that no signal is missed.
    let shutdown = support::shutdown_signal()?;

    let options = ServerOptions::new()
        .client(client.clone())
        .skip_paths(["/health"]);
    let server = HttpServer::new(move || {
        // One HTTP client per worker: each worker has its own runtime.
        let http = ClientBuilder::new(reqwest::Client::new())
            .with(LangSmithMiddleware::new().record_child_runs(true))
            .build();
        App::new()
            .app_data(web::Data::new(Downstream {
                http,
                base_url: base_url.clone(),
            }))
            .wrap(TracingMiddleware::with_options(options.clone()))
            .route("/hello/{name}", web::get().to(hello))
            .route("/chain", web::get().to(chain))
            .route("/slow", web::get().to(slow))
            .route("/health", web::get().to(|| async { "ok" }))
    })
    // Our own signal handling: actix's would stop at once on SIGINT.
    .shutdown_signal(shutdown)
    .shutdown_timeout(SHUTDOWN_TIMEOUT_SECS)
    .bind(("127.0.0.1", port))?;
    for addr in server.addrs() {
        println!("listening on {addr}");
    }
    server.run().await?;

    // Every request has been answered, so every run has ended: send them.
    support::flush(&client, FLUSH_TIMEOUT).await;
    Ok(())
}
