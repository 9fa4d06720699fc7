//! A small, strict-but-forgiving `multipart/form-data` parser over a buffered body.
//!
//! It understands both layouts the official LangSmith SDKs send:
//!
//! - Python: every part has `Content-Type` and a `Content-Length` header;
//! - JavaScript: no `Content-Length`; the length is a `length=N` parameter of
//!   the part's `Content-Type` (and counts UTF-16 code units, so it can be
//!   wrong for non-ASCII payloads).
//!
//! A declared length is used when the bytes after it are exactly the next
//! delimiter; otherwise the parser falls back to searching for the delimiter
//! and reports the mismatch in [`Part::declared_len`] vs [`Part::data`].
//! [`parse`] never panics, whatever the input.

use std::fmt;

/// Longest boundary accepted (RFC 2046 allows 70 characters; some clients use more).
const MAX_BOUNDARY_LEN: usize = 200;
/// Longest header block of one part.
const MAX_HEADER_BLOCK: usize = 16 * 1024;
/// Most parts accepted in one body; more is [`MultipartError::TooManyParts`].
///
/// ```
/// assert!(langsmith_collector::multipart::MAX_PARTS >= 100_000);
/// ```
pub const MAX_PARTS: usize = 200_000;

/// One part of a multipart body, borrowing its data from the body.
///
/// ```
/// use langsmith_collector::multipart::parse;
/// let body = b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\n\r\nhi\r\n--b--\r\n";
/// let parts = parse(body, "b").unwrap();
/// assert_eq!(parts[0].name, "x");
/// assert_eq!(parts[0].data, b"hi");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part<'a> {
    /// The `name` parameter of the part's `Content-Disposition`.
    pub name: String,
    /// The `filename` parameter of the part's `Content-Disposition`, if any.
    pub filename: Option<String>,
    /// The part's `Content-Type` header value, if any (parameters included).
    pub content_type: Option<String>,
    /// The length the sender declared, from a `Content-Length` header or a
    /// `length=N` parameter of the `Content-Type`, if any.
    pub declared_len: Option<usize>,
    /// The part's content.
    pub data: &'a [u8],
}

impl Part<'_> {
    /// Whether the sender declared a length and it differs from the real one.
    ///
    /// ```
    /// use langsmith_collector::multipart::parse;
    /// let body = b"--b\r\nContent-Disposition: form-data; name=\"x\"\r\nContent-Length: 5\r\n\r\nhi\r\n--b--";
    /// assert!(parse(body, "b").unwrap()[0].length_mismatch());
    /// ```
    pub fn length_mismatch(&self) -> bool {
        self.declared_len.is_some_and(|n| n != self.data.len())
    }
}

/// Why a body could not be parsed.
///
/// ```
/// use langsmith_collector::multipart::{parse, MultipartError};
/// assert_eq!(parse(b"nothing here", "b"), Err(MultipartError::NoOpeningBoundary));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MultipartError {
    /// The boundary is empty, too long, or contains characters not allowed.
    InvalidBoundary,
    /// The body does not contain the opening `--boundary` delimiter.
    NoOpeningBoundary,
    /// The body ends before the part with this index (0-based) is complete.
    Truncated {
        /// Index of the incomplete part.
        part: usize,
    },
    /// A delimiter is followed by something other than a line break or `--`.
    MalformedDelimiter {
        /// Index of the part that should have followed.
        part: usize,
    },
    /// A part's headers could not be read.
    BadHeaders {
        /// Index of the part.
        part: usize,
        /// What was wrong.
        reason: String,
    },
    /// A part has no `Content-Disposition` header with a `name`.
    MissingName {
        /// Index of the part.
        part: usize,
    },
    /// The body has more than [`MAX_PARTS`] parts.
    TooManyParts,
}

impl fmt::Display for MultipartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidBoundary => write!(f, "invalid multipart boundary"),
            Self::NoOpeningBoundary => {
                write!(
                    f,
                    "body does not start with the boundary given in Content-Type"
                )
            }
            Self::Truncated { part } => write!(f, "body is truncated in part #{part}"),
            Self::MalformedDelimiter { part } => {
                write!(f, "malformed delimiter line before part #{part}")
            }
            Self::BadHeaders { part, reason } => {
                write!(f, "bad headers in part #{part}: {reason}")
            }
            Self::MissingName { part } => {
                write!(f, "part #{part} has no Content-Disposition name")
            }
            Self::TooManyParts => write!(f, "more than {MAX_PARTS} parts"),
        }
    }
}

impl std::error::Error for MultipartError {}

/// Extracts the `boundary` parameter from a `multipart/form-data` content type.
///
/// Returns `None` if the media type is not `multipart/form-data` or has no boundary.
///
/// ```
/// use langsmith_collector::multipart::boundary;
/// assert_eq!(boundary("multipart/form-data; boundary=abc").as_deref(), Some("abc"));
/// assert_eq!(boundary("Multipart/Form-Data; boundary=\"a b\"").as_deref(), Some("a b"));
/// assert_eq!(boundary("application/json"), None);
/// ```
pub fn boundary(content_type: &str) -> Option<String> {
    let mut it = split_params(content_type).into_iter();
    let media = it.next()?;
    if !media.trim().eq_ignore_ascii_case("multipart/form-data") {
        return None;
    }
    it.find_map(|p| {
        let (k, v) = p.split_once('=')?;
        k.trim()
            .eq_ignore_ascii_case("boundary")
            .then(|| unquote(v.trim()))
    })
    .filter(|b| !b.is_empty())
}

/// Parses a buffered `multipart/form-data` body with the given boundary.
///
/// Text before the first delimiter (preamble) and after the closing one
/// (epilogue) is ignored. A body without a closing delimiter is accepted if
/// it ends right after a part's trailing delimiter line; anything cut inside
/// a part is [`MultipartError::Truncated`].
///
/// ```
/// use langsmith_collector::multipart::parse;
/// let body = b"--xyz\r\n\
/// Content-Disposition: form-data; name=\"post.1\"\r\n\
/// Content-Type: application/json; length=2\r\n\
/// \r\n\
/// {}\r\n\
/// --xyz--\r\n";
/// let parts = parse(body, "xyz").unwrap();
/// assert_eq!(parts.len(), 1);
/// assert_eq!(parts[0].declared_len, Some(2));
/// assert_eq!(parts[0].content_type.as_deref(), Some("application/json; length=2"));
/// ```
pub fn parse<'a>(body: &'a [u8], boundary: &str) -> Result<Vec<Part<'a>>, MultipartError> {
    if boundary.is_empty()
        || boundary.len() > MAX_BOUNDARY_LEN
        || boundary.bytes().any(|b| b == b'\r' || b == b'\n')
    {
        return Err(MultipartError::InvalidBoundary);
    }
    let mut delim = Vec::with_capacity(boundary.len() + 4);
    delim.extend_from_slice(b"\r\n--");
    delim.extend_from_slice(boundary.as_bytes());
    // The first delimiter may sit at the very start (no preceding CRLF).
    let mut pos = if body.starts_with(&delim[2..]) {
        delim.len() - 2
    } else {
        find(body, &delim, 0).ok_or(MultipartError::NoOpeningBoundary)? + delim.len()
    };
    let mut parts = Vec::new();
    loop {
        let index = parts.len();
        let rest = body.get(pos..).unwrap_or_default();
        if rest.starts_with(b"--") {
            return Ok(parts);
        }
        // Transport padding, then the line break.
        let pad = rest
            .iter()
            .take_while(|b| **b == b' ' || **b == b'\t')
            .count();
        pos += pad;
        let rest = body.get(pos..).unwrap_or_default();
        if rest.is_empty() {
            // Trailing delimiter without "--": lenient end of body.
            return if index == 0 {
                Err(MultipartError::Truncated { part: 0 })
            } else {
                Ok(parts)
            };
        }
        if rest.starts_with(b"\r\n") {
            pos += 2;
        } else if rest == b"\r" {
            return Err(MultipartError::Truncated { part: index });
        } else {
            return Err(MultipartError::MalformedDelimiter { part: index });
        }
        if index >= MAX_PARTS {
            return Err(MultipartError::TooManyParts);
        }
        let rest = body.get(pos..).unwrap_or_default();
        let (header_block, data_start) = if rest.starts_with(b"\r\n") {
            (&rest[..0], pos + 2)
        } else {
            let end = find(rest, b"\r\n\r\n", 0).ok_or_else(|| {
                if rest.len() > MAX_HEADER_BLOCK {
                    bad(index, "header block too long")
                } else {
                    MultipartError::Truncated { part: index }
                }
            })?;
            if end > MAX_HEADER_BLOCK {
                return Err(bad(index, "header block too long"));
            }
            (&rest[..end], pos + end + 4)
        };
        let headers = parse_headers(header_block, index)?;
        let data_region = body.get(data_start..).unwrap_or_default();
        let declared_end = headers
            .declared_len
            .filter(|n| data_region.get(*n..).is_some_and(|r| r.starts_with(&delim)));
        let data_len = match declared_end {
            Some(n) => n,
            None => {
                find(data_region, &delim, 0).ok_or(MultipartError::Truncated { part: index })?
            }
        };
        let name = headers
            .name
            .ok_or(MultipartError::MissingName { part: index })?;
        parts.push(Part {
            name,
            filename: headers.filename,
            content_type: headers.content_type,
            declared_len: headers.declared_len,
            data: &data_region[..data_len],
        });
        pos = data_start + data_len + delim.len();
    }
}

#[derive(Default)]
struct Headers {
    name: Option<String>,
    filename: Option<String>,
    content_type: Option<String>,
    declared_len: Option<usize>,
}

fn bad(part: usize, reason: &str) -> MultipartError {
    MultipartError::BadHeaders {
        part,
        reason: reason.to_owned(),
    }
}

fn parse_headers(block: &[u8], part: usize) -> Result<Headers, MultipartError> {
    let text = std::str::from_utf8(block).map_err(|_| bad(part, "headers are not UTF-8"))?;
    let mut h = Headers::default();
    let mut content_length = None;
    let mut length_param = None;
    for line in text.split("\r\n") {
        if line.is_empty() {
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| bad(part, &format!("header line without ':': {:.80}", line)))?;
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-disposition" => {
                for p in split_params(value).into_iter().skip(1) {
                    if let Some((k, v)) = p.split_once('=') {
                        match k.trim().to_ascii_lowercase().as_str() {
                            "name" => h.name = Some(unquote(v.trim())),
                            "filename" => h.filename = Some(unquote(v.trim())),
                            _ => {}
                        }
                    }
                }
            }
            "content-type" => {
                for p in split_params(value).into_iter().skip(1) {
                    if let Some((k, v)) = p.split_once('=')
                        && k.trim().eq_ignore_ascii_case("length")
                    {
                        length_param = Some(
                            unquote(v.trim())
                                .parse::<usize>()
                                .map_err(|_| bad(part, "invalid length= parameter"))?,
                        );
                    }
                }
                h.content_type = Some(value.to_owned());
            }
            "content-length" => {
                content_length = Some(
                    value
                        .parse::<usize>()
                        .map_err(|_| bad(part, "invalid Content-Length"))?,
                );
            }
            _ => {}
        }
    }
    h.declared_len = content_length.or(length_param);
    Ok(h)
}

/// Splits a header value at `;` outside double quotes.
fn split_params(value: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut in_quotes = false;
    let mut escaped = false;
    for (i, c) in value.char_indices() {
        if escaped {
            escaped = false;
            continue;
        }
        match c {
            '\\' if in_quotes => escaped = true,
            '"' => in_quotes = !in_quotes,
            ';' if !in_quotes => {
                out.push(&value[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&value[start..]);
    out
}

fn unquote(v: &str) -> String {
    let Some(inner) = v.strip_prefix('"').and_then(|s| s.strip_suffix('"')) else {
        return v.to_owned();
    };
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Position of `needle` in `hay` at or after `from`. The needles used here
/// start with `\r`, which cannot recur inside a partial match (boundaries have
/// no CR), so this stays linear in practice.
fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let first = *needle.first()?;
    let mut i = from;
    while i + needle.len() <= hay.len() {
        let off = hay.get(i..)?.iter().position(|b| *b == first)?;
        i += off;
        if hay.get(i..i + needle.len())? == needle {
            return Some(i);
        }
        i += 1;
    }
    None
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn body(parts: &[(&str, &str, &str)], b: &str) -> Vec<u8> {
        let mut out = Vec::new();
        for (name, headers, data) in parts {
            out.extend_from_slice(
                format!(
                    "--{b}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n{headers}\r\n{data}\r\n"
                )
                .as_bytes(),
            );
        }
        out.extend_from_slice(format!("--{b}--\r\n").as_bytes());
        out
    }

    #[test]
    fn python_layout() {
        let b = body(
            &[
                ("post.a", "Content-Length: 2\r\n", "{}"),
                ("post.a.inputs", "Content-Length: 7\r\n", "{\"x\":1}"),
            ],
            "bnd",
        );
        let parts = parse(&b, "bnd").unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[1].data, b"{\"x\":1}");
        assert!(!parts[1].length_mismatch());
    }

    #[test]
    fn js_layout_with_wrong_length_falls_back() {
        // JS counts UTF-16 units: "é" is 1 unit but 2 bytes.
        let b = body(
            &[(
                "post.a",
                "Content-Type: application/json; length=5\r\n",
                "\"é\"",
            )],
            "----LangSmithFormBoundaryx",
        );
        let parts = parse(&b, "----LangSmithFormBoundaryx").unwrap();
        assert_eq!(parts[0].data, "\"é\"".as_bytes());
        assert!(parts[0].length_mismatch());
    }

    #[test]
    fn declared_length_allows_delimiter_lookalike_in_data() {
        let data = "a\r\n--bnd";
        let b = body(
            &[("p", &format!("Content-Length: {}\r\n", data.len()), data)],
            "bnd",
        );
        let parts = parse(&b, "bnd").unwrap();
        assert_eq!(parts[0].data, data.as_bytes());
    }

    #[test]
    fn errors() {
        let good = body(&[("p", "", "x")], "bnd");
        assert_eq!(
            parse(&good, "other"),
            Err(MultipartError::NoOpeningBoundary)
        );
        assert_eq!(parse(&good, ""), Err(MultipartError::InvalidBoundary));
        for cut in 1..good.len() - 9 {
            let r = parse(&good[..cut], "bnd");
            assert!(r.is_err(), "cut at {cut} parsed: {r:?}");
        }
        let no_name = b"--b\r\nContent-Type: x\r\n\r\nx\r\n--b--";
        assert_eq!(
            parse(no_name, "b"),
            Err(MultipartError::MissingName { part: 0 })
        );
        let junk = b"--bXX\r\n";
        assert_eq!(
            parse(junk, "b"),
            Err(MultipartError::MalformedDelimiter { part: 0 })
        );
    }

    #[test]
    fn never_panics_on_prefixes_and_noise() {
        let good = body(
            &[("post.a", "Content-Length: 2\r\n", "{}"), ("q", "", "zz")],
            "bnd",
        );
        for cut in 0..=good.len() {
            let _ = parse(&good[..cut], "bnd");
            let _ = parse(&good[cut..], "bnd");
        }
        let mut x: u32 = 12345;
        for _ in 0..2000 {
            let mut v = good.clone();
            for _ in 0..4 {
                x ^= x << 13;
                x ^= x >> 17;
                x ^= x << 5;
                let i = x as usize % v.len();
                v[i] = (x >> 8) as u8;
            }
            let _ = parse(&v, "bnd");
        }
    }

    #[test]
    fn never_panics_on_random_bytes() {
        let alphabet: &[&[u8]] = &[
            b"--",
            b"bnd",
            b"\r\n",
            b"\r",
            b"\n",
            b"Content-Length: 3",
            b"Content-Length: 99999",
            b"Content-Disposition: form-data; name=\"a\"",
            b"Content-Type: x; length=2",
            b":",
            b"\"",
            b";",
            b"\xff",
            b"x",
        ];
        let mut x: u64 = 0x9e3779b97f4a7c15;
        for _ in 0..20_000 {
            let mut v = Vec::new();
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let n = (x % 24) as usize;
            for k in 0..n {
                let pick = ((x >> (k % 48)) as usize).wrapping_add(k * 7) % alphabet.len();
                v.extend_from_slice(alphabet[pick]);
            }
            if let Ok(parts) = parse(&v, "bnd") {
                for p in parts {
                    assert!(p.data.len() <= v.len());
                }
            }
        }
    }

    #[test]
    fn boundary_parsing() {
        assert_eq!(
            boundary("multipart/form-data;boundary=\"x;y\"").as_deref(),
            Some("x;y")
        );
        assert_eq!(boundary("multipart/form-data"), None);
        assert_eq!(boundary("multipart/form-data; boundary="), None);
    }
}
