//! [`TracedFuture`]: the handler's response future, inside the run.

use crate::body::TracedBody;
use crate::panic::{catch, resume};
use actix_web::Error;
use actix_web::body::{BodySize, MessageBody};
use actix_web::dev::ServiceResponse;
use langsmith_core::server::{ServerRun, panic_message};
use langsmith_core::{MaybeInRun, RunContext};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

pin_project_lite::pin_project! {
    /// The inner service's future, polled (and dropped) inside the request's
    /// run context. A panic while polling ends the run as failed and is passed
    /// on; dropping the future before it completes (client hang-up) ends the
    /// run as cancelled. Made by [`TracingService`](crate::TracingService).
    ///
    /// ```
    /// use actix_web::dev::{fn_service, Service, ServiceRequest, Transform};
    /// use actix_web::{test::TestRequest, HttpResponse};
    /// use langsmith_actix::{TracedFuture, TracingMiddleware};
    /// # #[actix_web::main] async fn main() {
    /// let inner = fn_service(|req: ServiceRequest| async {
    ///     Ok::<_, actix_web::Error>(req.into_response(HttpResponse::Ok().finish()))
    /// });
    /// let service = TracingMiddleware::new().new_transform(inner).await.unwrap();
    /// let fut: TracedFuture<_> = service.call(TestRequest::get().uri("/").to_srv_request());
    /// assert!(fut.await.unwrap().status().is_success());
    /// # }
    /// ```
    pub struct TracedFuture<F: Future> {
        #[pin]
        inner: MaybeInRun<F>,
        run: Option<ServerRun>,
    }
}

impl<F: Future> TracedFuture<F> {
    pub(crate) fn new(inner: F, ctx: Option<RunContext>, run: ServerRun) -> Self {
        TracedFuture {
            inner: MaybeInRun::new(inner, ctx),
            run: (!run.is_ended()).then_some(run),
        }
    }

    /// Nothing is recorded: the handler's future is polled as it is (no
    /// context scope, no unwind guard) and its body passed through.
    pub(crate) fn untraced(inner: F) -> Self {
        TracedFuture {
            inner: MaybeInRun::plain(inner),
            run: None,
        }
    }
}

impl<F, B> Future for TracedFuture<F>
where
    F: Future<Output = Result<ServiceResponse<B>, Error>>,
    B: MessageBody,
{
    type Output = Result<ServiceResponse<TracedBody<B>>, Error>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        if this.run.is_none() {
            return inner.poll(cx).map(|result| {
                result.map(|resp| {
                    let status = resp.status().as_u16();
                    resp.map_body(|_, body| TracedBody::new(body, None, status))
                })
            });
        }
        let result = match catch(|| inner.poll(cx)) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(result)) => result,
            Err(panic) => {
                if let Some(mut run) = this.run.take() {
                    run.panicked(panic_message(&*panic));
                }
                resume(panic)
            }
        };
        let run = this.run.take();
        Poll::Ready(match result {
            Ok(resp) => {
                let status = resp.status().as_u16();
                let run = run.and_then(|mut run| {
                    run.set_status(status);
                    match resp.response().body().size() {
                        // The body is never polled: the response is complete now.
                        BodySize::None | BodySize::Sized(0) => {
                            run.finish(status);
                            None
                        }
                        _ => Some(run),
                    }
                });
                Ok(resp.map_body(|_, body| TracedBody::new(body, run, status)))
            }
            Err(err) => {
                // actix-web turns the error into a response after this point.
                if let Some(mut run) = run {
                    run.finish(err.as_response_error().status_code().as_u16());
                }
                Err(err)
            }
        })
    }
}
