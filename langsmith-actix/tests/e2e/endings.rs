//! How a request's run ends: panic, 500, client hang-up, streamed body.

use crate::support::*;
use langsmith_core::*;
use reqwest_middleware::reqwest;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_handler_ends_its_run_with_the_panic() {
    let srv = start();
    let http = reqwest::Client::new();
    // actix-web does not turn a panic into a response: the connection drops.
    let r = http
        .get(format!("{}/panic", srv.base))
        .header("langsmith-trace", CALLER)
        .send()
        .await;
    assert!(r.is_err() || r.unwrap().status().is_server_error());
    let runs = wait_runs(&srv.sink, 1).await;
    let run = by_name(&runs, "GET /panic");
    assert_eq!(run.error.as_deref(), Some("panicked: handler exploded"));
    assert_eq!(run.parent_run_id.unwrap().to_string(), CALLER_ID);
    assert!(run.end_time.is_some());
    // The server keeps serving.
    let ok = http
        .get(format!("{}/fixed", srv.base))
        .send()
        .await
        .unwrap();
    assert_eq!(ok.status(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_500_is_an_error() {
    let srv = start();
    let resp = reqwest::Client::new()
        .get(format!("{}/fail", srv.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    assert_eq!(resp.text().await.unwrap(), "nope");
    let runs = wait_runs(&srv.sink, 1).await;
    let run = by_name(&runs, "GET /fail");
    assert_eq!(run.error.as_deref(), Some("HTTP 500 Internal Server Error"));
    assert_eq!(run.outputs.as_ref().unwrap().get(), r#"{"status":500}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_mid_handler_cancels_the_run() {
    let srv = start();
    let http = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let started = Instant::now();
    assert!(http.get(format!("{}/slow", srv.base)).send().await.is_err());
    let runs = wait_runs(&srv.sink, 2).await;
    let run = by_name(&runs, "GET /slow");
    assert_eq!(run.error.as_deref(), Some(CANCELLED));
    // The handler's own child run was dropped inside the request's run.
    let inner = by_name(&runs, "slow-inner");
    assert_eq!(inner.error.as_deref(), Some(CANCELLED));
    assert_eq!(inner.parent_run_id, Some(run.id));
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "ended at hang-up, not at the handler's end"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sse_response_is_recorded_with_its_full_duration() {
    let srv = start();
    let mut resp = reqwest::Client::new()
        .get(format!("{}/sse", srv.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut chunks = Vec::new();
    while let Some(chunk) = resp.chunk().await.unwrap() {
        chunks.push(chunk);
    }
    let body: Vec<u8> = chunks.concat();
    assert_eq!(
        String::from_utf8(body).unwrap(),
        "data: 1\n\ndata: 2\n\ndata: 3\n\ndata: 4\n\ndata: 5\n\n"
    );
    let runs = wait_runs(&srv.sink, 1).await;
    let run = by_name(&runs, "GET /sse");
    assert!(run.error.is_none(), "{run:?}");
    let end = run.end_time.unwrap();
    let micros = end.as_micros() - run.start_time.as_micros();
    assert!(micros >= 300_000, "duration {micros} µs");
    let last = srv.sse.0.lock().unwrap().unwrap();
    assert!(end >= last, "ended after the last chunk");
    let ttfb = run.extra.metadata["time_to_first_byte_ms"]
        .as_f64()
        .unwrap();
    assert!(ttfb < 250.0, "first byte at once, not at the end: {ttfb}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_hangs_up_mid_stream_cancels_the_run() {
    let srv = start();
    let mut resp = reqwest::Client::new()
        .get(format!("{}/sse", srv.base))
        .send()
        .await
        .unwrap();
    let first = resp.chunk().await.unwrap().unwrap();
    assert_eq!(&first[..], b"data: 1\n\n");
    drop(resp);
    let runs = wait_runs(&srv.sink, 1).await;
    let run = by_name(&runs, "GET /sse");
    assert_eq!(run.error.as_deref(), Some(CANCELLED));
    assert_eq!(run.outputs.as_ref().unwrap().get(), r#"{"status":200}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_request_ends_its_run_normally() {
    let srv = start();
    let resp = reqwest::Client::new()
        .head(format!("{}/any", srv.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let runs = wait_runs(&srv.sink, 1).await;
    let run = by_name(&runs, "HEAD /any");
    assert!(run.error.is_none(), "{run:?}");
}
