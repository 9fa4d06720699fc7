//! [`CurrentRun`]: the axum extractor.

use axum::extract::FromRequestParts;
use http::request::Parts;
use langsmith_core::{RunContext, current_run};
use std::convert::Infallible;

/// An axum extractor giving a handler the run context of its request (set
/// by [`LangSmithLayer`](crate::LangSmithLayer)), to start child runs under
/// it explicitly, read its ids, or pass it to spawned tasks. `None` when the
/// request is not traced. Never rejects.
///
/// Inside the handler the same context is also the ambient current run, so
/// `traceable(..)` calls nest under it without the extractor.
///
/// ```
/// use axum::{Router, routing::get};
/// use langsmith_tower::{CurrentRun, LangSmithLayer};
/// async fn handler(CurrentRun(run): CurrentRun) -> String {
///     run.map(|c| c.id().to_string()).unwrap_or_default()
/// }
/// let app: Router = Router::new().route("/", get(handler)).layer(LangSmithLayer::new());
/// # let _ = app;
/// ```
#[derive(Clone, Debug, Default)]
pub struct CurrentRun(pub Option<RunContext>);

impl CurrentRun {
    /// The run context, if the request is traced.
    ///
    /// ```
    /// assert!(langsmith_tower::CurrentRun(None).context().is_none());
    /// ```
    pub fn context(&self) -> Option<&RunContext> {
        self.0.as_ref()
    }

    /// Unwraps the run context.
    ///
    /// ```
    /// assert!(langsmith_tower::CurrentRun::default().into_inner().is_none());
    /// ```
    pub fn into_inner(self) -> Option<RunContext> {
        self.0
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CurrentRun {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Infallible> {
        Ok(CurrentRun(
            parts
                .extensions
                .get::<RunContext>()
                .cloned()
                .or_else(current_run),
        ))
    }
}
