//! A fault-injecting HTTP/1.1 proxy for the reliability and security tests:
//! it sits between the exporter and a collector and, on a schedule, refuses
//! connections (its listener is closed, then bound again on the same port),
//! resets the connection in the middle of the request body, answers late or
//! never, or answers something of its own (a redirect, say). Everything else
//! is forwarded.
//!
//! Each connection carries exactly one request: the proxy forwards it with
//! `Connection: close`, so the answer closes the client's connection too and
//! the schedule applies per request, not per pooled connection. Plain std
//! threads and blocking sockets, every wait bounded; loopback only.
//!
//! Also here: a tiny HTTP/1.1 client ([`request`], [`KeepAlive`]) so the
//! tests measure the service, not a client library.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the proxy does with one request (`GET` requests are always
/// forwarded; the schedule applies to the others, i.e. to ingest requests).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Pass it on to the upstream and its answer back.
    Forward,
    /// Read the head and part of the body, then close the connection with
    /// the rest of the body unread, which makes the kernel send a reset.
    ResetMidBody,
    /// Wait this long, then forward (a slow server that still does the work).
    Delay(Duration),
    /// Read the request and answer nothing for this long, then close
    /// without forwarding (a server that hangs; the request is lost).
    Hang(Duration),
    /// Read the request and answer these raw bytes (`HTTP/1.1 ...`), not forwarded.
    Answer(String),
    /// Answer `200` and stream zeros, at most `max` bytes, until the client
    /// stops reading; `declared`: with a `content-length` of 1 TB, else
    /// the body ends when the connection does. The bytes the client took
    /// are counted ([`FaultProxy::streamed`]).
    Endless { max: usize, declared: bool },
}

/// One request the proxy saw, and what it did with it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub action: Action,
    pub body_len: usize,
    pub at: Instant,
}

#[derive(Default)]
struct Schedule {
    queue: VecDeque<Action>,
    always: Option<Action>,
}

struct Inner {
    addr: SocketAddr,
    upstream: SocketAddr,
    schedule: Mutex<Schedule>,
    seen: Mutex<Vec<Seen>>,
    /// Wanted state of the listener.
    refusing: AtomicBool,
    /// Actual state of the listener (set by the accept thread).
    listening: AtomicBool,
    /// What `GET /info` gets instead of being forwarded.
    info: Mutex<Option<Action>>,
    /// Bytes of body written by [`Action::Endless`].
    streamed: AtomicUsize,
    stop: AtomicBool,
}

/// A running proxy; stops when dropped.
pub struct FaultProxy {
    inner: Arc<Inner>,
    thread: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// A proxy on a free loopback port forwarding to `upstream`.
    pub fn start(upstream: SocketAddr) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let inner = Arc::new(Inner {
            addr: listener.local_addr().unwrap(),
            upstream,
            schedule: Mutex::new(Schedule::default()),
            seen: Mutex::new(Vec::new()),
            refusing: AtomicBool::new(false),
            listening: AtomicBool::new(true),
            info: Mutex::new(None),
            streamed: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        });
        let i = inner.clone();
        let thread = std::thread::Builder::new()
            .name("fault-proxy".into())
            .spawn(move || accept_loop(&i, Some(listener)))
            .unwrap();
        FaultProxy {
            inner,
            thread: Some(thread),
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.inner.addr
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.inner.addr)
    }

    /// Applies `action` to each of the next `n` scheduled requests.
    pub fn fail_next(&self, n: usize, action: Action) {
        let mut s = self.inner.schedule.lock().unwrap();
        s.queue.extend(std::iter::repeat_n(action, n));
    }

    /// The action once the queue is empty (`None`: forward).
    pub fn set_always(&self, action: Option<Action>) {
        self.inner.schedule.lock().unwrap().always = action;
    }

    /// Answer `GET /info` with 404, like a server that predates it.
    pub fn hide_info(&self, hide: bool) {
        self.set_info(hide.then(|| Action::Answer(response(404, "{\"detail\":\"Not Found\"}"))));
    }

    /// What `GET /info` gets instead of the upstream's answer (`None`: forward).
    pub fn set_info(&self, action: Option<Action>) {
        *self.inner.info.lock().unwrap() = action;
    }

    /// Bytes of body the client took from [`Action::Endless`] answers.
    pub fn streamed(&self) -> usize {
        self.inner.streamed.load(Ordering::SeqCst)
    }

    /// Closes the listener: connections are refused until [`Self::accept`].
    /// Returns once it is closed.
    pub fn refuse(&self) {
        self.inner.refusing.store(true, Ordering::SeqCst);
        self.wait_listening(false);
    }

    /// Binds the same port again. Returns once it listens.
    pub fn accept(&self) {
        self.inner.refusing.store(false, Ordering::SeqCst);
        self.wait_listening(true);
    }

    fn wait_listening(&self, want: bool) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.inner.listening.load(Ordering::SeqCst) != want {
            assert!(Instant::now() < deadline, "proxy listener did not change");
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Every request seen so far, in arrival order.
    pub fn seen(&self) -> Vec<Seen> {
        self.inner.seen.lock().unwrap().clone()
    }

    /// How many requests were given `pred`'s actions.
    pub fn count(&self, pred: impl Fn(&Action) -> bool) -> usize {
        self.seen().iter().filter(|s| pred(&s.action)).count()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.inner.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn accept_loop(inner: &Arc<Inner>, mut listener: Option<TcpListener>) {
    while !inner.stop.load(Ordering::SeqCst) {
        if inner.refusing.load(Ordering::SeqCst) {
            if listener.take().is_some() {
                inner.listening.store(false, Ordering::SeqCst);
            }
            std::thread::sleep(Duration::from_millis(2));
            continue;
        }
        let Some(l) = &listener else {
            // std sets SO_REUSEADDR on Unix, so the port is free again at once.
            match TcpListener::bind(inner.addr) {
                Ok(l) => {
                    l.set_nonblocking(true).unwrap();
                    listener = Some(l);
                    inner.listening.store(true, Ordering::SeqCst);
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
            continue;
        };
        match l.accept() {
            Ok((s, _)) => {
                let i = inner.clone();
                std::thread::spawn(move || handle(&i, s));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(1));
            }
            Err(_) => std::thread::sleep(Duration::from_millis(10)),
        }
    }
}

/// A request head as read off the wire.
struct Head {
    method: String,
    path: String,
    /// The header lines (without the request line), as received.
    lines: Vec<String>,
    content_length: usize,
}

/// Reads up to the end of the head; returns it and the body bytes read with it.
fn read_head(s: &mut TcpStream) -> Option<(Head, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(p) = find(&buf, b"\r\n\r\n") {
            break p;
        }
        if buf.len() > 64 * 1024 {
            return None;
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let text = String::from_utf8_lossy(&buf[..end]).into_owned();
    let mut lines = text.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_owned();
    let path = first.next()?.to_owned();
    let lines: Vec<String> = lines.map(str::to_owned).collect();
    let content_length = lines
        .iter()
        .filter_map(|l| l.split_once(':'))
        .find(|(k, _)| k.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0);
    let rest = buf[end + 4..].to_vec();
    Some((
        Head {
            method,
            path,
            lines,
            content_length,
        },
        rest,
    ))
}

fn read_body(s: &mut TcpStream, mut body: Vec<u8>, len: usize) -> Option<Vec<u8>> {
    let mut chunk = [0u8; 16384];
    while body.len() < len {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => body.extend_from_slice(&chunk[..n]),
        }
    }
    Some(body)
}

fn handle(inner: &Inner, mut s: TcpStream) {
    let _ = s.set_read_timeout(Some(Duration::from_secs(15)));
    let _ = s.set_nodelay(true);
    let Some((head, prefix)) = read_head(&mut s) else {
        return;
    };
    let is_info = head.method == "GET" && head.path.trim_end_matches('/').ends_with("/info");
    let info = if is_info {
        inner.info.lock().unwrap().clone()
    } else {
        None
    };
    let action = if let Some(a) = info {
        a
    } else if head.method == "GET" {
        Action::Forward
    } else {
        let mut sch = inner.schedule.lock().unwrap();
        sch.queue
            .pop_front()
            .or_else(|| sch.always.clone())
            .unwrap_or(Action::Forward)
    };
    inner.seen.lock().unwrap().push(Seen {
        method: head.method.clone(),
        path: head.path.clone(),
        action: action.clone(),
        body_len: head.content_length,
        at: Instant::now(),
    });
    match action {
        Action::ResetMidBody => {
            let want = (head.content_length / 2).min(4096);
            let _ = read_body(&mut s, prefix, want);
            // Let the rest of the body land in our receive buffer: closing
            // with unread data makes the kernel answer with RST, not FIN.
            std::thread::sleep(Duration::from_millis(50));
            drop(s);
        }
        Action::Hang(d) => {
            let _ = read_body(&mut s, prefix, head.content_length);
            let until = Instant::now() + d;
            while Instant::now() < until && !inner.stop.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
            }
            let _ = s.shutdown(Shutdown::Both);
        }
        Action::Answer(raw) => {
            let _ = read_body(&mut s, prefix, head.content_length);
            let _ = s.write_all(raw.as_bytes());
            let _ = s.shutdown(Shutdown::Both);
        }
        Action::Endless { max, declared } => {
            let _ = read_body(&mut s, prefix, head.content_length);
            let _ = s.set_write_timeout(Some(Duration::from_secs(10)));
            let length = if declared {
                "content-length: 1000000000000\r\n"
            } else {
                "connection: close\r\n"
            };
            let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{length}\r\n");
            if s.write_all(head.as_bytes()).is_ok() {
                let zeros = vec![b'0'; 64 * 1024];
                let mut sent = 0;
                while sent < max && !inner.stop.load(Ordering::SeqCst) {
                    match s.write(&zeros) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => {
                            sent += n;
                            inner.streamed.fetch_add(n, Ordering::SeqCst);
                        }
                    }
                }
            }
            let _ = s.shutdown(Shutdown::Both);
        }
        Action::Delay(d) => {
            let Some(body) = read_body(&mut s, prefix, head.content_length) else {
                return;
            };
            std::thread::sleep(d);
            forward(inner, s, &head, &body);
        }
        Action::Forward => {
            let Some(body) = read_body(&mut s, prefix, head.content_length) else {
                return;
            };
            forward(inner, s, &head, &body);
        }
    }
}

fn forward(inner: &Inner, mut client: TcpStream, head: &Head, body: &[u8]) {
    let Ok(mut up) = TcpStream::connect_timeout(&inner.upstream, Duration::from_secs(5)) else {
        let _ = client.write_all(response(502, "{\"detail\":\"upstream down\"}").as_bytes());
        return;
    };
    let _ = up.set_read_timeout(Some(Duration::from_secs(30)));
    let mut out = format!("{} {} HTTP/1.1\r\n", head.method, head.path);
    for l in &head.lines {
        let name = l.split(':').next().unwrap_or("").trim();
        if !name.eq_ignore_ascii_case("connection") && !name.eq_ignore_ascii_case("keep-alive") {
            out.push_str(l);
            out.push_str("\r\n");
        }
    }
    out.push_str("Connection: close\r\n\r\n");
    if up.write_all(out.as_bytes()).is_err() || up.write_all(body).is_err() {
        return;
    }
    let mut answer = Vec::new();
    let _ = up.read_to_end(&mut answer);
    let _ = client.write_all(&answer);
    let _ = client.shutdown(Shutdown::Both);
}

/// A complete HTTP/1.1 answer with a JSON body that closes the connection.
pub fn response(status: u16, body: &str) -> String {
    format!(
        "HTTP/1.1 {status} X\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// A parsed answer.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

fn parse_response_head(head: &[u8]) -> (u16, Vec<(String, String)>) {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .expect("an HTTP status line");
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers)
}

/// One request over a fresh connection (`Connection: close`), raw header
/// values allowed (non-UTF-8 included), body read to the end.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &[u8])],
    body: &[u8],
) -> Resp {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let mut out =
        format!("{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n").into_bytes();
    for (k, v) in headers {
        out.extend_from_slice(k.as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(v);
        out.extend_from_slice(b"\r\n");
    }
    let framed = headers.iter().any(|(k, _)| {
        k.eq_ignore_ascii_case("content-length") || k.eq_ignore_ascii_case("transfer-encoding")
    });
    if !framed {
        out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    // A server may answer (413) before reading all of a large body.
    let _ = s.write_all(&out);
    let _ = s.write_all(body);
    let mut all = Vec::new();
    let _ = s.read_to_end(&mut all);
    let end = find(&all, b"\r\n\r\n").unwrap_or_else(|| {
        panic!(
            "not an HTTP answer from {method} {path}: {:?}",
            String::from_utf8_lossy(&all)
        )
    });
    let (status, headers) = parse_response_head(&all[..end]);
    Resp {
        status,
        headers,
        body: all[end + 4..].to_vec(),
    }
}

/// A kept-alive connection for many small requests (answers must carry a
/// `content-length`, as axum's do).
pub struct KeepAlive {
    addr: SocketAddr,
    s: TcpStream,
    buf: Vec<u8>,
}

impl KeepAlive {
    pub fn connect(addr: SocketAddr) -> KeepAlive {
        let s = TcpStream::connect_timeout(&addr, Duration::from_secs(5)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.set_nodelay(true).unwrap();
        KeepAlive {
            addr,
            s,
            buf: Vec::new(),
        }
    }

    /// `GET path` with extra headers; the status and the body.
    pub fn get(&mut self, path: &str, headers: &[(&str, &str)]) -> (u16, Vec<u8>) {
        let mut out = format!("GET {path} HTTP/1.1\r\nhost: {}\r\n", self.addr);
        for (k, v) in headers {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("\r\n");
        self.s.write_all(out.as_bytes()).unwrap();
        let mut chunk = [0u8; 8192];
        let end = loop {
            if let Some(p) = find(&self.buf, b"\r\n\r\n") {
                break p;
            }
            let n = self.s.read(&mut chunk).unwrap();
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
        };
        let (status, headers) = parse_response_head(&self.buf[..end]);
        let len: usize = headers
            .iter()
            .find(|(k, _)| k == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .expect("content-length");
        self.buf.drain(..end + 4);
        while self.buf.len() < len {
            let n = self.s.read(&mut chunk).unwrap();
            assert!(n > 0, "connection closed");
            self.buf.extend_from_slice(&chunk[..n]);
        }
        let body: Vec<u8> = self.buf.drain(..len).collect();
        (status, body)
    }
}

/// Log capture: everything logged through `tracing` (the SDK, the
/// collector, hyper) and through `log` (reqwest), from every thread, into
/// one buffer the tests read. Installed once per test binary.
pub mod logs {
    use std::io::Write;
    use std::sync::{Arc, Mutex, OnceLock};

    static BUF: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();

    struct Writer(Arc<Mutex<Vec<u8>>>);

    impl Write for Writer {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    struct LogBridge(Arc<Mutex<Vec<u8>>>);

    impl log::Log for LogBridge {
        fn enabled(&self, _: &log::Metadata<'_>) -> bool {
            true
        }
        fn log(&self, r: &log::Record<'_>) {
            let line = format!("{} {} (log): {}\n", r.level(), r.target(), r.args());
            self.0
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .extend_from_slice(line.as_bytes());
        }
        fn flush(&self) {}
    }

    /// Installs the capture (once) with `filter` (an `EnvFilter` directive
    /// such as `trace` or `langsmith_core=debug,warn`).
    pub fn capture(filter: &str) {
        BUF.get_or_init(|| {
            let buf = Arc::new(Mutex::new(Vec::new()));
            let w = buf.clone();
            let sub = tracing_subscriber::fmt()
                .with_ansi(false)
                .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
                .with_writer(move || Writer(w.clone()))
                .finish();
            tracing::subscriber::set_global_default(sub).expect("no other subscriber");
            log::set_boxed_logger(Box::new(LogBridge(buf.clone()))).expect("no other logger");
            log::set_max_level(log::LevelFilter::Trace);
            buf
        });
    }

    /// Everything captured so far.
    pub fn all() -> String {
        BUF.get().map_or_else(String::new, |b| {
            String::from_utf8_lossy(&b.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
        })
    }

    /// The captured lines that contain every one of `needles`.
    pub fn lines_with(needles: &[&str]) -> Vec<String> {
        all()
            .lines()
            .filter(|l| needles.iter().all(|n| l.contains(n)))
            .map(str::to_owned)
            .collect()
    }
}
