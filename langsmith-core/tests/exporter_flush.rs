//! Flush and shutdown on every runtime shape: no runtime at all, a
//! `current_thread` runtime (also blocking its only thread), inside
//! `tokio::spawn` on a multi-thread runtime, from a `Drop` impl; and the
//! bounded, deterministic drain when the last client is dropped.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use langsmith_core::*;
use serde_json::json;
use std::time::{Duration, Instant};
use support::*;

const WAIT: Duration = Duration::from_secs(20);

/// A config whose batches only leave on a flush (or shutdown).
fn lazy_config(url: &str) -> Config {
    let mut c = config(url);
    c.exporter.batch_interval = Duration::from_secs(60);
    c
}

fn trace(client: &Client, n: usize) -> Vec<Uuid> {
    let root = RunTree::new("root").client(client.clone()).start();
    let mut ids = vec![root.id().unwrap()];
    for i in 0..n {
        let c = root.child("child").inputs(&json!({"i": i})).start();
        ids.push(c.id().unwrap());
        c.end();
    }
    root.end();
    ids
}

fn assert_delivered(server: &TestServer, ids: &[Uuid]) {
    let posts = server.posts_by_id();
    for id in ids {
        assert_eq!(posts.get(&id.to_string()), Some(&1), "{id}");
    }
}

#[test]
fn flush_from_sync_code_without_a_runtime() {
    assert!(tokio::runtime::Handle::try_current().is_err());
    let server = TestServer::start();
    let client = client(lazy_config(&server.url()));
    let ids = trace(&client, 5);
    assert!(client.flush_blocking(WAIT));
    assert_delivered(&server, &ids);
    assert_eq!(client.stats().pending, 0);
}

#[tokio::test(flavor = "current_thread")]
async fn flush_on_a_current_thread_runtime() {
    let server = TestServer::start();
    let client = client(lazy_config(&server.url()));
    let ids = trace(&client, 5);
    tokio::time::timeout(WAIT, client.flush())
        .await
        .expect("flush returned");
    assert_delivered(&server, &ids);
    // Blocking the runtime's only thread does not stop the exporter.
    let more = trace(&client, 3);
    assert!(client.flush_blocking(WAIT));
    assert_delivered(&server, &more);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flush_inside_tokio_spawn() {
    let server = TestServer::start();
    let client = client(lazy_config(&server.url()));
    let c = client.clone();
    let ids = tokio::spawn(async move {
        let ids = trace(&c, 5);
        tokio::time::timeout(WAIT, c.flush())
            .await
            .expect("flush returned");
        ids
    })
    .await
    .unwrap();
    assert_delivered(&server, &ids);
    // And concurrent flushes from several tasks.
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let c = client.clone();
        tasks.push(tokio::spawn(async move {
            let ids = trace(&c, 2);
            tokio::time::timeout(WAIT, c.flush())
                .await
                .expect("flush returned");
            ids
        }));
    }
    for t in tasks {
        let ids = t.await.unwrap();
        assert_delivered(&server, &ids);
    }
}

#[test]
fn flush_from_a_drop_impl() {
    struct EndsOnDrop {
        run: Option<Run>,
        client: Client,
    }
    impl Drop for EndsOnDrop {
        fn drop(&mut self) {
            if let Some(r) = self.run.take() {
                r.end();
            }
            assert!(self.client.flush_blocking(WAIT));
        }
    }
    let server = TestServer::start();
    let client = client(lazy_config(&server.url()));
    let run = RunTree::new("dropped").client(client.clone()).start();
    let id = run.id().unwrap();
    // Also inside a current_thread runtime's task.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let c = client.clone();
    rt.block_on(async move {
        let guard = EndsOnDrop {
            run: Some(run),
            client: c,
        };
        tokio::task::yield_now().await;
        drop(guard);
    });
    assert_delivered(&server, &[id]);
}

#[test]
fn flush_with_nothing_queued_is_immediate() {
    let server = TestServer::start();
    let client = client(config(&server.url()));
    let t = Instant::now();
    assert!(client.flush_blocking(WAIT));
    assert!(t.elapsed() < Duration::from_millis(50), "{:?}", t.elapsed());
    trace(&client, 1);
    assert!(client.flush_blocking(WAIT));
    let t = Instant::now();
    for _ in 0..100 {
        assert!(client.flush_blocking(WAIT));
    }
    assert!(
        t.elapsed() < Duration::from_millis(100),
        "{:?}",
        t.elapsed()
    );
}

#[test]
fn flush_on_drop_guard_delivers() {
    let server = TestServer::start();
    let client = client(lazy_config(&server.url()));
    let ids = {
        let _guard = client.flush_on_drop(WAIT);
        trace(&client, 3)
    };
    assert_delivered(&server, &ids);
}

/// Dropping the last client sends what is queued at once and stops.
#[test]
fn dropping_the_last_client_drains_the_queue() {
    let server = TestServer::start();
    let client = client(lazy_config(&server.url()));
    let ids = trace(&client, 10);
    let clone = client.clone();
    drop(client);
    assert!(
        server.ingest_records().is_empty(),
        "a clone keeps the exporter running"
    );
    let t = Instant::now();
    drop(clone);
    let took = t.elapsed();
    // Everything was delivered by the time drop returned.
    assert_delivered(&server, &ids);
    assert!(took < Duration::from_secs(2), "{took:?}");
}

/// With the endpoint down, dropping the last client gives up after
/// `shutdown_timeout`, not later.
#[test]
fn shutdown_is_bounded_when_the_endpoint_is_down() {
    for url in [refused_url(), {
        // A server that never answers in time.
        let s = TestServer::start();
        s.respond(|_| Reply::Delay(Duration::from_secs(30), Box::new(Reply::Status(202))));
        let url = s.url();
        std::mem::forget(s);
        url
    }] {
        let mut cfg = config(&url);
        cfg.exporter.shutdown_timeout = Duration::from_secs(1);
        let client = client(cfg);
        trace(&client, 3);
        std::thread::sleep(Duration::from_millis(200));
        let t = Instant::now();
        drop(client);
        let took = t.elapsed();
        assert!(took >= Duration::from_millis(700), "{url}: {took:?}");
        assert!(took < Duration::from_secs(3), "{url}: {took:?}");
    }
}

/// Empty queue: dropping does not wait for the shutdown timeout.
#[test]
fn shutdown_with_nothing_pending_is_immediate() {
    let mut cfg = config(&refused_url());
    cfg.exporter.shutdown_timeout = Duration::from_secs(10);
    let client = client(cfg);
    let t = Instant::now();
    drop(client);
    assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
}
