//! The hot path: create + end + enqueue of one run, through the real
//! background exporter pointed at a local null server (202 to everything,
//! started here on a background thread). Only the caller's side is timed;
//! every 10,000 runs there is an (untimed) flush, so the queue never fills
//! and nothing is dropped (checked at the end). A run into a sink that
//! discards is measured too, as the baseline without the exporter.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use langsmith_core::{ApiKey, Client, Config, Feedback, RunTree, uuid7};
use serde_json::json;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// Runs `f` `iters` times, timing only the calls, flushing (untimed) every
/// 10,000 calls so the exporter's queue never fills.
fn timed(client: &Client, iters: u64, mut f: impl FnMut()) -> Duration {
    let mut elapsed = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(10_000);
        let start = Instant::now();
        for _ in 0..n {
            f();
        }
        elapsed += start.elapsed();
        assert!(client.flush_blocking(Duration::from_secs(60)), "flush");
        left -= n;
    }
    elapsed
}

fn hot_path(c: &mut Criterion) {
    if let Ok(n) = std::env::var("HOT_PATH_PROFILE") {
        return profile(n.parse().unwrap_or(100_000));
    }
    let mut cfg = Config::default();
    cfg.endpoint = support::null_server(None, None);
    cfg.api_key = Some(ApiKey::new("bench"));
    let client = Client::builder().config(cfg).build();
    let small = json!({"question": "What is 2 + 2?"});
    let big = json!({"text": "x".repeat(4096)});

    let discard = Client::builder()
        .config(Config::default())
        .sink(support::Discard)
        .build();

    let mut group = c.benchmark_group("hot_path");
    for (name, inputs) in [("small", &small), ("4KB", &big)] {
        group.bench_function(format!("create_end_enqueue/{name}"), |b| {
            b.iter_custom(|iters| {
                timed(&client, iters, || {
                    let run = RunTree::new("bench")
                        .client(client.clone())
                        .inputs(inputs)
                        .start();
                    black_box(&run);
                    run.end();
                })
            })
        });
        group.bench_function(format!("create_end_discard/{name}"), |b| {
            b.iter(|| {
                let run = RunTree::new("bench")
                    .client(discard.clone())
                    .inputs(inputs)
                    .start();
                black_box(&run);
                run.end();
            })
        });
    }
    group.bench_function("enqueue_only/feedback", |b| {
        let run_id = uuid7();
        b.iter_custom(|iters| {
            let mut elapsed = Duration::ZERO;
            let mut left = iters;
            while left > 0 {
                let n = left.min(10_000);
                let fbs: Vec<Feedback> = (0..n).map(|_| Feedback::new(run_id, "k")).collect();
                let start = Instant::now();
                for fb in fbs {
                    client.create_feedback(fb);
                }
                elapsed += start.elapsed();
                assert!(client.flush_blocking(Duration::from_secs(60)));
                left -= n;
            }
            elapsed
        })
    });
    group.finish();
    let s = client.stats();
    eprintln!("exporter stats after the benchmark: {s:?}");
    assert_eq!(s.dropped(), 0, "nothing dropped: {s:?}");
    assert_eq!(s.pending, 0);
}

/// `HOT_PATH_PROFILE=N`: just run the small hot path N times (for
/// `valgrind --tool=callgrind` or `perf`), no measurement.
fn profile(n: u64) {
    let mut cfg = Config::default();
    cfg.endpoint = support::null_server(None, None);
    let client = Client::builder().config(cfg).build();
    let small = json!({"question": "What is 2 + 2?"});
    timed(&client, n, || {
        let run = RunTree::new("bench")
            .client(client.clone())
            .inputs(&small)
            .start();
        black_box(&run);
        run.end();
    });
    eprintln!("{:?}", client.stats());
}

criterion_group!(benches, hot_path);
criterion_main!(benches);
