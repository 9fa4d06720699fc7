//! [`ResponseFuture`].

use crate::TracedBody;
use http::Response;
use langsmith_core::server::{ServerRun, panic_message};
use langsmith_core::{MaybeInRun, RunContext};
use std::fmt;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// The response future of [`LangSmithService`](crate::LangSmithService):
    /// polls the inner future inside the run's context (also while dropping
    /// it; an untraced request's future is polled as it is), records a panic in it as the run's error (then lets the panic go
    /// on), an inner error as the run's error, and hands the run to the
    /// response body, which ends it when the body has been sent. Dropped
    /// before it completes (client hang-up), it ends the run as cancelled.
    ///
    /// ```
    /// fn assert_send<T: Send>() {}
    /// assert_send::<langsmith_tower::ResponseFuture<std::future::Ready<()>>>();
    /// ```
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F: Future> {
        // Dropped first: the handler's own runs end before the request's.
        #[pin]
        inner: MaybeInRun<F>,
        run: Option<ServerRun>,
        // A HEAD request: the response body is never sent.
        head: bool,
    }
}

impl<F: Future> ResponseFuture<F> {
    pub(crate) fn new(inner: F, ctx: Option<RunContext>, run: ServerRun, head: bool) -> Self {
        ResponseFuture {
            inner: MaybeInRun::new(inner, ctx),
            run: Some(run),
            head,
        }
    }

    /// Tracing is off: the inner future is polled as it is and its body
    /// passed through (no unwind guard, no run).
    pub(crate) fn untraced(inner: F) -> Self {
        ResponseFuture {
            inner: MaybeInRun::plain(inner),
            run: None,
            head: false,
        }
    }
}

impl<F: Future> fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("run", &self.run)
            .finish_non_exhaustive()
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
    B: http_body::Body,
    E: fmt::Display,
{
    type Output = Result<Response<TracedBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        if this.run.is_none() {
            // Untraced (or already answered): nothing to record.
            return match inner.poll(cx) {
                Poll::Pending => Poll::Pending,
                Poll::Ready(r) => Poll::Ready(r.map(|res| res.map(TracedBody::untraced))),
            };
        }
        match catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(Ok(response))) => {
                let run = this.run.take().unwrap_or_else(ServerRun::untraced);
                Poll::Ready(Ok(TracedBody::wrap_response(response, run, *this.head)))
            }
            Ok(Poll::Ready(Err(err))) => {
                if let Some(mut run) = this.run.take() {
                    run.error(format_args!("service error: {err}"));
                }
                Poll::Ready(Err(err))
            }
            Err(panic) => {
                if let Some(mut run) = this.run.take() {
                    run.panicked(panic_message(&*panic));
                }
                resume_unwind(panic)
            }
        }
    }
}
