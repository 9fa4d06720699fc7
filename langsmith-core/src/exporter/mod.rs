//! The background exporter: ships runs to LangSmith without ever blocking
//! or failing the caller.
//!
//! - [`queue`]: what callers touch — a bounded inbox (by runs and by
//!   estimated bytes, caps shared with everything held for retry), sequence
//!   numbers, flush waiters, counters. `submit` never blocks.
//! - [`worker`]: a dedicated thread with its own `current_thread` runtime
//!   that batches, sends, retries and completes flushes. One request per
//!   destination at a time; while full batches wait (a backlog), up to
//!   `ExporterSettings::max_in_flight` at once; after a failure, one at a
//!   time again until a request gets through.
//! - [`batch`]: per-destination queues with create+update merging.
//! - [`multipart`]: the request bodies, laid out like the Python SDK's.
//! - [`transport`]: HTTP, `/info`, outcomes, `Retry-After`, backoff.
//! - [`remap`]: replica ids (XXH3-based, identical to the Python SDK's).
//!
//! Flush: every accepted op gets a sequence number; the worker publishes the
//! watermark below which everything is resolved (delivered or dropped), and
//! a flush completes when the watermark passes the number given out last
//! before it was called.
//!
//! Shutdown: when the last handle (the last [`crate::Client`] clone) is
//! dropped, the worker sends what is queued at once, for at most
//! `ExporterSettings::shutdown_timeout`, then drops and counts the rest and
//! stops; the drop waits for that (and returns at once when nothing is
//! pending).

mod batch;
mod multipart;
mod queue;
mod remap;
mod transport;
mod worker;

use crate::config::Config;
use crate::sink::{Completion, RunOp, Sink};
use queue::Shared;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread::ThreadId;
use std::time::Duration;
use transport::Destination;

/// Starts the exporter for `config` on its own thread.
pub(crate) fn start(config: &Config) -> Arc<dyn Sink> {
    Arc::new(Exporter::start(config))
}

/// Where runs go: each replica endpoint (with its own key and project) when
/// `LANGSMITH_RUNS_ENDPOINTS` names any — and then not the default endpoint,
/// as the Python SDK does — else the configured endpoint. A replica whose
/// project differs from a run's own gets the run under ids derived from that
/// project (see [`remap`]), again like the Python SDK.
fn destinations(config: &Config) -> Vec<Destination> {
    if config.replicas.is_empty() {
        vec![Destination::new(
            &config.endpoint,
            config.api_key.as_ref(),
            config.workspace_id.as_deref(),
            None,
        )]
    } else {
        config
            .replicas
            .iter()
            .map(|r| Destination::new(&r.api_url, r.api_key.as_ref(), None, r.project_name.clone()))
            .collect()
    }
}

/// The destinations a build without TLS (`default-features = false` and
/// neither `rustls` nor `native-tls`) cannot reach: the `https` ones. Said
/// once when the exporter starts, rather than only in every failed send.
fn https_without_tls(dests: &[Destination], has_tls: bool) -> impl Iterator<Item = &str> {
    dests.iter().map(|d| d.base.as_str()).filter(move |url| {
        !has_tls
            && url
                .trim_start()
                .get(..6)
                .is_some_and(|s| s.eq_ignore_ascii_case("https:"))
    })
}

/// Exporters alive in this process (each is a thread with its own runtime
/// and connections).
static LIVE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
/// Above this many at once, clients are most likely being built per call.
const MANY_EXPORTERS: usize = 16;
static MANY: crate::RateLimited = crate::RateLimited::new(60);

/// Counts one live exporter (see [`LIVE`]) while it exists.
#[derive(Debug)]
struct Live;

impl Live {
    fn new() -> Live {
        warn_if_many(LIVE.fetch_add(1, Ordering::Relaxed) + 1, &MANY);
        Live
    }
}

/// Warns (through `limiter`) when `n` exporters alive is too many.
fn warn_if_many(n: usize, limiter: &crate::RateLimited) {
    if n <= MANY_EXPORTERS {
        return;
    }
    limiter.log(|suppressed| {
        tracing::warn!(
            exporters = n,
            suppressed,
            "LangSmith: {n} clients with their own exporter are alive; each has a thread \
             and its own connections. Build one Client and clone it (a clone is one \
             reference count) instead of building one per request"
        )
    });
}

impl Drop for Live {
    fn drop(&mut self) {
        LIVE.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The handle callers hold (through the client's `Arc<dyn Sink>`).
#[derive(Debug)]
pub(crate) struct Exporter {
    _live: Live,
    shared: Arc<Shared>,
    /// Done when the worker thread has finished.
    exited: Completion,
    worker: Option<ThreadId>,
    shutdown_timeout: Duration,
}

impl Exporter {
    pub(crate) fn start(config: &Config) -> Exporter {
        let settings = config.exporter.clone();
        let dests = destinations(config);
        const HAS_TLS: bool = cfg!(any(feature = "rustls", feature = "native-tls"));
        for endpoint in https_without_tls(&dests, HAS_TLS) {
            tracing::error!(
                endpoint,
                "LangSmith: this endpoint is https, but langsmith was built without TLS; \
                 enable the `rustls` (default) or `native-tls` feature, or runs sent there will fail"
            );
        }
        let shared = Arc::new(Shared::new(
            settings.queue_max_runs,
            settings.queue_max_bytes,
            dests.len(),
            settings.batch_max_runs,
        ));
        let (exited, exit_signal) = Completion::new();
        let shutdown_timeout = settings.shutdown_timeout;
        let worker_shared = shared.clone();
        let spawned = std::thread::Builder::new()
            .name("langsmith-exporter".into())
            .spawn(move || {
                let _exit_signal = exit_signal;
                run_worker(worker_shared, settings, dests);
            });
        let worker = match spawned {
            Ok(handle) => Some(handle.thread().id()),
            Err(e) => {
                tracing::error!(error = %e, "LangSmith: could not start the exporter thread; runs will be dropped");
                shared.worker_gone.store(true, Ordering::Release);
                None
            }
        };
        Exporter {
            _live: Live::new(),
            shared,
            exited,
            worker,
            shutdown_timeout,
        }
    }
}

fn run_worker(shared: Arc<Shared>, settings: crate::ExporterSettings, dests: Vec<Destination>) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .thread_name("langsmith-exporter")
        .build();
    let http = transport::http_client(settings.request_timeout);
    match (runtime, http) {
        (Ok(rt), Ok(http)) => {
            let worker = worker::Worker::new(shared.clone(), settings, http, dests);
            // A bug must not leave flushes waiting on a dead thread: catch it,
            // log it, and let callers see the exporter as stopped.
            let run = std::panic::AssertUnwindSafe(|| rt.block_on(worker.run()));
            if std::panic::catch_unwind(run).is_err() {
                tracing::error!(
                    "LangSmith: the exporter stopped after an internal error; runs will be dropped"
                );
            }
        }
        (Err(e), _) => {
            tracing::error!(error = %e, "LangSmith: could not start the exporter runtime; runs will be dropped")
        }
        (_, Err(e)) => {
            tracing::error!(error = %e, "LangSmith: could not build the HTTP client; runs will be dropped")
        }
    }
    shared.worker_gone.store(true, Ordering::Release);
    shared.release_all_waiters();
}

impl Sink for Exporter {
    fn submit(&self, op: RunOp) {
        self.shared.submit(op);
    }

    fn flush(&self) -> Completion {
        self.shared.flush()
    }

    fn stats(&self) -> crate::Stats {
        self.shared.stats()
    }
}

impl Drop for Exporter {
    fn drop(&mut self) {
        self.shared.shutdown.store(true, Ordering::Release);
        self.shared.notify.notify_one();
        if self.worker.is_some() && self.worker != Some(std::thread::current().id()) {
            // Bounded: the worker gives up at its own deadline.
            self.exited
                .wait_timeout(self.shutdown_timeout + Duration::from_millis(500));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{destinations, https_without_tls};
    use crate::{Config, ReplicaEndpoint};

    fn flagged(config: &Config, has_tls: bool) -> Vec<String> {
        let dests = destinations(config);
        https_without_tls(&dests, has_tls)
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn many_live_exporters_are_warned_about() {
        let limiter = crate::RateLimited::new(60);
        let ((), log) =
            crate::warn::capture_logs(|| super::warn_if_many(super::MANY_EXPORTERS, &limiter));
        assert_eq!(log, "");
        let ((), log) =
            crate::warn::capture_logs(|| super::warn_if_many(super::MANY_EXPORTERS + 1, &limiter));
        assert!(
            log.contains("17 clients with their own exporter are alive"),
            "{log}"
        );
        // Each exporter counts while it exists (other tests' can only add).
        let config = Config {
            endpoint: "http://127.0.0.1:9".into(),
            ..Config::default()
        };
        let exporters: Vec<_> = (0..3).map(|_| super::Exporter::start(&config)).collect();
        assert!(super::LIVE.load(std::sync::atomic::Ordering::Relaxed) >= 3);
        drop(exporters);
    }

    #[test]
    fn https_destinations_are_flagged_only_without_tls() {
        let mut config = Config::default(); // https://api.smith.langchain.com
        assert_eq!(flagged(&config, false), ["https://api.smith.langchain.com"]);
        assert!(flagged(&config, true).is_empty());
        config.endpoint = "http://127.0.0.1:1984/".into();
        assert!(flagged(&config, false).is_empty());
        // Replicas replace the endpoint; each is judged on its own URL.
        let replica = |url: &str| ReplicaEndpoint {
            api_url: url.into(),
            api_key: None,
            project_name: None,
        };
        config.replicas = vec![
            replica("HTTPS://eu.example/"),
            replica("http://10.0.0.1"),
            replica("httpsx"),
        ];
        assert_eq!(flagged(&config, false), ["HTTPS://eu.example"]);
        assert!(flagged(&config, true).is_empty());
    }
}
