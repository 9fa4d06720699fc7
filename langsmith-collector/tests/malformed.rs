//! Malformed and hostile requests get clear 4xx answers with a JSON
//! `detail`, good items of a batch are still stored, and the collector keeps
//! serving afterwards.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::net::SocketAddr;

use common::*;
use langsmith_collector::Collector;
use serde_json::json;

const ID: &str = "0193d5a2-0000-7000-8000-000000000001";
const ID2: &str = "0193d5a2-0000-7000-8000-000000000002";

/// Asserts a 4xx with a JSON detail, then that a good request still works.
fn assert_rejected(addr: SocketAddr, r: &Resp, status: u16, needle: &str) {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    let detail = r.json()["detail"].as_str().unwrap().to_owned();
    assert!(
        detail.contains(needle),
        "detail {detail:?} lacks {needle:?}"
    );
    let good = post_json(addr, "/runs", &run_doc(ID, None, "still-serving"));
    assert_eq!(
        good.status, 202,
        "collector stopped serving after: {detail}"
    );
}

fn good_body(boundary: &str) -> Vec<u8> {
    let doc = run_doc(ID2, None, "good");
    python_multipart(
        boundary,
        &[(&format!("post.{ID2}"), doc.to_string().as_bytes())],
    )
}

#[test]
fn truncated_multipart() {
    let c = Collector::builder().start().unwrap();
    let body = good_body("bnd");
    for cut in [10, body.len() / 2, body.len() - 12] {
        let r = post_multipart(c.addr(), "bnd", &body[..cut], &[]);
        assert_rejected(c.addr(), &r, 400, "malformed multipart body");
    }
    assert!(c.run(ID2.parse().unwrap()).is_none());
}

#[test]
fn wrong_or_missing_boundary_and_content_type() {
    let c = Collector::builder().start().unwrap();
    let body = good_body("bnd");
    let r = post_multipart(c.addr(), "other", &body, &[]);
    assert_rejected(c.addr(), &r, 400, "boundary");
    let r = send(
        c.addr(),
        "POST",
        "/runs/multipart",
        &[("Content-Type", "application/json")],
        &body,
    )
    .unwrap();
    assert_rejected(c.addr(), &r, 415, "multipart/form-data");
    let r = send(
        c.addr(),
        "POST",
        "/runs/multipart",
        &[("Content-Type", "multipart/form-data")],
        &body,
    )
    .unwrap();
    assert_rejected(c.addr(), &r, 415, "boundary");
}

#[test]
fn bad_json_unknown_names_and_non_uuid_ids_keep_the_good_parts() {
    let c = Collector::builder().start().unwrap();
    let good = run_doc(ID2, None, "good").to_string();
    let body = python_multipart(
        "bnd",
        &[
            (&format!("post.{ID2}"), good.as_bytes()),
            (&format!("post.{ID}"), b"{not json"),
            ("post.not-a-uuid", b"{}"),
            (&format!("nonsense.{ID}"), b"{}"),
            (&format!("post.{ID2}x.inputs"), b"{}"),
            (&format!("patch.{ID}.bogusfield"), b"{}"),
            ("feedback.123", b"{}"),
            (&format!("attachment.{ID}"), b"x"),
        ],
    );
    let r = post_multipart(c.addr(), "bnd", &body, &[]);
    assert_eq!(r.status, 422, "{}", String::from_utf8_lossy(&r.body));
    let v = r.json();
    assert_eq!(v["accepted"]["runs"], 1, "{v:#}");
    let errors = v["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 7, "{v:#}");
    let text = v.to_string();
    for needle in [
        "invalid JSON",
        "not a UUID",
        "unknown part name",
        "unknown run field",
    ] {
        assert!(text.contains(needle), "{needle} missing in {text}");
    }
    assert!(
        v["detail"]
            .as_str()
            .unwrap()
            .starts_with("7 of 8 items rejected")
    );
    assert_eq!(c.run(ID2.parse().unwrap()).unwrap().name, "good");
    assert!(c.run(ID.parse().unwrap()).is_none());
    // Semantically bad run fields are refused too.
    let mut bad = run_doc(ID, None, "bad");
    bad["trace_id"] = "nope".into();
    let r = post_json(c.addr(), "/runs", &bad);
    assert_rejected(c.addr(), &r, 422, "trace_id");
    let r = patch_json(c.addr(), "/runs/not-a-uuid", &json!({}));
    assert_rejected(c.addr(), &r, 422, "not a UUID");
    let r = patch_json(c.addr(), &format!("/runs/{ID}"), &json!({"id": ID2}));
    assert_rejected(c.addr(), &r, 422, "does not match");
    let r = get(c.addr(), "/runs/xyz");
    assert_rejected(c.addr(), &r, 422, "not a UUID");
}

#[test]
fn bad_json_bodies() {
    let c = Collector::builder().start().unwrap();
    for path in ["/runs", "/runs/batch", "/feedback", "/runs/query"] {
        let r = send(
            c.addr(),
            "POST",
            path,
            &[("Content-Type", "application/json")],
            b"{\"post\": [",
        )
        .unwrap();
        assert_rejected(c.addr(), &r, 400, "invalid JSON");
    }
    let r = post_json(c.addr(), "/runs/batch", &json!([1, 2]));
    assert_rejected(c.addr(), &r, 422, "JSON object");
    let r = post_json(
        c.addr(),
        "/runs/batch",
        &json!({"post": [run_doc(ID2, None, "ok"), {"id": 5}]}),
    );
    assert_eq!(r.status, 422);
    assert_eq!(r.json()["accepted"]["runs"], 1);
    let r = post_json(c.addr(), "/feedback", &json!({"run_id": ID}));
    assert_rejected(c.addr(), &r, 422, "key");
    let r = post_json(
        c.addr(),
        "/runs/query",
        &json!({"filter": "eq(feedback_key, 'x')"}),
    );
    assert_rejected(c.addr(), &r, 422, "not supported");
    let r = post_json(c.addr(), "/runs/query", &json!({"filter": "eq(name, 'x'"}));
    assert_rejected(c.addr(), &r, 422, "filter");
}

#[test]
fn bad_encodings() {
    let c = Collector::builder().start().unwrap();
    let body = good_body("bnd");
    let r = post_multipart(c.addr(), "bnd", &body, &[("Content-Encoding", "br")]);
    assert_rejected(c.addr(), &r, 415, "Content-Encoding");
    let r = post_multipart(c.addr(), "bnd", &body, &[("Content-Encoding", "zstd")]);
    assert_rejected(c.addr(), &r, 400, "zstd");
    let r = post_multipart(c.addr(), "bnd", &body, &[("Content-Encoding", "gzip")]);
    assert_rejected(c.addr(), &r, 400, "gzip");
    // A zstd bomb: small on the wire, over the decoded limit.
    let small = Collector::builder().body_limit(64 * 1024).start().unwrap();
    let bomb = zstd::encode_all(&vec![b'a'; 1024 * 1024][..], 3).unwrap();
    assert!(bomb.len() < 64 * 1024);
    let r = post_multipart(small.addr(), "bnd", &bomb, &[("Content-Encoding", "zstd")]);
    assert_rejected(small.addr(), &r, 413, "decompressed");
}

#[test]
fn oversized_body_gets_413() {
    let c = Collector::builder().start().unwrap();
    let body = vec![b'x'; 50 * 1000 * 1000];
    let r = post_multipart(c.addr(), "bnd", &body, &[]);
    assert_rejected(c.addr(), &r, 413, "larger than");
    // Far over the drain cap: answered without reading it all.
    let r = send(
        c.addr(),
        "POST",
        "/runs/batch",
        &[
            ("Content-Type", "application/json"),
            ("Content-Length", "9000000000"),
        ],
        b"{}",
    )
    .unwrap();
    assert_rejected(c.addr(), &r, 413, "larger than");
}

#[test]
fn api_key_is_required_when_configured() {
    let c = Collector::builder()
        .api_key(Some("sekrit"))
        .start()
        .unwrap();
    let doc = run_doc(ID, None, "r").to_string();
    for (path, method) in [
        ("/runs", "POST"),
        ("/info", "GET"),
        ("/runs/multipart", "POST"),
        (&*format!("/runs/{ID}"), "GET"),
    ] {
        let r = send(
            c.addr(),
            method,
            path,
            &[("Content-Type", "application/json")],
            doc.as_bytes(),
        )
        .unwrap();
        assert_eq!(r.status, 401, "{method} {path}");
        assert_eq!(r.json()["detail"], "missing x-api-key header");
        let r = send(
            c.addr(),
            method,
            path,
            &[("x-api-key", "wrong")],
            doc.as_bytes(),
        )
        .unwrap();
        assert_eq!(r.status, 401);
        assert_eq!(r.json()["detail"], "invalid x-api-key");
    }
    assert!(c.runs().is_empty());
    assert_eq!(get(c.addr(), "/health").status, 200);
    assert_eq!(get(c.addr(), "/").status, 200);
    let r = send(
        c.addr(),
        "POST",
        "/runs",
        &[
            ("Content-Type", "application/json"),
            ("X-API-Key", "sekrit"),
        ],
        doc.as_bytes(),
    )
    .unwrap();
    assert_eq!(r.status, 202);
    assert_eq!(c.runs().len(), 1);
    assert!(
        c.requests()
            .iter()
            .all(|r| r.header("x-api-key").is_none_or(|v| v == "<redacted>"))
    );
}

#[test]
fn unknown_routes_are_json_404() {
    let c = Collector::builder().start().unwrap();
    let r = get(c.addr(), "/nope");
    assert_rejected(c.addr(), &r, 404, "Not Found");
    let r = get(c.addr(), "/runs/multipart");
    assert_rejected(c.addr(), &r, 405, "Method Not Allowed");
}
