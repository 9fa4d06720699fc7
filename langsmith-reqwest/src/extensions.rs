//! Per-request options, passed as request extensions
//! (`RequestBuilder::with_extension`).

use langsmith_core::RunContext;
use std::borrow::Cow;

/// Propagates (and parents child runs under) this run instead of the current
/// one. Useful where the ambient context is not available, e.g. in a task
/// started with plain `tokio::spawn`.
///
/// ```
/// use langsmith_core::{Client, MemorySink, RunTree};
/// use langsmith_reqwest::{LangSmithMiddleware, ParentRun};
/// use reqwest_middleware::{reqwest, ClientBuilder};
///
/// let client = Client::builder().sink(MemorySink::new()).build();
/// let run = RunTree::new("job").client(client).start();
/// let http = ClientBuilder::new(reqwest::Client::new()).with(LangSmithMiddleware::new()).build();
/// let request = http
///     .get("http://127.0.0.1:9/work")
///     .with_extension(ParentRun(run.context().unwrap().clone()));
/// # let _ = request;
/// ```
#[derive(Clone, Debug)]
pub struct ParentRun(pub RunContext);

/// Turns propagation off for one request: no headers are added and no child
/// run is recorded.
///
/// ```
/// use langsmith_reqwest::{LangSmithMiddleware, NoPropagation};
/// use reqwest_middleware::{reqwest, ClientBuilder};
///
/// let http = ClientBuilder::new(reqwest::Client::new()).with(LangSmithMiddleware::new()).build();
/// let request = http.get("http://127.0.0.1:9/third-party").with_extension(NoPropagation);
/// # let _ = request;
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct NoPropagation;

/// The path template of the request (e.g. `/users/{id}`), used instead of
/// the raw path in the name of the child run, so that runs of the same
/// endpoint share a name.
///
/// ```
/// use langsmith_reqwest::{LangSmithMiddleware, UrlTemplate};
/// use reqwest_middleware::{reqwest, ClientBuilder};
///
/// let http = ClientBuilder::new(reqwest::Client::new())
///     .with(LangSmithMiddleware::new().record_child_runs(true))
///     .build();
/// let request = http
///     .get("http://127.0.0.1:9/users/42")
///     .with_extension(UrlTemplate::new("/users/{id}"));
/// # let _ = request;
/// ```
#[derive(Clone, Debug)]
pub struct UrlTemplate(pub Cow<'static, str>);

impl UrlTemplate {
    /// A template such as `/users/{id}`.
    ///
    /// ```
    /// let t = langsmith_reqwest::UrlTemplate::new("/users/{id}");
    /// assert_eq!(t.0, "/users/{id}");
    /// ```
    pub fn new(template: impl Into<Cow<'static, str>>) -> Self {
        UrlTemplate(template.into())
    }
}
