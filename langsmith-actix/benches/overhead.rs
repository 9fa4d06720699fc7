//! Per-request overhead of `TracingMiddleware`, in memory
//! (`actix_web::test::init_service` + `call_service`, body read to the end):
//! no middleware, middleware with tracing off, tracing unset without a
//! caller, and traced (a new trace, and continuing a caller's) into a sink
//! that discards runs.
//!
//! `cargo bench -p langsmith-actix -- --warm-up-time 1 --measurement-time 3`
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used)]

use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceResponse};
use actix_web::rt::SystemRunner;
use actix_web::{App, test, web};
use criterion::{Criterion, criterion_group, criterion_main};
use langsmith_actix::{ServerOptions, TracingMiddleware};
use langsmith_core::{Client, Completion, RunOp, Sink};
use std::hint::black_box;
use std::time::{Duration, Instant};

struct Discard;

impl Sink for Discard {
    fn submit(&self, op: RunOp) {
        black_box(op);
    }
    fn flush(&self) -> Completion {
        Completion::done()
    }
}

const CALLER: &str = "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001";

async fn user(id: web::Path<u32>) -> String {
    format!("user {id}")
}

fn options(tracing: Option<bool>) -> ServerOptions {
    let client = Client::builder().sink(Discard).tracing(tracing).build();
    ServerOptions::new().client(client)
}

fn request(caller: bool) -> test::TestRequest {
    let req = test::TestRequest::get().uri("/users/7");
    if !caller {
        return req;
    }
    req.insert_header(("langsmith-trace", CALLER))
        .insert_header(("baggage", "langsmith-project=p,langsmith-tags=a"))
}

fn measure<S, R, B>(sys: &SystemRunner, app: &S, iters: u64, make: impl Fn() -> R) -> Duration
where
    S: Service<R, Response = ServiceResponse<B>, Error = actix_web::Error>,
    B: MessageBody,
{
    sys.block_on(async {
        let start = Instant::now();
        for _ in 0..iters {
            let resp = test::call_service(app, make()).await;
            black_box(test::read_body(resp).await);
        }
        start.elapsed()
    })
}

macro_rules! bench_app {
    ($c:expr, $sys:expr, $name:expr, $caller:expr, $app:expr) => {{
        let app = $sys.block_on(test::init_service($app));
        $c.bench_function($name, |b| {
            b.iter_custom(|iters| measure(&$sys, &app, iters, || request($caller).to_request()))
        });
    }};
}

fn overhead(c: &mut Criterion) {
    let sys = actix_web::rt::System::new();
    let route = || web::get().to(user);
    bench_app!(
        c,
        sys,
        "no_middleware",
        false,
        App::new().route("/users/{id}", route())
    );
    bench_app!(
        c,
        sys,
        "middleware_tracing_off",
        false,
        App::new()
            .wrap(TracingMiddleware::with_options(options(Some(false))))
            .route("/users/{id}", route())
    );
    bench_app!(
        c,
        sys,
        "middleware_tracing_unset_no_caller",
        false,
        App::new()
            .wrap(TracingMiddleware::with_options(options(None)))
            .route("/users/{id}", route())
    );
    bench_app!(
        c,
        sys,
        "traced_new_trace",
        false,
        App::new()
            .wrap(TracingMiddleware::with_options(options(Some(true))))
            .route("/users/{id}", route())
    );
    bench_app!(
        c,
        sys,
        "traced_caller_headers",
        true,
        App::new()
            .wrap(TracingMiddleware::with_options(options(Some(true))))
            .route("/users/{id}", route())
    );
    bench_app!(
        c,
        sys,
        "no_middleware_caller_headers",
        true,
        App::new().route("/users/{id}", route())
    );
}

criterion_group!(benches, overhead);
criterion_main!(benches);
