//! `#[traceable]` end to end: every run lands in a `MemorySink` under an
//! explicit root run, so tests do not depend on process-wide settings.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use langsmith::{
    Client, FutureExt, MemorySink, Run, RunContext, RunRecord, RunTree, RunType, TraceExtra, Uuid,
    in_run_sync, traceable, uuid7, with_extra, with_extra_async,
};
use serde::Serialize;
use std::collections::HashMap;

fn client(sink: &MemorySink) -> Client {
    Client::builder()
        .sink(sink.clone())
        .tracing(Some(true))
        .build()
}

/// A root run recorded into a fresh sink; returns the runs after `f`.
fn under_root<R>(f: impl FnOnce() -> R) -> (R, Vec<RunRecord>, Uuid) {
    let sink = MemorySink::new();
    let root = RunTree::new("root").client(client(&sink)).start();
    let root_id = root.id().unwrap();
    let out = in_run_sync(root.context().cloned(), f);
    root.end();
    (out, sink.runs(), root_id)
}

async fn under_root_async<F: std::future::Future>(fut: F) -> (F::Output, Vec<RunRecord>, Uuid) {
    let sink = MemorySink::new();
    let root = RunTree::new("root").client(client(&sink)).start();
    let root_id = root.id().unwrap();
    let out = fut.in_run(root.context().cloned()).await;
    root.end();
    (out, sink.runs(), root_id)
}

fn by_name(runs: &[RunRecord]) -> HashMap<String, RunRecord> {
    runs.iter()
        .map(|r| (r.name.to_string(), r.clone()))
        .collect()
}

fn inputs(r: &RunRecord) -> &str {
    r.inputs.as_ref().map(|p| p.get()).unwrap_or("<none>")
}

fn outputs(r: &RunRecord) -> &str {
    r.outputs.as_ref().map(|p| p.get()).unwrap_or("<none>")
}

// ---------------------------------------------------------------- nesting

#[traceable(run_type = "tool")]
fn leaf(x: u32) -> u32 {
    x + 1
}

#[traceable]
fn middle(x: u32) -> u32 {
    leaf(x) * 2
}

#[traceable(name = "top-level", run_type = "chain")]
fn top(x: u32) -> u32 {
    middle(x) + 1
}

#[test]
fn nested_sync_three_deep() {
    let (out, runs, root) = under_root(|| top(1));
    assert_eq!(out, 5);
    assert_eq!(runs.len(), 4);
    let m = by_name(&runs);
    assert_eq!(m["top-level"].parent_run_id, Some(root));
    assert_eq!(m["middle"].parent_run_id, Some(m["top-level"].id));
    assert_eq!(m["leaf"].parent_run_id, Some(m["middle"].id));
    assert_eq!(m["leaf"].run_type, RunType::Tool);
    assert_eq!(m["middle"].run_type, RunType::Chain);
    for r in &runs {
        assert_eq!(r.trace_id, root);
        assert!(r.end_time.is_some());
    }
    assert!(
        m["leaf"]
            .dotted_order
            .starts_with(&format!("{}.", m["middle"].dotted_order))
    );
    assert_eq!(inputs(&m["leaf"]), r#"{"x":1}"#);
    assert_eq!(outputs(&m["leaf"]), r#"{"output":2}"#);
    assert_eq!(outputs(&m["top-level"]), r#"{"output":5}"#);
}

#[traceable(run_type = "llm")]
async fn a_leaf(x: u32) -> u32 {
    tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    x + 1
}

#[traceable]
async fn a_middle(x: u32) -> u32 {
    let (a, b) = tokio::join!(a_leaf(x), a_leaf(x + 10));
    a + b
}

#[traceable]
async fn a_top(x: u32) -> u32 {
    tokio::task::yield_now().await;
    a_middle(x).await
}

#[tokio::test]
async fn nested_async_three_deep() {
    let (out, runs, root) = under_root_async(a_top(1)).await;
    assert_eq!(out, 2 + 12);
    assert_eq!(runs.len(), 5);
    let top = runs.iter().find(|r| r.name == "a_top").unwrap();
    let mid = runs.iter().find(|r| r.name == "a_middle").unwrap();
    let leaves: Vec<_> = runs.iter().filter(|r| r.name == "a_leaf").collect();
    assert_eq!(top.parent_run_id, Some(root));
    assert_eq!(mid.parent_run_id, Some(top.id));
    assert_eq!(leaves.len(), 2);
    for l in &leaves {
        assert_eq!(l.parent_run_id, Some(mid.id));
        assert_eq!(l.run_type, RunType::Llm);
        assert_eq!(l.trace_id, root);
    }
    let ins: Vec<_> = leaves.iter().map(|l| inputs(l)).collect();
    assert!(
        ins.contains(&r#"{"x":1}"#) && ins.contains(&r#"{"x":11}"#),
        "{ins:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_run_parented_where_first_polled_and_spawn_carries_it() {
    // The future is created outside any run and polled inside the root.
    let fut = a_middle(0);
    let (out, runs, root) = under_root_async(async move {
        let spawned = langsmith::spawn(a_leaf(100)).await.unwrap();
        fut.await + spawned
    })
    .await;
    assert_eq!(out, 1 + 11 + 101);
    let m = by_name(&runs);
    assert_eq!(m["a_middle"].parent_run_id, Some(root));
    assert!(
        runs.iter()
            .filter(|r| r.name == "a_leaf")
            .all(|r| r.trace_id == root)
    );
    assert_eq!(runs.len(), 5);
}

// ---------------------------------------------------------------- inputs

#[derive(Serialize, Clone)]
struct Point {
    x: i32,
    y: i32,
}

#[traceable]
#[allow(clippy::too_many_arguments)]
fn many(
    a: i32,
    b: &str,
    c: Vec<u8>,
    d: Option<Point>,
    e: &Point,
    mut f: String,
    r#type: bool,
    (g, h): (u8, char),
) -> String {
    f.push('!');
    format!("{a}{b}{c:?}{}{}{f}{}{g}{h}", d.is_some(), e.x, r#type)
}

#[test]
fn inputs_are_the_arguments_by_name() {
    let p = Point { x: 1, y: -2 };
    let (_, runs, _) =
        under_root(|| many(7, "s\"q", vec![1, 2], None, &p, "f".into(), true, (3, 'z')));
    let m = by_name(&runs);
    assert_eq!(
        inputs(&m["many"]),
        r#"{"a":7,"b":"s\"q","c":[1,2],"d":null,"e":{"x":1,"y":-2},"f":"f","type":true,"g":3,"h":"z"}"#
    );
    assert_eq!(
        outputs(&m["many"]),
        r#"{"output":"7s\"q[1, 2]false1f!true3z"}"#
    );
}

#[traceable]
fn no_args() -> &'static str {
    "x"
}

#[traceable]
fn unit_return(_x: u8) {}

#[test]
fn no_arguments_and_unit_return() {
    let (_, runs, _) = under_root(|| {
        no_args();
        unit_return(1);
    });
    let m = by_name(&runs);
    assert_eq!(inputs(&m["no_args"]), "{}");
    assert_eq!(outputs(&m["no_args"]), r#"{"output":"x"}"#);
    assert_eq!(inputs(&m["unit_return"]), r#"{"_x":1}"#);
    assert_eq!(outputs(&m["unit_return"]), r#"{"output":null}"#);
}

struct Secret;

#[traceable(skip(conn, cache))]
fn skipped(conn: Secret, query: &str, cache: &mut HashMap<String, u8>) -> usize {
    let _ = conn;
    cache.insert(query.into(), 1);
    query.len()
}

#[traceable(skip_all)]
fn skipped_all(conn: Secret, n: u8) -> u8 {
    let _ = conn;
    n
}

#[traceable(redact(api_key, token))]
fn redacted(prompt: &str, api_key: &str, token: Option<String>) -> usize {
    prompt.len() + api_key.len() + token.map_or(0, |t| t.len())
}

#[test]
fn skip_skip_all_and_redact() {
    let mut cache = HashMap::new();
    let (_, runs, _) = under_root(|| {
        skipped(Secret, "hello", &mut cache);
        skipped_all(Secret, 3);
        redacted("p", "sk-123", Some("t".into()));
    });
    let m = by_name(&runs);
    assert_eq!(inputs(&m["skipped"]), r#"{"query":"hello"}"#);
    assert_eq!(inputs(&m["skipped_all"]), "{}");
    assert_eq!(outputs(&m["skipped_all"]), r#"{"output":3}"#);
    assert_eq!(
        inputs(&m["redacted"]),
        r#"{"prompt":"p","api_key":"<redacted>","token":"<redacted>"}"#
    );
    assert_eq!(cache.len(), 1);
}

/// Serializes with an error at run time (map with non-string keys).
#[traceable]
fn bad_at_runtime(m: HashMap<(u8, u8), u8>, ok: u8) -> u8 {
    m.len() as u8 + ok
}

#[test]
fn an_argument_failing_to_serialize_does_not_lose_the_others() {
    let (_, runs, _) = under_root(|| bad_at_runtime([((1, 2), 3)].into(), 5));
    let i: serde_json::Value = serde_json::from_str(inputs(&runs[0])).unwrap();
    assert_eq!(i["ok"], 5);
    assert!(i["m"].as_str().unwrap().starts_with("<unserializable:"));
}

/// Twelve recorded arguments: each serialized once into the inputs object.
#[traceable(redact(k))]
#[allow(clippy::too_many_arguments)]
#[rustfmt::skip]
fn twelve(
    a: u8, b: &str, c: Vec<u8>, d: bool, e: Option<u8>, f: f64, g: char, h: (u8, u8), i: &[u8],
    j: String, k: &str, l: HashMap<(u8, u8), u8>,
) -> usize {
    let _ = (a, b, c, d, e, f, g, h, i, j, k, l.len());
    12
}

/// Thirteen: more than the tuple form takes, each argument serialized on
/// its own (the slice of `dyn` arguments).
#[traceable(redact(k))]
#[allow(clippy::too_many_arguments)]
#[rustfmt::skip]
fn thirteen(
    a: u8, b: &str, c: Vec<u8>, d: bool, e: Option<u8>, f: f64, g: char, h: (u8, u8), i: &[u8],
    j: String, k: &str, l: HashMap<(u8, u8), u8>, m: u8,
) -> usize {
    let _ = (a, b, c, d, e, f, g, h, i, j, k, l.len(), m);
    13
}

#[test]
#[rustfmt::skip]
fn inputs_of_twelve_and_thirteen_arguments_keep_order_redaction_and_failures() {
    let bad = || HashMap::from([((1, 2), 3)]);
    let (_, runs, _) = under_root(|| {
        twelve(1, "b", vec![2], true, None, 0.5, 'g', (3, 4), &[5], "j".into(), "secret", HashMap::new());
        thirteen(1, "b", vec![2], true, Some(7), 0.5, 'g', (3, 4), &[5], "j".into(), "secret", HashMap::new(), 9);
        twelve(1, "b", vec![2], true, None, 0.5, 'g', (3, 4), &[5], "j".into(), "secret", bad());
        thirteen(1, "b", vec![2], true, None, 0.5, 'g', (3, 4), &[5], "j".into(), "secret", bad(), 9);
    });
    let mut twelves: Vec<&RunRecord> = runs.iter().filter(|r| r.name == "twelve").collect();
    let mut thirteens: Vec<&RunRecord> = runs.iter().filter(|r| r.name == "thirteen").collect();
    twelves.sort_by_key(|r| r.start_time);
    thirteens.sort_by_key(|r| r.start_time);
    let common = r#""a":1,"b":"b","c":[2],"d":true,"#;
    let tail = r#""f":0.5,"g":"g","h":[3,4],"i":[5],"j":"j","k":"<redacted>","l":{}"#;
    assert_eq!(
        inputs(twelves[0]),
        format!(r#"{{{common}"e":null,{tail}}}"#)
    );
    assert_eq!(
        inputs(thirteens[0]),
        format!(r#"{{{common}"e":7,{tail},"m":9}}"#)
    );
    // A failing argument is recorded as an error text; the others are kept.
    for r in [twelves[1], thirteens[1]] {
        let i: serde_json::Value = serde_json::from_str(inputs(r)).unwrap();
        assert!(
            i["l"].as_str().unwrap().starts_with("<unserializable:"),
            "{i}"
        );
        assert_eq!(
            (i["a"].clone(), i["k"].clone()),
            (1.into(), "<redacted>".into())
        );
        assert_eq!(
            i.as_object().unwrap().len(),
            if r.name == "twelve" { 12 } else { 13 }
        );
    }
}

// ---------------------------------------------------------------- outputs

#[derive(Debug)]
struct MyErr(&'static str);
impl std::fmt::Display for MyErr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "my error: {}", self.0)
    }
}

#[traceable]
fn parse(s: &str) -> Result<i64, std::num::ParseIntError> {
    let n: i64 = s.trim().parse()?;
    Ok(n * 2)
}

#[traceable]
fn io_result(fail: bool) -> std::io::Result<Point> {
    if fail {
        return Err(std::io::Error::other("disk on fire"));
    }
    Ok(Point { x: 1, y: 2 })
}

type Res<T> = Result<T, MyErr>;

#[traceable(result)]
fn aliased(fail: bool) -> Res<u8> {
    if fail { Err(MyErr("alias")) } else { Ok(1) }
}

#[traceable(no_result)]
fn whole_result(fail: bool) -> Result<u8, u8> {
    if fail { Err(9) } else { Ok(1) }
}

#[traceable]
async fn a_result(fail: bool) -> Result<String, MyErr> {
    tokio::task::yield_now().await;
    if fail {
        Err(MyErr("async"))?;
    }
    Ok("fine".into())
}

#[test]
fn result_ok_is_output_err_is_error() {
    let (_, runs, _) = under_root(|| {
        assert_eq!(parse("21"), Ok(42));
        assert!(parse("x").is_err());
        assert!(io_result(false).is_ok());
        assert!(io_result(true).is_err());
        assert!(aliased(true).is_err());
        assert_eq!(whole_result(true), Err(9));
    });
    let parses: Vec<_> = runs.iter().filter(|r| r.name == "parse").collect();
    assert_eq!(outputs(parses[0]), r#"{"output":42}"#);
    assert_eq!(parses[0].error, None);
    assert!(parses[1].outputs.is_none());
    assert_eq!(
        parses[1].error.as_deref(),
        Some("invalid digit found in string")
    );
    let ios: Vec<_> = runs.iter().filter(|r| r.name == "io_result").collect();
    assert_eq!(outputs(ios[0]), r#"{"x":1,"y":2}"#);
    assert_eq!(ios[1].error.as_deref(), Some("disk on fire"));
    let m = by_name(&runs);
    assert_eq!(m["aliased"].error.as_deref(), Some("my error: alias"));
    assert_eq!(m["whole_result"].error, None);
    assert_eq!(outputs(&m["whole_result"]), r#"{"Err":9}"#);
}

#[tokio::test]
async fn async_result() {
    let (_, runs, _) = under_root_async(async {
        assert!(a_result(false).await.is_ok());
        assert!(a_result(true).await.is_err());
    })
    .await;
    assert_eq!(outputs(&runs[0]), r#"{"output":"fine"}"#);
    assert_eq!(runs[1].error.as_deref(), Some("my error: async"));
}

struct NotSerializable(u8);

#[traceable(skip_output)]
fn opaque() -> NotSerializable {
    NotSerializable(3)
}

#[traceable(skip_output)]
async fn opaque_result(fail: bool) -> Result<NotSerializable, MyErr> {
    if fail {
        Err(MyErr("o"))
    } else {
        Ok(NotSerializable(4))
    }
}

#[tokio::test]
async fn skip_output_records_no_value_but_still_the_error() {
    let (_, runs, _) = under_root_async(async {
        assert_eq!(opaque().0, 3);
        assert_eq!(opaque_result(false).await.unwrap().0, 4);
        assert!(opaque_result(true).await.is_err());
    })
    .await;
    assert_eq!(outputs(&runs[0]), "{}");
    assert_eq!(outputs(&runs[1]), "{}");
    assert_eq!(runs[2].error.as_deref(), Some("my error: o"));
}

// ---------------------------------------------------------------- panics, cancellation

#[traceable]
fn boom(n: u8) -> u8 {
    if n > 0 {
        panic!("boom {n}");
    }
    n
}

#[traceable]
async fn a_boom() -> u8 {
    tokio::task::yield_now().await;
    panic!("async boom");
}

#[test]
fn panic_is_recorded_and_resumed() {
    let (caught, runs, _) = under_root(|| {
        std::panic::catch_unwind(|| boom(3)).map_err(|p| p.downcast_ref::<String>().cloned())
    });
    assert_eq!(caught, Err(Some("boom 3".to_owned())));
    let m = by_name(&runs);
    assert_eq!(m["boom"].error.as_deref(), Some("panicked: boom 3"));
    assert!(m["boom"].end_time.is_some());
}

#[tokio::test]
async fn async_panic_is_recorded_and_resumed() {
    let (joined, runs, _) = under_root_async(async { langsmith::spawn(a_boom()).await }).await;
    assert!(joined.unwrap_err().is_panic());
    let m = by_name(&runs);
    assert_eq!(m["a_boom"].error.as_deref(), Some("panicked: async boom"));
}

#[traceable]
async fn forever() -> u8 {
    std::future::pending::<()>().await;
    1
}

#[tokio::test]
async fn dropped_future_is_cancelled() {
    let (timed_out, runs, _) = under_root_async(async {
        tokio::time::timeout(std::time::Duration::from_millis(5), forever())
            .await
            .is_err()
    })
    .await;
    assert!(timed_out);
    let m = by_name(&runs);
    assert_eq!(m["forever"].error.as_deref(), Some(langsmith::CANCELLED));
}

// ---------------------------------------------------------------- methods

#[derive(Serialize, Clone)]
struct Agent {
    model: String,
    calls: u32,
}

impl Agent {
    #[traceable]
    fn by_ref(&self, q: &str) -> String {
        format!("{}:{q}", self.model)
    }

    #[traceable(include_self)]
    fn with_self(&self) -> u32 {
        self.calls
    }

    #[traceable]
    fn by_mut(&mut self, n: u32) -> &mut u32 {
        self.calls += n;
        &mut self.calls
    }

    #[traceable(include_self, redact(self))]
    fn by_value(self) -> String {
        self.model
    }

    #[traceable]
    async fn a_by_mut(&mut self) -> u32 {
        self.calls += 1;
        a_leaf(self.calls).await
    }

    #[traceable]
    fn assoc(n: u8) -> Self {
        Agent {
            model: "m".into(),
            calls: n.into(),
        }
    }
}

trait Greeter {
    fn greet(&self, who: &str) -> String;
    #[traceable]
    fn default_greet(&self) -> String {
        self.greet("default")
    }
}

impl Greeter for Agent {
    #[traceable(run_type = "prompt")]
    fn greet(&self, who: &str) -> String {
        format!("hi {who} from {}", self.model)
    }
}

#[tokio::test]
async fn methods_with_self() {
    let (_, runs, _) = under_root_async(async {
        let mut a = Agent::assoc(1);
        assert_eq!(a.by_ref("q"), "m:q");
        assert_eq!(a.with_self(), 1);
        *a.by_mut(2) += 10;
        assert_eq!(a.calls, 13);
        assert_eq!(a.a_by_mut().await, 15);
        assert_eq!(a.greet("you"), "hi you from m");
        assert_eq!(a.default_greet(), "hi default from m");
        assert_eq!(a.by_value(), "m");
    })
    .await;
    let m = by_name(&runs);
    assert_eq!(inputs(&m["assoc"]), r#"{"n":1}"#);
    assert_eq!(outputs(&m["assoc"]), r#"{"model":"m","calls":1}"#);
    assert_eq!(inputs(&m["by_ref"]), r#"{"q":"q"}"#);
    assert_eq!(
        inputs(&m["with_self"]),
        r#"{"self":{"model":"m","calls":1}}"#
    );
    assert_eq!(inputs(&m["by_mut"]), r#"{"n":2}"#);
    assert_eq!(outputs(&m["by_mut"]), r#"{"output":3}"#);
    assert_eq!(inputs(&m["a_by_mut"]), "{}");
    assert_eq!(m["a_leaf"].parent_run_id, Some(m["a_by_mut"].id));
    assert_eq!(m["greet"].run_type, RunType::Prompt);
    assert_eq!(inputs(&m["by_value"]), r#"{"self":"<redacted>"}"#);
    let greets: Vec<_> = runs.iter().filter(|r| r.name == "greet").collect();
    assert_eq!(greets.len(), 2);
    assert!(
        greets
            .iter()
            .any(|g| g.parent_run_id == Some(m["default_greet"].id))
    );
}

// ---------------------------------------------------------------- async-trait

#[async_trait::async_trait]
trait Tool: Send + Sync {
    async fn run(&self, query: String, k: usize) -> Result<Vec<String>, MyErr>;
    async fn describe(&self) -> String;
}

struct Search {
    prefix: String,
}

#[async_trait::async_trait]
impl Tool for Search {
    #[traceable(run_type = "tool", tags("search"))]
    async fn run(&self, query: String, k: usize) -> Result<Vec<String>, MyErr> {
        if k == 0 {
            return Err(MyErr("k must be > 0"));
        }
        tokio::task::yield_now().await;
        let first = a_leaf(1).await;
        Ok((0..k)
            .map(|i| format!("{}{query}{i}{first}", self.prefix))
            .collect())
    }

    #[traceable]
    async fn describe(&self) -> String {
        self.prefix.clone()
    }
}

fn assert_send<T: Send>(t: T) -> T {
    t
}

#[tokio::test]
async fn async_trait_methods() {
    let tool: Box<dyn Tool> = Box::new(Search { prefix: "p".into() });
    let (_, runs, root) = under_root_async(async {
        let fut = assert_send(tool.run("q".into(), 2));
        assert_eq!(fut.await.unwrap(), ["pq02", "pq12"]);
        assert!(tool.run("q".into(), 0).await.is_err());
        assert_eq!(tool.describe().await, "p");
    })
    .await;
    let runs_of = |n: &str| {
        runs.iter()
            .filter(|r| r.name == n)
            .cloned()
            .collect::<Vec<_>>()
    };
    let run = runs_of("run");
    assert_eq!(run.len(), 2);
    assert_eq!(run[0].parent_run_id, Some(root));
    assert_eq!(run[0].run_type, RunType::Tool);
    assert_eq!(run[0].tags, ["search"]);
    assert_eq!(inputs(&run[0]), r#"{"query":"q","k":2}"#);
    assert_eq!(outputs(&run[0]), r#"{"output":["pq02","pq12"]}"#);
    assert_eq!(run[1].error.as_deref(), Some("my error: k must be > 0"));
    assert_eq!(runs_of("a_leaf")[0].parent_run_id, Some(run[0].id));
    assert_eq!(outputs(&runs_of("describe")[0]), r#"{"output":"p"}"#);
}

#[traceable]
fn returns_boxed_future(
    x: u32,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = u32> + Send>> {
    Box::pin(async move { a_leaf(x).await })
}

#[traceable]
#[allow(clippy::manual_async_fn)] // on purpose: a fn returning an async block
fn returns_impl_future(x: u32) -> impl std::future::Future<Output = u32> + Send {
    async move { x * 3 }
}

#[tokio::test]
async fn functions_returning_async_blocks_trace_the_future() {
    let (_, runs, _) = under_root_async(async {
        assert_eq!(returns_boxed_future(1).await, 2);
        assert_eq!(assert_send(returns_impl_future(2)).await, 6);
    })
    .await;
    let m = by_name(&runs);
    assert_eq!(
        m["a_leaf"].parent_run_id,
        Some(m["returns_boxed_future"].id)
    );
    assert_eq!(outputs(&m["returns_boxed_future"]), r#"{"output":2}"#);
    assert_eq!(outputs(&m["returns_impl_future"]), r#"{"output":6}"#);
}

// ---------------------------------------------------------------- generics

#[traceable]
fn generic<T: Serialize + Clone, U>(value: T, n: U) -> Vec<T>
where
    U: Into<usize> + Serialize + Copy,
{
    vec![value; n.into()]
}

#[traceable(skip(f))]
fn with_closure<F: Fn(u8) -> u8>(f: F, x: u8) -> u8 {
    f(x)
}

#[traceable]
fn impl_arg(items: impl IntoIterator<Item = u8> + Serialize + Clone) -> u32 {
    items.into_iter().map(u32::from).sum()
}

#[traceable]
fn impl_ret(x: u8) -> impl Serialize + use<> {
    vec![x; 2]
}

#[traceable]
fn impl_in_result(x: u8) -> Result<impl Serialize, MyErr> {
    Ok(x)
}

#[traceable]
fn lifetimes<'a>(a: &'a str, _b: &str) -> &'a str {
    &a[1..]
}

#[traceable]
fn first_mut(v: &mut [u8]) -> Option<&mut u8> {
    v.first_mut()
}

#[traceable]
async fn a_generic<T: Serialize + Send + Clone>(t: T) -> (T, T) {
    (t.clone(), t)
}

#[tokio::test]
async fn generics_work() {
    let (_, runs, _) = under_root_async(async {
        assert_eq!(generic("x", 2u8), ["x", "x"]);
        assert_eq!(with_closure(|x| x + 1, 1), 2);
        assert_eq!(impl_arg(vec![1, 2]), 3);
        let _ = impl_ret(4);
        let _ = impl_in_result(5);
        assert_eq!(lifetimes("abc", "z"), "bc");
        let mut v = [1u8, 2];
        *first_mut(&mut v).unwrap() = 9;
        assert_eq!(v, [9, 2]);
        assert_eq!(a_generic(Point { x: 1, y: 1 }).await.0.x, 1);
    })
    .await;
    let m = by_name(&runs);
    assert_eq!(inputs(&m["generic"]), r#"{"value":"x","n":2}"#);
    assert_eq!(outputs(&m["generic"]), r#"{"output":["x","x"]}"#);
    assert_eq!(inputs(&m["with_closure"]), r#"{"x":1}"#);
    assert_eq!(inputs(&m["impl_arg"]), r#"{"items":[1,2]}"#);
    assert_eq!(outputs(&m["impl_ret"]), r#"{"output":[4,4]}"#);
    assert_eq!(outputs(&m["impl_in_result"]), r#"{"output":5}"#);
    assert_eq!(outputs(&m["lifetimes"]), r#"{"output":"bc"}"#);
    assert_eq!(outputs(&m["first_mut"]), r#"{"output":1}"#);
    assert_eq!(inputs(&m["a_generic"]), r#"{"t":{"x":1,"y":1}}"#);
}

// ---------------------------------------------------------------- options

#[traceable(
    name = "Custom Name",
    run_type = "retriever",
    tags = ["a", "b"],
    metadata(ls_provider = "openai", "ls-temperature" = 0.5, n = 3, flag = true, version = env!("CARGO_PKG_VERSION")),
    project = "other-project",
)]
fn all_options(q: &str) -> usize {
    q.len()
}

#[test]
fn name_run_type_tags_metadata_project() {
    let (_, runs, _) = under_root(|| all_options("abc"));
    let r = &by_name(&runs)["Custom Name"];
    assert_eq!(r.run_type, RunType::Retriever);
    assert_eq!(r.tags, ["a", "b"]);
    let md = &r.extra.metadata;
    assert_eq!(md["ls_provider"], "openai");
    assert_eq!(md["ls-temperature"], 0.5);
    assert_eq!(md["n"], 3);
    assert_eq!(md["flag"], true);
    assert_eq!(md["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(&*r.session_name, "other-project");
}

mod direct_core {
    use langsmith_core as core_api;

    #[langsmith::traceable(crate = core_api, run_type = "parser")]
    pub fn parsed(s: &str) -> usize {
        s.len()
    }
}

#[test]
fn crate_option_points_at_another_path() {
    let (_, runs, _) = under_root(|| direct_core::parsed("xy"));
    assert_eq!(runs[0].run_type, RunType::Parser);
    assert_eq!(outputs(&runs[0]), r#"{"output":2}"#);
}

// ---------------------------------------------------------------- overrides

#[traceable]
fn overridable(x: u8) -> u8 {
    leaf(u32::from(x)) as u8
}

#[traceable]
async fn a_overridable(x: u8) -> u8 {
    x
}

#[test]
fn overrides_run_id_metadata_tags_name() {
    let id = uuid7();
    let (_, runs, root) = under_root(|| {
        with_extra(
            TraceExtra::new()
                .run_id(id)
                .metadata("user", "u-1")
                .metadata("x", 1)
                .tag("vip")
                .name("renamed"),
            || overridable(1),
        );
        // Not used by the next call outside the scope.
        overridable(2)
    });
    let r = runs.iter().find(|r| r.id == id).unwrap();
    assert_eq!(r.name, "renamed");
    assert_eq!(r.parent_run_id, Some(root));
    assert_eq!(r.extra.metadata["user"], "u-1");
    assert_eq!(r.tags, ["vip"]);
    // Nested calls are traced as usual (a new id, under the overridden run).
    let leaves: Vec<_> = runs.iter().filter(|r| r.name == "leaf").collect();
    assert_eq!(leaves[0].parent_run_id, Some(id));
    assert_ne!(leaves[0].id, id);
    // ... and inherit its metadata and tags, as with the Python SDK's
    // `langsmith_extra`.
    assert_eq!(leaves[0].extra.metadata["user"], "u-1");
    assert_eq!(leaves[0].tags, ["vip"]);
    let plain = runs.iter().find(|r| r.name == "overridable").unwrap();
    assert_ne!(plain.id, id);
    assert!(plain.tags.is_empty());
}

#[test]
fn override_explicit_parent_and_client() {
    let sink = MemorySink::new();
    let other = MemorySink::new();
    let parent = RunTree::new("explicit-parent")
        .client(client(&sink))
        .start();
    let pctx: RunContext = parent.context().cloned().unwrap();
    // Called outside any run and with tracing off by default: the explicit
    // parent makes it a child of `parent`.
    let n = with_extra(TraceExtra::new().parent(&pctx), || overridable(3));
    assert_eq!(n, 4);
    // A client override with no parent at all starts a new trace there.
    let id = uuid7();
    let extra = TraceExtra {
        run_id: Some(id),
        client: Some(client(&other)),
        ..TraceExtra::default()
    };
    with_extra(extra, || overridable(4));
    parent.end();
    let runs = sink.runs();
    let r = runs.iter().find(|r| r.name == "overridable").unwrap();
    assert_eq!(r.parent_run_id, Some(pctx.id()));
    assert_eq!(r.trace_id, pctx.id());
    let o = other.runs();
    let r = o.iter().find(|r| r.id == id).unwrap();
    assert_eq!(r.parent_run_id, None);
    assert_eq!(r.trace_id, id);
}

#[tokio::test]
async fn async_overrides() {
    let id = uuid7();
    let (_, runs, root) = under_root_async(async {
        let n = with_extra_async(
            TraceExtra::new().run_id(id).metadata("thread_id", "t-9"),
            a_overridable(5),
        )
        .await;
        assert_eq!(n, 5);
        a_overridable(6).await
    })
    .await;
    let r = runs.iter().find(|r| r.id == id).unwrap();
    assert_eq!(r.parent_run_id, Some(root));
    assert_eq!(r.extra.metadata["thread_id"], "t-9");
    assert_eq!(inputs(r), r#"{"x":5}"#);
    assert_eq!(runs.iter().filter(|r| r.name == "a_overridable").count(), 2);
}

// ---------------------------------------------------------------- ambient semantics

#[test]
fn a_continued_trace_is_traced_with_tracing_unset() {
    let sink = MemorySink::new();
    let client = Client::builder().sink(sink.clone()).build(); // tracing: None
    let parent = RunContext::from_headers(
        [(
            "langsmith-trace",
            "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
        )],
        &client,
    )
    .unwrap();
    assert_eq!(in_run_sync(Some(parent.clone()), || top(1)), 5);
    let runs = sink.runs();
    assert_eq!(runs.len(), 3);
    let m = by_name(&runs);
    assert_eq!(m["top-level"].parent_run_id, Some(parent.id()));
}

#[test]
fn an_unsampled_trace_records_nothing_and_runs_the_body() {
    let sink = MemorySink::new();
    let client = client(&sink);
    let parent = RunContext::from_headers([("baggage", "langsmith-sampled=0")], &client).unwrap();
    assert!(!parent.is_sampled());
    assert_eq!(in_run_sync(Some(parent), || top(1)), 5);
    assert!(sink.runs().is_empty());
}

#[test]
fn inactive_run_context_is_fine() {
    // A run that records nothing (tracing off for it) still runs the body.
    let run = Run::inactive();
    assert_eq!(in_run_sync(run.context().cloned(), || top(2)), 7);
}

// ---------------------------------------------------------------- more shapes

trait NativeAsync {
    fn answer(&self, q: u8) -> impl std::future::Future<Output = u8> + Send;
}

struct Native;

impl NativeAsync for Native {
    #[traceable]
    async fn answer(&self, q: u8) -> u8 {
        tokio::task::yield_now().await;
        q * 2
    }
}

struct Wrapper<T> {
    items: Vec<T>,
}

impl<T: Serialize + Sync> Wrapper<T> {
    #[traceable(include_self)]
    fn get(&self, i: usize) -> Option<&T> {
        self.items.get(i)
    }
}

impl<T: Serialize> Serialize for Wrapper<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.items.serialize(s)
    }
}

#[traceable]
fn boxed_error(fail: bool) -> Result<u8, Box<dyn std::error::Error + Send + Sync>> {
    if fail { Err("boxed".into()) } else { Ok(1) }
}

#[traceable]
fn recursive(n: u32) -> u32 {
    if n == 0 { 0 } else { n + recursive(n - 1) }
}

#[tokio::test]
async fn native_async_trait_generic_impl_boxed_error_recursion() {
    let (_, runs, _) = under_root_async(async {
        assert_eq!(assert_send(Native.answer(4)).await, 8);
        let w = Wrapper {
            items: vec!["a", "b"],
        };
        assert_eq!(w.get(1), Some(&"b"));
        assert!(boxed_error(true).is_err());
        assert_eq!(recursive(3), 6);
    })
    .await;
    let m = by_name(&runs);
    assert_eq!(inputs(&m["answer"]), r#"{"q":4}"#);
    assert_eq!(outputs(&m["answer"]), r#"{"output":8}"#);
    assert_eq!(inputs(&m["get"]), r#"{"self":["a","b"],"i":1}"#);
    assert_eq!(outputs(&m["get"]), r#"{"output":"b"}"#);
    assert_eq!(m["boxed_error"].error.as_deref(), Some("boxed"));
    let rec: Vec<_> = runs.iter().filter(|r| r.name == "recursive").collect();
    assert_eq!(rec.len(), 4);
    let depth = |r: &RunRecord| r.dotted_order.matches('.').count();
    let deepest = rec.iter().max_by_key(|r| depth(r)).unwrap();
    assert_eq!(inputs(deepest), r#"{"n":0}"#);
    assert_eq!(depth(deepest), 4);
}

#[traceable]
extern "C" fn c_callback(x: i32) -> i32 {
    x * 10
}

#[traceable(skip(p))]
fn raw_pointer(p: *const u8) -> bool {
    p.is_null()
}

#[test]
fn extern_fns_and_skipped_pointers() {
    let v = 7u8;
    let (_, runs, _) = under_root(|| {
        assert_eq!(c_callback(2), 20);
        let f: extern "C" fn(i32) -> i32 = c_callback;
        assert_eq!(f(3), 30);
        assert!(!raw_pointer(&v));
    });
    let m = by_name(&runs);
    assert_eq!(runs.iter().filter(|r| r.name == "c_callback").count(), 2);
    assert_eq!(inputs(&m["raw_pointer"]), "{}");
}

async fn plain_async(x: u64) -> u64 {
    tokio::task::yield_now().await;
    x
}

#[traceable]
async fn traced_async(x: u64) -> u64 {
    tokio::task::yield_now().await;
    x
}

#[test]
fn an_untraced_future_is_about_the_size_of_the_plain_one() {
    let plain = std::mem::size_of_val(&plain_async(1));
    let traced = std::mem::size_of_val(&traced_async(1));
    assert!(
        traced <= plain + 32,
        "plain {plain} bytes, traced {traced} bytes"
    );
}

#[test]
fn nested_override_scopes_restore_the_outer_one() {
    let (outer_id, inner_id) = (uuid7(), uuid7());
    let (_, runs, _) = under_root(|| {
        with_extra(TraceExtra::new().run_id(outer_id), || {
            with_extra(TraceExtra::new().run_id(inner_id), || overridable(1));
            // The outer overrides were not used yet: the next call takes them.
            overridable(2)
        })
    });
    let ids: Vec<_> = runs
        .iter()
        .filter(|r| r.name == "overridable")
        .map(|r| (inputs(r).to_owned(), r.id))
        .collect();
    assert!(
        ids.contains(&(r#"{"x":1}"#.to_owned(), inner_id)),
        "{ids:?}"
    );
    assert!(
        ids.contains(&(r#"{"x":2}"#.to_owned(), outer_id)),
        "{ids:?}"
    );
}

#[tokio::test]
async fn async_overrides_survive_polls_before_the_traced_call() {
    let id = uuid7();
    let (_, runs, _) = under_root_async(async {
        with_extra_async(TraceExtra::new().run_id(id), async {
            tokio::task::yield_now().await;
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
            a_overridable(7).await
        })
        .await
    })
    .await;
    let r = runs
        .iter()
        .find(|r| r.id == id)
        .expect("the overridden run");
    assert_eq!(inputs(r), r#"{"x":7}"#);
}

// ---------------------------------------------------------------- attachments

/// Arguments typed `Attachment` (or a reference to one) are attached to the
/// run, not recorded in its inputs — as the Python SDK does with its
/// `Attachment` parameters.
#[traceable]
fn describe(image: langsmith::Attachment, prompt: &str, notes: &langsmith::Attachment) -> usize {
    image.data().len() + prompt.len() + notes.data().len()
}

#[traceable(skip(image))]
fn describe_skipped(image: langsmith::Attachment) -> usize {
    image.data().len()
}

#[traceable]
async fn transcribe(audio: &langsmith::Attachment, lang: String) -> String {
    tokio::task::yield_now().await;
    format!("{lang}:{}", audio.data().len())
}

#[traceable]
fn forward(audio: langsmith::Attachment) -> String {
    // Attached to this run, and handed on: the nested call attaches it too.
    futures_lite_block_on(transcribe(&audio, "en".into()))
}

fn futures_lite_block_on<F: std::future::Future>(fut: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
        .block_on(fut)
}

fn attachment(name: &str, mime: &str, data: &'static [u8]) -> langsmith::Attachment {
    langsmith::Attachment::new(name, mime, data).unwrap()
}

fn attached(r: &RunRecord) -> Vec<(String, String, usize)> {
    r.attachments
        .iter()
        .map(|a| {
            (
                a.name().to_owned(),
                a.mime_type().to_owned(),
                a.data().len(),
            )
        })
        .collect()
}

#[test]
fn attachment_arguments_are_attached_not_recorded() {
    let image = attachment("photo", "image/png", b"12345");
    let notes = attachment("notes", "text/plain", b"ab");
    let (n, runs, _) = under_root(|| describe(image.clone(), "what is it?", &notes));
    assert_eq!(n, 5 + 11 + 2);
    let runs = by_name(&runs);
    let r = &runs["describe"];
    assert_eq!(inputs(r), r#"{"prompt":"what is it?"}"#);
    assert_eq!(
        attached(r),
        [
            ("photo".into(), "image/png".into(), 5),
            ("notes".into(), "text/plain".into(), 2)
        ]
    );
    assert!(runs["root"].attachments.is_empty());

    let (_, runs, _) = under_root(|| describe_skipped(image.clone()));
    let r = &by_name(&runs)["describe_skipped"];
    assert_eq!(inputs(r), "{}");
    assert!(
        r.attachments.is_empty(),
        "skip(image) leaves it out entirely"
    );

    // Untraced (no client, tracing off): the function runs as it is.
    assert_eq!(describe(image, "x", &notes), 8);
}

#[tokio::test]
async fn attachment_arguments_of_async_functions() {
    let audio = attachment("audio", "audio/wav", b"RIFF....WAVE");
    let (out, runs, _) = under_root_async(transcribe(&audio, "fr".into())).await;
    assert_eq!(out, "fr:12");
    let r = &by_name(&runs)["transcribe"];
    assert_eq!(inputs(r), r#"{"lang":"fr"}"#);
    assert_eq!(attached(r), [("audio".into(), "audio/wav".into(), 12)]);
}

#[test]
fn attachment_arguments_handed_on_are_attached_to_each_run() {
    let audio = attachment("audio", "audio/wav", b"RIFF....WAVE");
    let (_, runs, _) = under_root(|| forward(audio));
    let runs = by_name(&runs);
    assert_eq!(
        attached(&runs["forward"]),
        [("audio".into(), "audio/wav".into(), 12)]
    );
    assert_eq!(
        attached(&runs["transcribe"]),
        [("audio".into(), "audio/wav".into(), 12)]
    );
    assert_eq!(runs["transcribe"].parent_run_id, Some(runs["forward"].id));
}
