//! Outgoing propagation against a real axum server on 127.0.0.1 that echoes
//! the LangSmith headers it received.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use axum::http::HeaderMap;
use langsmith_core::headers::{BAGGAGE_HEADER, TRACE_HEADER};
use langsmith_core::*;
use langsmith_reqwest::{LangSmithMiddleware, NoPropagation, ParentRun, UrlTemplate};
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, reqwest};
use serde_json::{Value, json};
use std::time::Duration;

/// The `langsmith-trace` and `baggage` values the server saw, in order.
#[derive(Debug, PartialEq)]
struct Seen {
    trace: Vec<String>,
    baggage: Vec<String>,
}

async fn echo(headers: HeaderMap) -> axum::Json<Value> {
    let values = |name: &str| -> Vec<String> {
        headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    };
    axum::Json(json!({ "trace": values(TRACE_HEADER), "baggage": values(BAGGAGE_HEADER) }))
}

async fn status(axum::extract::Path(code): axum::extract::Path<u16>) -> axum::http::StatusCode {
    axum::http::StatusCode::from_u16(code).unwrap()
}

async fn slow() -> &'static str {
    tokio::time::sleep(Duration::from_secs(10)).await;
    "late"
}

/// Starts the echo server on an ephemeral loopback port; returns its base URL.
async fn server() -> String {
    let app = axum::Router::new()
        .route("/status/{code}", axum::routing::get(status))
        .route("/slow", axum::routing::get(slow))
        .fallback(echo);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn http(m: LangSmithMiddleware) -> ClientWithMiddleware {
    ClientBuilder::new(reqwest::Client::new()).with(m).build()
}

async fn seen(rb: reqwest_middleware::RequestBuilder) -> Seen {
    let text = rb.send().await.unwrap().text().await.unwrap();
    let v: Value = serde_json::from_str(&text).unwrap();
    let list = |k: &str| -> Vec<String> {
        v[k].as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_owned())
            .collect()
    };
    Seen {
        trace: list("trace"),
        baggage: list("baggage"),
    }
}

fn expected(ctx: &RunContext) -> Seen {
    let out = ctx.to_headers();
    Seen {
        trace: out.trace.into_iter().collect(),
        baggage: out.baggage.into_iter().collect(),
    }
}

fn client(sink: &MemorySink) -> Client {
    Client::builder()
        .sink(sink.clone())
        .tracing(Some(true))
        .project("shop")
        .build()
}

#[tokio::test]
async fn headers_match_the_current_runs_to_headers_exactly() {
    let base = server().await;
    let sink = MemorySink::new();
    let run = RunTree::new("agent")
        .client(client(&sink))
        .tag("beta")
        .metadata("tenant", "acme corp")
        .start();
    let ctx = run.context().unwrap().clone();
    let http = http(LangSmithMiddleware::new());
    let got = seen(http.get(format!("{base}/x")))
        .in_run(Some(ctx.clone()))
        .await;
    assert_eq!(got, expected(&ctx));
    assert_eq!(got.trace, [ctx.dotted_order().as_str()]);
    assert_eq!(
        got.baggage,
        [
            "langsmith-metadata=%7B%22tenant%22%3A%22acme%20corp%22%7D,langsmith-tags=beta,langsmith-project=shop"
        ]
    );
    // Propagation alone records nothing of its own.
    drop(run);
    assert_eq!(sink.runs().len(), 1);
}

#[tokio::test]
async fn no_current_run_sends_no_headers() {
    let base = server().await;
    let http = http(LangSmithMiddleware::new().record_child_runs(true));
    let got = seen(http.get(format!("{base}/x"))).await;
    assert_eq!(
        got,
        Seen {
            trace: vec![],
            baggage: vec![]
        }
    );
    // The caller's own baggage passes through untouched.
    let got = seen(http.get(format!("{base}/x")).header("baggage", "vendor=1")).await;
    assert_eq!(got.baggage, ["vendor=1"]);
}

#[tokio::test]
async fn merges_with_the_callers_baggage_keeping_foreign_entries_once() {
    let base = server().await;
    let sink = MemorySink::new();
    // A run continued from a caller that sent a foreign entry.
    let remote = RunContext::from_headers(
        [
            (
                "langsmith-trace",
                "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
            ),
            ("baggage", "vendor=1,langsmith-project=shop"),
        ],
        &client(&sink),
    )
    .unwrap();
    let run = trace("handler").parent(&remote).start();
    let ctx = run.context().unwrap().clone();
    let ours = ctx.to_headers().baggage.unwrap();
    assert_eq!(ours, "langsmith-project=shop,vendor=1");
    let http = http(LangSmithMiddleware::new());
    let got = seen(
        http.get(format!("{base}/x"))
            .header("baggage", "vendor=1, langsmith-project=stale")
            .header("baggage", "other=2"),
    )
    .in_run(Some(ctx.clone()))
    .await;
    assert_eq!(got.trace, [ctx.dotted_order().as_str()]);
    assert_eq!(got.baggage, ["langsmith-project=shop,vendor=1,other=2"]);
    let joined = got.baggage.join(",");
    assert_eq!(joined.matches("vendor=").count(), 1);
}

#[tokio::test]
async fn off_per_request() {
    let base = server().await;
    let sink = MemorySink::new();
    let run = RunTree::new("agent").client(client(&sink)).start();
    let ctx = run.context().unwrap().clone();
    let http = http(LangSmithMiddleware::new().record_child_runs(true));
    let got = seen(
        http.get(format!("{base}/x"))
            .header("baggage", "vendor=1")
            .with_extension(NoPropagation),
    )
    .in_run(Some(ctx.clone()))
    .await;
    assert_eq!(
        got,
        Seen {
            trace: vec![],
            baggage: vec!["vendor=1".into()]
        }
    );
    run.end();
    assert_eq!(sink.runs().len(), 1, "no child run either");
}

#[tokio::test]
async fn explicit_parent_wins_over_the_current_run() {
    let base = server().await;
    let sink = MemorySink::new();
    let ambient = RunTree::new("ambient").client(client(&sink)).start();
    let explicit = RunTree::new("explicit").client(client(&sink)).start();
    let ectx = explicit.context().unwrap().clone();
    let http = http(LangSmithMiddleware::new());
    let got = seen(
        http.get(format!("{base}/x"))
            .with_extension(ParentRun(ectx.clone())),
    )
    .in_run(ambient.context().cloned())
    .await;
    assert_eq!(got, expected(&ectx));
    // Works with no ambient context at all (e.g. in a plain tokio::spawn).
    let got = tokio::spawn(seen(
        http.get(format!("{base}/x"))
            .with_extension(ParentRun(ectx.clone())),
    ))
    .await
    .unwrap();
    assert_eq!(got, expected(&ectx));
}

#[tokio::test]
async fn unsampled_trace_sends_only_sampled_zero() {
    let base = server().await;
    let sink = MemorySink::new();
    let unsampled = Client::builder()
        .sink(sink.clone())
        .tracing(Some(true))
        .sampling_rate(0.0)
        .build();
    let run = trace("root").client(unsampled).start();
    assert!(!run.is_recording());
    let ctx = run.context().unwrap().clone();
    for record in [false, true] {
        let http = http(LangSmithMiddleware::new().record_child_runs(record));
        let got = seen(
            http.get(format!("{base}/x"))
                .header("langsmith-trace", "stale")
                .header("baggage", "vendor=1"),
        )
        .in_run(Some(ctx.clone()))
        .await;
        assert_eq!(
            got,
            Seen {
                trace: vec![],
                baggage: vec!["langsmith-sampled=0,vendor=1".into()]
            }
        );
    }
    drop(run);
    assert!(sink.runs().is_empty());
}

#[tokio::test]
async fn child_runs_are_recorded_under_the_right_parent_and_propagated() {
    let base = server().await;
    let sink = MemorySink::new();
    let run = RunTree::new("agent").client(client(&sink)).start();
    let ctx = run.context().unwrap().clone();
    let http = http(LangSmithMiddleware::new().record_child_runs(true));
    let (got, templated) = async {
        let got = seen(http.get(format!("{base}/users/7?token=secret"))).await;
        let templated = seen(
            http.post(format!("{base}/users/8"))
                .with_extension(UrlTemplate::new("/users/{id}")),
        )
        .await;
        (got, templated)
    }
    .in_run(Some(ctx.clone()))
    .await;
    run.end();
    let runs = sink.runs();
    assert_eq!(runs.len(), 3, "{runs:#?}");
    let host = base.trim_start_matches("http://");
    let child = runs
        .iter()
        .find(|r| r.name == format!("GET {host}/users/7"))
        .unwrap();
    let post = runs
        .iter()
        .find(|r| r.name == format!("POST {host}/users/{{id}}"))
        .unwrap();
    for (c, seen) in [(child, &got), (post, &templated)] {
        assert_eq!(c.parent_run_id, Some(ctx.id()));
        assert_eq!(c.trace_id, ctx.trace_id());
        assert_eq!(c.run_type, RunType::Tool);
        assert!(
            c.dotted_order
                .starts_with(&format!("{}.", ctx.dotted_order().as_str()))
        );
        assert_eq!(c.error, None);
        assert_eq!(c.outputs.as_ref().unwrap().get(), r#"{"status":200}"#);
        // The child's context is what the server saw.
        assert_eq!(seen.trace, [c.dotted_order.to_string()]);
    }
    let inputs: Value = serde_json::from_str(child.inputs.as_ref().unwrap().get()).unwrap();
    assert_eq!(
        inputs,
        json!({"method": "GET", "url": format!("{base}/users/7")})
    );
}

#[tokio::test]
async fn server_errors_transport_errors_and_cancellation_end_child_runs() {
    let base = server().await;
    let sink = MemorySink::new();
    let run = RunTree::new("agent").client(client(&sink)).start();
    let ctx = run.context().unwrap().clone();
    let http = http(LangSmithMiddleware::new().record_child_runs(true));
    // A closed port: bind, take the address, drop the listener.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    async {
        assert_eq!(
            http.get(format!("{base}/status/503"))
                .send()
                .await
                .unwrap()
                .status(),
            503
        );
        assert_eq!(
            http.get(format!("{base}/status/404"))
                .send()
                .await
                .unwrap()
                .status(),
            404
        );
        assert!(
            http.get(format!("http://{closed}/x?key=secret"))
                .send()
                .await
                .is_err()
        );
        let slow = http.get(format!("{base}/slow")).send();
        assert!(
            tokio::time::timeout(Duration::from_millis(100), slow)
                .await
                .is_err()
        );
    }
    .in_run(Some(ctx.clone()))
    .await;
    run.end();
    let runs = sink.runs();
    let by = |suffix: &str| {
        runs.iter()
            .find(|r| r.name.ends_with(suffix))
            .unwrap()
            .clone()
    };
    assert_eq!(
        by("/status/503").error.as_deref(),
        Some("HTTP 503 Service Unavailable")
    );
    assert_eq!(by("/status/404").error, None);
    let transport = by(&format!("{closed}/x"));
    let err = transport.error.unwrap();
    assert!(!err.contains("secret"), "{err}");
    assert!(transport.outputs.is_none());
    assert_eq!(by("/slow").error.as_deref(), Some(CANCELLED));
    for r in &runs {
        assert!(r.end_time.is_some());
        if r.name != "agent" {
            assert_eq!(r.parent_run_id, Some(ctx.id()));
        }
    }
}
