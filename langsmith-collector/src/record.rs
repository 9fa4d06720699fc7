//! A log of the requests that reached the collector, for tests that assert
//! on what an exporter put on the wire.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

/// Most requests kept by default; older ones are forgotten first.
pub(crate) const DEFAULT_MAX_RECORDED: usize = 10_000;

/// One request as it arrived.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let c = langsmith_collector::Collector::builder().api_key(Some("secret")).start()?;
/// # langsmith_collector::doc_support::get(&format!("{}/info", c.url()), Some("secret"))?;
/// let r = &c.requests()[0];
/// assert_eq!((r.method.as_str(), r.path.as_str(), r.status), ("GET", "/info", Some(200)));
/// // The API key's value is never recorded.
/// assert!(r.headers.iter().any(|(k, v)| k == "x-api-key" && v == "<redacted>"));
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// The path, without the query string.
    pub path: String,
    /// The query string, if any.
    pub query: Option<String>,
    /// Headers in arrival order, names lower-case; `x-api-key` and
    /// `authorization` values are replaced by `<redacted>`.
    pub headers: Vec<(String, String)>,
    /// The `Content-Encoding` header, if any.
    pub content_encoding: Option<String>,
    /// Bytes of body as received (before decompression); 0 if not read.
    pub body_size: usize,
    /// Bytes of body after undoing `Content-Encoding`, if it was decoded.
    pub decoded_size: Option<usize>,
    /// For `/runs/multipart`: how many parts the body had.
    pub parts: Option<usize>,
    /// For `/runs/multipart`: the part names, in order.
    pub part_names: Vec<String>,
    /// For `/runs/multipart`: parts whose declared length (`Content-Length`
    /// or `length=`) did not match their real length.
    pub length_mismatches: usize,
    /// The status answered; `None` if the connection was dropped by a fault.
    pub status: Option<u16>,
    /// The fault injected into this request, if any (`Debug` form).
    pub fault: Option<String>,
}

impl RecordedRequest {
    /// The value of the first header with this (lower-case) name.
    ///
    /// ```
    /// let r = langsmith_collector::RecordedRequest {
    ///     headers: vec![("content-type".into(), "application/json".into())],
    ///     ..Default::default()
    /// };
    /// assert_eq!(r.header("content-type"), Some("application/json"));
    /// ```
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Shared, growable record of one in-flight request; handlers fill in what
/// they learn (body size, parts).
#[derive(Clone, Default)]
pub(crate) struct Slot(pub Arc<Mutex<RecordedRequest>>);

impl Slot {
    pub(crate) fn update(&self, f: impl FnOnce(&mut RecordedRequest)) {
        let mut r = self.0.lock().unwrap_or_else(|p| p.into_inner());
        f(&mut r);
    }

    pub(crate) fn snapshot(&self) -> RecordedRequest {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// The bounded log of finished requests.
pub(crate) struct RequestLog {
    max: usize,
    log: Mutex<VecDeque<RecordedRequest>>,
}

impl RequestLog {
    /// A log keeping the last `max` requests (0: keep none).
    pub(crate) fn new(max: usize) -> Self {
        RequestLog {
            max,
            log: Mutex::new(VecDeque::new()),
        }
    }

    /// Whether requests are kept at all.
    pub(crate) fn enabled(&self) -> bool {
        self.max > 0
    }

    pub(crate) fn push(&self, r: RecordedRequest) {
        if self.max == 0 {
            return;
        }
        let mut q = self.log.lock().unwrap_or_else(|p| p.into_inner());
        while q.len() >= self.max {
            q.pop_front();
        }
        q.push_back(r);
    }

    pub(crate) fn all(&self) -> Vec<RecordedRequest> {
        self.log
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    pub(crate) fn clear(&self) {
        self.log.lock().unwrap_or_else(|p| p.into_inner()).clear();
    }
}
