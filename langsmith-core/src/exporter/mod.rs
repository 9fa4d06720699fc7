//! The background exporter (being written): ships runs to LangSmith.

use crate::config::Config;
use crate::sink::{Completion, RunOp, Sink};
use std::sync::Arc;

/// Starts the exporter for `config`.
pub(crate) fn start(config: &Config) -> Arc<dyn Sink> {
    let _ = config;
    Arc::new(Discard)
}

struct Discard;

impl Sink for Discard {
    fn submit(&self, _op: RunOp) {}
    fn flush(&self) -> Completion {
        Completion::done()
    }
}
