//! Ingest through the real server on loopback: the Python SDK captures
//! replayed byte for byte, the JS layout, gzip, /runs/batch, single runs,
//! out-of-order and duplicated creates/updates, feedback and attachments.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::time::Duration;

use common::*;
use langsmith_collector::{Collector, StoredRun};
use serde_json::{Value, json};
use uuid::Uuid;

fn id(s: &str) -> Uuid {
    s.parse().unwrap()
}

/// The four runs of the captured trace (a pipeline with two children, and a
/// separate failing tool run), as stored.
fn check_capture_runs(runs: &[StoredRun], root: &str, prompt: &str, llm: &str, fails: &str) {
    assert_eq!(runs.len(), 4, "{runs:#?}");
    let by = |i: &str| runs.iter().find(|r| r.id == id(i)).unwrap();
    let (root, prompt, llm, fails) = (by(root), by(prompt), by(llm), by(fails));
    assert_eq!(root.name, "run_pipeline");
    assert_eq!(root.run_type, "chain");
    assert_eq!(root.parent_run_id, None);
    assert_eq!(root.inputs, json!({"subject": "colorful socks"}));
    assert_eq!(root.outputs, json!({"output": "Socks & Co."}));
    assert_eq!(root.tags, vec!["demo"]);
    assert_eq!(root.session_name, "default");
    assert_eq!(root.status, "success");
    assert_eq!(root.extra["runtime"]["sdk"], "langsmith-py");
    for child in [prompt, llm] {
        assert_eq!(child.parent_run_id, Some(root.id));
        assert_eq!(child.trace_id, root.id);
        assert!(child.dotted_order.starts_with(&root.dotted_order));
        assert!(child.end_time.is_some());
    }
    assert_eq!(prompt.run_type, "prompt");
    assert_eq!(prompt.serialized, json!({"name": "format_prompt"}));
    assert_eq!(llm.outputs["usage_metadata"]["total_tokens"], 16);
    assert_eq!(llm.extra["metadata"]["ls_provider"], "openai");
    assert_eq!(fails.parent_run_id, None);
    assert_eq!(fails.trace_id, fails.id);
    assert_eq!(fails.status, "error");
    let err = fails.error.as_deref().unwrap();
    assert!(err.starts_with("ValueError('boom')"), "{err}");
    assert!(err.contains("app/trace.py"));
}

#[test]
fn replays_python_sdk_multipart_capture() {
    let c = Collector::builder().start().unwrap();
    let r = replay(c.addr(), "python-sdk-multipart.json");
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["accepted"]["runs"], 4);
    check_capture_runs(
        &c.runs(),
        "01a1fc6d-6bcc-7fc1-9c34-b9bc502f6e0f",
        "01a1fc6d-6bd7-71b0-8fdd-4f483424ecd2",
        "01a1fc6d-6bd7-76a0-b110-eb1f60531844",
        "01a1fc6d-6bd7-7464-a66d-dcab041aaeca",
    );
    let req = &c.requests()[0];
    assert_eq!(req.parts, Some(23));
    assert_eq!(req.length_mismatches, 0);
    assert_eq!(req.body_size, 8197);
    // The same body again (a retry) changes nothing.
    let before = c.runs();
    assert_eq!(replay(c.addr(), "python-sdk-multipart.json").status, 202);
    assert_eq!(c.runs(), before);
}

#[test]
fn replays_python_sdk_zstd_capture_merging_posts_and_patches() {
    let c = Collector::builder().start().unwrap();
    let r = replay(c.addr(), "python-sdk-multipart-zstd.json");
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    let root = "01a1fc6d-6e64-7470-ad45-de22b080eec0";
    check_capture_runs(
        &c.runs(),
        root,
        "01a1fc6d-6e6b-7c39-a006-7dd7a3d033f5",
        "01a1fc6d-6e6b-7b93-b133-e334b2193f2c",
        "01a1fc6d-6e6c-726b-b938-479a50bc17bf",
    );
    let req = &c.requests()[0];
    assert_eq!(req.content_encoding.as_deref(), Some("zstd"));
    assert_eq!(req.body_size, 1519);
    // (The SDK's X-Pre-Compressed-Size counts only the part payloads.)
    assert_eq!(req.decoded_size, Some(14193));
    assert_eq!(req.header("x-pre-compressed-size"), Some("7123"));
    assert!(req.part_names.iter().any(|n| n.starts_with("patch.")));
    // The trace as a tree.
    let tree = get(c.addr(), &format!("/api/traces/{root}")).json();
    assert_eq!(tree["trace_id"], root);
    let runs = tree["runs"].as_array().unwrap();
    assert_eq!(runs.len(), 1);
    let kids: Vec<&str> = runs[0]["children"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(kids, ["format_prompt", "invoke_llm"]);
    // Replaying both captures in either order gives the same stores.
    let d = Collector::builder().start().unwrap();
    replay(d.addr(), "python-sdk-multipart.json");
    replay(d.addr(), "python-sdk-multipart-zstd.json");
    let e = Collector::builder().start().unwrap();
    replay(e.addr(), "python-sdk-multipart-zstd.json");
    replay(e.addr(), "python-sdk-multipart.json");
    let strip = |mut v: Vec<StoredRun>| {
        v.iter_mut().for_each(|r| r.session_id = Uuid::nil());
        v.sort_by_key(|r| r.id);
        v
    };
    assert_eq!(strip(d.runs()), strip(e.runs()));
}

const ROOT: &str = "0193d5a2-0000-7000-8000-000000000001";
const CHILD: &str = "0193d5a2-0000-7000-8000-000000000064";

#[test]
fn js_layout_with_length_parameter_and_gzip() {
    let c = Collector::builder().start().unwrap();
    let root = run_doc(ROOT, None, "root é✓");
    let mut main = root.clone();
    let inputs = main.as_object_mut().unwrap().remove("inputs").unwrap();
    let boundary = "----LangSmithFormBoundaryk3j2h1";
    let main_s = main.to_string();
    let inputs_s = inputs.to_string();
    let attach = format!("attachment.{ROOT}.notes");
    let body = js_multipart(
        boundary,
        &[
            (&format!("post.{ROOT}"), &main_s),
            (&format!("post.{ROOT}.inputs"), &inputs_s),
            (&format!("post.{ROOT}.outputs"), r#"{"answer":"ünïcode"}"#),
            (&attach, "some notes"),
        ],
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut gz, &body).unwrap();
    let gz = gz.finish().unwrap();
    let r = post_multipart(c.addr(), boundary, &gz, &[("Content-Encoding", "gzip")]);
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    let run = c.run(id(ROOT)).unwrap();
    assert_eq!(run.name, "root é✓");
    assert_eq!(run.inputs, json!({"q": "root é✓"}));
    assert_eq!(run.outputs, json!({"answer": "ünïcode"}));
    assert_eq!(run.attachments.len(), 1);
    assert_eq!(run.attachments[0].name, "notes");
    assert_eq!(run.attachments[0].size, 10);
    let req = &c.requests()[0];
    assert_eq!(req.content_encoding.as_deref(), Some("gzip"));
    // JS counts UTF-16 units, so the non-ASCII parts' lengths are off.
    assert_eq!(req.length_mismatches, 3);
}

#[test]
fn batch_endpoint_and_single_runs_in_any_order_and_duplicated() {
    let c = Collector::builder().start().unwrap();
    let root = run_doc(ROOT, None, "root");
    let child = run_doc(
        CHILD,
        Some((ROOT, root["dotted_order"].as_str().unwrap())),
        "child",
    );
    let r = post_json(
        c.addr(),
        "/runs/batch",
        &json!({"post": [root, child], "patch": []}),
    );
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["accepted"]["runs"], 2);
    let stored = c.run(id(CHILD)).unwrap();
    assert_eq!(stored.parent_run_id, Some(id(ROOT)));
    assert_eq!(stored.session_name, "tests");

    // POST /runs + PATCH /runs/{id}: in order, reversed, and duplicated,
    // on three collectors: the stored run is the same.
    let other = "0193d5a2-0000-7000-8000-0000000000aa";
    let create = run_doc(other, None, "single");
    let update = json!({
        "end_time": "2026-01-02T03:04:06.000000+00:00",
        "outputs": {"ok": true},
        "parent_run_id": null,
        "error": "Boom",
    });
    let send_create = |addr| assert_eq!(post_json(addr, "/runs", &create).status, 202);
    let send_update = |addr| {
        assert_eq!(
            patch_json(addr, &format!("/runs/{other}"), &update).status,
            202
        )
    };
    let a = Collector::builder().start().unwrap();
    send_create(a.addr());
    send_update(a.addr());
    let b = Collector::builder().start().unwrap();
    send_update(b.addr());
    send_create(b.addr());
    let d = Collector::builder().start().unwrap();
    send_update(d.addr());
    send_create(d.addr());
    send_update(d.addr());
    send_create(d.addr());
    let ra = a.run(id(other)).unwrap();
    let normalize = |mut r: StoredRun| {
        r.session_id = Uuid::nil();
        r
    };
    assert_eq!(ra.outputs, json!({"ok": true}));
    assert_eq!(ra.error.as_deref(), Some("Boom"));
    assert_eq!(ra.status, "error");
    assert_eq!(ra.name, "single");
    assert_eq!(normalize(ra.clone()), normalize(b.run(id(other)).unwrap()));
    assert_eq!(normalize(ra), normalize(d.run(id(other)).unwrap()));
    assert_eq!(d.runs().len(), 1);

    // A run known only from its update is stored with what it has.
    let lone = "0193d5a2-0000-7000-8000-0000000000bb";
    send(
        c.addr(),
        "PATCH",
        &format!("/api/v1/runs/{lone}"),
        &[("Content-Type", "application/json")],
        br#"{"end_time":"2026-01-02T03:04:06Z"}"#,
    )
    .unwrap();
    let l = c.run(id(lone)).unwrap();
    assert_eq!((l.name.as_str(), l.status.as_str()), ("", "success"));
}

#[test]
fn feedback_through_multipart_and_post() {
    let c = Collector::builder().start().unwrap();
    let fb1 = "0193d5a2-0000-7000-8000-0000000000f1";
    let doc =
        json!({"id": fb1, "run_id": ROOT, "trace_id": ROOT, "key": "correctness", "score": 1});
    let body = python_multipart(
        "b",
        &[(&format!("feedback.{fb1}"), doc.to_string().as_bytes())],
    );
    assert_eq!(post_multipart(c.addr(), "b", &body, &[]).status, 202);
    let r = post_json(
        c.addr(),
        "/feedback",
        &json!({"run_id": ROOT, "key": "helpfulness", "score": 0.5, "comment": "ok"}),
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["key"], "helpfulness");
    let all = c.feedback();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0].id, id(fb1));
    assert_eq!(all[1].comment.as_deref(), Some("ok"));
    let listed = get(c.addr(), &format!("/feedback?run={ROOT}&key=correctness")).json();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    // Feedback shows up in the run's feedback_stats.
    post_json(c.addr(), "/runs", &run_doc(ROOT, None, "root"));
    let run = get(c.addr(), &format!("/runs/{ROOT}")).json();
    assert_eq!(run["feedback_stats"]["correctness"]["n"], 1);
    assert_eq!(run["feedback_stats"]["helpfulness"]["avg"], 0.5);
}

#[test]
fn read_api_query_paging_sessions_and_wait() {
    let c = Collector::builder().zstd(false).start().unwrap();
    let info = get(c.addr(), "/info").json();
    assert_eq!(info["instance_flags"]["zstd_compression_enabled"], false);
    assert_eq!(
        info["batch_ingest_config"]["size_limit_bytes"],
        20 * 1024 * 1024
    );
    let root = run_doc(ROOT, None, "root");
    let root_dotted = root["dotted_order"].as_str().unwrap().to_owned();
    let mut posts = vec![root];
    for i in 0..25 {
        let cid = format!("0193d5a2-0000-7000-8000-{:012x}", 0x100 + i);
        let mut d = run_doc(&cid, Some((ROOT, &root_dotted)), &format!("child{i}"));
        d["run_type"] = if i % 2 == 0 { "llm" } else { "tool" }.into();
        d["end_time"] = "2026-01-02T03:04:06Z".into();
        posts.push(d);
    }
    assert_eq!(
        post_json(c.addr(), "/runs/batch", &json!({ "post": posts })).status,
        202
    );
    assert_eq!(c.wait_for_runs(25, Duration::from_secs(5)).len(), 26);
    assert_eq!(c.trace(id(ROOT))[0].id, id(ROOT));

    let sessions = get(c.addr(), "/sessions?name=tests&limit=1").json();
    let session_id = sessions[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(sessions[0]["run_count"], 26);
    assert_eq!(
        get(c.addr(), &format!("/sessions/{session_id}")).json()["name"],
        "tests"
    );
    assert_eq!(get(c.addr(), "/sessions?name=nope").json(), json!([]));

    // Page through the children 10 at a time, as the Python client does.
    let mut query = json!({"session": [session_id], "trace": ROOT, "is_root": false, "limit": 10,
                           "select": ["id", "name", "parent_run_id"]});
    let mut seen = Vec::new();
    for _ in 0..10 {
        let page = post_json(c.addr(), "/runs/query", &query).json();
        for r in page["runs"].as_array().unwrap() {
            assert_eq!(r["parent_run_id"], ROOT);
            assert!(r.get("inputs").is_none(), "select is honoured");
            seen.push(r["id"].as_str().unwrap().to_owned());
        }
        match page["cursors"]["next"].as_str() {
            Some(next) => query["cursor"] = next.into(),
            None => break,
        }
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 25);
    let q = |body: Value| {
        post_json(c.addr(), "/runs/query", &body).json()["runs"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(q(json!({"trace": ROOT, "run_type": "llm"})), 13);
    assert_eq!(q(json!({"is_root": true})), 1);
    assert_eq!(q(json!({"parent_run": ROOT})), 25);
    assert_eq!(q(json!({"id": [ROOT, CHILD]})), 1);
    let full = post_json(c.addr(), "/runs/query", &json!({"id": [ROOT]})).json();
    assert_eq!(
        full["runs"][0]["child_run_ids"].as_array().unwrap().len(),
        25
    );
    assert_eq!(get(c.addr(), &format!("/runs/{CHILD}")).status, 404);
}

#[test]
fn works_from_any_context() {
    // Plain threads: above. Current-thread runtime, multi-thread runtime,
    // inside tokio::spawn: start, use, and drop the collector in each.
    fn check() {
        let c = Collector::builder().start().unwrap();
        assert_eq!(
            post_json(c.addr(), "/runs", &run_doc(ROOT, None, "r")).status,
            202
        );
        assert_eq!(c.runs().len(), 1);
        c.shutdown();
    }
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async { check() });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async { check() });
    rt.block_on(async { tokio::spawn(async { check() }).await.unwrap() });
    // Dropped (not shut down) inside a runtime.
    rt.block_on(async {
        let c = Collector::builder().start().unwrap();
        drop(c);
    });
}

/// Attachment bytes are kept and served where the run's `s3_urls` point
/// (LangSmith's presigned URLs): with their content type, inline only when
/// a raster image or plain text, never runnable in the viewer's origin; a
/// collector with an API key asks for the key or the URL's token.
#[test]
fn attachments_are_served_where_the_run_points() {
    let c = Collector::builder().api_key(Some("k")).start().unwrap();
    let key = [("x-api-key", "k")];
    let png: Vec<u8> = (0..=255).collect();
    let doc = run_doc(ROOT, None, "root").to_string();
    let send_parts = |parts: &[(&str, &str, &[u8])]| {
        let ct = "multipart/form-data; boundary=b0";
        let r = send(
            c.addr(),
            "POST",
            "/runs/multipart",
            &[("Content-Type", ct), key[0]],
            &typed_multipart("b0", parts),
        )
        .unwrap();
        assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    };
    send_parts(&[
        (&format!("post.{ROOT}"), "application/json", doc.as_bytes()),
        (&format!("attachment.{ROOT}.chart"), "image/png", &png),
        (
            &format!("attachment.{ROOT}.my report/1.html"),
            "text/html",
            b"<script>alert(1)</script>",
        ),
    ]);
    let run = send(c.addr(), "GET", &format!("/runs/{ROOT}"), &key, b"").unwrap();
    assert_eq!(run.status, 200);
    let run = run.json();
    let urls = run["s3_urls"].as_object().unwrap();
    assert_eq!(urls.len(), 2, "{run}");
    assert_eq!(run["attachments_info"], run["s3_urls"]);
    let url = |name: &str| {
        urls[&format!("attachment.{name}")]["presigned_url"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let (chart, page) = (url("chart"), url("my report/1.html"));
    assert!(
        chart.starts_with(&format!("/attachments/{ROOT}/chart?token=")),
        "{chart}"
    );
    assert!(page.contains("/my%20report%2F1.html?token="), "{page}");

    // The URL alone is enough, as a presigned URL is.
    let r = send(c.addr(), "GET", &chart, &[], b"").unwrap();
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.body, png);
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert_eq!(r.header("content-disposition"), Some("inline"));
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    let r = send(c.addr(), "GET", &page, &[], b"").unwrap();
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"<script>alert(1)</script>");
    assert_eq!(
        r.header("content-disposition"),
        Some("attachment; filename=\"my_report_1.html\"")
    );
    assert!(
        r.header("content-security-policy")
            .unwrap()
            .contains("sandbox")
    );
    // Under /api/v1 too (a client whose endpoint ends with it joins there).
    let r = send(c.addr(), "GET", &format!("/api/v1{chart}"), &[], b"").unwrap();
    assert_eq!(r.status, 200);

    // Without the token: the key, or nothing.
    let bare = format!("/attachments/{ROOT}/chart");
    assert_eq!(send(c.addr(), "GET", &bare, &[], b"").unwrap().status, 401);
    let wrong = format!("{bare}?token=00000000000000000000000000000000");
    assert_eq!(send(c.addr(), "GET", &wrong, &[], b"").unwrap().status, 401);
    assert_eq!(send(c.addr(), "GET", &bare, &key, b"").unwrap().status, 200);
    let missing = format!("/attachments/{ROOT}/nothing");
    assert_eq!(
        send(c.addr(), "GET", &missing, &key, b"").unwrap().status,
        404
    );
    let bad_id = "/attachments/not-a-uuid/chart";
    assert_eq!(
        send(c.addr(), "GET", bad_id, &key, b"").unwrap().status,
        422
    );

    // Sent again under the same name: the new bytes replace the old.
    send_parts(&[(&format!("attachment.{ROOT}.chart"), "image/png", b"v2")]);
    assert_eq!(send(c.addr(), "GET", &chart, &[], b"").unwrap().body, b"v2");
    assert_eq!(
        c.attachment_bytes(id(ROOT), "chart").as_deref(),
        Some(&b"v2"[..])
    );
}

/// A database written by a collector that kept only attachments' names,
/// types and sizes (schema version 1) opens: those stay listed (their bytes
/// answer 404), new ones keep their bytes.
#[test]
fn a_version_1_database_is_migrated() {
    let dir = std::env::temp_dir().join(format!("collector-migrate-{}", Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("runs.sqlite");
    {
        // The version 1 attachments table, with one row.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(&format!(
            "CREATE TABLE attachments (run_id TEXT NOT NULL, name TEXT NOT NULL,
               content_type TEXT, size INTEGER NOT NULL, PRIMARY KEY (run_id, name));
             INSERT INTO attachments VALUES ('{ROOT}', 'old', 'text/plain', 3);
             PRAGMA user_version = 1;"
        ))
        .unwrap();
    }
    let c = Collector::builder().db_path(&path).start().unwrap();
    let doc = run_doc(ROOT, None, "root").to_string();
    let body = typed_multipart(
        "b1",
        &[
            (&format!("post.{ROOT}"), "application/json", doc.as_bytes()),
            (&format!("attachment.{ROOT}.new"), "text/plain", b"fresh"),
        ],
    );
    let ct = [("Content-Type", "multipart/form-data; boundary=b1")];
    let r = send(c.addr(), "POST", "/runs/multipart", &ct, &body).unwrap();
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    let run = c.run(id(ROOT)).unwrap();
    let names: Vec<_> = run.attachments.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["new", "old"]);
    assert_eq!(
        c.attachment_bytes(id(ROOT), "new").as_deref(),
        Some(&b"fresh"[..])
    );
    assert_eq!(c.attachment_bytes(id(ROOT), "old"), None);
    let r = send(
        c.addr(),
        "GET",
        &format!("/attachments/{ROOT}/old"),
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(r.status, 404);
    drop(c);
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, 2);
    std::fs::remove_dir_all(&dir).ok();
}

/// A run addressed to an agent (the Python SDK's agent addressing: an
/// `address` LRN and no `session_name`) is filed in a project named by the
/// LRN, so every run of one agent's traces lands together.
#[test]
fn an_addressed_run_is_filed_under_its_address() {
    let c = Collector::builder().start().unwrap();
    let lrn = "lrn:agents/bot/environments/production";
    let mut doc = run_doc(ROOT, None, "addressed");
    let obj = doc.as_object_mut().unwrap();
    obj.remove("session_name");
    obj.insert("address".into(), json!(lrn));
    let r = post_json(c.addr(), "/runs", &doc);
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(c.run(id(ROOT)).unwrap().session_name, lrn);
    let mut bad = run_doc(CHILD, None, "bad");
    bad["address"] = json!(7);
    assert_eq!(post_json(c.addr(), "/runs", &bad).status, 422);
}
