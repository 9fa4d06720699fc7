//! [`TracedBody`]: ends the request's run when the body has been sent.

use crate::panic::{catch, resume};
use actix_web::body::{BodySize, MessageBody};
use actix_web::web::Bytes;
use langsmith_core::server::ServerRun;
use langsmith_core::{RunContext, in_run_sync};
use std::error::Error as StdError;
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// A response body that ends the request's run when its last chunk has
    /// been produced (so a streamed response, e.g. SSE, is recorded with its
    /// full duration), records the time to the first byte, and ends the run
    /// with an error if the stream fails or panics, or as cancelled if the
    /// body is dropped before the end (client hang-up). The body is polled
    /// inside the run's context. Made by [`TracingMiddleware`](crate::TracingMiddleware).
    ///
    /// ```
    /// use actix_web::{test, web, App, HttpResponse};
    /// use langsmith_actix::TracingMiddleware;
    /// # #[actix_web::main] async fn main() {
    /// let app = test::init_service(
    ///     App::new().wrap(TracingMiddleware::new()).route("/", web::get().to(|| async { HttpResponse::Ok().body("hi") })),
    /// ).await;
    /// let resp = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
    /// // The body is a TracedBody; reading it ends the run.
    /// assert_eq!(test::read_body(resp).await, "hi");
    /// # }
    /// ```
    pub struct TracedBody<B> {
        #[pin]
        inner: B,
        run: Option<ServerRun>,
        ctx: Option<RunContext>,
        status: u16,
    }
}

impl<B> TracedBody<B> {
    /// `run` is `None` for untraced requests and empty bodies (ended already).
    pub(crate) fn new(inner: B, run: Option<ServerRun>, status: u16) -> Self {
        let ctx = run.as_ref().and_then(|r| r.context().cloned());
        TracedBody {
            inner,
            run,
            ctx,
            status,
        }
    }
}

impl<B: MessageBody> MessageBody for TracedBody<B> {
    type Error = Box<dyn StdError>;

    fn size(&self) -> BodySize {
        self.inner.size()
    }

    fn poll_next(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Bytes, Self::Error>>> {
        let this = self.project();
        let Some(run) = this.run.as_mut() else {
            return this.inner.poll_next(cx).map_err(Into::into);
        };
        let inner = this.inner;
        let ctx = this.ctx.clone();
        let polled = match catch(|| in_run_sync(ctx, || inner.poll_next(cx))) {
            Ok(polled) => polled,
            Err(panic) => {
                run.panicked(langsmith_core::server::panic_message(&*panic));
                *this.run = None;
                resume(panic)
            }
        };
        match polled {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(bytes))) => {
                if !bytes.is_empty() {
                    run.first_byte();
                }
                Poll::Ready(Some(Ok(bytes)))
            }
            Poll::Ready(Some(Err(err))) => {
                let err: Box<dyn StdError> = err.into();
                run.error(format_args!("response body: {err}"));
                *this.run = None;
                Poll::Ready(Some(Err(err)))
            }
            Poll::Ready(None) => {
                run.finish(*this.status);
                *this.run = None;
                Poll::Ready(None)
            }
        }
    }

    fn try_into_bytes(self) -> Result<Bytes, Self> {
        if self.run.is_some() {
            // The run ends when the body has been read to its end.
            return Err(self);
        }
        let TracedBody {
            inner,
            run,
            ctx,
            status,
        } = self;
        inner.try_into_bytes().map_err(|inner| TracedBody {
            inner,
            run,
            ctx,
            status,
        })
    }
}
