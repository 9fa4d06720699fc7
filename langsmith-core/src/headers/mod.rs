//! Header codec for distributed tracing: `langsmith-trace` and `baggage`.
//! (Being written: this is the interface the rest of core codes against.)

use crate::DottedOrder;
use serde_json::{Map, Value};

/// Name of the header that carries the caller's `dotted_order`.
pub const TRACE_HEADER: &str = "langsmith-trace";
/// Name of the W3C baggage header.
pub const BAGGAGE_HEADER: &str = "baggage";

/// What LangSmith puts into W3C baggage, plus the entries of other systems.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baggage {
    /// `langsmith-metadata`: metadata every downstream run inherits.
    pub metadata: Map<String, Value>,
    /// `langsmith-tags`: tags every downstream run inherits.
    pub tags: Vec<String>,
    /// `langsmith-project`: the project downstream runs go to.
    pub project: Option<String>,
    /// `langsmith-sampled`: `Some(false)` when the trace was not sampled.
    pub sampled: Option<bool>,
    /// `langsmith-replicas`: extra projects each run is also written to.
    pub replicas: Vec<ReplicaHint>,
    /// Entries of other systems, kept verbatim and re-emitted downstream.
    pub foreign: Vec<String>,
}

/// A replica named in incoming baggage: only a project name and field
/// updates are honoured; endpoints and credentials are never taken from a header.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaHint {
    /// The project the replica writes to.
    pub project_name: Option<String>,
    /// Fields to override on the replicated run.
    pub updates: Option<Map<String, Value>>,
}

/// The trace context carried by incoming headers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncomingContext {
    /// The caller's dotted order: the new run becomes its child.
    pub parent: Option<DottedOrder>,
    /// The decoded baggage.
    pub baggage: Baggage,
}
