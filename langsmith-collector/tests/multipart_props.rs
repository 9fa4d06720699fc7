//! Property tests for the multipart parser (issue 9): it never panics on
//! arbitrary bytes or boundaries, well-formed bodies of both SDK layouts
//! come back part for part, and a cut body never yields a part that was
//! not sent. (The fuzz target `fuzz/fuzz_targets/collector_multipart.rs`
//! covers the same ground without a time limit.)
#![allow(clippy::unwrap_used, clippy::expect_used)]

use langsmith_collector::multipart::{MAX_PARTS, boundary, parse};
use proptest::prelude::*;

/// Pieces multipart bodies are made of, to get past the first checks often.
fn token() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        Just(b"--".to_vec()),
        Just(b"--bnd".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"\r\n\r\n".to_vec()),
        Just(b"\r".to_vec()),
        Just(b"\n".to_vec()),
        Just(b" \t".to_vec()),
        Just(b"Content-Disposition: form-data; name=\"post.a\"".to_vec()),
        Just(b"Content-Disposition: form-data; name=".to_vec()),
        Just(b"; filename=\"f\\\"x\"".to_vec()),
        Just(b"Content-Type: application/json; length=".to_vec()),
        Just(b"Content-Length: ".to_vec()),
        Just(b"18446744073709551616".to_vec()),
        (0usize..40).prop_map(|n| n.to_string().into_bytes()),
        Just(b":".to_vec()),
        Just(b"\"".to_vec()),
        Just(b";".to_vec()),
        Just(vec![0xff, 0xc3]),
        prop::collection::vec(any::<u8>(), 0..8),
    ]
}

/// Part names as the SDKs send them (no quotes, no line breaks).
fn name() -> impl Strategy<Value = String> {
    "[a-z0-9._-]{1,24}"
}

/// How a part declares its length: `0` Python (`Content-Length`), `1` JS
/// (`length=` in the content type, maybe wrong), `2` not at all.
#[derive(Debug, Clone)]
enum Layout {
    Python,
    Js { wrong_by: usize },
    Bare,
}

fn layout() -> impl Strategy<Value = Layout> {
    prop_oneof![
        Just(Layout::Python),
        (0usize..3).prop_map(|wrong_by| Layout::Js { wrong_by }),
        Just(Layout::Bare),
    ]
}

fn body_of(b: &str, parts: &[(String, Vec<u8>, Layout)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, data, layout) in parts {
        out.extend_from_slice(format!("--{b}\r\n").as_bytes());
        out.extend_from_slice(
            format!("Content-Disposition: form-data; name=\"{name}\"\r\n").as_bytes(),
        );
        match layout {
            Layout::Python => out.extend_from_slice(
                format!(
                    "Content-Type: application/json\r\nContent-Length: {}\r\n",
                    data.len()
                )
                .as_bytes(),
            ),
            Layout::Js { wrong_by } => out.extend_from_slice(
                format!(
                    "Content-Type: application/json; length={}\r\n",
                    data.len() + wrong_by
                )
                .as_bytes(),
            ),
            Layout::Bare => {}
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(data);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(format!("--{b}--\r\n").as_bytes());
    out
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn parse_never_panics_on_arbitrary_bytes(
        body in prop::collection::vec(any::<u8>(), 0..4096),
        b in any::<String>(),
    ) {
        if let Ok(parts) = parse(&body, &b) {
            prop_assert!(parts.len() <= MAX_PARTS);
            for p in parts {
                prop_assert!(p.data.len() <= body.len());
            }
        }
    }

    #[test]
    fn parse_never_panics_on_multipart_like_noise(
        tokens in prop::collection::vec(token(), 0..80),
        b in prop_oneof![Just("bnd".to_owned()), "[ -~]{1,8}"],
    ) {
        let body = tokens.concat();
        if let Ok(parts) = parse(&body, &b) {
            let range = body.as_ptr_range();
            for p in parts {
                let r = p.data.as_ptr_range();
                prop_assert!(p.data.is_empty() || (range.start <= r.start && r.end <= range.end));
                let _ = p.length_mismatch();
            }
        }
    }

    #[test]
    fn boundary_never_panics(ct in any::<String>()) {
        let _ = boundary(&ct);
        let _ = boundary(&format!("multipart/form-data; boundary={ct}"));
        let _ = boundary(&format!("multipart/form-data; boundary=\"{ct}"));
    }

    /// Boundaries of RFC 2046 characters, bare when they are a token and
    /// quoted otherwise, come back as given.
    #[test]
    fn boundary_round_trips(b in "[A-Za-z0-9'+_.-]{1,70}", q in "[A-Za-z0-9'()+_,./:=? -]{0,69}[A-Za-z0-9]") {
        let bare = format!("multipart/form-data; boundary={b}");
        prop_assert_eq!(boundary(&bare), Some(b.clone()));
        let quoted = format!("Multipart/Form-Data; charset=utf-8; boundary=\"{q}\"");
        prop_assert_eq!(boundary(&quoted), Some(q.clone()));
    }

    /// Well-formed bodies, Python and JS layouts mixed, data of any bytes
    /// (but never the delimiter): every part comes back with its name,
    /// data and declared length.
    #[test]
    fn well_formed_bodies_round_trip(
        b in "[A-Za-z0-9'()+_,./:=?-]{1,70}",
        parts in prop::collection::vec(
            (name(), prop::collection::vec(any::<u8>(), 0..300), layout()),
            1..8,
        ),
    ) {
        let delim = format!("\r\n--{b}");
        for (_, data, _) in &parts {
            // A part's data may not hold its delimiter, nor end in a prefix
            // of it (then "data + CRLF--b" would contain it earlier).
            let mut tail = data.clone();
            tail.extend_from_slice(delim.as_bytes());
            prop_assume!(!contains(&tail[..tail.len() - 1], delim.as_bytes()));
            prop_assume!(!data.starts_with(&delim.as_bytes()[2..]));
        }
        let body = body_of(&b, &parts);
        let parsed = parse(&body, &b).unwrap();
        prop_assert_eq!(parsed.len(), parts.len());
        for (got, (name, data, layout)) in parsed.iter().zip(&parts) {
            prop_assert_eq!(&got.name, name);
            prop_assert_eq!(got.data, &data[..]);
            let declared = match layout {
                Layout::Python => Some(data.len()),
                Layout::Js { wrong_by } => Some(data.len() + wrong_by),
                Layout::Bare => None,
            };
            prop_assert_eq!(got.declared_len, declared);
        }
    }

    /// Cut anywhere, a body yields an error or a prefix of the parts sent
    /// (never a part that was not sent, never different data).
    #[test]
    fn cut_bodies_never_invent_parts(
        parts in prop::collection::vec(
            (name(), "[a-z{}\":0-9 ]{0,60}", layout()),
            1..5,
        ),
        cut in any::<prop::sample::Index>(),
    ) {
        let parts: Vec<(String, Vec<u8>, Layout)> =
            parts.into_iter().map(|(n, d, l)| (n, d.into_bytes(), l)).collect();
        let body = body_of("bnd", &parts);
        let cut = cut.index(body.len());
        if let Ok(got) = parse(&body[..cut], "bnd") {
            prop_assert!(got.len() <= parts.len());
            for (g, (name, data, _)) in got.iter().zip(&parts) {
                prop_assert_eq!(&g.name, name);
                prop_assert_eq!(g.data, &data[..]);
            }
        }
    }
}
