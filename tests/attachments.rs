//! Attachments end to end: a run's files reach the collector through the
//! background exporter as `attachment.{id}.{name}` parts, each with its own
//! type and size, on the run's post, its patch and its end — added on the
//! run itself or, inside `#[traceable]`, through `current_run()`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod support;

use langsmith::*;
use langsmith_collector::{Collector, StoredAttachment};
use std::time::Duration;

/// A client sending to `collector` through the background exporter.
fn client_for(collector: &langsmith_collector::CollectorHandle, project: &str) -> Client {
    Client::builder()
        .config(Config::default())
        .endpoint(collector.url())
        .api_key("test")
        .project(project)
        .tracing(Some(true))
        .build()
}

fn attachment(name: &str, mime: &str, len: usize) -> Attachment {
    Attachment::new(name, mime, vec![0xA5; len]).unwrap()
}

fn stored(name: &str, mime: &str, size: u64) -> StoredAttachment {
    StoredAttachment {
        name: name.into(),
        content_type: Some(mime.into()),
        size,
    }
}

#[test]
fn attachments_arrive_with_their_run() {
    let collector = Collector::builder().start().unwrap();
    let client = client_for(&collector, "attachments");

    // Ended at once: the attachments go with the run's only post.
    let mut short = RunTree::new("short").client(client.clone()).start();
    short.add_attachment(attachment("image", "image/png", 3000));
    short.add_attachment(attachment("audio", "audio/wav", 70_000));
    let short_id = short.id().unwrap();
    short.end();

    // A long run: one attachment with its post, one with a patch, one (and a
    // replacement of the first's name, which LangSmith keeps last) at the end.
    let mut long = RunTree::new("long").client(client.clone()).start();
    long.add_attachment(attachment("plan", "text/markdown", 10));
    long.post();
    assert!(client.flush_blocking(Duration::from_secs(10)));
    long.add_attachment(attachment("progress", "application/json", 20));
    long.patch();
    assert!(client.flush_blocking(Duration::from_secs(10)));
    long.add_attachment(attachment("result", "application/pdf", 30));
    long.add_attachment(attachment("plan", "text/markdown", 40));
    let long_id = long.id().unwrap();
    long.end();
    assert!(client.flush_blocking(Duration::from_secs(10)));
    assert_eq!(client.stats().dropped(), 0, "{:?}", client.stats());

    let runs = collector.wait_for_runs(2, Duration::from_secs(10));
    let by_id = |id| runs.iter().find(|r| r.id == id).expect("run arrived");
    let mut short = by_id(short_id).attachments.clone();
    short.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(
        short,
        [
            stored("audio", "audio/wav", 70_000),
            stored("image", "image/png", 3000)
        ]
    );
    let long = by_id(long_id);
    assert!(long.end_time.is_some());
    let mut got = long.attachments.clone();
    got.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(
        got,
        [
            stored("plan", "text/markdown", 40),
            stored("progress", "application/json", 20),
            stored("result", "application/pdf", 30),
        ]
    );
}

/// Renders a chart and attaches it to its own run.
#[traceable(run_type = "tool")]
async fn render(points: Vec<u32>) -> usize {
    let svg = format!("<svg>{points:?}</svg>");
    let run = current_run().expect("traced");
    assert!(run.add_attachment(Attachment::new("chart", "image/svg+xml", svg.clone()).unwrap()));
    assert!(run.add_metadata("points", points.len()));
    svg.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn traceable_functions_attach_through_the_current_run() {
    let collector = Collector::builder().start().unwrap();
    let client = client_for(&collector, "attachments-traceable");
    let root = RunTree::new("report").client(client.clone()).start();
    let ctx = root.context().unwrap().clone();
    let len = render(vec![3, 1, 4]).in_run(Some(ctx.clone())).await;
    root.end();
    client.flush().await;
    let runs = collector.wait_for_runs(2, Duration::from_secs(10));
    let render = runs
        .iter()
        .find(|r| r.name == "render")
        .expect("render run");
    assert_eq!(render.parent_run_id, Some(ctx.id()));
    assert_eq!(
        render.attachments,
        [stored("chart", "image/svg+xml", len as u64)]
    );
    assert_eq!(render.extra["metadata"]["points"], 3);
}

/// The same attachments sent by the official Python SDK and by this one are
/// stored alike by the collector (names, types, sizes).
#[test]
fn python_and_rust_attachments_are_stored_alike() {
    let Some(py) = support::python() else { return };
    let collector = Collector::builder().start().unwrap();
    let project = format!("attachments-py-{}", uuid7());
    let url = collector.url();
    let py_id = support::run_python(
        &py,
        "attachment_client.py",
        &[],
        &[
            ("LANGSMITH_ENDPOINT", &url),
            ("LANGSMITH_API_KEY", "test"),
            ("LANGSMITH_TRACING", "true"),
            ("LANGSMITH_PROJECT", &project),
        ],
    );
    let py_id: Uuid = py_id["id"].as_str().unwrap().parse().unwrap();

    let client = client_for(&collector, &project);
    let mut run = RunTree::new("rs_attachments")
        .client(client.clone())
        .start();
    let chart: Vec<u8> = (0..=255u8).cycle().take(256 * 12).collect();
    run.add_attachment(Attachment::new("chart", "image/png", chart).unwrap());
    run.add_attachment(Attachment::new("notes", "text/plain; charset=utf-8", "héllo").unwrap());
    let rs_id = run.id().unwrap();
    run.end();
    assert!(client.flush_blocking(Duration::from_secs(10)));

    let runs = collector.wait_for_runs(2, Duration::from_secs(10));
    let sorted = |id: Uuid| {
        let mut a = runs
            .iter()
            .find(|r| r.id == id)
            .unwrap_or_else(|| panic!("run {id} in {runs:#?}"))
            .attachments
            .clone();
        a.sort_by(|x, y| x.name.cmp(&y.name));
        a
    };
    let expected = [
        stored("chart", "image/png", 256 * 12),
        stored("notes", "text/plain; charset=utf-8", 6),
    ];
    assert_eq!(sorted(py_id), expected, "from the Python SDK");
    assert_eq!(sorted(rs_id), expected, "from this SDK");

    // And the Python SDK reads both back, bytes and types, through
    // `Client.read_run` (which downloads what the run's `s3_urls` point at).
    let ids = [py_id.to_string(), rs_id.to_string()];
    let read = support::run_python(
        &py,
        "attachment_reader.py",
        &[&ids[0], &ids[1]],
        &[("LANGSMITH_ENDPOINT", &url), ("LANGSMITH_API_KEY", "test")],
    );
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let chart_hex = hex(&(0..=255u8).cycle().take(256 * 12).collect::<Vec<_>>());
    for id in [py_id, rs_id] {
        let run = &read[id.to_string()];
        assert_eq!(run["chart"]["mime_type"], "image/png", "{id}: {run}");
        assert_eq!(run["chart"]["hex"], chart_hex.as_str(), "{id}");
        assert_eq!(run["notes"]["hex"], hex("héllo".as_bytes()), "{id}");
        assert_eq!(
            collector.attachment_bytes(id, "notes").as_deref(),
            Some("héllo".as_bytes())
        );
    }
}
