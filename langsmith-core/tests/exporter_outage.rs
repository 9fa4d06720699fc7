//! Outages: runs wait (bounded) while LangSmith is down or failing and are
//! all delivered, exactly once, when it comes back; with the endpoint gone
//! for good, memory stays within the queue caps and every drop is counted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use langsmith_core::*;
use serde_json::json;
use std::time::{Duration, Instant};
use support::*;

fn one_run(client: &Client, i: usize, payload: &str) -> Uuid {
    let run = RunTree::new("r")
        .client(client.clone())
        .inputs(&json!({"i": i, "text": payload}))
        .start();
    let id = run.id().unwrap();
    run.end_with_outputs(&json!({"ok": true}));
    id
}

/// 503 to everything for 20 s while 200 runs come in over those 20 s: after
/// recovery every run arrives exactly once. Default exporter settings.
#[test]
fn twenty_second_outage_loses_nothing() {
    let server = TestServer::start();
    let outage = Duration::from_secs(20);
    let t0 = Instant::now();
    server.respond(move |_| {
        if t0.elapsed() < outage {
            Reply::Status(503)
        } else {
            Reply::Status(202)
        }
    });
    let mut cfg = Config::default();
    cfg.endpoint = server.url();
    cfg.api_key = Some(ApiKey::new("k"));
    let client = support::client(cfg);
    let mut ids = Vec::new();
    for i in 0..200 {
        ids.push(one_run(&client, i, "during the outage"));
        std::thread::sleep(Duration::from_millis(100));
    }
    let during = client.stats();
    assert_eq!(during.dropped(), 0, "{during:?}");
    assert!(during.retried > 0, "the outage was felt: {during:?}");
    assert!(
        client.flush_blocking(Duration::from_secs(60)),
        "delivered after recovery"
    );
    let recovered_after = t0.elapsed().saturating_sub(outage);
    let posts = server.posts_by_id();
    for id in &ids {
        assert_eq!(
            posts.get(&id.to_string()),
            Some(&1),
            "run {id} exactly once"
        );
    }
    assert_eq!(posts.len(), 200);
    let s = client.stats();
    assert_eq!(
        (s.queued, s.sent, s.dropped(), s.pending),
        (200, 200, 0, 0),
        "{s:?}"
    );
    assert_eq!(s.queued, s.sent + s.dropped() + s.pending);
    let failed = server
        .ingest_records()
        .iter()
        .filter(|r| r.status == 503)
        .count() as u64;
    assert_eq!(s.failed_requests, failed);
    eprintln!(
        "outage: {} failed attempts, backlog delivered {:.1} s after the endpoint recovered, stats {s:?}",
        failed,
        recovered_after.as_secs_f64()
    );
}

/// The endpoint refuses connections for the whole test: the queue holds at
/// most its caps, the rest is dropped and counted exactly.
#[test]
fn endpoint_down_keeps_memory_bounded_and_counts_drops() {
    let mut cfg = config(&refused_url());
    cfg.exporter.queue_max_runs = 50;
    cfg.exporter.max_backoff = Duration::from_millis(200);
    let client = client(cfg);
    for i in 0..500 {
        one_run(&client, i, "x");
    }
    let s = client.stats();
    assert_eq!(
        (s.queued, s.dropped_queue_full, s.pending),
        (50, 450, 50),
        "{s:?}"
    );
    // Retries go on; what is held stays within the cap and new runs are dropped.
    std::thread::sleep(Duration::from_secs(1));
    for i in 0..100 {
        one_run(&client, i, "x");
    }
    let s = client.stats();
    assert!(s.failed_requests >= 2, "{s:?}");
    assert_eq!(
        (s.queued, s.dropped_queue_full, s.pending, s.sent),
        (50, 550, 50, 0),
        "{s:?}"
    );
    assert_eq!(s.queued + s.dropped_queue_full, 600);
    // Flushing while down waits, and gives up at the caller's timeout.
    let t = Instant::now();
    assert!(!client.flush_blocking(Duration::from_millis(300)));
    assert!(t.elapsed() < Duration::from_secs(2));
}

#[test]
fn byte_cap_bounds_the_queue() {
    let mut cfg = config(&refused_url());
    cfg.exporter.queue_max_bytes = 100_000;
    let client = client(cfg);
    let text = "z".repeat(4096);
    for i in 0..100 {
        one_run(&client, i, &text);
    }
    let s = client.stats();
    assert!(
        s.queued >= 15 && s.queued <= 24,
        "about 100 KB of 4 KB runs: {s:?}"
    );
    assert_eq!(s.queued + s.dropped_queue_full, 100);
    assert_eq!(s.pending, s.queued);
}

/// Runs older than `max_age` are dropped (and counted) while the endpoint is
/// down, which also completes a flush waiting for them.
#[test]
fn runs_too_old_are_dropped_and_complete_the_flush() {
    let mut cfg = config(&refused_url());
    cfg.exporter.max_age = Duration::from_secs(1);
    cfg.exporter.max_backoff = Duration::from_millis(300);
    let client = client(cfg);
    for i in 0..20 {
        one_run(&client, i, "x");
    }
    let t = Instant::now();
    assert!(
        client.flush_blocking(Duration::from_secs(10)),
        "flush completes when the runs expire"
    );
    assert!(
        t.elapsed() >= Duration::from_millis(900),
        "{:?}",
        t.elapsed()
    );
    let s = client.stats();
    assert_eq!(
        (s.queued, s.dropped_too_old, s.sent, s.pending),
        (20, 20, 0, 0),
        "{s:?}"
    );
}

/// The server stops accepting connections for a while (a restart), then
/// comes back on the same port: nothing is lost.
#[test]
fn server_restart_on_the_same_port_loses_nothing() {
    let first = TestServer::start();
    let url = first.url();
    let addr = first.addr;
    let mut cfg = config(&url);
    cfg.exporter.max_backoff = Duration::from_millis(500);
    let client = client(cfg);
    let mut ids: Vec<Uuid> = (0..5).map(|i| one_run(&client, i, "before")).collect();
    assert!(client.flush_blocking(Duration::from_secs(10)));
    let mut delivered_before = first.posts_by_id();
    drop(first);
    ids.extend((5..15).map(|i| one_run(&client, i, "while down")));
    std::thread::sleep(Duration::from_secs(1));
    assert!(client.stats().failed_requests >= 1);
    let second = TestServer::start_on(addr);
    assert!(client.flush_blocking(Duration::from_secs(20)));
    for (k, v) in second.posts_by_id() {
        *delivered_before.entry(k).or_insert(0) += v;
    }
    for id in &ids {
        assert_eq!(delivered_before.get(&id.to_string()), Some(&1), "{id}");
    }
    let s = client.stats();
    assert_eq!((s.sent, s.dropped(), s.pending), (15, 0, 0));
}

/// The requirement behind the defaults: a 60 s outage under steady traffic
/// (200 runs/s with 1 KB inputs here) loses nothing. Slow, so not run by
/// default: `cargo test -p langsmith-core --test exporter_outage -- --ignored`.
#[test]
#[ignore = "takes over a minute"]
fn sixty_second_outage_under_steady_traffic_loses_nothing() {
    let server = TestServer::start();
    let outage = Duration::from_secs(60);
    let t0 = Instant::now();
    server.respond(move |_| {
        if t0.elapsed() < outage {
            Reply::Status(503)
        } else {
            Reply::Status(202)
        }
    });
    let mut cfg = Config::default();
    cfg.endpoint = server.url();
    cfg.api_key = Some(ApiKey::new("k"));
    let client = support::client(cfg);
    let text = "t".repeat(1024);
    let mut ids = Vec::new();
    let mut peak_pending = 0;
    // 200 runs/s for 65 s, in ticks of 20 runs every 100 ms.
    for tick in 0..650 {
        for j in 0..20 {
            ids.push(one_run(&client, tick * 20 + j, &text));
        }
        peak_pending = peak_pending.max(client.stats().pending);
        let next = t0 + Duration::from_millis(100 * (tick as u64 + 1));
        std::thread::sleep(next.saturating_duration_since(Instant::now()));
    }
    assert!(client.flush_blocking(Duration::from_secs(120)));
    let posts = server.posts_by_id();
    for id in &ids {
        assert_eq!(
            posts.get(&id.to_string()),
            Some(&1),
            "run {id} exactly once"
        );
    }
    let s = client.stats();
    assert_eq!(
        (s.queued, s.sent, s.dropped(), s.pending),
        (13_000, 13_000, 0, 0),
        "{s:?}"
    );
    eprintln!(
        "60 s outage: {} runs, peak pending {peak_pending}, all delivered {:.1} s after recovery, {s:?}",
        ids.len(),
        t0.elapsed().saturating_sub(outage).as_secs_f64()
    );
}
