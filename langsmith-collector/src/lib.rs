//! A LangSmith-compatible local collector: it speaks LangSmith's ingestion
//! API (`/runs/multipart`, `/runs/batch`, `/runs`, `/feedback`, `/info`),
//! stores runs in SQLite, and answers the read calls the official clients
//! make (`read_run`, `list_runs`, `read_project`, `list_feedback`).
//!
//! Use it as a binary (`langsmith-collector --addr 127.0.0.1:1984 --db
//! traces.sqlite`) or embedded, e.g. in tests:
//!
//! ```
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::time::Duration;
//! let collector = langsmith_collector::Collector::builder().start()?;
//! // Point any LangSmith SDK at it: LANGSMITH_ENDPOINT=<url>.
//! let url = collector.url();
//! # let id = "0193d5a2-0000-7000-8000-000000000001";
//! # langsmith_collector::doc_support::post_json(&format!("{url}/runs/batch"), &format!(
//! #   r#"{{"post":[{{"id":"{id}","name":"root","run_type":"chain","start_time":"2026-01-02T03:04:05Z",
//! #   "end_time":"2026-01-02T03:04:06Z","trace_id":"{id}","dotted_order":"20260102T030405000000Z{id}"}}]}}"#))?;
//! let runs = collector.wait_for_runs(1, Duration::from_secs(5));
//! assert_eq!(runs[0].name, "root");
//! collector.shutdown();
//! # Ok(()) }
//! ```

mod api_attachments;
mod api_ingest;
mod api_read;
mod body;
mod collector;
mod conn;
#[doc(hidden)]
pub mod doc_support;
mod fault;
mod filter;
mod ingest;
mod model;
pub mod multipart;
mod query;
mod record;
mod server;
mod store;
mod time;
mod viewer;

pub use collector::{
    Collector, CollectorBuilder, CollectorHandle, DEFAULT_BODY_LIMIT, Error, SDK_SIZE_LIMIT_BYTES,
};
pub use fault::Fault;
pub use model::{StoredAttachment, StoredFeedback, StoredRun};
pub use record::RecordedRequest;
