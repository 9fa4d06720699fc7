//! Redaction happens before runs leave the process, and keeps their shape.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use langsmith_core::redact::Anonymizer;
use langsmith_core::*;
use serde_json::json;

/// Records one run with sensitive inputs, outputs and metadata through a
/// client built from `client_builder`, and returns what the sink received.
fn record(client_builder: ClientBuilder) -> RunRecord {
    let sink = MemorySink::new();
    let client = client_builder.sink(sink.clone()).build();
    let mut run = RunTree::new("r")
        .client(client)
        .metadata("email", "a@b.co")
        .start();
    run.set_inputs(&json!({"q": "call me at bob@example.com", "password": "hunter2"}));
    run.set_outputs(&json!({"a": "token sk-abcdefghijklmnopqrstu"}));
    run.end();
    sink.runs().into_iter().next().expect("one run")
}

#[test]
fn hide_flags_from_env_replace_with_empty_objects() {
    let cfg = Config::from_lookup(|k| {
        matches!(
            k,
            "LANGSMITH_HIDE_INPUTS" | "LANGSMITH_HIDE_OUTPUTS" | "LANGSMITH_HIDE_METADATA"
        )
        .then(|| "true".to_string())
    });
    let rec = record(Client::builder().config(cfg));
    assert_eq!(rec.inputs.unwrap().get(), "{}");
    assert_eq!(rec.outputs.unwrap().get(), "{}");
    assert!(rec.extra.metadata.is_empty());
}

#[test]
fn functions_and_anonymizer_keep_shape() {
    let rec = record(
        Client::builder()
            .config(Config::default())
            .anonymizer(Anonymizer::with_defaults().key("email")),
    );
    let inputs: serde_json::Value = serde_json::from_str(rec.inputs.unwrap().get()).unwrap();
    assert_eq!(
        inputs,
        json!({"q": "call me at <redacted>", "password": "<redacted>"})
    );
    let outputs: serde_json::Value = serde_json::from_str(rec.outputs.unwrap().get()).unwrap();
    assert_eq!(outputs, json!({"a": "token <redacted>"}));
    assert_eq!(rec.extra.metadata["email"], "<redacted>");

    let rec = record(
        Client::builder()
            .config(Config::default())
            .hide_inputs(|mut v| {
                v["q"] = json!("<hidden>");
                v
            }),
    );
    let inputs: serde_json::Value = serde_json::from_str(rec.inputs.unwrap().get()).unwrap();
    assert_eq!(inputs, json!({"q": "<hidden>", "password": "hunter2"}));
    assert!(
        rec.outputs
            .unwrap()
            .get()
            .contains("sk-abcdefghijklmnopqrstu")
    );
}
