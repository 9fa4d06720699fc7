//! A real actix-web server on 127.0.0.1 (its own thread and actix System),
//! the routes the tests use, and helpers.

use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::{ServerHandle, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::web::{self, Bytes};
use actix_web::{App, HttpRequest, HttpResponse, HttpServer};
use langsmith_actix::{CurrentRun, ServerOptions, TracingMiddleware};
use langsmith_core::*;
use langsmith_reqwest::LangSmithMiddleware;
use reqwest_middleware::{ClientBuilder, ClientWithMiddleware, reqwest};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

pub const CALLER: &str = "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001";
pub const CALLER_ID: &str = "0193d5a2-0000-7000-8000-000000000001";

/// Shared with the SSE route: when the server produced its last chunk.
#[derive(Clone, Default)]
pub struct SseClock(pub Arc<Mutex<Option<Timestamp>>>);

#[derive(Clone)]
struct State {
    http: ClientWithMiddleware,
    base: Arc<Mutex<String>>,
    sse: SseClock,
}

pub fn sink_client(sink: &MemorySink) -> Client {
    Client::builder()
        .sink(sink.clone())
        .tracing(Some(true))
        .project("server")
        .build()
}

pub fn outgoing() -> ClientWithMiddleware {
    ClientBuilder::new(reqwest::Client::new())
        .with(LangSmithMiddleware::new().record_child_runs(true))
        .build()
}

fn ids(run: &CurrentRun) -> Value {
    let ambient = current_run();
    json!({
        "extracted": run.0.as_ref().map(|c| c.id().to_string()),
        "ambient": ambient.as_ref().map(|c| c.id().to_string()),
        "parent": ambient.as_ref().and_then(|c| c.parent_id()).map(|p| p.to_string()),
    })
}

async fn user(run: CurrentRun, id: web::Path<u32>) -> HttpResponse {
    // Annotates the request's run from the handler.
    if let Some(ctx) = &run.0 {
        assert!(ctx.add_metadata("user_id", *id));
    }
    let mut v = ids(&run);
    v["user"] = json!(*id);
    HttpResponse::Ok().json(v)
}

async fn fixed() -> &'static str {
    "hello, fixed body"
}

async fn panics() -> &'static str {
    panic!("handler exploded")
}

async fn fails() -> HttpResponse {
    HttpResponse::InternalServerError().body("nope")
}

async fn slow() -> &'static str {
    traceable("slow-inner")
        .call_async(tokio::time::sleep(Duration::from_secs(5)))
        .await;
    "late"
}

/// Random-ish delay, a traced child, and the ids seen on both sides.
async fn work(run: CurrentRun, n: web::Path<u64>) -> HttpResponse {
    let n = n.into_inner();
    let before = ids(&run);
    let delay = n.wrapping_mul(2_654_435_761) % 20;
    let inner = traceable("inner")
        .metadata("n", n)
        .call_async(async move {
            tokio::time::sleep(Duration::from_millis(delay)).await;
            current_run().map(|c| c.id().to_string())
        })
        .await;
    let after = ids(&run);
    HttpResponse::Ok().json(json!({ "before": before, "after": after, "inner": inner, "n": n }))
}

/// Echoes the LangSmith headers it received.
async fn echo(req: HttpRequest) -> HttpResponse {
    let values = |name: &str| -> Vec<String> {
        req.headers()
            .get_all(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect()
    };
    HttpResponse::Ok()
        .json(json!({ "trace": values("langsmith-trace"), "baggage": values("baggage") }))
}

/// Calls `/echo` on this server through the reqwest middleware.
async fn call_out(state: web::Data<State>) -> HttpResponse {
    let base = state.base.lock().unwrap().clone();
    let text = state
        .http
        .get(format!("{base}/echo"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["server_run"] = json!(current_run().map(|c| c.id().to_string()));
    HttpResponse::Ok().json(v)
}

/// An SSE body: 5 events, 90 ms apart (first one at once).
struct Sse {
    next: u32,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    clock: SseClock,
}

impl MessageBody for Sse {
    type Error = Infallible;
    fn size(&self) -> BodySize {
        BodySize::Stream
    }
    fn poll_next(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Infallible>>> {
        if self.next == 5 {
            return Poll::Ready(None);
        }
        if let Some(sleep) = self.sleep.as_mut()
            && sleep.as_mut().poll(cx).is_pending()
        {
            return Poll::Pending;
        }
        self.sleep = Some(Box::pin(tokio::time::sleep(Duration::from_millis(90))));
        self.next += 1;
        if self.next == 5 {
            *self.clock.0.lock().unwrap() = Some(Timestamp::now());
        }
        Poll::Ready(Some(Ok(Bytes::from(format!("data: {}\n\n", self.next)))))
    }
}

async fn sse(state: web::Data<State>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .body(Sse {
            next: 0,
            sleep: None,
            clock: state.sse.clone(),
        })
}

use std::future::Future;

fn app(
    opts: ServerOptions,
    state: State,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    App::new()
        .wrap(TracingMiddleware::with_options(opts))
        .app_data(web::Data::new(state))
        .route("/users/{id}", web::get().to(user))
        .route("/health", web::get().to(fixed))
        .route("/fixed", web::get().to(fixed))
        .route("/any", web::route().to(fixed))
        .route("/panic", web::get().to(panics))
        .route("/fail", web::get().to(fails))
        .route("/slow", web::get().to(slow))
        .route("/work/{n}", web::get().to(work))
        .route("/echo", web::get().to(echo))
        .route("/call-out", web::get().to(call_out))
        .route("/sse", web::get().to(sse))
}

pub struct TestServer {
    pub base: String,
    pub sink: MemorySink,
    pub sse: SseClock,
    handle: ServerHandle,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

/// Starts the app (traced into a fresh MemorySink) on an ephemeral port.
pub fn start() -> TestServer {
    start_with(|o| o)
}

pub fn start_with(f: impl FnOnce(ServerOptions) -> ServerOptions) -> TestServer {
    let sink = MemorySink::new();
    let opts = f(ServerOptions::new()
        .client(sink_client(&sink))
        .skip_paths(["/health"]));
    let sse = SseClock::default();
    let base = Arc::new(Mutex::new(String::new()));
    let state = State {
        http: outgoing(),
        base: base.clone(),
        sse: sse.clone(),
    };
    let (tx, rx) = std::sync::mpsc::channel::<(SocketAddr, ServerHandle)>();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || app(opts.clone(), state.clone()))
                .workers(2)
                // Without this actix-web lets a handler run on after the
                // client hung up (half-closed connections are allowed).
                .h1_allow_half_closed(false)
                .disable_signals()
                .shutdown_timeout(1)
                .bind(("127.0.0.1", 0))
                .unwrap();
            let addr = server.addrs()[0];
            let server = server.run();
            tx.send((addr, server.handle())).unwrap();
            let _ = server.await;
        })
    });
    let (addr, handle) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    let url = format!("http://{addr}");
    *base.lock().unwrap() = url.clone();
    TestServer {
        base: url,
        sink,
        sse,
        handle,
    }
}

/// Waits (bounded) until `n` runs have arrived; returns them.
pub async fn wait_runs(sink: &MemorySink, n: usize) -> Vec<RunRecord> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let runs = sink.runs();
        if runs.len() >= n || Instant::now() > deadline {
            assert!(
                runs.len() >= n,
                "expected {n} runs, got {}: {runs:#?}",
                runs.len()
            );
            return runs;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub fn by_name<'a>(runs: &'a [RunRecord], name: &str) -> &'a RunRecord {
    runs.iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no run named {name}: {runs:#?}"))
}
