//! Shared helpers for the integration tests: a minimal std-only HTTP/1.1
//! client (so requests go on the wire exactly as written) and multipart
//! body builders in the Python and JS SDK layouts.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

/// A response as read off the wire.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "response is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request on a fresh connection (`Connection: close`) and reads
/// the whole answer. `Err` if the connection closed without an answer.
pub fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<Resp> {
    let mut s = TcpStream::connect(addr)?;
    s.set_read_timeout(Some(Duration::from_secs(30)))?;
    s.set_write_timeout(Some(Duration::from_secs(30)))?;
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    let mut has_len = false;
    for (k, v) in headers {
        has_len |= k.eq_ignore_ascii_case("content-length");
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !has_len {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes())?;
    // A server may answer (and close) before reading everything; still try
    // to read its answer.
    let _ = s.write_all(body);
    let mut raw = Vec::new();
    s.read_to_end(&mut raw)?;
    parse_response(&raw)
}

fn parse_response(raw: &[u8]) -> std::io::Result<Resp> {
    let bad = |m: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, m.to_owned());
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or_else(|| bad("no complete response head (connection closed?)"))?;
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| bad("bad status line"))?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    if headers
        .iter()
        .any(|(k, v)| k == "transfer-encoding" && v.contains("chunked"))
    {
        body = dechunk(&body);
    }
    Ok(Resp {
        status,
        headers,
        body,
    })
}

fn dechunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(i) = b.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&b[..i]).trim(), 16).unwrap_or(0);
        if size == 0 {
            break;
        }
        out.extend_from_slice(&b[i + 2..i + 2 + size]);
        b = &b[i + 2 + size + 2..];
    }
    out
}

pub fn get(addr: SocketAddr, path: &str) -> Resp {
    send(addr, "GET", path, &[], b"").unwrap()
}

pub fn post_json(addr: SocketAddr, path: &str, body: &Value) -> Resp {
    send(
        addr,
        "POST",
        path,
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
    .unwrap()
}

pub fn patch_json(addr: SocketAddr, path: &str, body: &Value) -> Resp {
    send(
        addr,
        "PATCH",
        path,
        &[("Content-Type", "application/json")],
        body.to_string().as_bytes(),
    )
    .unwrap()
}

/// Posts a multipart body with the given boundary.
pub fn post_multipart(
    addr: SocketAddr,
    boundary: &str,
    body: &[u8],
    extra: &[(&str, &str)],
) -> Resp {
    let ct = format!("multipart/form-data; boundary={boundary}");
    let mut headers = vec![("Content-Type", ct.as_str())];
    headers.extend_from_slice(extra);
    send(addr, "POST", "/runs/multipart", &headers, body).unwrap()
}

/// A multipart body in the Python SDK's layout (per-part `Content-Length`).
pub fn python_multipart(boundary: &str, parts: &[(&str, &[u8])]) -> Vec<u8> {
    let typed: Vec<(&str, &str, &[u8])> = parts
        .iter()
        .map(|(name, data)| (*name, "application/json", *data))
        .collect();
    typed_multipart(boundary, &typed)
}

/// [`python_multipart`] with each part's own content type.
pub fn typed_multipart(boundary: &str, parts: &[(&str, &str, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, content_type, data) in parts {
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\
                 Content-Type: {content_type}\r\nContent-Length: {}\r\n\r\n",
                data.len()
            )
            .as_bytes(),
        );
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{boundary}--").as_bytes());
    out
}

/// A multipart body in the JS SDK's layout (`length=N` in the part's
/// content type, no `Content-Length`), with `length` counted as JS does
/// (UTF-16 code units).
pub fn js_multipart(boundary: &str, parts: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data) in parts {
        let units = data.encode_utf16().count();
        out.extend_from_slice(
            format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\
                 Content-Type: application/json; length={units}\r\n\r\n{data}\r\n"
            )
            .as_bytes(),
        );
    }
    out.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
    out
}

/// `testdata/python-sdk/NAME` in the repository.
pub fn testdata(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata/python-sdk")
        .join(name)
}

/// Replays a capture (`<name>.json` + its body file) as a raw request.
pub fn replay(addr: SocketAddr, capture: &str) -> Resp {
    let meta: Value = serde_json::from_slice(&std::fs::read(testdata(capture)).unwrap()).unwrap();
    let body = std::fs::read(testdata(meta["body_file"].as_str().unwrap())).unwrap();
    let headers: Vec<(String, String)> = meta["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let hdrs: Vec<(&str, &str)> = headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    send(
        addr,
        meta["method"].as_str().unwrap(),
        meta["path"].as_str().unwrap(),
        &hdrs,
        &body,
    )
    .unwrap()
}

/// A run document for tests.
pub fn run_doc(id: &str, parent: Option<(&str, &str)>, name: &str) -> Value {
    let seg = format!("20260102T030405678901Z{id}");
    let (trace, dotted) = match parent {
        Some((trace, parent_dotted)) => (trace.to_owned(), format!("{parent_dotted}.{seg}")),
        None => (id.to_owned(), seg),
    };
    let mut v = serde_json::json!({
        "id": id,
        "name": name,
        "run_type": "chain",
        "start_time": "2026-01-02T03:04:05.678901+00:00",
        "trace_id": trace,
        "dotted_order": dotted,
        "session_name": "tests",
        "inputs": {"q": name},
    });
    if let Some((_, pd)) = parent {
        let parent_id = pd.rsplit('Z').next().unwrap();
        v["parent_run_id"] = parent_id.into();
    }
    v
}
