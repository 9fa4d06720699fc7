//! The low-level API: `RunTree`, like the official SDKs' `RunTree`.
//!
//! ```text
//! cargo run --example run_tree
//! ```
//!
//! Runs are created and linked explicitly (`RunTree::new`, `run.child`); no
//! ambient context is read or set, and they are recorded whatever
//! `LANGSMITH_TRACING` says. You decide when they are sent: `post()` when a
//! run starts (it shows as running), `patch()` for progress, `end()` when it
//! is done.
//!
//! The root's id is chosen up front with `uuid7()` (time-ordered, like the
//! SDKs' ids), so feedback can be attached later, from anywhere, knowing only
//! that id — e.g. when a user rates the answer.
//!
//! Without `LANGSMITH_API_KEY` the runs go to a collector started in this
//! process and are printed as a tree; with it they go to LangSmith.

mod support;

use langsmith::llm::{LlmParams, Usage};
use langsmith::{Feedback, RunTree, RunType, uuid7};
use serde_json::json;
use std::error::Error;

const TICKET: &str = "Order #1234: the socks arrived in the wrong size. Please send a medium.";

fn main() -> Result<(), Box<dyn Error>> {
    let destination = support::Destination::from_env("langsmith-rs-run-tree")?;
    let client = destination.client().clone();

    // The id is ours: store it with the ticket, show it to the user, ...
    let run_id = uuid7();
    println!("run id chosen in advance: {run_id}");

    let mut pipeline = RunTree::new("handle_ticket")
        .client(client.clone())
        .id(run_id)
        .inputs(&json!({ "ticket": TICKET }))
        .tag("support")
        .metadata("ticket_id", 1234)
        .start();
    pipeline.post(); // visible (as running) before anything else happens

    let extract = pipeline
        .child("extract_fields")
        .run_type(RunType::Parser)
        .inputs(&json!({ "text": TICKET }))
        .start();
    let fields = json!({ "order": 1234, "item": "socks", "wanted_size": "M" });
    extract.end_with_outputs(&fields);

    // Progress on a run that is still open.
    pipeline.add_metadata("stage", "drafting reply");
    pipeline.patch();

    let mut llm = pipeline
        .child("draft_reply")
        .run_type(RunType::Llm)
        .llm_params(&LlmParams::new("example", "echo-1").temperature(0.0))
        .inputs(&json!({ "messages": [{ "role": "user", "content": TICKET }] }))
        .start();
    let reply = "Sorry about that! A medium pair is on its way.";
    llm.set_usage(&Usage::new(31, 12));
    llm.end_with_outputs(
        &json!({ "choices": [{ "message": { "role": "assistant", "content": reply } }] }),
    );

    pipeline.end_with_outputs(&json!({ "reply": reply }));

    // Later, elsewhere: the id is all it takes.
    client.create_feedback(
        Feedback::new(run_id, "helpfulness")
            .score(1.0)
            .comment("customer said thanks"),
    );
    println!("feedback sent for run {run_id}");

    // A root's trace id is its own id.
    destination.finish(&[run_id]);
    Ok(())
}
