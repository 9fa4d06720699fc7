//! HTTP: the client, one destination's headers, `GET /info`, one attempt at
//! a request classified into an [`Outcome`], `Retry-After` and backoff.

use crate::Timestamp;
use crate::config::ApiKey;
use bytes::Bytes;
use reqwest::header::{
    ACCEPT, CONTENT_ENCODING, CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, RETRY_AFTER,
};
use std::time::{Duration, SystemTime};

/// The `User-Agent` of every request.
pub(crate) const USER_AGENT: &str = concat!("langsmith-rs/", env!("CARGO_PKG_VERSION"));

/// Longest `GET /info` answer read (LangSmith's is about 1 KB).
const MAX_INFO_BYTES: usize = 64 * 1024;

/// Longest `Retry-After` honoured; a server asking for more is retried sooner.
pub(crate) const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// One place runs are written to, with the credentials that belong to it
/// (and only to it).
#[derive(Debug, Clone)]
pub(crate) struct Destination {
    /// Base URL without a trailing slash.
    pub(crate) base: String,
    /// `x-api-key` (marked sensitive), `X-Tenant-Id`, `Accept`.
    pub(crate) headers: HeaderMap,
    /// Project that replaces each run's own (`session_name`).
    pub(crate) project: Option<String>,
    /// `{base}/runs/multipart`, parsed once (parsing the URL for every
    /// request showed in the exporter's profile). `None` when `base` does
    /// not parse: each request then reports why.
    multipart_url: Option<reqwest::Url>,
}

impl Destination {
    pub(crate) fn new(
        base: &str,
        api_key: Option<&ApiKey>,
        tenant: Option<&str>,
        project: Option<String>,
    ) -> Self {
        let mut headers = HeaderMap::new();
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        if let Some(key) = api_key {
            match HeaderValue::from_str(key.expose()) {
                Ok(mut v) => {
                    v.set_sensitive(true);
                    headers.insert(HeaderName::from_static("x-api-key"), v);
                }
                Err(_) => tracing::error!(
                    endpoint = %base,
                    "LangSmith: the API key contains characters not allowed in an HTTP header; sending without it"
                ),
            }
        }
        if let Some(t) = tenant {
            match HeaderValue::from_str(t) {
                Ok(v) => {
                    headers.insert(HeaderName::from_static("x-tenant-id"), v);
                }
                Err(_) => tracing::error!(
                    endpoint = %base,
                    "LangSmith: LANGSMITH_WORKSPACE_ID is not a valid header value; sending without it"
                ),
            }
        }
        let base = base.trim_end_matches('/').to_owned();
        Destination {
            multipart_url: reqwest::Url::parse(&format!("{base}{MULTIPART}")).ok(),
            base,
            headers,
            project,
        }
    }
}

/// The path of multipart ingestion.
pub(crate) const MULTIPART: &str = "/runs/multipart";

/// An encoded request, kept for retries.
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    /// `/runs/multipart`, `/runs/batch` or `/feedback`.
    pub(crate) path: &'static str,
    pub(crate) body: Bytes,
    pub(crate) content_type: String,
    /// `(before, after)` zstd compression.
    pub(crate) compressed: Option<(usize, usize)>,
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// 2xx, or 409 ("already have it").
    Delivered,
    /// Connection error, timeout, 408, 425, 429, 500, 502, 503, 504.
    Retry {
        after: Option<Duration>,
        why: String,
    },
    /// 404: the endpoint does not exist on this server.
    NotFound,
    /// 413: the body is too large.
    TooLarge,
    /// Any other status: refused for good.
    Rejected { status: u16, detail: String },
}

/// What `GET /info` says about ingestion.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct ServerInfo {
    pub(crate) zstd: bool,
    pub(crate) size_limit_bytes: Option<usize>,
    pub(crate) size_limit: Option<usize>,
}

impl ServerInfo {
    pub(crate) fn parse(body: &[u8]) -> Option<ServerInfo> {
        let v: serde_json::Value = serde_json::from_slice(body).ok()?;
        let positive = |x: Option<&serde_json::Value>| {
            x.and_then(serde_json::Value::as_u64)
                .filter(|n| *n > 0)
                .map(|n| usize::try_from(n).unwrap_or(usize::MAX))
        };
        let bic = v.get("batch_ingest_config");
        Some(ServerInfo {
            zstd: v
                .get("instance_flags")
                .and_then(|f| f.get("zstd_compression_enabled"))
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false),
            size_limit_bytes: positive(bic.and_then(|b| b.get("size_limit_bytes"))),
            size_limit: positive(bic.and_then(|b| b.get("size_limit"))),
        })
    }
}

/// The HTTP client: no redirects (an API key must never follow one to
/// another host), a `User-Agent`, bounded connect time.
pub(crate) fn http_client(request_timeout: Duration) -> Result<reqwest::Client, reqwest::Error> {
    reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(request_timeout.min(Duration::from_secs(10)))
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
}

/// `GET {base}/info`. A 404 means an older server: defaults, no zstd.
pub(crate) async fn fetch_info(
    http: &reqwest::Client,
    dest: &Destination,
    timeout: Duration,
) -> Result<ServerInfo, String> {
    let resp = http
        .get(format!("{}/info", dest.base))
        .headers(dest.headers.clone())
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| describe(&e))?;
    let status = resp.status();
    if status.as_u16() == 404 {
        return Ok(ServerInfo::default());
    }
    if !status.is_success() {
        return Err(format!("status {status}"));
    }
    // Bounded: whatever answers there must not make us hold an endless body.
    let too_large = || format!("answer larger than {MAX_INFO_BYTES} bytes");
    if resp.content_length().unwrap_or(0) > MAX_INFO_BYTES as u64 {
        return Err(too_large());
    }
    let mut resp = resp;
    let mut body = Vec::new();
    while let Some(chunk) = resp.chunk().await.map_err(|e| describe(&e))? {
        if body.len() + chunk.len() > MAX_INFO_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    ServerInfo::parse(&body).ok_or_else(|| "not a JSON object".to_owned())
}

/// One attempt at `req` against `dest`.
pub(crate) async fn send(
    http: &reqwest::Client,
    dest: &Destination,
    req: &Prepared,
    timeout: Duration,
) -> Outcome {
    let mut headers = dest.headers.clone();
    match HeaderValue::from_str(&req.content_type) {
        Ok(v) => {
            headers.insert(CONTENT_TYPE, v);
        }
        Err(_) => {
            return Outcome::Rejected {
                status: 0,
                detail: "invalid content type".into(),
            };
        }
    }
    if let Some((pre, post)) = req.compressed {
        headers.insert(CONTENT_ENCODING, HeaderValue::from_static("zstd"));
        headers.insert(
            HeaderName::from_static("x-pre-compressed-size"),
            HeaderValue::from(pre),
        );
        headers.insert(
            HeaderName::from_static("x-post-compressed-size"),
            HeaderValue::from(post),
        );
    }
    let request = match &dest.multipart_url {
        Some(url) if req.path == MULTIPART => http.post(url.clone()),
        _ => http.post(format!("{}{}", dest.base, req.path)),
    };
    let result = request
        .headers(headers)
        .body(req.body.clone())
        .timeout(timeout)
        .send()
        .await;
    let resp = match result {
        Ok(r) => r,
        Err(e) => {
            return Outcome::Retry {
                after: None,
                why: describe(&e),
            };
        }
    };
    let status = resp.status().as_u16();
    let retry_after = resp
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| parse_retry_after(v, SystemTime::now()));
    match status {
        200..=299 | 409 => {
            // Read the (small) answer so the connection can be reused.
            let _ = read_some(resp, 64 * 1024).await;
            Outcome::Delivered
        }
        408 | 425 | 429 | 500 | 502 | 503 | 504 => {
            let _ = read_some(resp, 64 * 1024).await;
            Outcome::Retry {
                after: retry_after,
                why: format!("status {status}"),
            }
        }
        404 => Outcome::NotFound,
        413 => Outcome::TooLarge,
        _ => Outcome::Rejected {
            status,
            detail: read_some(resp, 512).await,
        },
    }
}

/// Up to `limit` bytes of the response body as text (for logs).
async fn read_some(mut resp: reqwest::Response, limit: usize) -> String {
    let mut out = Vec::new();
    while out.len() < limit {
        match resp.chunk().await {
            Ok(Some(c)) => out.extend_from_slice(&c[..c.len().min(limit - out.len())]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&out).trim().to_owned()
}

/// A short description of a transport error (no headers, so no API key).
fn describe(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connection failed"
    } else {
        "request failed"
    };
    let mut msg = format!("{kind}: {e}");
    let mut src = std::error::Error::source(e);
    // The innermost causes say what really happened (refused, reset, DNS).
    let mut depth = 0;
    while let Some(s) = src {
        if depth < 3 {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
        }
        depth += 1;
        src = s.source();
    }
    msg
}

/// `Retry-After` as delay-seconds or an HTTP-date (IMF-fixdate), capped at
/// [`MAX_RETRY_AFTER`].
pub(crate) fn parse_retry_after(v: &str, now: SystemTime) -> Option<Duration> {
    let v = v.trim();
    let d = if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) {
        Duration::from_secs(v.parse::<u64>().unwrap_or(u64::MAX))
    } else {
        let at = parse_http_date(v)?;
        let now_us = now
            .duration_since(SystemTime::UNIX_EPOCH)
            .ok()
            .and_then(|d| i64::try_from(d.as_micros()).ok())?;
        Duration::from_micros(u64::try_from(at.as_micros() - now_us).unwrap_or(0))
    };
    Some(d.min(MAX_RETRY_AFTER))
}

/// `Sun, 06 Nov 1994 08:49:37 GMT`.
fn parse_http_date(v: &str) -> Option<Timestamp> {
    let mut it = v.split_ascii_whitespace();
    let _weekday = it.next()?;
    let day = it.next()?;
    let month = it.next()?;
    let year = it.next()?;
    let time = it.next()?;
    if it.next()? != "GMT" || it.next().is_some() {
        return None;
    }
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = MONTHS.iter().position(|x| *x == month)? + 1;
    if day.len() != 2 || year.len() != 4 || time.len() != 8 {
        return None;
    }
    Timestamp::parse_rfc3339(&format!("{year}-{m:02}-{day}T{time}Z"))
}

/// Exponential backoff with full jitter: a uniform delay in
/// `[base/2, min(cap, base * 2^(attempt-1))]`.
pub(crate) fn backoff(
    attempt: u32,
    base: Duration,
    cap: Duration,
    rng: &mut impl rand::Rng,
) -> Duration {
    let exp = base.saturating_mul(1u32 << attempt.saturating_sub(1).min(20));
    let hi = exp.min(cap).max(base / 2);
    let lo = base / 2;
    let span = hi.saturating_sub(lo).as_millis() as u64;
    lo + Duration::from_millis(if span == 0 {
        0
    } else {
        rng.random_range(0..=span)
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn retry_after_forms() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777); // Sun, 06 Nov 1994 08:49:37 GMT
        assert_eq!(parse_retry_after("1", now), Some(Duration::from_secs(1)));
        assert_eq!(parse_retry_after(" 120 ", now), Some(MAX_RETRY_AFTER));
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:47 GMT", now),
            Some(Duration::from_secs(10))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:49:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-1", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(7);
        let base = Duration::from_millis(200);
        let cap = Duration::from_secs(10);
        for attempt in 1..40 {
            let d = backoff(attempt, base, cap, &mut rng);
            assert!(d >= base / 2 && d <= cap, "{attempt}: {d:?}");
            let bound = base
                .saturating_mul(1 << (attempt - 1).min(20))
                .min(cap)
                .max(base / 2);
            assert!(d <= bound);
        }
        let big: Vec<Duration> = (0..50).map(|_| backoff(30, base, cap, &mut rng)).collect();
        assert!(big.iter().any(|d| *d > Duration::from_secs(5)));
    }

    #[test]
    fn info_parsing() {
        let i = ServerInfo::parse(
            br#"{"version":"x","instance_flags":{"zstd_compression_enabled":true},"batch_ingest_config":{"size_limit_bytes":1000,"size_limit":7}}"#,
        )
        .unwrap();
        assert_eq!(
            i,
            ServerInfo {
                zstd: true,
                size_limit_bytes: Some(1000),
                size_limit: Some(7)
            }
        );
        assert_eq!(ServerInfo::parse(b"{}").unwrap(), ServerInfo::default());
        assert!(ServerInfo::parse(b"nope").is_none());
    }

    #[test]
    fn api_key_header_is_sensitive() {
        let d = Destination::new("http://x/", Some(&ApiKey::new("secret")), Some("ws"), None);
        assert_eq!(d.base, "http://x");
        assert!(d.headers.get("x-api-key").unwrap().is_sensitive());
        assert!(!format!("{:?}", d).contains("secret"));
        assert_eq!(d.headers.get("x-tenant-id").unwrap(), "ws");
    }
}
