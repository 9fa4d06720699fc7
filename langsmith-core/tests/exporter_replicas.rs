//! `LANGSMITH_RUNS_ENDPOINTS`: every run goes to every replica endpoint, with
//! that endpoint's own key and project, and not to the default endpoint.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use langsmith_core::*;
use serde_json::json;
use std::time::Duration;
use support::*;

#[test]
fn each_replica_gets_each_run_with_its_key_and_project() {
    let default = TestServer::start();
    let a = TestServer::start();
    let b = TestServer::start();
    let env = json!([
        {"api_url": a.url(), "api_key": "key-a", "project_name": "project-a"},
        {"api_url": format!("{}/", b.url()), "api_key": "key-b"}
    ])
    .to_string();
    let mut cfg = Config::from_lookup(|k| match k {
        "LANGSMITH_RUNS_ENDPOINTS" => Some(env.clone()),
        _ => None,
    });
    assert_eq!(cfg.replicas.len(), 2);
    cfg.endpoint = default.url();
    cfg.api_key = Some(ApiKey::new("default-key"));
    cfg.workspace_id = Some("default-workspace".into());
    cfg.project = "own-project".into();
    cfg.exporter.batch_interval = Duration::from_millis(20);
    let client = client(cfg);

    // A fixed id, to compare with what the Python SDK derives for the replica.
    let root_id: Uuid = "01a1fc6d-6bcc-7fc1-9c34-b9bc502f6e0f".parse().unwrap();
    let root = RunTree::new("root")
        .id(root_id)
        .client(client.clone())
        .inputs(&json!({"q": 1}))
        .start();
    let child = root.child("child").start();
    let ids = [root.id().unwrap(), child.id().unwrap()];
    child.end();
    root.end();
    let fb = Feedback::new(ids[0], "k").score(1.0);
    client.create_feedback(fb);
    let mut late = RunTree::new("late").client(client.clone()).start();
    late.post();
    assert!(client.flush_blocking(Duration::from_secs(20)));
    let late_id = late.id().unwrap();
    late.end();
    assert!(client.flush_blocking(Duration::from_secs(20)));

    assert!(
        default.records().is_empty(),
        "the default endpoint gets nothing (not even /info)"
    );
    for (server, key, project) in [(&a, "key-a", "project-a"), (&b, "key-b", "own-project")] {
        let recs = server.records();
        assert!(!recs.is_empty());
        for r in &recs {
            assert_eq!(r.header("x-api-key"), Some(key), "{} {}", r.method, r.path);
            assert!(
                r.header("x-tenant-id").is_none(),
                "the default workspace stays with the default endpoint"
            );
        }
        let ingest = server.ingest_records();
        let mains: Vec<serde_json::Value> = ingest
            .iter()
            .flat_map(|r| r.parts.iter())
            .filter(|p| {
                (p.name.starts_with("post.") || p.name.starts_with("patch."))
                    && p.name.matches('.').count() == 1
            })
            .map(|p| p.json())
            .collect();
        assert_eq!(mains.len(), 4, "3 posts + 1 patch");
        for m in &mains {
            assert_eq!(m["session_name"], project);
        }
        let posts = server.posts_by_id();
        assert_eq!(posts.len(), 3);
        assert!(posts.values().all(|n| *n == 1));
        let by_name = |name: &str| mains.iter().find(|m| m["name"] == name).unwrap().clone();
        let (root_j, child_j) = (by_name("root"), by_name("child"));
        if project == "own-project" {
            // The run's own project: ids as they are.
            for id in ids.iter().chain([&late_id]) {
                assert_eq!(posts.get(&id.to_string()), Some(&1), "{id} at {key}");
            }
        } else {
            // Another project: ids derived as the Python SDK derives them
            // (uuid7_deterministic(id, "project-a")), links kept.
            assert_eq!(root_j["id"], "01a1fc6d-6bcc-7629-a9bd-d4e4a4bc5a8f");
            for id in ids.iter().chain([&late_id]) {
                assert!(
                    !posts.contains_key(&id.to_string()),
                    "{id} is not reused at {key}"
                );
            }
        }
        assert_eq!(child_j["parent_run_id"], root_j["id"]);
        assert_eq!(child_j["trace_id"], root_j["id"]);
        let root_dotted = root_j["dotted_order"].as_str().unwrap();
        assert!(root_dotted.ends_with(root_j["id"].as_str().unwrap()));
        let child_dotted = child_j["dotted_order"].as_str().unwrap();
        assert!(child_dotted.starts_with(&format!("{root_dotted}.")));
        assert!(child_dotted.ends_with(child_j["id"].as_str().unwrap()));
        let late_posts: Vec<_> = mains.iter().filter(|m| m["name"] == "late").collect();
        assert_eq!(late_posts.len(), 2, "post and patch");
        assert_eq!(late_posts[0]["id"], late_posts[1]["id"]);
        let fb: Vec<serde_json::Value> = ingest
            .iter()
            .flat_map(|r| r.parts.iter())
            .filter(|p| p.name.starts_with("feedback."))
            .map(|p| p.json())
            .collect();
        assert_eq!(fb.len(), 1);
        assert_eq!(
            fb[0]["run_id"], root_j["id"],
            "feedback follows the run's copy"
        );
    }
    let s = client.stats();
    // Each of 5 ops (3 creates, 1 update, 1 feedback) to each of 2 replicas.
    assert_eq!(
        (s.queued, s.sent, s.dropped(), s.pending),
        (10, 10, 0, 0),
        "{s:?}"
    );
}

#[test]
fn a_replica_without_a_key_gets_no_key() {
    let a = TestServer::start();
    let mut cfg = config(&refused_url());
    cfg.replicas = vec![ReplicaEndpoint {
        api_url: a.url(),
        api_key: None,
        project_name: None,
    }];
    let client = client(cfg);
    RunTree::new("r").client(client.clone()).start().end();
    assert!(client.flush_blocking(Duration::from_secs(20)));
    let recs = a.records();
    assert!(!recs.is_empty());
    for r in recs {
        assert!(
            r.header("x-api-key").is_none(),
            "the default key never goes to a replica"
        );
    }
    assert_eq!(client.stats().sent, 1);
}

#[test]
fn one_replica_down_does_not_hold_back_the_other() {
    let up = TestServer::start();
    let mut cfg = config("http://unused.invalid");
    cfg.replicas = vec![
        ReplicaEndpoint {
            api_url: refused_url(),
            api_key: Some(ApiKey::new("x")),
            project_name: None,
        },
        ReplicaEndpoint {
            api_url: up.url(),
            api_key: Some(ApiKey::new("y")),
            project_name: None,
        },
    ];
    cfg.exporter.max_backoff = Duration::from_millis(200);
    cfg.exporter.shutdown_timeout = Duration::from_millis(300);
    let client = client(cfg);
    let run = RunTree::new("r").client(client.clone()).start();
    let id = run.id().unwrap();
    run.end();
    assert!(up.wait_for(Duration::from_secs(10), |_| {
        up.posts_by_id().contains_key(&id.to_string())
    }));
    // The server records the post before the exporter has read its answer:
    // wait (bounded) for the exporter to count the delivery.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut s = client.stats();
    while s.sent < 1 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
        s = client.stats();
    }
    assert_eq!((s.queued, s.sent, s.pending), (2, 1, 1), "{s:?}");
    assert!(
        !client.flush_blocking(Duration::from_millis(500)),
        "the down replica still holds it"
    );
}
