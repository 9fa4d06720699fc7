//! [`TracedBody`]: ends the request's run when the body has been sent.

use http::Response;
use http_body::{Body, Frame, SizeHint};
use langsmith_core::server::{ServerRun, panic_message};
use langsmith_core::{RunContext, in_run_sync};
use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// A response body that carries the request's run to its end: polled
    /// inside the run's context, it records the time to the first data
    /// frame, and ends the run with the response status when the last frame
    /// has been sent, with the body's error if it fails, with the panic if a
    /// poll panics, and as cancelled if it is dropped before the end (the
    /// client went away).
    ///
    /// ```
    /// fn assert_send_sync<T: Send + Sync>() {}
    /// assert_send_sync::<langsmith_tower::TracedBody<String>>();
    /// ```
    pub struct TracedBody<B: Body> {
        #[pin]
        inner: Option<B>,
        // `Some` while a recording run waits for the end of the body.
        run: Option<ServerRun>,
        ctx: Option<RunContext>,
        status: u16,
    }

    impl<B: Body> PinnedDrop for TracedBody<B> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            if this.run.is_none() && this.ctx.is_none() {
                return;
            }
            let complete = this
                .inner
                .as_ref()
                .as_pin_ref()
                .is_none_or(|b| B::is_end_stream(&b));
            // The body (and whatever the handler left running in it) goes
            // first, inside the run's context, so its runs end before ours.
            if let Some(ctx) = this.ctx.take() {
                let mut inner = this.inner.as_mut();
                in_run_sync(Some(ctx), move || inner.set(None));
            }
            if let Some(mut run) = this.run.take() {
                if complete {
                    run.finish(*this.status);
                } else {
                    run.cancelled();
                }
            }
        }
    }
}

impl<B: Body> fmt::Debug for TracedBody<B> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TracedBody")
            .field("run", &self.run)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

impl<B: Body> TracedBody<B> {
    /// A body that only passes `inner` through (nothing is traced).
    ///
    /// ```
    /// use http_body::Body;
    /// let body = langsmith_tower::TracedBody::untraced(String::from("hi"));
    /// assert_eq!(body.size_hint().exact(), Some(2));
    /// ```
    pub fn untraced(inner: B) -> Self {
        TracedBody {
            inner: Some(inner),
            run: None,
            ctx: None,
            status: 200,
        }
    }

    /// Puts `run` into the response's body. The run ends right away when no
    /// body will be sent: an empty body, a response to `HEAD`, a 1xx, 204 or
    /// 304 (servers drop such bodies unpolled; that is not a hang-up).
    pub(crate) fn wrap_response(
        response: Response<B>,
        mut run: ServerRun,
        head: bool,
    ) -> Response<TracedBody<B>> {
        let status = response.status().as_u16();
        let ctx = run.context().cloned();
        run.set_status(status);
        let bodiless = head || matches!(status, 100..=199 | 204 | 304);
        response.map(|inner| {
            let run = if run.is_ended() || !run.is_recording() {
                None
            } else if bodiless || inner.is_end_stream() {
                run.first_byte();
                run.finish(status);
                None
            } else {
                Some(run)
            };
            TracedBody {
                inner: Some(inner),
                run,
                ctx,
                status,
            }
        })
    }
}

impl<B> Body for TracedBody<B>
where
    B: Body,
    B::Error: fmt::Display,
{
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        let mut this = self.project();
        let Some(inner) = this.inner.as_mut().as_pin_mut() else {
            return Poll::Ready(None);
        };
        if this.run.is_none() && this.ctx.is_none() {
            // Nothing to record and no context to enter: pass through.
            return inner.poll_frame(cx);
        }
        let polled = catch_unwind(AssertUnwindSafe(|| match this.ctx {
            Some(ctx) => in_run_sync(Some(ctx.clone()), || inner.poll_frame(cx)),
            None => inner.poll_frame(cx),
        }));
        let polled = match polled {
            Ok(p) => p,
            Err(panic) => {
                if let Some(mut run) = this.run.take() {
                    run.panicked(panic_message(&*panic));
                }
                resume_unwind(panic)
            }
        };
        let Some(run) = this.run.as_mut() else {
            return polled;
        };
        match &polled {
            Poll::Pending => {}
            Poll::Ready(Some(Ok(frame))) => {
                if frame.data_ref().is_some_and(bytes::Buf::has_remaining) {
                    run.first_byte();
                }
                let at_end = this
                    .inner
                    .as_ref()
                    .as_pin_ref()
                    .is_none_or(|b| B::is_end_stream(&b));
                if at_end {
                    run.first_byte();
                    run.finish(*this.status);
                    *this.run = None;
                }
            }
            Poll::Ready(Some(Err(err))) => {
                run.error(format_args!("response body error: {err}"));
                *this.run = None;
            }
            Poll::Ready(None) => {
                run.first_byte();
                run.finish(*this.status);
                *this.run = None;
            }
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(Body::is_end_stream)
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), Body::size_hint)
    }
}
