//! LangSmith tracing for Rust services.
pub use langsmith_core::*;
