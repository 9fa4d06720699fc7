//! Issue 9, reliability: the real exporter against the real collector,
//! through every retryable fault (status codes from the collector's fault
//! injection; refused connections, resets in the middle of the body and
//! answers past the request timeout from `support/fault_proxy.rs`), through
//! permanent refusals, a dead endpoint for the whole test, and oversized
//! payloads. Counts are exact and by run id: what the collector stored, what
//! reached it on the wire (`requests()`), and `client.stats()`.
//!
//! The graceful-shutdown promise (SIGTERM with requests in flight) is
//! proven by `tests/examples.rs::services_trace_one_chain_and_shut_down_gracefully`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/fault_proxy.rs"]
mod fault_proxy;

use fault_proxy::{Action, FaultProxy, KeepAlive, logs};
use langsmith_collector::{Collector, CollectorHandle, Fault};
use langsmith_core::{Client, Config, ExporterSettings, RunTree, Stats, Uuid};
use langsmith_tower::{LangSmithLayer, ServerOptions};
use serde_json::json;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// Distinctive, so a leak into a log line cannot go unnoticed.
const KEY: &str = "lsv2_pt_reliability_k3y_0f_th1s_t3st";
const WAIT: Duration = Duration::from_secs(30);

fn init_logs() {
    logs::capture("langsmith_core=debug,langsmith_collector=warn,warn");
}

/// A client through the real exporter to `url`. Batches are cut by the
/// flush (a long batch interval), so each test knows how many requests a
/// round makes; short backoff keeps rounds quick.
fn client(url: &str, tune: impl FnOnce(&mut ExporterSettings)) -> Client {
    let mut cfg = Config::default();
    cfg.exporter.batch_interval = Duration::from_secs(10);
    cfg.exporter.max_backoff = Duration::from_millis(300);
    cfg.exporter.shutdown_timeout = Duration::from_millis(300);
    tune(&mut cfg.exporter);
    Client::builder()
        .config(cfg)
        .endpoint(url)
        .api_key(KEY)
        .tracing(Some(true))
        .build()
}

/// `n` finished root runs with `pad` bytes of input each.
fn make_runs(client: &Client, n: usize, pad: usize) -> Vec<Uuid> {
    (0..n)
        .map(|i| {
            let run = RunTree::new("r")
                .client(client.clone())
                .inputs(&json!({"i": i, "pad": "p".repeat(pad)}))
                .start();
            let id = run.id().unwrap();
            run.end_with_outputs(&json!({"ok": i}));
            id
        })
        .collect()
}

/// Accepted (2xx) requests that carried `post.{id}`.
fn deliveries(c: &CollectorHandle, id: Uuid) -> usize {
    let name = format!("post.{id}");
    c.requests()
        .iter()
        .filter(|r| r.status.is_some_and(|s| (200..300).contains(&s)))
        .filter(|r| r.part_names.contains(&name))
        .count()
}

/// Each id stored once, each delivered on the wire `wire` times, and
/// nothing else stored.
fn assert_each_stored(c: &CollectorHandle, ids: &[Uuid], wire: usize, case: &str) {
    let stored = c.wait_for_runs(ids.len(), WAIT);
    assert_eq!(stored.len(), ids.len(), "{case}: nothing else stored");
    for id in ids {
        assert!(c.run(*id).is_some(), "{case}: run {id} stored");
        assert_eq!(deliveries(c, *id), wire, "{case}: run {id} on the wire");
    }
}

/// The `endpoint` field of an exporter log line (with the space after it,
/// so that port 4000 does not match port 40001).
fn endpoint(url: &str) -> String {
    format!("endpoint={url} ")
}

fn counts(s: &Stats) -> (u64, u64, u64, u64) {
    (s.queued, s.sent, s.dropped(), s.pending)
}

/// One round: a fresh collector and client, `fault` on the next `times`
/// ingest requests, 5 runs, a flush; each run arrives once, the stats say
/// exactly how many attempts failed.
fn status_round(case: &str, fault: Fault, times: usize) -> Duration {
    let c = Collector::builder().start().unwrap();
    c.fail_next(times, fault);
    let client = client(&c.url(), |_| {});
    let t = Instant::now();
    let ids = make_runs(&client, 5, 100);
    assert!(client.flush_blocking(WAIT), "{case}: flush");
    let took = t.elapsed();
    assert_eq!(c.faults_injected(), times as u64, "{case}: faults injected");
    assert_each_stored(&c, &ids, 1, case);
    let s = client.stats();
    assert_eq!(counts(&s), (5, 5, 0, 0), "{case}: {s:?}");
    assert_eq!(
        (s.retried, s.failed_requests),
        (times as u64, times as u64),
        "{case}: {s:?}"
    );
    // Every attempt carried the same five runs; only the last was accepted.
    let ingest: Vec<_> = c
        .requests()
        .into_iter()
        .filter(|r| r.path == "/runs/multipart")
        .collect();
    assert_eq!(ingest.len(), times + 1, "{case}: attempts");
    took
}

#[test]
fn retryable_statuses_then_recovery_deliver_each_run_once() {
    init_logs();
    let mut figures = Vec::new();
    for code in [500u16, 502, 503, 504, 408, 425, 429] {
        let took = status_round(
            &format!("status {code}"),
            Fault::Status {
                code,
                retry_after: None,
            },
            2,
        );
        figures.push(format!("{code}: {} ms", took.as_millis()));
    }
    // 429 with Retry-After: 1 is honoured (twice: at least 2 s), not shortened
    // to the 300 ms backoff cap, and not exceeded by much.
    let took = status_round(
        "429 with Retry-After: 1",
        Fault::Status {
            code: 429,
            retry_after: Some(1),
        },
        2,
    );
    assert!(took >= Duration::from_millis(1950), "{took:?}");
    assert!(took < Duration::from_secs(10), "{took:?}");
    figures.push(format!("429+Retry-After:1: {} ms", took.as_millis()));
    // 503 with Retry-After too (the Python SDK's favourite under load).
    let took = status_round(
        "503 with Retry-After: 1",
        Fault::Status {
            code: 503,
            retry_after: Some(1),
        },
        1,
    );
    assert!(took >= Duration::from_millis(950), "{took:?}");
    eprintln!(
        "two failed attempts, then delivered: {}",
        figures.join(", ")
    );
}

#[test]
fn dropped_and_reset_connections_then_recovery_deliver_each_run_once() {
    init_logs();
    // The collector reads the body, then cuts the connection without answering.
    status_round("connection dropped before the answer", Fault::Drop, 2);

    // The proxy resets the connection half-way through the request body
    // (uncompressed, so the body is large).
    let c = Collector::builder().zstd(false).start().unwrap();
    let proxy = FaultProxy::start(c.addr());
    proxy.fail_next(3, Action::ResetMidBody);
    let client = client(&proxy.url(), |_| {});
    // 20 KB per run: the body is far larger than what the proxy reads.
    let ids = make_runs(&client, 5, 20_000);
    assert!(client.flush_blocking(WAIT));
    assert_eq!(proxy.count(|a| *a == Action::ResetMidBody), 3);
    assert_each_stored(&c, &ids, 1, "reset mid-body");
    let s = client.stats();
    assert_eq!(counts(&s), (5, 5, 0, 0), "{s:?}");
    assert_eq!((s.retried, s.failed_requests), (3, 3), "{s:?}");
    // The collector saw only the attempt that got through.
    let multipart = c
        .requests()
        .iter()
        .filter(|r| r.path == "/runs/multipart")
        .count();
    assert_eq!(multipart, 1);
    assert!(
        proxy
            .seen()
            .iter()
            .all(|s| s.body_len > 100_000 || s.method == "GET"),
        "the resets happened in the middle of a 100 KB body"
    );
}

#[test]
fn refused_connections_then_recovery_deliver_each_run_once() {
    init_logs();
    let c = Collector::builder().start().unwrap();
    let proxy = FaultProxy::start(c.addr());
    // Down before the client ever connects (its GET /info fails too).
    proxy.refuse();
    let client = client(&proxy.url(), |_| {});
    let mut ids = make_runs(&client, 5, 100);
    // Flush while down: waits, gives up at its own timeout, loses nothing.
    let t = Instant::now();
    assert!(!client.flush_blocking(Duration::from_millis(800)));
    assert!(t.elapsed() < Duration::from_secs(3));
    let down = client.stats();
    assert!(down.failed_requests >= 2, "{down:?}");
    assert_eq!((down.sent, down.dropped(), down.pending), (0, 0, 5));
    // More runs while down, then the listener comes back on the same port.
    ids.extend(make_runs(&client, 5, 100));
    let outage = Instant::now();
    proxy.accept();
    assert!(client.flush_blocking(WAIT));
    let recovered = outage.elapsed();
    assert_each_stored(&c, &ids, 1, "refused");
    let s = client.stats();
    assert_eq!(counts(&s), (10, 10, 0, 0), "{s:?}");
    assert_eq!(s.retried, s.failed_requests, "{s:?}");
    assert!(s.failed_requests >= 2, "{s:?}");
    // Backoff is capped at 300 ms here: delivered soon after the recovery.
    assert!(recovered < Duration::from_secs(5), "{recovered:?}");
    eprintln!(
        "refused: {} failed attempts, delivered {} ms after the listener came back",
        s.failed_requests,
        recovered.as_millis()
    );
    // The second flush went through the proxy: one accepted request, or two
    // when the first batch was already being retried as the new runs came.
    let accepted = c
        .requests()
        .iter()
        .filter(|r| r.path == "/runs/multipart" && r.status == Some(202))
        .count();
    assert!((1..=2).contains(&accepted), "{accepted}");
}

#[test]
fn answers_past_the_request_timeout_are_retried_and_each_run_is_stored_once() {
    init_logs();
    let tune = |s: &mut ExporterSettings| s.request_timeout = Duration::from_millis(1000);

    // A server that hangs: the request never reaches the collector; the
    // exporter gives up at 1 s and sends again.
    let c = Collector::builder().start().unwrap();
    let proxy = FaultProxy::start(c.addr());
    proxy.fail_next(1, Action::Hang(Duration::from_secs(4)));
    let client1 = client(&proxy.url(), tune);
    let ids = make_runs(&client1, 5, 100);
    let t = Instant::now();
    assert!(client1.flush_blocking(WAIT));
    let took = t.elapsed();
    assert!(took >= Duration::from_millis(950), "{took:?}");
    assert_each_stored(&c, &ids, 1, "hang");
    let s = client1.stats();
    assert_eq!(counts(&s), (5, 5, 0, 0), "{s:?}");
    assert_eq!((s.retried, s.failed_requests), (1, 1), "{s:?}");

    // A slow server that still does the work after the client gave up: the
    // batch reaches it twice (at-least-once delivery), and the collector
    // keeps one run per id, as LangSmith does.
    let c = Collector::builder().start().unwrap();
    let proxy = FaultProxy::start(c.addr());
    proxy.fail_next(1, Action::Delay(Duration::from_millis(2500)));
    let client2 = client(&proxy.url(), tune);
    let ids = make_runs(&client2, 5, 100);
    assert!(client2.flush_blocking(WAIT));
    let s = client2.stats();
    assert_eq!(counts(&s), (5, 5, 0, 0), "{s:?}");
    assert_eq!((s.retried, s.failed_requests), (1, 1), "{s:?}");
    // Wait for the late copy to land, then count.
    let deadline = Instant::now() + Duration::from_secs(10);
    while deliveries(&c, ids[0]) < 2 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_each_stored(&c, &ids, 2, "slow but processed");
}

/// An axum service with the layer; the handler answers its run's id.
fn service(rt: &tokio::runtime::Runtime, client: Client) -> SocketAddr {
    let app = axum::Router::new()
        .route(
            "/work",
            axum::routing::get(|| async {
                langsmith_core::current_run()
                    .map(|r| r.id().to_string())
                    .unwrap_or_default()
            }),
        )
        .layer(LangSmithLayer::with_options(
            ServerOptions::new().client(client),
        ));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move { axum::serve(listener, app).await });
    addr
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// `n` requests to `/work`: each answers 200 with its run id.
fn call(addr: SocketAddr, n: usize) -> Vec<Uuid> {
    let mut conn = KeepAlive::connect(addr);
    (0..n)
        .map(|_| {
            let (status, body) = conn.get("/work", &[]);
            assert_eq!(status, 200);
            Uuid::parse_str(std::str::from_utf8(&body).unwrap()).unwrap()
        })
        .collect()
}

#[test]
fn permanent_errors_drop_count_and_log_once_while_the_service_keeps_answering() {
    init_logs();
    let rt = runtime();
    for code in [400u16, 401, 403, 422] {
        let c = Collector::builder().start().unwrap();
        let url = c.url();
        c.set_fault(Some(Fault::Status {
            code,
            retry_after: None,
        }));
        let client = client(&url, |_| {});
        let addr = service(&rt, client.clone());
        // Two rounds of refused runs: the service answers every request.
        let first = call(addr, 10);
        assert!(
            client.flush_blocking(WAIT),
            "{code}: a refusal completes the flush"
        );
        let second = call(addr, 10);
        assert!(client.flush_blocking(WAIT));
        let s = client.stats();
        assert_eq!(
            (s.queued, s.sent, s.dropped_rejected, s.dropped(), s.pending),
            (20, 0, 20, 20, 0),
            "{code}: {s:?}"
        );
        assert_eq!(
            (s.retried, s.failed_requests),
            (0, 2),
            "{code}: not retried"
        );
        assert_eq!(c.faults_injected(), 2);
        for id in first.iter().chain(&second) {
            assert!(c.run(*id).is_none());
        }
        // Exactly one clear line for this endpoint and status, without the key.
        let lines = logs::lines_with(&["ERROR", "refused runs", &endpoint(&url)]);
        assert_eq!(lines.len(), 1, "{code}: {lines:#?}");
        let line = &lines[0];
        assert!(line.contains(&format!("status={code}")), "{line}");
        assert!(line.contains("dropped and not retried"), "{line}");
        assert!(line.contains("injected fault"), "server's answer: {line}");
        if code == 401 || code == 403 {
            assert!(line.contains("check LANGSMITH_API_KEY"), "{line}");
        }
        assert!(!line.contains(KEY));
        // The server recovers: the next runs are delivered, each once.
        c.clear_faults();
        let later = call(addr, 5);
        assert!(client.flush_blocking(WAIT));
        assert_each_stored(&c, &later, 1, &format!("after {code}"));
        assert_eq!(client.stats().sent, 5);
    }
    assert!(!logs::all().contains(KEY), "the API key is never logged");
    rt.shutdown_timeout(Duration::from_secs(1));
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i]
}

/// The endpoint is down for the whole test — refusing connections, or
/// accepting them and never answering — while a service takes 500 requests:
/// its latency is that of a service whose endpoint is healthy, measured in
/// the same run, interleaved; the queue never holds more than its cap and
/// every drop is counted.
#[test]
fn endpoint_down_does_not_slow_the_service_and_bounds_the_queue() {
    init_logs();
    const N: usize = 500;
    const CAP: usize = 100;
    let rt = runtime();
    let healthy_collector = Collector::builder().start().unwrap();
    let healthy = client(&healthy_collector.url(), |s| {
        s.batch_interval = Duration::from_millis(50);
    });
    // A port nothing listens on.
    let refused_url = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let a = l.local_addr().unwrap();
        drop(l);
        format!("http://{a}")
    };
    // A listener that is never accepted from: connections complete in the
    // backlog, requests are never answered (request_timeout stays 30 s).
    let black_hole = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let down_tune = |s: &mut ExporterSettings| {
        s.queue_max_runs = CAP;
        s.batch_interval = Duration::from_millis(50);
        s.shutdown_timeout = Duration::from_millis(100);
    };
    let refused = client(&refused_url, down_tune);
    let hanging = client(
        &format!("http://{}", black_hole.local_addr().unwrap()),
        down_tune,
    );
    let arms = [
        ("healthy", service(&rt, healthy.clone())),
        ("refused", service(&rt, refused.clone())),
        ("hanging", service(&rt, hanging.clone())),
    ];
    let mut conns: Vec<KeepAlive> = arms.iter().map(|(_, a)| KeepAlive::connect(*a)).collect();
    // Warm up (connections, first runs, /info).
    for conn in &mut conns {
        for _ in 0..20 {
            assert_eq!(conn.get("/work", &[]).0, 200);
        }
    }
    let mut lat: Vec<Vec<Duration>> = vec![Vec::with_capacity(N); arms.len()];
    let mut healthy_ids = Vec::with_capacity(N);
    let t0 = Instant::now();
    for i in 0..N {
        for (k, conn) in conns.iter_mut().enumerate() {
            let t = Instant::now();
            let (status, body) = conn.get("/work", &[]);
            lat[k].push(t.elapsed());
            assert_eq!(status, 200);
            if k == 0 {
                healthy_ids.push(Uuid::parse_str(std::str::from_utf8(&body).unwrap()).unwrap());
            }
        }
        if i % 100 == 99 {
            for c in [&refused, &hanging] {
                let s = c.stats();
                assert!(s.pending <= CAP as u64, "{s:?}");
            }
        }
    }
    let wall = t0.elapsed();
    let mut figures = Vec::new();
    let mut p50 = Vec::new();
    let mut p99 = Vec::new();
    for (k, (name, _)) in arms.iter().enumerate() {
        lat[k].sort();
        p50.push(percentile(&lat[k], 0.50));
        p99.push(percentile(&lat[k], 0.99));
        figures.push(format!(
            "{name}: p50 {:?} p99 {:?} max {:?}",
            p50[k],
            p99[k],
            lat[k][N - 1]
        ));
    }
    eprintln!("{N} requests per arm in {wall:?}: {}", figures.join("; "));
    for k in 1..arms.len() {
        let name = arms[k].0;
        assert!(
            p50[k] <= p50[0] * 3 + Duration::from_millis(2),
            "{name} p50 {:?} vs healthy {:?}",
            p50[k],
            p50[0]
        );
        // Absolute, so that a blocked request path (seconds: the hanging
        // endpoint never answers) cannot pass; three times the healthy p99
        // if the machine is so loaded that even the healthy arm is slow.
        let bound = Duration::from_millis(100).max(p99[0] * 3);
        assert!(p99[k] < bound, "{name} p99 {:?}, bound {bound:?}", p99[k]);
    }
    // Exact counts: 520 runs each; the down clients hold exactly their cap.
    let total = (N + 20) as u64;
    for (name, c) in [("refused", &refused), ("hanging", &hanging)] {
        let s = c.stats();
        assert_eq!(
            (s.queued, s.dropped_queue_full, s.pending, s.sent),
            (CAP as u64, total - CAP as u64, CAP as u64, 0),
            "{name}: {s:?}"
        );
    }
    assert!(refused.stats().failed_requests >= 1);
    // The healthy side delivered every run, each exactly once.
    assert!(healthy.flush_blocking(WAIT));
    let s = healthy.stats();
    assert_eq!(counts(&s), (total, total, 0, 0), "{s:?}");
    let stored = healthy_collector.wait_for_runs(total as usize, WAIT);
    assert_eq!(stored.len(), total as usize);
    for id in &healthy_ids {
        assert_eq!(deliveries(&healthy_collector, *id), 1, "{id}");
    }
    drop(conns);
    rt.shutdown_timeout(Duration::from_secs(1));
}

#[test]
fn batches_over_the_byte_limit_are_split_and_all_runs_arrive() {
    init_logs();
    const LIMIT: usize = 64 * 1024;
    let c = Collector::builder().zstd(false).start().unwrap();
    let client = client(&c.url(), |s| s.batch_max_bytes = LIMIT);
    let ids = make_runs(&client, 24, 10_000);
    assert!(client.flush_blocking(WAIT));
    assert_each_stored(&c, &ids, 1, "split");
    let sizes: Vec<usize> = c
        .requests()
        .iter()
        .filter(|r| r.path == "/runs/multipart")
        .map(|r| r.body_size)
        .collect();
    assert!(sizes.len() >= 4, "240 KB in 64 KB requests: {sizes:?}");
    assert!(sizes.iter().all(|n| *n <= LIMIT), "{sizes:?}");
    let s = client.stats();
    assert_eq!(counts(&s), (24, 24, 0, 0), "{s:?}");
    assert_eq!(s.failed_requests, 0);
}

fn big_run(client: &Client) -> Uuid {
    // 2 MiB of input: over the collector's 1 MiB body limit.
    let run = RunTree::new("huge")
        .client(client.clone())
        .inputs(&json!({"blob": "y".repeat(2 << 20)}))
        .start();
    let id = run.id().unwrap();
    run.end();
    id
}

/// The collector advertises its 1 MiB limit in `/info`: the exporter cuts
/// the oversized run into a request of its own, which is refused once (413)
/// and dropped with one log line; the runs around it arrive.
#[test]
fn a_run_over_the_server_limit_is_dropped_once_and_logged() {
    init_logs();
    let c = Collector::builder()
        .zstd(false)
        .body_limit(1 << 20)
        .start()
        .unwrap();
    let client = client(&c.url(), |_| {});
    let mut ids = make_runs(&client, 3, 1000);
    let huge = big_run(&client);
    ids.extend(make_runs(&client, 3, 1000));
    assert!(client.flush_blocking(WAIT), "not retried forever");
    assert_each_stored(&c, &ids, 1, "around the huge run");
    assert!(c.run(huge).is_none());
    let s = client.stats();
    assert_eq!(counts(&s), (7, 6, 1, 0), "{s:?}");
    assert_eq!(
        (s.dropped_too_large, s.failed_requests, s.retried),
        (1, 1, 0),
        "{s:?}"
    );
    let refused: Vec<_> = c
        .requests()
        .into_iter()
        .filter(|r| r.status == Some(413))
        .collect();
    assert_eq!(refused.len(), 1, "tried once");
    let lines = logs::lines_with(&[
        "ERROR",
        "larger than the server accepts",
        &endpoint(&c.url()),
    ]);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains(&huge.to_string()), "{}", lines[0]);
    assert!(!lines[0].contains(KEY));
}

/// A server that advertises no limit (`/info` 404, an older LangSmith):
/// the oversized run is sent with the others, the 413 splits the batch
/// until the run is alone, and only it is dropped.
#[test]
fn a_run_over_the_server_limit_in_a_shared_batch_is_split_out_and_dropped() {
    init_logs();
    let c = Collector::builder()
        .zstd(false)
        .body_limit(1 << 20)
        .start()
        .unwrap();
    let proxy = FaultProxy::start(c.addr());
    proxy.hide_info(true);
    let client = client(&proxy.url(), |_| {});
    let mut ids = make_runs(&client, 3, 1000);
    let huge = big_run(&client);
    ids.extend(make_runs(&client, 3, 1000));
    assert!(client.flush_blocking(WAIT), "not retried forever");
    assert_each_stored(&c, &ids, 1, "same batch as the huge run");
    assert!(c.run(huge).is_none());
    let too_large = c
        .requests()
        .iter()
        .filter(|r| r.status == Some(413))
        .count() as u64;
    let s = client.stats();
    assert_eq!(counts(&s), (7, 6, 1, 0), "{s:?}");
    assert_eq!(s.dropped_too_large, 1);
    assert_eq!(s.failed_requests, too_large, "{s:?}");
    // [7] → [3] ok + [huge, 3] → [huge, 1] → [huge]: four 413s in all.
    assert_eq!(too_large, 4);
    let lines = logs::lines_with(&[
        "ERROR",
        "larger than the server accepts",
        &endpoint(&proxy.url()),
    ]);
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert!(lines[0].contains(&huge.to_string()));
}

/// An endpoint (or something posing as one: a captive portal, a broken
/// proxy) that answers `GET /info` with an endless body: the exporter reads
/// a bounded amount, falls back to the defaults, and delivers the runs. It
/// must not hold the whole answer in memory (here up to 256 MiB, sent as
/// fast as loopback goes, well within the 5 s `/info` timeout).
#[test]
fn an_endless_info_answer_is_not_read_into_memory() {
    init_logs();
    const MAX: usize = 256 << 20;
    for declared in [false, true] {
        let c = Collector::builder().start().unwrap();
        let proxy = FaultProxy::start(c.addr());
        proxy.set_info(Some(Action::Endless { max: MAX, declared }));
        let client = client(&proxy.url(), |_| {});
        let ids = make_runs(&client, 3, 100);
        assert!(client.flush_blocking(WAIT));
        assert_each_stored(&c, &ids, 1, "after an endless /info");
        let s = client.stats();
        assert_eq!(counts(&s), (3, 3, 0, 0), "{s:?}");
        let taken = proxy.streamed();
        eprintln!(
            "endless /info (length declared: {declared}): {} KiB left the server",
            taken >> 10
        );
        // What the exporter read, plus what the sockets buffer.
        assert!(taken < 16 << 20, "read {} MiB of /info", taken >> 20);
    }
}

/// `Retry-After: 0` (or a date in the past) on every answer must not turn
/// retries into a busy loop against a struggling server: like the Python
/// SDK (urllib3), a zero `Retry-After` falls back to the backoff.
#[test]
fn retry_after_zero_still_backs_off() {
    init_logs();
    let c = Collector::builder().start().unwrap();
    c.set_fault(Some(Fault::Status {
        code: 503,
        retry_after: Some(0),
    }));
    let client = client(&c.url(), |_| {});
    let ids = make_runs(&client, 2, 100);
    assert!(!client.flush_blocking(Duration::from_secs(2)));
    let attempts = c.faults_injected();
    eprintln!("Retry-After: 0 for 2 s: {attempts} attempts");
    // Backoff from 125 ms, capped at 300 ms here: at most ~16 in 2 s.
    assert!(attempts <= 20, "{attempts} attempts in 2 s");
    c.clear_faults();
    assert!(client.flush_blocking(WAIT));
    assert_each_stored(&c, &ids, 1, "after Retry-After: 0");
    let s = client.stats();
    assert_eq!(counts(&s), (2, 2, 0, 0), "{s:?}");
    assert_eq!(s.retried, c.faults_injected(), "{s:?}");
}
