//! [`LangSmithMiddleware`]: the `reqwest_middleware::Middleware`.

use crate::child::{ChildGuard, describe, run_name, safe_url};
use crate::extensions::{NoPropagation, ParentRun, UrlTemplate};
use crate::inject::inject;
use http::Extensions;
use langsmith_core::{FutureExt, RunType, current_run, trace};
use reqwest_middleware::reqwest::{Request, Response};
use reqwest_middleware::{Middleware, Next, Result};

/// Propagates the current run (or a [`ParentRun`] given for the request) to
/// the called service in the `langsmith-trace` and `baggage` headers, so that
/// the runs it records join this trace.
///
/// - No current run: nothing is added.
/// - An unsampled trace: only `baggage: langsmith-sampled=0`, so that the
///   called service does not start a trace of its own either.
/// - A `baggage` header already on the request is merged with ours (see
///   [`langsmith_core::headers::merge_baggage`]); a `langsmith-trace` header
///   already on it is replaced.
/// - [`NoPropagation`] on a request turns all of this off for it.
///
/// With [`record_child_runs(true)`](Self::record_child_runs) each call is also
/// recorded as a run of its own (type `tool` unless set with
/// [`run_type`](Self::run_type): from this process's point of view the call
/// is a leaf, done by someone else), named
/// `"{METHOD} {host}{template or path}"`, with inputs `{"method", "url"}`
/// (the URL without user info, query or fragment) and outputs `{"status"}`.
/// A 5xx response or a transport error ends it with an error, a call whose
/// future is dropped ends it as cancelled. That run is the one propagated,
/// so the called service's run becomes its child. It ends when the response
/// headers arrive (the body is read later by the caller). Request and
/// response headers and bodies are never recorded.
///
/// ```
/// use langsmith_core::{Client, FutureExt, MemorySink, RunTree};
/// use langsmith_reqwest::LangSmithMiddleware;
/// use reqwest_middleware::{reqwest, ClientBuilder};
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let http = ClientBuilder::new(reqwest::Client::new())
///     .with(LangSmithMiddleware::new().record_child_runs(true))
///     .build();
/// let client = Client::builder().sink(MemorySink::new()).build();
/// let run = RunTree::new("agent").client(client).start();
/// let call = async {
///     // Sent with `langsmith-trace` and `baggage` (nobody listens on port 9).
///     let _ = http.get("http://127.0.0.1:9/search").send().await;
/// };
/// call.in_run(run.context().cloned()).await;
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct LangSmithMiddleware {
    record_child_runs: bool,
    run_type: RunType,
}

impl Default for LangSmithMiddleware {
    fn default() -> Self {
        Self::new()
    }
}

impl LangSmithMiddleware {
    /// Propagation only: no runs of its own.
    ///
    /// ```
    /// let m = langsmith_reqwest::LangSmithMiddleware::new();
    /// # let _ = m;
    /// ```
    pub fn new() -> Self {
        LangSmithMiddleware {
            record_child_runs: false,
            run_type: RunType::Tool,
        }
    }

    /// Records a child run for each outgoing call (default: off).
    ///
    /// ```
    /// let m = langsmith_reqwest::LangSmithMiddleware::new().record_child_runs(true);
    /// # let _ = m;
    /// ```
    pub fn record_child_runs(mut self, on: bool) -> Self {
        self.record_child_runs = on;
        self
    }

    /// The run type of the child runs (default: `tool`).
    ///
    /// ```
    /// use langsmith_core::RunType;
    /// let m = langsmith_reqwest::LangSmithMiddleware::new()
    ///     .record_child_runs(true)
    ///     .run_type(RunType::Retriever);
    /// # let _ = m;
    /// ```
    pub fn run_type(mut self, run_type: RunType) -> Self {
        self.run_type = run_type;
        self
    }
}

#[async_trait::async_trait]
impl Middleware for LangSmithMiddleware {
    async fn handle(
        &self,
        mut req: Request,
        extensions: &mut Extensions,
        next: Next<'_>,
    ) -> Result<Response> {
        if extensions.get::<NoPropagation>().is_some() {
            return next.run(req, extensions).await;
        }
        let parent = match extensions.get::<ParentRun>() {
            Some(ParentRun(ctx)) => Some(ctx.clone()),
            None => current_run(),
        };
        let Some(parent) = parent else {
            return next.run(req, extensions).await;
        };
        if !self.record_child_runs {
            inject(req.headers_mut(), &parent.to_headers());
            return next.run(req, extensions).await;
        }
        let template = extensions.get::<UrlTemplate>().map(|t| t.0.as_ref());
        let run = trace(run_name(&req, template))
            .run_type(self.run_type)
            .parent(&parent)
            .inputs(&serde_json::json!({
                "method": req.method().as_str(),
                "url": safe_url(req.url()),
            }))
            .start();
        // Inactive (tracing switched off): the caller's run is still passed on.
        let ctx = run.context().cloned().unwrap_or(parent);
        inject(req.headers_mut(), &ctx.to_headers());
        let mut guard = ChildGuard(Some(run));
        let result = next.run(req, extensions).in_run(Some(ctx)).await;
        match result {
            Ok(resp) => {
                let result = Ok(resp);
                guard.finish(&result, None);
                result
            }
            Err(err) => {
                let (err, text) = describe(err);
                let result = Err(err);
                guard.finish(&result, Some(text));
                result
            }
        }
    }
}
