//! Reading request bodies under a size limit and undoing `Content-Encoding`.

use std::io::Read;
use std::pin::Pin;

use axum::body::Body;
use bytes::{Bytes, BytesMut};
use http::HeaderMap;
use http_body::Body as _;

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Over the configured limit (raw or decoded).
    TooLarge(String),
    /// The connection failed while reading.
    Read(String),
    /// A `Content-Encoding` other than zstd, gzip or identity.
    UnsupportedEncoding(String),
    /// The body is not valid for its `Content-Encoding`.
    Decode(String),
}

impl std::fmt::Display for BodyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::TooLarge(m) | Self::Read(m) | Self::Decode(m) => f.write_str(m),
            Self::UnsupportedEncoding(e) => write!(
                f,
                "unsupported Content-Encoding '{e}' (supported: zstd, gzip, identity)"
            ),
        }
    }
}

/// Reads the whole body, at most `limit` bytes. A body over the limit is
/// still read (and discarded) up to `drain_cap` bytes so the client can finish
/// sending and then read the 413 instead of a reset connection.
pub(crate) async fn read_limited(
    headers: &HeaderMap,
    mut body: Body,
    limit: usize,
    drain_cap: usize,
) -> Result<Bytes, BodyError> {
    let too_large = || BodyError::TooLarge(format!("request body is larger than {limit} bytes"));
    let declared = headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > drain_cap as u64) {
        return Err(too_large());
    }
    let mut buf = BytesMut::with_capacity(declared.map_or(0, |n| (n as usize).min(limit)));
    let mut total: usize = 0;
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        let Some(frame) = frame else { break };
        let frame = frame.map_err(|e| BodyError::Read(format!("reading the body failed: {e}")))?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        total = total.saturating_add(data.len());
        if total > drain_cap {
            return Err(too_large());
        }
        if total <= limit {
            buf.extend_from_slice(&data);
        }
    }
    if total > limit {
        return Err(too_large());
    }
    Ok(buf.freeze())
}

/// The body with its `Content-Encoding` undone, at most `limit` bytes.
pub(crate) fn decode(headers: &HeaderMap, raw: Bytes, limit: usize) -> Result<Bytes, BodyError> {
    let encoding = headers
        .get_all(http::header::CONTENT_ENCODING)
        .iter()
        .map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .trim()
                .to_ascii_lowercase()
        })
        .filter(|v| !v.is_empty() && v != "identity")
        .collect::<Vec<_>>()
        .join(", ");
    let read_all = |mut r: Box<dyn Read + '_>, name: &str| -> Result<Bytes, BodyError> {
        let mut out = Vec::new();
        (&mut r)
            .take(limit as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| BodyError::Decode(format!("invalid {name} body: {e}")))?;
        if out.len() > limit {
            return Err(BodyError::TooLarge(format!(
                "decompressed body is larger than {limit} bytes"
            )));
        }
        Ok(Bytes::from(out))
    };
    match encoding.as_str() {
        "" => Ok(raw),
        "zstd" => {
            let d = zstd::stream::read::Decoder::new(&raw[..])
                .map_err(|e| BodyError::Decode(format!("invalid zstd body: {e}")))?;
            read_all(Box::new(d), "zstd")
        }
        "gzip" | "x-gzip" => read_all(
            Box::new(flate2::read::MultiGzDecoder::new(&raw[..])),
            "gzip",
        ),
        other => Err(BodyError::UnsupportedEncoding(other.to_owned())),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::io::Write;

    fn with_encoding(e: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(http::header::CONTENT_ENCODING, e.parse().unwrap());
        h
    }

    #[test]
    fn decodes_zstd_and_gzip_with_limits() {
        let data = vec![b'a'; 10_000];
        let z = zstd::encode_all(&data[..], 1).unwrap();
        assert_eq!(
            decode(&with_encoding("zstd"), z.clone().into(), 10_000)
                .unwrap()
                .len(),
            10_000
        );
        assert!(matches!(
            decode(&with_encoding("zstd"), z.into(), 9_999),
            Err(BodyError::TooLarge(_))
        ));
        let mut g = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        g.write_all(&data).unwrap();
        let g = g.finish().unwrap();
        assert_eq!(
            decode(&with_encoding("GZIP"), g.into(), 20_000)
                .unwrap()
                .len(),
            10_000
        );
        assert!(matches!(
            decode(&with_encoding("zstd"), Bytes::from_static(b"junk"), 10),
            Err(BodyError::Decode(_))
        ));
        assert!(matches!(
            decode(&with_encoding("br"), Bytes::from_static(b"x"), 10),
            Err(BodyError::UnsupportedEncoding(_))
        ));
        assert_eq!(
            decode(&with_encoding("identity"), Bytes::from_static(b"x"), 10).unwrap(),
            "x"
        );
    }
}
