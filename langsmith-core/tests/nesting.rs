//! Nested traced calls: parent links, trace ids and dotted orders, across
//! `.await` points, spawned tasks and many concurrent tasks.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use langsmith_core::*;
use std::collections::HashMap;
use std::time::Duration;

fn client(sink: &MemorySink) -> Client {
    Client::builder()
        .config(Config::default())
        .tracing(Some(true))
        .sink(sink.clone())
        .build()
}

/// Checks every structural invariant of one trace and returns runs by name.
fn check_tree(runs: &[RunRecord]) -> HashMap<String, RunRecord> {
    let by_id: HashMap<Uuid, &RunRecord> = runs.iter().map(|r| (r.id, r)).collect();
    let roots: Vec<_> = runs.iter().filter(|r| r.parent_run_id.is_none()).collect();
    assert_eq!(roots.len(), 1, "exactly one root: {runs:#?}");
    let root = roots[0];
    for r in runs {
        assert_eq!(r.trace_id, root.id, "{} is in the root's trace", r.name);
        assert!(r.end_time.is_some(), "{} ended", r.name);
        assert!(r.end_time.unwrap() >= r.start_time);
        let d = DottedOrder::parse(&r.dotted_order).unwrap();
        assert_eq!(d.run_id(), r.id);
        assert_eq!(d.trace_id(), root.id);
        assert_eq!(d.parent_id(), r.parent_run_id);
        if let Some(pid) = r.parent_run_id {
            let parent = by_id.get(&pid).expect("parent is in the trace");
            assert!(
                r.dotted_order
                    .starts_with(&format!("{}.", parent.dotted_order))
            );
            assert!(
                r.start_time >= parent.start_time,
                "child never starts before parent"
            );
            assert_eq!(
                d.depth(),
                DottedOrder::parse(&parent.dotted_order).unwrap().depth() + 1
            );
        }
    }
    runs.iter()
        .map(|r| (r.name.to_string(), r.clone()))
        .collect()
}

async fn leaf(x: u32) -> u32 {
    traceable("leaf")
        .run_type(RunType::Tool)
        .inputs(&serde_json::json!({ "x": x }))
        .call_async(async move {
            tokio::time::sleep(Duration::from_millis(1)).await;
            x + 1
        })
        .await
}

async fn middle(x: u32) -> u32 {
    traceable("middle")
        .call_async(async move {
            tokio::task::yield_now().await;
            let a = leaf(x).await;
            // Carried into a spawned task explicitly.
            spawn(async move {
                traceable("spawned")
                    .call_async(async move { leaf(a).await })
                    .await
            })
            .await
            .unwrap()
        })
        .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_deep_across_awaits_and_spawn() {
    let sink = MemorySink::new();
    let c = client(&sink);
    let out = traceable("root")
        .client(c)
        .call_async(async { middle(1).await })
        .await;
    assert_eq!(out, 3);
    let runs = sink.runs();
    assert_eq!(
        runs.len(),
        5,
        "root, middle, leaf, spawned, leaf: {runs:#?}"
    );
    let by_name = check_tree(&runs);
    let root = &by_name["root"];
    let middle = &by_name["middle"];
    let spawned = &by_name["spawned"];
    assert_eq!(middle.parent_run_id, Some(root.id));
    assert_eq!(spawned.parent_run_id, Some(middle.id));
    let leaves: Vec<_> = runs.iter().filter(|r| r.name == "leaf").collect();
    assert_eq!(leaves.len(), 2);
    let leaf_parents: Vec<_> = leaves.iter().map(|l| l.parent_run_id.unwrap()).collect();
    assert!(leaf_parents.contains(&middle.id) && leaf_parents.contains(&spawned.id));
    assert_eq!(root.outputs.as_ref().unwrap().get(), r#"{"output":3}"#);
    assert_eq!(leaves[0].run_type, RunType::Tool);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_tokio_spawn_does_not_inherit() {
    let sink = MemorySink::new();
    let c = client(&sink);
    set_default_client(c.clone());
    traceable("root")
        .client(c)
        .call_async(async {
            // tokio::spawn without carrying the context starts a new trace.
            tokio::spawn(traceable("orphan").call_async(async { 1 }))
                .await
                .unwrap()
        })
        .await;
    let runs = sink.runs();
    let orphan = runs.iter().find(|r| r.name == "orphan").unwrap();
    assert_eq!(orphan.parent_run_id, None);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_concurrent_traces_do_not_bleed() {
    let sink = MemorySink::new();
    let c = client(&sink);
    let mut tasks = Vec::new();
    for i in 0..1000u32 {
        let c = c.clone();
        tasks.push(tokio::spawn(async move {
            traceable("root")
                .client(c)
                .metadata("task", i)
                .call_async(async move {
                    tokio::time::sleep(Duration::from_millis(u64::from(i % 7))).await;
                    let tid = current_run().unwrap().trace_id();
                    middle(i).await;
                    assert_eq!(current_run().unwrap().trace_id(), tid);
                    tid
                })
                .await
        }));
    }
    let mut trace_ids = Vec::new();
    for t in tasks {
        trace_ids.push(t.await.unwrap());
    }
    let runs = sink.runs();
    assert_eq!(runs.len(), 5000);
    let mut by_trace: HashMap<Uuid, Vec<RunRecord>> = HashMap::new();
    for r in runs {
        by_trace.entry(r.trace_id).or_default().push(r);
    }
    assert_eq!(by_trace.len(), 1000, "1000 separate trees");
    for tid in trace_ids {
        let tree = &by_trace[&tid];
        assert_eq!(tree.len(), 5);
        let by_name = check_tree(tree);
        let task = &by_name["root"].extra.metadata["task"];
        // Every run of the tree belongs to the same task's input chain.
        let leaf_x: Vec<_> = tree
            .iter()
            .filter(|r| r.name == "leaf")
            .map(|r| r.inputs.as_ref().unwrap().get().to_string())
            .collect();
        let i = task.as_u64().unwrap();
        assert!(
            leaf_x.contains(&format!("{{\"x\":{i}}}")),
            "{leaf_x:?} for task {i}"
        );
    }
}

#[test]
fn sync_nesting_and_errors() {
    let sink = MemorySink::new();
    let c = client(&sink);
    let r: Result<u32, String> = traceable("outer").client(c).try_call(|| {
        let inner: Result<u32, String> = traceable("inner").try_call(|| Err("nope".into()));
        assert!(inner.is_err());
        Ok(traceable("ok").call(|| 5))
    });
    assert_eq!(r, Ok(5));
    let runs = sink.runs();
    let by_name = check_tree(&runs);
    assert_eq!(by_name["inner"].error.as_deref(), Some("nope"));
    assert_eq!(by_name["inner"].parent_run_id, Some(by_name["outer"].id));
    assert!(by_name["outer"].error.is_none());
}

#[test]
fn panics_are_recorded_and_resumed() {
    let sink = MemorySink::new();
    let c = client(&sink);
    let caught = std::panic::catch_unwind(|| {
        traceable("boom")
            .client(c.clone())
            .call(|| -> u32 { panic!("kaput") })
    });
    assert!(caught.is_err());
    let runs = sink.runs();
    assert_eq!(runs[0].error.as_deref(), Some("panicked: kaput"));
}

#[tokio::test(flavor = "current_thread")]
async fn async_panic_and_cancellation() {
    let sink = MemorySink::new();
    let c = client(&sink);
    let c2 = c.clone();
    let joined = tokio::spawn(async move {
        traceable("async-boom")
            .client(c2)
            .call_async(async {
                tokio::task::yield_now().await;
                if std::hint::black_box(true) {
                    panic!("async kaput");
                }
                0u8
            })
            .await
    })
    .await;
    assert!(joined.unwrap_err().is_panic());
    // Dropped before completion: ends as cancelled.
    let slow = traceable("slow")
        .client(c.clone())
        .call_async(tokio::time::sleep(Duration::from_secs(60)));
    let timed_out = tokio::time::timeout(Duration::from_millis(10), slow).await;
    assert!(timed_out.is_err());
    let runs = sink.runs();
    let boom = runs.iter().find(|r| r.name == "async-boom").unwrap();
    assert_eq!(boom.error.as_deref(), Some("panicked: async kaput"));
    let slow = runs.iter().find(|r| r.name == "slow").unwrap();
    assert_eq!(slow.error.as_deref(), Some(CANCELLED));
    assert!(slow.end_time.is_some());
}

#[test]
fn trace_scope_sets_inputs_and_outputs() {
    let sink = MemorySink::new();
    let c = client(&sink);
    let mut run = trace("scope")
        .client(c)
        .inputs(&serde_json::json!({"q": "why"}))
        .start();
    let child_parent = run.in_scope(|| {
        let child = trace("inside").start();
        let p = child.context().unwrap().parent_id();
        child.end();
        p
    });
    assert_eq!(child_parent, run.id());
    run.set_outputs(&serde_json::json!({"a": "because"}));
    run.end();
    let runs = sink.runs();
    let by_name = check_tree(&runs);
    assert_eq!(
        by_name["scope"].inputs.as_ref().unwrap().get(),
        r#"{"q":"why"}"#
    );
    assert_eq!(
        by_name["scope"].outputs.as_ref().unwrap().get(),
        r#"{"a":"because"}"#
    );
}

#[test]
fn tracing_switches() {
    let sink = MemorySink::new();
    // Unset: no new traces through the ambient APIs...
    let unset = Client::builder()
        .config(Config::default())
        .sink(sink.clone())
        .build();
    traceable("skipped").client(unset.clone()).call(|| ());
    assert!(sink.runs().is_empty());
    // ...but the low-level API always records...
    RunTree::new("low-level")
        .client(unset.clone())
        .start()
        .end();
    assert_eq!(sink.runs().len(), 1);
    // ...and a continued trace (the caller decided) is recorded.
    let parent = RunContext::from_headers(
        [(
            "langsmith-trace",
            "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
        )],
        &unset,
    )
    .unwrap();
    in_run_sync(Some(parent), || traceable("continued").call(|| ()));
    let runs = sink.runs();
    let continued = runs.iter().find(|r| r.name == "continued").unwrap();
    assert_eq!(
        continued.parent_run_id.unwrap().to_string(),
        "0193d5a2-0000-7000-8000-000000000001"
    );
    // Explicitly off: nothing through the ambient APIs, even continued.
    sink.clear();
    let off = Client::builder()
        .config(Config::default())
        .tracing(Some(false))
        .sink(sink.clone())
        .build();
    let parent = RunContext::from_headers(
        [(
            "langsmith-trace",
            "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
        )],
        &off,
    )
    .unwrap();
    in_run_sync(Some(parent), || traceable("forbidden").call(|| ()));
    traceable("forbidden-root").client(off).call(|| ());
    assert!(sink.runs().is_empty());
}

#[test]
fn unsampled_traces_record_nothing_and_propagate() {
    let sink = MemorySink::new();
    let c = Client::builder()
        .config(Config::default())
        .tracing(Some(true))
        .sampling_rate(0.0)
        .sink(sink.clone())
        .build();
    let run = trace("root").client(c).start();
    assert!(!run.is_recording());
    let h = run.to_headers();
    assert_eq!(h.trace, None);
    assert_eq!(h.baggage.as_deref(), Some("langsmith-sampled=0"));
    let child = run.child("child").start();
    assert!(!child.is_recording());
    child.end();
    run.end();
    assert!(sink.ops().is_empty());
}

#[test]
fn sampling_keeps_whole_trees_only() {
    let sink = MemorySink::new();
    let c = Client::builder()
        .config(Config::default())
        .tracing(Some(true))
        .sampling_rate(0.5)
        .sink(sink.clone())
        .build();
    for _ in 0..2000 {
        traceable("root").client(c.clone()).call(|| {
            traceable("child").call(|| traceable("grandchild").call(|| ()));
        });
    }
    let runs = sink.runs();
    let roots: std::collections::HashSet<Uuid> = runs
        .iter()
        .filter(|r| r.parent_run_id.is_none())
        .map(|r| r.id)
        .collect();
    assert!(
        (800..1200).contains(&roots.len()),
        "{} of 2000 kept",
        roots.len()
    );
    assert_eq!(runs.len(), roots.len() * 3, "whole trees only");
    assert!(runs.iter().all(|r| roots.contains(&r.trace_id)));
}

#[test]
fn rules_override_sampling() {
    let sink = MemorySink::new();
    let c = Client::builder()
        .config(Config::default())
        .tracing(Some(true))
        .sampling_rate(0.0)
        .trace_rule(|root| (root.metadata.get("tier") == Some(&"paid".into())).then_some(true))
        .trace_rule(|root| (root.name == "health").then_some(false))
        .sink(sink.clone())
        .build();
    traceable("paid")
        .client(c.clone())
        .metadata("tier", "paid")
        .call(|| ());
    traceable("free").client(c.clone()).call(|| ());
    traceable("health")
        .client(c)
        .metadata("tier", "paid")
        .call(|| ());
    let names: Vec<_> = sink.runs().iter().map(|r| r.name.to_string()).collect();
    assert_eq!(names, ["paid", "health"]);
}

#[test]
fn custom_ids_and_inheritance_from_baggage() {
    let sink = MemorySink::new();
    let c = client(&sink);
    let parent = RunContext::from_headers(
        [
            ("Langsmith-Trace", "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001"),
            ("baggage", "langsmith-metadata=%7B%22tenant%22%3A%22acme%22%7D,langsmith-tags=blue,langsmith-project=shop,other=1"),
        ],
        &c,
    )
    .unwrap();
    let id = uuid7();
    let run = trace("handler")
        .parent(&parent)
        .id(id)
        .tag("own")
        .metadata("k", 1)
        .start();
    let mut run = run;
    run.add_metadata("added", true);
    let child = run.child("inner").start();
    let headers = child.to_headers();
    child.end();
    run.end();
    let runs = sink.runs();
    let handler = runs.iter().find(|r| r.name == "handler").unwrap();
    assert_eq!(handler.id, id);
    assert_eq!(&*handler.session_name, "shop");
    assert_eq!(handler.tags, ["blue", "own"]);
    assert_eq!(handler.extra.metadata["tenant"], "acme");
    assert_eq!(handler.extra.metadata["k"], 1);
    let inner = runs.iter().find(|r| r.name == "inner").unwrap();
    // As in the Python SDK, a child inherits its parent's tags and metadata:
    // from the baggage, its own, and those added before the child started.
    assert_eq!(inner.tags, ["blue", "own"]);
    assert_eq!(inner.extra.metadata["k"], 1);
    assert_eq!(inner.extra.metadata["tenant"], "acme");
    assert_eq!(inner.extra.metadata["added"], true);
    assert_eq!(&*inner.session_name, "shop");
    // Foreign baggage is carried on.
    let baggage = headers.baggage.unwrap();
    assert!(baggage.ends_with(",other=1"), "{baggage}");
    assert!(baggage.contains("langsmith-project=shop"));
}

/// The record gets its dotted order when it leaves the run (moved from the
/// context at the end when nothing else holds it, copied otherwise): every
/// way out carries the same dotted order as the run's context.
#[test]
fn every_way_a_record_leaves_its_run_carries_the_dotted_order() {
    let sink = MemorySink::new();
    let c = client(&sink);
    let root = RunTree::new("root").client(c.clone()).start();
    let parent = root.context().unwrap();
    let child = |name: &'static str| RunTree::new(name).parent(parent).client(c.clone()).start();
    let dotted = |run: &Run| run.context().unwrap().dotted_order().to_string();
    let mut expected = HashMap::new();

    // Ended holding the context's last handle: moved.
    let run = child("end");
    expected.insert("end", dotted(&run));
    run.end();
    // Ended while a clone of its context is alive: copied, and the clone
    // still reads the full dotted order afterwards.
    let run = child("end_shared");
    expected.insert("end_shared", dotted(&run));
    let kept = run.context().unwrap().clone();
    run.end_with_outputs(&serde_json::json!({"ok": true}));
    assert_eq!(kept.dotted_order().to_string(), expected["end_shared"]);
    // Posted early, then patched, then ended.
    let mut run = child("posted");
    expected.insert("posted", dotted(&run));
    run.post();
    run.patch();
    run.end();
    // Read through `record_mut` before the end.
    let mut run = child("record_mut");
    expected.insert("record_mut", dotted(&run));
    let seen = run.record_mut().unwrap().dotted_order.clone();
    assert_eq!(seen, expected["record_mut"]);
    run.end_with_error("boom");
    // Dropped without an explicit end; ended at a given time.
    let run = child("dropped");
    expected.insert("dropped", dotted(&run));
    drop(run);
    let run = child("end_at");
    expected.insert("end_at", dotted(&run));
    run.end_at(Timestamp::now());
    root.end();

    let runs = sink.runs();
    check_tree(&runs);
    let mut ops_seen = 0;
    for op in sink.ops() {
        let rec = match &op {
            RunOp::Create(r) | RunOp::Update(r) => r,
            _ => continue,
        };
        if let Some(want) = expected.get(rec.name.as_ref()) {
            assert_eq!(&rec.dotted_order, want, "{} ({op:?})", rec.name);
            ops_seen += 1;
        }
    }
    // end, end_shared, posted (post + patch + end), record_mut, dropped, end_at.
    assert_eq!(ops_seen, 8);
}

/// A trace the caller addressed to an agent (`langsmith-address`, no
/// project; the Python SDK's agent addressing) is continued under that
/// address: the runs carry it instead of a project, and calls they make pass
/// it on. A run that names its own project goes there instead.
#[test]
fn an_agent_addressed_trace_is_continued_under_its_address() {
    let sink = MemorySink::new();
    let c = client(&sink);
    let lrn = "lrn:agents/bot/environments/production";
    let parent = RunContext::from_headers(
        [
            (
                "langsmith-trace",
                "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
            ),
            (
                "baggage",
                "langsmith-address=lrn%3Aagents/bot/environments/production,langsmith-tags=t",
            ),
        ],
        &c,
    )
    .unwrap();
    let run = trace("handler").parent(&parent).start();
    let child = run.child("inner").start();
    let baggage = child.to_headers().baggage.unwrap();
    assert!(
        baggage.contains("langsmith-address=lrn%3Aagents/bot/environments/production"),
        "{baggage}"
    );
    assert!(!baggage.contains("langsmith-project"), "{baggage}");
    let elsewhere = run.child("elsewhere").project("mine").start();
    let baggage = elsewhere.to_headers().baggage.unwrap();
    assert!(baggage.contains("langsmith-project=mine"), "{baggage}");
    assert!(
        !baggage.contains("langsmith-address"),
        "never both: {baggage}"
    );
    elsewhere.end();
    child.end();
    run.end();
    let runs = sink.runs();
    for name in ["handler", "inner"] {
        let r = runs.iter().find(|r| r.name == name).unwrap();
        assert_eq!(r.address.as_deref(), Some(lrn), "{name}");
        assert_eq!(&*r.session_name, "", "{name}");
        assert_eq!(r.tags, ["t"], "{name}");
    }
    let r = runs.iter().find(|r| r.name == "elsewhere").unwrap();
    assert_eq!((r.address.as_deref(), &*r.session_name), (None, "mine"));

    // A service that files runs under its own project ignores the address.
    let incoming = headers::parse([
        (
            "langsmith-trace",
            &b"20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001"[..],
        ),
        (
            "baggage",
            b"langsmith-address=lrn%3Aagents/bot/environments/production",
        ),
    ])
    .context;
    let own = RunContext::from_incoming(incoming, &c, false).unwrap();
    let baggage = own.to_headers().baggage.unwrap();
    assert!(!baggage.contains("langsmith-address"), "{baggage}");

    // A service that is itself an agent: a caller naming no destination
    // gets the service's address; one naming a project, its project.
    let bot = headers::AgentAddress::new("svc", headers::AgentEnvironment::Local).unwrap();
    let agent = Client::builder()
        .sink(sink.clone())
        .tracing(Some(true))
        .agent_address(bot)
        .build();
    let trace = "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001";
    let silent = RunContext::from_headers([("langsmith-trace", trace)], &agent).unwrap();
    assert_eq!(silent.address(), Some("lrn:agents/svc/environments/local"));
    let named = RunContext::from_headers(
        [
            ("langsmith-trace", trace),
            ("baggage", "langsmith-project=shop"),
        ],
        &agent,
    )
    .unwrap();
    assert_eq!((named.address(), named.project()), (None, "shop"));
}
