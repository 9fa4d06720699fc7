//! [`CurrentRun`]: the request's run, as an extractor.

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpMessage, HttpRequest};
use langsmith_core::RunContext;
use std::convert::Infallible;
use std::future::{Ready, ready};

/// The request's run context, put into the request extensions by
/// [`TracingMiddleware`](crate::TracingMiddleware). Never fails: `None`
/// when the request is not traced (skipped, tracing off, or no middleware).
///
/// Inside the handler the same run is also the ambient current run
/// ([`langsmith_core::current_run`]); the extractor is for code that does not
/// run inside the handler's future (e.g. a plain `tokio::spawn`).
///
/// ```
/// use actix_web::{get, App, HttpResponse};
/// use langsmith_actix::{CurrentRun, TracingMiddleware};
///
/// #[get("/whoami")]
/// async fn whoami(run: CurrentRun) -> HttpResponse {
///     match run.0 {
///         Some(ctx) => HttpResponse::Ok().body(ctx.id().to_string()),
///         None => HttpResponse::Ok().body("untraced"),
///     }
/// }
///
/// let app = App::new().wrap(TracingMiddleware::new()).service(whoami);
/// # let _ = app;
/// ```
#[derive(Clone, Debug, Default)]
pub struct CurrentRun(pub Option<RunContext>);

impl CurrentRun {
    /// The run context, if the request is traced.
    ///
    /// ```
    /// assert!(langsmith_actix::CurrentRun(None).context().is_none());
    /// ```
    pub fn context(&self) -> Option<&RunContext> {
        self.0.as_ref()
    }

    /// The run's context from a request's extensions.
    ///
    /// ```
    /// let req = actix_web::test::TestRequest::default().to_http_request();
    /// assert!(langsmith_actix::CurrentRun::of(&req).0.is_none());
    /// ```
    pub fn of(req: &HttpRequest) -> CurrentRun {
        CurrentRun(req.extensions().get::<RunContext>().cloned())
    }
}

impl FromRequest for CurrentRun {
    type Error = Infallible;
    type Future = Ready<Result<Self, Infallible>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(CurrentRun::of(req)))
    }
}
