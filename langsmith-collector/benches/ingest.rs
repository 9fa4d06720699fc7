//! Ingest throughput: runs per second through the real HTTP server into
//! SQLite. Each iteration POSTs one `/runs/multipart` body of 100 finished
//! runs (Python SDK layout: main part + inputs, outputs, events, extra;
//! fresh ids every time, so nothing is deduplicated) on a new loopback
//! connection and waits for the 202, which is sent after the commit.
//!
//! `cargo bench -p langsmith-collector --bench ingest`
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

#[path = "../tests/common/mod.rs"]
mod common;

use std::time::Duration;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use langsmith_collector::Collector;
use serde_json::json;
use uuid::Uuid;

const RUNS_PER_BODY: usize = 100;
const BOUNDARY: &str = "8c45592bd5234c6296370254a0bab755";

/// One trace of 100 runs (a root and 99 children) as the Python SDK sends it.
fn body() -> Vec<u8> {
    let root = Uuid::now_v7();
    let root_seg = format!("20260102T030405678901Z{root}");
    let mut owned: Vec<(String, Vec<u8>)> = Vec::with_capacity(RUNS_PER_BODY * 5);
    for i in 0..RUNS_PER_BODY {
        let id = if i == 0 { root } else { Uuid::now_v7() };
        let (dotted, parent) = if i == 0 {
            (root_seg.clone(), None)
        } else {
            (
                format!("{root_seg}.20260102T030405{:06}Z{id}", 678_901 + i),
                Some(root.to_string()),
            )
        };
        let main = json!({
            "id": id.to_string(), "name": format!("step_{i}"), "run_type": if i % 3 == 0 { "llm" } else { "chain" },
            "start_time": "2026-01-02T03:04:05.678901+00:00", "end_time": "2026-01-02T03:04:06.000000+00:00",
            "trace_id": root.to_string(), "parent_run_id": parent, "dotted_order": dotted,
            "tags": ["bench"], "session_name": "bench",
        });
        let parts = [
            (format!("post.{id}"), main.to_string()),
            (format!("post.{id}.inputs"), json!({"messages": [{"role": "user", "content": "Name a store that sells colorful socks"}]}).to_string()),
            (format!("post.{id}.outputs"), json!({"content": "Socks & Co.", "usage_metadata": {"input_tokens": 12, "output_tokens": 4, "total_tokens": 16}}).to_string()),
            (format!("post.{id}.events"), "[]".to_owned()),
            (format!("post.{id}.extra"), json!({"metadata": {"ls_provider": "openai", "ls_model_name": "gpt-4o-mini"}, "runtime": {"sdk": "langsmith-rs", "sdk_version": "0.1.0"}}).to_string()),
        ];
        owned.extend(parts.into_iter().map(|(n, d)| (n, d.into_bytes())));
    }
    let refs: Vec<(&str, &[u8])> = owned
        .iter()
        .map(|(n, d)| (n.as_str(), d.as_slice()))
        .collect();
    common::python_multipart(BOUNDARY, &refs)
}

fn bench(c: &mut Criterion) {
    let dir = std::env::temp_dir().join(format!("lsc-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let sample = body();
    eprintln!(
        "body: {} runs, {} bytes plain, {} bytes zstd",
        RUNS_PER_BODY,
        sample.len(),
        zstd::encode_all(&sample[..], 3).unwrap().len()
    );
    let mut group = c.benchmark_group("ingest_multipart_100_runs");
    group.throughput(Throughput::Elements(RUNS_PER_BODY as u64));
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    for (label, file, compress) in [
        ("memory", false, false),
        ("file_wal", true, false),
        ("file_wal_zstd", true, true),
    ] {
        let mut b = Collector::builder();
        if file {
            b = b.db_path(dir.join(format!("{label}.sqlite")));
        }
        let collector = b.start().unwrap();
        let addr = collector.addr();
        group.bench_function(label, |bench| {
            bench.iter_batched(
                || {
                    let b = body();
                    if compress {
                        zstd::encode_all(&b[..], 3).unwrap()
                    } else {
                        b
                    }
                },
                |b| {
                    let extra: &[(&str, &str)] = if compress {
                        &[("Content-Encoding", "zstd")]
                    } else {
                        &[]
                    };
                    let r = common::post_multipart(addr, BOUNDARY, &b, extra);
                    assert_eq!(r.status, 202);
                },
                BatchSize::SmallInput,
            )
        });
        collector.shutdown();
    }
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, bench);
criterion_main!(benches);
