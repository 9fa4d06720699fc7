//! The trace viewer in a real browser: starts a collector, ingests the
//! demo-like distributed trace through the ingest API, and runs
//! `tests/browser/viewer.mjs` (headless Chromium through playwright-core),
//! once without and once with an API key. Screenshots go to the
//! repository's `artifacts/` (`viewer.png`, `viewer-list.png`,
//! `viewer-api-key.png`).
//!
//! Needs `/usr/bin/chromium`, `node` and `tests/browser/node_modules`
//! (`scripts/setup-browser.sh` installs them). Without them the tests print
//! SKIPPED and pass, except under `CI=true`, where they fail.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;
mod viewer_data;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use langsmith_collector::Collector;
use serde_json::json;
use viewer_data::*;

/// One browser at a time: the machine is small.
static BROWSER: Mutex<()> = Mutex::new(());

const NODE_TIMEOUT: Duration = Duration::from_secs(240);

struct Browser {
    chromium: PathBuf,
    node: PathBuf,
    dir: PathBuf,
}

/// Chromium, node and playwright-core, or why not.
fn find_browser() -> Result<Browser, String> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/browser");
    let chromium = std::env::var_os("CHROMIUM")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/bin/chromium"));
    let mut missing = Vec::new();
    if !chromium.is_file() {
        missing.push(format!("{} (Debian package chromium)", chromium.display()));
    }
    let node = PathBuf::from("node");
    let node_ok = Command::new(&node)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !node_ok {
        missing.push("node".to_owned());
    }
    if !dir
        .join("node_modules/playwright-core/package.json")
        .is_file()
    {
        missing.push(format!("{}/node_modules/playwright-core", dir.display()));
    }
    if missing.is_empty() {
        Ok(Browser {
            chromium,
            node,
            dir,
        })
    } else {
        Err(missing.join(", "))
    }
}

/// The browser, or `None` after a loud SKIPPED (a failure under CI).
fn browser_or_skip(test: &str) -> Option<Browser> {
    match find_browser() {
        Ok(b) => Some(b),
        Err(missing) => {
            let msg =
                format!("{test}: missing {missing}; run scripts/setup-browser.sh to install them");
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("CI=true and the browser test cannot run: {msg}");
            }
            eprintln!("\n!!!!!!!!!!\nSKIPPED: {msg}\n!!!!!!!!!!\n");
            None
        }
    }
}

fn artifacts() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../artifacts")
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!(
        "lsc-viewer-{tag}-{}-{}",
        std::process::id(),
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs the Node script; its output, and whether it passed.
fn run_node(b: &Browser, envs: &[(&str, &Path)], strs: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new(&b.node);
    cmd.arg("viewer.mjs")
        .current_dir(&b.dir)
        .env("CHROMIUM", &b.chromium)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in envs {
        cmd.env(k, v);
    }
    for (k, v) in strs {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start node");
    let mut out = child.stdout.take().unwrap();
    let mut err = child.stderr.take().unwrap();
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + NODE_TIMEOUT;
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break Some(s);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let output = format!(
        "--- stdout\n{}--- stderr\n{}",
        t_out.join().unwrap_or_default(),
        t_err.join().unwrap_or_default()
    );
    match status {
        Some(s) => (s.success(), output),
        None => (
            false,
            format!("node did not finish within {NODE_TIMEOUT:?}\n{output}"),
        ),
    }
}

fn run_viewer_test(test: &str, key: Option<&str>, screenshot: &str) {
    let Some(browser) = browser_or_skip(test) else {
        return;
    };
    let _one = BROWSER.lock().unwrap_or_else(|p| p.into_inner());
    let mut builder = Collector::builder();
    if let Some(k) = key {
        builder = builder.api_key(Some(k));
    }
    let c = builder.start().unwrap();
    let demo = ingest_demo(c.addr(), key);
    let tmp = temp_dir(test);
    let plan = json!({
        "trace_id": demo.trace_id.to_string(),
        "root_name": demo.names[0],
        "project": PROJECT,
        "names": demo.names,
        "names_after": demo.names_after,
        "error_run": demo.error_run,
        "script_run": demo.script_run,
        "inputs_run": demo.inputs_run,
        "inputs_text": demo.inputs_text,
        "attachment": ATTACHMENT,
        "collapse_run": demo.collapse_run,
        "late_batch": demo.late_batch,
        "other_traces": demo.other_traces,
    });
    let plan_path = tmp.join("plan.json");
    std::fs::write(&plan_path, plan.to_string()).unwrap();
    let profile = tmp.join("profile");
    std::fs::create_dir_all(&profile).unwrap();
    std::fs::create_dir_all(artifacts()).unwrap();
    let shot = artifacts().join(screenshot);
    let (ok, output) = run_node(
        &browser,
        &[
            ("VIEWER_PLAN", &plan_path),
            ("VIEWER_SCREENSHOT", &shot),
            ("VIEWER_USER_DATA_DIR", &profile),
        ],
        &[
            ("VIEWER_URL", &c.url()),
            ("VIEWER_API_KEY", key.unwrap_or_default()),
        ],
    );
    println!("{output}");
    let _ = std::fs::remove_dir_all(&tmp);
    assert!(ok, "the browser test failed:\n{output}");
    assert!(shot.is_file(), "no screenshot at {}", shot.display());
    // The page's API calls went through the collector like any other.
    let runs = c.trace(demo.trace_id);
    assert_eq!(runs.len(), demo.names_after.len());
}

#[test]
fn viewer_in_chromium() {
    run_viewer_test("viewer", None, "viewer.png");
}

#[test]
fn viewer_in_chromium_with_api_key() {
    run_viewer_test(
        "viewer-api-key",
        Some("viewer-test-key"),
        "viewer-api-key.png",
    );
}
