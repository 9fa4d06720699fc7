//! Over the wire: the layer's runs, shipped by the real background
//! exporter, arrive in the local collector with the caller's trace, the
//! route name, the status and the streamed duration.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::{Router, routing::get};
use langsmith_collector::Collector;
use langsmith_core::server::ServerOptions;
use langsmith_core::{Client, Config, traceable};
use langsmith_tower::LangSmithLayer;
use std::time::Duration;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_arrive_in_the_collector() {
    let collector = Collector::builder().start().unwrap();
    let client = Client::builder()
        .config(Config::default())
        .endpoint(collector.url())
        .api_key("test-key")
        .project("tower-e2e")
        .tracing(None)
        .build();
    let app = Router::new()
        .route(
            "/users/{id}",
            get(|| async { traceable("lookup").call(|| "alice") }),
        )
        .route(
            "/fail",
            get(|| async { (http::StatusCode::INTERNAL_SERVER_ERROR, "no") }),
        )
        .layer(LangSmithLayer::with_options(
            ServerOptions::new().client(client.clone()),
        ));
    let srv = serve(app).await;
    for path in ["/users/7", "/fail"] {
        http()
            .get(srv.url(path))
            .header("langsmith-trace", CALLER)
            .header("baggage", "langsmith-tags=e2e")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    }
    client.flush().await;
    let runs = tokio::task::spawn_blocking(move || {
        let runs = collector.wait_for_runs(3, Duration::from_secs(20));
        collector.shutdown();
        runs
    })
    .await
    .unwrap();
    assert_eq!(runs.len(), 3, "{runs:#?}");
    let find = |name: &str| runs.iter().find(|r| r.name == name).unwrap();
    let server = find("GET /users/{id}");
    let lookup = find("lookup");
    let fail = find("GET /fail");
    assert_eq!(server.parent_run_id, Some(uuid(CALLER_ID)));
    assert_eq!(server.trace_id, uuid(CALLER_ID));
    assert_eq!(server.session_name, "tower-e2e");
    assert_eq!(server.tags, ["e2e"]);
    assert_eq!(server.outputs, serde_json::json!({"status": 200}));
    assert_eq!(lookup.parent_run_id, Some(server.id));
    assert!(
        lookup
            .dotted_order
            .starts_with(&format!("{}.", server.dotted_order))
    );
    assert_eq!(
        fail.error.as_deref(),
        Some("HTTP 500 Internal Server Error")
    );
}
