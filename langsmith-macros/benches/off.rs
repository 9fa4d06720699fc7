//! What `#[traceable]` costs: a plain function, the same function traced
//! with tracing off (the default: no current run, `LANGSMITH_TRACING`
//! unset), off through the process-wide switch, and on (every call a root
//! run handed to a sink that discards it), and the parts of the check
//! made on every call.
#![allow(missing_docs)]

use criterion::{Criterion, criterion_group, criterion_main};
use langsmith::{
    Client, Completion, RunOp, Sink, set_default_client, set_tracing_enabled, traceable,
};
use std::hint::black_box;

struct Discard;

impl Sink for Discard {
    fn submit(&self, op: RunOp) {
        drop(black_box(op));
    }
    fn flush(&self) -> Completion {
        Completion::done()
    }
}

#[inline(never)]
fn plain(a: u64, b: u64) -> u64 {
    a.wrapping_mul(31).wrapping_add(b) ^ 0x5555
}

#[inline(never)]
#[traceable]
fn traced(a: u64, b: u64) -> u64 {
    a.wrapping_mul(31).wrapping_add(b) ^ 0x5555
}

async fn plain_async(a: u64, b: u64) -> u64 {
    a.wrapping_mul(31).wrapping_add(b) ^ 0x5555
}

#[traceable]
async fn traced_async(a: u64, b: u64) -> u64 {
    a.wrapping_mul(31).wrapping_add(b) ^ 0x5555
}

/// Polls a future that is ready at once.
fn ready<F: std::future::Future>(fut: F) -> F::Output {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut fut = std::pin::pin!(fut);
    loop {
        if let std::task::Poll::Ready(v) = fut.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("traceable");
    g.bench_function("plain", |b| b.iter(|| plain(black_box(1), black_box(2))));

    g.bench_function("async plain", |b| {
        b.iter(|| ready(plain_async(black_box(1), black_box(2))))
    });

    set_default_client(Client::builder().sink(Discard).tracing(None).build());
    g.bench_function("traced/off (tracing unset)", |b| {
        b.iter(|| traced(black_box(1), black_box(2)))
    });
    g.bench_function("async traced/off (tracing unset)", |b| {
        b.iter(|| ready(traced_async(black_box(1), black_box(2))))
    });

    // What the check is made of, to see where the time goes.
    g.bench_function("parts/__private::begin()", |b| {
        b.iter(langsmith::__private::begin)
    });
    g.bench_function("parts/tracing_active()", |b| {
        b.iter(langsmith::tracing_active)
    });
    g.bench_function("parts/current_run()", |b| b.iter(langsmith::current_run));
    g.bench_function("parts/default_client()", |b| {
        b.iter(langsmith::default_client)
    });

    set_tracing_enabled(Some(false));
    g.bench_function("traced/off (set_tracing_enabled(false))", |b| {
        b.iter(|| traced(black_box(1), black_box(2)))
    });
    set_tracing_enabled(None);

    set_default_client(Client::builder().sink(Discard).tracing(Some(true)).build());
    g.bench_function("traced/on (discarding sink)", |b| {
        b.iter(|| traced(black_box(1), black_box(2)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
