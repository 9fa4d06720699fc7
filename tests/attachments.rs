//! Attachments end to end: a run's files reach the collector through the
//! background exporter as `attachment.{id}.{name}` parts, each with its own
//! type and size, on the run's post, its patch and its end — added on the
//! run itself or, inside `#[traceable]`, through `current_run()`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use langsmith::*;
use langsmith_collector::{Collector, StoredAttachment};
use std::time::Duration;

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
    let client = Client::builder()
        .config(Config::default())
        .endpoint(collector.url())
        .api_key("test")
        .project("attachments")
        .tracing(Some(true))
        .build();

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
    let client = Client::builder()
        .config(Config::default())
        .endpoint(collector.url())
        .api_key("test")
        .project("attachments-traceable")
        .tracing(Some(true))
        .build();
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
