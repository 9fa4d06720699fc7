//! `#[traceable]` in a small retrieval-augmented pipeline. Runs are kept in
//! memory and printed as a tree; with `LANGSMITH_API_KEY` and
//! `LANGSMITH_TRACING=true` set, use `Client::from_env()` instead to send
//! them to LangSmith.
//!
//! `cargo run -p langsmith-macros --example traceable`
#![allow(clippy::unwrap_used, missing_docs)]

use langsmith::{
    Client, MemorySink, RunRecord, TraceExtra, set_default_client, traceable, uuid7,
    with_extra_async,
};

#[traceable(run_type = "retriever", metadata(index = "faq"))]
async fn retrieve(query: &str, k: usize) -> Vec<String> {
    (0..k).map(|i| format!("doc {i} about {query}")).collect()
}

#[traceable(
    run_type = "llm",
    metadata(ls_provider = "example", ls_model_name = "echo-1"),
    redact(api_key)
)]
async fn generate(prompt: String, api_key: &str) -> Result<String, std::io::Error> {
    let _ = api_key;
    Ok(format!(
        "Answer based on {} characters of context",
        prompt.len()
    ))
}

#[traceable(name = "RAG pipeline", tags("example"))]
async fn rag(question: &str) -> Result<String, std::io::Error> {
    let docs = retrieve(question, 2).await;
    generate(docs.join("\n"), "sk-not-a-real-key").await
}

fn print_tree(runs: &[RunRecord], parent: Option<langsmith::Uuid>, depth: usize) {
    for r in runs.iter().filter(|r| r.parent_run_id == parent) {
        println!(
            "{:indent$}{} [{}] inputs={} outputs={} error={:?}",
            "",
            r.name,
            r.run_type,
            r.inputs.as_ref().map_or("-", |p| p.get()),
            r.outputs.as_ref().map_or("-", |p| p.get()),
            r.error,
            indent = depth * 2
        );
        print_tree(runs, Some(r.id), depth + 1);
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let sink = MemorySink::new();
    set_default_client(
        Client::builder()
            .sink(sink.clone())
            .tracing(Some(true))
            .build(),
    );

    // A run id known in advance (e.g. to attach user feedback later).
    let run_id = uuid7();
    let answer = with_extra_async(
        TraceExtra::new()
            .run_id(run_id)
            .metadata("thread_id", "conversation-1"),
        rag("How do refunds work?"),
    )
    .await
    .unwrap();
    println!("{answer}\nroot run id: {run_id}\n");

    let mut runs = sink.runs();
    runs.sort_by(|a, b| a.dotted_order.cmp(&b.dotted_order));
    print_tree(&runs, None, 0);
}
