//! [`ServerRun`]: the run of one request handled by a server.

use super::options::Inner;
use super::{RequestInfo, ServerOptions};
use crate::context::ContextInner;
use crate::headers::{self, BAGGAGE_HEADER, IncomingContext, TRACE_HEADER};
use crate::run::RunRecord;
use crate::{Client, DottedOrder, Run, RunContext, RunTree, Timestamp};
use serde::Serialize;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

/// Longest run name made from a raw path (bytes, cut at a character boundary).
const MAX_NAME_PATH: usize = 200;

/// The run of one request on the server side: how it starts (continuing
/// the caller's trace from `langsmith-trace`/`baggage`, or a new one), and
/// how it ends (status, error, panic, cancellation). Framework adapters hold
/// one per request and only translate; all decisions are made here.
///
/// Ending is idempotent: the first of [`finish`](Self::finish),
/// [`panicked`](Self::panicked), [`cancelled`](Self::cancelled) and
/// [`error`](Self::error) wins. Dropping a run that was not ended ends it as
/// cancelled (the client hung up, or the response future or body was dropped).
///
/// ```
/// use langsmith_core::server::{RequestInfo, ServerOptions, ServerRun};
/// use langsmith_core::{Client, FutureExt, MemorySink};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let sink = MemorySink::new();
/// let opts = ServerOptions::new().client(Client::builder().sink(sink.clone()).tracing(Some(true)).build());
/// let headers = [("langsmith-trace", &b"20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001"[..])];
/// let req = RequestInfo::new("GET", "/users/7", &headers).route(Some("/users/{id}"));
///
/// let mut run = ServerRun::start(&opts, &req);
/// // The handler runs inside the run's context.
/// let status = async { 200 }.in_run(run.context().cloned()).await;
/// run.first_byte();
/// run.finish(status);
///
/// let rec = &sink.runs()[0];
/// assert_eq!(rec.name, "GET /users/{id}");
/// assert_eq!(rec.parent_run_id.unwrap().to_string(), "0193d5a2-0000-7000-8000-000000000001");
/// assert_eq!(rec.inputs.as_ref().unwrap().get(), r#"{"method":"GET","route":"/users/{id}"}"#);
/// assert_eq!(rec.outputs.as_ref().unwrap().get(), r#"{"status":200}"#);
/// # }
/// ```
pub struct ServerRun {
    run: Run,
    status: Option<u16>,
    record_status: bool,
    started: Option<Instant>,
    first_byte: bool,
    ended: bool,
}

impl fmt::Debug for ServerRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerRun")
            .field("run", &self.run)
            .field("status", &self.status)
            .field("ended", &self.ended)
            .finish_non_exhaustive()
    }
}

impl ServerRun {
    /// Starts the run of request `req`:
    ///
    /// 1. Skipped ([`ServerOptions::skip_paths`], [`ServerOptions::skip_if`])
    ///    or tracing switched off explicitly (`LANGSMITH_TRACING=false`,
    ///    [`crate::set_tracing_enabled`]): no run and no context.
    /// 2. `langsmith-trace` and `baggage` are read from the request headers.
    ///    Bad entries are skipped with a rate-limited warning and never fail
    ///    the request; without a usable `langsmith-trace` the request is
    ///    handled as if no parent had been sent.
    /// 3. The [`ServerOptions::decide`] hook, if any, may force or refuse tracing.
    /// 4. Baggage `langsmith-sampled=0`: no run is recorded, but the request
    ///    gets an unsampled context, so calls it makes downstream carry
    ///    `langsmith-sampled=0` as well.
    /// 5. A valid `langsmith-trace`: the run is the caller's child, with the
    ///    baggage's metadata and tags merged in and its project used (unless
    ///    [`ServerOptions::use_baggage_project`] is off). This happens even when
    ///    `LANGSMITH_TRACING` is unset — the caller decided.
    /// 6. Otherwise a new trace, when tracing is on, subject to the client's
    ///    sampling rate and trace rules.
    ///
    /// The run is named `"{METHOD} {route}"` (e.g. `GET /users/{id}`) when
    /// the route template is known. Otherwise it is `"{METHOD} {path}"` with
    /// id-like path segments (numbers, UUIDs, long hex strings) replaced by
    /// `{id}` and long paths cut, so that names stay few (LangSmith groups
    /// runs by name); [`ServerOptions::name_with`] overrides this. Its inputs
    /// are what [`RecordOptions`](super::RecordOptions) allows, e.g.
    /// `{"method": "GET", "route": "/users/{id}"}`.
    ///
    /// ```
    /// use langsmith_core::server::{RequestInfo, ServerOptions, ServerRun};
    /// use langsmith_core::{Client, MemorySink};
    /// let sink = MemorySink::new();
    /// let opts = ServerOptions::new()
    ///     .client(Client::builder().sink(sink.clone()).tracing(Some(true)).build())
    ///     .skip_paths(["/health"]);
    /// let none: [(&str, &[u8]); 0] = [];
    /// assert!(ServerRun::start(&opts, &RequestInfo::new("GET", "/health", &none)).context().is_none());
    ///
    /// let mut run = ServerRun::start(&opts, &RequestInfo::new("DELETE", "/items/123", &none));
    /// run.finish(204);
    /// assert_eq!(sink.runs()[0].name, "DELETE /items/{id}");
    /// assert_eq!(sink.runs()[0].parent_run_id, None);
    /// ```
    pub fn start(opts: &ServerOptions, req: &RequestInfo<'_>) -> ServerRun {
        if opts.is_skipped(req) {
            return ServerRun::untraced();
        }
        let client = opts.get_client();
        if client.tracing_forbidden() {
            return ServerRun::untraced();
        }
        let o = opts.inner();
        let decision = o.decide.as_ref().and_then(|f| f(req));
        let mut incoming = read_headers(req);
        let unsampled = incoming.baggage.sampled == Some(false);

        let run = match decision {
            Some(false) => {
                incoming.baggage.sampled = Some(false);
                unsampled_run(incoming, client, o)
            }
            Some(true) if incoming.parent.is_none() || unsampled => {
                forced_root(run_name(o, req), o, client)
            }
            _ if unsampled => unsampled_run(incoming, client, o),
            _ => match RunContext::from_incoming(incoming, client, o.use_baggage_project) {
                Some(parent) => builder(o, req, client).parent(&parent).start(),
                None if decision == Some(true) || client.starts_traces() => {
                    builder(o, req, client).start()
                }
                None => Run::inactive(),
            },
        };
        let mut server_run = ServerRun {
            record_status: o.record.status,
            started: run.is_recording().then(Instant::now),
            run,
            status: None,
            first_byte: false,
            ended: false,
        };
        if let Some(rec) = server_run.run.record_mut() {
            rec.inputs = Some(Inputs::new(o, req).payload());
        }
        server_run
    }

    /// A run that records nothing and has no context.
    ///
    /// ```
    /// let run = langsmith_core::server::ServerRun::untraced();
    /// assert!(run.context().is_none());
    /// ```
    pub fn untraced() -> ServerRun {
        ServerRun {
            run: Run::inactive(),
            status: None,
            record_status: false,
            started: None,
            first_byte: false,
            ended: true,
        }
    }

    /// The request's run context: put it into request extensions and run the
    /// handler inside it ([`crate::FutureExt::in_run`]). `None` when the
    /// request is not traced; an unsampled trace has a context (for
    /// propagation) but records nothing.
    ///
    /// ```
    /// assert!(langsmith_core::server::ServerRun::untraced().context().is_none());
    /// ```
    pub fn context(&self) -> Option<&RunContext> {
        self.run.context()
    }

    /// Whether anything is recorded for this request.
    ///
    /// ```
    /// assert!(!langsmith_core::server::ServerRun::untraced().is_recording());
    /// ```
    pub fn is_recording(&self) -> bool {
        self.run.is_recording()
    }

    /// Whether the run has ended (always `true` for an untraced request).
    ///
    /// ```
    /// assert!(langsmith_core::server::ServerRun::untraced().is_ended());
    /// ```
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// The underlying run, e.g. to add metadata or events before it ends.
    ///
    /// ```
    /// let mut run = langsmith_core::server::ServerRun::untraced();
    /// run.run_mut().add_metadata("tenant", "acme"); // a no-op when untraced
    /// ```
    pub fn run_mut(&mut self) -> &mut Run {
        &mut self.run
    }

    /// The response status, once known.
    ///
    /// ```
    /// let mut run = langsmith_core::server::ServerRun::untraced();
    /// run.set_status(201);
    /// assert_eq!(run.status(), Some(201));
    /// ```
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// Records the response status when the response head is ready; the
    /// run goes on until the body has been sent (then call
    /// [`finish`](Self::finish)). Recorded as the output `{"status": N}`
    /// unless [`RecordOptions::status`](super::RecordOptions::status) is off.
    ///
    /// ```
    /// # use langsmith_core::server::*;
    /// # use langsmith_core::{Client, MemorySink};
    /// # let sink = MemorySink::new();
    /// # let opts = ServerOptions::new().client(Client::builder().sink(sink.clone()).tracing(Some(true)).build());
    /// # let none: [(&str, &[u8]); 0] = [];
    /// let mut run = ServerRun::start(&opts, &RequestInfo::new("GET", "/", &none));
    /// run.set_status(200);
    /// run.cancelled(); // the client went away while the body was streaming
    /// let rec = &sink.runs()[0];
    /// assert_eq!(rec.outputs.as_ref().unwrap().get(), r#"{"status":200}"#);
    /// assert_eq!(rec.error.as_deref(), Some(langsmith_core::CANCELLED));
    /// ```
    pub fn set_status(&mut self, status: u16) {
        if self.status == Some(status) {
            return;
        }
        self.status = Some(status);
        if self.record_status
            && !self.ended
            && let Some(rec) = self.run.record_mut()
        {
            rec.outputs = Some(status_payload(status));
        }
    }

    /// Records the time to the first byte of the response body (once), as
    /// the metadata entry `time_to_first_byte_ms` (milliseconds since the run
    /// started, measured with a monotonic clock).
    ///
    /// ```
    /// # use langsmith_core::server::*;
    /// # use langsmith_core::{Client, MemorySink};
    /// # let sink = MemorySink::new();
    /// # let opts = ServerOptions::new().client(Client::builder().sink(sink.clone()).tracing(Some(true)).build());
    /// # let none: [(&str, &[u8]); 0] = [];
    /// let mut run = ServerRun::start(&opts, &RequestInfo::new("GET", "/", &none));
    /// run.first_byte();
    /// run.first_byte(); // only the first counts
    /// run.finish(200);
    /// let rec = &sink.runs()[0];
    /// assert!(rec.extra.metadata["time_to_first_byte_ms"].as_f64().unwrap() >= 0.0);
    /// ```
    pub fn first_byte(&mut self) {
        if self.first_byte || self.ended {
            return;
        }
        self.first_byte = true;
        if let Some(started) = self.started {
            let ms = started.elapsed().as_micros() as f64 / 1000.0;
            self.run
                .record_metadata("time_to_first_byte_ms".to_owned(), ms.into());
        }
    }

    /// Ends the run when the response has been sent in full. A 5xx status is
    /// an error (`"HTTP 500 Internal Server Error"`); other statuses are not.
    ///
    /// ```
    /// # use langsmith_core::server::*;
    /// # use langsmith_core::{Client, MemorySink};
    /// # let sink = MemorySink::new();
    /// # let opts = ServerOptions::new().client(Client::builder().sink(sink.clone()).tracing(Some(true)).build());
    /// # let none: [(&str, &[u8]); 0] = [];
    /// let mut run = ServerRun::start(&opts, &RequestInfo::new("GET", "/", &none));
    /// run.finish(503);
    /// run.finish(200); // the first ending wins
    /// assert_eq!(sink.runs()[0].error.as_deref(), Some("HTTP 503 Service Unavailable"));
    /// ```
    pub fn finish(&mut self, status: u16) {
        if self.ended {
            return;
        }
        self.set_status(status);
        let error = (status >= 500).then(|| status_error(status));
        self.end(error);
    }

    /// Ends the run as failed by a panic in the handler (`"panicked: {msg}"`);
    /// see [`panic_message`](super::panic_message).
    ///
    /// ```
    /// # use langsmith_core::server::*;
    /// # use langsmith_core::{Client, MemorySink};
    /// # let sink = MemorySink::new();
    /// # let opts = ServerOptions::new().client(Client::builder().sink(sink.clone()).tracing(Some(true)).build());
    /// # let none: [(&str, &[u8]); 0] = [];
    /// let mut run = ServerRun::start(&opts, &RequestInfo::new("GET", "/", &none));
    /// run.panicked("index out of bounds");
    /// assert_eq!(sink.runs()[0].error.as_deref(), Some("panicked: index out of bounds"));
    /// ```
    pub fn panicked(&mut self, msg: impl fmt::Display) {
        if !self.ended {
            self.end(Some(format!("panicked: {msg}")));
        }
    }

    /// Ends the run as cancelled ([`crate::CANCELLED`]): the client hung up,
    /// or the response future or body was dropped before it finished.
    ///
    /// ```
    /// # use langsmith_core::server::*;
    /// # use langsmith_core::{Client, MemorySink};
    /// # let sink = MemorySink::new();
    /// # let opts = ServerOptions::new().client(Client::builder().sink(sink.clone()).tracing(Some(true)).build());
    /// # let none: [(&str, &[u8]); 0] = [];
    /// let run = ServerRun::start(&opts, &RequestInfo::new("GET", "/", &none));
    /// drop(run); // same as run.cancelled()
    /// assert_eq!(sink.runs()[0].error.as_deref(), Some("Cancelled"));
    /// ```
    pub fn cancelled(&mut self) {
        if !self.ended {
            self.end(Some(crate::CANCELLED.to_owned()));
        }
    }

    /// Ends the run with an error, e.g. the response body stream failed.
    ///
    /// ```
    /// # use langsmith_core::server::*;
    /// # use langsmith_core::{Client, MemorySink};
    /// # let sink = MemorySink::new();
    /// # let opts = ServerOptions::new().client(Client::builder().sink(sink.clone()).tracing(Some(true)).build());
    /// # let none: [(&str, &[u8]); 0] = [];
    /// let mut run = ServerRun::start(&opts, &RequestInfo::new("GET", "/", &none));
    /// run.set_status(200);
    /// run.error("body stream: connection reset");
    /// assert_eq!(sink.runs()[0].error.as_deref(), Some("body stream: connection reset"));
    /// ```
    pub fn error(&mut self, msg: impl fmt::Display) {
        if !self.ended {
            self.end(Some(msg.to_string()));
        }
    }

    fn end(&mut self, error: Option<String>) {
        self.ended = true;
        if let Some(e) = error {
            self.run.set_error(e);
        }
        self.run.finish(None);
    }
}

impl Drop for ServerRun {
    fn drop(&mut self) {
        if !self.ended {
            if std::thread::panicking() {
                self.end(Some("panicked".to_owned()));
            } else {
                self.cancelled();
            }
        }
    }
}

/// Reads `langsmith-trace` and `baggage` (only those headers are looked at).
fn read_headers(req: &RequestInfo<'_>) -> IncomingContext {
    // A request carries one or two of ours: on the stack, the rest (if any)
    // on the heap.
    let mut first: [(&str, &[u8]); 2] = [("", &[]); 2];
    let mut n = 0;
    let mut more: Vec<(&str, &[u8])> = Vec::new();
    req.headers.for_each_header(&mut |name, value| {
        if name.eq_ignore_ascii_case(TRACE_HEADER) || name.eq_ignore_ascii_case(BAGGAGE_HEADER) {
            match first.get_mut(n) {
                Some(slot) => {
                    *slot = (name, value);
                    n += 1;
                }
                None => more.push((name, value)),
            }
        }
    });
    if n == 0 {
        return IncomingContext::default();
    }
    let parsed = headers::parse(first[..n].iter().copied().chain(more));
    for err in &parsed.errors {
        crate::warn::header_problem(err);
    }
    parsed.context
}

fn builder(o: &Inner, req: &RequestInfo<'_>, client: &Client) -> crate::RunBuilder {
    let mut b = RunTree::new(run_name(o, req))
        .client(client.clone())
        .run_type(o.run_type);
    if !o.tags.is_empty() {
        b = b.tags(o.tags.iter().cloned());
    }
    if !o.metadata.is_empty() {
        b = b.metadata_map(o.metadata.clone());
    }
    b
}

/// A context that records nothing but tells downstream `langsmith-sampled=0`.
fn unsampled_run(incoming: IncomingContext, client: &Client, o: &Inner) -> Run {
    Run {
        ctx: RunContext::from_incoming(incoming, client, o.use_baggage_project),
        rec: None,
        posted: false,
    }
}

/// A new trace that is recorded whatever sampling says (the decision hook
/// asked for it).
fn forced_root(name: String, o: &Inner, client: &Client) -> Run {
    let id = crate::uuid7();
    let start = Timestamp::now();
    let dotted = DottedOrder::root(start, id);
    let (project, address) = client.inner.destination();
    let empty = crate::builder::empty_shared();
    let tags: Arc<[String]> = Arc::from(o.tags.clone());
    let mut rec = Box::new(RunRecord::new(
        id,
        name,
        o.run_type,
        start,
        dotted.clone(),
        None,
        project.clone(),
    ));
    rec.address = address.clone();
    rec.tags = o.tags.clone();
    rec.extra.metadata = o.metadata.clone();
    let ctx = RunContext {
        inner: Arc::new(ContextInner {
            notes: Default::default(),
            dotted_order: dotted,
            project,
            address,
            inherited_tags: empty.tags.clone(),
            inherited_metadata: empty.metadata.clone(),
            tags,
            metadata: Arc::new(o.metadata.clone()),
            sampled: true,
            client: client.clone(),
            foreign_baggage: empty.tags.clone(),
            replicas: empty.replicas.clone(),
            remote: false,
        }),
    };
    Run {
        ctx: Some(ctx),
        rec: Some(rec),
        posted: false,
    }
}

fn run_name(o: &Inner, req: &RequestInfo<'_>) -> String {
    if let Some(f) = &o.name {
        return f(req);
    }
    // `METHOD route`, without `fmt` (measurable per request), in one
    // allocation: room for the path and a few `{id}`s longer than their ids.
    let len = req.route.unwrap_or(req.path).len();
    let mut name = String::with_capacity(req.method.len() + 1 + len + 8);
    name.push_str(req.method);
    name.push(' ');
    match req.route {
        Some(route) => name.push_str(route),
        None => push_path_template(&mut name, req.path),
    }
    name
}

/// Appends the path with id-like segments replaced by `{id}`, cut to
/// [`MAX_NAME_PATH`] bytes, in one pass.
///
/// ```text
/// /users/42/orders/0193d5a2-0000-7000-8000-000000000001 -> /users/{id}/orders/{id}
/// ```
pub(crate) fn push_path_template(out: &mut String, path: &str) {
    for (i, seg) in cut(path, MAX_NAME_PATH).split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(if is_id_like(seg) { "{id}" } else { seg });
    }
}

fn is_id_like(seg: &str) -> bool {
    if seg.is_empty() {
        return false;
    }
    let b = seg.as_bytes();
    let digits = b.iter().all(u8::is_ascii_digit);
    let hex = b.len() >= 16 && b.iter().all(|c| c.is_ascii_hexdigit() || *c == b'-');
    digits || hex
}

fn cut(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn status_error(status: u16) -> String {
    match reason_phrase(status) {
        Some(reason) => format!("HTTP {status} {reason}"),
        None => format!("HTTP {status}"),
    }
}

/// Canonical reason phrases of the 5xx statuses (the only ones that become errors).
fn reason_phrase(status: u16) -> Option<&'static str> {
    Some(match status {
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        506 => "Variant Also Negotiates",
        507 => "Insufficient Storage",
        508 => "Loop Detected",
        510 => "Not Extended",
        511 => "Network Authentication Required",
        _ => return None,
    })
}

/// Serializes a struct that is always a JSON object straight into a
/// payload (no re-parse, unlike the general [`crate::to_payload`]).
fn object_payload<T: Serialize>(value: &T) -> crate::Payload {
    serde_json::value::to_raw_value(value).unwrap_or_else(|_| crate::to_payload(value, "output"))
}

#[derive(Serialize)]
struct StatusOutput {
    status: u16,
}

/// `{"status":N}`. Built once per status code and cloned (one allocation),
/// as a response's status is recorded on every traced request.
fn status_payload(status: u16) -> crate::Payload {
    static BUILT: [std::sync::OnceLock<crate::Payload>; 500] =
        [const { std::sync::OnceLock::new() }; 500];
    let build = || object_payload(&StatusOutput { status });
    match usize::from(status)
        .checked_sub(100)
        .and_then(|i| BUILT.get(i))
    {
        Some(slot) => slot.get_or_init(build).clone(),
        None => build(),
    }
}

/// The length of `{"k":"v",...}` for the fields that are set, when no value
/// needs escaping: the exact capacity, so that turning the string into a
/// `RawValue` (`into_boxed_str`) does not reallocate.
fn plain_inputs_len(fields: &[(&str, Option<&str>)]) -> usize {
    // `"k":"v"` is the key, the value and 5 bytes; a comma between fields.
    let (n, bytes) = fields
        .iter()
        .filter_map(|(k, v)| v.map(|v| k.len() + v.len() + 5))
        .fold((0usize, 0usize), |(n, b), len| (n + 1, b + len));
    2 + bytes + n.saturating_sub(1)
}

/// Appends `"s"`; `false` when `s` needed escaping (`out` is then unusable).
fn push_plain_json_str(out: &mut String, s: &str) -> bool {
    out.push('"');
    out.push_str(s);
    out.push('"');
    !crate::run::json_needs_escape(s)
}

/// A server run's inputs, as far as [`RecordOptions`](super::RecordOptions) allows.
#[derive(Serialize)]
struct Inputs<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    method: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    route: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    query: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    headers: Option<Map<String, Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    client_ip: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_agent: Option<Cow<'a, str>>,
}

impl<'a> Inputs<'a> {
    /// The inputs as JSON: the usual ones (method, route, path, query —
    /// plain strings) written directly, anything else through serde.
    fn payload(&self) -> crate::Payload {
        if self.headers.is_none() && self.client_ip.is_none() && self.user_agent.is_none() {
            let fields = [
                ("method", self.method),
                ("route", self.route),
                ("path", self.path),
                ("query", self.query),
            ];
            let mut out = String::with_capacity(plain_inputs_len(&fields));
            out.push('{');
            let mut plain = true;
            for (key, value) in fields {
                if let Some(value) = value {
                    if out.len() > 1 {
                        out.push(',');
                    }
                    out.push('"');
                    out.push_str(key);
                    out.push_str("\":");
                    plain &= push_plain_json_str(&mut out, value);
                }
            }
            out.push('}');
            if plain && let Ok(payload) = serde_json::value::RawValue::from_string(out) {
                return payload;
            }
        }
        object_payload(self)
    }

    fn new(o: &Inner, req: &RequestInfo<'a>) -> Self {
        let r = &o.record;
        let headers = (!r.headers.is_empty()).then(|| {
            let mut map = Map::new();
            req.headers.for_each_header(&mut |name, value| {
                let name = name.to_ascii_lowercase();
                if !r.headers.contains(&name)
                    || super::NEVER_RECORDED_HEADERS.contains(&name.as_str())
                {
                    return;
                }
                let value = String::from_utf8_lossy(value);
                match map.get_mut(&name) {
                    Some(Value::String(prev)) => {
                        prev.push_str(", ");
                        prev.push_str(&value);
                    }
                    _ => {
                        map.insert(name, Value::String(value.into_owned()));
                    }
                }
            });
            map
        });
        Inputs {
            method: r.method.then_some(req.method),
            route: if r.route { req.route } else { None },
            path: r.path.then_some(req.path),
            query: if r.query { req.query } else { None },
            headers,
            client_ip: if r.client_ip {
                req.client_ip.map(|ip| ip.to_string())
            } else {
                None
            },
            user_agent: if r.user_agent {
                req.header("user-agent").map(String::from_utf8_lossy)
            } else {
                None
            },
        }
    }
}

#[cfg(test)]
mod payload_tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn written_inputs_equal_serdes() {
        let values = [
            None,
            Some(""),
            Some("GET"),
            Some("/hello/{name}"),
            Some("/a?b=c&d=é✓"),
            Some("quote\"back\\slash"),
            Some("tab\tnew\nline\u{1}"),
        ];
        let mut cases = 0;
        for method in values {
            for route in values {
                for path in [None, Some("/p/1")] {
                    for query in [None, Some("x=1"), Some("\u{7f}\"")] {
                        let inputs = Inputs {
                            method,
                            route,
                            path,
                            query,
                            headers: None,
                            client_ip: None,
                            user_agent: None,
                        };
                        let want = serde_json::value::to_raw_value(&inputs).unwrap();
                        assert_eq!(inputs.payload().get(), want.get(), "{method:?} {route:?}");
                        let fields = [
                            ("method", method),
                            ("route", route),
                            ("path", path),
                            ("query", query),
                        ];
                        let plain = fields
                            .iter()
                            .filter_map(|(_, v)| *v)
                            .all(|v| !crate::run::json_needs_escape(v));
                        if plain {
                            // Exact: the string becomes a `RawValue` without a reallocation.
                            assert_eq!(plain_inputs_len(&fields), want.get().len(), "{fields:?}");
                        }
                        cases += 1;
                    }
                }
            }
        }
        assert_eq!(cases, 7 * 7 * 2 * 3);
        // The serde path: recorded headers and the rest.
        let inputs = Inputs {
            method: Some("GET"),
            route: None,
            path: None,
            query: None,
            headers: Some(Map::from_iter([("x-a".to_string(), Value::from("1"))])),
            client_ip: Some("127.0.0.1".into()),
            user_agent: Some("ua".into()),
        };
        assert_eq!(
            inputs.payload().get(),
            r#"{"method":"GET","headers":{"x-a":"1"},"client_ip":"127.0.0.1","user_agent":"ua"}"#
        );
    }

    #[test]
    fn status_payloads_are_the_status() {
        for status in [0, 99, 100, 200, 404, 500, 599, 600, 999, u16::MAX] {
            for _ in 0..2 {
                assert_eq!(
                    status_payload(status).get(),
                    format!(r#"{{"status":{status}}}"#)
                );
            }
        }
    }
}
