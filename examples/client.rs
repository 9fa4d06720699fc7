//! A client that starts a trace and calls a service with it: the service's
//! runs join the trace (it needs the LangSmith middleware, e.g.
//! `axum_service` or `actix_service`, or an official SDK's).
//!
//! ```text
//! TARGET_URL=http://127.0.0.1:3001/chain LANGSMITH_TRACING=true cargo run --example client
//! ```
//!
//! Prints `trace_id=<uuid>`, the response, and how many runs were
//! delivered; exits non-zero when the call fails (after sending the run,
//! with the error recorded on it).

mod support;

use langsmith::trace;
use langsmith_reqwest::LangSmithMiddleware;
use langsmith_reqwest::reqwest_middleware::{ClientBuilder, reqwest};
use serde_json::json;
use std::error::Error;
use std::time::Duration;

/// How long to wait for the runs to be delivered before exiting.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(10);

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let target = std::env::var("TARGET_URL")
        .map_err(|_| "set TARGET_URL to the URL to call, e.g. http://127.0.0.1:3000/hello/you")?;
    // Configured from the LANGSMITH_* variables.
    let client = langsmith::default_client();
    let http = ClientBuilder::new(reqwest::Client::new())
        .with(LangSmithMiddleware::new())
        .build();

    // The root run; requests sent inside it carry it.
    let mut run = trace("client").inputs(&json!({ "url": target })).start();
    match run.context() {
        Some(ctx) => println!("trace_id={}", ctx.trace_id()),
        None => eprintln!("tracing is off (set LANGSMITH_TRACING=true): calling without a trace"),
    }
    let result = run
        .instrument(async {
            let response = http.get(&target).send().await?.error_for_status()?;
            let status = response.status();
            let body = response.text().await?;
            Ok::<_, Box<dyn Error>>((status, body))
        })
        .await;
    match &result {
        Ok((status, body)) => {
            println!("{status}: {body}");
            run.set_outputs(&json!({ "status": status.as_u16(), "body": body }));
        }
        Err(e) => run.set_error(e),
    }
    run.end();

    support::flush(&client, FLUSH_TIMEOUT).await;
    // Exit non-zero, with the error (and its causes) on one line.
    result.map(|_| ()).map_err(|e| {
        let mut message = format!("calling {target}: {e}");
        let mut source = e.source();
        while let Some(cause) = source {
            message.push_str(&format!(": {cause}"));
            source = cause.source();
        }
        message.into()
    })
}
