#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::run::push_path_template;
use super::*;
use crate::headers::merge_baggage;
use crate::{CANCELLED, Client, Config, DottedOrder, MemorySink, RunRecord};
use proptest::prelude::*;

fn path_template(path: &str) -> String {
    let mut out = String::new();
    push_path_template(&mut out, path);
    out
}

const CALLER: &str = "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001";
const CALLER_ID: &str = "0193d5a2-0000-7000-8000-000000000001";

fn client(sink: &MemorySink, tracing: Option<bool>) -> Client {
    Client::builder()
        .config(Config::default())
        .tracing(tracing)
        .sink(sink.clone())
        .build()
}

fn opts(sink: &MemorySink, tracing: Option<bool>) -> ServerOptions {
    ServerOptions::new().client(client(sink, tracing))
}

/// Starts and finishes one request; returns what was recorded.
fn handle(opts: &ServerOptions, sink: &MemorySink, headers: &[(&str, &[u8])]) -> Vec<RunRecord> {
    let req = RequestInfo::new("GET", "/users/42", &headers).route(Some("/users/{id}"));
    let mut run = ServerRun::start(opts, &req);
    run.finish(200);
    sink.runs()
}

#[test]
fn continues_the_callers_trace_with_baggage() {
    let sink = MemorySink::new();
    let o = opts(&sink, Some(true));
    let baggage = "langsmith-metadata=%7B%22tenant%22%3A%22acme%22%7D,langsmith-tags=a%2Cb,langsmith-project=shop,vendor=x";
    let headers: [(&str, &[u8]); 2] = [
        ("Langsmith-Trace", CALLER.as_bytes()),
        ("baggage", baggage.as_bytes()),
    ];
    let req = RequestInfo::new("GET", "/users/42", &headers).route(Some("/users/{id}"));
    let mut run = ServerRun::start(&o, &req);
    let ctx = run.context().unwrap().clone();
    // Downstream calls carry our run and the caller's baggage on.
    let out = ctx.to_headers();
    assert!(
        out.trace
            .as_deref()
            .unwrap()
            .starts_with(&format!("{CALLER}."))
    );
    let out_baggage = out.baggage.unwrap();
    assert!(out_baggage.contains("langsmith-project=shop"));
    assert!(out_baggage.contains("vendor=x"));
    run.finish(200);

    let runs = sink.runs();
    assert_eq!(runs.len(), 1);
    let r = &runs[0];
    assert_eq!(r.name, "GET /users/{id}");
    assert_eq!(r.parent_run_id.unwrap().to_string(), CALLER_ID);
    assert_eq!(r.trace_id.to_string(), CALLER_ID);
    assert_eq!(
        r.dotted_order,
        format!(
            "{CALLER}.{}",
            DottedOrder::root(r.start_time, r.id).as_str()
        )
    );
    assert_eq!(&*r.session_name, "shop");
    assert_eq!(r.tags, ["a", "b"]);
    assert_eq!(r.extra.metadata["tenant"], "acme");
    assert_eq!(r.run_type, crate::RunType::Chain);
    assert_eq!(r.outputs.as_ref().unwrap().get(), r#"{"status":200}"#);
    assert!(r.error.is_none());
}

#[test]
fn baggage_project_can_be_ignored() {
    let sink = MemorySink::new();
    let o = opts(&sink, Some(true)).use_baggage_project(false);
    let headers: [(&str, &[u8]); 2] = [
        ("langsmith-trace", CALLER.as_bytes()),
        ("baggage", b"langsmith-project=elsewhere"),
    ];
    let runs = handle(&o, &sink, &headers);
    assert_eq!(&*runs[0].session_name, "default");
    assert_eq!(runs[0].parent_run_id.unwrap().to_string(), CALLER_ID);
}

#[test]
fn root_when_tracing_on_and_no_headers() {
    let sink = MemorySink::new();
    let o = opts(&sink, Some(true))
        .tag("srv")
        .metadata("service", "users");
    let runs = handle(&o, &sink, &[]);
    assert_eq!(runs.len(), 1);
    let r = &runs[0];
    assert_eq!(r.parent_run_id, None);
    assert_eq!(r.trace_id, r.id);
    assert_eq!(r.name, "GET /users/{id}");
    assert_eq!(r.tags, ["srv"]);
    assert_eq!(r.extra.metadata["service"], "users");
    assert_eq!(
        r.inputs.as_ref().unwrap().get(),
        r#"{"method":"GET","route":"/users/{id}"}"#
    );
}

#[test]
fn tracing_unset_traces_only_with_a_caller() {
    let sink = MemorySink::new();
    let o = opts(&sink, None);
    assert!(handle(&o, &sink, &[]).is_empty());
    let runs = handle(&o, &sink, &[("langsmith-trace", CALLER.as_bytes())]);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].parent_run_id.unwrap().to_string(), CALLER_ID);
}

#[test]
fn tracing_off_records_nothing_and_has_no_context() {
    let sink = MemorySink::new();
    let o = opts(&sink, Some(false));
    let headers: [(&str, &[u8]); 1] = [("langsmith-trace", CALLER.as_bytes())];
    let req = RequestInfo::new("GET", "/", &headers);
    let run = ServerRun::start(&o, &req);
    assert!(run.context().is_none());
    drop(run);
    assert!(sink.ops().is_empty());
}

#[test]
fn skipped_paths_and_predicates() {
    let sink = MemorySink::new();
    let o = opts(&sink, Some(true))
        .skip_paths(["/health"])
        .skip_if(|r| r.method == "OPTIONS");
    let h: [(&str, &[u8]); 1] = [("langsmith-trace", CALLER.as_bytes())];
    for (method, path) in [("GET", "/health"), ("OPTIONS", "/users")] {
        let run = ServerRun::start(&o, &RequestInfo::new(method, path, &h));
        assert!(run.context().is_none());
        assert!(run.is_ended());
    }
    // A route template can be skipped too.
    let o2 = o.clone().skip_paths(["/internal/{x}"]);
    let run = ServerRun::start(
        &o2,
        &RequestInfo::new("GET", "/internal/1", &h).route(Some("/internal/{x}")),
    );
    assert!(run.context().is_none());
    drop(run);
    assert!(sink.ops().is_empty());
}

#[test]
fn unsampled_caller_gives_an_unsampled_context() {
    let sink = MemorySink::new();
    let o = opts(&sink, Some(true));
    let h: [(&str, &[u8]); 1] = [("baggage", b"langsmith-sampled=0,vendor=v")];
    let req = RequestInfo::new("POST", "/chat", &h);
    let mut run = ServerRun::start(&o, &req);
    let ctx = run.context().unwrap().clone();
    assert!(!ctx.is_sampled());
    assert!(!run.is_recording());
    let out = ctx.to_headers();
    assert_eq!(out.trace, None);
    assert_eq!(out.baggage.as_deref(), Some("langsmith-sampled=0,vendor=v"));
    // A child started in the handler records nothing either.
    let child = crate::trace("inner").parent(&ctx).start();
    assert!(!child.is_recording());
    drop(child);
    run.finish(200);
    assert!(sink.ops().is_empty());
}

#[test]
fn sampling_rate_applies_to_new_traces_only() {
    let sink = MemorySink::new();
    let c = Client::builder()
        .config(Config::default())
        .tracing(Some(true))
        .sampling_rate(0.0)
        .sink(sink.clone())
        .build();
    let o = ServerOptions::new().client(c);
    let req_none: [(&str, &[u8]); 0] = [];
    let mut run = ServerRun::start(&o, &RequestInfo::new("GET", "/", &req_none));
    // Not sampled: a context for propagation, nothing recorded.
    assert!(!run.context().unwrap().is_sampled());
    run.finish(200);
    assert!(sink.ops().is_empty());
    // The caller's decision is followed.
    assert_eq!(
        handle(&o, &sink, &[("langsmith-trace", CALLER.as_bytes())]).len(),
        1
    );
}

#[test]
fn decision_hook_forces_or_refuses() {
    let sink = MemorySink::new();
    let c = Client::builder()
        .config(Config::default())
        .tracing(None)
        .sampling_rate(0.0)
        .sink(sink.clone())
        .build();
    let o = ServerOptions::new()
        .client(c)
        .decide(|r| match r.header_str("x-plan") {
            Some("paid") => Some(true),
            Some("zero") => Some(false),
            _ => None,
        });
    // Paid: traced although tracing is unset and the rate is 0.
    let runs = handle(&o, &sink, &[("x-plan", b"paid")]);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].parent_run_id, None);
    sink.clear();
    // Paid, caller unsampled: a new trace of its own.
    let runs = handle(
        &o,
        &sink,
        &[("x-plan", b"paid"), ("baggage", b"langsmith-sampled=0")],
    );
    assert_eq!(runs.len(), 1);
    sink.clear();
    // Paid with a caller: the caller's child.
    let runs = handle(
        &o,
        &sink,
        &[("x-plan", b"paid"), ("langsmith-trace", CALLER.as_bytes())],
    );
    assert_eq!(runs[0].parent_run_id.unwrap().to_string(), CALLER_ID);
    sink.clear();
    // Zero retention: nothing, even with a caller; downstream is told not to sample.
    let h: [(&str, &[u8]); 2] = [("x-plan", b"zero"), ("langsmith-trace", CALLER.as_bytes())];
    let mut run = ServerRun::start(&o, &RequestInfo::new("GET", "/", &h));
    let out = run.context().unwrap().to_headers();
    assert_eq!(out.trace, None);
    assert_eq!(out.baggage.as_deref(), Some("langsmith-sampled=0"));
    run.finish(200);
    assert!(sink.ops().is_empty());
    // Explicitly off beats the hook.
    let off = ServerOptions::new()
        .client(client(&sink, Some(false)))
        .decide(|_| Some(true));
    assert!(handle(&off, &sink, &[]).is_empty());
}

#[test]
fn hostile_headers_never_panic_and_fall_back_to_no_parent() {
    let sink = MemorySink::new();
    let o = opts(&sink, Some(true));
    let big = format!("langsmith-project=p,pad={}", "x".repeat(20_000));
    let cases: Vec<Vec<(&str, Vec<u8>)>> = vec![
        vec![("langsmith-trace", b"20260102T030405678901Znot-a-uuid".to_vec())],
        vec![("langsmith-trace", b"garbage.more.garbage".to_vec())],
        vec![("baggage", b"langsmith-metadata=%ZZ%7B,langsmith-tags=%E0%A4%A".to_vec())],
        vec![("baggage", big.into_bytes())],
        vec![("langsmith-trace", vec![0xff, 0xfe, 0x00]), ("baggage", vec![0xc3, 0x28])],
        vec![("langsmith-trace", "x".repeat(20_000).into_bytes())],
        vec![(
            "baggage",
            b"langsmith-replicas=%5B%5B%22p%22%2C%7B%22api_url%22%3A%22http%3A%2F%2Fevil%22%7D%5D%5D".to_vec(),
        )],
    ];
    for case in cases {
        sink.clear();
        let pairs: Vec<(&str, &[u8])> = case.iter().map(|(k, v)| (*k, &v[..])).collect();
        let runs = handle(&o, &sink, &pairs);
        assert_eq!(
            runs.len(),
            1,
            "still traced: {:?}",
            case.iter().map(|c| c.0).collect::<Vec<_>>()
        );
        assert_eq!(runs[0].parent_run_id, None, "no parent from a bad header");
    }
}

proptest! {
    #[test]
    fn arbitrary_header_bytes_never_panic(
        trace in proptest::collection::vec(any::<u8>(), 0..200),
        baggage in proptest::collection::vec(any::<u8>(), 0..300),
        text in "[ -~]{0,200}",
    ) {
        let sink = MemorySink::new();
        let o = opts(&sink, Some(true)).record(RecordOptions::default().header("baggage").user_agent(true));
        let h: [(&str, &[u8]); 4] = [
            ("langsmith-trace", &trace),
            ("baggage", &baggage),
            ("baggage", text.as_bytes()),
            ("user-agent", &baggage),
        ];
        let mut run = ServerRun::start(&o, &RequestInfo::new("GET", &text, &h));
        if let Some(ctx) = run.context() {
            let out = ctx.to_headers();
            let _ = merge_baggage(&text, out.baggage.as_deref().unwrap_or(""));
        }
        run.finish(200);
        prop_assert_eq!(sink.runs().len(), 1);
    }
}

#[test]
fn records_only_what_is_asked_and_never_secrets() {
    let sink = MemorySink::new();
    let o = opts(&sink, Some(true)).record(
        RecordOptions::default()
            .path(true)
            .query(true)
            .headers([
                "X-Request-Id",
                "authorization",
                "Cookie",
                "x-api-key",
                "x-multi",
            ])
            .client_ip(true)
            .user_agent(true),
    );
    let h: [(&str, &[u8]); 7] = [
        ("x-request-id", b"r-1"),
        ("authorization", b"Bearer secret"),
        ("cookie", b"s=secret"),
        ("x-api-key", b"secret"),
        ("x-multi", b"a"),
        ("X-Multi", &[0x62, 0xff]),
        ("user-agent", b"curl/8"),
    ];
    let req = RequestInfo::new("GET", "/users/42", &h)
        .route(Some("/users/{id}"))
        .query(Some("q=1"))
        .client_ip(Some([10, 0, 0, 1].into()));
    ServerRun::start(&o, &req).finish(404);
    let r = &sink.runs()[0];
    let inputs = r.inputs.as_ref().unwrap().get();
    assert!(!inputs.contains("secret"), "{inputs}");
    let v: serde_json::Value = serde_json::from_str(inputs).unwrap();
    assert_eq!(
        v,
        serde_json::json!({
            "method": "GET", "route": "/users/{id}", "path": "/users/42", "query": "q=1",
            "headers": {"x-request-id": "r-1", "x-multi": "a, b\u{fffd}"},
            "client_ip": "10.0.0.1", "user_agent": "curl/8",
        })
    );
    // 4xx is not an error.
    assert!(r.error.is_none());
    assert_eq!(r.outputs.as_ref().unwrap().get(), r#"{"status":404}"#);

    sink.clear();
    let o = opts(&sink, Some(true)).record(RecordOptions::nothing());
    ServerRun::start(&o, &req).finish(200);
    let r = &sink.runs()[0];
    assert_eq!(r.inputs.as_ref().unwrap().get(), "{}");
    assert!(r.outputs.is_none());
}

#[test]
fn names() {
    let sink = MemorySink::new();
    let o = opts(&sink, Some(true));
    let none: [(&str, &[u8]); 0] = [];
    ServerRun::start(
        &o,
        &RequestInfo::new(
            "GET",
            "/a/123/b/0193d5a2-0000-7000-8000-000000000001",
            &none,
        ),
    )
    .finish(200);
    assert_eq!(sink.runs()[0].name, "GET /a/{id}/b/{id}");
    sink.clear();
    let o = o.name_with(|r| format!("custom {}", r.method));
    ServerRun::start(&o, &RequestInfo::new("PUT", "/x", &none)).finish(200);
    assert_eq!(sink.runs()[0].name, "custom PUT");

    assert_eq!(path_template("/"), "/");
    assert_eq!(path_template("/users/me"), "/users/me");
    assert_eq!(path_template("/v1/deadbeefdeadbeef00/x"), "/v1/{id}/x");
    assert_eq!(path_template(""), "");
    assert_eq!(path_template("42"), "{id}");
    assert_eq!(path_template("/users/42/"), "/users/{id}/");
    assert_eq!(path_template("//7//a-b"), "//{id}//a-b");
    // Short hex is not an id (it could be a word such as `cafe`); digits are.
    assert_eq!(path_template("/cafe/0/beef"), "/cafe/{id}/beef");
    let long = format!("/{}", "é".repeat(300));
    assert!(path_template(&long).len() <= 200);
}

#[test]
fn endings_are_idempotent_and_first_wins() {
    let sink = MemorySink::new();
    let o = opts(&sink, Some(true));
    let none: [(&str, &[u8]); 0] = [];
    let req = RequestInfo::new("GET", "/", &none);

    let mut run = ServerRun::start(&o, &req);
    run.finish(500);
    run.cancelled();
    run.panicked("late");
    run.error("late");
    drop(run);
    let runs = sink.runs();
    assert_eq!(runs.len(), 1);
    assert_eq!(
        runs[0].error.as_deref(),
        Some("HTTP 500 Internal Server Error")
    );
    assert_eq!(sink.ops().len(), 1, "one submission only");

    for (end, want) in [
        (0, "panicked: boom"),
        (1, CANCELLED),
        (2, "stream broke"),
        (3, CANCELLED),
        (4, "HTTP 599"),
    ] {
        sink.clear();
        let mut run = ServerRun::start(&o, &req);
        match end {
            0 => run.panicked("boom"),
            1 => run.cancelled(),
            2 => run.error("stream broke"),
            3 => {}
            _ => run.finish(599),
        }
        drop(run);
        let runs = sink.runs();
        assert_eq!(runs.len(), 1);
        assert_eq!(runs[0].error.as_deref(), Some(want));
        assert!(runs[0].end_time.is_some());
    }
}

#[test]
fn drop_while_panicking_is_a_panic() {
    let sink = MemorySink::new();
    let o = opts(&sink, Some(true));
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let none: [(&str, &[u8]); 0] = [];
        let _run = ServerRun::start(&o, &RequestInfo::new("GET", "/", &none));
        panic!("in handler");
    }));
    assert!(r.is_err());
    assert_eq!(sink.runs()[0].error.as_deref(), Some("panicked"));
}

#[test]
fn first_byte_is_recorded_once_and_status_kept_on_cancel() {
    let sink = MemorySink::new();
    let o = opts(&sink, Some(true));
    let none: [(&str, &[u8]); 0] = [];
    let mut run = ServerRun::start(&o, &RequestInfo::new("GET", "/sse", &none));
    std::thread::sleep(std::time::Duration::from_millis(5));
    run.set_status(200);
    run.first_byte();
    run.first_byte();
    run.cancelled();
    assert_eq!(run.status(), Some(200));
    let r = &sink.runs()[0];
    assert!(r.extra.metadata["time_to_first_byte_ms"].as_f64().unwrap() >= 5.0);
    assert!(r.events.is_empty());
    assert_eq!(r.outputs.as_ref().unwrap().get(), r#"{"status":200}"#);
    assert_eq!(r.error.as_deref(), Some(CANCELLED));
}

#[test]
fn options_are_send_sync_and_cheap_to_clone() {
    fn assert_send_sync<T: Send + Sync + Clone>() {}
    assert_send_sync::<ServerOptions>();
    fn assert_send<T: Send>() {}
    assert_send::<ServerRun>();
}
