//! Issue 9, security: the API key never shows up in logs, `Debug`, errors
//! or panics; `x-api-key` only ever goes to the configured endpoints (never
//! to a URL from a header, replica baggage or a redirect); baggage size and
//! entry caps hold end to end; the collector's optional API key guards every
//! route; request bodies are bounded (413).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "support/fault_proxy.rs"]
mod fault_proxy;

use fault_proxy::{Action, FaultProxy, logs, request};
use langsmith_collector::{Collector, CollectorHandle};
use langsmith_core::{
    ApiKey, Client, Config, ExporterSettings, ReplicaEndpoint, RunTree, Uuid, current_run,
};
use langsmith_tower::{LangSmithLayer, ServerOptions};
use serde_json::json;
use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

/// The key of the service under test; must never be seen anywhere.
const KEY: &str = "lsv2_sk_SECURITY_never_log_me_5f3a9c";
const WAIT: Duration = Duration::from_secs(30);
const CALLER: &str = "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001";
const CALLER_ID: &str = "0193d5a2-0000-7000-8000-000000000001";

/// Everything, at every level, from every crate.
fn init_logs() {
    logs::capture("trace");
}

fn config(url: &str, key: &str) -> Config {
    let mut cfg = Config::default();
    cfg.endpoint = url.to_owned();
    cfg.api_key = Some(ApiKey::new(key));
    cfg.tracing = Some(true);
    cfg.exporter.batch_interval = Duration::from_millis(20);
    cfg.exporter.max_backoff = Duration::from_millis(200);
    cfg.exporter.shutdown_timeout = Duration::from_millis(300);
    cfg
}

fn client(url: &str, key: &str) -> Client {
    Client::builder().config(config(url, key)).build()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// An axum service with the layer. `/work` answers its run id and, on a
/// second line, the trace headers it would send downstream.
fn service(rt: &tokio::runtime::Runtime, client: Client) -> SocketAddr {
    let app = axum::Router::new()
        .route(
            "/work",
            axum::routing::get(|| async {
                let run = current_run().expect("a run");
                format!("{}\n{:?}", run.id(), run.to_headers())
            }),
        )
        .layer(LangSmithLayer::with_options(
            ServerOptions::new().client(client),
        ));
    let listener = rt
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .unwrap();
    let addr = listener.local_addr().unwrap();
    rt.spawn(async move { axum::serve(listener, app).await });
    addr
}

/// `GET /work` with raw headers: the run id and the downstream headers.
fn work(addr: SocketAddr, headers: &[(&str, &[u8])]) -> (Uuid, String) {
    let r = request(addr, "GET", "/work", headers, b"");
    assert_eq!(r.status, 200, "{}", r.text());
    let text = r.text();
    let (id, downstream) = text.split_once('\n').unwrap();
    (Uuid::parse_str(id).unwrap(), downstream.to_owned())
}

/// `%`-encodes everything but unreserved characters.
fn pct(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn all_answered(c: &CollectorHandle) -> bool {
    c.requests()
        .iter()
        .all(|r| r.status.is_some_and(|s| (200..300).contains(&s)))
}

// ---------------------------------------------------------------------------
// The key in logs, Debug, errors, panics

#[test]
fn api_key_is_never_in_debug_or_display() {
    let mut cfg = config("http://127.0.0.1:9", KEY);
    cfg.replicas = vec![ReplicaEndpoint {
        api_url: "http://127.0.0.1:10".into(),
        api_key: Some(ApiKey::new(format!("{KEY}-replica"))),
        project_name: Some("p".into()),
    }];
    let builder = Client::builder().config(cfg.clone()).api_key(KEY);
    let shown = [
        format!("{builder:?}"),
        format!("{builder:#?}"),
        format!("{cfg:?}"),
        format!("{cfg:#?}"),
        format!("{:?}", cfg.replicas),
        format!("{:?}", cfg.api_key),
        format!("{}", cfg.api_key.as_ref().unwrap()),
        format!("{:?}", ExporterSettings::default()),
    ];
    let client = builder.build();
    let shown_client = [format!("{client:?}"), format!("{client:#?}")];
    for s in shown.iter().chain(&shown_client) {
        assert!(!s.contains(KEY), "{s}");
        assert!(!s.contains("never_log_me"), "{s}");
    }
    // The configuration from the environment (both forms of
    // LANGSMITH_RUNS_ENDPOINTS, and a broken one) shows no key either.
    for endpoints in [
        format!(r#"{{"http://127.0.0.1:10":"{KEY}"}}"#),
        format!(r#"[{{"api_url":"http://127.0.0.1:10","api_key":"{KEY}"}}]"#),
        format!(r#"{{"http://127.0.0.1:10":"{KEY}""#),
    ] {
        let cfg = Config::from_lookup(|k| match k {
            "LANGSMITH_API_KEY" => Some(KEY.to_owned()),
            "LANGSMITH_RUNS_ENDPOINTS" => Some(endpoints.clone()),
            _ => None,
        });
        assert!(!format!("{cfg:?}").contains(KEY));
    }
}

#[test]
fn api_key_is_never_logged_when_export_fails_or_headers_are_hostile() {
    init_logs();
    let rt = runtime();
    // 1. Refused for good: the collector wants another key (401).
    let strict = Collector::builder()
        .api_key(Some("the-right-key"))
        .start()
        .unwrap();
    let c401 = client(&strict.url(), KEY);
    // 2. An endpoint that is down (transport errors are logged).
    let down = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let a = l.local_addr().unwrap();
        drop(l);
        format!("http://{a}")
    };
    let cdown = client(&down, KEY);
    // 3. A run over the server's limit (413, logged with its id).
    let small = Collector::builder()
        .zstd(false)
        .body_limit(64 << 10)
        .start()
        .unwrap();
    let c413 = client(&small.url(), KEY);
    // 4. A key that is not a valid header value (logged as an error).
    let bad_key = format!("{KEY}\r\nx-evil: 1");
    let plain = Collector::builder().start().unwrap();
    let cbad = client(&plain.url(), &bad_key);
    for c in [&c401, &cdown, &c413, &cbad] {
        let run = RunTree::new("r")
            .client(c.clone())
            .inputs(&json!({"blob": "z".repeat(100 << 10)}))
            .start();
        run.end();
    }
    assert!(c401.flush_blocking(WAIT));
    assert!(c413.flush_blocking(WAIT));
    assert!(cbad.flush_blocking(WAIT));
    assert!(!cdown.flush_blocking(Duration::from_millis(700)));
    assert_eq!(c401.stats().dropped_rejected, 1);
    assert_eq!(c413.stats().dropped_too_large, 1);
    assert!(cdown.stats().failed_requests >= 1);
    // The invalid key was not sent at all (the collector takes any key):
    // the run went without it, and no header was injected.
    assert_eq!(cbad.stats().sent, 1);
    let sent = plain.requests();
    assert!(sent.iter().all(|r| r.header("x-api-key").is_none()));
    assert!(sent.iter().all(|r| r.header("x-evil").is_none()));
    // 5. Hostile headers on a traced service holding the key.
    let addr = service(&rt, client(&plain.url(), KEY));
    let hostile: Vec<Vec<(&str, Vec<u8>)>> = vec![
        vec![("langsmith-trace", b"garbage".to_vec())],
        vec![("langsmith-trace", vec![0xff, 0xfe])],
        vec![("baggage", b"langsmith-metadata=%7B%ZZ".to_vec())],
        vec![("baggage", format!("k={}", "x".repeat(20_000)).into_bytes())],
        vec![("x-api-key", b"attacker".to_vec())],
        vec![(
            "baggage",
            format!(
                "langsmith-replicas={}",
                pct(r#"[{"api_url":"http://127.0.0.1:1","api_key":"a","project_name":"p"}]"#)
            )
            .into_bytes(),
        )],
    ];
    for h in &hostile {
        let h: Vec<(&str, &[u8])> = h.iter().map(|(k, v)| (*k, v.as_slice())).collect();
        work(addr, &h);
    }
    let log = logs::all();
    // The failures were logged (so the capture works) ...
    assert!(log.contains("LangSmith refused runs"), "401 logged");
    assert!(log.contains("larger than the server accepts"), "413 logged");
    assert!(
        log.contains("not allowed in an HTTP header"),
        "bad key logged"
    );
    assert!(
        log.contains("ignoring a bad trace header"),
        "hostile header logged"
    );
    // ... and never with the key, whole or in part.
    assert!(!log.contains(KEY));
    assert!(!log.contains("never_log_me"));
    drop((c401, cdown, c413, cbad));
    rt.shutdown_timeout(Duration::from_secs(1));
}

#[test]
fn a_panicking_traced_call_does_not_reveal_the_key() {
    let c = Collector::builder().start().unwrap();
    let client = client(&c.url(), KEY);
    let hook = std::panic::take_hook();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let s = seen.clone();
    std::panic::set_hook(Box::new(move |info| {
        s.lock().unwrap().push_str(&info.to_string());
    }));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        langsmith_core::traceable("boom")
            .client(client.clone())
            .call(|| -> u32 { panic!("handler failed") })
    }));
    std::panic::set_hook(hook);
    assert!(result.is_err(), "the panic goes on to the caller");
    assert!(client.flush_blocking(WAIT));
    let runs = c.wait_for_runs(1, WAIT);
    assert_eq!(runs.len(), 1);
    let error = runs[0].error.clone().unwrap_or_default();
    assert!(error.contains("handler failed"), "{error}");
    assert!(!error.contains(KEY));
    assert!(!seen.lock().unwrap().contains(KEY));
}

// ---------------------------------------------------------------------------
// Where the key goes

/// Baggage naming another endpoint (in every form `langsmith-replicas`
/// can take) never makes the service send anything there: the second
/// collector receives nothing, and the first, which only accepts the
/// service's own key, never refused a request (it never saw another key).
#[test]
fn replica_baggage_never_steers_runs_or_the_key_elsewhere() {
    init_logs();
    let rt = runtime();
    let ours = Collector::builder().api_key(Some(KEY)).start().unwrap();
    let other = Collector::builder().start().unwrap();
    let client = client(&ours.url(), KEY);
    let addr = service(&rt, client.clone());
    let o = other.url();
    let forms = [
        format!(r#"[{{"api_url":"{o}","api_key":"attacker","project_name":"stolen"}}]"#),
        format!(r#"[["stolen",{{"api_url":"{o}","api_key":"attacker","reroot":true}}]]"#),
        format!(r#"[{{"apiUrl":"{o}","apiKey":"attacker","projectName":"stolen"}}]"#),
        format!(r#"{{"{o}":"attacker"}}"#),
        format!(r#"[["stolen",{{"auth":{{"x-api-key":"attacker"}},"api_url":"{o}"}}]]"#),
    ];
    let mut ids = Vec::new();
    for form in &forms {
        let baggage = format!("langsmith-replicas={},langsmith-project=p", pct(form));
        let (id, downstream) = work(
            addr,
            &[
                ("langsmith-trace", CALLER.as_bytes()),
                ("baggage", baggage.as_bytes()),
            ],
        );
        // Nothing of it is passed on downstream either.
        // (Percent-encoding keeps the dots: the host would show as is.)
        assert!(!downstream.contains("127.0.0.1"), "{downstream}");
        assert!(!downstream.contains("attacker"), "{downstream}");
        ids.push(id);
    }
    assert!(client.flush_blocking(WAIT));
    assert_eq!(client.stats().sent, forms.len() as u64);
    for id in &ids {
        let run = ours.run(*id).expect("stored where configured");
        assert_eq!(run.parent_run_id, Some(Uuid::parse_str(CALLER_ID).unwrap()));
    }
    assert!(other.requests().is_empty(), "{:?}", other.requests());
    assert!(!ours.requests().is_empty());
    assert!(all_answered(&ours), "{:?}", ours.requests());
    rt.shutdown_timeout(Duration::from_secs(1));
}

/// Outgoing calls (reqwest middleware, tower propagation) carry the trace
/// headers and nothing else of ours: the downstream service, recorded by a
/// collector standing in for it, never sees an `x-api-key`, nor the key in
/// the baggage.
#[test]
fn outgoing_calls_carry_the_trace_but_never_the_key() {
    let rt = runtime();
    let ours = Collector::builder().start().unwrap();
    let downstream = Collector::builder().start().unwrap();
    let client = client(&ours.url(), KEY);
    let http = langsmith_reqwest::reqwest_middleware::ClientBuilder::new(
        langsmith_reqwest::reqwest_middleware::reqwest::Client::new(),
    )
    .with(langsmith_reqwest::LangSmithMiddleware::new())
    .build();
    let url = format!("{}/health", downstream.url());
    let run = RunTree::new("caller")
        .client(client.clone())
        .metadata("m", "v")
        .tag("t")
        .start();
    let status = rt
        .block_on(run.instrument(async { http.get(&url).send().await.unwrap().status().as_u16() }));
    assert_eq!(status, 200);
    // Through the tower propagation layer too.
    let mut headers = axum::http::HeaderMap::new();
    langsmith_tower::inject_headers(&mut headers, run.context().unwrap());
    run.end();
    assert!(client.flush_blocking(WAIT));
    let seen = downstream.requests();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert!(r.header("langsmith-trace").is_some(), "{r:?}");
    assert!(
        r.header("baggage")
            .is_some_and(|b| b.contains("langsmith-metadata"))
    );
    assert!(r.header("x-api-key").is_none(), "{r:?}");
    assert!(r.header("authorization").is_none(), "{r:?}");
    assert!(!format!("{r:?}").contains(KEY));
    assert!(headers.contains_key("langsmith-trace"));
    assert!(!headers.contains_key("x-api-key"));
    assert!(!format!("{headers:?}").contains(KEY));
}

/// A redirect to another host is not followed: the key stays with the
/// endpoint it belongs to, and the runs are dropped and counted.
#[test]
fn redirects_are_never_followed() {
    init_logs();
    let ours = Collector::builder().start().unwrap();
    let other = Collector::builder().start().unwrap();
    let proxy = FaultProxy::start(ours.addr());
    let client = client(&proxy.url(), KEY);
    for code in [301u16, 302, 307, 308] {
        let location = format!("{}/runs/multipart", other.url());
        proxy.fail_next(
            1,
            Action::Answer(format!(
                "HTTP/1.1 {code} Moved\r\nlocation: {location}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            )),
        );
        let run = RunTree::new("r").client(client.clone()).start();
        run.end();
        assert!(client.flush_blocking(WAIT));
    }
    let s = client.stats();
    assert_eq!((s.sent, s.dropped_rejected, s.retried), (0, 4, 0), "{s:?}");
    assert!(other.requests().is_empty());
    assert!(ours.runs().is_empty());
}

/// `LANGSMITH_RUNS_ENDPOINTS`: each replica gets every run with its own
/// key (each collector accepts only its own, and none refused anything);
/// the default endpoint is not written to, as in the Python SDK.
#[test]
fn each_replica_endpoint_receives_only_its_own_key() {
    init_logs();
    let a = Collector::builder().api_key(Some("key-a")).start().unwrap();
    let b = Collector::builder().api_key(Some("key-b")).start().unwrap();
    let default = Collector::builder().start().unwrap();
    for form in [
        format!(r#"{{"{}":"key-a","{}":"key-b"}}"#, a.url(), b.url()),
        format!(
            r#"[{{"api_url":"{}","api_key":"key-a"}},{{"api_url":"{}","api_key":"key-b","project_name":"replica-b"}}]"#,
            a.url(),
            b.url()
        ),
    ] {
        let mut cfg = Config::from_lookup(|k| match k {
            "LANGSMITH_ENDPOINT" => Some(default.url()),
            "LANGSMITH_API_KEY" => Some(KEY.to_owned()),
            "LANGSMITH_RUNS_ENDPOINTS" => Some(form.clone()),
            "LANGSMITH_TRACING" => Some("true".to_owned()),
            _ => None,
        });
        cfg.exporter.batch_interval = Duration::from_millis(20);
        let client = Client::builder().config(cfg).build();
        for _ in 0..3 {
            RunTree::new("r").client(client.clone()).start().end();
        }
        assert!(client.flush_blocking(WAIT));
        let s = client.stats();
        assert_eq!((s.sent, s.dropped()), (6, 0), "{s:?}");
    }
    // 3 runs per form, 2 forms; replica-b gets remapped ids in its own project.
    assert_eq!(a.wait_for_runs(6, WAIT).len(), 6);
    assert_eq!(b.wait_for_runs(6, WAIT).len(), 6);
    assert!(all_answered(&a), "{:?}", a.requests());
    assert!(all_answered(&b), "{:?}", b.requests());
    assert!(default.requests().is_empty());
}

// ---------------------------------------------------------------------------
// Baggage caps, end to end

#[test]
fn oversized_or_overlong_baggage_is_dropped_but_the_trace_is_kept() {
    init_logs();
    let rt = runtime();
    let c = Collector::builder().start().unwrap();
    let client = client(&c.url(), KEY);
    let addr = service(&rt, client.clone());
    let md = |marker: &str| {
        format!(
            "langsmith-metadata={}",
            pct(&format!(r#"{{"marker":"{marker}"}}"#))
        )
    };
    let cases: Vec<(&str, Vec<String>, bool)> = vec![
        (
            "control: small baggage is used",
            vec![md("MARK_SMALL")],
            true,
        ),
        (
            "20 KB baggage",
            vec![format!("{},pad={}", md("MARK_20KB"), "x".repeat(20_000))],
            false,
        ),
        (
            "two headers over 8 KB together",
            vec![
                format!("{},pad1={}", md("MARK_SPLIT"), "x".repeat(4_500)),
                format!("pad2={}", "y".repeat(4_500)),
            ],
            false,
        ),
        (
            "our entry after the 180th",
            vec![format!(
                "{},{}",
                (0..189)
                    .map(|i| format!("k{i}=v"))
                    .collect::<Vec<_>>()
                    .join(","),
                md("MARK_LATE")
            )],
            false,
        ),
        (
            "our entry among the first 180",
            vec![format!(
                "{},{}",
                md("MARK_EARLY"),
                (0..199)
                    .map(|i| format!("k{i}=v"))
                    .collect::<Vec<_>>()
                    .join(",")
            )],
            true,
        ),
    ];
    let mut ids = Vec::new();
    for (_, baggage, _) in &cases {
        let mut h: Vec<(&str, &[u8])> = vec![("langsmith-trace", CALLER.as_bytes())];
        h.extend(baggage.iter().map(|b| ("baggage", b.as_bytes())));
        ids.push(work(addr, &h).0);
    }
    assert!(client.flush_blocking(WAIT));
    let caller = Uuid::parse_str(CALLER_ID).unwrap();
    for ((name, _, kept), id) in cases.iter().zip(&ids) {
        let run = c.run(*id).unwrap_or_else(|| panic!("{name}: stored"));
        assert_eq!(run.parent_run_id, Some(caller), "{name}: trace kept");
        assert_eq!(run.trace_id, caller, "{name}");
        let extra = run.extra.to_string();
        assert_eq!(extra.contains("MARK_"), *kept, "{name}: {extra}");
        assert!(
            !extra.contains("pad"),
            "{name}: foreign entries are not metadata"
        );
    }
    rt.shutdown_timeout(Duration::from_secs(1));
}

// ---------------------------------------------------------------------------
// The collector: its API key on every route, body limits

/// `(method, path template)` of every route of the collector's API.
fn api_routes() -> Vec<(&'static str, &'static str)> {
    vec![
        ("GET", "/info"),
        ("POST", "/runs/multipart"),
        ("POST", "/runs/batch"),
        ("POST", "/runs"),
        ("GET", "/runs/{id}"),
        ("PATCH", "/runs/{id}"),
        ("POST", "/runs/query"),
        ("POST", "/feedback"),
        ("GET", "/feedback"),
        ("GET", "/feedback/{id}"),
        ("GET", "/sessions"),
        ("POST", "/sessions"),
        ("GET", "/sessions/{id}"),
        // Also open to the token of the URLs the runs carry (checked below).
        ("GET", "/attachments/{run_id}/{name}"),
    ]
}

/// The path literals given to `route(..)` in the collector's sources.
fn routes_in_source() -> BTreeSet<String> {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("langsmith-collector/src");
    let mut out = BTreeSet::new();
    for file in ["server.rs", "viewer/mod.rs"] {
        let src = std::fs::read_to_string(dir.join(file)).unwrap();
        for marker in ["p(\"", ".route(\"", "path: \""] {
            let mut rest = src.as_str();
            while let Some(i) = rest.find(marker) {
                rest = &rest[i + marker.len()..];
                let end = rest.find('"').unwrap();
                out.insert(rest[..end].to_owned());
            }
        }
    }
    out
}

#[test]
fn collector_api_key_guards_every_route() {
    const SECRET: &str = "collector-secret";
    // Public: the viewer's page and files, and the health check.
    let public = [
        "/",
        "/health",
        "/viewer/app.js",
        "/viewer/app.css",
        "/viewer/icon.svg",
    ];
    let viewer_api = [("GET", "/api/traces"), ("GET", "/api/traces/{trace_id}")];
    // The list below is every route there is: a new route fails this
    // test until it is added (and so checked).
    let mut listed: BTreeSet<String> = api_routes().iter().map(|(_, p)| p.to_string()).collect();
    listed.extend(viewer_api.iter().map(|(_, p)| p.to_string()));
    listed.extend(public.iter().map(|p| p.to_string()));
    assert_eq!(
        routes_in_source(),
        listed,
        "routes in langsmith-collector/src"
    );

    let c = Collector::builder().api_key(Some(SECRET)).start().unwrap();
    let id = "0193d5a2-0000-7000-8000-000000000001";
    let mut protected: Vec<(&str, String)> = Vec::new();
    for (m, p) in api_routes() {
        let p = p
            .replace("{id}", id)
            .replace("{run_id}", id)
            .replace("{name}", "chart");
        protected.push((m, p.clone()));
        protected.push((m, format!("/api/v1{p}")));
    }
    for (m, p) in viewer_api {
        protected.push((m, p.replace("{trace_id}", id)));
    }
    // An attachment with a token that is not the collector's.
    protected.push((
        "GET",
        format!("/attachments/{id}/chart?token=00000000000000000000000000000000"),
    ));
    protected.push(("GET", format!("/attachments/{id}/chart?token=")));
    // Paths that only look like public ones, and unknown routes.
    for p in [
        "/health/",
        "/health/../info",
        "//info",
        "/%69nfo",
        "/./info",
        "/viewer/../info",
        "/viewer/app.js/../../info",
        "/HEALTH",
        "/nope",
        "/api/v1",
        "/api/v1/",
    ] {
        protected.push(("GET", p.to_owned()));
    }
    let body = br#"{"id":"0193d5a2-0000-7000-8000-000000000001","name":"r","run_type":"chain","start_time":"2026-01-02T03:04:05Z","trace_id":"0193d5a2-0000-7000-8000-000000000001","dotted_order":"20260102T030405000000Z0193d5a2-0000-7000-8000-000000000001"}"#;
    let json_ct: (&str, &[u8]) = ("content-type", b"application/json");
    for (m, p) in &protected {
        let wrong: [Option<&[u8]>; 5] = [
            None,
            Some(b""),
            Some(b"wrong"),
            Some(b"collector-secreT"),
            Some(b"collector-secret2"),
        ];
        for key in wrong {
            let mut h = vec![json_ct];
            if let Some(k) = key {
                h.push(("x-api-key", k));
            }
            let r = request(c.addr(), m, p, &h, body);
            assert_eq!(r.status, 401, "{m} {p} with {key:?}: {}", r.text());
        }
        // With the key the route answers (whatever it has to say).
        let r = request(
            c.addr(),
            m,
            p,
            &[json_ct, ("X-Api-Key", SECRET.as_bytes())],
            body,
        );
        assert_ne!(r.status, 401, "{m} {p} with the key");
    }
    assert!(
        c.run(Uuid::parse_str(id).unwrap()).is_some(),
        "stored with the key"
    );
    for p in public {
        assert_eq!(request(c.addr(), "GET", p, &[], b"").status, 200, "{p}");
    }
    // The key is never recorded.
    assert!(
        c.requests()
            .iter()
            .all(|r| r.header("x-api-key").is_none_or(|v| v == "<redacted>"))
    );
}

/// A zstd frame of RLE blocks: `blocks` × 128 KiB of `b'a'` in 4 bytes each.
fn zstd_bomb(blocks: usize) -> Vec<u8> {
    let mut f = vec![0x28, 0xB5, 0x2F, 0xFD]; // magic
    f.push(0x00); // frame header: no content size, not single-segment
    f.push(0x38); // window: 2^17
    for i in 0..blocks {
        let last = u32::from(i + 1 == blocks);
        let header = (128u32 << 10 << 3) | (1 << 1) | last; // RLE block
        f.extend_from_slice(&header.to_le_bytes()[..3]);
        f.push(b'a');
    }
    f
}

#[test]
fn collector_bounds_request_bodies() {
    let c = Collector::builder().body_limit(64 << 10).start().unwrap();
    let mp: (&str, &[u8]) = ("content-type", b"multipart/form-data; boundary=b");
    // Over the limit, declared.
    let r = request(
        c.addr(),
        "POST",
        "/runs/multipart",
        &[mp],
        &vec![b'x'; 100 << 10],
    );
    assert_eq!(r.status, 413, "{}", r.text());
    // Declared far over the limit: refused without reading it.
    let r = request(
        c.addr(),
        "POST",
        "/runs/batch",
        &[
            ("content-type", b"application/json"),
            ("content-length", b"9000000000"),
        ],
        b"",
    );
    assert_eq!(r.status, 413, "{}", r.text());
    // Chunked, no length: counted as it comes.
    let mut chunked = Vec::new();
    for _ in 0..20 {
        chunked.extend_from_slice(format!("{:x}\r\n", 8192).as_bytes());
        chunked.extend_from_slice(&[b'x'; 8192]);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\n\r\n");
    let r = request(
        c.addr(),
        "POST",
        "/runs/multipart",
        &[mp, ("transfer-encoding", b"chunked")],
        &chunked,
    );
    assert_eq!(r.status, 413, "{}", r.text());
    // A small body that decompresses to 10 MiB (over 4 × the limit).
    let bomb = zstd_bomb(80);
    assert!(bomb.len() < 400);
    for path in ["/runs/multipart", "/runs/batch"] {
        let ct: &[u8] = if path == "/runs/batch" {
            b"application/json"
        } else {
            b"multipart/form-data; boundary=b"
        };
        let r = request(
            c.addr(),
            "POST",
            path,
            &[("content-type", ct), ("content-encoding", b"zstd")],
            &bomb,
        );
        assert_eq!(r.status, 413, "{path}: {}", r.text());
        assert!(r.text().contains("decompressed"), "{}", r.text());
    }
    // Under the limit, the same frame is accepted as a body (and then
    // judged on its content: not multipart).
    let r = request(
        c.addr(),
        "POST",
        "/runs/multipart",
        &[mp, ("content-encoding", b"zstd")],
        &zstd_bomb(1),
    );
    assert_ne!(r.status, 413, "{}", r.text());
    assert!(c.runs().is_empty());
}
