//! LangSmith tracing for Rust services.
pub use langsmith_core::*;

/// `#[traceable]`: trace every call of a function as a LangSmith run
/// (`macros` feature, on by default). See [`langsmith_macros::traceable`].
///
/// ```
/// use langsmith::traceable;
///
/// #[traceable(run_type = "tool")]
/// fn add(a: i32, b: i32) -> i32 {
///     a + b
/// }
/// assert_eq!(add(1, 2), 3);
/// // The function `traceable` (the builder API) lives on under the same name:
/// let n = langsmith::traceable("inline").call(|| 1);
/// assert_eq!(n, 1);
/// ```
#[cfg(feature = "macros")]
pub use langsmith_macros::traceable;

/// Outgoing trace propagation for reqwest (`reqwest` feature).
#[cfg(feature = "reqwest")]
pub use langsmith_reqwest as reqwest;

/// actix-web middleware and extractor (`actix` feature).
#[cfg(feature = "actix")]
pub use langsmith_actix as actix;

/// tower `Layer` for servers, axum extractor, client-side propagation (`tower` / `axum` features).
#[cfg(feature = "tower")]
pub use langsmith_tower as tower;
