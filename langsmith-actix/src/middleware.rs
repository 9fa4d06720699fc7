//! [`TracingMiddleware`] (the actix `Transform`) and [`TracingService`].

use crate::body::TracedBody;
use crate::future::TracedFuture;
use crate::request::start_run;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::{Error, HttpMessage};
use langsmith_core::in_run_sync;
use langsmith_core::server::ServerOptions;
use std::future::{Ready, ready};

/// actix-web middleware that records one run per request.
///
/// Per request (see [`ServerRun::start`](langsmith_core::server::ServerRun::start)
/// for the exact rules, which are shared with the tower/axum adapter):
///
/// - continues the caller's trace from `langsmith-trace` and `baggage`
///   (the run becomes the caller's child, baggage metadata, tags and project
///   applied), or starts a new trace when tracing is on; malformed or
///   hostile headers are skipped and never change the response;
/// - names the run after the route template from `match_pattern()`
///   (`GET /users/{id}`), run type `chain`, records method, route and
///   status (never bodies, cookies or authorization);
/// - puts the [`RunContext`](langsmith_core::RunContext) into the request
///   extensions (see [`CurrentRun`](crate::CurrentRun)) and runs the
///   handler inside it, so runs started in the handler are its children and
///   outgoing calls propagate it;
/// - ends the run when the response body has been sent in full (a streamed
///   response is recorded with its full duration, with the time to first
///   byte); a 5xx status or a panic ends it with an error (the panic is
///   passed on), a client that hangs up ends it as cancelled.
///
/// Client hang-ups: actix-web drops the handler's future (and so the
/// middleware records the run as cancelled) when it sees the connection
/// close. By default actix-web allows half-closed HTTP/1 connections and
/// lets a handler run to its end after the client has closed its side; set
/// `HttpServer::h1_allow_half_closed(false)` for hang-ups during the handler
/// to be noticed (a hang-up while the body streams is noticed either way).
///
/// Panics: actix-web does not catch a panicking handler (the connection is
/// dropped); the run records `"panicked: {message}"` and the panic goes on.
///
/// ```
/// use actix_web::{web, App, HttpServer};
/// use langsmith_actix::{ServerOptions, TracingMiddleware};
///
/// async fn user(id: web::Path<u32>) -> String {
///     format!("user {id}")
/// }
///
/// let make_app = || {
///     App::new()
///         .wrap(TracingMiddleware::with_options(ServerOptions::new().skip_paths(["/health"])))
///         .route("/users/{id}", web::get().to(user))
/// };
/// let server = HttpServer::new(make_app).bind(("127.0.0.1", 0)).unwrap();
/// # drop(server);
/// ```
#[derive(Clone, Debug, Default)]
pub struct TracingMiddleware {
    opts: ServerOptions,
}

impl TracingMiddleware {
    /// With the default [`ServerOptions`] (the default client, nothing skipped).
    ///
    /// ```
    /// let app = actix_web::App::new().wrap(langsmith_actix::TracingMiddleware::new());
    /// # let _ = app;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// With `opts`: client, skipped paths, trace decision hook, what is
    /// recorded, run naming, whether a project in incoming baggage is used.
    ///
    /// ```
    /// use langsmith_actix::{ServerOptions, TracingMiddleware};
    /// use langsmith_core::{Client, MemorySink};
    /// let client = Client::builder().sink(MemorySink::new()).tracing(Some(true)).build();
    /// let mw = TracingMiddleware::with_options(ServerOptions::new().client(client).skip_paths(["/health"]));
    /// # let _ = mw;
    /// ```
    pub fn with_options(opts: ServerOptions) -> Self {
        TracingMiddleware { opts }
    }

    /// The options in use.
    ///
    /// ```
    /// let mw = langsmith_actix::TracingMiddleware::new();
    /// let _opts = mw.options();
    /// ```
    pub fn options(&self) -> &ServerOptions {
        &self.opts
    }
}

impl<S, B> Transform<S, ServiceRequest> for TracingMiddleware
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<TracedBody<B>>;
    type Error = Error;
    type Transform = TracingService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(TracingService {
            service,
            opts: self.opts.clone(),
        }))
    }
}

/// The service [`TracingMiddleware`] wraps around the app (made by actix-web).
///
/// ```
/// use actix_web::{test, web, App};
/// # #[actix_web::main] async fn main() {
/// // `app` is a TracingService around the app's routes.
/// let app = test::init_service(
///     App::new().wrap(langsmith_actix::TracingMiddleware::new()).route("/", web::get().to(|| async { "ok" })),
/// ).await;
/// let resp = test::call_service(&app, test::TestRequest::get().uri("/").to_request()).await;
/// assert!(resp.status().is_success());
/// # }
/// ```
#[derive(Debug)]
pub struct TracingService<S> {
    service: S,
    opts: ServerOptions,
}

impl<S, B> Service<ServiceRequest> for TracingService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error>,
    B: MessageBody,
{
    type Response = ServiceResponse<TracedBody<B>>;
    type Error = Error;
    type Future = TracedFuture<S::Future>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        if !crate::request::may_trace(&self.opts, &req) {
            // Nothing can be recorded: no per-request work at all (not even
            // the route lookup).
            return TracedFuture::untraced(self.service.call(req));
        }
        let run = start_run(&self.opts, &req);
        let ctx = run.context().cloned();
        let fut = match &ctx {
            Some(c) => {
                req.extensions_mut().insert(c.clone());
                // Work the inner services do before returning their future
                // happens inside the run too.
                in_run_sync(ctx.clone(), || self.service.call(req))
            }
            None => self.service.call(req),
        };
        TracedFuture::new(fut, ctx, run)
    }
}
