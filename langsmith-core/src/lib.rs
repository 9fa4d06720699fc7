//! Core of the LangSmith Rust SDK.
#![doc = include_str!("../README.md")]

mod dotted_order;
pub mod headers;
mod id;
mod time;

pub use dotted_order::{DottedOrder, DottedOrderError};
pub use id::uuid7;
pub use time::Timestamp;
pub use uuid::Uuid;
