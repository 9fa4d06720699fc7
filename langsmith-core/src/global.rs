//! Process-wide switches.

use std::sync::atomic::{AtomicU8, Ordering};

const UNSET: u8 = 0;
const ON: u8 = 1;
const OFF: u8 = 2;

static OVERRIDE: AtomicU8 = AtomicU8::new(UNSET);

/// Overrides `LANGSMITH_TRACING` for the whole process at run time:
/// `Some(true)` traces, `Some(false)` stops all tracing through the ambient
/// APIs, `None` goes back to each client's configuration. The low-level
/// [`crate::RunTree`] API always records, as in the official SDKs.
///
/// ```
/// langsmith_core::set_tracing_enabled(Some(false));
/// assert_eq!(langsmith_core::tracing_override(), Some(false));
/// langsmith_core::set_tracing_enabled(None);
/// ```
pub fn set_tracing_enabled(on: Option<bool>) {
    let v = match on {
        None => UNSET,
        Some(true) => ON,
        Some(false) => OFF,
    };
    OVERRIDE.store(v, Ordering::Relaxed);
}

/// The run-time override set by [`set_tracing_enabled`], if any.
///
/// ```
/// let _ = langsmith_core::tracing_override();
/// ```
pub fn tracing_override() -> Option<bool> {
    match OVERRIDE.load(Ordering::Relaxed) {
        ON => Some(true),
        OFF => Some(false),
        _ => None,
    }
}
