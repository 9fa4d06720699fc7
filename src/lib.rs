//! LangSmith tracing for Rust services.
pub use langsmith_core::*;

/// Outgoing trace propagation for reqwest (`reqwest` feature).
#[cfg(feature = "reqwest")]
pub use langsmith_reqwest as reqwest;

/// actix-web middleware and extractor (`actix` feature).
#[cfg(feature = "actix")]
pub use langsmith_actix as actix;

/// tower `Layer` for servers, axum extractor, client-side propagation (`tower` / `axum` features).
#[cfg(feature = "tower")]
pub use langsmith_tower as tower;
