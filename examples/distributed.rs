//! The demo: one trace across a client, an axum service and an actix-web
//! service, collected locally and printed as a tree.
//!
//! ```text
//! cargo run --example distributed            # offline: in-process collector
//! cargo run --example distributed -- --serve # ...and keep the viewer running
//! ```
//!
//! With `LANGSMITH_API_KEY` set (and optionally `LANGSMITH_ENDPOINT`), the
//! runs go to that LangSmith instead.
//!
//! Path of each request:
//! `support_agent` (client) → `GET /answer` (axum) → `plan_answer` →
//! `retrieve_docs`, then `GET /llm` (actix) → `chat_model` (an LLM run with
//! `ls_*` metadata and token usage), then `GET /inventory/{item}` (actix) →
//! `inventory_lookup` (a tool run that fails for unknown items). The client
//! then leaves a feedback score on its root run.

use actix_web::{App, HttpResponse, HttpServer, web};
use axum::extract::{Query, State};
use axum::routing::get;
use langsmith::llm::{LlmParams, Usage};
use langsmith::*;
use langsmith_collector::{Collector, CollectorHandle, StoredRun};
use langsmith_reqwest::LangSmithMiddleware;
use langsmith_reqwest::reqwest_middleware::{ClientBuilder, ClientWithMiddleware, reqwest};
use std::collections::HashMap;
use std::net::TcpListener;
use std::process::ExitCode;
use std::time::Duration;

const PROJECT: &str = "langsmith-rs-demo";

// ---------------------------------------------------------------- actix tool server

async fn llm(query: web::Query<HashMap<String, String>>) -> HttpResponse {
    let prompt = query.get("prompt").cloned().unwrap_or_default();
    let params = LlmParams::new("openai", "gpt-4o-mini")
        .temperature(0.2)
        .max_tokens(256);
    let mut run = trace("chat_model")
        .run_type(RunType::Llm)
        .llm_params(&params)
        .inputs(&serde_json::json!({"messages": [{"role": "user", "content": prompt}]}))
        .start();
    // A stand-in for a model call.
    let answer = format!("Based on our docs: {}", prompt.to_lowercase());
    tokio::time::sleep(Duration::from_millis(15)).await;
    run.set_usage(&Usage::new(42, 17).cache_read(32));
    run.set_outputs(
        &serde_json::json!({"choices": [{"message": {"role": "assistant", "content": answer}}]}),
    );
    run.end();
    HttpResponse::Ok().body(answer)
}

async fn inventory(item: web::Path<String>) -> HttpResponse {
    let item = item.into_inner();
    let result: Result<u32, String> = traceable("inventory_lookup")
        .run_type(RunType::Tool)
        .inputs(&serde_json::json!({ "item": item }))
        .try_call(|| match item.as_str() {
            "socks" => Ok(12),
            other => Err(format!("item {other:?} is not in the catalogue")),
        });
    match result {
        Ok(n) => HttpResponse::Ok().json(serde_json::json!({ "in_stock": n })),
        Err(e) => HttpResponse::InternalServerError().body(e),
    }
}

fn start_actix(client: Client) -> std::io::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let port = listener.local_addr()?.port();
    let server = HttpServer::new(move || {
        App::new()
            .wrap(langsmith_actix::TracingMiddleware::with_options(
                server::ServerOptions::new()
                    .client(client.clone())
                    .skip_paths(["/health"]),
            ))
            .route("/llm", web::get().to(llm))
            .route("/inventory/{item}", web::get().to(inventory))
            .route("/health", web::get().to(|| async { "ok" }))
    })
    .workers(1)
    .disable_signals()
    .listen(listener)?
    .run();
    std::thread::spawn(move || actix_web::rt::System::new().block_on(server));
    Ok(port)
}

// ---------------------------------------------------------------- axum service

#[derive(Clone)]
struct Svc {
    http: ClientWithMiddleware,
    tools: String,
}

async fn answer(State(svc): State<Svc>, Query(q): Query<HashMap<String, String>>) -> String {
    let question = q.get("q").cloned().unwrap_or_default();
    let item = q.get("item").cloned().unwrap_or_else(|| "socks".into());
    traceable("plan_answer")
        .inputs(&serde_json::json!({ "question": question }))
        .call_async(async move {
            let docs = traceable("retrieve_docs")
                .run_type(RunType::Retriever)
                .inputs(&serde_json::json!({ "query": question }))
                .call(|| {
                    let docs = vec!["Socks ship in 2 days.", "Returns are free."];
                    // The retrieved documents, attached to this run as a file.
                    let markdown = docs.iter().map(|d| format!("- {d}\n")).collect::<String>();
                    if let (Some(run), Ok(file)) = (
                        current_run(),
                        Attachment::new("docs", "text/markdown", markdown),
                    ) {
                        run.add_attachment(file);
                    }
                    docs
                });
            let prompt = format!("{question} (context: {})", docs.join(" "));
            let url = format!("{}/llm?prompt={}", svc.tools, encode(&prompt));
            let reply = match svc.http.get(url).send().await {
                Ok(r) => r.text().await.unwrap_or_default(),
                Err(e) => format!("model unavailable: {e}"),
            };
            let stock = match svc
                .http
                .get(format!("{}/inventory/{item}", svc.tools))
                .send()
                .await
            {
                Ok(r) if r.status().is_success() => r.text().await.unwrap_or_default(),
                Ok(r) => format!("inventory error {}", r.status()),
                Err(e) => format!("inventory unavailable: {e}"),
            };
            format!("{reply} | stock: {stock}")
        })
        .await
}

async fn start_axum(client: Client, tools: String) -> std::io::Result<u16> {
    let http = ClientBuilder::new(reqwest::Client::new())
        .with(LangSmithMiddleware::new())
        .build();
    let app = axum::Router::new()
        .route("/answer", get(answer))
        .route("/health", get(|| async { "ok" }))
        .with_state(Svc { http, tools })
        .layer(langsmith_tower::LangSmithLayer::with_options(
            server::ServerOptions::new()
                .client(client)
                .skip_paths(["/health"]),
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("axum service stopped: {e}");
        }
    });
    Ok(port)
}

// ---------------------------------------------------------------- the client

/// Percent-encodes a query value (everything but unreserved characters).
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn ask(client: &Client, http: &ClientWithMiddleware, url: String) -> Option<Uuid> {
    let mut run = trace("support_agent")
        .client(client.clone())
        .inputs(&serde_json::json!({ "url": url }))
        .start();
    let reply = run
        .instrument(async {
            match http.get(&url).send().await {
                Ok(r) => r.text().await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            }
        })
        .await;
    match &reply {
        Ok(text) => run.set_outputs(&serde_json::json!({ "answer": text })),
        Err(e) => run.set_error(e),
    }
    let id = run.id();
    run.feedback("user_score", if reply.is_ok() { 1.0 } else { 0.0 });
    run.end();
    id
}

// ---------------------------------------------------------------- printing

fn micros(t: &str) -> i64 {
    Timestamp::parse_rfc3339(t).map_or(0, Timestamp::as_micros)
}

fn print_tree(runs: &[StoredRun]) {
    let mut children: HashMap<Option<Uuid>, Vec<&StoredRun>> = HashMap::new();
    for r in runs {
        children.entry(r.parent_run_id).or_default().push(r);
    }
    for list in children.values_mut() {
        list.sort_by(|a, b| a.dotted_order.cmp(&b.dotted_order));
    }
    fn walk(
        run: &StoredRun,
        prefix: &str,
        last: bool,
        children: &HashMap<Option<Uuid>, Vec<&StoredRun>>,
    ) {
        let ms = run
            .end_time
            .as_deref()
            .map(|e| (micros(e) - micros(&run.start_time)) as f64 / 1000.0);
        let dur = ms.map_or("running".to_string(), |ms| format!("{ms:.1} ms"));
        let err = run
            .error
            .as_deref()
            .map(|e| format!("  ERROR: {e}"))
            .unwrap_or_default();
        let files: String = run
            .attachments
            .iter()
            .map(|a| {
                let ty = a.content_type.as_deref().unwrap_or("?");
                format!("  attached: {} ({ty}, {} B)", a.name, a.size)
            })
            .collect();
        println!(
            "{prefix}{} {} [{}] {dur}{err}{files}",
            if last { "└─" } else { "├─" },
            run.name,
            run.run_type
        );
        let kids = children.get(&Some(run.id)).cloned().unwrap_or_default();
        let next = format!("{prefix}{}", if last { "   " } else { "│  " });
        for (i, k) in kids.iter().enumerate() {
            walk(k, &next, i + 1 == kids.len(), children);
        }
    }
    let roots = children.get(&None).cloned().unwrap_or_default();
    for (i, r) in roots.iter().enumerate() {
        walk(r, "", i + 1 == roots.len(), &children);
    }
}

fn show(collector: &CollectorHandle, trace_id: Uuid, expected: usize) {
    let mut runs = Vec::new();
    for _ in 0..100 {
        runs = collector.trace(trace_id);
        if runs.len() >= expected && runs.iter().all(|r| r.end_time.is_some()) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let project = runs.first().map_or(PROJECT, |r| r.session_name.as_str());
    println!(
        "\ntrace {trace_id} ({} runs, project {project})",
        runs.len()
    );
    print_tree(&runs);
    for fb in collector
        .feedback()
        .iter()
        .filter(|f| f.trace_id == Some(trace_id) || f.run_id == Some(trace_id))
    {
        println!("   feedback: {} = {}", fb.key, fb.score);
    }
}

// ---------------------------------------------------------------- main

fn main() -> ExitCode {
    let serve = std::env::args().any(|a| a == "--serve")
        || std::env::var("LANGSMITH_DEMO_SERVE").is_ok_and(|v| v == "1" || v == "true");
    let remote = std::env::var_os("LANGSMITH_API_KEY").is_some();
    let (collector, client) = if remote {
        let client = Client::builder().tracing(Some(true)).build();
        println!(
            "LANGSMITH_API_KEY is set: sending runs to {} (project {:?}).",
            client.config().endpoint,
            client.project()
        );
        (None, client)
    } else {
        let collector = match Collector::builder().start() {
            Ok(c) => c,
            Err(e) => {
                eprintln!("could not start the local collector: {e}");
                return ExitCode::FAILURE;
            }
        };
        println!(
            "No LANGSMITH_API_KEY: using the local collector at {}",
            collector.url()
        );
        let client = Client::builder()
            .config(Config::default())
            .endpoint(collector.url())
            .api_key("local")
            .project(PROJECT)
            .tracing(Some(true))
            .build();
        (Some(collector), client)
    };
    set_default_client(client.clone());

    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("could not start tokio: {e}");
            return ExitCode::FAILURE;
        }
    };
    let ports = start_actix(client.clone()).and_then(|actix| {
        let axum = rt.block_on(start_axum(
            client.clone(),
            format!("http://127.0.0.1:{actix}"),
        ))?;
        Ok((actix, axum))
    });
    let (actix_port, axum_port) = match ports {
        Ok(p) => p,
        Err(e) => {
            eprintln!("could not start the services: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("axum service on 127.0.0.1:{axum_port}, actix tool server on 127.0.0.1:{actix_port}");

    let http = ClientBuilder::new(reqwest::Client::new())
        .with(LangSmithMiddleware::new())
        .build();
    let mut traces = Vec::new();
    for (q, item) in [
        ("Where are my socks?", "socks"),
        ("Do you sell hats?", "hats"),
    ] {
        let url = format!(
            "http://127.0.0.1:{axum_port}/answer?q={}&item={item}",
            encode(q)
        );
        if let Some(id) = rt.block_on(ask(&client, &http, url)) {
            traces.push(id);
        }
    }
    if !client.flush_blocking(Duration::from_secs(30)) {
        eprintln!("warning: not every run was delivered within 30 s");
    }
    let stats = client.stats();
    println!(
        "delivered {} runs/feedback, dropped {}",
        stats.sent,
        stats.dropped()
    );

    match &collector {
        Some(c) => {
            for id in &traces {
                show(c, *id, 8);
            }
            println!("\nBrowse the traces at {}/", c.url());
            if serve {
                println!("--serve: the collector keeps running; press Ctrl-C to stop.");
                rt.block_on(async {
                    let _ = tokio::signal::ctrl_c().await;
                });
            }
        }
        None => {
            for id in &traces {
                println!(
                    "trace {id}: open it in LangSmith, project {:?}",
                    client.project()
                );
            }
        }
    }
    ExitCode::SUCCESS
}
