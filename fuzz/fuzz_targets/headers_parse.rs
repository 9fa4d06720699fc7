//! `langsmith_core::headers::parse` on arbitrary header pairs, then the
//! emit → parse round trip and `merge_baggage`: nothing may panic, and a
//! parent that was read comes back unchanged.
//!
//! Input: lines separated by `\n`; each line is `name:value` (split at the
//! first `:`; a line without one is a name with an empty value). Values are
//! raw bytes (not necessarily UTF-8).
#![no_main]

use langsmith_core::headers::{emit, merge_baggage, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let pairs: Vec<(String, &[u8])> = data
        .split(|b| *b == b'\n')
        .map(|line| match line.iter().position(|b| *b == b':') {
            Some(i) => (
                String::from_utf8_lossy(&line[..i]).into_owned(),
                &line[i + 1..],
            ),
            None => (String::from_utf8_lossy(line).into_owned(), &b""[..]),
        })
        .collect();
    let parsed = parse(pairs.iter().map(|(k, v)| (k.as_str(), *v)));
    let ctx = parsed.context;

    // What we read, we can send on; what we send, we can read back.
    let out = emit(ctx.parent.as_ref(), &ctx.baggage);
    let again = parse(out.iter());
    if let Some(parent) = &ctx.parent {
        // Baggage never costs the parent (only a project and an agent
        // address together do, and `parse` never yields both, nor does
        // `emit` send both).
        assert_eq!(
            again.context.parent.as_ref(),
            Some(parent),
            "parent round trip"
        );
    }
    let again2 = parse(emit(again.context.parent.as_ref(), &again.context.baggage).iter());
    assert_eq!(
        again2.context.parent, again.context.parent,
        "second round trip is stable"
    );

    // Merging an arbitrary existing value with ours never panics.
    if let (Some(ours), Some((_, existing))) = (out.baggage.as_deref(), pairs.first()) {
        let existing = String::from_utf8_lossy(existing);
        let _ = merge_baggage(&existing, ours);
        let _ = merge_baggage(ours, &existing);
    }
});
