//! Interop with the official LangSmith Python SDK: a nested `@traceable`
//! trace with a failing child and feedback is sent to the collector, then
//! read back through `Client.read_run`, `Client.list_runs` (with filter
//! expressions too),
//! `Client.read_project` and `Client.list_feedback`.
//!
//! Needs `LANGSMITH_TEST_PYTHON` (an interpreter with `langsmith`
//! installed; `scripts/test.sh` sets it up). Without it the test is skipped
//! loudly, or fails when `CI=true`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use langsmith_collector::Collector;
use serde_json::{Value, json};
use uuid::Uuid;

fn python() -> Option<String> {
    match std::env::var("LANGSMITH_TEST_PYTHON") {
        Ok(p) if !p.is_empty() => Some(p),
        _ => {
            let msg = "python_sdk interop test: LANGSMITH_TEST_PYTHON is not set \
                       (set LANGSMITH_TEST_PYTHON or run scripts/test.sh)";
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("{msg}");
            }
            // Straight to stderr: libtest would swallow eprintln! of a passing test.
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "\n********\nSKIPPED: {msg}\n********\n");
            None
        }
    }
}

fn run_script(python: &str, url: &str, project: &str) -> Value {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/py/interop.py");
    let mut cmd = Command::new(python);
    // Only the settings below: nothing LangSmith-related from the outer
    // environment, and no proxy for loopback.
    for (k, _) in std::env::vars() {
        if k.starts_with("LANGSMITH_") || k.starts_with("LANGCHAIN_") {
            cmd.env_remove(k);
        }
    }
    let out = cmd
        .arg(&script)
        .env("LANGSMITH_ENDPOINT", url)
        .env("LANGSMITH_API_KEY", "test")
        .env("LANGSMITH_TRACING", "true")
        .env("LANGSMITH_PROJECT", project)
        .env("NO_PROXY", "127.0.0.1,localhost")
        .env("no_proxy", "127.0.0.1,localhost")
        .output()
        .expect("the Python interpreter runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "interop.py failed ({}):\nstdout:\n{stdout}\nstderr:\n{stderr}",
        out.status
    );
    serde_json::from_str(&stdout)
        .unwrap_or_else(|e| panic!("bad JSON from interop.py ({e}):\n{stdout}\nstderr:\n{stderr}"))
}

#[test]
fn python_sdk_traces_and_reads_back() {
    let Some(python) = python() else { return };
    for zstd in [true, false] {
        let c = Collector::builder()
            .api_key(Some("test"))
            .zstd(zstd)
            .start()
            .unwrap();
        let project = format!("interop-{}", Uuid::new_v4());
        let out = run_script(&python, &c.url(), &project);
        let root = out["ids"]["root"].as_str().unwrap();
        let err_id = out["ids"]["error"].as_str().unwrap();
        assert_eq!(out["ids"]["trace"], root);

        // What Python read back.
        let rr = &out["read_run"];
        assert_eq!(rr["name"], "run_pipeline");
        assert_eq!(rr["parent_run_id"], Value::Null);
        assert_eq!(rr["inputs"], json!({"subject": "colorful socks"}));
        assert_eq!(rr["outputs"], json!({"answer": "Socks & Co."}));
        assert_eq!(rr["status"], "success");
        assert_eq!(rr["session_id"], out["project_id"]);
        assert_eq!(rr["feedback_stats"]["correctness"]["n"], 1);
        let listed = out["list_runs"].as_array().unwrap();
        assert_eq!(listed.len(), 3, "{listed:#?}");
        let by_name = |n: &str| listed.iter().find(|r| r["name"] == n).unwrap();
        let llm = by_name("invoke_llm");
        assert_eq!(llm["parent_run_id"], root);
        assert_eq!(llm["run_type"], "llm");
        assert_eq!(
            llm["inputs"]["prompt"],
            "Name a store that sells colorful socks"
        );
        assert_eq!(llm["outputs"]["content"], "Socks & Co.");
        let failed = by_name("fails");
        assert_eq!(failed["id"], err_id);
        assert_eq!(failed["parent_run_id"], root);
        assert_eq!(failed["status"], "error");
        assert!(
            failed["error"]
                .as_str()
                .unwrap()
                .contains("ValueError('boom: colorful socks')")
        );
        assert_eq!(out["child_names"], json!(["invoke_llm", "fails"]));
        // `list_runs(filter=...)`: the expressions the collector evaluates.
        assert_eq!(
            out["filtered"],
            json!({
                "llm": ["invoke_llm"],
                "errors": ["fails"],
                "tagged_roots": ["run_pipeline"],
                "metadata": ["invoke_llm"],
                "in_trace_of_pipeline": ["fails", "invoke_llm"],
                "none": [],
            })
        );
        let mut keys: Vec<&str> = out["feedback"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["key"].as_str().unwrap())
            .collect();
        keys.sort_unstable();
        assert_eq!(keys, ["correctness", "helpfulness"]);

        // What the collector stored.
        let runs = c.wait_for_runs(3, Duration::from_secs(10));
        assert_eq!(runs.len(), 3);
        let stored_root = c.run(root.parse().unwrap()).unwrap();
        assert_eq!(stored_root.session_name, project);
        assert_eq!(stored_root.tags, vec!["interop"]);
        assert_eq!(stored_root.outputs, json!({"answer": "Socks & Co."}));
        let trace = c.trace(stored_root.id);
        assert_eq!(trace.len(), 3);
        assert_eq!(trace[0].id, stored_root.id);
        assert!(
            trace[1..]
                .iter()
                .all(|r| r.parent_run_id == Some(stored_root.id))
        );
        let stored_err = c.run(err_id.parse().unwrap()).unwrap();
        assert!(stored_err.error.unwrap().contains("boom: colorful socks"));
        let fb = c.feedback();
        assert_eq!(fb.len(), 2);
        assert!(fb.iter().all(|f| f.run_id == Some(stored_root.id)));
        let correctness = fb.iter().find(|f| f.key == "correctness").unwrap();
        assert_eq!(correctness.score, 1);
        assert_eq!(correctness.comment.as_deref(), Some("queued"));

        // And how it got there: the SDK used /runs/multipart, compressed
        // exactly when /info allowed it, always with the API key.
        let reqs = c.requests();
        let ingest: Vec<_> = reqs
            .iter()
            .filter(|r| r.path == "/runs/multipart")
            .collect();
        assert!(!ingest.is_empty());
        assert!(ingest.iter().all(|r| r.status == Some(202)), "{ingest:#?}");
        assert!(ingest.iter().all(|r| r.length_mismatches == 0));
        assert!(
            ingest
                .iter()
                .all(|r| (r.content_encoding.as_deref() == Some("zstd")) == zstd),
            "zstd={zstd}: {ingest:#?}"
        );
        assert!(reqs.iter().all(|r| r.status != Some(401)));
        c.shutdown();
    }
}
