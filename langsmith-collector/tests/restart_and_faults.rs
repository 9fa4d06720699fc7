//! A file database survives a restart; fault injection behaves as
//! documented; the request log records what arrived.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use langsmith_collector::{Collector, Fault};
use serde_json::json;

const ID: &str = "0193d5a2-0000-7000-8000-000000000001";

fn temp_dir(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!(
        "langsmith-collector-{tag}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn file_database_survives_restart() {
    let dir = temp_dir("restart");
    let db = dir.join("traces.sqlite");
    let (runs, sessions) = {
        let c = Collector::builder().db_path(&db).start().unwrap();
        assert_eq!(replay(c.addr(), "python-sdk-multipart.json").status, 202);
        let fb = json!({"run_id": ID, "key": "k", "score": 1});
        assert_eq!(post_json(c.addr(), "/feedback", &fb).status, 200);
        // A create whose update comes after the restart.
        assert_eq!(
            post_json(c.addr(), "/runs", &run_doc(ID, None, "half")).status,
            202
        );
        let sessions = get(c.addr(), "/sessions").json();
        let runs = c.runs();
        c.shutdown();
        (runs, sessions)
    };
    let c = Collector::builder().db_path(&db).start().unwrap();
    assert_eq!(c.runs(), runs);
    assert_eq!(c.feedback().len(), 1);
    assert_eq!(
        get(c.addr(), "/sessions").json(),
        sessions,
        "session ids are stable"
    );
    let r = patch_json(
        c.addr(),
        &format!("/runs/{ID}"),
        &json!({"end_time": "2026-01-02T03:04:06Z", "outputs": {"a": 1}}),
    );
    assert_eq!(r.status, 202);
    let merged = c.run(ID.parse().unwrap()).unwrap();
    assert_eq!(
        (merged.name.as_str(), merged.status.as_str()),
        ("half", "success")
    );
    assert_eq!(merged.inputs, json!({"q": "half"}));
    drop(c);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn status_faults_then_recovery() {
    let c = Collector::builder().start().unwrap();
    c.fail_next(
        2,
        Fault::Status {
            code: 429,
            retry_after: Some(3),
        },
    );
    let doc = run_doc(ID, None, "r");
    // Reads are never faulted.
    assert_eq!(get(c.addr(), "/info").status, 200);
    for _ in 0..2 {
        let r = post_json(c.addr(), "/runs", &doc);
        assert_eq!(r.status, 429);
        assert_eq!(r.header("retry-after"), Some("3"));
    }
    assert!(c.runs().is_empty(), "faulted requests store nothing");
    assert_eq!(post_json(c.addr(), "/runs", &doc).status, 202);
    assert_eq!(c.runs().len(), 1);
    assert_eq!(c.faults_injected(), 2);
    let statuses: Vec<Option<u16>> = c.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(200), Some(429), Some(429), Some(202)]);
    assert!(c.requests()[1].fault.as_deref().unwrap().contains("429"));
}

#[test]
fn drop_and_delay_faults() {
    let c = Collector::builder().start().unwrap();
    let doc = run_doc(ID, None, "r");
    c.fail_next(1, Fault::Drop);
    let r = send(
        c.addr(),
        "POST",
        "/runs",
        &[("Content-Type", "application/json")],
        doc.to_string().as_bytes(),
    );
    assert!(
        r.is_err(),
        "expected the connection to be closed without an answer, got {r:?}"
    );
    assert!(c.runs().is_empty());
    let rec = c.requests().pop().unwrap();
    assert_eq!(rec.status, None);
    assert!(rec.body_size > 0);

    c.set_fault(Some(Fault::Delay(Duration::from_millis(300))));
    let t = Instant::now();
    assert_eq!(post_json(c.addr(), "/runs", &doc).status, 202);
    assert!(t.elapsed() >= Duration::from_millis(300));
    assert_eq!(c.runs().len(), 1, "a delayed request is stored");
    c.clear_faults();
    let injected = c.faults_injected();
    assert_eq!(post_json(c.addr(), "/runs", &doc).status, 202);
    assert_eq!(c.faults_injected(), injected, "no fault after clear_faults");
    assert_eq!(c.requests().pop().unwrap().fault, None);
}

#[test]
fn request_log_records_the_wire() {
    let c = Collector::builder().api_key(Some("k")).start().unwrap();
    c.clear_requests();
    let body = python_multipart(
        "bnd",
        &[(
            &format!("post.{ID}"),
            run_doc(ID, None, "r").to_string().as_bytes(),
        )],
    );
    let zst = zstd::encode_all(&body[..], 1).unwrap();
    let r = post_multipart(
        c.addr(),
        "bnd",
        &zst,
        &[
            ("Content-Encoding", "zstd"),
            ("x-api-key", "k"),
            ("X-Custom", "v"),
        ],
    );
    assert_eq!(r.status, 202);
    let req = c.requests().pop().unwrap();
    assert_eq!(req.method, "POST");
    assert_eq!(req.path, "/runs/multipart");
    assert_eq!(req.header("x-custom"), Some("v"));
    assert_eq!(req.header("x-api-key"), Some("<redacted>"));
    assert_eq!(req.content_encoding.as_deref(), Some("zstd"));
    assert_eq!(req.body_size, zst.len());
    assert_eq!(req.decoded_size, Some(body.len()));
    assert_eq!(req.parts, Some(1));
    assert_eq!(req.part_names, [format!("post.{ID}")]);
    assert_eq!(req.status, Some(202));
}

#[test]
fn request_log_can_be_bounded_or_off() {
    let off = Collector::builder().record_requests(0).start().unwrap();
    assert_eq!(
        post_json(off.addr(), "/runs", &run_doc(ID, None, "r")).status,
        202
    );
    assert!(off.requests().is_empty());
    assert_eq!(off.runs().len(), 1);
    let two = Collector::builder().record_requests(2).start().unwrap();
    for _ in 0..3 {
        get(two.addr(), "/health");
    }
    get(two.addr(), "/info");
    let paths: Vec<String> = two.requests().into_iter().map(|r| r.path).collect();
    assert_eq!(paths, ["/health", "/info"]);
}
