//! Exporter throughput: runs per second through the whole background
//! pipeline — queue, batching (create+update merged), multipart encoding,
//! zstd compression when the server allows it, HTTP over loopback — into a
//! null server on another thread that reads every request in full and
//! answers 202.
//!
//! One iteration = 10,000 finished runs submitted, then a flush that waits
//! until the server has accepted them all. Throughput is reported in runs
//! (criterion's elements/s). The producer (creating and ending runs) runs
//! on the bench thread in parallel with the exporter thread, as in a
//! service; `discard/*` is the producer alone, for comparison.
//!
//! `cargo bench -p langsmith-core --bench exporter -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use langsmith_core::{ApiKey, Client, Config, RunTree};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

const RUNS: u64 = 10_000;

/// The null server (see `support::null_server`) with `GET /info` answering
/// the flags (`zstd_compression_enabled` as given). Counts body bytes
/// received in `bytes`.
fn null_server(zstd: bool, bytes: Arc<AtomicU64>) -> String {
    let info = json!({
        "version": "0.10.0",
        "batch_ingest_config": {"use_multipart_endpoint": true, "size_limit": 100, "size_limit_bytes": 20_971_520},
        "instance_flags": {"zstd_compression_enabled": zstd},
    })
    .to_string();
    support::null_server(Some(info), Some(bytes))
}

/// `RUNS` root runs with `inputs`, each with small outputs, then a flush.
fn produce(client: &Client, inputs: &Value) {
    let outputs = json!({"answer": "Paris is the capital of France."});
    for _ in 0..RUNS {
        let mut run = RunTree::new("answer")
            .client(client.clone())
            .inputs(inputs)
            .start();
        run.set_outputs(&outputs);
        run.end();
    }
    assert!(client.flush_blocking(Duration::from_secs(120)), "flush");
}

fn bench(c: &mut Criterion) {
    let small = json!({"question": "What is the capital of France?", "user": "u-1842"});
    let big = json!({"text": "the quick brown fox jumps over the lazy dog ".repeat(93)});
    let mut group = c.benchmark_group("exporter");
    group.throughput(Throughput::Elements(RUNS));
    group.sample_size(10);
    for zstd in [false, true] {
        let received = Arc::new(AtomicU64::new(0));
        let mut cfg = Config::default();
        cfg.endpoint = null_server(zstd, received.clone());
        cfg.api_key = Some(ApiKey::new("bench"));
        let client = Client::builder().config(cfg).build();
        let mode = if zstd { "zstd" } else { "plain" };
        for (size, inputs) in [("small", &small), ("4KB", &big)] {
            let before = (client.stats().sent, received.load(Ordering::Relaxed));
            group.bench_function(format!("multipart_{mode}/{size}"), |b| {
                b.iter(|| produce(&client, inputs))
            });
            let runs = client.stats().sent - before.0;
            let bytes = received.load(Ordering::Relaxed) - before.1;
            if let Some(per_run) = bytes.checked_div(runs) {
                eprintln!("exporter/multipart_{mode}/{size}: {per_run} bytes per run on the wire");
            }
        }
        let s = client.stats();
        assert_eq!(s.dropped(), 0, "nothing dropped: {s:?}");
        assert_eq!(s.pending, 0);
    }
    let discard = Client::builder()
        .config(Config::default())
        .sink(support::Discard)
        .build();
    for (size, inputs) in [("small", &small), ("4KB", &big)] {
        group.bench_function(format!("discard/{size}"), |b| {
            b.iter(|| produce(&discard, inputs))
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
