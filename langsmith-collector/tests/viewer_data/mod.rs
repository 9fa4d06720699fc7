//! A demo-like distributed trace for the viewer tests, ingested through the
//! normal ingest API: a client, an axum service (Rust SDK, multipart) and an
//! actix tool service (sending like the Python SDK, `/runs/batch`), with an
//! error run, a run whose inputs hold `<script>`, token usage and feedback.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use uuid::Uuid;

use crate::common::{python_multipart, send, typed_multipart};

pub const PROJECT: &str = "langsmith-rs-demo";
pub const SCRIPT: &str = "<script>alert(1)</script>";
pub const IMG: &str = "<img src=x onerror=alert(2)>";

/// Microseconds since the epoch, now.
/// The name of the retriever's attachment (`inputs_run`).
pub const ATTACHMENT: &str = "snapshot";

/// A 1x1 PNG (one teal pixel).
pub const PNG_1X1: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53,
    0xde, 0x00, 0x00, 0x00, 0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xd0, 0xaa, 0xbf, 0x02,
    0x00, 0x02, 0x54, 0x01, 0x7e, 0x5a, 0x42, 0xca, 0x47, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82,
];

pub fn now_us() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_micros() as i64
}

fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn parts(us: i64) -> (i64, u32, u32, i64, i64, i64, i64) {
    let secs = us.div_euclid(1_000_000);
    let micros = us.rem_euclid(1_000_000);
    let (y, m, d) = civil(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60, micros)
}

/// `2026-01-02T03:04:05.678901+00:00`.
pub fn rfc3339(us: i64) -> String {
    let (y, mo, d, h, mi, s, f) = parts(us);
    format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{f:06}+00:00")
}

/// A dotted-order segment: `20260102T030405678901Z{id}`.
pub fn segment(us: i64, id: Uuid) -> String {
    let (y, mo, d, h, mi, s, f) = parts(us);
    format!("{y:04}{mo:02}{d:02}T{h:02}{mi:02}{s:02}{f:06}Z{id}")
}

/// One run of a test trace.
#[derive(Clone)]
pub struct Run {
    pub id: Uuid,
    pub dotted: String,
    pub doc: Value,
}

/// Builds run documents of one trace starting at `t0_us`.
pub struct TraceBuilder {
    pub t0: i64,
    pub trace_id: Uuid,
    pub project: String,
    pub runs: Vec<Run>,
}

impl TraceBuilder {
    pub fn new(t0_us: i64, project: &str) -> Self {
        TraceBuilder {
            t0: t0_us,
            trace_id: Uuid::now_v7(),
            project: project.to_owned(),
            runs: Vec::new(),
        }
    }

    /// Adds a run `start_ms`..`end_ms` after t0 (no end: still running).
    /// The first run added is the root and takes the trace id.
    pub fn run(
        &mut self,
        parent: Option<usize>,
        name: &str,
        run_type: &str,
        start_ms: f64,
        end_ms: Option<f64>,
        sdk: &str,
    ) -> usize {
        let id = if self.runs.is_empty() {
            self.trace_id
        } else {
            Uuid::now_v7()
        };
        let start = self.t0 + (start_ms * 1000.0) as i64;
        let seg = segment(start, id);
        let (dotted, parent_id) = match parent {
            Some(p) => (
                format!("{}.{seg}", self.runs[p].dotted),
                Some(self.runs[p].id.to_string()),
            ),
            None => (seg, None),
        };
        let mut doc = json!({
            "id": id.to_string(),
            "name": name,
            "run_type": run_type,
            "start_time": rfc3339(start),
            "trace_id": self.trace_id.to_string(),
            "dotted_order": dotted,
            "parent_run_id": parent_id,
            "session_name": self.project,
            "inputs": {},
            "extra": {"runtime": {"sdk": sdk, "sdk_version": "0.1.0"}, "metadata": {}},
            "tags": [],
        });
        if let Some(e) = end_ms {
            doc["end_time"] = rfc3339(self.t0 + (e * 1000.0) as i64).into();
            doc["outputs"] = json!({});
        }
        self.runs.push(Run { id, dotted, doc });
        self.runs.len() - 1
    }

    pub fn doc(&mut self, i: usize) -> &mut Value {
        &mut self.runs[i].doc
    }

    pub fn names(&self) -> Vec<String> {
        self.runs
            .iter()
            .map(|r| r.doc["name"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Stores every run through `/runs/batch`.
    pub fn post_batch(&self, addr: SocketAddr, key: Option<&str>) {
        let post: Vec<Value> = self.runs.iter().map(|r| r.doc.clone()).collect();
        let r = post_json_key(addr, "/runs/batch", &json!({ "post": post }), key);
        assert_eq!(r.0, 202, "{}", r.1);
    }
}

/// POSTs JSON with an optional API key; status and body.
pub fn post_json_key(
    addr: SocketAddr,
    path: &str,
    body: &Value,
    key: Option<&str>,
) -> (u16, String) {
    let mut headers = vec![("Content-Type", "application/json")];
    if let Some(k) = key {
        headers.push(("x-api-key", k));
    }
    let r = send(addr, "POST", path, &headers, body.to_string().as_bytes()).unwrap();
    (r.status, String::from_utf8_lossy(&r.body).into_owned())
}

/// GETs with an optional API key.
pub fn get_key(addr: SocketAddr, path: &str, key: Option<&str>) -> crate::common::Resp {
    let headers: Vec<(&str, &str)> = key.map(|k| vec![("x-api-key", k)]).unwrap_or_default();
    send(addr, "GET", path, &headers, b"").unwrap()
}

/// What the browser test needs to know about the ingested demo.
pub struct Demo {
    pub trace_id: Uuid,
    /// Run names in tree order as first ingested.
    pub names: Vec<String>,
    /// Names after the late batch arrived.
    pub names_after: Vec<String>,
    pub error_run: String,
    pub script_run: String,
    pub inputs_run: String,
    pub inputs_text: String,
    pub collapse_run: String,
    /// `/runs/batch` body that finishes the trace (and adds `format_answer`).
    pub late_batch: Value,
    pub other_traces: Vec<(String, String)>,
}

/// Ingests the demo trace (root still running) and two older traces.
pub fn ingest_demo(addr: SocketAddr, key: Option<&str>) -> Demo {
    // Two older, finished traces: one in another project.
    let old = now_us() - 3_600_000_000;
    let mut eval = TraceBuilder::new(old, "evals");
    let e = eval.run(
        None,
        "nightly_eval",
        "chain",
        0.0,
        Some(1200.0),
        "langsmith-py",
    );
    eval.doc(e)["inputs"] = json!({"dataset": "faq-v2"});
    let c = eval.run(Some(e), "grade", "llm", 10.0, Some(1100.0), "langsmith-py");
    eval.doc(c)["inputs"] = json!({"prompt": "grade this"});
    eval.post_batch(addr, key);
    let mut older = TraceBuilder::new(old - 60_000_000, PROJECT);
    older.run(
        None,
        "summarize_ticket",
        "chain",
        0.0,
        Some(300.0),
        "langsmith-rs",
    );
    older.post_batch(addr, key);

    // The demo trace, started a moment ago and still running.
    let mut t = TraceBuilder::new(now_us() - 2_000_000, PROJECT);
    let root = t.run(None, "support_agent", "chain", 0.0, None, "langsmith-rs");
    t.doc(root)["inputs"] =
        json!({"url": "http://127.0.0.1:3000/answer?q=Where%20are%20my%20socks%3F"});
    t.doc(root)["tags"] = json!(["demo", "client"]);
    let answer = t.run(
        Some(root),
        "GET /answer",
        "chain",
        20.0,
        None,
        "langsmith-rs",
    );
    t.doc(answer)["inputs"] = json!({"method": "GET", "path": "/answer"});
    t.doc(answer)["extra"]["metadata"] =
        json!({"service_name": "axum-answer", "http.status_code": null});
    let plan = t.run(
        Some(answer),
        "plan_answer",
        "chain",
        25.0,
        Some(880.0),
        "langsmith-rs",
    );
    t.doc(plan)["inputs"] = json!({"question": "Where are my socks?"});
    t.doc(plan)["outputs"] =
        json!({"output": "Based on our docs: where are my socks? | stock: inventory error 404"});
    let retrieve = t.run(
        Some(plan),
        "retrieve_docs",
        "retriever",
        30.0,
        Some(82.5),
        "langsmith-rs",
    );
    t.doc(retrieve)["inputs"] = json!({"query": "Where are my socks?"});
    t.doc(retrieve)["outputs"] = json!({"output": ["Socks ship in 2 days.", "Returns are free."]});
    let llm_srv = t.run(
        Some(plan),
        "GET /llm",
        "chain",
        90.0,
        Some(600.0),
        "langsmith-py",
    );
    t.doc(llm_srv)["inputs"] = json!({"method": "GET", "path": "/llm"});
    t.doc(llm_srv)["extra"]["metadata"] = json!({"service_name": "actix-tools"});
    let chat = t.run(
        Some(llm_srv),
        "chat_model",
        "llm",
        100.0,
        Some(590.0),
        "langsmith-py",
    );
    t.doc(chat)["inputs"] = json!({"messages": [
        {"role": "system", "content": "You answer questions about our shop."},
        {"role": "user", "content": format!("{SCRIPT} Where are my socks?")},
    ]});
    t.doc(chat)["outputs"] = json!({"choices": [{"message": {"role": "assistant",
        "content": "Based on our docs: socks ship in 2 days."}}]});
    t.doc(chat)["extra"]["metadata"] = json!({
        "ls_provider": "openai", "ls_model_name": "gpt-4o-mini", "ls_temperature": 0.2,
        "note": IMG,
        "usage_metadata": {"input_tokens": 42, "output_tokens": 17, "total_tokens": 59,
                           "input_token_details": {"cache_read": 32}},
    });
    t.doc(chat)["tags"] = json!(["llm", "gpt-4o-mini"]);
    let inv_srv = t.run(
        Some(plan),
        "GET /inventory/hats",
        "chain",
        610.0,
        Some(700.0),
        "langsmith-py",
    );
    t.doc(inv_srv)["inputs"] = json!({"method": "GET", "path": "/inventory/hats"});
    t.doc(inv_srv)["extra"]["metadata"] = json!({"service_name": "actix-tools"});
    let inv = t.run(
        Some(inv_srv),
        "inventory_lookup",
        "tool",
        620.0,
        Some(690.0),
        "langsmith-py",
    );
    t.doc(inv)["inputs"] = json!({"item": "hats"});
    t.doc(inv)["error"] = json!("item \"hats\" is not in the catalogue");
    t.doc(inv)["outputs"] = Value::Null;

    // The Rust services send multipart (Python layout, inputs as their own
    // part); the tool service sends /runs/batch.
    let mut mp: Vec<(String, Vec<u8>)> = Vec::new();
    for r in t
        .runs
        .iter()
        .filter(|r| r.doc["extra"]["runtime"]["sdk"] == "langsmith-rs")
    {
        let mut doc = r.doc.clone();
        let inputs = doc.as_object_mut().unwrap().remove("inputs").unwrap();
        mp.push((format!("post.{}", r.id), doc.to_string().into_bytes()));
        mp.push((
            format!("post.{}.inputs", r.id),
            inputs.to_string().into_bytes(),
        ));
    }
    let parts: Vec<(&str, &[u8])> = mp.iter().map(|(n, b)| (n.as_str(), b.as_slice())).collect();
    let boundary = "viewer-test-boundary";
    let body = python_multipart(boundary, &parts);
    let ct = format!("multipart/form-data; boundary={boundary}");
    let mut headers = vec![("Content-Type", ct.as_str())];
    if let Some(k) = key {
        headers.push(("x-api-key", k));
    }
    let r = send(addr, "POST", "/runs/multipart", &headers, &body).unwrap();
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    // The retriever attaches a picture (a 1x1 PNG) as its own typed part.
    let att_name = format!("attachment.{}.{ATTACHMENT}", t.runs[retrieve].id);
    let att = typed_multipart(boundary, &[(&att_name, "image/png", PNG_1X1)]);
    let r = send(addr, "POST", "/runs/multipart", &headers, &att).unwrap();
    assert_eq!(r.status, 202, "{}", String::from_utf8_lossy(&r.body));
    let py: Vec<Value> = t
        .runs
        .iter()
        .filter(|r| r.doc["extra"]["runtime"]["sdk"] == "langsmith-py")
        .map(|r| r.doc.clone())
        .collect();
    let r = post_json_key(addr, "/runs/batch", &json!({ "post": py }), key);
    assert_eq!(r.0, 202, "{}", r.1);
    let chat_id = t.runs[chat].id.to_string();
    let r = post_json_key(
        addr,
        "/feedback",
        &json!({"run_id": chat_id, "trace_id": t.trace_id.to_string(), "key": "correctness",
                "score": 1, "comment": format!("grounded in the docs {SCRIPT}")}),
        key,
    );
    assert!(r.0 < 300, "{}", r.1);

    let names = t.names();
    // The late batch: the answer is formatted, then the services finish.
    let fmt = t.run(
        Some(answer),
        "format_answer",
        "chain",
        885.0,
        Some(905.0),
        "langsmith-rs",
    );
    t.doc(fmt)["inputs"] = json!({"parts": 2});
    let mut names_after = names.clone();
    names_after.push("format_answer".into());
    let end = |b: &TraceBuilder, i: usize, ms: f64, out: Value| {
        let r = &b.runs[i];
        json!({"id": r.id.to_string(), "trace_id": b.trace_id.to_string(),
               "dotted_order": r.dotted, "parent_run_id": r.doc["parent_run_id"],
               "end_time": rfc3339(b.t0 + (ms * 1000.0) as i64), "outputs": out})
    };
    let late_batch = json!({
        "post": [t.runs[fmt].doc.clone()],
        "patch": [
            end(&t, answer, 930.0, json!({"status": 200})),
            end(&t, root, 950.0, json!({"answer": "Based on our docs: socks ship in 2 days."})),
        ],
    });
    Demo {
        trace_id: t.trace_id,
        names,
        names_after,
        error_run: "inventory_lookup".into(),
        script_run: "chat_model".into(),
        inputs_run: "retrieve_docs".into(),
        inputs_text: "Where are my socks?".into(),
        collapse_run: "GET /llm".into(),
        late_batch,
        other_traces: vec![
            ("nightly_eval".into(), "evals".into()),
            ("summarize_ticket".into(), PROJECT.into()),
        ],
    }
}
