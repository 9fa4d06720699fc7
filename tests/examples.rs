//! Runs the example binaries built by `cargo test` and checks what they do:
//! the demo's trees, the offline examples' trees, and the services driven
//! from outside (a client → actix → axum chain, `/health` untraced, graceful
//! shutdown on SIGTERM with a request in flight) against an in-process
//! collector.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use langsmith_collector::{Collector, CollectorHandle, StoredRun};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};
use uuid::Uuid;

/// `target/<profile>/examples/<name>`, next to this test's own binary.
///
/// A plain `cargo test` builds the examples before running tests; with a
/// target filter (`cargo test --test examples`) it does not, so build them
/// first (`cargo build --examples --all-features`). A binary older than its
/// source fails here rather than testing old code.
fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let bin = profile_dir.join("examples").join(name);
    let modified = |p: &std::path::Path| p.metadata().and_then(|m| m.modified()).ok();
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples");
    let main = src.join(format!("{name}.rs"));
    let uses_support = std::fs::read_to_string(&main).is_ok_and(|s| s.contains("mod support;"));
    let support = uses_support.then(|| src.join("support/mod.rs"));
    for source in std::iter::once(main).chain(support) {
        if let (Some(built), Some(written)) = (modified(&bin), modified(&source)) {
            assert!(
                built >= written,
                "{} is older than {}: run `cargo build --examples --all-features`",
                bin.display(),
                source.display()
            );
        }
    }
    bin
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
        assert!(
            lines[3].contains("attached: docs (text/markdown, 44 B)"),
            "the retriever's attachment: {}",
            lines[3]
        );
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

// ------------------------------------------------------------------ helpers

/// An example's command with an empty environment: no `LANGSMITH_*`,
/// `LANGCHAIN_*` or proxy settings of the machine running the tests.
fn example_cmd(name: &str) -> Command {
    let bin = example(name);
    assert!(bin.exists(), "{} is built by cargo test", bin.display());
    let mut cmd = Command::new(bin);
    cmd.env_clear();
    cmd
}

/// Runs `cmd` to completion, killing it (and failing) after `timeout`.
fn run_bounded(mut cmd: Command, timeout: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let read = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            buf
        })
    };
    let stdout = read(Box::new(child.stdout.take().unwrap()));
    let stderr = read(Box::new(child.stderr.take().unwrap()));
    let status = wait_bounded(&mut child, timeout).unwrap_or_else(|| {
        let _ = child.kill();
        let _ = child.wait();
        panic!("{cmd:?} did not finish within {timeout:?}");
    });
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// The exit status, if the process exits within `timeout`.
fn wait_bounded(child: &mut Child, timeout: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return Some(status);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `GET path` over a fresh connection (`Connection: close`): status and body.
fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response
        .split_once("\r\n\r\n")
        .unwrap_or_else(|| panic!("not an HTTP response: {response:?}"));
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    (status, body.to_string())
}

/// A service example running in the background; killed when dropped.
struct Service {
    name: &'static str,
    child: Child,
    port: u16,
    lines: mpsc::Receiver<String>,
    /// Everything it printed, once it has exited.
    stdout: Option<JoinHandle<String>>,
}

impl Service {
    /// Starts `name` with `env` on an ephemeral port and reads the port from
    /// its first line, `listening on 127.0.0.1:PORT`.
    fn start(name: &'static str, env: &[(&str, String)]) -> Service {
        let mut cmd = example_cmd(name);
        cmd.envs(env.iter().map(|(k, v)| (k, v)))
            .env("PORT", "0")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut child = cmd.spawn().unwrap();
        let out = BufReader::new(child.stdout.take().unwrap());
        let (tx, lines) = mpsc::channel();
        let stdout = std::thread::spawn(move || {
            let mut all = String::new();
            for line in out.lines().map_while(Result::ok) {
                all.push_str(&line);
                all.push('\n');
                let _ = tx.send(line);
            }
            all
        });
        let mut service = Service {
            name,
            child,
            port: 0,
            lines,
            stdout: Some(stdout),
        };
        let first = service.next_line(Duration::from_secs(30));
        let port = first
            .strip_prefix("listening on 127.0.0.1:")
            .unwrap_or_else(|| panic!("{name}: first line {first:?}"));
        service.port = port.parse().unwrap();
        service
    }

    fn next_line(&self, timeout: Duration) -> String {
        self.lines
            .recv_timeout(timeout)
            .unwrap_or_else(|e| panic!("{}: no line within {timeout:?}: {e}", self.name))
    }

    /// Waits for a line starting with `prefix`, skipping others.
    fn wait_for_line(&self, prefix: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if self.next_line(left).starts_with(prefix) {
                return;
            }
        }
    }

    fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Sends SIGTERM (through `kill`, no libc needed).
    fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill -TERM {}", self.child.id());
    }

    /// Waits for the exit (failing after `timeout`); the status and stdout.
    fn wait(&mut self, timeout: Duration) -> (ExitStatus, String) {
        let status = wait_bounded(&mut self.child, timeout)
            .unwrap_or_else(|| panic!("{} still running after {timeout:?}", self.name));
        let stdout = self.stdout.take().unwrap().join().unwrap();
        (status, stdout)
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls the collector until trace `trace_id` has `n` ended runs.
fn wait_for_trace(collector: &CollectorHandle, trace_id: Uuid, n: usize) -> Vec<StoredRun> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let runs = collector.trace(trace_id);
        if runs.len() >= n && runs.iter().all(|r| r.end_time.is_some()) {
            return runs;
        }
        assert!(
            Instant::now() < deadline,
            "trace {trace_id}: {} of {n} runs: {:#?}",
            runs.len(),
            runs.iter().map(|r| &r.name).collect::<Vec<_>>()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The runs as `(depth, "name [run_type]", error)` from the tree lines an
/// offline example prints (`├─`/`└─`, three columns per level).
fn tree(stdout: &str) -> Vec<(usize, String, Option<String>)> {
    stdout
        .lines()
        .filter_map(|line| {
            let at = line.chars().position(|c| c == '├' || c == '└')?;
            let rest: String = line.chars().skip(at + 2).collect();
            let (label, after) = rest.trim().split_once(']')?;
            let error = after.split_once("ERROR: ").map(|(_, e)| e.to_string());
            Some((at / 3, format!("{label}]"), error))
        })
        .collect()
}

fn assert_tree(stdout: &str, expected: &[(usize, &str, Option<&str>)]) {
    let got = tree(stdout);
    let got: Vec<(usize, &str, Option<&str>)> = got
        .iter()
        .map(|(d, l, e)| (*d, l.as_str(), e.as_deref()))
        .collect();
    assert_eq!(got, expected, "{stdout}");
}

fn assert_success(out: &Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "exit {:?}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

// ------------------------------------------------------------------ offline examples

#[test]
fn quickstart_prints_nested_runs_and_the_failing_branch() {
    let out = run_bounded(example_cmd("quickstart"), Duration::from_secs(60));
    let stdout = assert_success(&out);
    assert!(stdout.contains("local collector"), "{stdout}");
    assert!(
        stdout.contains("When do socks ship? -> Here is what I found: Socks ship within 2 days."),
        "{stdout}"
    );
    assert!(
        stdout.contains("What about hats? -> could not answer: empty prompt"),
        "{stdout}"
    );
    assert!(stdout.contains("dropped 0"), "{stdout}");
    assert!(stdout.contains("(9 runs)"), "{stdout}");
    let err = Some("empty prompt");
    assert_tree(
        &stdout,
        &[
            (0, "quickstart [chain]", None),
            (1, "answer_question [chain]", None),
            (2, "retrieve [retriever]", None),
            (2, "format_prompt [prompt]", None),
            (2, "generate [llm]", None),
            (1, "answer_question [chain]", err),
            (2, "retrieve [retriever]", None),
            (2, "format_prompt [prompt]", None),
            (2, "generate [llm]", err),
        ],
    );
}

#[test]
fn run_tree_uses_the_id_chosen_in_advance_and_gets_feedback() {
    let out = run_bounded(example_cmd("run_tree"), Duration::from_secs(60));
    let stdout = assert_success(&out);
    let id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("run id chosen in advance: "))
        .unwrap_or_else(|| panic!("{stdout}"));
    let id: Uuid = id.parse().unwrap();
    assert_eq!(id.get_version_num(), 7, "a uuid7");
    assert!(stdout.contains(&format!("trace {id} (3 runs)")), "{stdout}");
    assert!(stdout.contains("dropped 0"), "{stdout}");
    assert_tree(
        &stdout,
        &[
            (0, "handle_ticket [chain]", None),
            (1, "extract_fields [parser]", None),
            (1, "draft_reply [llm]", None),
        ],
    );
    assert!(stdout.contains("feedback: helpfulness = 1.0"), "{stdout}");
}

#[test]
fn continue_trace_joins_the_producers_trace() {
    let out = run_bounded(example_cmd("continue_trace"), Duration::from_secs(60));
    let stdout = assert_success(&out);
    assert!(stdout.contains(r#""langsmith-trace":""#), "{stdout}");
    assert!(
        stdout.contains("consumer: sent: Thanks for order #1234!"),
        "{stdout}"
    );
    assert!(stdout.contains("(3 runs)"), "{stdout}");
    assert_tree(
        &stdout,
        &[
            (0, "place_order [chain]", None),
            (1, "send_receipt [tool]", None),
            (2, "render_email [chain]", None),
        ],
    );
}

// ------------------------------------------------------------------ services

#[test]
fn client_without_target_url_says_what_to_set() {
    let out = run_bounded(example_cmd("client"), Duration::from_secs(30));
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("set TARGET_URL"), "{stderr}");
}

/// client → actix `/chain` → axum `/hello/chain` is one trace; `/health` is
/// never traced; SIGTERM with a request in flight lets it finish, flushes
/// every run and exits 0 (issue 9's graceful-shutdown test, too).
#[test]
fn services_trace_one_chain_and_shut_down_gracefully() {
    let collector = Collector::builder().start().unwrap();
    let env = vec![
        ("LANGSMITH_ENDPOINT", collector.url()),
        ("LANGSMITH_API_KEY", "test".to_string()),
        ("LANGSMITH_TRACING", "true".to_string()),
    ];
    let axum = Service::start("axum_service", &env);
    let mut actix_env = env.clone();
    actix_env.push(("DOWNSTREAM_URL", axum.url()));
    let actix = Service::start("actix_service", &actix_env);
    let mut services = [axum, actix];

    for s in &services {
        assert_eq!(
            http_get(s.port, "/health"),
            (200, "ok".into()),
            "{}",
            s.name
        );
    }
    for (s, name, greeting) in [
        (&services[0], "ann", "Hi, ann!"),
        (&services[1], "bob", "Hi, bob!"),
    ] {
        assert_eq!(
            http_get(s.port, &format!("/hello/{name}")),
            (200, greeting.into()),
            "{}",
            s.name
        );
    }

    // The client's trace through both services.
    let mut client = example_cmd("client");
    client
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("TARGET_URL", format!("{}/chain", services[1].url()));
    let out = run_bounded(client, Duration::from_secs(60));
    let stdout = assert_success(&out);
    assert!(stdout.contains("200 OK: Hello, chain!"), "{stdout}");
    assert!(stdout.contains("1 runs delivered, 0 dropped"), "{stdout}");
    let trace_id: Uuid = stdout
        .lines()
        .find_map(|l| l.strip_prefix("trace_id="))
        .unwrap_or_else(|| panic!("{stdout}"))
        .parse()
        .unwrap();
    let mut runs = wait_for_trace(&collector, trace_id, 6);
    runs.sort_by(|a, b| a.dotted_order.cmp(&b.dotted_order));
    let hop = format!("GET 127.0.0.1:{}/hello/chain", services[0].port);
    let expected = [
        ("client", "chain"),            // client
        ("GET /chain", "chain"),        // actix
        (hop.as_str(), "tool"),         // actix: the reqwest call
        ("GET /hello/{name}", "chain"), // axum
        ("greet", "chain"),             // axum: #[traceable]
        ("pick_greeting", "tool"),      // axum: its child
    ];
    let got: Vec<(&str, &str)> = runs
        .iter()
        .map(|r| (r.name.as_str(), r.run_type.as_str()))
        .collect();
    assert_eq!(got, expected);
    assert_eq!(runs[0].id, trace_id);
    assert_eq!(runs[0].parent_run_id, None);
    for pair in runs.windows(2) {
        assert_eq!(pair[1].parent_run_id, Some(pair[0].id), "{}", pair[1].name);
    }
    assert!(runs.iter().all(|r| r.error.is_none()), "{runs:#?}");
    assert_eq!(runs[4].inputs["name"], "chain");

    // SIGTERM while a slow request is in flight on each service.
    let slow: Vec<_> = services
        .iter()
        .map(|s| {
            let port = s.port;
            std::thread::spawn(move || {
                let response = http_get(port, "/slow");
                (response, Instant::now())
            })
        })
        .collect();
    // Each handler prints a line when it starts; SIGTERM right after it.
    let mut signalled = Vec::new();
    for s in &services {
        s.wait_for_line("GET /slow:", Duration::from_secs(20));
        s.terminate();
        signalled.push(Instant::now());
    }
    for ((s, handle), signalled) in services.iter().zip(slow).zip(signalled) {
        let (response, answered) = handle.join().unwrap();
        assert_eq!(
            response,
            (200, "done".into()),
            "{}: the request in flight",
            s.name
        );
        // The handler sleeps 2 s after its line, so it was still in flight.
        assert!(answered > signalled, "{}: answered after SIGTERM", s.name);
    }
    for s in &mut services {
        // Within the services' flush timeout (10 s).
        let (status, stdout) = s.wait(Duration::from_secs(10));
        assert!(status.success(), "{}: {status:?}\n{stdout}", s.name);
        assert!(
            stdout.contains("SIGTERM: finishing the requests in flight"),
            "{stdout}"
        );
        assert!(stdout.contains(" runs delivered, 0 dropped"), "{stdout}");
    }

    // Every run of every completed request arrived, and nothing for /health.
    let runs = collector.wait_for_runs(14, Duration::from_secs(5));
    let count = |name: &str| runs.iter().filter(|r| r.name == name).count();
    assert_eq!(count("GET /health"), 0);
    assert_eq!(count("GET /slow"), 2);
    assert_eq!(count("GET /hello/{name}"), 3); // ann, bob, the chain
    assert_eq!(count("greet"), 3);
    assert_eq!(count("pick_greeting"), 3);
    assert_eq!(
        runs.len(),
        14,
        "{:#?}",
        runs.iter().map(|r| &r.name).collect::<Vec<_>>()
    );
    assert!(
        runs.iter()
            .all(|r| r.end_time.is_some() && r.error.is_none()),
        "{runs:#?}"
    );
    collector.shutdown();
}
