//! Compact JSON exactly as the Python SDK writes it (`orjson.dumps`): no
//! spaces, UTF-8 kept as is (no `\u` escapes except for control characters),
//! key order kept, and floats in orjson's layout (`1e+20`, `1e-7`, `0.000025`,
//! `1000000000000000.0`).

use serde::Serialize;
use serde_json::ser::Formatter;
use std::io::{self, Write};

/// serde_json's compact formatter with orjson's float layout.
pub(crate) struct PyFormatter;

impl Formatter for PyFormatter {
    fn write_f64<W>(&mut self, writer: &mut W, value: f64) -> io::Result<()>
    where
        W: ?Sized + Write,
    {
        let mut buf = FloatBuf::default();
        writer.write_all(format_f64(value, &mut buf))
    }

    fn write_f32<W>(&mut self, writer: &mut W, value: f32) -> io::Result<()>
    where
        W: ?Sized + Write,
    {
        self.write_f64(writer, f64::from(value))
    }
}

/// Serializes `value` as Python-SDK-compatible compact JSON into `writer`.
pub(crate) fn to_writer<W: Write, T: ?Sized + Serialize>(
    writer: W,
    value: &T,
) -> serde_json::Result<()> {
    let mut ser = serde_json::Serializer::with_formatter(writer, PyFormatter);
    value.serialize(&mut ser)
}

/// Room for any f64 in any of the layouts below (at most 17 significant
/// digits, sign, point, `e+308`, leading/trailing zeros: well under 40).
pub(crate) struct FloatBuf {
    bytes: [u8; 48],
    len: usize,
}

impl Default for FloatBuf {
    fn default() -> Self {
        FloatBuf {
            bytes: [0; 48],
            len: 0,
        }
    }
}

impl FloatBuf {
    fn push(&mut self, b: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = b;
            self.len += 1;
        }
    }

    fn extend(&mut self, bs: &[u8]) {
        for &b in bs {
            self.push(b);
        }
    }
}

/// Formats a finite `f64` the way ryu's "pretty" mode does (which orjson
/// uses), with orjson's explicit `+` on positive exponents. Non-finite
/// values are written as `null`, as orjson does.
pub(crate) fn format_f64(value: f64, buf: &mut FloatBuf) -> &[u8] {
    buf.len = 0;
    if !value.is_finite() {
        buf.extend(b"null");
        return &buf.bytes[..buf.len];
    }
    if value.is_sign_negative() {
        buf.push(b'-');
    }
    if value == 0.0 {
        buf.extend(b"0.0");
        return &buf.bytes[..buf.len];
    }
    // Rust's `{:e}` gives the shortest round-tripping digits, like ryu:
    // "d[.ddd]e[-]x". Where two shortest candidates are equally close, ryu
    // takes the even one and Rust the upper one; Rust's exact formatting
    // to the same number of digits rounds half to even, so prefer it when
    // it differs and still reads back as the same value.
    let mut sci = [0u8; 40];
    let Some(sci_len) = write_to(&mut sci, format_args!("{:e}", value.abs())) else {
        buf.extend(b"null");
        return &buf.bytes[..buf.len];
    };
    let digit_count = sci[..sci_len]
        .iter()
        .take_while(|&&b| b != b'e')
        .filter(|b| b.is_ascii_digit())
        .count();
    let mut even = [0u8; 40];
    if let Some(even_len) = write_to(
        &mut even,
        format_args!("{:.*e}", digit_count.saturating_sub(1), value.abs()),
    ) {
        let even = &even[..even_len];
        if even != &sci[..sci_len]
            && std::str::from_utf8(even)
                .ok()
                .and_then(|s| s.parse::<f64>().ok())
                == Some(value.abs())
        {
            sci[..even_len].copy_from_slice(even);
            return layout(&sci[..even_len], buf);
        }
    }
    layout(&sci[..sci_len], buf)
}

/// Writes `args` into `out`; the number of bytes, or `None` if it did not fit.
fn write_to(out: &mut [u8], args: std::fmt::Arguments<'_>) -> Option<usize> {
    let mut cur = io::Cursor::new(out);
    cur.write_fmt(args).ok()?;
    usize::try_from(cur.position()).ok()
}

/// Lays out `d[.ddd]e[-]x` (the magnitude) after the sign already in `buf`.
fn layout<'b>(sci: &[u8], buf: &'b mut FloatBuf) -> &'b [u8] {
    let e_pos = sci.iter().position(|&b| b == b'e').unwrap_or(sci.len());
    let (mantissa, exp) = sci.split_at(e_pos);
    let exp: i32 = std::str::from_utf8(exp.get(1..).unwrap_or_default())
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let mut digits = [0u8; 24];
    let mut length = 0usize;
    for &b in mantissa.iter().filter(|b| b.is_ascii_digit()) {
        if let Some(slot) = digits.get_mut(length) {
            *slot = b;
            length += 1;
        }
    }
    let digits = &digits[..length];
    let len = i32::try_from(length).unwrap_or(17);
    // 10^(kk-1) <= v < 10^kk; v = digits * 10^k.
    let kk = exp + 1;
    let k = kk - len;
    if (0..=16).contains(&kk) && k >= 0 {
        // 1234e7 -> 12340000000.0
        buf.extend(digits);
        for _ in 0..k {
            buf.push(b'0');
        }
        buf.extend(b".0");
    } else if 0 < kk && kk <= 16 {
        // 1234e-2 -> 12.34
        let (int, frac) = digits.split_at(usize::try_from(kk).unwrap_or(0));
        buf.extend(int);
        buf.push(b'.');
        buf.extend(frac);
    } else if -5 < kk && kk <= 0 {
        // 1234e-6 -> 0.001234
        buf.extend(b"0.");
        for _ in 0..-kk {
            buf.push(b'0');
        }
        buf.extend(digits);
    } else {
        // 1e30, 1.234e-33
        let (first, rest) = digits.split_at(1.min(digits.len()));
        buf.extend(first);
        if !rest.is_empty() {
            buf.push(b'.');
            buf.extend(rest);
        }
        buf.push(b'e');
        let e = kk - 1;
        buf.push(if e < 0 { b'-' } else { b'+' });
        let mut n = [0u8; 8];
        let mut cur = io::Cursor::new(&mut n[..]);
        if write!(cur, "{}", e.unsigned_abs()).is_ok() {
            let l = usize::try_from(cur.position()).unwrap_or(0);
            buf.extend(&n[..l]);
        }
    }
    &buf.bytes[..buf.len]
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn f(v: f64) -> String {
        let mut b = FloatBuf::default();
        String::from_utf8(format_f64(v, &mut b).to_vec()).unwrap()
    }

    #[test]
    #[allow(clippy::excessive_precision)] // exact binary values on purpose
    fn floats_like_orjson() {
        // orjson.dumps(v) for each v (langsmith 0.14.17's orjson).
        let cases: &[(f64, &str)] = &[
            (0.1, "0.1"),
            (1e20, "1e+20"),
            (1e-7, "1e-7"),
            (1.0, "1.0"),
            (-0.0, "-0.0"),
            (0.0, "0.0"),
            (123456789.123, "123456789.123"),
            (1e16, "1e+16"),
            (1e15, "1000000000000000.0"),
            (5e-324, "5e-324"),
            (1.7976931348623157e308, "1.7976931348623157e+308"),
            (2.5e-5, "0.000025"),
            (1e21, "1e+21"),
            (1e22, "1e+22"),
            (1e-6, "1e-6"),
            (123e-20, "1.23e-18"),
            (-1.5, "-1.5"),
            // Ties between two shortest candidates: orjson takes the even one.
            (-837128935158365.25, "-837128935158365.2"),
            (928615192795.65625, "928615192795.6562"),
            (9007199254740993.0, "9007199254740992.0"),
            (f64::NAN, "null"),
        ];
        for &(v, want) in cases {
            assert_eq!(f(v), want, "{v:e}");
        }
    }

    #[test]
    fn compact_utf8_json() {
        let v: serde_json::Value =
            serde_json::from_str(r#"{"a":"é\n\u0001\u007f/","b":[1,2.5,null,true]}"#).unwrap();
        let mut out = Vec::new();
        to_writer(&mut out, &v).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "{\"a\":\"é\\n\\u0001\u{7f}/\",\"b\":[1,2.5,null,true]}"
        );
    }
}
