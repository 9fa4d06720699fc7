//! A null LangSmith endpoint for load tests: accepts what the SDKs send,
//! stores nothing, and counts the runs it received so that a harness can
//! check delivery.
//!
//! ```text
//! cargo run --release --example null_sink            # any free port
//! PORT=1985 cargo run --release --example null_sink
//! NULL_SINK_ZSTD=false cargo run --release --example null_sink
//! ```
//!
//! The first line printed is `listening on 127.0.0.1:PORT` (loopback only).
//!
//! - `GET /info`: like the collector's (multipart endpoint, batch limits,
//!   `zstd_compression_enabled` true unless `NULL_SINK_ZSTD=false`);
//! - `POST /runs/multipart`, `POST /runs/batch`, `POST /runs`,
//!   `PATCH /runs/{id}`, `POST /feedback`: the body is read in full
//!   (zstd-decoded when `Content-Encoding: zstd`), its runs are counted, and
//!   the answer is `202 {}` — or `400` when the body cannot be read, so that
//!   a sender notices;
//! - `GET /stats`: `{"posts":N,"patches":M,"bytes":B,...}` — run creations
//!   (multipart parts named `post.{id}`, `post` entries of a batch, `POST
//!   /runs`), run updates (`patch.{id}`, `patch` entries, `PATCH /runs/{id}`)
//!   and body bytes as received;
//! - `POST /stats/reset`: zeroes the counters.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Largest body accepted, before and after decoding.
const BODY_LIMIT: usize = 64 * 1024 * 1024;

#[derive(Default)]
struct Counters {
    posts: AtomicU64,
    patches: AtomicU64,
    feedback: AtomicU64,
    bytes: AtomicU64,
    decoded_bytes: AtomicU64,
    requests: AtomicU64,
    errors: AtomicU64,
}

#[derive(Clone)]
struct Sink {
    counters: Arc<Counters>,
    zstd: bool,
}

type Answer = Result<Response, (StatusCode, String)>;

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [(header::CONTENT_TYPE, "application/json")],
        "{}",
    )
        .into_response()
}

impl Sink {
    /// Counts the request and returns its decoded body.
    fn body(&self, headers: &HeaderMap, body: &Bytes) -> Result<Bytes, (StatusCode, String)> {
        let c = &self.counters;
        c.requests.fetch_add(1, Relaxed);
        c.bytes.fetch_add(body.len() as u64, Relaxed);
        let encoding = headers
            .get(header::CONTENT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("identity")
            .trim()
            .to_ascii_lowercase();
        let decoded = match encoding.as_str() {
            "identity" | "" => body.clone(),
            "zstd" => {
                let mut out = Vec::with_capacity(body.len() * 4);
                let decoder = zstd::stream::read::Decoder::new(&body[..]).map_err(bad)?;
                std::io::copy(
                    &mut std::io::Read::take(decoder, BODY_LIMIT as u64 + 1),
                    &mut out,
                )
                .map_err(bad)?;
                if out.len() > BODY_LIMIT {
                    return Err(bad("decoded body too large"));
                }
                Bytes::from(out)
            }
            other => return Err(bad(format!("unsupported Content-Encoding {other}"))),
        };
        c.decoded_bytes.fetch_add(decoded.len() as u64, Relaxed);
        Ok(decoded)
    }

    fn fail(&self, e: (StatusCode, String)) -> Response {
        self.counters.errors.fetch_add(1, Relaxed);
        eprintln!("null_sink: {}", e.1);
        e.into_response()
    }
}

fn bad(e: impl std::fmt::Display) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, e.to_string())
}

/// `post.{id}` → (1, 0), `patch.{id}` → (0, 1); the parts of a run
/// (`post.{id}.inputs`, attachments, ...) and anything else → (0, 0).
fn classify(part_name: &str) -> (u64, u64) {
    match part_name.split_once('.') {
        Some(("post", id)) if !id.contains('.') => (1, 0),
        Some(("patch", id)) if !id.contains('.') => (0, 1),
        _ => (0, 0),
    }
}

async fn multipart(State(s): State<Sink>, headers: HeaderMap, body: Bytes) -> Response {
    let result: Answer = (|| {
        let body = s.body(&headers, &body)?;
        let content_type = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let boundary = langsmith_collector::multipart::boundary(content_type)
            .ok_or_else(|| bad("not multipart/form-data with a boundary"))?;
        let parts = langsmith_collector::multipart::parse(&body, &boundary).map_err(bad)?;
        let (mut posts, mut patches, mut feedback) = (0, 0, 0);
        for part in &parts {
            let (p, u) = classify(&part.name);
            posts += p;
            patches += u;
            feedback += u64::from(part.name.starts_with("feedback."));
        }
        s.counters.posts.fetch_add(posts, Relaxed);
        s.counters.patches.fetch_add(patches, Relaxed);
        s.counters.feedback.fetch_add(feedback, Relaxed);
        Ok(accepted())
    })();
    result.unwrap_or_else(|e| s.fail(e))
}

fn json_len(v: Option<&serde_json::Value>) -> u64 {
    v.and_then(serde_json::Value::as_array)
        .map_or(0, |a| a.len() as u64)
}

async fn batch(State(s): State<Sink>, headers: HeaderMap, body: Bytes) -> Response {
    let result: Answer = (|| {
        let body = s.body(&headers, &body)?;
        let v: serde_json::Value = serde_json::from_slice(&body).map_err(bad)?;
        s.counters.posts.fetch_add(json_len(v.get("post")), Relaxed);
        s.counters
            .patches
            .fetch_add(json_len(v.get("patch")), Relaxed);
        Ok(accepted())
    })();
    result.unwrap_or_else(|e| s.fail(e))
}

/// `POST /runs`, `PATCH /runs/{id}`, `POST /feedback`: one item each.
async fn single(s: Sink, headers: HeaderMap, body: Bytes, counter: &AtomicU64) -> Response {
    let result: Answer = s.body(&headers, &body).and_then(|body| {
        serde_json::from_slice::<serde_json::Value>(&body).map_err(bad)?;
        counter.fetch_add(1, Relaxed);
        Ok(accepted())
    });
    result.unwrap_or_else(|e| s.fail(e))
}

async fn stats(State(s): State<Sink>) -> Response {
    let c = &s.counters;
    axum::Json(serde_json::json!({
        "posts": c.posts.load(Relaxed),
        "patches": c.patches.load(Relaxed),
        "bytes": c.bytes.load(Relaxed),
        "decoded_bytes": c.decoded_bytes.load(Relaxed),
        "feedback": c.feedback.load(Relaxed),
        "requests": c.requests.load(Relaxed),
        "errors": c.errors.load(Relaxed),
    }))
    .into_response()
}

async fn reset(State(s): State<Sink>) -> Response {
    let c = &s.counters;
    for n in [
        &c.posts,
        &c.patches,
        &c.feedback,
        &c.bytes,
        &c.decoded_bytes,
        &c.requests,
        &c.errors,
    ] {
        n.store(0, Relaxed);
    }
    stats(State(s)).await
}

async fn info(State(s): State<Sink>) -> Response {
    axum::Json(serde_json::json!({
        "version": "0.10.0",
        "license_expiration_time": null,
        "batch_ingest_config": {
            "use_multipart_endpoint": true,
            "scale_up_qsize_trigger": 1000,
            "scale_up_nthreads_limit": 16,
            "scale_down_nempty_trigger": 4,
            "size_limit": 100,
            "size_limit_bytes": 20 * 1024 * 1024,
        },
        "instance_flags": {
            "zstd_compression_enabled": s.zstd,
            "dataset_examples_multipart_enabled": false,
            "examples_multipart_enabled": false,
        },
        "customer_info": null,
    }))
    .into_response()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let port: u16 = match std::env::var("PORT") {
        Ok(port) => port.parse().map_err(|e| format!("PORT={port:?}: {e}"))?,
        Err(_) => 0,
    };
    let zstd = !matches!(
        std::env::var("NULL_SINK_ZSTD").as_deref(),
        Ok("false" | "0" | "no")
    );
    let sink = Sink {
        counters: Arc::default(),
        zstd,
    };
    let app = Router::new()
        .route("/info", get(info))
        .route("/stats", get(stats))
        .route("/stats/reset", post(reset))
        .route("/runs/multipart", post(multipart))
        .route("/runs/batch", post(batch))
        .route(
            "/runs",
            post(|State(s): State<Sink>, h: HeaderMap, b: Bytes| async move {
                let c = s.counters.clone();
                single(s, h, b, &c.posts).await
            }),
        )
        .route(
            "/runs/{id}",
            patch(|State(s): State<Sink>, h: HeaderMap, b: Bytes| async move {
                let c = s.counters.clone();
                single(s, h, b, &c.patches).await
            }),
        )
        .route(
            "/feedback",
            post(|State(s): State<Sink>, h: HeaderMap, b: Bytes| async move {
                let c = s.counters.clone();
                single(s, h, b, &c.feedback).await
            }),
        )
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(sink);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    eprintln!(
        "null_sink: zstd {}; GET /stats for the counts",
        if zstd { "on" } else { "off" }
    );
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::classify;

    #[test]
    fn part_names() {
        let id = "0193d5a2-0000-7000-8000-000000000001";
        assert_eq!(classify(&format!("post.{id}")), (1, 0));
        assert_eq!(classify(&format!("patch.{id}")), (0, 1));
        assert_eq!(classify(&format!("post.{id}.inputs")), (0, 0));
        assert_eq!(classify(&format!("attachment.{id}.f")), (0, 0));
        assert_eq!(classify("feedback.x"), (0, 0));
    }
}
