//! `PropagateLayer` on a tower client: headers from the current run or an
//! explicit context, merged with the caller's own baggage, a round trip
//! through a traced server.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::{Router, routing::get};
use http::{HeaderMap, Request};
use langsmith_core::server::ServerOptions;
use langsmith_core::{FutureExt, MemorySink, RunTree};
use langsmith_tower::{LangSmithLayer, PropagateLayer};
use std::convert::Infallible;
use support::*;
use tower::{Layer, ServiceExt, service_fn};

fn echo_headers() -> impl tower::Service<
    Request<()>,
    Response = HeaderMap,
    Error = Infallible,
    Future = impl Future<Output = Result<HeaderMap, Infallible>> + Send,
> + Clone {
    service_fn(|req: Request<()>| async move { Ok::<_, Infallible>(req.headers().clone()) })
}

#[tokio::test]
async fn injects_from_the_current_run_and_merges_baggage() {
    let sink = MemorySink::new();
    let run = RunTree::new("caller")
        .project("shop")
        .tag("t1")
        .client(client(&sink, Some(true)))
        .start();
    let ctx = run.context().cloned();
    let svc = PropagateLayer::new().layer(echo_headers());

    // No run: untouched.
    let sent = svc.clone().oneshot(Request::new(())).await.unwrap();
    assert!(sent.is_empty());

    // Current run, with a baggage header of the caller's own.
    let req = Request::builder()
        .header("baggage", "vendor=1, langsmith-project=stale")
        .body(())
        .unwrap();
    let sent = svc.clone().oneshot(req).in_run(ctx.clone()).await.unwrap();
    let c = ctx.as_ref().unwrap();
    assert_eq!(sent["langsmith-trace"], c.dotted_order().as_str());
    assert_eq!(
        sent["baggage"],
        "langsmith-tags=t1,langsmith-project=shop,vendor=1"
    );
    assert_eq!(sent.get_all("baggage").iter().count(), 1);

    // An explicit context in the request's extensions wins over the ambient one.
    let other = RunTree::new("other")
        .client(client(&sink, Some(true)))
        .start();
    let mut req = Request::new(());
    req.extensions_mut()
        .insert(other.context().unwrap().clone());
    let sent = svc.oneshot(req).in_run(ctx.clone()).await.unwrap();
    assert_eq!(
        sent["langsmith-trace"],
        other.context().unwrap().dotted_order().as_str()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn round_trip_through_a_traced_server() {
    let sink = MemorySink::new();
    let srv = serve(Router::new().route("/x", get(|| async { "x" })).layer(
        LangSmithLayer::with_options(ServerOptions::new().client(client(&sink, None))),
    ))
    .await;
    let url = srv.url("/x");
    // A tower client: PropagateLayer in front of reqwest.
    let http = http();
    let client = PropagateLayer::new().layer(service_fn(move |req: Request<()>| {
        let http = http.clone();
        async move {
            let req = reqwest::Request::try_from(req.map(|()| reqwest::Body::from(""))).unwrap();
            http.execute(req).await.map(|r| r.status())
        }
    }));
    let caller = RunTree::new("caller").client(client_for(&sink)).start();
    let status = client
        .oneshot(Request::get(url).body(()).unwrap())
        .in_run(caller.context().cloned())
        .await
        .unwrap();
    assert_eq!(status, 200);
    let runs = wait_for_runs(&sink, 1).await;
    assert_eq!(runs[0].name, "GET /x");
    assert_eq!(runs[0].parent_run_id, caller.id());
    assert_eq!(Some(runs[0].trace_id), caller.id());
}

fn client_for(sink: &MemorySink) -> langsmith_core::Client {
    client(sink, Some(true))
}
