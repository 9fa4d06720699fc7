//! LangSmith-compatible local collector.
