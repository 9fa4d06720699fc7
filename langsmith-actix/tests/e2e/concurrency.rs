//! 2,000 concurrent requests, each under its own caller: no context bleed.

use crate::support::*;
use langsmith_core::*;
use langsmith_reqwest::ParentRun;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_thousand_concurrent_requests_stay_under_their_own_callers() {
    const N: u64 = 2_000;
    let srv = start();
    let callers_sink = MemorySink::new();
    let callers = sink_client(&callers_sink);
    let http = outgoing_plain();
    let limit = Arc::new(tokio::sync::Semaphore::new(64));
    let mut tasks = Vec::new();
    for n in 0..N {
        let (http, callers, limit, base) = (
            http.clone(),
            callers.clone(),
            limit.clone(),
            srv.base.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let _permit = limit.acquire_owned().await.unwrap();
            let caller = RunTree::new("caller")
                .client(callers)
                .metadata("n", n)
                .start();
            let ctx = caller.context().unwrap().clone();
            let resp = http
                .get(format!("{base}/work/{n}"))
                .with_extension(ParentRun(ctx.clone()))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200);
            let body: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
            caller.end();
            (ctx.id(), body)
        }));
    }
    let mut answers = Vec::new();
    for t in tasks {
        answers.push(t.await.unwrap());
    }
    // Each request: one server run and one inner run.
    let runs = wait_runs(&srv.sink, 2 * N as usize).await;
    assert_eq!(runs.len(), 2 * N as usize);
    let by_id: HashMap<Uuid, &RunRecord> = runs.iter().map(|r| (r.id, r)).collect();
    for (caller, body) in &answers {
        let n = body["n"].as_u64().unwrap();
        let server_id: Uuid = body["before"]["ambient"].as_str().unwrap().parse().unwrap();
        let server = by_id[&server_id];
        assert_eq!(server.name, "GET /work/{n}");
        assert_eq!(server.parent_run_id, Some(*caller), "request {n}");
        assert_eq!(server.trace_id, *caller);
        for side in ["before", "after"] {
            assert_eq!(body[side]["extracted"], server_id.to_string());
            assert_eq!(body[side]["ambient"], server_id.to_string());
            assert_eq!(body[side]["parent"], caller.to_string());
        }
        let inner: Uuid = body["inner"].as_str().unwrap().parse().unwrap();
        let inner = by_id[&inner];
        assert_eq!(inner.parent_run_id, Some(server_id));
        assert_eq!(inner.extra.metadata["n"], n);
        assert!(inner.dotted_order.starts_with(&server.dotted_order));
    }
    // Nothing left dangling.
    assert!(
        runs.iter()
            .all(|r| r.end_time.is_some() && r.error.is_none())
    );
}

fn outgoing_plain() -> reqwest_middleware::ClientWithMiddleware {
    reqwest_middleware::ClientBuilder::new(reqwest_middleware::reqwest::Client::new())
        .with(langsmith_reqwest::LangSmithMiddleware::new())
        .build()
}
