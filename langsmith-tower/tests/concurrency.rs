//! 2,000 concurrent requests (200 at a time) with random delays, each with
//! its own caller: every server run (and the run its handler starts) stays
//! under its own caller — no context bleeds between requests.
#![cfg(feature = "axum")]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use axum::{Router, extract::Path, routing::get};
use langsmith_core::server::ServerOptions;
use langsmith_core::{DottedOrder, MemorySink, Timestamp, Uuid, current_run, traceable, uuid7};
use langsmith_tower::{CurrentRun, LangSmithLayer};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use support::*;
use tokio::sync::Semaphore;

const REQUESTS: usize = 2_000;
const AT_ONCE: usize = 200;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_context_bleed_under_concurrency() {
    let sink = MemorySink::new();
    let app = Router::new()
        .route(
            "/work/{ms}",
            get(
                |Path(ms): Path<u64>, CurrentRun(run): CurrentRun| async move {
                    let before = current_run().map(|c| c.id());
                    tokio::time::sleep(Duration::from_millis(ms)).await;
                    traceable("step")
                        .call_async(async move {
                            tokio::time::sleep(Duration::from_millis(ms / 2)).await;
                            tokio::task::yield_now().await;
                        })
                        .await;
                    let after = current_run().map(|c| c.id());
                    assert_eq!(before, after);
                    assert_eq!(before, run.map(|c| c.id()));
                    before.unwrap().to_string()
                },
            ),
        )
        .layer(LangSmithLayer::with_options(
            ServerOptions::new().client(client(&sink, Some(true))),
        ));
    let srv = Arc::new(serve(app).await);
    let http = http();
    let permits = Arc::new(Semaphore::new(AT_ONCE));
    let mut rng = SmallRng::seed_from_u64(0x5eed);
    let mut tasks = Vec::with_capacity(REQUESTS);
    for _ in 0..REQUESTS {
        let permit = permits.clone().acquire_owned().await.unwrap();
        let (srv, http) = (srv.clone(), http.clone());
        let ms = rng.random_range(0..20u64);
        let caller_id = uuid7();
        let caller = DottedOrder::root(Timestamp::now(), caller_id);
        tasks.push(tokio::spawn(async move {
            let body = http
                .get(srv.url(&format!("/work/{ms}")))
                .header("langsmith-trace", caller.as_str())
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            drop(permit);
            (caller_id, body.parse::<Uuid>().unwrap())
        }));
    }
    let mut expected: HashMap<Uuid, Uuid> = HashMap::new(); // server run -> caller
    for t in tasks {
        let (caller, server_run) = t.await.unwrap();
        assert!(
            expected.insert(server_run, caller).is_none(),
            "server run ids are unique"
        );
    }
    let runs = wait_for_runs(&sink, 2 * REQUESTS).await;
    assert_eq!(runs.len(), 2 * REQUESTS);
    let by_id: HashMap<Uuid, _> = runs.iter().map(|r| (r.id, r)).collect();
    let mut steps = 0;
    for r in &runs {
        if r.name == "step" {
            steps += 1;
            let parent = by_id[&r.parent_run_id.unwrap()];
            assert_eq!(parent.name, "GET /work/{ms}");
            assert_eq!(r.trace_id, parent.trace_id);
            assert!(
                r.dotted_order
                    .starts_with(&format!("{}.", parent.dotted_order))
            );
        } else {
            let caller = expected[&r.id];
            assert_eq!(
                r.parent_run_id,
                Some(caller),
                "server run under its own caller"
            );
            assert_eq!(r.trace_id, caller);
            assert!(r.error.is_none());
        }
    }
    assert_eq!(steps, REQUESTS);
}
