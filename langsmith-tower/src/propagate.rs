//! [`PropagateLayer`]: trace headers on outgoing requests of tower clients.

use http::Request;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use langsmith_core::headers::{BAGGAGE_HEADER, TRACE_HEADER, merge_baggage};
use langsmith_core::{RunContext, current_run};
use std::task::{Context, Poll};
use tower::{Layer, Service};

/// A tower [`Layer`] for HTTP clients: every outgoing `http::Request` gets
/// `langsmith-trace` and `baggage` for its run — a [`RunContext`] in the
/// request's extensions if there is one, else the current run — so the
/// service it calls continues the trace. A `baggage` header the caller set
/// already is merged with ours ([`merge_baggage`]), never replaced. Without
/// a run the request is left as it is.
///
/// ```
/// use langsmith_tower::PropagateLayer;
/// use tower::{Layer, service_fn};
/// let client = PropagateLayer::new().layer(service_fn(|req: http::Request<()>| async move {
///     Ok::<_, std::convert::Infallible>(req.headers().contains_key("langsmith-trace"))
/// }));
/// # let _ = client;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct PropagateLayer {
    _private: (),
}

impl PropagateLayer {
    /// The layer.
    ///
    /// ```
    /// let layer = langsmith_tower::PropagateLayer::new();
    /// # let _ = layer;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }
}

impl<S> Layer<S> for PropagateLayer {
    type Service = Propagate<S>;

    fn layer(&self, inner: S) -> Self::Service {
        Propagate { inner }
    }
}

/// The service made by [`PropagateLayer`].
///
/// ```
/// use langsmith_core::{Client, FutureExt, MemorySink, RunTree};
/// use langsmith_tower::PropagateLayer;
/// use tower::{Layer, ServiceExt, service_fn};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let echo = service_fn(|req: http::Request<()>| async move {
///     Ok::<_, std::convert::Infallible>(req.headers().clone())
/// });
/// let run = RunTree::new("caller").client(Client::builder().sink(MemorySink::new()).build()).start();
/// let sent = PropagateLayer::new()
///     .layer(echo)
///     .oneshot(http::Request::new(()))
///     .in_run(run.context().cloned())
///     .await
///     .unwrap();
/// assert_eq!(sent["langsmith-trace"], run.context().unwrap().dotted_order().as_str());
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct Propagate<S> {
    inner: S,
}

impl<S, B> Service<Request<B>> for Propagate<S>
where
    S: Service<Request<B>>,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request<B>) -> Self::Future {
        let ctx = req
            .extensions()
            .get::<RunContext>()
            .cloned()
            .or_else(current_run);
        if let Some(ctx) = ctx {
            inject_headers(req.headers_mut(), &ctx);
        }
        self.inner.call(req)
    }
}

/// Sets `langsmith-trace` (replacing any) and merges our `baggage` into
/// `headers` for a call made by `ctx`. An unsampled trace sends only
/// `baggage: langsmith-sampled=0`. Never fails: a value that cannot be a
/// header is left out.
///
/// ```
/// use langsmith_core::{Client, MemorySink, RunTree};
/// let run = RunTree::new("r").project("shop").client(Client::builder().sink(MemorySink::new()).build()).start();
/// let mut headers = http::HeaderMap::new();
/// headers.insert("baggage", http::HeaderValue::from_static("vendor=1"));
/// langsmith_tower::inject_headers(&mut headers, run.context().unwrap());
/// assert_eq!(headers["baggage"], "langsmith-project=shop,vendor=1");
/// assert!(headers.contains_key("langsmith-trace"));
/// ```
pub fn inject_headers(headers: &mut HeaderMap, ctx: &RunContext) {
    let out = ctx.to_headers();
    if let Some(trace) = out
        .trace
        .as_deref()
        .and_then(|t| HeaderValue::from_str(t).ok())
    {
        headers.insert(HeaderName::from_static(TRACE_HEADER), trace);
    }
    let Some(ours) = out.baggage else {
        return;
    };
    let existing: Vec<&str> = headers
        .get_all(BAGGAGE_HEADER)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let merged = if existing.is_empty() {
        ours
    } else {
        merge_baggage(&existing.join(","), &ours)
    };
    if let Ok(value) = HeaderValue::from_bytes(merged.as_bytes()) {
        headers.insert(HeaderName::from_static(BAGGAGE_HEADER), value);
    }
}
