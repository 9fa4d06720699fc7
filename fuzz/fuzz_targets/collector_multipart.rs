//! `langsmith_collector::multipart::parse` on arbitrary bytes with an
//! arbitrary boundary, and `multipart::boundary` on an arbitrary
//! `Content-Type`: nothing may panic, and every part lies inside the body.
//!
//! Input: the first byte gives the boundary's length `n` (mod 80), the next
//! `n` bytes are the boundary (lossy UTF-8, also tried as the value of a
//! `Content-Type`), the rest is the body.
#![no_main]

// The collector's multipart module is std-only; compiling its source here
// (rather than depending on the collector, with axum, tokio and a bundled
// SQLite) keeps the instrumented build to a fraction of the time.
#[path = "../../langsmith-collector/src/multipart.rs"]
#[allow(dead_code)]
mod multipart;

use multipart::{boundary, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&n, rest)) = data.split_first() else {
        return;
    };
    let n = (usize::from(n) % 80).min(rest.len());
    let (b, body) = rest.split_at(n);
    let b = String::from_utf8_lossy(b);
    let _ = boundary(&b);
    let _ = boundary(&format!("multipart/form-data; boundary={b}"));
    if let Ok(parts) = parse(body, &b) {
        let range = body.as_ptr_range();
        for p in &parts {
            let r = p.data.as_ptr_range();
            assert!(
                p.data.is_empty() || (range.start <= r.start && r.end <= range.end),
                "part data inside the body"
            );
            let _ = p.length_mismatch();
        }
    }
});
