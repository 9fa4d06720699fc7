//! A tiny blocking HTTP/1.1 client for the documentation examples (not part
//! of the supported API).

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::Duration;

fn request(
    method: &str,
    url: &str,
    api_key: Option<&str>,
    body: Option<&str>,
) -> io::Result<(u16, String)> {
    let rest = url
        .strip_prefix("http://")
        .ok_or_else(|| io::Error::other("only http:// URLs"))?;
    let (host, path) = rest
        .split_once('/')
        .map_or((rest, "/".to_owned()), |(h, p)| (h, format!("/{p}")));
    let mut s = TcpStream::connect(host)?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    if let Some(k) = api_key {
        req.push_str(&format!("x-api-key: {k}\r\n"));
    }
    let body = body.unwrap_or_default();
    req.push_str(&format!(
        "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    ));
    s.write_all(req.as_bytes())?;
    let mut resp = String::new();
    s.read_to_string(&mut resp)?;
    let status = resp
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| io::Error::other("bad response"))?;
    let body = resp
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// POSTs JSON; returns status and body.
pub fn post_json(url: &str, body: &str) -> io::Result<(u16, String)> {
    request("POST", url, None, Some(body))
}

/// GETs a URL, optionally with an `x-api-key`; returns status and body.
pub fn get(url: &str, api_key: Option<&str>) -> io::Result<(u16, String)> {
    request("GET", url, api_key, None)
}
