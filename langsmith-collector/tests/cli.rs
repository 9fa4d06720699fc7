//! The `langsmith-collector` binary: `--help`, bad arguments, and a real
//! run with an API key, stopped by SIGTERM.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

const BIN: &str = env!("CARGO_BIN_EXE_langsmith-collector");

#[test]
fn help_and_bad_arguments() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in ["--addr", "--db", "--api-key", "--body-limit"] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
    let out = Command::new(BIN).arg("--frobnicate").output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("unknown argument"));
    let out = Command::new(BIN).args(["--addr", "nope"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[cfg(unix)]
#[test]
fn serves_with_api_key_and_stops_on_sigterm() {
    let dir = std::env::temp_dir().join(format!(
        "lsc-cli-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("traces.sqlite");
    let mut child = Command::new(BIN)
        .args(["--addr", "127.0.0.1:0", "--api-key", "KEY", "--db"])
        .arg(&db)
        .env("RUST_LOG", "warn")
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut addr: Option<SocketAddr> = None;
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut line = String::new();
    while addr.is_none() && Instant::now() < deadline {
        line.clear();
        if stderr.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(rest) = line.split("listening on http://").nth(1) {
            addr = rest.split_whitespace().next().and_then(|a| a.parse().ok());
        }
    }
    let addr = addr.expect("the binary printed its address");
    let r = replay(addr, "python-sdk-multipart.json");
    assert_eq!(r.status, 401);
    let r = send(
        addr,
        "POST",
        "/runs",
        &[("x-api-key", "KEY"), ("Content-Type", "application/json")],
        run_doc("0193d5a2-0000-7000-8000-000000000001", None, "cli")
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    assert_eq!(r.status, 202);
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(20);
    let exit = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < deadline, "did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success());
    // What it stored is in the file.
    let c = langsmith_collector::Collector::builder()
        .db_path(&db)
        .start()
        .unwrap();
    assert_eq!(c.runs()[0].name, "cli");
    c.shutdown();
    std::fs::remove_dir_all(&dir).unwrap();
}
