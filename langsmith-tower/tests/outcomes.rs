//! How a request's run ends: panics (with and without tower-http's
//! `CatchPanicLayer`), 5xx, a client that hangs up mid-handler or
//! mid-stream, and a streamed (SSE) response that takes 300+ ms.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::response::{IntoResponse, Response};
use axum::{Router, routing::get};
use bytes::Bytes;
use http::StatusCode;
use http_body::{Body, Frame};
use langsmith_core::server::ServerOptions;
use langsmith_core::{CANCELLED, MemorySink, RunContext, Timestamp, current_run, traceable};
use langsmith_tower::LangSmithLayer;
use std::convert::Infallible;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;
use support::*;
use tower_http::catch_panic::CatchPanicLayer;

async fn boom() -> &'static str {
    tokio::task::yield_now().await;
    panic!("boom in handler")
}

fn layer(sink: &MemorySink) -> LangSmithLayer {
    LangSmithLayer::with_options(ServerOptions::new().client(client(sink, Some(true))))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_without_catch_panic_drops_the_connection_and_records_the_panic() {
    let sink = MemorySink::new();
    let srv = serve(Router::new().route("/boom", get(boom)).layer(layer(&sink))).await;
    let res = http().get(srv.url("/boom")).send().await;
    assert!(
        res.is_err(),
        "axum without CatchPanicLayer drops the connection"
    );
    let runs = wait_for_runs(&sink, 1).await;
    assert_eq!(runs[0].name, "GET /boom");
    assert_eq!(runs[0].error.as_deref(), Some("panicked: boom in handler"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn panic_with_catch_panic_outside_or_inside() {
    let sink = MemorySink::new();
    // Outside: the panic passes through the run (recorded), then becomes a 500.
    let outside = serve(
        Router::new()
            .route("/boom", get(boom))
            .layer(layer(&sink))
            .layer(CatchPanicLayer::new()),
    )
    .await;
    let resp = http().get(outside.url("/boom")).send().await.unwrap();
    assert_eq!(resp.status(), 500);
    let runs = wait_for_runs(&sink, 1).await;
    assert_eq!(runs[0].error.as_deref(), Some("panicked: boom in handler"));
    sink.clear();
    // Inside: the run sees the 500 the panic was turned into.
    let inside = serve(
        Router::new()
            .route("/boom", get(boom))
            .layer(CatchPanicLayer::new())
            .layer(layer(&sink)),
    )
    .await;
    let resp = http().get(inside.url("/boom")).send().await.unwrap();
    assert_eq!(resp.status(), 500);
    let runs = wait_for_runs(&sink, 1).await;
    assert_eq!(
        runs[0].error.as_deref(),
        Some("HTTP 500 Internal Server Error")
    );
    assert_eq!(runs[0].outputs.as_ref().unwrap().get(), r#"{"status":500}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_errors_client_errors_are_not() {
    let sink = MemorySink::new();
    let app = Router::new()
        .route(
            "/fail",
            get(|| async { (StatusCode::BAD_GATEWAY, "upstream down") }),
        )
        .route("/missing", get(|| async { StatusCode::NOT_FOUND }))
        .layer(layer(&sink));
    let srv = serve(app).await;
    assert_eq!(
        http().get(srv.url("/fail")).send().await.unwrap().status(),
        502
    );
    assert_eq!(
        http()
            .get(srv.url("/missing"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let runs = wait_for_runs(&sink, 2).await;
    let fail = named(&runs, "GET /fail");
    assert_eq!(fail.error.as_deref(), Some("HTTP 502 Bad Gateway"));
    assert_eq!(fail.outputs.as_ref().unwrap().get(), r#"{"status":502}"#);
    let missing = named(&runs, "GET /missing");
    assert!(missing.error.is_none());
    assert_eq!(missing.outputs.as_ref().unwrap().get(), r#"{"status":404}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodiless_responses_are_not_hang_ups() {
    let sink = MemorySink::new();
    let app = Router::new()
        .route("/doc", get(|| async { "a body that HEAD never sends" }))
        .route(
            "/gone",
            get(|| async { (StatusCode::NO_CONTENT, "dropped") }),
        )
        .route(
            "/same",
            get(|| async { (StatusCode::NOT_MODIFIED, "dropped") }),
        )
        .layer(layer(&sink));
    let srv = serve(app).await;
    assert_eq!(
        http().head(srv.url("/doc")).send().await.unwrap().status(),
        200
    );
    assert_eq!(
        http().get(srv.url("/gone")).send().await.unwrap().status(),
        204
    );
    assert_eq!(
        http().get(srv.url("/same")).send().await.unwrap().status(),
        304
    );
    let runs = wait_for_runs(&sink, 3).await;
    assert_eq!(runs.len(), 3);
    for r in &runs {
        assert!(r.error.is_none(), "{}: {:?}", r.name, r.error);
    }
    named(&runs, "HEAD /doc");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_hang_up_mid_handler_cancels_the_run_and_its_children() {
    let sink = MemorySink::new();
    let app = Router::new()
        .route(
            "/slow",
            get(|| async {
                traceable("think")
                    .call_async(tokio::time::sleep(Duration::from_secs(5)))
                    .await;
                "too late"
            }),
        )
        .layer(layer(&sink));
    let srv = serve(app).await;
    let quick = reqwest::Client::builder()
        .timeout(Duration::from_millis(200))
        .build()
        .unwrap();
    let res = quick.get(srv.url("/slow")).send().await;
    assert!(res.unwrap_err().is_timeout());
    let runs = wait_for_runs(&sink, 2).await;
    assert_eq!(runs.len(), 2, "{runs:#?}");
    let server = named(&runs, "GET /slow");
    let think = named(&runs, "think");
    assert_eq!(server.error.as_deref(), Some(CANCELLED));
    assert_eq!(think.error.as_deref(), Some(CANCELLED));
    assert_eq!(think.parent_run_id, Some(server.id));
    assert!(
        duration_ms(server) < 3000.0,
        "ended at the hang-up, not the handler's end"
    );
    assert!(think.end_time <= server.end_time, "the child ends first");
}

/// An SSE body: `n` events, one every `every`, recording the context its
/// polls run in and when the last event was produced.
struct Ticks {
    n: u32,
    every: Duration,
    sleep: Pin<Box<tokio::time::Sleep>>,
    seen: Arc<Mutex<Vec<Option<RunContext>>>>,
    last_sent: Arc<Mutex<Option<Timestamp>>>,
}

impl Body for Ticks {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.seen.lock().unwrap().push(current_run());
        if self.n == 0 {
            return Poll::Ready(None);
        }
        if self.sleep.as_mut().poll(cx).is_pending() {
            return Poll::Pending;
        }
        self.n -= 1;
        let next = tokio::time::Instant::now() + self.every;
        self.sleep.as_mut().reset(next);
        if self.n == 0 {
            *self.last_sent.lock().unwrap() = Some(Timestamp::now());
        }
        let event = format!("data: {{\"token\": {}}}\n\n", self.n);
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(event)))))
    }
}

struct Sse {
    seen: Arc<Mutex<Vec<Option<RunContext>>>>,
    last_sent: Arc<Mutex<Option<Timestamp>>>,
    n: u32,
}

fn sse_app(sink: &MemorySink, sse: &Sse) -> Router {
    let (seen, last, n) = (sse.seen.clone(), sse.last_sent.clone(), sse.n);
    Router::new()
        .route(
            "/stream",
            get(move || {
                let (seen, last_sent) = (seen.clone(), last.clone());
                async move {
                    let every = Duration::from_millis(100);
                    let body = Ticks {
                        n,
                        every,
                        sleep: Box::pin(tokio::time::sleep(every)),
                        seen,
                        last_sent,
                    };
                    Response::builder()
                        .header("content-type", "text/event-stream")
                        .body(axum::body::Body::new(body))
                        .unwrap()
                        .into_response()
                }
            }),
        )
        .layer(layer(sink))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn streamed_response_ends_its_run_after_the_last_event() {
    let sink = MemorySink::new();
    let sse = Sse {
        seen: Arc::default(),
        last_sent: Arc::default(),
        n: 4,
    };
    let srv = serve(sse_app(&sink, &sse)).await;
    let mut resp = http().get(srv.url("/stream")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let mut events = 0;
    while let Some(chunk) = resp.chunk().await.unwrap() {
        events += String::from_utf8_lossy(&chunk).matches("data:").count();
    }
    assert_eq!(events, 4);
    let runs = wait_for_runs(&sink, 1).await;
    let r = &runs[0];
    assert_eq!(r.name, "GET /stream");
    assert!(r.error.is_none(), "{:?}", r.error);
    assert!(
        duration_ms(r) >= 300.0,
        "full duration: {} ms",
        duration_ms(r)
    );
    let last = sse.last_sent.lock().unwrap().unwrap();
    assert!(
        r.end_time.unwrap() >= last,
        "ended only after the last event"
    );
    let ttfb = r.extra.metadata["time_to_first_byte_ms"].as_f64().unwrap();
    assert!(
        (80.0..duration_ms(r)).contains(&ttfb),
        "first event after ~100 ms: {ttfb}"
    );
    // The body's polls ran inside the request's run.
    let seen = sse.seen.lock().unwrap();
    assert!(!seen.is_empty());
    assert!(
        seen.iter()
            .all(|c| c.as_ref().map(|c| c.id()) == Some(r.id))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_hang_up_mid_stream_cancels_with_the_status_kept() {
    let sink = MemorySink::new();
    let sse = Sse {
        seen: Arc::default(),
        last_sent: Arc::default(),
        n: 50,
    };
    let srv = serve(sse_app(&sink, &sse)).await;
    let mut resp = http().get(srv.url("/stream")).send().await.unwrap();
    assert!(resp.chunk().await.unwrap().is_some());
    drop(resp);
    let runs = wait_for_runs(&sink, 1).await;
    let r = &runs[0];
    assert_eq!(r.error.as_deref(), Some(CANCELLED));
    assert_eq!(r.outputs.as_ref().unwrap().get(), r#"{"status":200}"#);
    assert!(duration_ms(r) < 3000.0);
}
