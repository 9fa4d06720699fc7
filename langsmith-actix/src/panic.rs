//! Catching a panic in a poll to record it, then passing it on.

use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

/// Runs `f`, catching a panic.
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Box<dyn Any + Send>> {
    // The caught panic is always resumed after the run is recorded, so no
    // broken state is observed by anyone.
    catch_unwind(AssertUnwindSafe(f))
}

/// Resumes a caught panic.
pub(crate) fn resume(panic: Box<dyn Any + Send>) -> ! {
    resume_unwind(panic)
}
