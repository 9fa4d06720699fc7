//! [`LangSmithService`].

use crate::{HeaderMapSource, ResponseFuture, TracedBody};
use http::{Request, Response};
use langsmith_core::in_run_sync;
use langsmith_core::server::{RequestInfo, ServerOptions, ServerRun};
use std::fmt;
use std::task::{Context, Poll};
use tower::Service;

/// The service made by [`LangSmithLayer`](crate::LangSmithLayer): starts the
/// request's run, puts its [`RunContext`](langsmith_core::RunContext) into the request's extensions, and
/// calls the inner service inside that context.
///
/// `Send`/`Sync`/`Clone` exactly when the inner service is; it does not
/// depend on the request or response body type.
///
/// ```
/// use langsmith_tower::{LangSmithService, ServerOptions};
/// use tower::service_fn;
/// let svc = LangSmithService::new(
///     service_fn(|_req: http::Request<String>| async {
///         Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
///     }),
///     ServerOptions::new(),
/// );
/// # let _ = svc;
/// ```
#[derive(Clone, Debug)]
pub struct LangSmithService<S> {
    inner: S,
    opts: ServerOptions,
}

impl<S> LangSmithService<S> {
    /// Wraps `inner`.
    ///
    /// ```
    /// # use langsmith_tower::{LangSmithService, ServerOptions};
    /// let svc = LangSmithService::new(tower::service_fn(|r: http::Request<()>| async move {
    ///     Ok::<_, std::convert::Infallible>(http::Response::new(String::new()))
    /// }), ServerOptions::new());
    /// # let _ = svc;
    /// ```
    pub fn new(inner: S, opts: ServerOptions) -> Self {
        LangSmithService { inner, opts }
    }

    /// The inner service.
    ///
    /// ```
    /// # use langsmith_tower::{LangSmithService, ServerOptions};
    /// let svc = LangSmithService::new(7, ServerOptions::new());
    /// assert_eq!(*svc.get_ref(), 7);
    /// ```
    pub fn get_ref(&self) -> &S {
        &self.inner
    }

    /// The inner service, mutably.
    ///
    /// ```
    /// # use langsmith_tower::{LangSmithService, ServerOptions};
    /// let mut svc = LangSmithService::new(7, ServerOptions::new());
    /// *svc.get_mut() += 1;
    /// assert_eq!(svc.into_inner(), 8);
    /// ```
    pub fn get_mut(&mut self) -> &mut S {
        &mut self.inner
    }

    /// Unwraps the inner service.
    ///
    /// ```
    /// # use langsmith_tower::{LangSmithService, ServerOptions};
    /// assert_eq!(LangSmithService::new("svc", ServerOptions::new()).into_inner(), "svc");
    /// ```
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl<S, ReqBody, ResBody> Service<Request<ReqBody>> for LangSmithService<S>
where
    S: Service<Request<ReqBody>, Response = Response<ResBody>>,
    S::Error: fmt::Display,
    ResBody: http_body::Body,
{
    type Response = Response<TracedBody<ResBody>>;
    type Error = S::Error;
    type Future = ResponseFuture<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<ReqBody>) -> Self::Future {
        let head = req.method() == http::Method::HEAD;
        if !self.opts.may_trace(&HeaderMapSource(req.headers())) {
            return ResponseFuture::untraced(self.inner.call(req));
        }
        let run = start(&self.opts, &req);
        let ctx = run.context().cloned();
        let fut = match &ctx {
            Some(c) => {
                req.extensions_mut().insert(c.clone());
                let inner = &mut self.inner;
                in_run_sync(ctx.clone(), || inner.call(req))
            }
            None => self.inner.call(req),
        };
        ResponseFuture::new(fut, ctx, run, head)
    }
}

fn start<B>(opts: &ServerOptions, req: &Request<B>) -> ServerRun {
    let headers = HeaderMapSource(req.headers());
    let info = RequestInfo::new(req.method().as_str(), req.uri().path(), &headers)
        .route(route(req))
        .query(req.uri().query())
        .client_ip(client_ip(req));
    ServerRun::start(opts, &info)
}

#[cfg(feature = "axum")]
fn route<B>(req: &Request<B>) -> Option<&str> {
    req.extensions()
        .get::<axum::extract::MatchedPath>()
        .map(axum::extract::MatchedPath::as_str)
}

#[cfg(not(feature = "axum"))]
fn route<B>(_req: &Request<B>) -> Option<&str> {
    None
}

#[cfg(feature = "axum")]
fn client_ip<B>(req: &Request<B>) -> Option<std::net::IpAddr> {
    req.extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip())
}

#[cfg(not(feature = "axum"))]
fn client_ip<B>(_req: &Request<B>) -> Option<std::net::IpAddr> {
    None
}
