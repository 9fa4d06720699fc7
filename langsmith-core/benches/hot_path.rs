//! The hot path: create + end + enqueue of one run, through the real
//! background exporter pointed at a local null server (202 to everything,
//! started here on a background thread). Only the caller's side is timed;
//! each sample ends with an (untimed) flush, so the queue never fills and
//! nothing is dropped (checked at the end).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use langsmith_core::{ApiKey, Client, Config, Feedback, RunTree, uuid7};
use serde_json::json;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// A server answering 202 `{}` to everything, on its own thread.
fn null_server() -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            let app =
                axum::Router::new().fallback(|| async { (axum::http::StatusCode::ACCEPTED, "{}") });
            axum::serve(listener, app).await.unwrap();
        });
    });
    format!("http://{addr}")
}

fn hot_path(c: &mut Criterion) {
    let mut cfg = Config::default();
    cfg.endpoint = null_server();
    cfg.api_key = Some(ApiKey::new("bench"));
    let client = Client::builder().config(cfg).build();
    let small = json!({"question": "What is 2 + 2?"});
    let big = json!({"text": "x".repeat(4096)});

    let mut group = c.benchmark_group("hot_path");
    for (name, inputs) in [
        ("create_end_enqueue/small", &small),
        ("create_end_enqueue/4KB", &big),
    ] {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for _ in 0..iters {
                    let run = RunTree::new("bench")
                        .client(client.clone())
                        .inputs(inputs)
                        .start();
                    black_box(&run);
                    run.end();
                }
                let elapsed = start.elapsed();
                assert!(
                    client.flush_blocking(Duration::from_secs(60)),
                    "flush after sample"
                );
                elapsed
            })
        });
    }
    group.bench_function("enqueue_only/feedback", |b| {
        let run_id = uuid7();
        b.iter_custom(|iters| {
            let fbs: Vec<Feedback> = (0..iters).map(|_| Feedback::new(run_id, "k")).collect();
            let start = Instant::now();
            for fb in fbs {
                client.create_feedback(fb);
            }
            let elapsed = start.elapsed();
            assert!(client.flush_blocking(Duration::from_secs(60)));
            elapsed
        })
    });
    group.finish();
    let s = client.stats();
    eprintln!("exporter stats after the benchmark: {s:?}");
    assert_eq!(s.dropped(), 0, "nothing dropped: {s:?}");
    assert_eq!(s.pending, 0);
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
