//! client (reqwest) → axum → (reqwest) → actix → (reqwest) → axum: one
//! trace, every run parented correctly, baggage carried end to end, all
//! delivered by the real exporter to the collector.
#![cfg(all(feature = "reqwest", feature = "axum", feature = "actix"))]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use actix_web::{App, HttpResponse, HttpServer, web};
use langsmith::reqwest::LangSmithMiddleware;
use langsmith::reqwest::reqwest_middleware::{ClientBuilder, ClientWithMiddleware, reqwest};
use langsmith::server::ServerOptions;
use langsmith::*;
use langsmith_collector::Collector;
use std::net::TcpListener;
use std::time::Duration;

fn http() -> ClientWithMiddleware {
    ClientBuilder::new(reqwest::Client::new())
        .with(LangSmithMiddleware::new())
        .build()
}

async fn axum_service(client: Client, name: &'static str, next: Option<String>) -> u16 {
    let app = axum::Router::new()
        .route(
            "/hop/{n}",
            axum::routing::get(move || {
                let next = next.clone();
                async move {
                    traceable(name)
                        .call_async(async move {
                            match next {
                                Some(url) => {
                                    http().get(url).send().await.unwrap().text().await.unwrap()
                                }
                                None => "end".to_string(),
                            }
                        })
                        .await
                }
            }),
        )
        .layer(langsmith::tower::LangSmithLayer::with_options(
            ServerOptions::new().client(client),
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

fn actix_service(client: Client, next: String) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = HttpServer::new(move || {
        let next = next.clone();
        App::new()
            .wrap(langsmith::actix::TracingMiddleware::with_options(
                ServerOptions::new().client(client.clone()),
            ))
            .route(
                "/hop/{n}",
                web::get().to(move || {
                    let next = next.clone();
                    async move {
                        let body = traceable("actix_work")
                            .call_async(async move {
                                http().get(next).send().await.unwrap().text().await.unwrap()
                            })
                            .await;
                        HttpResponse::Ok().body(body)
                    }
                }),
            )
    })
    .workers(1)
    .disable_signals()
    .listen(listener)
    .unwrap()
    .run();
    std::thread::spawn(move || actix_web::rt::System::new().block_on(server));
    port
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_hops_one_trace() {
    let collector = Collector::builder().start().unwrap();
    // Each service has its own client, as separate processes would; none
    // has tracing switched on: the caller decides.
    let service_client = || {
        Client::builder()
            .config(Config::default())
            .endpoint(collector.url())
            .api_key("k")
            .project("services-default")
            .build()
    };
    let (a, b, c) = (service_client(), service_client(), service_client());
    let port_c = axum_service(c.clone(), "axum_c_work", None).await;
    let port_b = actix_service(b.clone(), format!("http://127.0.0.1:{port_c}/hop/3"));
    let port_a = axum_service(
        a.clone(),
        "axum_a_work",
        Some(format!("http://127.0.0.1:{port_b}/hop/2")),
    )
    .await;

    let caller = Client::builder()
        .config(Config::default())
        .endpoint(collector.url())
        .api_key("k")
        .project("chain-project")
        .tracing(Some(true))
        .build();
    let (trace_id, body) = traceable("caller")
        .client(caller.clone())
        .metadata("request_id", "r-1")
        .tag("chain")
        .call_async(async move {
            let body = http()
                .get(format!("http://127.0.0.1:{port_a}/hop/1"))
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            (current_run().unwrap().trace_id(), body)
        })
        .await;
    assert_eq!(body, "end");
    for client in [&caller, &a, &b, &c] {
        client.flush().await;
    }
    let runs = collector.wait_for_runs(7, Duration::from_secs(20));
    assert_eq!(runs.len(), 7, "{runs:#?}");
    let trace = collector.trace(trace_id);
    let names: Vec<&str> = trace.iter().map(|r| r.name.as_str()).collect();
    // Ordered by dotted order: one chain from the caller to the last hop.
    assert_eq!(
        names,
        [
            "caller",
            "GET /hop/{n}",
            "axum_a_work",
            "GET /hop/{n}",
            "actix_work",
            "GET /hop/{n}",
            "axum_c_work"
        ]
    );
    for (i, r) in trace.iter().enumerate() {
        assert_eq!(r.trace_id, trace_id);
        assert!(r.end_time.is_some());
        if i == 0 {
            assert_eq!(r.parent_run_id, None);
        } else {
            let parent = &trace[i - 1];
            assert_eq!(
                r.parent_run_id,
                Some(parent.id),
                "{} under {}",
                r.name,
                parent.name
            );
            assert!(
                r.dotted_order
                    .starts_with(&format!("{}.", parent.dotted_order))
            );
            assert_eq!(r.dotted_order.split('.').count(), i + 1);
        }
        assert_eq!(r.session_name, "chain-project", "{}", r.name);
        assert!(
            r.tags.contains(&"chain".to_string()),
            "{} {:?}",
            r.name,
            r.tags
        );
        assert_eq!(r.extra["metadata"]["request_id"], "r-1", "{}", r.name);
    }
}
