//! The header codec: `langsmith-trace` + `baggage`, parsed and emitted.
//!
//! - `typical`: a dotted order, 2 metadata keys, 2 tags and a project (what a
//!   service usually propagates);
//! - `4KB`: the same plus metadata large enough that the `baggage` value is
//!   about 4 KB.
//!
//! Results are dropped inside the timing, as they would be in a request.
//! Each through the codec (`headers::parse`, `headers::emit`) and through
//! the run API (`RunContext::from_headers`, which also builds the remote
//! parent, and `RunContext::to_headers`, which also gathers the baggage from
//! the run).
//!
//! `cargo bench -p langsmith-core --bench headers -- --warm-up-time 1 --measurement-time 3`
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use criterion::{Criterion, criterion_group, criterion_main};
use langsmith_core::headers::{self, Baggage, Outgoing};
use langsmith_core::{Client, Config, DottedOrder, RunContext, RunTree};
use serde_json::{Map, Value, json};
use std::hint::black_box;

/// The run's metadata, tags and project: `typical`, or padded so that the
/// emitted `baggage` is about 4 KB (`big`).
fn case(big: bool) -> (Map<String, Value>, Vec<String>, String) {
    let mut metadata = Map::new();
    metadata.insert("user_id".into(), json!("u-1842"));
    metadata.insert("ls_model_name".into(), json!("gpt-4o-mini"));
    if big {
        // Words and spaces, as a prompt or a document excerpt would be; the
        // length is chosen below so that the whole header is ~4 KB.
        metadata.insert("context".into(), json!(""));
    }
    let tags = vec!["production".to_string(), "checkout".to_string()];
    let project = "shop-assistant".to_string();
    if big {
        let words = "the quick brown fox jumps over the lazy dog ";
        let mut text = String::new();
        loop {
            let mut trial = metadata.clone();
            trial.insert("context".into(), json!(text.clone() + words));
            let b = baggage_of(&trial, &tags, &project);
            if b.encode().unwrap().len() > 4096 {
                break;
            }
            text.push_str(words);
        }
        metadata.insert("context".into(), json!(text));
    }
    (metadata, tags, project)
}

fn baggage_of(metadata: &Map<String, Value>, tags: &[String], project: &str) -> Baggage {
    Baggage {
        metadata: metadata.clone(),
        tags: tags.to_vec(),
        project: Some(project.to_owned()),
        ..Baggage::default()
    }
}

/// `HEADERS_PROFILE=N`: parse the typical headers N times (and build the
/// remote parent when `HEADERS_PROFILE_CONTEXT` is set; emit them instead
/// with `HEADERS_PROFILE_EMIT=typical` or `=4KB`), no measurement — for
/// `perf stat -e instructions:u`, `valgrind --tool=callgrind` or `perf record`.
fn profile(n: u64, client: &Client) {
    let (metadata, tags, project) = case(false);
    let dotted =
        DottedOrder::parse("20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001").unwrap();
    if let Ok(which) = std::env::var("HEADERS_PROFILE_EMIT") {
        let (metadata, tags, project) = case(which == "4KB");
        let baggage = baggage_of(&metadata, &tags, &project);
        for _ in 0..n {
            black_box(headers::emit(Some(black_box(&dotted)), black_box(&baggage)));
        }
        return;
    }
    let out = headers::emit(Some(&dotted), &baggage_of(&metadata, &tags, &project));
    let wire: Vec<(&str, &[u8])> = out.iter().map(|(k, v)| (k, v.as_bytes())).collect();
    let context = std::env::var_os("HEADERS_PROFILE_CONTEXT").is_some();
    for _ in 0..n {
        if context {
            black_box(RunContext::from_headers(
                black_box(&wire).iter().copied(),
                client,
            ));
        } else {
            black_box(headers::parse(black_box(&wire).iter().copied()));
        }
    }
}

fn bench(c: &mut Criterion) {
    let client = Client::builder()
        .config(Config::default())
        .sink(support::Discard)
        .tracing(Some(true))
        .build();
    if let Ok(n) = std::env::var("HEADERS_PROFILE") {
        return profile(n.parse().unwrap_or(1_000_000), &client);
    }
    let mut group = c.benchmark_group("headers");
    for (label, big) in [("typical", false), ("4KB", true)] {
        let (metadata, tags, project) = case(big);
        let run = RunTree::new("caller")
            .client(client.clone())
            .project(project.clone())
            .tags(tags.clone())
            .metadata_map(metadata.clone())
            .start();
        let ctx: RunContext = run.context().unwrap().clone();
        let dotted: DottedOrder = ctx.dotted_order().clone();
        let baggage = baggage_of(&metadata, &tags, &project);
        let out: Outgoing = headers::emit(Some(&dotted), &baggage);
        // The run API emits the same bytes as the codec.
        assert_eq!(ctx.to_headers(), out);
        let wire: Vec<(&str, &[u8])> = out.iter().map(|(k, v)| (k, v.as_bytes())).collect();
        let parsed = headers::parse(wire.iter().copied());
        assert!(parsed.errors.is_empty(), "{:?}", parsed.errors);
        assert_eq!(parsed.context.baggage, baggage);
        eprintln!(
            "headers/{label}: langsmith-trace {} bytes, baggage {} bytes",
            out.trace.as_ref().unwrap().len(),
            out.baggage.as_ref().unwrap().len()
        );

        group.bench_function(format!("parse/{label}"), |b| {
            b.iter(|| headers::parse(black_box(&wire).iter().copied()))
        });
        group.bench_function(format!("emit/{label}"), |b| {
            b.iter(|| headers::emit(Some(black_box(&dotted)), black_box(&baggage)))
        });
        group.bench_function(format!("RunContext::from_headers/{label}"), |b| {
            b.iter(|| RunContext::from_headers(black_box(&wire).iter().copied(), &client))
        });
        group.bench_function(format!("RunContext::to_headers/{label}"), |b| {
            b.iter(|| black_box(&ctx).to_headers())
        });
        run.end();
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
