//! Writing `langsmith-trace` and `baggage` into an outgoing request.

use http::header::{HeaderMap, HeaderName, HeaderValue};
use langsmith_core::headers::{BAGGAGE_HEADER, Outgoing, TRACE_HEADER, merge_baggage};

/// Sets the trace header (replacing or removing one the caller set: the
/// propagated run is the one that makes the call) and merges our baggage
/// with the caller's.
pub(crate) fn inject(headers: &mut HeaderMap, out: &Outgoing) {
    let trace = HeaderName::from_static(TRACE_HEADER);
    match out.trace.as_deref().map(HeaderValue::from_str) {
        Some(Ok(value)) => {
            headers.insert(trace, value);
        }
        // A dotted order is ASCII; should it ever not be, send no parent
        // rather than a wrong one.
        Some(Err(_)) | None => {
            headers.remove(trace);
        }
    }
    if let Some(ours) = out.baggage.as_deref() {
        set_baggage(headers, ours);
    }
}

fn set_baggage(headers: &mut HeaderMap, ours: &str) {
    let name = HeaderName::from_static(BAGGAGE_HEADER);
    let mut existing = String::new();
    let mut opaque: Vec<HeaderValue> = Vec::new();
    for value in headers.get_all(&name) {
        match std::str::from_utf8(value.as_bytes()) {
            Ok(s) if s.trim().is_empty() => {}
            Ok(s) => {
                if !existing.is_empty() {
                    existing.push(',');
                }
                existing.push_str(s);
            }
            // Not UTF-8: not ours to read; passed on untouched (receivers
            // skip such a header alone, so ours still arrives).
            Err(_) => opaque.push(value.clone()),
        }
    }
    let merged = if existing.is_empty() {
        None
    } else {
        Some(merge_baggage(&existing, ours))
    };
    let value = merged
        .as_deref()
        .and_then(|m| HeaderValue::from_bytes(m.as_bytes()).ok())
        .or_else(|| HeaderValue::from_bytes(ours.as_bytes()).ok());
    let Some(value) = value else {
        return;
    };
    headers.insert(name.clone(), value);
    for value in opaque {
        headers.append(name.clone(), value);
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn out(trace: Option<&str>, baggage: Option<&str>) -> Outgoing {
        Outgoing {
            trace: trace.map(Into::into),
            baggage: baggage.map(Into::into),
        }
    }

    fn all(h: &HeaderMap, name: &str) -> Vec<Vec<u8>> {
        h.get_all(name)
            .iter()
            .map(|v| v.as_bytes().to_vec())
            .collect()
    }

    #[test]
    fn sets_both_headers_on_an_empty_request() {
        let mut h = HeaderMap::new();
        inject(&mut h, &out(Some("t"), Some("langsmith-project=p")));
        assert_eq!(all(&h, "langsmith-trace"), [b"t".to_vec()]);
        assert_eq!(all(&h, "baggage"), [b"langsmith-project=p".to_vec()]);
    }

    #[test]
    fn replaces_a_stale_trace_and_removes_it_when_unsampled() {
        let mut h = HeaderMap::new();
        h.insert("langsmith-trace", HeaderValue::from_static("old"));
        inject(&mut h, &out(Some("new"), None));
        assert_eq!(all(&h, "langsmith-trace"), [b"new".to_vec()]);
        inject(&mut h, &out(None, Some("langsmith-sampled=0")));
        assert!(h.get("langsmith-trace").is_none());
        assert_eq!(all(&h, "baggage"), [b"langsmith-sampled=0".to_vec()]);
    }

    #[test]
    fn merges_several_caller_baggage_headers_into_one() {
        let mut h = HeaderMap::new();
        h.append(
            "baggage",
            HeaderValue::from_static("a=1, langsmith-project=stale"),
        );
        h.append("baggage", HeaderValue::from_static("b=2"));
        inject(&mut h, &out(Some("t"), Some("langsmith-project=p,a=9")));
        assert_eq!(
            all(&h, "baggage"),
            [b"langsmith-project=p,a=1,b=2".to_vec()]
        );
    }

    #[test]
    fn keeps_non_utf8_baggage_untouched() {
        let mut h = HeaderMap::new();
        h.append("baggage", HeaderValue::from_bytes(b"x=\xff").unwrap());
        inject(&mut h, &out(None, Some("langsmith-project=p")));
        assert_eq!(
            all(&h, "baggage"),
            [b"langsmith-project=p".to_vec(), b"x=\xff".to_vec()]
        );
    }

    #[test]
    fn no_baggage_of_ours_leaves_the_callers_alone() {
        let mut h = HeaderMap::new();
        h.append("baggage", HeaderValue::from_static("a=1"));
        inject(&mut h, &out(Some("t"), None));
        assert_eq!(all(&h, "baggage"), [b"a=1".to_vec()]);
    }
}
