//! Malformed, oversized and hostile trace headers never change the response
//! and never fail the request: it is handled as if no parent had been sent.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::{Json, Router, routing::post};
use http::{HeaderName, HeaderValue};
use langsmith_core::server::ServerOptions;
use langsmith_core::{MemorySink, current_run};
use langsmith_tower::LangSmithLayer;
use support::*;

/// (case, headers, whether the caller's trace is still joined)
type Case = (&'static str, Vec<(&'static str, Vec<u8>)>, bool);

fn hostile_cases() -> Vec<Case> {
    let trace = |v: &[u8]| ("langsmith-trace", v.to_vec());
    let baggage = |v: &[u8]| ("baggage", v.to_vec());
    let caller = || trace(CALLER.as_bytes());
    vec![
        ("bad dotted order", vec![trace(b"20261302T030405678901Z0193d5a2-0000-7000-8000-000000000001")], false),
        ("not a uuid", vec![trace(b"20260102T030405678901Znot-a-uuid-at-all")], false),
        ("garbage trace", vec![trace(b"..;;..")], false),
        // A bad baggage entry is skipped alone; the trace is still joined.
        ("bad percent-encoding", vec![
            caller(),
            baggage(b"langsmith-metadata=%7B%ZZ,langsmith-tags=%E0%A4%A,langsmith-project=%"),
        ], true),
        ("metadata not an object", vec![caller(), baggage(b"langsmith-metadata=%5B1%2C2%5D")], true),
        ("20 KB baggage", vec![caller(), baggage(format!("k={}", "x".repeat(20_000)).as_bytes())], true),
        ("20 KB trace", vec![trace("9".repeat(20_000).as_bytes())], false),
        ("non-UTF-8 trace", vec![trace(&[0xff, 0xfe, 0x80])], false),
        ("non-UTF-8 baggage", vec![caller(), baggage(&[b'a', b'=', 0xc3, 0x28])], true),
        ("replicas naming another endpoint", vec![
            caller(),
            baggage(b"langsmith-replicas=%5B%7B%22api_url%22%3A%22http%3A%2F%2Fevil.example%22%2C%22api_key%22%3A%22k%22%2C%22project_name%22%3A%22p%22%7D%5D"),
        ], true),
        ("conflicting traces", vec![
            caller(),
            trace(b"20260102T030405678901Z0193d5a2-0000-7000-8000-000000000009"),
        ], true),
        ("200 baggage entries", vec![caller(), baggage(
            (0..200).map(|i| format!("k{i}=v")).collect::<Vec<_>>().join(",").as_bytes(),
        )], true),
        ("sampled garbage", vec![caller(), baggage(b"langsmith-sampled=maybe")], true),
        // As in the Python SDK: a project and an agent address together are
        // not joined at all.
        ("project and address", vec![
            caller(),
            baggage(b"langsmith-project=p,langsmith-address=lrn%3Aagents/bot/environments/production"),
        ], false),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_headers_never_change_the_response() {
    let sink = MemorySink::new();
    let app = Router::new()
        .route(
            "/items/{id}",
            post(|Json(v): Json<serde_json::Value>| async move {
                // Downstream headers never carry an endpoint or credential.
                let out = current_run().map(|c| c.to_headers()).unwrap_or_default();
                assert!(!format!("{out:?}").contains("evil"));
                (
                    http::StatusCode::CREATED,
                    Json(serde_json::json!({"echo": v})),
                )
            }),
        )
        .layer(LangSmithLayer::with_options(
            ServerOptions::new().client(client(&sink, Some(true))),
        ));
    let srv = serve(app).await;
    let send = |headers: Vec<(&'static str, Vec<u8>)>| {
        let mut req = http()
            .post(srv.url("/items/1"))
            .header("content-type", "application/json")
            .body(r#"{"a":1}"#);
        for (k, v) in headers {
            req = req.header(
                HeaderName::from_static(k),
                HeaderValue::from_bytes(&v).unwrap(),
            );
        }
        async move {
            let resp = req.send().await.unwrap();
            (resp.status(), resp.text().await.unwrap())
        }
    };
    let baseline = send(Vec::new()).await;
    assert_eq!(baseline.0, 201);
    assert_eq!(baseline.1, r#"{"echo":{"a":1}}"#);
    let _ = wait_for_runs(&sink, 1).await;
    let cases = hostile_cases();
    for (i, (name, headers, joined)) in cases.iter().enumerate() {
        let got = send(headers.clone()).await;
        assert_eq!(got, baseline, "case {name}: same response");
        let runs = wait_for_runs(&sink, i + 2).await;
        assert_eq!(runs.len(), i + 2, "case {name}: one run");
        let r = &runs[i + 1];
        assert!(r.error.is_none());
        assert_eq!(r.name, "POST /items/{id}");
        let want = joined.then(|| uuid(CALLER_ID));
        assert_eq!(r.parent_run_id, want, "case {name}: parent");
    }
}
