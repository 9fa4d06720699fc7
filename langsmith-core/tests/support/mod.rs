//! A small recording HTTP server for the exporter tests: it runs on its own
//! thread (so tests of any runtime flavour, or none, can use it), records
//! every request raw (and its multipart parts, decompressed when zstd), and
//! answers as the test programs it: status, `Retry-After`, delay, or an
//! aborted connection.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use langsmith_core::{Client, Config};
use serde_json::Value;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One multipart part.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    /// Header names in lowercase, in order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Part {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("part {} is not JSON: {e}", self.name))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One request as it arrived, and what it was answered.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    /// Header names in lowercase.
    pub headers: Vec<(String, String)>,
    /// The body as received (compressed if it was).
    pub raw: Vec<u8>,
    /// The body decompressed.
    pub body: Vec<u8>,
    /// Multipart parts, when it was multipart.
    pub parts: Vec<Part>,
    /// The status answered (0 for an aborted connection).
    pub status: u16,
    pub at: Instant,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
    pub fn accepted(&self) -> bool {
        (200..300).contains(&self.status) || self.status == 409
    }
    pub fn part_names(&self) -> Vec<&str> {
        self.parts.iter().map(|p| p.name.as_str()).collect()
    }
}

/// How to answer one request.
#[derive(Debug, Clone)]
pub enum Reply {
    Status(u16),
    /// Status with extra headers (e.g. `Retry-After`).
    With(u16, Vec<(&'static str, String)>),
    /// Wait, then answer.
    Delay(Duration, Box<Reply>),
    /// Close the connection without an answer.
    Abort,
}

/// What the test programmed: called for every request except `GET /info`.
pub type Responder = Box<dyn FnMut(&Recorded) -> Reply + Send>;

struct Inner {
    records: Mutex<Vec<Recorded>>,
    responder: Mutex<Responder>,
    /// `GET /info` answer; `None` → 404.
    info: Mutex<Option<Value>>,
}

#[derive(Clone)]
struct St(Arc<Inner>);

/// A running server; stops when dropped.
pub struct TestServer {
    pub addr: SocketAddr,
    inner: Arc<Inner>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    /// Answers 202 to everything; `/info` says no zstd.
    pub fn start() -> TestServer {
        Self::start_with(
            serde_json::json!({"version": "test", "instance_flags": {"zstd_compression_enabled": false}}),
        )
    }

    /// With the given `/info` answer (`Value::Null` → 404).
    pub fn start_with(info: Value) -> TestServer {
        Self::serve(std::net::TcpListener::bind("127.0.0.1:0").unwrap(), info)
    }

    /// On a given address (e.g. the one of a server stopped before).
    pub fn start_on(addr: SocketAddr) -> TestServer {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match std::net::TcpListener::bind(addr) {
                Ok(l) => {
                    return Self::serve(
                        l,
                        serde_json::json!({"instance_flags": {"zstd_compression_enabled": false}}),
                    );
                }
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    std::thread::sleep(Duration::from_millis(50));
                }
                Err(e) => panic!("cannot bind {addr}: {e}"),
            }
        }
    }

    fn serve(std_listener: std::net::TcpListener, info: Value) -> TestServer {
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let inner = Arc::new(Inner {
            records: Mutex::new(Vec::new()),
            responder: Mutex::new(Box::new(|_| Reply::Status(202))),
            info: Mutex::new(if info.is_null() { None } else { Some(info) }),
        });
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let st = St(inner.clone());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .unwrap();
            rt.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(std_listener).unwrap();
                let app = axum::Router::new().fallback(handle).with_state(st);
                axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = rx.await;
                    })
                    .await
                    .unwrap();
            });
            rt.shutdown_timeout(Duration::from_millis(100));
        });
        TestServer {
            addr,
            inner,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Programs the answers (for every request but `GET /info`).
    pub fn respond(&self, f: impl FnMut(&Recorded) -> Reply + Send + 'static) {
        *self.inner.responder.lock().unwrap() = Box::new(f);
    }

    /// Answers the given replies in order, then `then` forever.
    pub fn script(&self, replies: Vec<Reply>, then: Reply) {
        let mut q: std::collections::VecDeque<Reply> = replies.into();
        self.respond(move |_| q.pop_front().unwrap_or_else(|| then.clone()));
    }

    pub fn set_info(&self, info: Option<Value>) {
        *self.inner.info.lock().unwrap() = info;
    }

    /// Every request so far (including `GET /info`).
    pub fn records(&self) -> Vec<Recorded> {
        self.inner.records.lock().unwrap().clone()
    }

    /// Requests other than `GET /info`.
    pub fn ingest_records(&self) -> Vec<Recorded> {
        self.records()
            .into_iter()
            .filter(|r| r.path != "/info")
            .collect()
    }

    /// Count of accepted `post.{id}` (and `/runs/batch` post entries) per run id.
    pub fn posts_by_id(&self) -> HashMap<String, usize> {
        let mut m = HashMap::new();
        for r in self.ingest_records().iter().filter(|r| r.accepted()) {
            for id in post_ids(r) {
                *m.entry(id).or_insert(0) += 1;
            }
        }
        m
    }

    /// Polls until `cond` holds on the records or `timeout` passes.
    pub fn wait_for(&self, timeout: Duration, mut cond: impl FnMut(&[Recorded]) -> bool) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if cond(&self.records()) {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Run ids with a `post.{id}` part (or a `/runs/batch` `post` entry).
pub fn post_ids(r: &Recorded) -> Vec<String> {
    if r.path == "/runs/batch" {
        let v: Value = serde_json::from_slice(&r.body).unwrap();
        return v["post"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_str().unwrap().to_owned())
            .collect();
    }
    r.parts
        .iter()
        .filter_map(|p| p.name.strip_prefix("post."))
        .filter(|rest| !rest.contains('.'))
        .map(str::to_owned)
        .collect()
}

async fn handle(State(St(inner)): State<St>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let raw = axum::body::to_bytes(body, usize::MAX)
        .await
        .unwrap()
        .to_vec();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let body = if get("content-encoding").as_deref() == Some("zstd") {
        zstd::decode_all(&raw[..]).expect("zstd body")
    } else {
        raw.clone()
    };
    let mut mp_parts = Vec::new();
    if let Some(ct) = get("content-type")
        && ct.starts_with("multipart/form-data")
    {
        mp_parts = parse_multipart(&ct, body.clone()).await;
    }
    let mut rec = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        headers,
        raw,
        body,
        parts: mp_parts,
        status: 0,
        at: Instant::now(),
    };
    if rec.method == "GET" && rec.path == "/info" {
        let info = inner.info.lock().unwrap().clone();
        let (status, body) = match info {
            Some(v) => (200, v.to_string()),
            None => (404, "{\"detail\":\"Not Found\"}".to_owned()),
        };
        rec.status = status;
        inner.records.lock().unwrap().push(rec);
        return response(status, vec![], body);
    }
    let mut reply = (inner.responder.lock().unwrap())(&rec);
    loop {
        match reply {
            Reply::Delay(d, next) => {
                tokio::time::sleep(d).await;
                reply = *next;
            }
            Reply::Status(s) => {
                rec.status = s;
                inner.records.lock().unwrap().push(rec);
                return response(s, vec![], "{}".into());
            }
            Reply::With(s, h) => {
                rec.status = s;
                inner.records.lock().unwrap().push(rec);
                return response(s, h, "{}".into());
            }
            Reply::Abort => {
                rec.status = 0;
                inner.records.lock().unwrap().push(rec);
                // Unwinding out of the connection task makes hyper drop the
                // connection before any answer (resume_unwind prints nothing).
                std::panic::resume_unwind(Box::new("aborted by the test server"));
            }
        }
    }
}

fn response(status: u16, headers: Vec<(&'static str, String)>, body: String) -> Response {
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap();
    resp.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    for (k, v) in headers {
        resp.headers_mut()
            .insert(k, HeaderValue::from_str(&v).unwrap());
    }
    resp
}

/// Parses a multipart body with multer (a standard parser).
pub async fn parse_multipart(content_type: &str, body: Vec<u8>) -> Vec<Part> {
    let boundary = multer::parse_boundary(content_type).expect("boundary");
    let mut mp = multer::Multipart::with_reader(std::io::Cursor::new(body), boundary);
    let mut out = Vec::new();
    while let Some(field) = mp.next_field().await.expect("valid multipart") {
        let name = field.name().unwrap_or_default().to_owned();
        let headers = field
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_ascii_lowercase(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = field.bytes().await.expect("field body").to_vec();
        out.push(Part {
            name,
            headers,
            body,
        });
    }
    out
}

/// Parses a multipart body from synchronous code (on a helper thread, so
/// it also works inside a runtime).
pub fn parse_multipart_blocking(content_type: &str, body: Vec<u8>) -> Vec<Part> {
    let ct = content_type.to_owned();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(parse_multipart(&ct, body))
    })
    .join()
    .unwrap()
}

/// A config pointing at `url`, ignoring the environment.
pub fn config(url: &str) -> Config {
    let mut c = Config::default();
    c.endpoint = url.to_owned();
    c.api_key = Some(langsmith_core::ApiKey::new("test-key"));
    c.exporter.batch_interval = Duration::from_millis(50);
    c
}

/// A client for `config` through the real exporter.
pub fn client(config: Config) -> Client {
    Client::builder().config(config).build()
}

/// A port nothing listens on.
pub fn refused_url() -> String {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    drop(l);
    format!("http://{addr}")
}

/// Captures the exporter's log output in tests (`RUST_LOG`-free: warnings on).
pub fn init_logs() {
    // No subscriber dependency in this crate's tests; logs are not captured.
}
