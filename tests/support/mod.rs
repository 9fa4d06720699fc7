//! Helpers shared by the end-to-end tests: finding the Python interpreter
//! with the official SDK, and running Python programs next to the test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The Python interpreter with the official `langsmith` package
/// (`LANGSMITH_TEST_PYTHON`, set by `scripts/test.sh`). Under `CI=true` a
/// missing interpreter fails the test; otherwise the test is skipped loudly.
pub fn python() -> Option<PathBuf> {
    match std::env::var_os("LANGSMITH_TEST_PYTHON") {
        Some(p) if !p.is_empty() => Some(PathBuf::from(p)),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!(
                "CI=true but LANGSMITH_TEST_PYTHON is not set: run the tests with scripts/test.sh"
            )
        }
        _ => {
            eprintln!(
                "\n=== SKIPPED: interop test needs the official Python SDK. \
                 Run scripts/test.sh, or set LANGSMITH_TEST_PYTHON to a python with `langsmith` installed. ===\n"
            );
            None
        }
    }
}

/// Path of a Python script in `tests/py/`.
pub fn script(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/py")
        .join(name)
}

/// A command running `tests/py/{script_name}` with `args`, without the
/// `LANGSMITH_*`/`LANGCHAIN_*` variables of the test's own environment, and
/// with `env` (plus `NO_PROXY` for loopback).
fn python_command(py: &PathBuf, script_name: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut cmd = Command::new(py);
    for (k, _) in std::env::vars() {
        if k.starts_with("LANGSMITH_") || k.starts_with("LANGCHAIN_") {
            cmd.env_remove(k);
        }
    }
    cmd.arg(script(script_name))
        .args(args)
        .env("NO_PROXY", "127.0.0.1,localhost");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd
}

/// The JSON a Python script printed on stdout; panics with its stderr when it
/// failed.
fn printed_json(script_name: &str, out: std::process::Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "{script_name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{script_name} printed no JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

/// Runs a Python script to its end and returns the JSON it printed.
pub fn run_python(
    py: &PathBuf,
    script_name: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> serde_json::Value {
    let out = python_command(py, script_name, args, env)
        .output()
        .expect("run python");
    printed_json(script_name, out)
}

/// [`run_python`] without blocking the runtime (for scripts that call a
/// server this test runs on it).
pub async fn run_python_async(
    py: &PathBuf,
    script_name: &str,
    args: &[&str],
    env: &[(&str, &str)],
) -> serde_json::Value {
    let cmd = tokio::process::Command::from(python_command(py, script_name, args, env));
    let out = { cmd }.output().await.expect("run python");
    printed_json(script_name, out)
}

/// A child process that is killed when dropped.
pub struct Proc(pub Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts a Python server script that prints its port on the first line of
/// stdout; returns the process and the port.
pub fn start_python_server(py: &PathBuf, script_name: &str, env: &[(&str, &str)]) -> (Proc, u16) {
    let mut cmd = Command::new(py);
    cmd.arg(script(script_name))
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .env_remove("LANGSMITH_ENDPOINT")
        .env_remove("LANGSMITH_API_KEY");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start python");
    let stdout = child.stdout.take().expect("stdout");
    let proc = Proc(child);
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(60))
        .expect("python server printed its port");
    let port = line.trim().parse().expect("a port number");
    (proc, port)
}

/// Polls `f` until it returns `Some` or `timeout` passes.
pub fn eventually<T>(timeout: Duration, mut f: impl FnMut() -> Option<T>) -> Option<T> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = f() {
            return Some(v);
        }
        if Instant::now() > deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
