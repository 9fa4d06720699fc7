//! One trace across languages: runs made by this SDK and by the official
//! Python SDK land in one tree in the collector.
#![cfg(all(feature = "reqwest", feature = "axum"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use langsmith::reqwest::LangSmithMiddleware;
use langsmith::reqwest::reqwest_middleware::{ClientBuilder, ClientWithMiddleware, reqwest};
use langsmith::*;
use langsmith_collector::{Collector, StoredRun};
use std::time::Duration;

fn exporter_client(url: &str, project: &str) -> Client {
    Client::builder()
        .config(Config::default())
        .endpoint(url)
        .api_key("test")
        .project(project)
        .tracing(Some(true))
        .build()
}

/// `GET /answer?q=hi` on `tests/py/fastapi_service.py` through `http` (the
/// trace propagated by the middleware); the body.
async fn ask_python_service(http: &ClientWithMiddleware, port: u16) -> String {
    http.get(format!("http://127.0.0.1:{port}/answer?q=hi"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

/// The environment of a Python SDK program sending to the collector at
/// `url`, into `project`.
fn python_env<'a>(url: &'a str, project: &'a str) -> [(&'static str, &'a str); 4] {
    [
        ("LANGSMITH_ENDPOINT", url),
        ("LANGSMITH_API_KEY", "test"),
        ("LANGSMITH_TRACING", "true"),
        ("LANGSMITH_PROJECT", project),
    ]
}

fn by_name<'a>(runs: &'a [StoredRun], name: &str) -> &'a StoredRun {
    runs.iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no run named {name} in {runs:#?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_client_to_python_fastapi_service_is_one_tree() {
    let Some(py) = support::python() else { return };
    let collector = Collector::builder().start().unwrap();
    let url = collector.url();
    let project = format!("xlang-{}", uuid7());
    let (_service, port) = support::start_python_server(
        &py,
        "fastapi_service.py",
        &[
            ("LANGSMITH_ENDPOINT", &url),
            ("LANGSMITH_API_KEY", "test"),
            ("LANGSMITH_TRACING", "true"),
            ("LANGSMITH_PROJECT", "python-side-default"),
        ],
    );
    let client = exporter_client(&url, &project);
    let http = ClientBuilder::new(reqwest::Client::new())
        .with(LangSmithMiddleware::new())
        .build();
    let (trace_id, body) = traceable("rust_agent")
        .client(client.clone())
        .metadata("tenant", "acme")
        .tag("e2e")
        .call_async(async {
            // Added while running: goes out in the baggage too (as the Python
            // SDK's RunTree.add_metadata / add_tags do).
            let me = current_run().unwrap();
            assert!(me.add_metadata("step", "retrieval"));
            assert!(me.add_tag("added"));
            let body = ask_python_service(&http, port).await;
            (current_run().unwrap().trace_id(), body)
        })
        .await;
    assert_eq!(body, r#"{"answer":"HI"}"#);
    client.flush().await;

    let runs = support::eventually(Duration::from_secs(60), || {
        let t = collector.trace(trace_id);
        (t.len() >= 3 && t.iter().all(|r| r.end_time.is_some())).then_some(t)
    })
    .unwrap_or_else(|| panic!("3 ended runs in trace {trace_id}: {:#?}", collector.runs()));
    assert_eq!(runs.len(), 3, "{runs:#?}");
    let root = by_name(&runs, "rust_agent");
    let handler = by_name(&runs, "py_handler");
    let child = by_name(&runs, "py_child");
    assert_eq!(root.parent_run_id, None);
    assert_eq!(handler.parent_run_id, Some(root.id));
    assert_eq!(child.parent_run_id, Some(handler.id));
    for r in &runs {
        assert_eq!(r.trace_id, root.id);
        // The caller's project, tags and metadata travel in baggage.
        assert_eq!(r.session_name, project, "{}", r.name);
        assert!(
            r.tags.contains(&"e2e".to_string()),
            "{} tags {:?}",
            r.name,
            r.tags
        );
        assert_eq!(r.extra["metadata"]["tenant"], "acme", "{}", r.name);
        assert_eq!(r.extra["metadata"]["step"], "retrieval", "{}", r.name);
        assert!(
            r.tags.contains(&"added".to_string()),
            "{} {:?}",
            r.name,
            r.tags
        );
    }
    assert!(
        handler
            .dotted_order
            .starts_with(&format!("{}.", root.dotted_order))
    );
    assert!(
        child
            .dotted_order
            .starts_with(&format!("{}.", handler.dotted_order))
    );
    assert_eq!(child.outputs["answer"], "HI");
    assert_eq!(child.run_type, "tool");
}

/// A Rust client filing its traces under an agent address (the Python SDK's
/// agent addressing) calls the Python service: the address travels in the
/// baggage and the Python runs land under it too — one tree, one place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rust_agent_addressed_trace_is_continued_by_python_under_its_address() {
    use langsmith::headers::{AgentAddress, AgentEnvironment};
    let Some(py) = support::python() else { return };
    let collector = Collector::builder().start().unwrap();
    let url = collector.url();
    let (_service, port) = support::start_python_server(
        &py,
        "fastapi_service.py",
        &[
            ("LANGSMITH_ENDPOINT", &url),
            ("LANGSMITH_API_KEY", "test"),
            ("LANGSMITH_TRACING", "true"),
        ],
    );
    let bot = AgentAddress::new("rust-bot", AgentEnvironment::Staging).unwrap();
    let client = Client::builder()
        .config(Config::default())
        .endpoint(&url)
        .api_key("test")
        .tracing(Some(true))
        .agent_address(bot)
        .build();
    let http = ClientBuilder::new(reqwest::Client::new())
        .with(LangSmithMiddleware::new())
        .build();
    let trace_id = traceable("rust_agent")
        .client(client.clone())
        .call_async(async {
            let body = ask_python_service(&http, port).await;
            assert_eq!(body, r#"{"answer":"HI"}"#);
            current_run().unwrap().trace_id()
        })
        .await;
    client.flush().await;
    let runs = support::eventually(Duration::from_secs(60), || {
        let t = collector.trace(trace_id);
        (t.len() >= 3 && t.iter().all(|r| r.end_time.is_some())).then_some(t)
    })
    .unwrap_or_else(|| panic!("3 ended runs in trace {trace_id}: {:#?}", collector.runs()));
    let root = by_name(&runs, "rust_agent");
    assert_eq!(by_name(&runs, "py_handler").parent_run_id, Some(root.id));
    for r in &runs {
        assert_eq!(
            r.session_name, "lrn:agents/rust-bot/environments/staging",
            "{} is filed under the agent",
            r.name
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_runtree_client_to_rust_axum_service_is_one_tree() {
    let Some(py) = support::python() else { return };
    let project = format!("xlang-{}", uuid7());
    python_client_to_rust_service(&py, &project, None, &project).await;
}

/// The Python SDK's agent addressing: a trace addressed to an agent
/// (`langsmith-address` in the baggage, no project) is continued by the Rust
/// service under the same address, so its runs land with the caller's —
/// the collector files runs by the address as LangSmith does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_agent_addressed_trace_is_continued_under_its_address() {
    let Some(py) = support::python() else { return };
    let project = format!("unused-{}", uuid7());
    python_client_to_rust_service(
        &py,
        &project,
        Some("support-bot"),
        "lrn:agents/support-bot/environments/production",
    )
    .await;
}

/// A Python `RunTree` (into `project`, or addressed to `agent`) calls a
/// traced axum route; the three runs form one tree filed under `expected`.
async fn python_client_to_rust_service(
    py: &std::path::PathBuf,
    project: &str,
    agent: Option<&str>,
    expected: &str,
) {
    let collector = Collector::builder().start().unwrap();
    let url = collector.url();
    // LANGSMITH_TRACING unset on the Rust side: the caller decided.
    let client = Client::builder()
        .config(Config::default())
        .endpoint(&url)
        .api_key("test")
        .tracing(None)
        .build();
    let app = axum::Router::new()
        .route(
            "/work/{id}",
            axum::routing::get(|| async {
                traceable("rust_step")
                    .run_type(RunType::Tool)
                    .call_async(async { "done" })
                    .await
            }),
        )
        .layer(langsmith::tower::LangSmithLayer::with_options(
            server::ServerOptions::new().client(client.clone()),
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut env = python_env(&url, project).to_vec();
    if let Some(agent) = agent {
        env.push(("PY_AGENT_ID", agent));
    }
    let printed = support::run_python_async(
        py,
        "runtree_client.py",
        &[&format!("http://127.0.0.1:{port}/work/7")],
        &env,
    )
    .await;
    assert_eq!(printed["body"], "done");
    let trace_id: Uuid = printed["trace_id"].as_str().unwrap().parse().unwrap();
    client.flush().await;

    let runs = support::eventually(Duration::from_secs(60), || {
        let t = collector.trace(trace_id);
        (t.len() >= 3 && t.iter().all(|r| r.end_time.is_some())).then_some(t)
    })
    .unwrap_or_else(|| panic!("3 ended runs in trace {trace_id}: {:#?}", collector.runs()));
    assert_eq!(runs.len(), 3, "{runs:#?}");
    let root = by_name(&runs, "py_client");
    let server = by_name(&runs, "GET /work/{id}");
    let step = by_name(&runs, "rust_step");
    assert_eq!(root.parent_run_id, None);
    assert_eq!(server.parent_run_id, Some(root.id));
    assert_eq!(step.parent_run_id, Some(server.id));
    assert!(
        server
            .dotted_order
            .starts_with(&format!("{}.", root.dotted_order))
    );
    assert!(
        step.dotted_order
            .starts_with(&format!("{}.", server.dotted_order))
    );
    for r in [root, server, step] {
        assert_eq!(
            r.session_name, expected,
            "{} is filed where the caller's trace goes",
            r.name
        );
        assert!(
            r.tags.contains(&"py-tag".to_string()),
            "{} tags {:?}",
            r.name,
            r.tags
        );
        assert_eq!(r.extra["metadata"]["team"], "python", "{}", r.name);
    }
    assert_eq!(root.outputs["body"], "done");
    assert_eq!(step.outputs["output"], "done");
}

/// The same program through both SDKs: a root with its own tags and metadata
/// that adds more while it runs, then starts a child. Both SDKs give the
/// child the root's metadata, including what was added, and its tags.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn children_inherit_like_the_python_sdk() {
    let Some(py) = support::python() else { return };
    let collector = Collector::builder().start().unwrap();
    let url = collector.url();
    let project = format!("inherit-{}", uuid7());
    let printed = support::run_python(
        &py,
        "nested_inheritance.py",
        &[],
        &python_env(&url, &project),
    );
    let py_trace: Uuid = printed["trace_id"].as_str().unwrap().parse().unwrap();

    let client = exporter_client(&url, &project);
    let rust_trace = traceable("outer")
        .client(client.clone())
        .metadata("own", "x")
        .tag("t1")
        .call(|| {
            let me = current_run().unwrap();
            assert!(me.add_metadata("later", 1));
            assert!(me.add_tag("added"));
            traceable("inner").call(|| "ok");
            me.trace_id()
        });
    client.flush().await;

    for (sdk, trace_id) in [("python", py_trace), ("rust", rust_trace)] {
        let runs = support::eventually(Duration::from_secs(60), || {
            let t = collector.trace(trace_id);
            (t.len() >= 2 && t.iter().all(|r| r.end_time.is_some())).then_some(t)
        })
        .unwrap_or_else(|| panic!("{sdk}: 2 ended runs in {trace_id}: {:#?}", collector.runs()));
        let (outer, inner) = (by_name(&runs, "outer"), by_name(&runs, "inner"));
        assert_eq!(inner.parent_run_id, Some(outer.id), "{sdk}");
        for r in [outer, inner] {
            let md = &r.extra["metadata"];
            assert_eq!(md["own"], "x", "{sdk} {}: {md}", r.name);
            assert_eq!(md["later"], 1, "{sdk} {}: {md}", r.name);
            assert!(
                r.tags.contains(&"t1".to_string()),
                "{sdk} {}: {:?}",
                r.name,
                r.tags
            );
        }
        // Python SDK 0.14.17 does not hand a tag added at run time to
        // children started in the same process (it copies the decorator's
        // tags before the body runs); this SDK does. Both put it on the run.
        assert!(
            outer.tags.contains(&"added".to_string()),
            "{sdk}: {:?}",
            outer.tags
        );
    }
}
