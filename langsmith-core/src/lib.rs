#![doc = include_str!("../README.md")]

mod builder;
mod client;
mod config;
mod context;
mod dotted_order;
mod exporter;
mod extra;
mod global;
mod handle;
pub mod headers;
mod id;
pub mod llm;
mod merge;
pub mod redact;
mod run;
pub mod server;
mod sink;
mod stats;
mod time;
mod traced;
mod warn;

pub use builder::{RunBuilder, RunTree, trace, traceable};
pub use client::{
    Client, ClientBuilder, FlushGuard, RedactFn, RootInfo, TraceRule, default_client,
    set_default_client,
};
pub use config::{
    ApiKey, Config, DEFAULT_ENDPOINT, DEFAULT_PROJECT, ExporterSettings, ReplicaEndpoint,
};
pub use context::{FutureExt, InRun, RunContext, current_run, in_run_sync, spawn};
pub use dotted_order::{DottedOrder, DottedOrderError};
pub use extra::{__private, TraceExtra, WithExtra, tracing_active, with_extra, with_extra_async};
pub use global::{set_tracing_enabled, tracing_override};
pub use handle::Run;
pub use id::uuid7;
pub use run::{Extra, Feedback, Payload, RunRecord, RunType, UnknownRunType, to_payload};
pub use sink::{Completion, CompletionSignal, MemorySink, RunOp, Sink};
pub use stats::Stats;
pub use time::Timestamp;
pub use traced::CANCELLED;
pub use uuid::Uuid;
pub use warn::RateLimited;
