//! The trace viewer without a browser: the page and its assets (types,
//! Content-Security-Policy, no key needed), `GET /api/traces` (newest first,
//! filters, paging) and the API key on the page's API calls.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod viewer_data;

use common::*;
use langsmith_collector::Collector;
use serde_json::{Value, json};
use viewer_data::*;

fn header<'a>(r: &'a Resp, name: &str) -> &'a str {
    r.header(name)
        .unwrap_or_else(|| panic!("no {name} header in {:?}", r.headers))
}

#[test]
fn page_and_assets_are_served_with_strict_headers() {
    let c = Collector::builder().start().unwrap();
    let page = get(c.addr(), "/");
    assert_eq!(page.status, 200);
    assert!(header(&page, "content-type").starts_with("text/html"));
    let csp = header(&page, "content-security-policy");
    for directive in [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "connect-src 'self'",
        "frame-ancestors 'none'",
    ] {
        assert!(csp.contains(directive), "{directive} in {csp}");
    }
    assert!(
        !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
        "{csp}"
    );
    assert_eq!(header(&page, "x-content-type-options"), "nosniff");
    let html = String::from_utf8(page.body.clone()).unwrap();
    assert!(html.contains(r#"<script src="/viewer/app.js" defer></script>"#));
    assert!(html.contains(r#"href="/viewer/app.css""#));
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing from the network"
    );

    for (path, ty, needle) in [
        ("/viewer/app.js", "text/javascript", "textContent"),
        ("/viewer/app.css", "text/css", ".row"),
        ("/viewer/icon.svg", "image/svg+xml", "<svg"),
    ] {
        let r = get(c.addr(), path);
        assert_eq!(r.status, 200, "{path}");
        assert!(
            header(&r, "content-type").starts_with(ty),
            "{path}: {:?}",
            r.headers
        );
        assert_eq!(header(&r, "x-content-type-options"), "nosniff", "{path}");
        assert!(String::from_utf8_lossy(&r.body).contains(needle), "{path}");
    }
    let js = String::from_utf8(get(c.addr(), "/viewer/app.js").body).unwrap();
    assert!(
        !js.contains("innerHTML") && !js.contains("insertAdjacentHTML") && !js.contains("eval(")
    );
    assert!(
        !js.contains("http://") && !js.contains("https://"),
        "nothing from the network"
    );
    assert_eq!(get(c.addr(), "/viewer/nope.js").status, 404);

    // A client asking for JSON still gets the collector's description.
    let about = send(c.addr(), "GET", "/", &[("Accept", "application/json")], b"").unwrap();
    assert_eq!(about.status, 200);
    assert_eq!(about.json()["name"], "langsmith-collector");
}

fn list(c: &langsmith_collector::CollectorHandle, query: &str) -> Value {
    let r = get(c.addr(), &format!("/api/traces{query}"));
    assert_eq!(
        r.status,
        200,
        "{query}: {}",
        String::from_utf8_lossy(&r.body)
    );
    r.json()
}

fn names(v: &Value) -> Vec<String> {
    v["traces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn lists_traces_newest_first_with_filters_and_paging() {
    let c = Collector::builder().start().unwrap();
    assert_eq!(list(&c, "")["traces"], json!([]));
    let base = now_us() - 100_000_000;
    let mut ids = Vec::new();
    // Five traces, one second apart, sent oldest last (arrival order must
    // not matter), alternating projects; trace 3 has a failing child.
    for i in (0..5).rev() {
        let project = if i % 2 == 0 { "alpha" } else { "beta" };
        let mut t = TraceBuilder::new(base + i * 1_000_000, project);
        let root = t.run(
            None,
            &format!("Trace_{i}"),
            "chain",
            0.0,
            Some(250.0),
            "langsmith-rs",
        );
        let child = t.run(
            Some(root),
            "step",
            "tool",
            10.0,
            Some(100.0),
            "langsmith-rs",
        );
        if i == 3 {
            t.doc(child)["error"] = json!("boom");
        }
        t.post_batch(c.addr(), None);
        ids.push((i, t.trace_id));
    }
    // A trace whose root has not arrived: its child stands in.
    let mut orphan = TraceBuilder::new(base + 10_000_000, "beta");
    let root = orphan.run(None, "never_sent", "chain", 0.0, None, "langsmith-rs");
    orphan.run(
        Some(root),
        "late_child",
        "llm",
        5.0,
        Some(50.0),
        "langsmith-py",
    );
    orphan.runs.remove(0);
    orphan.post_batch(c.addr(), None);

    let all = list(&c, "");
    assert_eq!(
        names(&all),
        [
            "late_child",
            "Trace_4",
            "Trace_3",
            "Trace_2",
            "Trace_1",
            "Trace_0"
        ]
    );
    assert_eq!(all["cursors"]["next"], Value::Null);
    let t3 = &all["traces"][2];
    let id3 = ids.iter().find(|(i, _)| *i == 3).unwrap().1.to_string();
    assert_eq!(t3["trace_id"], id3.as_str());
    assert_eq!(t3["root_run_id"], id3.as_str());
    assert_eq!(t3["project"], "beta");
    assert_eq!(t3["run_type"], "chain");
    assert_eq!(t3["run_count"], 2);
    assert_eq!(t3["error_count"], 1);
    assert_eq!(t3["error"], true);
    assert_eq!(t3["root_error"], false);
    assert_eq!(t3["status"], "error");
    assert_eq!(t3["duration_ms"], 250);
    assert_eq!(all["traces"][1]["status"], "success");
    assert_eq!(all["traces"][1]["error"], false);
    assert_eq!(all["traces"][0]["run_count"], 1);

    assert_eq!(
        names(&list(&c, "?project=alpha")),
        ["Trace_4", "Trace_2", "Trace_0"]
    );
    assert_eq!(names(&list(&c, "?error=true")), ["Trace_3"]);
    assert_eq!(
        names(&list(&c, "?error=false&project=beta")),
        ["late_child", "Trace_1"]
    );
    assert_eq!(
        names(&list(&c, "?name=trace_2")),
        ["Trace_2"],
        "case-insensitive"
    );
    assert_eq!(names(&list(&c, "?name=TRACE&error=any&project=")).len(), 5);

    // Keyset paging: every trace exactly once, in order, even when a newer
    // trace arrives between pages.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for page in 0.. {
        let q = if cursor.is_empty() {
            "?limit=4".to_owned()
        } else {
            format!("?limit=4&cursor={cursor}")
        };
        let v = list(&c, &q);
        seen.extend(names(&v));
        if page == 0 {
            assert_eq!(v["traces"].as_array().unwrap().len(), 4);
            let mut newer = TraceBuilder::new(now_us(), "alpha");
            newer.run(None, "newest", "chain", 0.0, Some(1.0), "langsmith-rs");
            newer.post_batch(c.addr(), None);
        }
        match v["cursors"]["next"].as_str() {
            Some(n) => cursor = n.to_owned(),
            None => break,
        }
    }
    assert_eq!(
        seen,
        [
            "late_child",
            "Trace_4",
            "Trace_3",
            "Trace_2",
            "Trace_1",
            "Trace_0"
        ]
    );
    assert_eq!(names(&list(&c, "?limit=1"))[0], "newest");

    for bad in ["?error=maybe", "?limit=0", "?limit=x", "?cursor=nonsense"] {
        let r = get(c.addr(), &format!("/api/traces{bad}"));
        assert_eq!(r.status, 422, "{bad}");
        assert!(r.json()["detail"].is_string());
    }
}

#[test]
fn the_page_is_public_but_its_api_calls_need_the_key() {
    let key = "s3cret-key";
    let c = Collector::builder().api_key(Some(key)).start().unwrap();
    let demo = ingest_demo(c.addr(), Some(key));
    for path in [
        "/",
        "/viewer/app.js",
        "/viewer/app.css",
        "/viewer/icon.svg",
        "/health",
    ] {
        assert_eq!(get(c.addr(), path).status, 200, "{path} without a key");
    }
    let tree = format!("/api/traces/{}", demo.trace_id);
    for path in ["/api/traces", tree.as_str(), "/sessions", "/info"] {
        let r = get_key(c.addr(), path, None);
        assert_eq!(r.status, 401, "{path} without a key");
        assert_eq!(r.json()["detail"], "missing x-api-key header");
        assert_eq!(get_key(c.addr(), path, Some("wrong")).status, 401, "{path}");
        let ok = get_key(c.addr(), path, Some(key));
        assert_eq!(ok.status, 200, "{path} with the key");
    }
    let v = get_key(c.addr(), "/api/traces", Some(key)).json();
    assert_eq!(
        names(&v),
        ["support_agent", "nightly_eval", "summarize_ticket"]
    );
    assert_eq!(v["traces"][0]["status"], "pending");
    assert_eq!(v["traces"][0]["error"], true);
    assert_eq!(v["traces"][0]["run_count"], demo.names.len());
    assert_eq!(v["traces"][0]["project"], PROJECT);
}
