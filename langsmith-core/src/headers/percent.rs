//! Percent-encoding, written to match Python's `urllib.parse.quote(s, safe="/")`
//! byte for byte, and a strict decoder that accepts any valid percent-encoding.

use std::borrow::Cow;
use std::io;

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

/// Whether `b` is left as is by `urllib.parse.quote(s, safe="/")`: ASCII
/// letters, digits, `_.-~` and `/`.
#[inline]
const fn is_unreserved(b: u8) -> bool {
    matches!(b, b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'_' | b'.' | b'-' | b'~' | b'/')
}

/// Appends `bytes` to `out`, percent-encoded like `urllib.parse.quote(s, safe="/")`
/// (uppercase hex digits).
pub(crate) fn encode_into(bytes: &[u8], out: &mut String) {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if is_unreserved(b) {
            continue;
        }
        push_ascii(&bytes[start..i], out);
        out.push('%');
        out.push(char::from(HEX_UPPER[usize::from(b >> 4)]));
        out.push(char::from(HEX_UPPER[usize::from(b & 0x0f)]));
        start = i + 1;
    }
    push_ascii(&bytes[start..], out);
}

/// Pushes a run of unreserved (hence ASCII) bytes.
#[inline]
fn push_ascii(run: &[u8], out: &mut String) {
    match std::str::from_utf8(run) {
        Ok(s) => out.push_str(s),
        // Unreachable: only unreserved ASCII bytes reach here.
        Err(_) => out.extend(run.iter().map(|&b| char::from(b))),
    }
}

/// An `io::Write` that percent-encodes everything written to it into a
/// `String`, so that JSON can be serialized straight into a header value.
pub(crate) struct PercentWriter<'a>(pub(crate) &'a mut String);

impl io::Write for PercentWriter<'_> {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        encode_into(buf, self.0);
        Ok(buf.len())
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        encode_into(buf, self.0);
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Why a value could not be percent-decoded.
pub(crate) const BAD_PERCENT: &str = "bad percent-encoding";
/// The decoded bytes are not UTF-8.
pub(crate) const NOT_UTF8: &str = "not UTF-8 after percent-decoding";

#[inline]
fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes `%XX` sequences (either case). Every other character, `+`
/// included, stands for itself (W3C baggage; Python's `unquote` does the
/// same). A `%` not followed by two hex digits is an error, as are decoded
/// bytes that are not UTF-8.
pub(crate) fn decode(s: &str) -> Result<Cow<'_, str>, &'static str> {
    let bytes = s.as_bytes();
    let Some(first) = bytes.iter().position(|&b| b == b'%') else {
        return Ok(Cow::Borrowed(s));
    };
    let mut out = Vec::with_capacity(bytes.len());
    decode_bytes_into(bytes, first, &mut out)?;
    String::from_utf8(out).map(Cow::Owned).map_err(|_| NOT_UTF8)
}

/// Appends `bytes` decoded to `out`; `first` is the index of the first `%`.
fn decode_bytes_into(bytes: &[u8], first: usize, out: &mut Vec<u8>) -> Result<(), &'static str> {
    out.reserve(bytes.len());
    out.extend_from_slice(&bytes[..first]);
    let mut i = first;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            out.push(escape_at(bytes, i)?);
            i += 3;
        } else {
            // Up to the next escape in one copy.
            let end = bytes[i..]
                .iter()
                .position(|&b| b == b'%')
                .map_or(bytes.len(), |n| i + n);
            out.extend_from_slice(&bytes[i..end]);
            i = end;
        }
    }
    Ok(())
}

/// The byte written as `%XX` at `bytes[at]`.
#[inline]
fn escape_at(bytes: &[u8], at: usize) -> Result<u8, &'static str> {
    let hi = bytes.get(at + 1).copied().and_then(hex_val);
    let lo = bytes.get(at + 2).copied().and_then(hex_val);
    match (hi, lo) {
        (Some(hi), Some(lo)) => Ok(hi << 4 | lo),
        _ => Err(BAD_PERCENT),
    }
}

/// Percent-encodes `s` (for tests elsewhere in the codec).
#[cfg(test)]
pub(crate) fn tests_encode(s: &str) -> String {
    let mut out = String::new();
    encode_into(s.as_bytes(), &mut out);
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn enc(s: &str) -> String {
        let mut out = String::new();
        encode_into(s.as_bytes(), &mut out);
        out
    }

    #[test]
    fn encodes_like_python_quote() {
        // urllib.parse.quote(s) for each s (Python 3.11).
        assert_eq!(enc("abcXYZ019_.-~/"), "abcXYZ019_.-~/");
        assert_eq!(
            enc(" !\"#$%&'()*+,:;<=>?@[\\]^`{|}"),
            "%20%21%22%23%24%25%26%27%28%29%2A%2B%2C%3A%3B%3C%3D%3E%3F%40%5B%5C%5D%5E%60%7B%7C%7D"
        );
        assert_eq!(enc("é✓😀"), "%C3%A9%E2%9C%93%F0%9F%98%80");
        assert_eq!(enc("\u{0}\u{7f}"), "%00%7F");
        assert_eq!(enc(""), "");
    }

    #[test]
    fn decodes_any_valid_encoding() {
        assert_eq!(decode("a%2Fb%2fc/d").unwrap(), "a/b/c/d");
        assert_eq!(decode("a+b%2B").unwrap(), "a+b+");
        assert_eq!(decode("%C3%A9!*'()").unwrap(), "é!*'()");
        assert!(matches!(decode("plain").unwrap(), Cow::Borrowed("plain")));
        assert_eq!(decode("%"), Err(BAD_PERCENT));
        assert_eq!(decode("%4"), Err(BAD_PERCENT));
        assert_eq!(decode("%zz"), Err(BAD_PERCENT));
        assert_eq!(decode("%C3"), Err(NOT_UTF8));
        assert_eq!(decode("%FF%FE"), Err(NOT_UTF8));
        // Both paths, and an escape at either end.
        assert_eq!(decode("%7B%22k%22%3A%22v%22%7D").unwrap(), "{\"k\":\"v\"}");
        assert_eq!(decode("a%20é%C3%A9%20b").unwrap(), "a éé b");
        assert_eq!(decode("%41x%42").unwrap(), "AxB");
        assert_eq!(decode("ok%2"), Err(BAD_PERCENT));
        assert_eq!(decode("é%4g"), Err(BAD_PERCENT));
        assert_eq!(decode("%20%C3%28"), Err(NOT_UTF8));
    }
}
