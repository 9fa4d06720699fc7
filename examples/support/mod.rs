//! Plumbing shared by the examples. Nothing here is needed to trace your own
//! code.
//!
//! For the offline examples (`quickstart`, `run_tree`, `continue_trace`):
//! where the runs go, and printing what arrived ([`Destination`]). Without
//! `LANGSMITH_API_KEY`, a LangSmith-compatible collector is started in this
//! process and the runs are printed from it as trees; with it, the runs go
//! to LangSmith (`LANGSMITH_ENDPOINT`, `LANGSMITH_PROJECT` as usual).
//!
//! For the services (`axum_service`, `actix_service`): waiting for Ctrl-C or
//! SIGTERM ([`shutdown_signal`]). For them and `client`: sending the last
//! runs before exiting ([`flush`]).

use langsmith::{Client, Config, Timestamp, Uuid, set_default_client};
use langsmith_collector::{Collector, CollectorHandle, StoredRun};
use std::collections::HashMap;
use std::error::Error;
use std::time::Duration;

/// How long to wait for the runs to be delivered before exiting.
const FLUSH_TIMEOUT: Duration = Duration::from_secs(30);

/// Where this example's runs go.
#[allow(dead_code)] // not every example uses it
pub struct Destination {
    collector: Option<CollectorHandle>,
    client: Client,
}

#[allow(dead_code)] // not every example uses it
impl Destination {
    /// Sends to LangSmith when `LANGSMITH_API_KEY` is set, otherwise to a
    /// collector started here (its runs in `project`). Either way the client
    /// starts traces (as with `LANGSMITH_TRACING=true`) and becomes the
    /// process-wide default client, the one the ambient APIs use.
    pub fn from_env(project: &str) -> Result<Self, Box<dyn Error>> {
        let remote = std::env::var_os("LANGSMITH_API_KEY").is_some()
            || std::env::var_os("LANGCHAIN_API_KEY").is_some();
        let (collector, client) = if remote {
            let client = Client::builder().tracing(Some(true)).build();
            println!(
                "sending runs to {} (project {:?})",
                client.config().endpoint,
                client.project()
            );
            (None, client)
        } else {
            let collector = Collector::builder().start()?;
            println!(
                "no LANGSMITH_API_KEY: sending runs to a local collector at {}",
                collector.url()
            );
            let client = Client::builder()
                .config(Config::default())
                .endpoint(collector.url())
                .api_key("local")
                .project(project)
                .tracing(Some(true))
                .build();
            (Some(collector), client)
        };
        set_default_client(client.clone());
        Ok(Destination { collector, client })
    }

    /// The client the runs go through.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Flushes, says how many runs were delivered, then prints each trace as
    /// a tree (local collector) or where to find it (LangSmith).
    pub fn finish(self, trace_ids: &[Uuid]) {
        if !self.client.flush_blocking(FLUSH_TIMEOUT) {
            eprintln!("warning: not everything was delivered within {FLUSH_TIMEOUT:?}");
        }
        let stats = self.client.stats();
        println!(
            "delivered {} runs/feedback, dropped {}",
            stats.sent,
            stats.dropped()
        );
        let Some(collector) = self.collector else {
            for id in trace_ids {
                println!(
                    "trace {id}: open it in LangSmith, project {:?}",
                    self.client.project()
                );
            }
            return;
        };
        for &id in trace_ids {
            print_trace(&collector, id);
        }
        collector.shutdown();
    }
}

/// Resolves on Ctrl-C or SIGTERM. The handlers are installed by this call,
/// not when the future is first polled.
#[allow(dead_code)] // not every example uses it
pub fn shutdown_signal() -> std::io::Result<impl Future<Output = ()> + Send + 'static> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            let name = tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            };
            println!("{name}: finishing the requests in flight");
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            println!("Ctrl-C: finishing the requests in flight");
        })
    }
}

/// Sends the runs still queued, waiting at most `timeout`, then prints how
/// many were delivered and dropped.
#[allow(dead_code)] // not every example uses it
pub async fn flush(client: &Client, timeout: Duration) {
    if tokio::time::timeout(timeout, client.flush()).await.is_err() {
        eprintln!("warning: runs still undelivered after {timeout:?} are lost");
    }
    let stats = client.stats();
    println!(
        "flushed: {} runs delivered, {} dropped",
        stats.sent,
        stats.dropped()
    );
}

/// The client a service example traces with: the process-wide default
/// client (configured from `LANGSMITH_*`), or, with `BENCH_DISCARD_RUNS=true`,
/// one whose runs are made exactly as usual and then dropped instead of
/// sent. `bench/compare.sh --wrk-variants discard` uses that to measure what
/// tracing costs the request path alone, without the export's CPU.
#[allow(dead_code)] // not every example uses it
pub fn service_client() -> Client {
    if std::env::var("BENCH_DISCARD_RUNS").as_deref() != Ok("true") {
        return langsmith::default_client();
    }
    eprintln!("BENCH_DISCARD_RUNS=true: runs are made, then dropped (not sent)");
    let client = Client::builder().sink(Discard::default()).build();
    set_default_client(client.clone());
    client
}

/// Drops what it is given, counting the runs; for [`service_client`].
#[derive(Default)]
struct Discard {
    runs: std::sync::atomic::AtomicU64,
}

impl langsmith::Sink for Discard {
    fn submit(&self, op: langsmith::RunOp) {
        if matches!(op, langsmith::RunOp::Create(_)) {
            self.runs.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }
    fn flush(&self) -> langsmith::Completion {
        let runs = self.runs.load(std::sync::atomic::Ordering::Relaxed);
        println!("discarded: {runs} runs made and dropped");
        langsmith::Completion::done()
    }
}

/// Prints one trace as an indented tree: name, run type, duration, error;
/// then the feedback left on its runs.
fn print_trace(collector: &CollectorHandle, trace_id: Uuid) {
    let runs = collector.trace(trace_id);
    println!("\ntrace {trace_id} ({} runs)", runs.len());
    let mut children: HashMap<Option<Uuid>, Vec<&StoredRun>> = HashMap::new();
    for run in &runs {
        children.entry(run.parent_run_id).or_default().push(run);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| a.dotted_order.cmp(&b.dotted_order));
    }
    let roots = children.get(&None).cloned().unwrap_or_default();
    for (i, root) in roots.iter().enumerate() {
        print_run(root, "", i + 1 == roots.len(), &children);
    }
    for fb in collector.feedback() {
        if fb.trace_id == Some(trace_id) || runs.iter().any(|r| Some(r.id) == fb.run_id) {
            println!("   feedback: {} = {}", fb.key, fb.score);
        }
    }
}

fn print_run(
    run: &StoredRun,
    prefix: &str,
    last: bool,
    children: &HashMap<Option<Uuid>, Vec<&StoredRun>>,
) {
    let micros = |t: &str| Timestamp::parse_rfc3339(t).map_or(0, Timestamp::as_micros);
    let duration = match &run.end_time {
        Some(end) => format!(
            "{:.1} ms",
            (micros(end) - micros(&run.start_time)) as f64 / 1000.0
        ),
        None => "running".to_string(),
    };
    let error = match &run.error {
        Some(e) => format!("  ERROR: {e}"),
        None => String::new(),
    };
    let branch = if last { "└─" } else { "├─" };
    println!(
        "{prefix}{branch} {} [{}] {duration}{error}",
        run.name, run.run_type
    );
    let kids = children.get(&Some(run.id)).cloned().unwrap_or_default();
    let prefix = format!("{prefix}{}", if last { "   " } else { "│  " });
    for (i, kid) in kids.iter().enumerate() {
        print_run(kid, &prefix, i + 1 == kids.len(), children);
    }
}
