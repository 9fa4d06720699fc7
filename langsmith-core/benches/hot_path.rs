//! The hot path: create + end + enqueue of one run, through the real
//! background exporter pointed at a local null server (202 to everything,
//! started here on a background thread). Only the caller's side is timed;
//! every 10,000 runs there is an (untimed) flush, so the queue never fills
//! and nothing is dropped (checked at the end). A run into a sink that
//! discards is measured too, as the baseline without the exporter.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{Criterion, criterion_group, criterion_main};
use langsmith_core::{ApiKey, Client, Completion, Config, Feedback, RunOp, RunTree, Sink, uuid7};
use serde_json::json;
use std::hint::black_box;
use std::time::{Duration, Instant};

/// A server answering 202 `{}` to everything, on its own thread: a minimal
/// HTTP/1.1 keep-alive loop that reads each request (headers and
/// `Content-Length` body) in full before answering.
fn null_server() -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { continue };
                tokio::spawn(async move {
                    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
                    let mut chunk = vec![0u8; 64 * 1024];
                    loop {
                        // Headers.
                        let head_end = loop {
                            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                                break p + 4;
                            }
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        };
                        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        while buf.len() < head_end + len {
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        black_box(&buf[head_end..head_end + len]);
                        buf.drain(..head_end + len);
                        let resp = b"HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
                        if sock.write_all(resp).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
    });
    format!("http://{addr}")
}

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

struct Discard;

impl Sink for Discard {
    fn submit(&self, op: RunOp) {
        black_box(op);
    }
    fn flush(&self) -> Completion {
        Completion::done()
    }
}

fn hot_path(c: &mut Criterion) {
    if let Ok(n) = std::env::var("HOT_PATH_PROFILE") {
        return profile(n.parse().unwrap_or(100_000));
    }
    let mut cfg = Config::default();
    cfg.endpoint = null_server();
    cfg.api_key = Some(ApiKey::new("bench"));
    let client = Client::builder().config(cfg).build();
    let small = json!({"question": "What is 2 + 2?"});
    let big = json!({"text": "x".repeat(4096)});

    let discard = Client::builder()
        .config(Config::default())
        .sink(Discard)
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
    cfg.endpoint = null_server();
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
