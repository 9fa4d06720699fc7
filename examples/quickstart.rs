//! Quickstart: trace your own functions.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Three ways to make runs; each one is a child of the run that is current
//! where it starts, so they nest by themselves:
//!
//! - `#[langsmith::traceable]` on a function (Python's `@traceable`): each
//!   call is a run, the arguments are its inputs, the return value its
//!   outputs, an `Err` (or a panic) its error;
//! - `langsmith::traceable(name)…call(|| ..)`: the same for one call site;
//! - `langsmith::trace(name)…start()` … `run.end()`: a scope you end yourself
//!   (Python's `with trace(...)`).
//!
//! Without `LANGSMITH_API_KEY` the runs go to a collector started in this
//! process and are printed as a tree; with it they go to LangSmith.

mod support;

use langsmith::{RunType, trace, traceable};
use serde_json::json;
use std::error::Error;

/// A retriever: a run of type `retriever`, inputs `{"query": ..}`, outputs
/// `{"output": [..]}`.
#[traceable(run_type = "retriever")]
async fn retrieve(query: &str) -> Vec<String> {
    let docs = ["Socks ship within 2 days.", "Returns are free for 30 days."];
    let words: Vec<String> = query
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.len() > 3)
        .map(str::to_lowercase)
        .collect();
    docs.iter()
        .filter(|doc| {
            words
                .iter()
                .any(|w| doc.to_lowercase().contains(w.as_str()))
        })
        .map(|doc| doc.to_string())
        .collect()
}

/// A model call. The `ls_*` metadata tells LangSmith the provider and model.
#[traceable(
    run_type = "llm",
    metadata(ls_provider = "example", ls_model_name = "echo-1")
)]
async fn generate(prompt: String) -> Result<String, String> {
    if prompt.trim().is_empty() {
        return Err("empty prompt".to_string());
    }
    Ok(format!("Here is what I found: {prompt}"))
}

/// The pipeline; the runs of the calls it makes nest under its run.
#[traceable(name = "answer_question")]
async fn answer(question: &str) -> Result<String, String> {
    let docs = retrieve(question).await;
    // One call traced in place, without a function of its own.
    let prompt = traceable("format_prompt")
        .run_type(RunType::Prompt)
        .inputs(&json!({ "docs": docs }))
        .call(|| docs.join(" "));
    generate(prompt).await
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn Error>> {
    let destination = support::Destination::from_env("langsmith-rs-quickstart")?;

    // A scope: everything awaited through `session.instrument(..)` happens
    // inside this run.
    let questions = ["When do socks ship?", "What about hats?"];
    let mut session = trace("quickstart")
        .inputs(&json!({ "questions": questions }))
        .start();
    let mut answers = Vec::new();
    for question in questions {
        let answer = session.instrument(answer(question)).await;
        match &answer {
            Ok(text) => println!("{question} -> {text}"),
            // The error is recorded on the failing runs; the session goes on.
            Err(e) => println!("{question} -> could not answer: {e}"),
        }
        answers.push(answer.unwrap_or_default());
    }
    session.set_outputs(&json!({ "answers": answers }));
    let trace_id = session.context().map(|ctx| ctx.trace_id());
    session.end();

    destination.finish(trace_id.as_slice());
    Ok(())
}
