//! LangSmith tracing for Rust services.
pub use langsmith_core::*;

/// Outgoing trace propagation for reqwest (`reqwest` feature).
#[cfg(feature = "reqwest")]
pub use langsmith_reqwest as reqwest;
