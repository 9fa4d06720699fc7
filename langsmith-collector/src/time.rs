//! RFC 3339 timestamps without a date-time dependency.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current UTC time as `YYYY-MM-DDTHH:MM:SS.ffffff+00:00` (the format
/// the Python SDK uses).
pub(crate) fn now_rfc3339() -> String {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    format_unix_micros(d.as_secs(), d.subsec_micros())
}

fn format_unix_micros(secs: u64, micros: u32) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{micros:06}+00:00",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Microseconds since the Unix epoch of an RFC 3339 time
/// (`2026-11-21T10:00:00.5+01:00`, `...Z`, or without an offset: UTC).
pub(crate) fn parse_rfc3339_micros(s: &str) -> Option<i64> {
    let s = s.trim();
    let num = |a: usize, b: usize| -> Option<i64> {
        let t = s.get(a..b)?;
        t.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| t.parse().ok())?
    };
    let (y, mo, d) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    if s.get(4..5)? != "-" || s.get(7..8)? != "-" || !matches!(s.get(10..11)?, "T" | "t" | " ") {
        return None;
    }
    let (h, mi, se) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let mut rest = s.get(19..)?;
    let mut micros = 0i64;
    if let Some(frac) = rest.strip_prefix('.') {
        let n = frac.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        let digits = &frac[..n];
        micros = format!("{:0<6}", &digits[..n.min(6)]).parse().ok()?;
        rest = &frac[n..];
    }
    let offset_secs = match rest {
        "" | "Z" | "z" => 0,
        o if o.len() == 6 && (o.starts_with('+') || o.starts_with('-')) && &o[3..4] == ":" => {
            let hh: i64 = o[1..3].parse().ok()?;
            let mm: i64 = o[4..6].parse().ok()?;
            let sign = if o.starts_with('-') { -1 } else { 1 };
            sign * (hh * 3600 + mm * 60)
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    let secs = days * 86_400 + h * 3600 + mi * 60 + se - offset_secs;
    Some(secs * 1_000_000 + micros)
}

/// Howard Hinnant's civil-to-days algorithm.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_it_formats_and_other_offsets() {
        for (secs, micros) in [(0, 0), (1_767_323_045, 678_901), (951_782_400, 1)] {
            let s = format_unix_micros(secs, micros);
            assert_eq!(
                parse_rfc3339_micros(&s),
                Some(secs as i64 * 1_000_000 + i64::from(micros)),
                "{s}"
            );
        }
        let utc = parse_rfc3339_micros("2026-11-21T10:00:00Z").unwrap();
        assert_eq!(parse_rfc3339_micros("2026-11-21T11:30:00+01:30"), Some(utc));
        assert_eq!(parse_rfc3339_micros("2026-11-21T09:00:00-01:00"), Some(utc));
        assert_eq!(
            parse_rfc3339_micros("2026-11-21T10:00:00.5"),
            Some(utc + 500_000)
        );
        assert_eq!(
            parse_rfc3339_micros("2026-11-21T10:00:00.1234567Z"),
            Some(utc + 123_456)
        );
        for bad in [
            "",
            "2026-11-21",
            "2026-13-01T00:00:00Z",
            "2026-11-21T10:00:00+0100",
            "x026-11-21T10:00:00Z",
            "2026-11-21T10:00:00.",
        ] {
            assert_eq!(parse_rfc3339_micros(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_known_instants() {
        assert_eq!(format_unix_micros(0, 0), "1970-01-01T00:00:00.000000+00:00");
        assert_eq!(
            format_unix_micros(1_767_323_045, 678_901),
            "2026-01-02T03:04:05.678901+00:00"
        );
        assert_eq!(
            format_unix_micros(951_782_400, 1),
            "2000-02-29T00:00:00.000001+00:00"
        );
    }
}
