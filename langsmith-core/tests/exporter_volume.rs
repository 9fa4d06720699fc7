//! Volume: a burst of runs much larger than a batch goes through in full,
//! without spurious failed requests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use langsmith_core::*;
use serde_json::json;
use std::time::Duration;
use support::*;

#[test]
fn a_burst_of_twenty_thousand_runs_is_delivered_without_failures() {
    let server = TestServer::start();
    let client = client(config(&server.url()));
    for i in 0..20_000 {
        let run = RunTree::new("r")
            .client(client.clone())
            .inputs(&json!({"i": i}))
            .start();
        run.end();
    }
    assert!(client.flush_blocking(Duration::from_secs(60)));
    let s = client.stats();
    assert_eq!(
        (s.queued, s.sent, s.dropped(), s.pending),
        (20_000, 20_000, 0, 0),
        "{s:?}"
    );
    assert_eq!(s.failed_requests, 0, "{s:?}");
    let posts = server.posts_by_id();
    assert_eq!(posts.len(), 20_000);
    assert!(posts.values().all(|n| *n == 1));
}
