//! Shared helpers: an axum server on an ephemeral loopback port, clients
//! recording into a `MemorySink`, bounded waits.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use axum::Router;
use langsmith_core::{Client, Config, MemorySink, RunRecord, Uuid};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub const CALLER: &str = "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001";
pub const CALLER_ID: &str = "0193d5a2-0000-7000-8000-000000000001";

/// A client that records into `sink`; `tracing` as `LANGSMITH_TRACING`.
pub fn client(sink: &MemorySink, tracing: Option<bool>) -> Client {
    Client::builder()
        .config(Config::default())
        .tracing(tracing)
        .sink(sink.clone())
        .build()
}

/// A running server; aborted on drop.
pub struct Server {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Serves `app` on 127.0.0.1, an ephemeral port.
pub async fn serve(app: Router) -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let task = tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .unwrap();
    });
    Server { addr, task }
}

pub fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Waits (at most 10 s) until `sink` holds at least `n` finished runs.
pub async fn wait_for_runs(sink: &MemorySink, n: usize) -> Vec<RunRecord> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let runs: Vec<RunRecord> = sink
            .runs()
            .into_iter()
            .filter(|r| r.end_time.is_some())
            .collect();
        if runs.len() >= n || Instant::now() > deadline {
            return runs;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The run named `name` (exactly one).
pub fn named<'a>(runs: &'a [RunRecord], name: &str) -> &'a RunRecord {
    let found: Vec<_> = runs.iter().filter(|r| r.name == name).collect();
    assert_eq!(found.len(), 1, "one run named {name}: {runs:#?}");
    found[0]
}

pub fn uuid(s: &str) -> Uuid {
    s.parse().unwrap()
}

/// Duration of a run in milliseconds.
pub fn duration_ms(r: &RunRecord) -> f64 {
    (r.end_time.unwrap().as_micros() - r.start_time.as_micros()) as f64 / 1000.0
}
