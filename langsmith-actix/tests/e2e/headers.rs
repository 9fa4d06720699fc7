//! Continuing the caller's trace; names; skip rules; hostile headers;
//! the extractor; propagation through the reqwest middleware.

use crate::support::*;
use langsmith_core::*;
use reqwest_middleware::reqwest;
use serde_json::Value;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn caller_trace_and_baggage_make_the_run_the_callers_child() {
    let srv = start();
    let baggage = "langsmith-metadata=%7B%22tenant%22%3A%22acme%22%7D,langsmith-tags=a%2Cb,langsmith-project=shop,vendor=x";
    let resp = reqwest::Client::new()
        .get(format!("{}/users/42", srv.base))
        .header("langsmith-trace", CALLER)
        .header("baggage", baggage)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body: Value = serde_json::from_str(&resp.text().await.unwrap()).unwrap();
    let runs = wait_runs(&srv.sink, 1).await;
    assert_eq!(runs.len(), 1);
    let r = &runs[0];
    assert_eq!(r.name, "GET /users/{id}");
    assert_eq!(r.run_type, RunType::Chain);
    assert_eq!(r.parent_run_id.unwrap().to_string(), CALLER_ID);
    assert_eq!(r.trace_id.to_string(), CALLER_ID);
    assert!(r.dotted_order.starts_with(&format!("{CALLER}.")));
    assert_eq!(DottedOrder::parse(&r.dotted_order).unwrap().run_id(), r.id);
    assert_eq!(&*r.session_name, "shop");
    assert_eq!(r.tags, ["a", "b"]);
    assert_eq!(r.extra.metadata["tenant"], "acme");
    assert_eq!(r.extra.metadata["user_id"], 42, "added by the handler");
    assert_eq!(
        r.inputs.as_ref().unwrap().get(),
        r#"{"method":"GET","route":"/users/{id}"}"#
    );
    assert_eq!(r.outputs.as_ref().unwrap().get(), r#"{"status":200}"#);
    assert!(r.error.is_none());
    // The extractor and the ambient context both name the request's run.
    assert_eq!(body["extracted"], r.id.to_string());
    assert_eq!(body["ambient"], r.id.to_string());
    assert_eq!(body["parent"], CALLER_ID);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_is_skipped_and_unmatched_paths_are_named_by_template() {
    let srv = start();
    let http = reqwest::Client::new();
    for path in ["/health", "/health", "/fixed", "/no/such/123"] {
        http.get(format!("{}{path}", srv.base))
            .send()
            .await
            .unwrap();
    }
    let runs = wait_runs(&srv.sink, 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let runs_after = srv.sink.runs();
    assert_eq!(runs_after.len(), 2, "{runs_after:#?}");
    by_name(&runs, "GET /fixed");
    // No route matched: the raw path with ids replaced; 404 is not an error.
    let nf = by_name(&runs, "GET /no/such/{id}");
    assert_eq!(nf.outputs.as_ref().unwrap().get(), r#"{"status":404}"#);
    assert!(nf.error.is_none());
    // Roots: no caller.
    assert!(runs.iter().all(|r| r.parent_run_id.is_none()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_headers_never_change_the_response() {
    let srv = start();
    let http = reqwest::Client::new();
    let url = format!("{}/fixed", srv.base);
    let baseline = http.get(&url).send().await.unwrap();
    let (status, body) = (baseline.status(), baseline.bytes().await.unwrap());
    let big = format!("langsmith-project=p,pad={}", "x".repeat(20 * 1024));
    let replicas = "langsmith-replicas=%5B%5B%22p%22%2C%7B%22api_url%22%3A%22http%3A%2F%2Fevil.example%22%2C%22api_key%22%3A%22k%22%7D%5D%5D";
    let cases: Vec<Vec<(&str, Vec<u8>)>> = vec![
        vec![(
            "langsmith-trace",
            b"20260102T030405678901Znot-a-uuid".to_vec(),
        )],
        vec![("langsmith-trace", b"garbage.more.garbage".to_vec())],
        vec![("langsmith-trace", format!("{CALLER}.").into_bytes())],
        vec![(
            "langsmith-trace",
            CALLER.replace("0102T", "1302T").into_bytes(),
        )],
        vec![(
            "baggage",
            b"langsmith-metadata=%ZZ%7B,langsmith-tags=%E0%A4%A,langsmith-project=%".to_vec(),
        )],
        vec![("baggage", big.into_bytes())],
        vec![
            ("langsmith-trace", vec![b'a', 0xff, 0xfe]),
            ("baggage", vec![b'k', b'=', 0xc3, 0x28]),
        ],
        vec![("baggage", replicas.as_bytes().to_vec())],
        vec![("langsmith-trace", "9".repeat(9000).into_bytes())],
    ];
    let n = cases.len();
    for case in cases {
        let mut rb = http.get(&url);
        for (k, v) in case {
            rb = rb.header(k, reqwest::header::HeaderValue::from_bytes(&v).unwrap());
        }
        let resp = rb.send().await.unwrap();
        assert_eq!(resp.status(), status);
        assert_eq!(resp.bytes().await.unwrap(), body);
    }
    let runs = wait_runs(&srv.sink, n + 1).await;
    assert_eq!(runs.len(), n + 1);
    for r in &runs {
        assert_eq!(r.name, "GET /fixed");
        assert!(r.error.is_none());
        // No replica endpoint or credential is ever taken from a header.
        let rec = format!("{r:?}");
        assert!(!rec.contains("evil.example"), "{rec}");
    }
    // Every bad trace header is handled as if no parent had been sent.
    assert!(runs.iter().all(|r| r.parent_run_id.is_none()), "{runs:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_handler_calling_out_propagates_a_child_of_its_run() {
    let srv = start();
    let body: Value = reqwest::Client::new()
        .get(format!("{}/call-out", srv.base))
        .header("langsmith-trace", CALLER)
        .header("baggage", "langsmith-project=shop,vendor=x")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str::<Value>(&t).unwrap())
        .unwrap();
    let runs = wait_runs(&srv.sink, 3).await;
    let server = by_name(&runs, "GET /call-out");
    let host = srv.base.trim_start_matches("http://");
    let call = by_name(&runs, &format!("GET {host}/echo"));
    let echo = by_name(&runs, "GET /echo");
    assert_eq!(server.parent_run_id.unwrap().to_string(), CALLER_ID);
    assert_eq!(body["server_run"], server.id.to_string());
    assert_eq!(call.parent_run_id, Some(server.id));
    assert_eq!(call.run_type, RunType::Tool);
    // What went on the wire is the outgoing call's run, and the baggage.
    assert_eq!(body["trace"][0], call.dotted_order.as_str());
    assert_eq!(body["baggage"][0], "langsmith-project=shop,vendor=x");
    assert_eq!(echo.parent_run_id, Some(call.id));
    for r in [server, call, echo] {
        assert_eq!(r.trace_id.to_string(), CALLER_ID);
        assert_eq!(&*r.session_name, "shop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn untraced_requests_have_no_run_and_send_nothing() {
    // Tracing unset and no caller: not traced.
    let srv = start_with(|o| {
        o.client(
            Client::builder()
                .sink(MemorySink::new())
                .tracing(None)
                .build(),
        )
    });
    let body: Value = reqwest::Client::new()
        .get(format!("{}/call-out", srv.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str::<Value>(&t).unwrap())
        .unwrap();
    assert_eq!(body["server_run"], Value::Null);
    assert_eq!(body["trace"], serde_json::json!([]));
    assert_eq!(body["baggage"], serde_json::json!([]));
    let body: Value = reqwest::Client::new()
        .get(format!("{}/users/1", srv.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str::<Value>(&t).unwrap())
        .unwrap();
    assert_eq!(body["extracted"], Value::Null);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsampled_caller_records_nothing_and_passes_sampled_zero_on() {
    let srv = start();
    let body: Value = reqwest::Client::new()
        .get(format!("{}/call-out", srv.base))
        .header("baggage", "langsmith-sampled=0")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str::<Value>(&t).unwrap())
        .unwrap();
    assert_eq!(body["trace"], serde_json::json!([]));
    assert_eq!(body["baggage"], serde_json::json!(["langsmith-sampled=0"]));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(srv.sink.runs().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tracing_off_records_nothing_even_with_a_caller() {
    let sink = MemorySink::new();
    let off = Client::builder()
        .sink(sink.clone())
        .tracing(Some(false))
        .build();
    let srv = start_with(move |o| o.client(off));
    let body: Value = reqwest::Client::new()
        .get(format!("{}/call-out", srv.base))
        .header("langsmith-trace", CALLER)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .map(|t| serde_json::from_str::<Value>(&t).unwrap())
        .unwrap();
    assert_eq!(body["server_run"], Value::Null);
    assert_eq!(body["trace"], serde_json::json!([]));
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    assert!(sink.runs().is_empty());
}
