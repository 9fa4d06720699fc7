//! The embedding API: start a collector in-process, query what it stored,
//! inject faults, stop it.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use uuid::Uuid;

use crate::fault::{Fault, Faults};
use crate::model::{StoredFeedback, StoredRun};
use crate::query;
use crate::record::{DEFAULT_MAX_RECORDED, RecordedRequest, RequestLog};
use crate::server::{AppState, Config, ServerThread, url_of};
use crate::store::{Store, StoreError};

/// The batch size the official SDKs use by default (20 MiB); `/info`
/// advertises it (or the body limit, if lower).
///
/// ```
/// assert_eq!(langsmith_collector::SDK_SIZE_LIMIT_BYTES, 20_971_520);
/// ```
pub const SDK_SIZE_LIMIT_BYTES: usize = 20 * 1024 * 1024;

/// The default request body limit: comfortably above what the SDKs send
/// ([`SDK_SIZE_LIMIT_BYTES`]).
///
/// ```
/// use langsmith_collector::{DEFAULT_BODY_LIMIT, SDK_SIZE_LIMIT_BYTES};
/// assert!(DEFAULT_BODY_LIMIT > SDK_SIZE_LIMIT_BYTES);
/// ```
pub const DEFAULT_BODY_LIMIT: usize = 32 * 1024 * 1024;

/// Why a collector could not start.
///
/// ```
/// use langsmith_collector::{Collector, Error};
/// let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
/// let err = Collector::builder().addr(taken.local_addr().unwrap()).start().unwrap_err();
/// assert!(matches!(err, Error::Bind(_)));
/// ```
#[derive(Debug)]
pub enum Error {
    /// The address could not be bound.
    Bind(std::io::Error),
    /// The database could not be opened or initialised.
    Storage(String),
    /// The server thread or its runtime could not start.
    Runtime(std::io::Error),
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Bind(e) => write!(f, "cannot bind the collector's address: {e}"),
            Self::Storage(e) => write!(f, "cannot open the database: {e}"),
            Self::Runtime(e) => write!(f, "cannot start the server: {e}"),
        }
    }
}

impl std::error::Error for Error {}

/// Entry point: `Collector::builder()…start()`.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let collector = langsmith_collector::Collector::builder().start()?;
/// assert!(collector.url().starts_with("http://127.0.0.1:"));
/// collector.shutdown();
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy)]
pub struct Collector;

impl Collector {
    /// A builder with the defaults: `127.0.0.1:0` (an ephemeral port),
    /// in-memory database, no API key, zstd advertised, 32 MiB body limit.
    ///
    /// ```
    /// let b = langsmith_collector::Collector::builder().zstd(false);
    /// # let _ = b;
    /// ```
    pub fn builder() -> CollectorBuilder {
        CollectorBuilder::default()
    }
}

/// Configures and starts a collector.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let dir = std::env::temp_dir().join(format!("lsc-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let c = langsmith_collector::Collector::builder()
///     .api_key(Some("k"))
///     .zstd(true)
///     .body_limit(8 << 20)
///     .db_path(dir.join("traces.sqlite"))
///     .start()?;
/// c.shutdown();
/// # std::fs::remove_dir_all(&dir)?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct CollectorBuilder {
    addr: SocketAddr,
    db_path: Option<PathBuf>,
    api_key: Option<String>,
    zstd: bool,
    body_limit: usize,
    max_recorded: usize,
}

impl Default for CollectorBuilder {
    fn default() -> Self {
        CollectorBuilder {
            addr: SocketAddr::from(([127, 0, 0, 1], 0)),
            db_path: None,
            api_key: None,
            zstd: true,
            body_limit: DEFAULT_BODY_LIMIT,
            max_recorded: DEFAULT_MAX_RECORDED,
        }
    }
}

impl CollectorBuilder {
    /// The address to listen on (default `127.0.0.1:0`: a free loopback port).
    ///
    /// ```
    /// let b = langsmith_collector::Collector::builder().addr("127.0.0.1:0".parse().unwrap());
    /// # let _ = b;
    /// ```
    pub fn addr(mut self, addr: SocketAddr) -> Self {
        self.addr = addr;
        self
    }

    /// Store in this SQLite file (created if missing, WAL mode) instead of memory.
    ///
    /// ```
    /// let b = langsmith_collector::Collector::builder().db_path("traces.sqlite");
    /// # let _ = b;
    /// ```
    pub fn db_path(mut self, path: impl Into<PathBuf>) -> Self {
        self.db_path = Some(path.into());
        self
    }

    /// Require this key in `x-api-key` on every route but `/` and `/health`
    /// (`None`: no check).
    ///
    /// ```
    /// let b = langsmith_collector::Collector::builder().api_key(Some("secret"));
    /// # let _ = b;
    /// ```
    pub fn api_key(mut self, key: Option<&str>) -> Self {
        self.api_key = key.map(str::to_owned);
        self
    }

    /// Whether `/info` tells SDKs they may send zstd-compressed bodies
    /// (`instance_flags.zstd_compression_enabled`). zstd bodies are accepted
    /// either way.
    ///
    /// ```
    /// let b = langsmith_collector::Collector::builder().zstd(false);
    /// # let _ = b;
    /// ```
    pub fn zstd(mut self, enabled: bool) -> Self {
        self.zstd = enabled;
        self
    }

    /// Largest request body accepted, in bytes (default 32 MiB); larger ones
    /// get 413. Decompressed bodies may be up to 4 times this.
    ///
    /// ```
    /// let b = langsmith_collector::Collector::builder().body_limit(1 << 20);
    /// # let _ = b;
    /// ```
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes.max(1024);
        self
    }

    /// How many requests [`CollectorHandle::requests`] keeps (default
    /// 10 000, oldest forgotten first); 0 records nothing, for long-running
    /// collectors.
    ///
    /// ```
    /// let b = langsmith_collector::Collector::builder().record_requests(0);
    /// # let _ = b;
    /// ```
    pub fn record_requests(mut self, max: usize) -> Self {
        self.max_recorded = max;
        self
    }

    /// Opens the database, binds the address and starts serving on a thread
    /// of its own (with its own tokio runtime), so it works from any
    /// context: plain `main`, inside a current-thread or multi-thread
    /// runtime, inside `tokio::spawn`.
    ///
    /// ```
    /// # fn main() -> Result<(), Box<dyn std::error::Error>> {
    /// let c = langsmith_collector::Collector::builder().start()?;
    /// assert_eq!(c.runs().len(), 0);
    /// # Ok(()) }
    /// ```
    pub fn start(self) -> Result<CollectorHandle, Error> {
        let listener = std::net::TcpListener::bind(self.addr).map_err(Error::Bind)?;
        let addr = listener.local_addr().map_err(Error::Bind)?;
        let store =
            Store::open(self.db_path.as_deref()).map_err(|e| Error::Storage(e.to_string()))?;
        let cfg = Config {
            api_key: self.api_key,
            zstd: self.zstd,
            body_limit: self.body_limit,
            decoded_limit: self.body_limit.saturating_mul(4),
            drain_cap: self.body_limit.saturating_mul(4).max(128 << 20),
            size_limit_bytes: SDK_SIZE_LIMIT_BYTES.min(self.body_limit),
        };
        let state = AppState {
            store: store.clone(),
            cfg: Arc::new(cfg),
            faults: Arc::new(Faults::default()),
            requests: Arc::new(RequestLog::new(self.max_recorded)),
            attachment_token: Arc::from(Uuid::new_v4().simple().to_string()),
        };
        let faults = state.faults.clone();
        let requests = state.requests.clone();
        let server = match ServerThread::spawn(listener, state) {
            Ok(s) => s,
            Err(e) => {
                store.close();
                return Err(Error::Runtime(e));
            }
        };
        tracing::info!(
            "langsmith-collector listening on {} (db: {})",
            url_of(addr),
            self.db_path
                .as_ref()
                .map_or_else(|| "in memory".to_owned(), |p| p.display().to_string())
        );
        Ok(CollectorHandle {
            addr,
            store,
            faults,
            requests,
            server: Some(server),
        })
    }
}

/// A running collector. Dropping it stops the server and closes the database.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// use std::time::Duration;
/// let c = langsmith_collector::Collector::builder().start()?;
/// // Point an SDK at c.url(), e.g. LANGSMITH_ENDPOINT, then:
/// let runs = c.wait_for_runs(0, Duration::from_millis(10));
/// assert!(runs.is_empty());
/// # Ok(()) }
/// ```
pub struct CollectorHandle {
    addr: SocketAddr,
    store: Store,
    faults: Arc<Faults>,
    requests: Arc<RequestLog>,
    server: Option<ServerThread>,
}

impl std::fmt::Debug for CollectorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CollectorHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

fn logged<T: Default>(r: Result<T, StoreError>) -> T {
    r.unwrap_or_else(|e| {
        tracing::error!("collector read failed: {e}");
        T::default()
    })
}

impl CollectorHandle {
    /// The base URL, e.g. `http://127.0.0.1:40123` (use as `LANGSMITH_ENDPOINT`).
    ///
    /// ```
    /// # let c = langsmith_collector::Collector::builder().start().unwrap();
    /// assert_eq!(c.url(), format!("http://{}", c.addr()));
    /// ```
    pub fn url(&self) -> String {
        url_of(self.addr)
    }

    /// The address the collector listens on.
    ///
    /// ```
    /// # let c = langsmith_collector::Collector::builder().start().unwrap();
    /// assert!(c.addr().ip().is_loopback());
    /// ```
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Every stored run, in the order first received. (A database error is
    /// logged and yields an empty list.)
    ///
    /// ```
    /// # let c = langsmith_collector::Collector::builder().start().unwrap();
    /// assert!(c.runs().is_empty());
    /// ```
    pub fn runs(&self) -> Vec<StoredRun> {
        logged(self.store.read(query::all_runs))
    }

    /// One stored run.
    ///
    /// ```
    /// # let c = langsmith_collector::Collector::builder().start().unwrap();
    /// assert!(c.run(uuid::Uuid::nil()).is_none());
    /// ```
    pub fn run(&self, id: Uuid) -> Option<StoredRun> {
        logged(self.store.read(move |c| query::get_run(c, id)))
    }

    /// The runs of one trace, ordered by dotted order (parents before children).
    ///
    /// ```
    /// # let c = langsmith_collector::Collector::builder().start().unwrap();
    /// assert!(c.trace(uuid::Uuid::nil()).is_empty());
    /// ```
    pub fn trace(&self, trace_id: Uuid) -> Vec<StoredRun> {
        logged(self.store.read(move |c| query::trace_runs(c, trace_id)))
    }

    /// The bytes of a run's attachment, when they were stored (by this
    /// version of the collector). Also served over HTTP at
    /// `/attachments/{run_id}/{name}` (the runs' `s3_urls`).
    ///
    /// ```
    /// # let c = langsmith_collector::Collector::builder().start().unwrap();
    /// assert!(c.attachment_bytes(uuid::Uuid::nil(), "image").is_none());
    /// ```
    pub fn attachment_bytes(&self, run_id: Uuid, name: &str) -> Option<Vec<u8>> {
        let name = name.to_owned();
        logged(
            self.store
                .read(move |c| query::attachment_data(c, run_id, &name)),
        )
        .map(|(_, data)| data)
    }

    /// All stored feedback, oldest first.
    ///
    /// ```
    /// # let c = langsmith_collector::Collector::builder().start().unwrap();
    /// assert!(c.feedback().is_empty());
    /// ```
    pub fn feedback(&self) -> Vec<StoredFeedback> {
        logged(
            self.store
                .read(|c| query::feedback(c, &[], &[], i64::MAX as usize, 0)),
        )
    }

    /// Waits until at least `n` runs with an end time are stored, or
    /// `timeout` passes; returns every stored run either way.
    ///
    /// ```
    /// # let c = langsmith_collector::Collector::builder().start().unwrap();
    /// let runs = c.wait_for_runs(1, std::time::Duration::from_millis(50));
    /// assert!(runs.is_empty()); // timed out: nothing was sent
    /// ```
    pub fn wait_for_runs(&self, n: usize, timeout: Duration) -> Vec<StoredRun> {
        let deadline = Instant::now() + timeout;
        loop {
            let ended = logged(self.store.read(query::count_ended));
            if ended >= n || Instant::now() >= deadline {
                return self.runs();
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// The requests received so far (at most the last 10 000, see
    /// [`CollectorBuilder::record_requests`]), oldest first.
    ///
    /// ```
    /// # let c = langsmith_collector::Collector::builder().start().unwrap();
    /// assert!(c.requests().is_empty());
    /// ```
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.requests.all()
    }

    /// Forgets the recorded requests.
    ///
    /// ```
    /// # let c = langsmith_collector::Collector::builder().start().unwrap();
    /// c.clear_requests();
    /// ```
    pub fn clear_requests(&self) {
        self.requests.clear();
    }

    /// Injects `fault` into each of the next `n` ingest requests (queued
    /// after faults already scheduled).
    ///
    /// ```
    /// # let c = langsmith_collector::Collector::builder().start().unwrap();
    /// c.fail_next(3, langsmith_collector::Fault::Status { code: 429, retry_after: Some(1) });
    /// ```
    pub fn fail_next(&self, n: usize, fault: Fault) {
        self.faults.fail_next(n, fault);
    }

    /// Injects `fault` into every ingest request once the queue of
    /// [`fail_next`](Self::fail_next) faults is empty; `None` turns it off.
    ///
    /// ```
    /// # let c = langsmith_collector::Collector::builder().start().unwrap();
    /// c.set_fault(Some(langsmith_collector::Fault::Drop));
    /// c.set_fault(None);
    /// ```
    pub fn set_fault(&self, fault: Option<Fault>) {
        self.faults.set(fault);
    }

    /// Removes every scheduled fault.
    ///
    /// ```
    /// # let c = langsmith_collector::Collector::builder().start().unwrap();
    /// c.clear_faults();
    /// ```
    pub fn clear_faults(&self) {
        self.faults.clear();
    }

    /// How many faults were injected so far.
    ///
    /// ```
    /// # let c = langsmith_collector::Collector::builder().start().unwrap();
    /// assert_eq!(c.faults_injected(), 0);
    /// ```
    pub fn faults_injected(&self) -> u64 {
        self.faults.injected()
    }

    /// Stops the server (in-flight requests get up to 3 s), commits what is
    /// queued and closes the database. Dropping the handle does the same.
    ///
    /// ```
    /// # let c = langsmith_collector::Collector::builder().start().unwrap();
    /// c.shutdown();
    /// ```
    pub fn shutdown(mut self) {
        self.stop();
    }

    fn stop(&mut self) {
        if let Some(mut s) = self.server.take() {
            s.stop();
            self.store.close();
        }
    }
}

impl Drop for CollectorHandle {
    fn drop(&mut self) {
        self.stop();
    }
}
