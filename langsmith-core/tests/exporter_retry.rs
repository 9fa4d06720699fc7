//! Retries, throttling and refusals: every run arrives exactly once through
//! 503/429/aborted connections, 409 counts as delivered, other 4xx are
//! dropped without retry, 413 splits batches, 404 falls back to /runs/batch.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use langsmith_core::*;
use serde_json::json;
use std::time::{Duration, Instant};
use support::*;

const WAIT: Duration = Duration::from_secs(30);

fn runs(client: &Client, n: usize) -> Vec<Uuid> {
    (0..n)
        .map(|i| {
            let run = RunTree::new("r")
                .client(client.clone())
                .inputs(&json!({"i": i}))
                .start();
            let id = run.id().unwrap();
            run.end_with_outputs(&json!({"ok": i}));
            id
        })
        .collect()
}

fn assert_each_once(server: &TestServer, ids: &[Uuid]) {
    let posts = server.posts_by_id();
    for id in ids {
        assert_eq!(
            posts.get(&id.to_string()),
            Some(&1),
            "run {id} accepted exactly once"
        );
    }
    assert_eq!(posts.len(), ids.len(), "no unexpected runs");
}

#[test]
fn throttling_and_errors_then_success_deliver_each_run_once() {
    let server = TestServer::start();
    server.script(
        vec![
            Reply::Status(503),
            Reply::With(429, vec![("retry-after", "1".into())]),
            Reply::Status(429),
            Reply::Abort,
            Reply::Status(500),
        ],
        Reply::Status(202),
    );
    let client = client(config(&server.url()));
    let ids = runs(&client, 10);
    let start = Instant::now();
    assert!(client.flush_blocking(WAIT), "flush finished");
    let recs = server.ingest_records();
    let statuses: Vec<u16> = recs.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [503, 429, 429, 0, 500, 202]);
    // Retry-After: 1 was honoured: the attempt after it came ≥ 1 s later.
    let gap = recs[2].at - recs[1].at;
    assert!(
        gap >= Duration::from_millis(950),
        "waited {gap:?} after Retry-After: 1"
    );
    // Every attempt carried the same runs.
    let first = post_ids(&recs[0]);
    assert_eq!(first.len(), 10);
    for r in &recs[1..] {
        assert_eq!(post_ids(r), first);
    }
    assert_each_once(&server, &ids);
    let s = client.stats();
    assert_eq!((s.queued, s.sent, s.dropped(), s.pending), (10, 10, 0, 0));
    assert_eq!(s.retried, 5);
    assert_eq!(s.failed_requests, 5);
    assert!(start.elapsed() < Duration::from_secs(20));
}

#[test]
fn conflict_counts_as_delivered() {
    let server = TestServer::start();
    server.script(vec![Reply::Status(409)], Reply::Status(202));
    let client = client(config(&server.url()));
    let ids = runs(&client, 3);
    assert!(client.flush_blocking(WAIT));
    let recs = server.ingest_records();
    assert_eq!(recs.len(), 1, "409 is not retried");
    assert_each_once(&server, &ids);
    let s = client.stats();
    assert_eq!((s.sent, s.retried, s.dropped()), (3, 0, 0));
}

#[test]
fn client_errors_are_dropped_without_retry() {
    let server = TestServer::start();
    server.script(vec![Reply::Status(400)], Reply::Status(202));
    let mut cfg = config(&server.url());
    cfg.exporter.batch_interval = Duration::from_secs(30);
    let client = client(cfg);
    runs(&client, 4);
    assert!(
        client.flush_blocking(WAIT),
        "a rejected batch completes the flush"
    );
    assert_eq!(server.ingest_records().len(), 1, "400 is not retried");
    let s = client.stats();
    assert_eq!(
        (
            s.sent,
            s.dropped_rejected,
            s.retried,
            s.failed_requests,
            s.pending
        ),
        (0, 4, 0, 1, 0)
    );
    // The exporter goes on with later runs.
    let later = runs(&client, 2);
    assert!(client.flush_blocking(WAIT));
    assert_each_once(&server, &later);
    assert_eq!(client.stats().sent, 2);
}

#[test]
fn unauthorized_is_dropped_and_the_key_is_only_sent_where_configured() {
    let server = TestServer::start();
    server.respond(|_| Reply::Status(401));
    let mut cfg = config(&server.url());
    cfg.api_key = Some(ApiKey::new("lsv2_not_valid"));
    cfg.workspace_id = Some("ws-1".into());
    let client = client(cfg);
    runs(&client, 2);
    assert!(client.flush_blocking(WAIT));
    let r = &server.ingest_records()[0];
    assert_eq!(r.header("x-api-key"), Some("lsv2_not_valid"));
    assert_eq!(r.header("x-tenant-id"), Some("ws-1"));
    assert_eq!(client.stats().dropped_rejected, 2);
}

#[test]
fn too_large_splits_the_batch_and_drops_a_single_oversized_run() {
    let server = TestServer::start();
    // 413 for any request with a run whose inputs are big, or with > 2 runs.
    server.respond(|r| {
        let big = r.parts.iter().any(|p| p.body.len() > 10_000);
        if big || post_ids(r).len() > 2 {
            Reply::Status(413)
        } else {
            Reply::Status(202)
        }
    });
    let mut cfg = config(&server.url());
    cfg.exporter.batch_interval = Duration::from_secs(30);
    let client = client(cfg);
    let mut ids = runs(&client, 4);
    let huge = RunTree::new("huge")
        .client(client.clone())
        .inputs(&json!({"blob": "y".repeat(20_000)}))
        .start();
    let huge_id = huge.id().unwrap();
    huge.end();
    ids.extend(runs(&client, 3));
    assert!(client.flush_blocking(WAIT));
    let posts = server.posts_by_id();
    assert!(!posts.contains_key(&huge_id.to_string()));
    for id in &ids {
        assert_eq!(posts.get(&id.to_string()), Some(&1), "{id}");
    }
    let s = client.stats();
    assert_eq!(
        (s.sent, s.dropped_too_large, s.dropped(), s.pending),
        (7, 1, 1, 0)
    );
    // The oversized run was tried alone once, not forever.
    let alone = server
        .ingest_records()
        .iter()
        .filter(|r| post_ids(r) == [huge_id.to_string()])
        .count();
    assert_eq!(alone, 1);
}

#[test]
fn not_found_falls_back_to_runs_batch_and_feedback() {
    let server = TestServer::start();
    server.respond(|r| {
        if r.path == "/runs/multipart" {
            Reply::Status(404)
        } else {
            Reply::Status(200)
        }
    });
    let mut cfg = config(&server.url());
    cfg.exporter.batch_interval = Duration::from_secs(30);
    let client = client(cfg);
    let mut run = RunTree::new("a")
        .client(client.clone())
        .inputs(&json!({"x": 1}))
        .start();
    let a = run.id().unwrap();
    run.post();
    let fb = Feedback::new(a, "k").score(0.5);
    let fb_id = fb.id;
    client.create_feedback(fb);
    assert!(client.flush_blocking(WAIT));
    run.end_with_outputs(&json!({"y": 2}));
    assert!(client.flush_blocking(WAIT));
    let recs = server.ingest_records();
    let paths: Vec<&str> = recs.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        ["/runs/multipart", "/runs/batch", "/feedback", "/runs/batch"],
        "fallback remembered"
    );
    let first: serde_json::Value = serde_json::from_slice(&recs[1].body).unwrap();
    assert_eq!(first["post"][0]["id"], a.to_string());
    assert_eq!(first["post"][0]["inputs"], json!({"x": 1}));
    assert_eq!(first["patch"], json!([]));
    assert_eq!(recs[1].header("content-type"), Some("application/json"));
    assert_eq!(recs[1].header("x-api-key"), Some("test-key"));
    let fbj: serde_json::Value = serde_json::from_slice(&recs[2].body).unwrap();
    assert_eq!(fbj["id"], fb_id.to_string());
    let second: serde_json::Value = serde_json::from_slice(&recs[3].body).unwrap();
    assert_eq!(second["patch"][0]["id"], a.to_string());
    assert_eq!(second["patch"][0]["outputs"], json!({"y": 2}));
    let s = client.stats();
    assert_eq!((s.sent, s.dropped(), s.failed_requests), (3, 0, 0));
}

#[test]
fn slow_server_times_out_and_is_retried() {
    let server = TestServer::start();
    server.script(
        vec![Reply::Delay(
            Duration::from_secs(3),
            Box::new(Reply::Status(202)),
        )],
        Reply::Status(202),
    );
    let mut cfg = config(&server.url());
    cfg.exporter.request_timeout = Duration::from_millis(500);
    let client = client(cfg);
    let ids = runs(&client, 2);
    assert!(client.flush_blocking(WAIT));
    // The slow answer may still be recorded as 202 when it finally comes,
    // but the client gave up on it and sent again.
    let s = client.stats();
    assert_eq!((s.sent, s.dropped(), s.retried), (2, 0, 1));
    let attempts = server.ingest_records().len();
    assert!(attempts >= 1);
    let _ = ids;
}
