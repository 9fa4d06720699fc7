//! Run ids: UUID v7, as the official SDKs create them.

use std::sync::atomic::{AtomicBool, Ordering};
use uuid::Uuid;

/// A new UUID v7 (time-ordered), the id format LangSmith expects for runs.
///
/// ```
/// let id = langsmith_core::uuid7();
/// assert_eq!(id.get_version_num(), 7);
/// ```
pub fn uuid7() -> Uuid {
    Uuid::now_v7()
}

static WARNED_NON_V7: AtomicBool = AtomicBool::new(false);

/// Accepts a caller-chosen run id. A non-v7 id still works, but LangSmith
/// orders and partitions runs by the time inside v7 ids, so the first one in
/// the process is reported with a warning, as the official SDKs do.
pub(crate) fn check_custom_id(id: Uuid) -> Uuid {
    if id.get_version_num() != 7 && !WARNED_NON_V7.swap(true, Ordering::Relaxed) {
        tracing::warn!(
            run_id = %id,
            "LangSmith run ids should be UUID v7 (use langsmith::uuid7()); \
             other versions are accepted but sort badly. This is reported once per process."
        );
    }
    id
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_v7_and_ordered() {
        let a = uuid7();
        let b = uuid7();
        assert_eq!(a.get_version_num(), 7);
        assert!(b > a, "v7 ids made one after the other sort in order");
    }

    #[test]
    fn non_v7_is_kept() {
        let v4 = Uuid::new_v4();
        assert_eq!(check_custom_id(v4), v4);
        assert!(WARNED_NON_V7.load(Ordering::Relaxed));
    }
}
