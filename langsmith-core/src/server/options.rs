//! [`ServerOptions`] and [`RecordOptions`]: how a server adapter traces.

use super::RequestInfo;
use crate::{Client, RunType, default_client};
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;
use std::sync::{Arc, OnceLock};

/// Headers that are never recorded, even when asked for.
///
/// ```
/// assert!(langsmith_core::server::NEVER_RECORDED_HEADERS.contains(&"authorization"));
/// ```
pub const NEVER_RECORDED_HEADERS: [&str; 5] = [
    "authorization",
    "cookie",
    "x-api-key",
    "proxy-authorization",
    "set-cookie",
];

type SkipFn = Arc<dyn Fn(&RequestInfo<'_>) -> bool + Send + Sync>;
type DecideFn = Arc<dyn Fn(&RequestInfo<'_>) -> Option<bool> + Send + Sync>;
type NameFn = Arc<dyn Fn(&RequestInfo<'_>) -> String + Send + Sync>;

/// How server adapters (tower/axum, actix-web) trace requests. Cheap to
/// clone (one reference count); built with chained setters.
///
/// Defaults: the [`default_client`] (taken at the first request), nothing
/// skipped, no decision hook, [`RecordOptions::default`], run type `chain`,
/// a project named in incoming baggage is used, no extra tags or metadata.
///
/// ```
/// use langsmith_core::server::{RecordOptions, ServerOptions};
/// use langsmith_core::{Client, MemorySink, RunType};
/// let opts = ServerOptions::new()
///     .client(Client::builder().sink(MemorySink::new()).build())
///     .skip_paths(["/health", "/metrics"])
///     .skip_if(|req| req.method == "OPTIONS")
///     // Always trace paid tenants, never zero-retention ones, else sample.
///     .decide(|req| match req.header_str("x-plan") {
///         Some("paid") => Some(true),
///         Some("zero-retention") => Some(false),
///         _ => None,
///     })
///     .record(RecordOptions::default().query(true).header("x-request-id"))
///     .run_type(RunType::Chain)
///     .use_baggage_project(false)
///     .tag("api")
///     .metadata("service", "users");
/// # let _ = opts;
/// ```
#[derive(Clone, Default)]
pub struct ServerOptions {
    inner: Arc<Inner>,
}

#[derive(Clone)]
pub(crate) struct Inner {
    pub(crate) client: Option<Client>,
    /// The default client, resolved at the first request.
    pub(crate) resolved: Arc<OnceLock<Client>>,
    pub(crate) skip_paths: Vec<Cow<'static, str>>,
    pub(crate) skip: Option<SkipFn>,
    pub(crate) decide: Option<DecideFn>,
    pub(crate) record: RecordOptions,
    pub(crate) name: Option<NameFn>,
    pub(crate) run_type: RunType,
    pub(crate) use_baggage_project: bool,
    pub(crate) tags: Vec<String>,
    pub(crate) metadata: Map<String, Value>,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            client: None,
            resolved: Arc::new(OnceLock::new()),
            skip_paths: Vec::new(),
            skip: None,
            decide: None,
            record: RecordOptions::default(),
            name: None,
            run_type: RunType::Chain,
            use_baggage_project: true,
            tags: Vec::new(),
            metadata: Map::new(),
        }
    }
}

impl fmt::Debug for ServerOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &self.inner;
        f.debug_struct("ServerOptions")
            .field("client", &i.client)
            .field("skip_paths", &i.skip_paths)
            .field("skip", &i.skip.is_some())
            .field("decide", &i.decide.is_some())
            .field("record", &i.record)
            .field("name", &i.name.is_some())
            .field("run_type", &i.run_type)
            .field("use_baggage_project", &i.use_baggage_project)
            .field("tags", &i.tags)
            .field("metadata", &i.metadata)
            .finish()
    }
}

impl ServerOptions {
    /// The defaults (see the type's documentation).
    ///
    /// ```
    /// let opts = langsmith_core::server::ServerOptions::new();
    /// # let _ = opts;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    fn edit(mut self, f: impl FnOnce(&mut Inner)) -> Self {
        f(Arc::make_mut(&mut self.inner));
        self
    }

    pub(crate) fn inner(&self) -> &Inner {
        &self.inner
    }

    /// Sends server runs through `client` (default: [`default_client`] as it
    /// is at the first request).
    ///
    /// ```
    /// use langsmith_core::{server::ServerOptions, Client, MemorySink};
    /// let opts = ServerOptions::new().client(Client::builder().sink(MemorySink::new()).build());
    /// # let _ = opts;
    /// ```
    pub fn client(self, client: Client) -> Self {
        self.edit(|i| i.client = Some(client))
    }

    /// The client runs are sent through.
    ///
    /// ```
    /// use langsmith_core::{server::ServerOptions, Client, MemorySink};
    /// let opts = ServerOptions::new().client(Client::builder().project("p").sink(MemorySink::new()).build());
    /// assert_eq!(opts.get_client().project(), "p");
    /// ```
    pub fn get_client(&self) -> &Client {
        let i = &self.inner;
        match &i.client {
            Some(c) => c,
            None => i.resolved.get_or_init(default_client),
        }
    }

    /// Whether tracing is switched off explicitly (`LANGSMITH_TRACING=false`
    /// for the client, or [`crate::set_tracing_enabled`]`(Some(false))`):
    /// then no request is traced and an adapter may skip all per-request
    /// work. [`ServerRun::start`](super::ServerRun::start) checks this too.
    ///
    /// ```
    /// use langsmith_core::{server::ServerOptions, Client, MemorySink};
    /// let off = Client::builder().tracing(Some(false)).sink(MemorySink::new()).build();
    /// assert!(ServerOptions::new().client(off).is_tracing_disabled());
    /// ```
    pub fn is_tracing_disabled(&self) -> bool {
        self.get_client().tracing_forbidden()
    }

    /// Whether a request with these headers can be traced at all. `false`
    /// when tracing is switched off, or when it is not switched on (so only
    /// requests continuing a caller's trace are traced), no
    /// [`decide`](Self::decide) hook is set and the request carries neither
    /// `langsmith-trace` nor `baggage`: then
    /// [`ServerRun::start`](super::ServerRun::start) would record nothing
    /// and give no context, and an adapter can skip describing the request
    /// (e.g. actix's route lookup) and wrapping its response.
    ///
    /// ```
    /// use langsmith_core::{server::ServerOptions, Client, MemorySink};
    /// let unset = Client::builder().sink(MemorySink::new()).build(); // LANGSMITH_TRACING unset
    /// let opts = ServerOptions::new().client(unset);
    /// let plain: [(&str, &[u8]); 1] = [("accept", b"*/*")];
    /// let caller: [(&str, &[u8]); 1] = [("langsmith-trace", b"...")];
    /// assert!(!opts.may_trace(&plain));
    /// assert!(opts.may_trace(&caller));
    /// ```
    pub fn may_trace(&self, headers: &dyn super::HeaderSource) -> bool {
        let client = self.get_client();
        if client.tracing_forbidden() {
            return false;
        }
        if client.starts_traces() || self.inner.decide.is_some() {
            return true;
        }
        let mut ours = false;
        headers.for_each_header(&mut |name, _| {
            ours |= name.eq_ignore_ascii_case(crate::headers::TRACE_HEADER)
                || name.eq_ignore_ascii_case(crate::headers::BAGGAGE_HEADER);
        });
        ours
    }

    /// Never traces requests whose path (or route template) is one of
    /// `paths`, e.g. `/health`. Exact match; use [`skip_if`](Self::skip_if)
    /// for anything else.
    ///
    /// ```
    /// let opts = langsmith_core::server::ServerOptions::new().skip_paths(["/health", "/ready"]);
    /// # let _ = opts;
    /// ```
    pub fn skip_paths<I, S>(self, paths: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<Cow<'static, str>>,
    {
        self.edit(|i| i.skip_paths.extend(paths.into_iter().map(Into::into)))
    }

    /// Never traces requests for which `skip` returns `true` (no run, no
    /// context; downstream calls carry no trace headers).
    ///
    /// ```
    /// let opts = langsmith_core::server::ServerOptions::new()
    ///     .skip_if(|req| req.path.starts_with("/static/"));
    /// # let _ = opts;
    /// ```
    pub fn skip_if(self, skip: impl Fn(&RequestInfo<'_>) -> bool + Send + Sync + 'static) -> Self {
        self.edit(|i| i.skip = Some(Arc::new(skip)))
    }

    /// A per-request trace decision: `Some(true)` traces the request
    /// whatever `LANGSMITH_TRACING`, sampling and the caller say (a new trace
    /// when the caller's was not sampled), `Some(false)` records nothing (the
    /// request still gets an unsampled context, so downstream services are
    /// told `langsmith-sampled=0`), `None` leaves it to the usual rules.
    /// Tracing switched off explicitly wins over `Some(true)`.
    ///
    /// ```
    /// let opts = langsmith_core::server::ServerOptions::new()
    ///     .decide(|req| (req.header_str("x-debug") == Some("1")).then_some(true));
    /// # let _ = opts;
    /// ```
    pub fn decide(
        self,
        decide: impl Fn(&RequestInfo<'_>) -> Option<bool> + Send + Sync + 'static,
    ) -> Self {
        self.edit(|i| i.decide = Some(Arc::new(decide)))
    }

    /// Chooses what request data is recorded.
    ///
    /// ```
    /// use langsmith_core::server::{RecordOptions, ServerOptions};
    /// let opts = ServerOptions::new().record(RecordOptions::default().user_agent(true));
    /// # let _ = opts;
    /// ```
    pub fn record(self, record: RecordOptions) -> Self {
        self.edit(|i| i.record = record)
    }

    /// Names runs with `name` instead of the default (`"{METHOD} {route}"`,
    /// see [`ServerRun::start`](super::ServerRun::start)). Keep the number
    /// of distinct names small: LangSmith groups runs by name.
    ///
    /// ```
    /// let opts = langsmith_core::server::ServerOptions::new()
    ///     .name_with(|req| format!("api {}", req.route.unwrap_or("unmatched")));
    /// # let _ = opts;
    /// ```
    pub fn name_with(
        self,
        name: impl Fn(&RequestInfo<'_>) -> String + Send + Sync + 'static,
    ) -> Self {
        self.edit(|i| i.name = Some(Arc::new(name)))
    }

    /// Sets the run type of server runs (default `chain`).
    ///
    /// ```
    /// let opts = langsmith_core::server::ServerOptions::new().run_type(langsmith_core::RunType::Llm);
    /// # let _ = opts;
    /// ```
    pub fn run_type(self, run_type: RunType) -> Self {
        self.edit(|i| i.run_type = run_type)
    }

    /// Whether a project named in incoming baggage (`langsmith-project`) is
    /// used (default `true`); with `false` server runs go to the client's project.
    ///
    /// ```
    /// let opts = langsmith_core::server::ServerOptions::new().use_baggage_project(false);
    /// # let _ = opts;
    /// ```
    pub fn use_baggage_project(self, use_it: bool) -> Self {
        self.edit(|i| i.use_baggage_project = use_it)
    }

    /// Adds a tag to every server run (also sent on to downstream services
    /// in `baggage`, like the caller's tags).
    ///
    /// ```
    /// let opts = langsmith_core::server::ServerOptions::new().tag("edge");
    /// # let _ = opts;
    /// ```
    pub fn tag(self, tag: impl Into<String>) -> Self {
        let tag = tag.into();
        self.edit(|i| i.tags.push(tag))
    }

    /// Adds a metadata entry to every server run (also sent on to downstream
    /// services in `baggage`).
    ///
    /// ```
    /// let opts = langsmith_core::server::ServerOptions::new().metadata("region", "eu-west-1");
    /// # let _ = opts;
    /// ```
    pub fn metadata(self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        let (key, value) = (key.into(), value.into());
        self.edit(|i| {
            i.metadata.insert(key, value);
        })
    }

    /// Whether the request is skipped by [`skip_paths`](Self::skip_paths)
    /// or [`skip_if`](Self::skip_if).
    ///
    /// ```
    /// use langsmith_core::server::{RequestInfo, ServerOptions};
    /// let opts = ServerOptions::new().skip_paths(["/health"]);
    /// let none: [(&str, &[u8]); 0] = [];
    /// assert!(opts.is_skipped(&RequestInfo::new("GET", "/health", &none)));
    /// assert!(!opts.is_skipped(&RequestInfo::new("GET", "/healthz", &none)));
    /// ```
    pub fn is_skipped(&self, req: &RequestInfo<'_>) -> bool {
        let i = &self.inner;
        i.skip_paths
            .iter()
            .any(|p| p == req.path || req.route == Some(p.as_ref()))
            || i.skip.as_ref().is_some_and(|f| f(req))
    }
}

/// What request data a server run records as its inputs (and outputs).
/// Bodies are never recorded, and neither are the headers in
/// [`NEVER_RECORDED_HEADERS`], even when asked for.
///
/// Default: method, route template and response status.
///
/// ```
/// use langsmith_core::server::RecordOptions;
/// let rec = RecordOptions::default()
///     .path(true)
///     .query(true)
///     .headers(["x-request-id", "Authorization"]) // authorization is refused
///     .client_ip(true)
///     .user_agent(true);
/// assert_eq!(rec.recorded_headers(), ["x-request-id"]);
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordOptions {
    pub(crate) method: bool,
    pub(crate) route: bool,
    pub(crate) path: bool,
    pub(crate) status: bool,
    pub(crate) query: bool,
    pub(crate) headers: Vec<String>,
    pub(crate) client_ip: bool,
    pub(crate) user_agent: bool,
}

impl Default for RecordOptions {
    fn default() -> Self {
        RecordOptions {
            method: true,
            route: true,
            path: false,
            status: true,
            query: false,
            headers: Vec::new(),
            client_ip: false,
            user_agent: false,
        }
    }
}

impl RecordOptions {
    /// Records nothing about the request (the run still has its name, timing and outcome).
    ///
    /// ```
    /// let rec = langsmith_core::server::RecordOptions::nothing().status(true);
    /// # let _ = rec;
    /// ```
    pub fn nothing() -> Self {
        RecordOptions {
            method: false,
            route: false,
            status: false,
            ..RecordOptions::default()
        }
    }

    /// Records the method (default on).
    ///
    /// ```
    /// let rec = langsmith_core::server::RecordOptions::default().method(false);
    /// # let _ = rec;
    /// ```
    pub fn method(mut self, on: bool) -> Self {
        self.method = on;
        self
    }

    /// Records the route template (default on).
    ///
    /// ```
    /// let rec = langsmith_core::server::RecordOptions::default().route(false);
    /// # let _ = rec;
    /// ```
    pub fn route(mut self, on: bool) -> Self {
        self.route = on;
        self
    }

    /// Records the raw path (default off: paths may carry ids or personal data).
    ///
    /// ```
    /// let rec = langsmith_core::server::RecordOptions::default().path(true);
    /// # let _ = rec;
    /// ```
    pub fn path(mut self, on: bool) -> Self {
        self.path = on;
        self
    }

    /// Records the response status as the run's output `{"status": 200}` (default on).
    ///
    /// ```
    /// let rec = langsmith_core::server::RecordOptions::default().status(false);
    /// # let _ = rec;
    /// ```
    pub fn status(mut self, on: bool) -> Self {
        self.status = on;
        self
    }

    /// Records the query string (default off).
    ///
    /// ```
    /// let rec = langsmith_core::server::RecordOptions::default().query(true);
    /// # let _ = rec;
    /// ```
    pub fn query(mut self, on: bool) -> Self {
        self.query = on;
        self
    }

    /// Records request header `name` (case-insensitive), unless it is one of
    /// [`NEVER_RECORDED_HEADERS`].
    ///
    /// ```
    /// let rec = langsmith_core::server::RecordOptions::default().header("X-Request-Id").header("cookie");
    /// assert_eq!(rec.recorded_headers(), ["x-request-id"]);
    /// ```
    pub fn header(mut self, name: impl AsRef<str>) -> Self {
        let name = name.as_ref().trim().to_ascii_lowercase();
        if !name.is_empty()
            && !NEVER_RECORDED_HEADERS.contains(&name.as_str())
            && !self.headers.contains(&name)
        {
            self.headers.push(name);
        }
        self
    }

    /// Records each of the request headers `names` (see [`header`](Self::header)).
    ///
    /// ```
    /// let rec = langsmith_core::server::RecordOptions::default().headers(["x-a", "x-b"]);
    /// assert_eq!(rec.recorded_headers().len(), 2);
    /// ```
    pub fn headers<I, S>(self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        names.into_iter().fold(self, |r, n| r.header(n))
    }

    /// The request headers that are recorded (lowercase).
    ///
    /// ```
    /// assert!(langsmith_core::server::RecordOptions::default().recorded_headers().is_empty());
    /// ```
    pub fn recorded_headers(&self) -> &[String] {
        &self.headers
    }

    /// Records the peer address of the connection (default off).
    ///
    /// ```
    /// let rec = langsmith_core::server::RecordOptions::default().client_ip(true);
    /// # let _ = rec;
    /// ```
    pub fn client_ip(mut self, on: bool) -> Self {
        self.client_ip = on;
        self
    }

    /// Records the `User-Agent` header (default off).
    ///
    /// ```
    /// let rec = langsmith_core::server::RecordOptions::default().user_agent(true);
    /// # let _ = rec;
    /// ```
    pub fn user_agent(mut self, on: bool) -> Self {
        self.user_agent = on;
        self
    }
}
