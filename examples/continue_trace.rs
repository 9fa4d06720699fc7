//! Continue a trace from headers without a middleware: a queue consumer,
//! a job runner, a WebSocket or gRPC handler — anything that receives the
//! caller's trace some other way than through an HTTP middleware.
//!
//! ```text
//! cargo run --example continue_trace
//! ```
//!
//! The producer puts its run's headers into the message
//! (`run.to_headers()`: `langsmith-trace` and `baggage`, the same values the
//! Python and TypeScript SDKs' `run_tree.to_headers()` produce, so the
//! producer could be written in either). The consumer turns them back into
//! a parent with `RunContext::from_headers` and runs its work inside it with
//! `FutureExt::in_run`: every run started there joins the producer's trace.
//!
//! Without `LANGSMITH_API_KEY` the runs go to a collector started in this
//! process and are printed as a tree; with it they go to LangSmith.

mod support;

use langsmith::{Client, FutureExt, RunContext, trace, traceable};
use serde_json::{Value, json};
use std::error::Error;

// ------------------------------------------------------------------ producer

/// Places an order and enqueues a job for it, with the trace in its headers.
fn place_order(order_id: u32) -> (Option<langsmith::Uuid>, String) {
    let run = trace("place_order")
        .inputs(&json!({ "order_id": order_id }))
        .metadata("shop", "socks.example")
        .start();
    let headers: serde_json::Map<String, Value> = run
        .to_headers()
        .iter()
        .map(|(name, value)| (name.to_string(), Value::from(value)))
        .collect();
    let message = json!({ "headers": headers, "order_id": order_id }).to_string();
    let trace_id = run.context().map(|ctx| ctx.trace_id());
    run.end();
    (trace_id, message)
}

// ------------------------------------------------------------------ consumer

/// The job's work; a child of the producer's run once the context is set.
#[traceable(run_type = "tool")]
async fn send_receipt(order_id: u64) -> Result<String, String> {
    let body = traceable("render_email").call(|| format!("Thanks for order #{order_id}!"));
    Ok(format!("sent: {body}"))
}

/// Handles one message: the trace continues from the headers it carries.
async fn handle(message: &str, client: &Client) -> Result<String, Box<dyn Error>> {
    let message: Value = serde_json::from_str(message)?;
    let headers = message["headers"].as_object().into_iter().flatten();
    let parent = RunContext::from_headers(
        headers.map(|(name, value)| (name, value.as_str().unwrap_or_default())),
        client,
    );
    // No (valid) headers: `parent` is None and the work starts a new trace
    // of its own, if tracing is on.
    let order_id = message["order_id"]
        .as_u64()
        .ok_or("message without order_id")?;
    Ok(send_receipt(order_id).in_run(parent).await?)
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let destination = support::Destination::from_env("langsmith-rs-continue-trace")?;

    let (trace_id, message) = place_order(1234);
    println!("message on the queue: {message}");

    // The consumer runs elsewhere; here, a task of its own, which does not
    // inherit the producer's context (tokio tasks never do).
    let client = destination.client().clone();
    let outcome =
        tokio::spawn(async move { handle(&message, &client).await.map_err(|e| e.to_string()) })
            .await?;
    println!("consumer: {}", outcome?);

    destination.finish(trace_id.as_slice());
    Ok(())
}
