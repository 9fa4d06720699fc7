//! The layer on real axum servers: continuing the caller's trace, new
//! traces, tracing on/off/unset, skipped paths, unsampled traces, nesting and
//! the `CurrentRun` extractor.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::{Router, routing::get};
use langsmith_core::headers::BAGGAGE_HEADER;
use langsmith_core::server::{RecordOptions, ServerOptions};
use langsmith_core::{DottedOrder, MemorySink, current_run, traceable};
use langsmith_tower::{CurrentRun, LangSmithLayer, inject_headers};
use std::time::Duration;
use support::*;

fn app(opts: ServerOptions) -> Router {
    Router::new()
        .route("/users/{id}", get(|| async { "user" }))
        .route("/health", get(|| async { "ok" }))
        .layer(LangSmithLayer::with_options(opts))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn continues_the_callers_trace_with_baggage() {
    let sink = MemorySink::new();
    let srv = serve(app(ServerOptions::new().client(client(&sink, Some(true))))).await;
    let baggage = "langsmith-metadata=%7B%22tenant%22%3A%22acme%22%7D,langsmith-tags=a%2Cb,langsmith-project=shop";
    let resp = http()
        .get(srv.url("/users/42"))
        .header("langsmith-trace", CALLER)
        .header("baggage", baggage)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.text().await.unwrap(), "user");

    let runs = wait_for_runs(&sink, 1).await;
    assert_eq!(runs.len(), 1);
    let r = &runs[0];
    assert_eq!(r.name, "GET /users/{id}");
    assert_eq!(r.parent_run_id, Some(uuid(CALLER_ID)));
    assert_eq!(r.trace_id, uuid(CALLER_ID));
    let d = DottedOrder::parse(&r.dotted_order).unwrap();
    assert_eq!(d.depth(), 2);
    assert_eq!(d.run_id(), r.id);
    assert!(r.dotted_order.starts_with(&format!("{CALLER}.")));
    assert_eq!(&*r.session_name, "shop");
    assert_eq!(r.tags, ["a", "b"]);
    assert_eq!(r.extra.metadata["tenant"], "acme");
    assert!(r.extra.metadata["time_to_first_byte_ms"].as_f64().unwrap() >= 0.0);
    assert_eq!(
        r.inputs.as_ref().unwrap().get(),
        r#"{"method":"GET","route":"/users/{id}"}"#
    );
    assert_eq!(r.outputs.as_ref().unwrap().get(), r#"{"status":200}"#);
    assert!(r.error.is_none());
    assert!(r.end_time.unwrap() >= r.start_time);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn baggage_project_can_be_ignored() {
    let sink = MemorySink::new();
    let opts = ServerOptions::new()
        .client(client(&sink, Some(true)))
        .use_baggage_project(false);
    let srv = serve(app(opts)).await;
    http()
        .get(srv.url("/users/1"))
        .header("langsmith-trace", CALLER)
        .header("baggage", "langsmith-project=not-mine")
        .send()
        .await
        .unwrap();
    let runs = wait_for_runs(&sink, 1).await;
    assert_eq!(&*runs[0].session_name, "default");
    assert_eq!(runs[0].parent_run_id, Some(uuid(CALLER_ID)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_trace_named_after_the_route_when_tracing_is_on() {
    let sink = MemorySink::new();
    let srv = serve(app(ServerOptions::new().client(client(&sink, Some(true))))).await;
    let resp = http().get(srv.url("/users/alice")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let runs = wait_for_runs(&sink, 1).await;
    let r = &runs[0];
    assert_eq!(r.name, "GET /users/{id}");
    assert_eq!(r.parent_run_id, None);
    assert_eq!(r.trace_id, r.id);
    assert_eq!(DottedOrder::parse(&r.dotted_order).unwrap().depth(), 1);
    assert_eq!(r.run_type, langsmith_core::RunType::Chain);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracing_unset_traces_only_requests_with_a_caller() {
    let sink = MemorySink::new();
    let srv = serve(app(ServerOptions::new().client(client(&sink, None)))).await;
    let resp = http().get(srv.url("/users/1")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap();
    http()
        .get(srv.url("/users/2"))
        .header("langsmith-trace", CALLER)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let runs = wait_for_runs(&sink, 1).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(sink.runs().len(), 1, "only the request with a caller");
    assert_eq!(runs[0].parent_run_id, Some(uuid(CALLER_ID)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracing_off_and_skipped_paths_record_nothing() {
    let sink = MemorySink::new();
    let off = serve(app(ServerOptions::new().client(client(&sink, Some(false))))).await;
    let on = serve(app(ServerOptions::new()
        .client(client(&sink, Some(true)))
        .skip_paths(["/health"])))
    .await;
    for url in [off.url("/users/1"), on.url("/health")] {
        let resp = http()
            .get(url)
            .header("langsmith-trace", CALLER)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        resp.text().await.unwrap();
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(sink.ops().is_empty(), "{:#?}", sink.runs());
    // With tracing off the response passes through untouched: same headers
    // and body as without the layer.
    let plain = serve(Router::new().route("/users/{id}", get(|| async { "user" }))).await;
    let off_resp = http().get(off.url("/users/1")).send().await.unwrap();
    let plain_resp = http().get(plain.url("/users/1")).send().await.unwrap();
    assert_eq!(off_resp.status(), plain_resp.status());
    let header = |r: &reqwest::Response, n: &str| r.headers().get(n).cloned();
    for name in ["content-type", "content-length"] {
        assert_eq!(header(&off_resp, name), header(&plain_resp, name), "{name}");
    }
    assert_eq!(
        off_resp.text().await.unwrap(),
        plain_resp.text().await.unwrap()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsampled_caller_records_nothing_and_propagates_unsampled() {
    let sink = MemorySink::new();
    let opts = ServerOptions::new().client(client(&sink, Some(true)));
    // `/echo` returns the trace headers it received.
    let echo = Router::new()
        .route(
            "/echo",
            get(|headers: http::HeaderMap| async move {
                let get = |n: &str| {
                    headers
                        .get(n)
                        .map(|v| v.to_str().unwrap().to_owned())
                        .unwrap_or_default()
                };
                format!(
                    "trace=[{}] baggage=[{}]",
                    get("langsmith-trace"),
                    get("baggage")
                )
            }),
        )
        .layer(LangSmithLayer::with_options(opts.clone()));
    let downstream = serve(echo).await;
    let url = downstream.url("/echo");
    let front = Router::new()
        .route(
            "/chat",
            get(move || {
                let url = url.clone();
                async move {
                    let mut headers = http::HeaderMap::new();
                    inject_headers(&mut headers, &current_run().unwrap());
                    http()
                        .get(url)
                        .headers(headers)
                        .send()
                        .await
                        .unwrap()
                        .text()
                        .await
                        .unwrap()
                }
            }),
        )
        .layer(LangSmithLayer::with_options(opts));
    let front = serve(front).await;
    let body = http()
        .get(front.url("/chat"))
        .header(BAGGAGE_HEADER, "langsmith-sampled=0")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert_eq!(body, "trace=[] baggage=[langsmith-sampled=0]");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(
        sink.ops().is_empty(),
        "nothing recorded: {:#?}",
        sink.runs()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_runs_nest_under_the_request_and_the_extractor_agrees() {
    let sink = MemorySink::new();
    let opts = ServerOptions::new().client(client(&sink, Some(true)));
    let app = Router::new()
        .route(
            "/answer/{q}",
            get(|CurrentRun(run): CurrentRun| async move {
                let ambient = current_run().map(|c| c.id());
                assert_eq!(ambient, run.as_ref().map(|c| c.id()));
                let n = traceable("retrieve")
                    .call_async(async {
                        tokio::time::sleep(Duration::from_millis(5)).await;
                        traceable("embed").call(|| 1)
                    })
                    .await;
                assert_eq!(n, 1);
                run.unwrap().id().to_string()
            }),
        )
        .layer(LangSmithLayer::with_options(opts));
    let srv = serve(app).await;
    let body = http()
        .get(srv.url("/answer/x"))
        .header("langsmith-trace", CALLER)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let runs = wait_for_runs(&sink, 3).await;
    assert_eq!(runs.len(), 3);
    let server = named(&runs, "GET /answer/{q}");
    let retrieve = named(&runs, "retrieve");
    let embed = named(&runs, "embed");
    assert_eq!(
        body,
        server.id.to_string(),
        "the extractor gives the server run"
    );
    assert_eq!(retrieve.parent_run_id, Some(server.id));
    assert_eq!(embed.parent_run_id, Some(retrieve.id));
    for r in [server, retrieve, embed] {
        assert_eq!(r.trace_id, uuid(CALLER_ID));
    }
    assert!(
        retrieve
            .dotted_order
            .starts_with(&format!("{}.", server.dotted_order))
    );
    assert!(
        embed
            .dotted_order
            .starts_with(&format!("{}.", retrieve.dotted_order))
    );
    assert!(server.end_time >= retrieve.end_time);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_query_headers_and_peer_only_when_asked() {
    let sink = MemorySink::new();
    let opts = ServerOptions::new()
        .client(client(&sink, Some(true)))
        .record(
            RecordOptions::default()
                .query(true)
                .client_ip(true)
                .headers(["x-request-id", "authorization", "cookie"]),
        );
    let srv = serve(app(opts)).await;
    http()
        .get(srv.url("/users/7?verbose=1"))
        .header("x-request-id", "req-1")
        .header("authorization", "Bearer top-secret")
        .header("cookie", "session=top-secret")
        .send()
        .await
        .unwrap();
    let runs = wait_for_runs(&sink, 1).await;
    let inputs = runs[0].inputs.as_ref().unwrap().get();
    assert!(!inputs.contains("top-secret"), "{inputs}");
    let v: serde_json::Value = serde_json::from_str(inputs).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "method": "GET", "route": "/users/{id}", "query": "verbose=1",
            "headers": {"x-request-id": "req-1"}, "client_ip": "127.0.0.1",
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn route_template_needs_router_layer() {
    let sink = MemorySink::new();
    let opts = ServerOptions::new().client(client(&sink, Some(true)));
    // Wrapped from outside the Router: runs before routing, no template.
    let outer = tower::Layer::layer(
        &LangSmithLayer::with_options(opts.clone()),
        Router::new().route("/users/{id}", get(|| async { "u" })),
    );
    let srv = serve(Router::new().fallback_service(outer)).await;
    http().get(srv.url("/users/alice")).send().await.unwrap();
    // `route_layer`: matched routes only; unmatched requests are not traced.
    let routed = Router::new()
        .route("/users/{id}", get(|| async { "u" }))
        .route_layer(LangSmithLayer::with_options(opts));
    let srv2 = serve(routed).await;
    http().get(srv2.url("/users/bob")).send().await.unwrap();
    let resp = http().get(srv2.url("/nowhere")).send().await.unwrap();
    assert_eq!(resp.status(), 404);
    let runs = wait_for_runs(&sink, 2).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(sink.runs().len(), 2);
    named(&runs, "GET /users/alice");
    named(&runs, "GET /users/{id}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handlers_annotate_the_request_run() {
    let sink = MemorySink::new();
    let opts = ServerOptions::new().client(client(&sink, Some(true)));
    let app = Router::new()
        .route(
            "/tenants/{t}",
            get(|CurrentRun(run): CurrentRun| async move {
                let run = run.unwrap();
                assert!(run.add_metadata("tenant_tier", "gold"));
                assert!(run.add_tag("vip"));
                let csv = langsmith_core::Attachment::new("report", "text/csv", "a,b\n1,2\n");
                assert!(run.add_attachment(csv.unwrap()));
                "ok"
            }),
        )
        .layer(LangSmithLayer::with_options(opts));
    let srv = serve(app).await;
    let resp = http()
        .get(srv.url("/tenants/acme"))
        .header("langsmith-trace", CALLER)
        // Repeated tags are inherited once; the handler's own "vip" is not repeated.
        .header("baggage", "langsmith-tags=caller%2Cvip%2Ccaller")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let runs = wait_for_runs(&sink, 1).await;
    let r = named(&runs, "GET /tenants/{t}");
    assert_eq!(r.extra.metadata["tenant_tier"], "gold");
    assert!(r.extra.metadata.contains_key("time_to_first_byte_ms"));
    assert_eq!(r.tags, ["caller", "vip"]);
    assert_eq!(r.attachments.len(), 1);
    assert_eq!(
        (r.attachments[0].name(), r.attachments[0].mime_type()),
        ("report", "text/csv")
    );
    assert_eq!(&r.attachments[0].data()[..], b"a,b\n1,2\n");
}
