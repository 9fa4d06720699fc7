//! Plumbing shared by the benches (`mod support;`): a loopback null
//! LangSmith server and a sink that discards what it is given.
// Each bench uses a part of this module.
#![allow(dead_code)]

use langsmith_core::{Completion, RunOp, Sink};

/// A sink that drops every operation (kept opaque to the optimizer): the
/// cost of tracing without the cost of exporting.
pub struct Discard;

impl Sink for Discard {
    fn submit(&self, op: RunOp) {
        std::hint::black_box(op);
    }
    fn flush(&self) -> Completion {
        Completion::done()
    }
}

use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// A server on its own thread: a minimal loopback HTTP/1.1 keep-alive loop
/// that reads each request (headers and `Content-Length` body) in full
/// before answering `202 {}`. With `info`, `GET /info` is answered `200`
/// with that JSON body instead; without, it gets `202 {}` like the rest.
/// With `received`, the body bytes of every request are added to it.
///
/// Returns the server's base URL, `http://127.0.0.1:PORT`.
pub fn null_server(info: Option<String>, received: Option<Arc<AtomicU64>>) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            loop {
                let Ok((mut sock, _)) = listener.accept().await else { continue };
                let info = info.clone();
                let received = received.clone();
                tokio::spawn(async move {
                    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
                    let mut chunk = vec![0u8; 64 * 1024];
                    loop {
                        // Headers.
                        let head_end = loop {
                            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                                break p + 4;
                            }
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        };
                        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
                        let len: usize = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .and_then(|v| v.trim().parse().ok())
                            .unwrap_or(0);
                        while buf.len() < head_end + len {
                            match sock.read(&mut chunk).await {
                                Ok(0) | Err(_) => return,
                                Ok(n) => buf.extend_from_slice(&chunk[..n]),
                            }
                        }
                        black_box(&buf[head_end..head_end + len]);
                        if let Some(received) = &received {
                            received.fetch_add(len as u64, Ordering::Relaxed);
                        }
                        buf.drain(..head_end + len);
                        let written = match &info {
                            Some(info) if head.starts_with("get /info") => {
                                let resp = format!(
                                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{info}",
                                    info.len()
                                );
                                sock.write_all(resp.as_bytes()).await
                            }
                            _ => {
                                let resp = b"HTTP/1.1 202 Accepted\r\ncontent-type: application/json\r\ncontent-length: 2\r\n\r\n{}";
                                sock.write_all(resp).await
                            }
                        };
                        if written.is_err() {
                            return;
                        }
                    }
                });
            }
        });
    });
    format!("http://{addr}")
}
