//! Per-request overhead of `LangSmithLayer` on an in-memory axum `Router`
//! (`tower::ServiceExt::oneshot`, no network), response body read to the end
//! (which is when a traced run ends):
//!
//! - `no_layer`: the router alone;
//! - `no_layer_caller_headers`: the router alone, the request carrying
//!   `langsmith-trace` + `baggage` (the baseline of `traced_child`);
//! - `identity_layer`: a layer that does nothing (`tower::layer::util::Identity`),
//!   i.e. what `Router::layer` costs by itself (axum boxes the layered service);
//! - `tracing_off`: the layer with tracing switched off (`LANGSMITH_TRACING=false`);
//! - `tracing_unset`: the layer, tracing unset, no trace header (nothing traced);
//! - `traced_root`: tracing on, a new trace per request;
//! - `traced_child`: a request carrying `langsmith-trace` + `baggage`.
//!
//! Traced runs go to a sink that discards them (`Sink::submit` is a no-op),
//! so this measures the layer and run bookkeeping, not the exporter.
//!
//! `cargo bench -p langsmith-tower --all-features -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use axum::body::Body;
use axum::routing::get;
use criterion::{Criterion, criterion_group, criterion_main};
use http::Request;
use http_body_util::BodyExt;
use langsmith_core::server::{RequestInfo, ServerOptions, ServerRun};
use langsmith_core::{Client, Completion, Config, RunOp, RunTree, Sink};
use langsmith_tower::LangSmithLayer;
use std::time::{Duration, Instant};
use tower::ServiceExt;

struct Discard;

impl Sink for Discard {
    fn submit(&self, op: RunOp) {
        std::hint::black_box(op);
    }
    fn flush(&self) -> Completion {
        Completion::done()
    }
}

fn router() -> Router {
    Router::new().route("/users/{id}", get(|| async { "user" }))
}

fn layered(tracing: Option<bool>) -> Router {
    let client = Client::builder()
        .config(Config::default())
        .tracing(tracing)
        .sink(Discard)
        .build();
    router().layer(LangSmithLayer::with_options(
        ServerOptions::new().client(client),
    ))
}

const TRACE: &str = "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001";
const BAGGAGE: &str =
    "langsmith-metadata=%7B%22tenant%22%3A%22acme%22%7D,langsmith-tags=a,langsmith-project=shop";

fn cases() -> [(&'static str, Router, bool); 7] {
    [
        ("no_layer", router(), false),
        // The baseline of `traced_child`: the same request (caller headers
        // included), no layer.
        ("no_layer_caller_headers", router(), true),
        (
            "identity_layer",
            router().layer(tower::layer::util::Identity::new()),
            false,
        ),
        ("tracing_off", layered(Some(false)), false),
        ("tracing_unset", layered(None), false),
        ("traced_root", layered(Some(true)), false),
        ("traced_child", layered(None), true),
    ]
}

/// `iters` requests through `app`, read to the end.
async fn requests(app: &Router, with_parent: bool, iters: u64) {
    for _ in 0..iters {
        let mut req = Request::get("/users/42");
        if with_parent {
            req = req
                .header("langsmith-trace", TRACE)
                .header("baggage", BAGGAGE);
        }
        let resp = app
            .clone()
            .oneshot(req.body(Body::empty()).unwrap())
            .await
            .unwrap();
        let body = resp.into_body().collect().await.unwrap();
        std::hint::black_box(body);
    }
}

/// `TOWER_PROFILE=case:N` (e.g. `tracing_off:100000`): N requests of one
/// case and exit, no measurement — for `valgrind --tool=callgrind`, whose
/// instruction counts do not depend on the machine's load.
fn profile(spec: &str) {
    let (case, n) = spec.split_once(':').unwrap_or((spec, "100000"));
    let n: u64 = n.parse().unwrap();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let (_, app, with_parent) = cases()
        .into_iter()
        .find(|(name, _, _)| *name == case)
        .expect("a case of the request group");
    rt.block_on(requests(&app, with_parent, n));
}

fn bench(c: &mut Criterion) {
    if let Ok(spec) = std::env::var("TOWER_PROFILE") {
        return profile(&spec);
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("request");
    for (name, app, with_parent) in cases() {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    requests(&app, with_parent, iters).await;
                    start.elapsed()
                })
            });
        });
    }
    group.finish();

    // The framework-independent part alone: one ServerRun started, given a
    // status and first byte, and finished (what every adapter pays).
    let mut core = c.benchmark_group("server_run");
    let client = Client::builder()
        .config(Config::default())
        .tracing(Some(true))
        .sink(Discard)
        .build();
    let opts = ServerOptions::new().client(client);
    let none: [(&str, &[u8]); 0] = [];
    let parent: [(&str, &[u8]); 2] = [
        ("langsmith-trace", TRACE.as_bytes()),
        ("baggage", BAGGAGE.as_bytes()),
    ];
    for (name, headers) in [("root", &none[..]), ("child", &parent[..])] {
        core.bench_function(name, |b| {
            b.iter(|| {
                let req = RequestInfo::new("GET", "/users/42", &headers).route(Some("/users/{id}"));
                let mut run = ServerRun::start(&opts, &req);
                run.set_status(200);
                run.first_byte();
                run.finish(200);
            })
        });
    }
    core.bench_function("plain_run_tree", |b| {
        let client = opts.get_client().clone();
        b.iter(|| {
            RunTree::new("GET /users/{id}")
                .client(client.clone())
                .start()
                .end()
        })
    });
    core.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().warm_up_time(Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
