//! The client: configuration plus the handle to where runs are sent.

use crate::config::Config;
use crate::run::{Feedback, RunRecord};
use crate::sink::{RunOp, Sink};
use crate::{RunType, Stats};
use serde_json::{Map, Value};
use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;
use uuid::Uuid;

/// A redaction function applied to inputs, outputs or metadata before they
/// leave the process.
pub type RedactFn = Arc<dyn Fn(Value) -> Value + Send + Sync>;

/// What a trace rule sees about a root run that is about to start.
#[derive(Debug)]
#[non_exhaustive]
pub struct RootInfo<'a> {
    /// Run name.
    pub name: &'a str,
    /// Run type.
    pub run_type: RunType,
    /// Tags of the run.
    pub tags: &'a [String],
    /// Metadata of the run.
    pub metadata: &'a Map<String, Value>,
}

/// A rule deciding whether a new trace is recorded: `Some(true)` always,
/// `Some(false)` never, `None` to leave it to sampling.
pub type TraceRule = Arc<dyn Fn(&RootInfo<'_>) -> Option<bool> + Send + Sync>;

/// A LangSmith client: configuration and the sink runs are sent to (the
/// background exporter unless another is set). Cheap to clone.
///
/// ```
/// use langsmith_core::{Client, Config, MemorySink};
/// let sink = MemorySink::new();
/// let client = Client::builder().config(Config::default()).project("demo").sink(sink).build();
/// assert_eq!(client.project(), "demo");
/// ```
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<ClientInner>,
}

// A client's shared state is only changed through thread-safe operations that
// leave it consistent when a panic unwinds through them, so a client may
// cross `catch_unwind` (user closures stored in it are only ever called).
impl std::panic::UnwindSafe for Client {}
impl std::panic::RefUnwindSafe for Client {}

pub(crate) struct ClientInner {
    pub(crate) config: Config,
    pub(crate) project: Arc<str>,
    /// `config.agent_address` as its LRN: where new traces go instead of
    /// `project`.
    pub(crate) address: Option<Arc<str>>,
    sink: Arc<dyn Sink>,
    hide_inputs: Option<RedactFn>,
    hide_outputs: Option<RedactFn>,
    hide_metadata: Option<RedactFn>,
    pub(crate) rules: Vec<TraceRule>,
    pub(crate) runtime: Arc<Value>,
}

impl ClientInner {
    /// Where a new trace goes: `(project, address)`, the project empty when
    /// the client files by agent address.
    pub(crate) fn destination(&self) -> (Arc<str>, Option<Arc<str>>) {
        match &self.address {
            Some(a) => (
                crate::builder::empty_shared().project.clone(),
                Some(a.clone()),
            ),
            None => (self.project.clone(), None),
        }
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("endpoint", &self.inner.config.endpoint)
            .field("project", &self.inner.project)
            .field("api_key", &self.inner.config.api_key)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// A client configured from the environment, sending through the
    /// background exporter.
    ///
    /// ```
    /// let client = langsmith_core::Client::from_env();
    /// assert!(!client.project().is_empty());
    /// ```
    pub fn from_env() -> Self {
        Client::builder().build()
    }

    /// A builder, starting from the environment's configuration.
    ///
    /// ```
    /// let client = langsmith_core::Client::builder().sampling_rate(0.5).build();
    /// assert_eq!(client.config().sampling_rate, 0.5);
    /// ```
    pub fn builder() -> ClientBuilder {
        ClientBuilder {
            config: Config::from_env(),
            sink: None,
            hide_inputs: None,
            hide_outputs: None,
            hide_metadata: None,
            rules: Vec::new(),
        }
    }

    /// The configuration in force.
    ///
    /// ```
    /// # let client = langsmith_core::Client::builder().config(Default::default()).build();
    /// assert_eq!(client.config().endpoint, "https://api.smith.langchain.com");
    /// ```
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The default project of runs made through this client.
    ///
    /// ```
    /// # let client = langsmith_core::Client::builder().config(Default::default()).build();
    /// assert_eq!(client.project(), "default");
    /// ```
    pub fn project(&self) -> &str {
        &self.inner.project
    }

    /// Delivery statistics.
    ///
    /// ```
    /// # let client = langsmith_core::Client::builder().sink(langsmith_core::MemorySink::new()).build();
    /// assert_eq!(client.stats().dropped(), 0);
    /// ```
    pub fn stats(&self) -> Stats {
        self.inner.sink.stats()
    }

    /// Waits until everything submitted before the call has been delivered
    /// (or given up on). Safe on any runtime flavour and inside spawned tasks:
    /// the exporter runs on its own thread.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// # let client = langsmith_core::Client::builder().sink(langsmith_core::MemorySink::new()).build();
    /// client.flush().await;
    /// # }
    /// ```
    pub async fn flush(&self) {
        self.inner.sink.flush().wait().await
    }

    /// Blocks until everything submitted before the call has been delivered
    /// or `timeout` passes; returns whether it finished in time.
    ///
    /// ```
    /// # let client = langsmith_core::Client::builder().sink(langsmith_core::MemorySink::new()).build();
    /// assert!(client.flush_blocking(std::time::Duration::from_secs(1)));
    /// ```
    pub fn flush_blocking(&self, timeout: Duration) -> bool {
        self.inner.sink.flush().wait_timeout(timeout)
    }

    /// A guard that flushes (waiting at most `timeout`) when dropped, e.g. at
    /// the end of `main`.
    ///
    /// ```
    /// # let client = langsmith_core::Client::builder().sink(langsmith_core::MemorySink::new()).build();
    /// let _guard = client.flush_on_drop(std::time::Duration::from_secs(5));
    /// ```
    pub fn flush_on_drop(&self, timeout: Duration) -> FlushGuard {
        FlushGuard {
            client: self.clone(),
            timeout,
        }
    }

    /// Sends feedback on a run; the run id may be one chosen in advance.
    ///
    /// ```
    /// use langsmith_core::{Client, Feedback, MemorySink, uuid7};
    /// let sink = MemorySink::new();
    /// let client = Client::builder().sink(sink.clone()).build();
    /// client.create_feedback(Feedback::new(uuid7(), "correct").score(1.0));
    /// assert_eq!(sink.feedback()[0].key, "correct");
    /// ```
    pub fn create_feedback(&self, feedback: Feedback) {
        self.inner.sink.submit(RunOp::Feedback(Box::new(feedback)));
    }

    /// Whether a new trace (a root run) is recorded by default: tracing is on
    /// (`LANGSMITH_TRACING` or [`crate::set_tracing_enabled`]).
    pub(crate) fn starts_traces(&self) -> bool {
        match crate::global::tracing_override() {
            Some(on) => on,
            None => self.inner.config.tracing == Some(true),
        }
    }

    /// Whether tracing was switched off explicitly.
    pub(crate) fn tracing_forbidden(&self) -> bool {
        match crate::global::tracing_override() {
            Some(on) => !on,
            None => self.inner.config.tracing == Some(false),
        }
    }

    /// Head-based sampling of a new trace: deterministic in the trace id, so
    /// the same id always gets the same answer.
    pub(crate) fn sample(&self, trace_id: Uuid, info: &RootInfo<'_>) -> bool {
        for rule in &self.inner.rules {
            if let Some(decision) = rule(info) {
                return decision;
            }
        }
        sample_by_id(trace_id, self.inner.config.sampling_rate)
    }

    pub(crate) fn submit_run(&self, mut record: Box<RunRecord>, create: bool) {
        self.redact(&mut record);
        record
            .extra
            .runtime
            .get_or_insert_with(|| self.inner.runtime.clone());
        let op = if create {
            RunOp::Create(record)
        } else {
            RunOp::Update(record)
        };
        self.inner.sink.submit(op);
    }

    fn redact(&self, record: &mut RunRecord) {
        let inner = &self.inner;
        if let (Some(f), Some(inputs)) = (&inner.hide_inputs, &mut record.inputs) {
            *inputs = apply(f, inputs);
        }
        if let (Some(f), Some(outputs)) = (&inner.hide_outputs, &mut record.outputs) {
            *outputs = apply(f, outputs);
        }
        if let Some(f) = &inner.hide_metadata {
            let md = std::mem::take(&mut record.extra.metadata);
            record.extra.metadata = match f(Value::Object(md)) {
                Value::Object(m) => m,
                _ => Map::new(),
            };
        }
    }
}

fn apply(f: &RedactFn, payload: &crate::Payload) -> crate::Payload {
    let value: Value = serde_json::from_str(payload.get()).unwrap_or(Value::Null);
    let redacted = match f(value) {
        Value::Object(m) => Value::Object(m),
        Value::Null => Value::Object(Map::new()),
        other => serde_json::json!({ "output": other }),
    };
    crate::run::to_payload(&redacted, "output")
}

/// `true` for a fraction `rate` of all trace ids. The whole id is hashed:
/// a v7 id's low bits hold a counter, not only random bits, so they alone
/// would skew the rate.
pub(crate) fn sample_by_id(trace_id: Uuid, rate: f64) -> bool {
    if rate >= 1.0 {
        return true;
    }
    if rate <= 0.0 {
        return false;
    }
    let (hi, lo) = trace_id.as_u64_pair();
    // splitmix64 finaliser over both halves.
    let mut x = hi ^ lo.rotate_left(32);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    ((x >> 11) as f64) < rate * (1u64 << 53) as f64
}

/// Builds a [`Client`].
#[must_use]
pub struct ClientBuilder {
    config: Config,
    sink: Option<Arc<dyn Sink>>,
    hide_inputs: Option<RedactFn>,
    hide_outputs: Option<RedactFn>,
    hide_metadata: Option<RedactFn>,
    rules: Vec<TraceRule>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// Replaces the whole configuration (e.g. `Config::default()` to ignore the environment).
    ///
    /// ```
    /// let c = langsmith_core::Client::builder().config(Default::default()).build();
    /// assert_eq!(c.project(), "default");
    /// ```
    pub fn config(mut self, config: Config) -> Self {
        self.config = config;
        self
    }

    /// Sets the API key.
    ///
    /// ```
    /// let c = langsmith_core::Client::builder().api_key("k").build();
    /// assert_eq!(c.config().api_key.as_ref().unwrap().expose(), "k");
    /// ```
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.config.api_key = Some(crate::ApiKey::new(key));
        self
    }

    /// Sets the endpoint.
    ///
    /// ```
    /// let c = langsmith_core::Client::builder().endpoint("http://127.0.0.1:1984/").build();
    /// assert_eq!(c.config().endpoint, "http://127.0.0.1:1984");
    /// ```
    pub fn endpoint(mut self, url: impl Into<String>) -> Self {
        self.config.endpoint = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Sets the default project (and drops an agent address from the
    /// environment: a project named in code wins, as in the Python SDK).
    ///
    /// ```
    /// assert_eq!(langsmith_core::Client::builder().project("p").build().project(), "p");
    /// ```
    pub fn project(mut self, project: impl Into<String>) -> Self {
        self.config.project = project.into();
        self.config.agent_address = None;
        self
    }

    /// Files new traces under an agent address instead of a project (the
    /// Python SDK's `agent_address(id, environment)`; from the environment:
    /// `LANGSMITH_AGENT_ID` and `LANGSMITH_AGENT_ENVIRONMENT`). A run that
    /// names its own project still goes there.
    ///
    /// ```
    /// use langsmith_core::headers::{AgentAddress, AgentEnvironment};
    /// # use langsmith_core::*;
    /// let sink = MemorySink::new();
    /// let bot = AgentAddress::new("support-bot", AgentEnvironment::Production).unwrap();
    /// let client = Client::builder().sink(sink.clone()).agent_address(bot).build();
    /// RunTree::new("answer").client(client).start().end();
    /// let run = &sink.runs()[0];
    /// assert_eq!(run.address.as_deref(), Some("lrn:agents/support-bot/environments/production"));
    /// ```
    pub fn agent_address(mut self, address: crate::headers::AgentAddress) -> Self {
        self.config.agent_address = Some(address);
        self
    }

    /// Turns tracing on or off for ambient APIs (`None`: follow `LANGSMITH_TRACING`).
    ///
    /// ```
    /// let c = langsmith_core::Client::builder().tracing(Some(true)).build();
    /// assert_eq!(c.config().tracing, Some(true));
    /// ```
    pub fn tracing(mut self, on: Option<bool>) -> Self {
        self.config.tracing = on;
        self
    }

    /// Sets the head-sampling rate (clamped to 0..=1).
    ///
    /// ```
    /// let c = langsmith_core::Client::builder().sampling_rate(7.0).build();
    /// assert_eq!(c.config().sampling_rate, 1.0);
    /// ```
    pub fn sampling_rate(mut self, rate: f64) -> Self {
        self.config.sampling_rate = if rate.is_nan() {
            1.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        self
    }

    /// Adds a rule that decides, per new trace, whether it is recorded.
    /// Rules are asked in order; the first `Some` wins; otherwise sampling decides.
    ///
    /// ```
    /// let c = langsmith_core::Client::builder()
    ///     .trace_rule(|root| (root.name == "health").then_some(false))
    ///     .build();
    /// # let _ = c;
    /// ```
    pub fn trace_rule(
        mut self,
        rule: impl Fn(&RootInfo<'_>) -> Option<bool> + Send + Sync + 'static,
    ) -> Self {
        self.rules.push(Arc::new(rule));
        self
    }

    /// Redacts inputs with `f` before they leave the process.
    ///
    /// ```
    /// use serde_json::Value;
    /// let c = langsmith_core::Client::builder().hide_inputs(|_v: Value| Value::Null).build();
    /// # let _ = c;
    /// ```
    pub fn hide_inputs(mut self, f: impl Fn(Value) -> Value + Send + Sync + 'static) -> Self {
        self.hide_inputs = Some(Arc::new(f));
        self
    }

    /// Redacts outputs with `f` before they leave the process.
    ///
    /// ```
    /// use serde_json::Value;
    /// let c = langsmith_core::Client::builder().hide_outputs(|v: Value| v).build();
    /// # let _ = c;
    /// ```
    pub fn hide_outputs(mut self, f: impl Fn(Value) -> Value + Send + Sync + 'static) -> Self {
        self.hide_outputs = Some(Arc::new(f));
        self
    }

    /// Redacts metadata with `f` before it leaves the process.
    ///
    /// ```
    /// use serde_json::Value;
    /// let c = langsmith_core::Client::builder().hide_metadata(|v: Value| v).build();
    /// # let _ = c;
    /// ```
    pub fn hide_metadata(mut self, f: impl Fn(Value) -> Value + Send + Sync + 'static) -> Self {
        self.hide_metadata = Some(Arc::new(f));
        self
    }

    /// Redacts inputs, outputs and metadata with `anonymizer` (see
    /// [`crate::redact::Anonymizer`]) before they leave the process.
    ///
    /// ```
    /// use langsmith_core::{Client, redact::Anonymizer};
    /// let c = Client::builder().anonymizer(Anonymizer::with_defaults()).build();
    /// # let _ = c;
    /// ```
    pub fn anonymizer(self, anonymizer: crate::redact::Anonymizer) -> Self {
        let a = Arc::new(anonymizer);
        let (b, c) = (a.clone(), a.clone());
        self.hide_inputs(move |v| a.apply(v))
            .hide_outputs(move |v| b.apply(v))
            .hide_metadata(move |v| c.apply(v))
    }

    /// Sends runs to `sink` instead of the background exporter (e.g. a
    /// [`crate::MemorySink`] in tests).
    ///
    /// ```
    /// let c = langsmith_core::Client::builder().sink(langsmith_core::MemorySink::new()).build();
    /// # let _ = c;
    /// ```
    pub fn sink(mut self, sink: impl Sink) -> Self {
        self.sink = Some(Arc::new(sink));
        self
    }

    /// Builds the client. Without an explicit sink this starts the
    /// background exporter (its own thread).
    ///
    /// ```
    /// let c = langsmith_core::Client::builder().sink(langsmith_core::MemorySink::new()).build();
    /// # let _ = c;
    /// ```
    pub fn build(self) -> Client {
        let config = self.config;
        let hidden = |on: bool, f: Option<RedactFn>| -> Option<RedactFn> {
            f.or_else(|| on.then(|| Arc::new(|_v: Value| Value::Object(Map::new())) as RedactFn))
        };
        let hide_inputs = hidden(config.hide_inputs, self.hide_inputs);
        let hide_outputs = hidden(config.hide_outputs, self.hide_outputs);
        let hide_metadata = hidden(config.hide_metadata, self.hide_metadata);
        let sink = match self.sink {
            Some(s) => s,
            None => crate::exporter::start(&config),
        };
        Client {
            inner: Arc::new(ClientInner {
                project: Arc::from(config.project.as_str()),
                address: config.agent_address.as_ref().map(|a| Arc::from(a.to_lrn())),
                config,
                sink,
                hide_inputs,
                hide_outputs,
                hide_metadata,
                rules: self.rules,
                runtime: Arc::new(runtime_info()),
            }),
        }
    }
}

fn runtime_info() -> Value {
    serde_json::json!({
        "sdk": "langsmith-rs",
        "sdk_version": env!("CARGO_PKG_VERSION"),
        "library": "langsmith",
        "platform": format!("{}-{}", std::env::consts::OS, std::env::consts::ARCH),
        "runtime": "rust",
    })
}

/// Flushes its client when dropped, waiting at most the given timeout.
/// Returned by [`Client::flush_on_drop`].
#[must_use = "the guard flushes when it is dropped"]
pub struct FlushGuard {
    client: Client,
    timeout: Duration,
}

impl fmt::Debug for FlushGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FlushGuard")
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Drop for FlushGuard {
    fn drop(&mut self) {
        if !self.client.flush_blocking(self.timeout) {
            tracing::warn!(
                timeout = ?self.timeout,
                "LangSmith: not every run was delivered before the flush timeout"
            );
        }
    }
}

static DEFAULT_CLIENT: RwLock<Option<Client>> = RwLock::new(None);

/// The process-wide default client used by the ambient APIs when neither an
/// explicit client nor a parent run names one. Created from the environment
/// on first use.
///
/// ```
/// let c = langsmith_core::default_client();
/// assert!(!c.project().is_empty());
/// ```
pub fn default_client() -> Client {
    if let Ok(g) = DEFAULT_CLIENT.read()
        && let Some(c) = g.as_ref()
    {
        return c.clone();
    }
    let mut g = match DEFAULT_CLIENT.write() {
        Ok(g) => g,
        Err(p) => p.into_inner(),
    };
    let c = g.get_or_insert_with(Client::from_env).clone();
    note_default_tracing(&c);
    c
}

/// Whether the default client's configuration turns tracing on, mirrored
/// so that the per-call check of `#[traceable]` needs no lock:
/// 0 = not known yet (no default client made), 1 = on, 2 = off or unset.
static DEFAULT_TRACES: AtomicU8 = AtomicU8::new(0);

fn note_default_tracing(c: &Client) {
    let v = if c.inner.config.tracing == Some(true) {
        1
    } else {
        2
    };
    DEFAULT_TRACES.store(v, Ordering::Relaxed);
}

/// `default_client()`'s `LANGSMITH_TRACING` setting without the lock (after
/// the first call): one atomic load on the `#[traceable]` fast path.
#[inline]
pub(crate) fn default_client_traces() -> bool {
    match DEFAULT_TRACES.load(Ordering::Relaxed) {
        1 => true,
        2 => false,
        _ => default_client().inner.config.tracing == Some(true),
    }
}

/// Replaces the process-wide default client.
///
/// ```
/// use langsmith_core::{Client, MemorySink, set_default_client};
/// set_default_client(Client::builder().sink(MemorySink::new()).build());
/// ```
pub fn set_default_client(client: Client) {
    let old = {
        let mut g = match DEFAULT_CLIENT.write() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        };
        note_default_tracing(&client);
        g.replace(client)
    };
    // Dropped outside the lock: dropping the last handle of an exporter waits
    // (bounded) for it to drain, and nobody else should wait on the lock meanwhile.
    drop(old);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_is_deterministic_and_proportional() {
        let ids: Vec<Uuid> = (0..20_000).map(|_| crate::uuid7()).collect();
        let kept = ids.iter().filter(|id| sample_by_id(**id, 0.25)).count();
        assert!(
            (4_000..6_000).contains(&kept),
            "kept {kept} of 20000 at 0.25"
        );
        for id in &ids[..100] {
            assert_eq!(sample_by_id(*id, 0.25), sample_by_id(*id, 0.25));
        }
        assert!(ids.iter().all(|id| sample_by_id(*id, 1.0)));
        assert!(!ids.iter().any(|id| sample_by_id(*id, 0.0)));
    }
}
