//! [`LangSmithLayer`].

use crate::LangSmithService;
use langsmith_core::server::ServerOptions;
use tower::Layer;

/// A tower [`Layer`] that traces every request as a LangSmith run; see the
/// [crate documentation](crate) and [`ServerOptions`] for what is traced
/// and recorded.
///
/// With axum, apply it with `Router::layer` (it then runs after routing and
/// sees the route template in `MatchedPath`, and unmatched requests that
/// reach the fallback are traced by raw path). `Router::route_layer` traces
/// matched routes only. Wrapping the whole `Router` from outside (e.g.
/// `ServiceBuilder::new().layer(..).service(router)`) runs before routing:
/// no route template is known and runs are named after the path with
/// id-like segments replaced.
///
/// A panic in the handler is recorded as the run's error (`panicked: ...`)
/// and then goes on unwinding: axum alone then drops the connection. With
/// tower-http's `CatchPanicLayer` added after this layer (outside it) the
/// client gets a 500 and the run still records the panic; added before
/// (inside), the run sees the 500 and records `HTTP 500 Internal Server Error`.
///
/// ```
/// use axum::{Router, routing::get};
/// use langsmith_tower::LangSmithLayer;
/// let app: Router = Router::new()
///     .route("/chat", get(|| async { "ok" }))
///     .layer(LangSmithLayer::new());
/// # let _ = app;
/// ```
#[derive(Clone, Debug, Default)]
pub struct LangSmithLayer {
    opts: ServerOptions,
}

impl LangSmithLayer {
    /// A layer with the default [`ServerOptions`] (the default client).
    ///
    /// ```
    /// let layer = langsmith_tower::LangSmithLayer::new();
    /// # let _ = layer;
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// A layer with `opts`.
    ///
    /// ```
    /// use langsmith_tower::{LangSmithLayer, ServerOptions};
    /// let layer = LangSmithLayer::with_options(ServerOptions::new().skip_paths(["/health"]));
    /// # let _ = layer;
    /// ```
    pub fn with_options(opts: ServerOptions) -> Self {
        LangSmithLayer { opts }
    }

    /// The options in force.
    ///
    /// ```
    /// let layer = langsmith_tower::LangSmithLayer::new();
    /// let _opts = layer.options();
    /// ```
    pub fn options(&self) -> &ServerOptions {
        &self.opts
    }
}

impl From<ServerOptions> for LangSmithLayer {
    fn from(opts: ServerOptions) -> Self {
        LangSmithLayer::with_options(opts)
    }
}

impl<S> Layer<S> for LangSmithLayer {
    type Service = LangSmithService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        LangSmithService::new(inner, self.opts.clone())
    }
}
