//! Runs the demo binary built by `cargo test` and checks the trees it prints.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;
use std::process::Command;

/// `target/<profile>/examples/<name>`, next to this test's own binary.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    profile_dir.join("examples").join(name)
}

#[test]
fn distributed_demo_prints_the_expected_trees() {
    let bin = example("distributed");
    assert!(bin.exists(), "{} is built by cargo test", bin.display());
    let out = Command::new(&bin)
        .env_remove("LANGSMITH_API_KEY")
        .env_remove("LANGCHAIN_API_KEY")
        .env_remove("LANGSMITH_ENDPOINT")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "demo failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("dropped 0"), "{stdout}");
    // Two traces of 8 runs, each shaped like this (durations vary).
    let shape: Vec<(usize, &str)> = vec![
        (0, "support_agent [chain]"),
        (1, "GET /answer [chain]"),
        (2, "plan_answer [chain]"),
        (3, "retrieve_docs [retriever]"),
        (3, "GET /llm [chain]"),
        (4, "chat_model [llm]"),
        (3, "GET /inventory/{item} [chain]"),
        (4, "inventory_lookup [tool]"),
    ];
    let traces: Vec<&str> = stdout.split("\ntrace ").skip(1).collect();
    assert_eq!(traces.len(), 2, "{stdout}");
    for (i, t) in traces.iter().enumerate() {
        assert!(
            t.lines()
                .next()
                .unwrap()
                .contains("(8 runs, project langsmith-rs-demo)"),
            "{t}"
        );
        let lines: Vec<&str> = t.lines().skip(1).take(8).collect();
        for ((depth, label), line) in shape.iter().zip(&lines) {
            let indent = line.chars().position(|c| c == '└' || c == '├').unwrap() / 3;
            assert_eq!(indent, *depth, "depth of {label:?} in {line:?}");
            assert!(line.contains(label), "{line:?} should show {label:?}");
        }
        assert!(t.contains("feedback: user_score = 1.0"), "{t}");
        let failing = i == 1;
        assert_eq!(
            lines[6].contains("ERROR: HTTP 500"),
            failing,
            "{}",
            lines[6]
        );
        assert_eq!(
            lines[7].contains(r#"ERROR: item "hats" is not in the catalogue"#),
            failing,
            "{}",
            lines[7]
        );
        assert!(!lines[..6].iter().any(|l| l.contains("ERROR")), "{t}");
    }
}
