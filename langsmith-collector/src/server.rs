//! The HTTP server: shared state, routes, middleware (request recording,
//! API-key check, fault injection) and the server thread with its own runtime.

use std::net::SocketAddr;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::conn::{ConnInfo, KillableListener};
use crate::fault::{Fault, Faults};
use crate::record::{RecordedRequest, RequestLog, Slot};
use crate::store::Store;
use crate::{api_ingest, api_read};

/// Settings the handlers need.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub api_key: Option<String>,
    pub zstd: bool,
    /// Largest request body accepted, as received.
    pub body_limit: usize,
    /// Largest body accepted after decompression.
    pub decoded_limit: usize,
    /// Oversized bodies are read and discarded up to this many bytes so the
    /// client sees the 413.
    pub drain_cap: usize,
    /// The batch size advertised in `/info`.
    pub size_limit_bytes: usize,
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub store: Store,
    pub cfg: Arc<Config>,
    pub faults: Arc<Faults>,
    pub requests: Arc<RequestLog>,
    /// Random, made at start: the `token` of the attachment download URLs
    /// the run answers carry (LangSmith's presigned URLs), which work
    /// without an `x-api-key`, as a presigned URL does.
    pub attachment_token: Arc<str>,
}

/// A JSON error answer: `{"detail": msg}`.
pub(crate) fn detail(status: StatusCode, msg: impl Into<String>) -> Response {
    (status, axum::Json(json!({ "detail": msg.into() }))).into_response()
}

/// An error answer, small enough to pass around in `Result`s.
#[derive(Debug)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub msg: String,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, msg: impl Into<String>) -> Self {
        ApiError {
            status,
            msg: msg.into(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        detail(self.status, self.msg)
    }
}

/// A JSON answer.
pub(crate) fn json_response(status: StatusCode, v: Value) -> Response {
    (status, axum::Json(v)).into_response()
}

/// The path without an `/api/v1` prefix (LangSmith's API lives under both).
fn api_path(path: &str) -> &str {
    path.strip_prefix("/api/v1").unwrap_or(path)
}

fn is_ingest(method: &Method, path: &str) -> bool {
    let p = api_path(path);
    match *method {
        Method::POST => matches!(p, "/runs" | "/runs/multipart" | "/runs/batch" | "/feedback"),
        Method::PATCH => p.starts_with("/runs/") && p.matches('/').count() == 2,
        _ => false,
    }
}

/// Builds the router with every route and middleware.
pub(crate) fn router(state: AppState) -> Router {
    let mut api = Router::new();
    for prefix in ["", "/api/v1"] {
        let p = |s: &str| format!("{prefix}{s}");
        api = api
            .route(&p("/info"), get(api_read::info))
            .route(&p("/runs/multipart"), post(api_ingest::multipart))
            .route(&p("/runs/batch"), post(api_ingest::batch))
            .route(&p("/runs"), post(api_ingest::create_run))
            .route(
                &p("/runs/{id}"),
                get(api_read::get_run).patch(api_ingest::update_run),
            )
            .route(&p("/runs/query"), post(api_read::query_runs))
            .route(
                &p("/feedback"),
                post(api_ingest::create_feedback).get(api_read::list_feedback),
            )
            .route(&p("/feedback/{id}"), get(api_read::get_feedback))
            .route(
                &p("/sessions"),
                get(api_read::list_sessions).post(api_read::create_session),
            )
            .route(&p("/sessions/{id}"), get(api_read::get_session))
            .route(
                &p("/attachments/{run_id}/{name}"),
                get(crate::api_attachments::get_attachment),
            );
    }
    api.route("/", get(crate::viewer::index))
        .route("/health", get(|| async { "ok" }))
        .route("/api/traces/{trace_id}", get(api_read::trace_tree))
        .merge(crate::viewer::routes())
        .fallback(|| async { detail(StatusCode::NOT_FOUND, "Not Found") })
        .method_not_allowed_fallback(|| async {
            detail(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
        })
        .layer(from_fn_with_state(state.clone(), inject_faults))
        .layer(from_fn_with_state(state.clone(), check_api_key))
        .layer(from_fn_with_state(state.clone(), record))
        .with_state(state)
}

/// Records every request and its answer in the request log.
async fn record(State(st): State<AppState>, mut req: Request, next: Next) -> Response {
    if !st.requests.enabled() {
        // Handlers still expect a slot; it is simply never kept.
        req.extensions_mut().insert(Slot::default());
        return next.run(req).await;
    }
    let headers = req
        .headers()
        .iter()
        .map(|(k, v)| {
            let name = k.as_str().to_owned();
            let value = if name == "x-api-key" || name == "authorization" {
                "<redacted>".to_owned()
            } else {
                String::from_utf8_lossy(v.as_bytes()).into_owned()
            };
            (name, value)
        })
        .collect();
    let slot = Slot::default();
    slot.update(|r| {
        *r = RecordedRequest {
            method: req.method().to_string(),
            path: req.uri().path().to_owned(),
            query: req.uri().query().map(str::to_owned),
            headers,
            content_encoding: req
                .headers()
                .get(http::header::CONTENT_ENCODING)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()),
            ..RecordedRequest::default()
        }
    });
    req.extensions_mut().insert(slot.clone());
    let resp = next.run(req).await;
    let dropped = resp.extensions().get::<Dropped>().is_some();
    slot.update(|r| r.status = (!dropped).then_some(resp.status().as_u16()));
    st.requests.push(slot.snapshot());
    resp
}

/// With an API key configured, every route but `/`, `/health` and the
/// viewer's static files needs it in `x-api-key`.
async fn check_api_key(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if let Some(key) = &st.cfg.api_key
        && !matches!(req.uri().path(), "/" | "/health")
        && !crate::viewer::is_public_asset(req.uri().path())
        // Checked by the route itself: the key, or the URL's token.
        && !api_path(req.uri().path()).starts_with("/attachments/")
    {
        let given = req
            .headers()
            .get("x-api-key")
            .map(|v| v.as_bytes())
            .unwrap_or_default();
        if !constant_time_eq(given, key.as_bytes()) {
            let msg = if given.is_empty() {
                "missing x-api-key header"
            } else {
                "invalid x-api-key"
            };
            return detail(StatusCode::UNAUTHORIZED, msg);
        }
    }
    next.run(req).await
}

pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Marks a response whose connection was cut by [`Fault::Drop`].
#[derive(Clone, Copy)]
struct Dropped;

/// Applies the next scheduled fault to ingest requests.
async fn inject_faults(State(st): State<AppState>, req: Request, next: Next) -> Response {
    if !is_ingest(req.method(), req.uri().path()) {
        return next.run(req).await;
    }
    let Some(fault) = st.faults.take() else {
        return next.run(req).await;
    };
    if let Some(slot) = req.extensions().get::<Slot>() {
        slot.update(|r| r.fault = Some(format!("{fault:?}")));
    }
    match fault {
        Fault::Delay(d) => {
            tokio::time::sleep(d).await;
            next.run(req).await
        }
        Fault::Status { code, retry_after } => {
            drain(req, &st).await;
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            let mut resp = detail(status, format!("injected fault: status {code}"));
            if let Some(secs) = retry_after {
                resp.headers_mut()
                    .insert(http::header::RETRY_AFTER, http::HeaderValue::from(secs));
            }
            resp
        }
        Fault::Drop => {
            let conn = req.extensions().get::<ConnectInfo<ConnInfo>>().cloned();
            drain(req, &st).await;
            if let Some(ConnectInfo(c)) = conn {
                c.kill();
            }
            let mut resp = StatusCode::INTERNAL_SERVER_ERROR.into_response();
            resp.extensions_mut().insert(Dropped);
            resp
        }
    }
}

/// Reads and discards a request body (bounded), recording its size.
async fn drain(req: Request, st: &AppState) {
    let slot = req.extensions().get::<Slot>().cloned();
    let (parts, body) = req.into_parts();
    let n = crate::body::read_limited(&parts.headers, body, st.cfg.drain_cap, st.cfg.drain_cap)
        .await
        .map_or(0, |b| b.len());
    if let Some(s) = slot {
        s.update(|r| r.body_size = n);
    }
}

/// The running server: its thread and how to stop it.
pub(crate) struct ServerThread {
    stop: tokio::sync::watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
}

impl ServerThread {
    /// Serves `listener` on a new thread with its own tokio runtime.
    pub(crate) fn spawn(
        listener: std::net::TcpListener,
        state: AppState,
    ) -> std::io::Result<ServerThread> {
        listener.set_nonblocking(true)?;
        let (stop, mut stop_rx) = tokio::sync::watch::channel(false);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<std::io::Result<()>>();
        let thread = std::thread::Builder::new()
            .name("langsmith-collector".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(2)
                    .thread_name("langsmith-collector-worker")
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return;
                    }
                };
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::from_std(listener) {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            return;
                        }
                    };
                    let mut graceful = stop_rx.clone();
                    let app = router(state).into_make_service_with_connect_info::<ConnInfo>();
                    let serve = axum::serve(KillableListener(listener), app)
                        .with_graceful_shutdown(async move {
                            let _ = graceful.wait_for(|s| *s).await;
                        });
                    let task = tokio::spawn(async move { serve.await });
                    let _ = ready_tx.send(Ok(()));
                    let _ = stop_rx.wait_for(|s| *s).await;
                    // Let in-flight requests finish, but not forever.
                    let _ = tokio::time::timeout(Duration::from_secs(3), task).await;
                });
                rt.shutdown_timeout(Duration::from_secs(1));
            })?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(ServerThread {
                stop,
                thread: Some(thread),
            }),
            Ok(Err(e)) => {
                let _ = thread.join();
                Err(e)
            }
            Err(_) => {
                let _ = thread.join();
                Err(std::io::Error::other("the server thread failed to start"))
            }
        }
    }

    /// Stops accepting, lets in-flight requests finish (bounded) and joins the thread.
    pub(crate) fn stop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The address a listener is bound to, as a URL.
pub(crate) fn url_of(addr: SocketAddr) -> String {
    format!("http://{addr}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingest_routes() {
        assert!(is_ingest(&Method::POST, "/runs/multipart"));
        assert!(is_ingest(&Method::POST, "/api/v1/runs/batch"));
        assert!(is_ingest(&Method::PATCH, "/runs/abc"));
        assert!(!is_ingest(&Method::POST, "/runs/query"));
        assert!(!is_ingest(&Method::GET, "/runs/abc"));
        assert!(!is_ingest(&Method::GET, "/info"));
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
    }
}
