//! Load harness: emits N traced runs (root + child pairs with small,
//! realistic inputs and outputs) as fast as the pipeline delivers them, to
//! the endpoint configured by the usual environment (`LANGSMITH_ENDPOINT`,
//! `LANGSMITH_API_KEY`, `LANGSMITH_PROJECT`), flushes, and prints runs/s end
//! to end and the peak RSS. Exits 0 only if every run was accepted.
//!
//! ```text
//! cargo run --release --example loadgen -- --runs 100000
//! ```
//! Without `LANGSMITH_ENDPOINT` it starts the local collector in-process.

use langsmith::*;
use std::time::{Duration, Instant};

fn arg(name: &str) -> Option<String> {
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == name {
            return args.next();
        }
        if let Some(v) = a.strip_prefix(&format!("{name}=")) {
            return Some(v.to_owned());
        }
    }
    None
}

/// Peak resident set size of this process, from /proc (Linux), in KiB.
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn main() -> std::process::ExitCode {
    let runs: u64 = arg("--runs")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let runs = runs + runs % 2; // root + child pairs
    let mut _local = None;
    let mut config = Config::from_env();
    if std::env::var_os("LANGSMITH_ENDPOINT").is_none() {
        match langsmith_collector::Collector::builder().start() {
            Ok(c) => {
                config.endpoint = c.url();
                config.api_key = Some(ApiKey::new("local"));
                _local = Some(c);
            }
            Err(e) => {
                eprintln!("could not start the local collector: {e}");
                return std::process::ExitCode::FAILURE;
            }
        }
    }
    let endpoint = config.endpoint.clone();
    let queue_cap = config.exporter.queue_max_runs as u64;
    let client = Client::builder().config(config).tracing(Some(true)).build();
    eprintln!("loadgen: {runs} runs to {endpoint}");

    let started = Instant::now();
    let mut emitted = 0u64;
    while emitted < runs {
        // Back-pressure: keep the queue below half its capacity so that
        // nothing is dropped; the rate is then what the pipeline delivers.
        while client.stats().pending > queue_cap / 2 {
            std::thread::sleep(Duration::from_micros(200));
        }
        for _ in 0..500 {
            if emitted >= runs {
                break;
            }
            let i = emitted;
            traceable("answer")
                .client(client.clone())
                .inputs(&serde_json::json!({"question": "What is the capital of France?", "i": i}))
                .call(|| {
                    traceable("retrieve")
                        .run_type(RunType::Retriever)
                        .inputs(&serde_json::json!({"query": "capital of France"}))
                        .call(|| vec!["Paris is the capital of France."])
                        .len()
                });
            emitted += 2;
        }
    }
    let produced = started.elapsed();
    let flushed = client.flush_blocking(Duration::from_secs(300));
    let elapsed = started.elapsed();
    let stats = client.stats();
    let rate = runs as f64 / elapsed.as_secs_f64();
    println!(
        "runs: {runs}  produced in {:.2}s  delivered in {:.2}s  rate: {:.0} runs/s  peak RSS: {} MiB",
        produced.as_secs_f64(),
        elapsed.as_secs_f64(),
        rate,
        peak_rss_kib().map_or("?".to_string(), |k| format!("{:.1}", k as f64 / 1024.0)),
    );
    println!("stats: {stats:?}");
    if flushed && stats.sent == runs && stats.dropped() == 0 {
        std::process::ExitCode::SUCCESS
    } else {
        eprintln!("loadgen: not every run was accepted (flushed: {flushed})");
        std::process::ExitCode::FAILURE
    }
}
