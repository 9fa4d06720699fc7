//! Volume: a burst of runs much larger than a batch goes through in full,
//! without spurious failed requests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use langsmith_core::*;
use serde_json::json;
use std::time::Duration;
use support::*;

#[test]
fn a_burst_of_twenty_thousand_runs_is_delivered_without_failures() {
    let server = TestServer::start();
    let client = client(config(&server.url()));
    for i in 0..20_000 {
        let run = RunTree::new("r")
            .client(client.clone())
            .inputs(&json!({"i": i}))
            .start();
        run.end();
    }
    assert!(client.flush_blocking(Duration::from_secs(60)));
    let s = client.stats();
    assert_eq!(
        (s.queued, s.sent, s.dropped(), s.pending),
        (20_000, 20_000, 0, 0),
        "{s:?}"
    );
    assert_eq!(s.failed_requests, 0, "{s:?}");
    let posts = server.posts_by_id();
    assert_eq!(posts.len(), 20_000);
    assert!(posts.values().all(|n| *n == 1));
}

/// Sends `n` runs to a server that answers each request after `delay`, and
/// returns (the most requests that overlapped, the time to deliver all).
fn backlog_against_slow_server(
    max_in_flight: usize,
    n: usize,
    delay: Duration,
) -> (usize, Duration) {
    let server = TestServer::start();
    server.respond(move |_| Reply::Delay(delay, Box::new(Reply::Status(202))));
    let mut cfg = config(&server.url());
    cfg.exporter.batch_max_runs = 100;
    cfg.exporter.max_in_flight = max_in_flight;
    let client = client(cfg);
    let start = std::time::Instant::now();
    for i in 0..n {
        RunTree::new("r")
            .client(client.clone())
            .inputs(&json!({"i": i}))
            .start()
            .end();
    }
    assert!(client.flush_blocking(Duration::from_secs(60)));
    let took = start.elapsed();
    let s = client.stats();
    assert_eq!(
        (s.sent, s.dropped(), s.failed_requests),
        (n as u64, 0, 0),
        "{s:?}"
    );
    let posts = server.posts_by_id();
    assert_eq!(posts.len(), n);
    assert!(posts.values().all(|c| *c == 1), "each run exactly once");
    // Each request is held for `delay` from its arrival: two overlapped when
    // they arrived less than `delay` apart.
    let mut arrivals: Vec<_> = server.ingest_records().iter().map(|r| r.at).collect();
    arrivals.sort();
    let overlap = (0..arrivals.len())
        .map(|i| {
            arrivals[i..]
                .iter()
                .take_while(|t| t.duration_since(arrivals[i]) < delay)
                .count()
        })
        .max()
        .unwrap_or(0);
    (overlap, took)
}

#[test]
fn a_backlog_is_sent_several_requests_at_a_time_to_a_slow_endpoint() {
    let delay = Duration::from_millis(300);
    // 20 full batches. One at a time that is 20 round trips (>= 6 s).
    let (overlap, took) = backlog_against_slow_server(4, 2_000, delay);
    eprintln!("4 in flight: at most {overlap} requests at once, delivered in {took:?}");
    assert!((2..=4).contains(&overlap), "{overlap} requests at once");
    assert!(took < delay * 20, "{took:?}");
    // The setting is honoured: one at a time.
    let (overlap, took) = backlog_against_slow_server(1, 600, delay);
    eprintln!("1 in flight: at most {overlap} requests at once, delivered in {took:?}");
    assert_eq!(overlap, 1);
    assert!(took >= delay * 6, "{took:?}");
}
