//! The exporter's wire format against a recording server: the Python SDK's
//! multipart layout, one request per nested trace, create+update merging,
//! post-then-patch, zstd only when `/info` allows it, feedback parts.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use langsmith_core::*;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use support::*;

const WAIT: Duration = Duration::from_secs(20);

fn testdata(name: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("testdata/python-sdk")
        .join(name)
}

/// The Python capture's parts, parsed with multer.
fn python_parts(zstd: bool) -> (Value, Vec<Part>) {
    let stem = if zstd {
        "python-sdk-multipart-zstd"
    } else {
        "python-sdk-multipart"
    };
    let meta: Value =
        serde_json::from_slice(&std::fs::read(testdata(&format!("{stem}.json"))).unwrap()).unwrap();
    let raw = std::fs::read(testdata(&format!("{stem}.body"))).unwrap();
    let body = if zstd {
        zstd::decode_all(&raw[..]).unwrap()
    } else {
        raw
    };
    let ct = meta["headers"]["Content-Type"].as_str().unwrap().to_owned();
    (meta, parse_multipart_blocking(&ct, body))
}

/// Part names with run ids replaced by `R0`, `R1`, ... in order of appearance.
fn shapes(parts: &[Part]) -> Vec<String> {
    let mut ids: HashMap<String, usize> = HashMap::new();
    parts
        .iter()
        .map(|p| {
            let mut segs = p.name.splitn(3, '.');
            let op = segs.next().unwrap();
            let id = segs.next().unwrap().to_owned();
            let n = ids.len();
            let k = *ids.entry(id).or_insert(n);
            match segs.next() {
                Some(field) => format!("{op}.R{k}.{field}"),
                None => format!("{op}.R{k}"),
            }
        })
        .collect()
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// The trace the Python capture holds, made with this SDK: `run_pipeline`
/// (posted at start, like the Python SDK does) with children `format_prompt`
/// and `invoke_llm`, then a separate failing `fails` tool run.
fn python_equivalent_trace(client: &Client) -> [Uuid; 4] {
    let mut root = RunTree::new("run_pipeline")
        .client(client.clone())
        .tag("demo")
        .metadata("ls_method", "traceable")
        .inputs(&json!({"subject": "colorful socks"}))
        .start();
    root.post();
    let prompt = root
        .child("format_prompt")
        .run_type(RunType::Prompt)
        .tag("demo")
        .metadata("ls_method", "traceable")
        .serialized(json!({"name": "format_prompt"}))
        .inputs(&json!({"subject": "colorful socks"}))
        .start();
    let prompt_id = prompt.id().unwrap();
    prompt.end_with_outputs(
        &json!({"output": [{"role": "user", "content": "Name a store that sells colorful socks"}]}),
    );
    let llm = root
        .child("invoke_llm")
        .run_type(RunType::Llm)
        .tag("demo")
        .metadata("ls_method", "traceable")
        .metadata("ls_provider", "openai")
        .metadata("ls_model_name", "gpt-4o-mini")
        .serialized(json!({"name": "invoke_llm"}))
        .inputs(&json!({"messages": [{"role": "user", "content": "Name a store that sells colorful socks"}]}))
        .start();
    let llm_id = llm.id().unwrap();
    llm.end_with_outputs(&json!({"content": "Socks & Co.", "usage_metadata": {"input_tokens": 12, "output_tokens": 4, "total_tokens": 16}}));
    let root_id = root.id().unwrap();
    root.end_with_outputs(&json!({"output": "Socks & Co."}));
    let fails = RunTree::new("fails")
        .client(client.clone())
        .run_type(RunType::Tool)
        .metadata("ls_method", "traceable")
        .start();
    let fails_id = fails.id().unwrap();
    fails.end_with_error("ValueError('boom')");
    [root_id, prompt_id, llm_id, fails_id]
}

#[test]
fn layout_matches_the_python_capture() {
    let server = TestServer::start();
    let mut cfg = config(&server.url());
    cfg.exporter.batch_interval = Duration::from_secs(30); // only the flush sends
    let client = client(cfg);
    let ids = python_equivalent_trace(&client);
    assert!(client.flush_blocking(WAIT));
    let recs = server.ingest_records();
    assert_eq!(
        recs.len(),
        1,
        "one request: {:?}",
        recs.iter().map(|r| r.part_names()).collect::<Vec<_>>()
    );
    let ours = &recs[0];
    let (py_meta, py_parts) = python_parts(false);

    // Request line and headers.
    assert_eq!(ours.method, "POST");
    assert_eq!(ours.path, py_meta["path"].as_str().unwrap());
    assert_eq!(ours.header("accept"), Some("application/json"));
    assert_eq!(ours.header("x-api-key"), Some("test-key"));
    assert!(
        ours.header("user-agent")
            .unwrap()
            .starts_with("langsmith-rs/")
    );
    assert_eq!(
        ours.header("content-length").unwrap(),
        ours.raw.len().to_string()
    );
    assert!(ours.header("content-encoding").is_none());
    let ct = ours.header("content-type").unwrap();
    let boundary = ct.strip_prefix("multipart/form-data; boundary=").expect(ct);
    let py_ct = py_meta["headers"]["Content-Type"].as_str().unwrap();
    let py_boundary = py_ct
        .strip_prefix("multipart/form-data; boundary=")
        .unwrap();
    assert_eq!(boundary.len(), py_boundary.len());
    assert!(
        boundary
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    // Framing: first line, closing line.
    assert!(ours.body.starts_with(
        format!("--{boundary}\r\nContent-Disposition: form-data; name=\"post.").as_bytes()
    ));
    assert!(
        ours.body
            .ends_with(format!("\r\n--{boundary}--\r\n").as_bytes())
    );

    // Same parts in the same order (ids aside).
    assert_eq!(shapes(&ours.parts), shapes(&py_parts));
    let order: Vec<String> = ours
        .parts
        .iter()
        .filter(|p| p.name.matches('.').count() == 1)
        .map(|p| p.name.clone())
        .collect();
    let expected: Vec<String> = ids.iter().map(|id| format!("post.{id}")).collect();
    assert_eq!(order, expected);

    // Same part headers: names, order, values (Content-Length = body length).
    for (o, p) in ours.parts.iter().zip(&py_parts) {
        let names = |x: &Part| x.headers.iter().map(|(k, _)| k.clone()).collect::<Vec<_>>();
        assert_eq!(names(o), names(p), "{}", o.name);
        assert_eq!(o.header("content-type"), Some("application/json"));
        assert_eq!(
            o.header("content-length").unwrap(),
            o.body.len().to_string()
        );
        assert_eq!(
            p.header("content-length").unwrap(),
            p.body.len().to_string()
        );
        assert_eq!(
            o.header("content-disposition").unwrap(),
            format!("form-data; name=\"{}\"", o.name)
        );
    }

    // JSON: same field sets and order in the main parts and `extra`; the
    // payloads are the caller's bytes.
    for (o, p) in ours.parts.iter().zip(&py_parts) {
        let (ov, pv) = (o.json(), p.json());
        if o.name.matches('.').count() == 1 {
            assert_eq!(keys(&ov), keys(&pv), "main part of {}", o.name);
        } else if o.name.ends_with(".extra") {
            assert_eq!(keys(&ov), keys(&pv), "{}", o.name);
            assert_eq!(ov["metadata"]["ls_method"], "traceable");
            assert_eq!(ov["runtime"]["sdk"], "langsmith-rs");
        } else if o.name.ends_with(".events") {
            assert_eq!(o.body, b"[]");
            assert_eq!(p.body, b"[]");
        } else if o.name.ends_with(".error") {
            assert!(ov.is_string());
            assert!(pv.is_string());
        } else if o.name.ends_with(".serialized") || o.name.ends_with(".inputs") {
            assert_eq!(ov, pv, "{}", o.name);
        }
    }
    let root_out = ours
        .parts
        .iter()
        .find(|p| p.name == format!("post.{}.outputs", ids[0]))
        .unwrap();
    assert_eq!(root_out.body, br#"{"output":"Socks & Co."}"#);
}

#[test]
fn nested_trace_arrives_complete_in_one_request() {
    let server = TestServer::start();
    let mut cfg = config(&server.url());
    cfg.exporter.batch_interval = Duration::from_secs(30); // only the flush sends
    let client = client(cfg);
    let root = RunTree::new("root")
        .client(client.clone())
        .inputs(&json!({"q": 1}))
        .start();
    let child = root.child("child").run_type(RunType::Tool).start();
    let grandchild = child.child("grandchild").run_type(RunType::Llm).start();
    let (rid, cid, gid) = (
        root.id().unwrap(),
        child.id().unwrap(),
        grandchild.id().unwrap(),
    );
    grandchild.end_with_outputs(&json!({"text": "hi"}));
    child.end();
    root.end_with_outputs(&json!({"answer": 42}));
    assert!(client.flush_blocking(WAIT));
    let recs = server.ingest_records();
    assert_eq!(recs.len(), 1, "one request for the whole trace");
    let r = &recs[0];
    assert_eq!(r.path, "/runs/multipart");
    let main = |id: Uuid| {
        r.parts
            .iter()
            .find(|p| p.name == format!("post.{id}"))
            .unwrap()
            .json()
    };
    let (root_j, child_j, gc_j) = (main(rid), main(cid), main(gid));
    for j in [&root_j, &child_j, &gc_j] {
        assert_eq!(j["trace_id"], rid.to_string());
        assert!(
            j["end_time"].is_string(),
            "ended runs are posted with their end"
        );
    }
    assert!(root_j.get("parent_run_id").is_none());
    assert_eq!(child_j["parent_run_id"], rid.to_string());
    assert_eq!(gc_j["parent_run_id"], cid.to_string());
    let d = |j: &Value| j["dotted_order"].as_str().unwrap().to_owned();
    assert!(d(&gc_j).starts_with(&format!("{}.", d(&child_j))));
    assert!(d(&child_j).starts_with(&format!("{}.", d(&root_j))));
    assert!(r.parts.iter().all(|p| !p.name.starts_with("patch.")));
    let out = r
        .parts
        .iter()
        .find(|p| p.name == format!("post.{rid}.outputs"))
        .unwrap();
    assert_eq!(out.body, br#"{"answer":42}"#);
    let stats = client.stats();
    assert_eq!(
        (stats.queued, stats.sent, stats.dropped(), stats.pending),
        (3, 3, 0, 0)
    );
}

#[test]
fn create_and_update_in_one_batch_merge_into_one_post() {
    let server = TestServer::start();
    let mut cfg = config(&server.url());
    cfg.exporter.batch_interval = Duration::from_secs(30);
    let client = client(cfg);
    let mut run = RunTree::new("long")
        .client(client.clone())
        .inputs(&json!({"a": 1}))
        .start();
    run.post();
    run.add_metadata("progress", 50);
    run.patch();
    let id = run.id().unwrap();
    run.end_with_outputs(&json!({"b": 2}));
    assert!(client.flush_blocking(WAIT));
    let recs = server.ingest_records();
    assert_eq!(recs.len(), 1);
    assert_eq!(
        recs[0].part_names(),
        [
            format!("post.{id}"),
            format!("post.{id}.inputs"),
            format!("post.{id}.outputs"),
            format!("post.{id}.events"),
            format!("post.{id}.extra"),
        ]
    );
    let p = &recs[0].parts;
    assert!(p[0].json()["end_time"].is_string());
    assert_eq!(p[1].body, br#"{"a":1}"#);
    assert_eq!(p[2].body, br#"{"b":2}"#);
    assert_eq!(p[4].json()["metadata"]["progress"], 50);
    // Three ops (create, patch, end) all counted as sent.
    assert_eq!(client.stats().sent, 3);
}

#[test]
fn post_then_end_in_separate_batches_is_post_then_patch() {
    let server = TestServer::start();
    let client = client(config(&server.url()));
    let mut run = RunTree::new("slow")
        .client(client.clone())
        .inputs(&json!({"a": 1}))
        .start();
    let id = run.id().unwrap();
    run.post();
    assert!(client.flush_blocking(WAIT));
    run.end_with_outputs(&json!({"done": true}));
    assert!(client.flush_blocking(WAIT));
    let recs = server.ingest_records();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].part_names()[0], format!("post.{id}"));
    assert!(recs[0].parts[0].json().get("end_time").is_none());
    assert_eq!(
        recs[1].part_names(),
        [
            format!("patch.{id}"),
            format!("patch.{id}.outputs"),
            format!("patch.{id}.events"),
            format!("patch.{id}.extra"),
        ]
    );
    let patch = recs[1].parts[0].json();
    assert!(patch["end_time"].is_string());
    // The Python SDK's update_run field order.
    let (_, py) = python_parts(true);
    let py_patch = py
        .iter()
        .find(|p| p.name.starts_with("patch.") && p.name.matches('.').count() == 1)
        .unwrap();
    assert_eq!(keys(&patch), keys(&py_patch.json()));
}

fn zstd_info(enabled: bool) -> Value {
    json!({"version": "test", "instance_flags": {"zstd_compression_enabled": enabled},
           "batch_ingest_config": {"size_limit_bytes": 20971520, "size_limit": 100}})
}

#[test]
fn zstd_only_when_info_allows_it() {
    let (py_meta, _) = python_parts(true);
    for (info, compression, expect_zstd) in [
        (zstd_info(true), true, true),
        (zstd_info(false), true, false),
        (Value::Null, true, false), // /info 404
        (zstd_info(true), false, false),
    ] {
        let server = TestServer::start_with(info.clone());
        let mut cfg = config(&server.url());
        cfg.exporter.compression = compression;
        let client = client(cfg);
        let ids = python_equivalent_trace(&client);
        assert!(client.flush_blocking(WAIT));
        let infos = server
            .records()
            .iter()
            .filter(|r| r.path == "/info")
            .count();
        assert_eq!(infos, 1, "/info asked once");
        let recs = server.ingest_records();
        assert_eq!(recs.len(), 1);
        let r = &recs[0];
        let case = format!("info={info} compression={compression}");
        if expect_zstd {
            assert_eq!(r.header("content-encoding"), Some("zstd"), "{case}");
            assert_eq!(
                r.header("x-pre-compressed-size").unwrap(),
                r.body.len().to_string()
            );
            assert_eq!(
                r.header("x-post-compressed-size").unwrap(),
                r.raw.len().to_string()
            );
            assert_eq!(r.header("content-length").unwrap(), r.raw.len().to_string());
            assert!(r.raw.len() < r.body.len());
            // The same headers as the Python SDK's compressed request.
            for h in [
                "Content-Encoding",
                "X-Pre-Compressed-Size",
                "X-Post-Compressed-Size",
            ] {
                assert!(py_meta["headers"].get(h).is_some());
            }
        } else {
            assert!(r.header("content-encoding").is_none(), "{case}");
            assert!(r.header("x-pre-compressed-size").is_none());
            assert_eq!(r.raw, r.body);
        }
        // Either way the (decompressed) body has every run's parts.
        let names = r.part_names();
        for id in ids {
            assert!(names.contains(&format!("post.{id}").as_str()), "{case}");
        }
    }
}

/// `LANGSMITH_DISABLE_RUN_COMPRESSION` and `LANGSMITH_RUN_COMPRESSION_LEVEL`
/// (the Python SDK's variables) reach the wire: off means a plain body, a
/// level changes the compressed bytes, never what they decode to.
#[test]
fn compression_variables_reach_the_wire() {
    let mut sizes = HashMap::new();
    for (vars, expect_zstd) in [
        (vec![("LANGSMITH_DISABLE_RUN_COMPRESSION", "true")], false),
        (vec![("LANGSMITH_RUN_COMPRESSION_LEVEL", "-7")], true),
        (vec![("LANGSMITH_RUN_COMPRESSION_LEVEL", "19")], true),
    ] {
        let server = TestServer::start_with(zstd_info(true));
        let url = server.url();
        let mut cfg = Config::from_lookup(|k| match k {
            "LANGSMITH_ENDPOINT" => Some(url.clone()),
            "LANGSMITH_API_KEY" => Some("test-key".into()),
            _ => vars
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| v.to_string()),
        });
        cfg.exporter.batch_interval = Duration::from_secs(30); // only the flush sends
        let client = client(cfg);
        let ids = python_equivalent_trace(&client);
        assert!(client.flush_blocking(WAIT));
        let recs = server.ingest_records();
        assert_eq!(recs.len(), 1, "{vars:?}");
        let r = &recs[0];
        assert_eq!(
            r.header("content-encoding") == Some("zstd"),
            expect_zstd,
            "{vars:?}"
        );
        let names = r.part_names();
        for id in ids {
            assert!(names.contains(&format!("post.{id}").as_str()), "{vars:?}");
        }
        sizes.insert(vars[0].1, (r.raw.len(), r.body.len()));
    }
    let (fast, plain_fast) = sizes["-7"];
    let (strong, plain_strong) = sizes["19"];
    // Same trace, same decoded size up to the ids' and times' digits.
    assert!(plain_fast.abs_diff(plain_strong) < 64, "{sizes:?}");
    assert!(strong < fast, "level 19 ({strong} B) vs -7 ({fast} B)");
    assert_eq!(sizes["true"].0, sizes["true"].1);
}

#[test]
fn feedback_goes_as_a_feedback_part() {
    let server = TestServer::start();
    let client = client(config(&server.url()));
    let run_id = uuid7();
    let fb = Feedback::new(run_id, "correctness")
        .score(1.0)
        .comment("exact");
    let fb_id = fb.id;
    client.create_feedback(fb);
    assert!(client.flush_blocking(WAIT));
    let recs = server.ingest_records();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].part_names(), [format!("feedback.{fb_id}")]);
    let j = recs[0].parts[0].json();
    assert_eq!(j["run_id"], run_id.to_string());
    assert_eq!(j["key"], "correctness");
    assert_eq!(j["score"], 1.0);
    assert_eq!(
        recs[0].parts[0].header("content-type"),
        Some("application/json")
    );
}

#[test]
fn batches_respect_count_and_byte_limits() {
    let server = TestServer::start_with(json!({"batch_ingest_config": {"size_limit": 7}}));
    let mut cfg = config(&server.url());
    cfg.exporter.batch_interval = Duration::from_secs(30);
    let client = client(cfg);
    for i in 0..20 {
        RunTree::new("r")
            .client(client.clone())
            .inputs(&json!({"i": i}))
            .start()
            .end();
    }
    assert!(client.flush_blocking(WAIT));
    let mut sizes: Vec<usize> = server
        .ingest_records()
        .iter()
        .map(|r| post_ids(r).len())
        .collect();
    // Full batches may be sent at once (`max_in_flight`), so in any order.
    sizes.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(
        sizes,
        [7, 7, 6],
        "the server's size_limit caps runs per request"
    );

    // Byte limit: 4 KB inputs, 10 KB batches.
    let server = TestServer::start();
    let mut cfg = config(&server.url());
    cfg.exporter.batch_interval = Duration::from_secs(30);
    cfg.exporter.batch_max_bytes = 10_000;
    let client = support::client(cfg);
    let big = "x".repeat(4000);
    for _ in 0..6 {
        RunTree::new("big")
            .client(client.clone())
            .inputs(&json!({"text": big}))
            .start()
            .end();
    }
    assert!(client.flush_blocking(WAIT));
    let recs = server.ingest_records();
    assert!(recs.len() >= 3, "{}", recs.len());
    for r in &recs {
        assert!(r.body.len() <= 10_000, "request of {} bytes", r.body.len());
    }
    assert_eq!(recs.iter().map(|r| post_ids(r).len()).sum::<usize>(), 6);
}
