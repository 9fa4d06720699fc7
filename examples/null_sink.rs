//! A null LangSmith endpoint for load tests: accepts what the SDKs send,
//! stores nothing, and counts the runs it received so that a harness can
//! check delivery.
//!
//! ```text
//! cargo run --release --example null_sink            # any free port
//! PORT=1985 cargo run --release --example null_sink
//! ```
//!
//! The first line printed is `listening on 127.0.0.1:PORT` (loopback only).
//!
//! - `GET /info`: like the collector's (multipart endpoint, batch limits,
//!   `zstd_compression_enabled` true unless `NULL_SINK_ZSTD=false`);
//! - `POST /runs/multipart`, `POST /runs/batch`, `POST /runs`,
//!   `PATCH /runs/{id}`, `POST /feedback`: the body is read in full and
//!   answered `202 {}`; it is then decoded (zstd when `Content-Encoding:
//!   zstd`), parsed and counted on a blocking thread, the way an ingestion
//!   API that queues what it receives answers before processing it. With
//!   `NULL_SINK_SYNC=true` it is counted before answering instead, and a
//!   body that cannot be read is answered `400`;
//!   With `NULL_SINK_COUNT=false` bodies are read and answered but neither
//!   decoded nor counted (only `requests` and `bytes`): a stand-in for a
//!   LangSmith on another machine, for load tests where the sink must not
//!   take CPU from the process being measured (delivery is then checked
//!   with the sender's own `Client::stats`);
//! - `GET /stats`: `{"posts":N,"patches":M,"bytes":B,...}` — run creations
//!   (multipart parts named `post.{id}`, `post` entries of a batch, `POST
//!   /runs`), run updates (`patch.{id}`, `patch` entries, `PATCH /runs/{id}`),
//!   body bytes as received, and `errors` (bodies that could not be read);
//!   it first waits until every accepted body has been counted;
//! - `POST /stats/reset`: zeroes the counters (after the same wait).

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

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
    /// Bodies accepted and not yet counted.
    counting: AtomicU64,
}

#[derive(Clone)]
struct Sink {
    counters: Arc<Counters>,
    zstd: bool,
    /// Count a body before answering (and answer 400 when it cannot be read)
    /// instead of after.
    sync: bool,
    /// Decode and count runs at all (`NULL_SINK_COUNT`).
    count: bool,
}

/// What a route receives.
#[derive(Clone, Copy)]
enum Route {
    Multipart,
    Batch,
    /// `POST /runs`
    Post,
    /// `PATCH /runs/{id}`
    Patch,
    Feedback,
}

fn accepted() -> Response {
    (
        StatusCode::ACCEPTED,
        [(header::CONTENT_TYPE, "application/json")],
        "{}",
    )
        .into_response()
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .trim()
        .to_string()
}

impl Sink {
    /// Accepts a request to `route`: counts it now (`NULL_SINK_SYNC=true`)
    /// or answers 202 at once and counts it on a blocking thread, as an
    /// ingestion API that queues what it receives would.
    fn ingest(&self, route: Route, headers: &HeaderMap, body: Bytes) -> Response {
        let c = &self.counters;
        c.requests.fetch_add(1, Relaxed);
        c.bytes.fetch_add(body.len() as u64, Relaxed);
        if !self.count {
            return accepted();
        }
        let encoding = header_str(headers, header::CONTENT_ENCODING).to_ascii_lowercase();
        let content_type = header_str(headers, header::CONTENT_TYPE);
        if self.sync {
            return match self.count(route, &encoding, &content_type, &body) {
                Ok(()) => accepted(),
                Err(e) => {
                    self.failed(&e);
                    (StatusCode::BAD_REQUEST, e).into_response()
                }
            };
        }
        c.counting.fetch_add(1, Relaxed);
        let sink = self.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = sink.count(route, &encoding, &content_type, &body) {
                sink.failed(&e);
            }
            sink.counters.counting.fetch_sub(1, Relaxed);
        });
        accepted()
    }

    fn failed(&self, e: &str) {
        self.counters.errors.fetch_add(1, Relaxed);
        eprintln!("null_sink: {e}");
    }

    /// Decodes a body and adds its runs to the counters.
    fn count(
        &self,
        route: Route,
        encoding: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<(), String> {
        DECODED.with_borrow_mut(|buf| {
            let body = decode(encoding, body, buf)?;
            self.count_decoded(route, content_type, body)
        })
    }

    fn count_decoded(&self, route: Route, content_type: &str, body: &[u8]) -> Result<(), String> {
        let c = &self.counters;
        c.decoded_bytes.fetch_add(body.len() as u64, Relaxed);
        let (posts, patches, feedback) = match route {
            Route::Multipart => {
                let boundary = langsmith_collector::multipart::boundary(content_type)
                    .ok_or("not multipart/form-data with a boundary")?;
                count_parts(body, &boundary)?
            }
            Route::Batch => {
                let v: serde_json::Value =
                    serde_json::from_slice(body).map_err(|e| e.to_string())?;
                (json_len(v.get("post")), json_len(v.get("patch")), 0)
            }
            Route::Post | Route::Patch | Route::Feedback => {
                serde_json::from_slice::<serde_json::Value>(body).map_err(|e| e.to_string())?;
                match route {
                    Route::Post => (1, 0, 0),
                    Route::Patch => (0, 1, 0),
                    _ => (0, 0, 1),
                }
            }
        };
        c.posts.fetch_add(posts, Relaxed);
        c.patches.fetch_add(patches, Relaxed);
        c.feedback.fetch_add(feedback, Relaxed);
        Ok(())
    }
}

thread_local! {
    /// Decoded bodies, reused (a fresh 150 KB buffer per body costs page faults).
    static DECODED: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The body decoded per `Content-Encoding` (into `buf` when it is encoded).
fn decode<'a>(encoding: &str, body: &'a [u8], buf: &'a mut Vec<u8>) -> Result<&'a [u8], String> {
    match encoding {
        "identity" | "" => Ok(body),
        "zstd" => {
            buf.clear();
            let decoder = zstd::stream::read::Decoder::new(body).map_err(|e| e.to_string())?;
            std::io::Read::read_to_end(
                &mut std::io::Read::take(decoder, BODY_LIMIT as u64 + 1),
                buf,
            )
            .map_err(|e| format!("zstd: {e}"))?;
            if buf.len() > BODY_LIMIT {
                return Err("decoded body too large".into());
            }
            Ok(buf)
        }
        other => Err(format!("unsupported Content-Encoding {other}")),
    }
}

/// Counts the parts of a `multipart/form-data` body by name: `(post.{id},
/// patch.{id}, feedback.{id})`. Walks part headers and skips each part's
/// data by its `Content-Length` (Python SDK, this SDK), or else searches for
/// the next delimiter (the JS SDK sends no part lengths). Checks that every
/// part has a name and that the body ends with the closing delimiter.
fn count_parts(body: &[u8], boundary: &str) -> Result<(u64, u64, u64), String> {
    let delim = format!("--{boundary}");
    let next_delim = format!("\r\n--{boundary}");
    let mut counts = (0, 0, 0);
    let mut pos = find(body, delim.as_bytes()).ok_or("no opening boundary")?;
    loop {
        pos += delim.len();
        let rest = &body[pos..];
        if rest.starts_with(b"--") {
            return Ok(counts);
        }
        if !rest.starts_with(b"\r\n") {
            return Err(format!("malformed delimiter at byte {pos}"));
        }
        pos += 2;
        let head_len = find(&body[pos..], b"\r\n\r\n").ok_or("unterminated part headers")?;
        let head = &body[pos..pos + head_len];
        pos += head_len + 4;
        let mut name = None;
        let mut len = None;
        for line in head.split(|&b| b == b'\n') {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let Some(colon) = line.iter().position(|&b| b == b':') else {
                continue;
            };
            let (key, value) = (&line[..colon], &line[colon + 1..]);
            if key.eq_ignore_ascii_case(b"content-disposition") {
                name = find(value, b"name=\"").and_then(|i| {
                    let v = &value[i + 6..];
                    let end = v.iter().position(|&b| b == b'"')?;
                    std::str::from_utf8(&v[..end]).ok()
                });
            } else if key.eq_ignore_ascii_case(b"content-length") {
                len = std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.trim().parse::<usize>().ok());
            }
        }
        let name = name.ok_or("a part without a name")?;
        let (p, u) = classify(name);
        counts.0 += p;
        counts.1 += u;
        counts.2 += u64::from(name.starts_with("feedback."));
        match len {
            Some(len)
                if body[pos..]
                    .get(len..)
                    .is_some_and(|r| r.starts_with(next_delim.as_bytes())) =>
            {
                pos += len + 2;
            }
            _ => {
                pos += find(&body[pos..], next_delim.as_bytes()).ok_or("truncated part")? + 2;
            }
        }
    }
}

/// Position of `needle` in `hay`.
fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let mut from = 0;
    while let Some(i) = hay.get(from..)?.iter().position(|&b| b == first) {
        let at = from + i;
        if hay.get(at + 1..at + needle.len()) == Some(rest) {
            return Some(at);
        }
        from = at + 1;
    }
    None
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

fn json_len(v: Option<&serde_json::Value>) -> u64 {
    v.and_then(serde_json::Value::as_array)
        .map_or(0, |a| a.len() as u64)
}

/// Waits (up to 60 s) until every accepted body has been counted.
async fn settle(s: &Sink) {
    for _ in 0..60_000 {
        if s.counters.counting.load(Relaxed) == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn stats(State(s): State<Sink>) -> Response {
    settle(&s).await;
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
    settle(&s).await;
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
    let sync = matches!(
        std::env::var("NULL_SINK_SYNC").as_deref(),
        Ok("true" | "1" | "yes")
    );
    let count = !matches!(
        std::env::var("NULL_SINK_COUNT").as_deref(),
        Ok("false" | "0" | "no")
    );
    let sink = Sink {
        counters: Arc::default(),
        zstd,
        sync,
        count,
    };
    let route = |r: Route| {
        move |State(s): State<Sink>, h: HeaderMap, b: Bytes| async move { s.ingest(r, &h, b) }
    };
    let app = Router::new()
        .route("/info", get(info))
        .route("/stats", get(stats))
        .route("/stats/reset", post(reset))
        .route("/runs/multipart", post(route(Route::Multipart)))
        .route("/runs/batch", post(route(Route::Batch)))
        .route("/runs", post(route(Route::Post)))
        .route("/runs/{id}", patch(route(Route::Patch)))
        .route("/feedback", post(route(Route::Feedback)))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(sink);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("listening on {}", listener.local_addr()?);
    eprintln!(
        "null_sink: zstd {}, bodies {}; GET /stats for the counts",
        if zstd { "on" } else { "off" },
        match (count, sync) {
            (false, _) => "read, not decoded or counted",
            (true, true) => "counted before answering",
            (true, false) => "counted after answering",
        },
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
    use super::{classify, count_parts};

    #[test]
    fn part_names() {
        let id = "0193d5a2-0000-7000-8000-000000000001";
        assert_eq!(classify(&format!("post.{id}")), (1, 0));
        assert_eq!(classify(&format!("patch.{id}")), (0, 1));
        assert_eq!(classify(&format!("post.{id}.inputs")), (0, 0));
        assert_eq!(classify(&format!("attachment.{id}.f")), (0, 0));
        assert_eq!(classify("feedback.x"), (0, 0));
    }

    #[test]
    fn counts_parts_with_and_without_lengths() {
        let with_len = "--b\r\nContent-Disposition: form-data; name=\"post.1\"\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{\"a\":\"--\"}\r\n\
            --b\r\nContent-Disposition: form-data; name=\"post.1.inputs\"\r\nContent-Length: 2\r\n\r\n{}\r\n\
            --b\r\ncontent-disposition: form-data; name=\"patch.2\"\r\n\r\n{}\r\n\
            --b\r\nContent-Disposition: form-data; name=\"feedback.3\"\r\nContent-Length: 99\r\n\r\n{}\r\n--b--\r\n";
        assert_eq!(count_parts(with_len.as_bytes(), "b"), Ok((1, 1, 1)));
        assert!(
            count_parts(
                b"--b\r\nContent-Disposition: form-data; name=\"post.1\"\r\n\r\n{}",
                "b"
            )
            .is_err()
        );
        assert!(count_parts(b"--b\r\nContent-Type: x\r\n\r\n{}\r\n--b--", "b").is_err());
        assert!(count_parts(b"nothing", "b").is_err());
    }
}
