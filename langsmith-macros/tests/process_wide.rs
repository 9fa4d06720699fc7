//! `#[traceable]` with process-wide settings (the default client and the
//! tracing switch). One test, run in sequence, since they are global.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use langsmith::{
    Client, MemorySink, RunTree, in_run_sync, set_default_client, set_tracing_enabled, traceable,
    tracing_active,
};
use std::sync::atomic::{AtomicU32, Ordering};

static BODY_RUNS: AtomicU32 = AtomicU32::new(0);

#[traceable]
fn inner(x: u32) -> u32 {
    BODY_RUNS.fetch_add(1, Ordering::Relaxed);
    x + 1
}

#[traceable]
fn outer(x: u32) -> u32 {
    inner(x) * 2
}

#[traceable]
async fn a_outer(x: u32) -> u32 {
    inner(x)
}

#[tokio::test]
async fn default_client_and_global_switch() {
    // 1. Tracing unset on the default client: no run, the body runs.
    let off = MemorySink::new();
    set_default_client(Client::builder().sink(off.clone()).tracing(None).build());
    assert!(!tracing_active());
    assert_eq!(outer(1), 4);
    assert_eq!(a_outer(1).await, 2);
    assert_eq!(BODY_RUNS.load(Ordering::Relaxed), 2);
    assert!(off.runs().is_empty());

    // 2. Tracing on: a root-level call starts a new trace.
    let on = MemorySink::new();
    set_default_client(
        Client::builder()
            .sink(on.clone())
            .tracing(Some(true))
            .build(),
    );
    assert!(tracing_active());
    assert_eq!(outer(1), 4);
    assert_eq!(a_outer(2).await, 3);
    let runs = on.runs();
    assert_eq!(runs.len(), 4);
    let o = runs.iter().find(|r| r.name == "outer").unwrap();
    assert_eq!(o.parent_run_id, None);
    assert_eq!(o.trace_id, o.id);
    let i = runs
        .iter()
        .find(|r| r.name == "inner" && r.trace_id == o.id)
        .unwrap();
    assert_eq!(i.parent_run_id, Some(o.id));
    let a = runs.iter().find(|r| r.name == "a_outer").unwrap();
    assert_eq!(a.parent_run_id, None);

    // 3. Switched off process-wide: nothing through the ambient API, even
    //    inside a low-level run, and the bodies still run.
    set_tracing_enabled(Some(false));
    assert!(!tracing_active());
    let sink = MemorySink::new();
    let root = RunTree::new("root")
        .client(
            Client::builder()
                .sink(sink.clone())
                .tracing(Some(true))
                .build(),
        )
        .start();
    let before = BODY_RUNS.load(Ordering::Relaxed);
    assert_eq!(in_run_sync(root.context().cloned(), || outer(5)), 12);
    assert_eq!(BODY_RUNS.load(Ordering::Relaxed), before + 1);
    root.end();
    assert_eq!(sink.runs().len(), 1, "only the low-level root");

    // 4. Switched on process-wide: traced even with the client's tracing unset.
    set_tracing_enabled(Some(true));
    let unset = MemorySink::new();
    set_default_client(Client::builder().sink(unset.clone()).tracing(None).build());
    assert!(tracing_active());
    assert_eq!(outer(0), 2);
    assert_eq!(unset.runs().len(), 2);
    set_tracing_enabled(None);
}
