//! Wrapping a future in a run: the run starts at the first poll and ends
//! with the future's output, error, panic or cancellation.

use crate::builder::RunBuilder;
use crate::context::FutureExt;
use crate::handle::Run;
use serde::Serialize;
use std::any::Any;
use std::fmt::Display;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

/// The error recorded on a run whose future was dropped before completing.
pub const CANCELLED: &str = "Cancelled";

/// Ends the run as cancelled if the future is dropped before it finishes.
struct CancelGuard(Option<Run>);

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if let Some(mut run) = self.0.take() {
            if !std::thread::panicking() {
                run.set_error(CANCELLED);
            }
            run.end();
        }
    }
}

pub(crate) async fn traced<F: Future>(
    builder: RunBuilder,
    fut: F,
    record: fn(&mut Run, &F::Output),
) -> F::Output {
    // Started here, at the first poll, so that the parent is the run current
    // where the future runs (not where it was created) and the start time is
    // when work begins.
    let run = builder.start();
    let ctx = run.ctx.clone().or_else(crate::current_run);
    let mut guard = CancelGuard(Some(run));
    let result = CatchUnwind {
        inner: fut.in_run(ctx),
    }
    .await;
    let mut run = guard.0.take().unwrap_or_else(Run::inactive);
    match result {
        Ok(out) => {
            record(&mut run, &out);
            run.end();
            out
        }
        Err(panic) => {
            run.set_error(panic_message(&*panic));
            run.end();
            resume_unwind(panic)
        }
    }
}

pin_project_lite::pin_project! {
    struct CatchUnwind<F> {
        #[pin]
        inner: F,
    }
}

impl<F: Future> Future for CatchUnwind<F> {
    type Output = std::thread::Result<F::Output>;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.project().inner;
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(panic) => Poll::Ready(Err(panic)),
        }
    }
}

pub(crate) fn record_output<T: Serialize>(run: &mut Run, out: &T) {
    run.set_outputs(out);
}

pub(crate) fn record_result<T: Serialize, E: Display>(run: &mut Run, out: &Result<T, E>) {
    match out {
        Ok(v) => run.set_outputs(v),
        Err(e) => run.set_error(e),
    }
}

/// The text of a panic payload, as recorded on the run.
pub(crate) fn panic_message(panic: &(dyn Any + Send)) -> String {
    let msg = if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "<non-string panic payload>".to_owned()
    };
    format!("panicked: {msg}")
}
