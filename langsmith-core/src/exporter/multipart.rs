//! Request bodies: `multipart/form-data` exactly as the official Python SDK
//! writes it for `POST /runs/multipart`, and the JSON of the `/runs/batch`
//! and `/feedback` fallbacks.
//!
//! Layout (byte for byte like the Python SDK): every part is
//!
//! ```text
//! --{boundary}\r\n
//! Content-Disposition: form-data; name="{name}"\r\n
//! Content-Type: application/json\r\n
//! Content-Length: {n}\r\n
//! \r\n
//! {n bytes of JSON}\r\n
//! ```
//!
//! and the body ends with `--{boundary}--\r\n`. The boundary is 32 lowercase
//! hex digits. A run created (possibly with its update merged in) is sent as
//! `post.{id}`, `post.{id}.inputs`, `.outputs`, `.events`, `.extra`, then
//! `.error` and `.serialized` when set; an update of a run sent earlier as
//! `patch.{id}`, `.outputs` (when set), `.events`, `.extra`, `.error` (when
//! set). Inputs and outputs are written as the caller serialized them.

use super::batch::{Item, Kind};
use crate::Timestamp;
use crate::run::{Feedback, RunRecord, RunType};
use serde::Serialize;
use serde_json::value::RawValue;
use std::io::Write;
use uuid::Uuid;

/// The `post.{id}` part: the run without its big fields, in the Python SDK's
/// field order.
#[derive(Serialize)]
struct PostMain<'a> {
    id: &'a Uuid,
    start_time: &'a Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_run_id: Option<&'a Uuid>,
    tags: &'a [String],
    dotted_order: &'a str,
    trace_id: &'a Uuid,
    session_name: &'a str,
    name: &'a str,
    run_type: RunType,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time: Option<&'a Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference_example_id: Option<&'a Uuid>,
}

/// The `patch.{id}` part, in the field order of the Python SDK's `update_run`.
#[derive(Serialize)]
struct PatchMain<'a> {
    id: &'a Uuid,
    name: &'a str,
    run_type: RunType,
    trace_id: &'a Uuid,
    parent_run_id: Option<&'a Uuid>,
    dotted_order: &'a str,
    tags: &'a [String],
    session_id: Option<()>,
    session_name: &'a str,
    start_time: &'a Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time: Option<&'a Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference_example_id: Option<&'a Uuid>,
}

/// A whole run for `/runs/batch`.
#[derive(Serialize)]
struct FullRun<'a> {
    id: &'a Uuid,
    start_time: &'a Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    parent_run_id: Option<&'a Uuid>,
    tags: &'a [String],
    dotted_order: &'a str,
    trace_id: &'a Uuid,
    session_name: &'a str,
    name: &'a str,
    run_type: RunType,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time: Option<&'a Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference_example_id: Option<&'a Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inputs: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outputs: Option<&'a RawValue>,
    events: &'a [serde_json::Value],
    extra: &'a crate::run::Extra,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    serialized: Option<&'a serde_json::Value>,
}

impl<'a> FullRun<'a> {
    fn new(run: &'a RunRecord, project: Option<&'a str>, post: bool) -> Self {
        FullRun {
            id: &run.id,
            start_time: &run.start_time,
            parent_run_id: run.parent_run_id.as_ref(),
            tags: &run.tags,
            dotted_order: &run.dotted_order,
            trace_id: &run.trace_id,
            session_name: project.unwrap_or(&run.session_name),
            name: &run.name,
            run_type: run.run_type,
            end_time: run.end_time.as_ref(),
            reference_example_id: run.reference_example_id.as_ref(),
            inputs: if post {
                Some(run.inputs.as_deref().unwrap_or_else(|| empty_object()))
            } else {
                None
            },
            outputs: run.outputs.as_deref(),
            events: &run.events,
            extra: &run.extra,
            error: run.error.as_deref(),
            serialized: if post { run.serialized.as_ref() } else { None },
        }
    }
}

fn empty_object() -> &'static RawValue {
    static EMPTY: std::sync::OnceLock<Box<RawValue>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(crate::run::empty_object)
}

/// Writes a `multipart/form-data` body part by part.
#[derive(Debug)]
pub(crate) struct MultipartWriter {
    buf: Vec<u8>,
    boundary: String,
    scratch: Vec<u8>,
    name: String,
}

impl MultipartWriter {
    /// An empty body with a fresh random boundary.
    pub(crate) fn new() -> Self {
        Self::with_boundary(Uuid::new_v4().simple().to_string())
    }

    /// An empty body with the given boundary.
    pub(crate) fn with_boundary(boundary: String) -> Self {
        MultipartWriter {
            buf: Vec::with_capacity(16 * 1024),
            boundary,
            scratch: Vec::with_capacity(1024),
            name: String::with_capacity(64),
        }
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.buf.len()
    }

    /// Forgets everything written after the first `len` bytes.
    pub(crate) fn truncate(&mut self, len: usize) {
        self.buf.truncate(len);
    }

    /// Length of the closing delimiter [`finish`](Self::finish) adds.
    pub(crate) fn closing_len(&self) -> usize {
        self.boundary.len() + 6
    }

    /// The `Content-Type` header value.
    pub(crate) fn content_type(&self) -> String {
        format!("multipart/form-data; boundary={}", self.boundary)
    }

    fn part(&mut self, data: &[u8]) {
        let buf = &mut self.buf;
        buf.extend_from_slice(b"--");
        buf.extend_from_slice(self.boundary.as_bytes());
        buf.extend_from_slice(b"\r\nContent-Disposition: form-data; name=\"");
        buf.extend_from_slice(self.name.as_bytes());
        buf.extend_from_slice(b"\"\r\nContent-Type: application/json\r\nContent-Length: ");
        let _ = write!(buf, "{}", data.len());
        buf.extend_from_slice(b"\r\n\r\n");
        buf.extend_from_slice(data);
        buf.extend_from_slice(b"\r\n");
    }

    fn set_name(&mut self, op: &str, id: &Uuid, field: Option<&str>) {
        self.name.clear();
        self.name.push_str(op);
        self.name.push('.');
        let mut tmp = Uuid::encode_buffer();
        self.name.push_str(id.hyphenated().encode_lower(&mut tmp));
        if let Some(f) = field {
            self.name.push('.');
            self.name.push_str(f);
        }
    }

    fn json_part<T: Serialize + ?Sized>(
        &mut self,
        op: &str,
        id: &Uuid,
        field: Option<&str>,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        self.scratch.clear();
        serde_json::to_writer(&mut self.scratch, value)?;
        self.set_name(op, id, field);
        let data = std::mem::take(&mut self.scratch);
        self.part(&data);
        self.scratch = data;
        Ok(())
    }

    fn raw_part(&mut self, op: &str, id: &Uuid, field: &str, raw: &str) {
        self.set_name(op, id, Some(field));
        self.part(raw.as_bytes());
    }

    /// Writes the parts of one item. On error nothing of the item is kept.
    pub(crate) fn write_item(
        &mut self,
        item: &Item,
        project: Option<&str>,
    ) -> Result<(), serde_json::Error> {
        let mark = self.buf.len();
        let res = self.write_item_inner(item, project);
        if res.is_err() {
            self.buf.truncate(mark);
        }
        res
    }

    fn write_item_inner(
        &mut self,
        item: &Item,
        project: Option<&str>,
    ) -> Result<(), serde_json::Error> {
        match &item.kind {
            Kind::Post(run) => {
                let main = PostMain {
                    id: &run.id,
                    start_time: &run.start_time,
                    parent_run_id: run.parent_run_id.as_ref(),
                    tags: &run.tags,
                    dotted_order: &run.dotted_order,
                    trace_id: &run.trace_id,
                    session_name: project.unwrap_or(&run.session_name),
                    name: &run.name,
                    run_type: run.run_type,
                    end_time: run.end_time.as_ref(),
                    reference_example_id: run.reference_example_id.as_ref(),
                };
                self.json_part("post", &run.id, None, &main)?;
                let inputs = run.inputs.as_deref().map_or("{}", RawValue::get);
                self.raw_part("post", &run.id, "inputs", inputs);
                let outputs = run.outputs.as_deref().map_or("{}", RawValue::get);
                self.raw_part("post", &run.id, "outputs", outputs);
                self.json_part("post", &run.id, Some("events"), &run.events)?;
                self.json_part("post", &run.id, Some("extra"), &run.extra)?;
                if let Some(error) = &run.error {
                    self.json_part("post", &run.id, Some("error"), error)?;
                }
                if let Some(serialized) = &run.serialized {
                    self.json_part("post", &run.id, Some("serialized"), serialized)?;
                }
            }
            Kind::Patch(run) => {
                let main = PatchMain {
                    id: &run.id,
                    name: &run.name,
                    run_type: run.run_type,
                    trace_id: &run.trace_id,
                    parent_run_id: run.parent_run_id.as_ref(),
                    dotted_order: &run.dotted_order,
                    tags: &run.tags,
                    session_id: None,
                    session_name: project.unwrap_or(&run.session_name),
                    start_time: &run.start_time,
                    end_time: run.end_time.as_ref(),
                    reference_example_id: run.reference_example_id.as_ref(),
                };
                self.json_part("patch", &run.id, None, &main)?;
                // Like the Python SDK (LANGSMITH_EXCLUDE_INPUTS_ON_PATCH
                // defaults to true), inputs are not sent again on a patch.
                if let Some(outputs) = &run.outputs {
                    self.raw_part("patch", &run.id, "outputs", outputs.get());
                }
                self.json_part("patch", &run.id, Some("events"), &run.events)?;
                self.json_part("patch", &run.id, Some("extra"), &run.extra)?;
                if let Some(error) = &run.error {
                    self.json_part("patch", &run.id, Some("error"), error)?;
                }
            }
            Kind::Feedback(fb) => {
                self.json_part("feedback", &fb.id, None, fb.as_ref())?;
            }
        }
        Ok(())
    }

    /// Closes the body; returns it with its `Content-Type`.
    pub(crate) fn finish(mut self) -> (Vec<u8>, String) {
        let ct = self.content_type();
        self.buf.extend_from_slice(b"--");
        self.buf.extend_from_slice(self.boundary.as_bytes());
        self.buf.extend_from_slice(b"--\r\n");
        (self.buf, ct)
    }
}

/// The `/runs/batch` body `{"post":[...],"patch":[...]}` for run items
/// (feedback items are skipped: they go to `/feedback` one by one).
pub(crate) fn batch_json(
    items: &[Item],
    project: Option<&str>,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut post = Vec::new();
    let mut patch = Vec::new();
    for item in items {
        match &item.kind {
            Kind::Post(run) => post.push(FullRun::new(run, project, true)),
            Kind::Patch(run) => patch.push(FullRun::new(run, project, false)),
            Kind::Feedback(_) => {}
        }
    }
    #[derive(Serialize)]
    struct Body<'a> {
        post: Vec<FullRun<'a>>,
        patch: Vec<FullRun<'a>>,
    }
    serde_json::to_vec(&Body { post, patch })
}

/// The `POST /feedback` body.
pub(crate) fn feedback_json(fb: &Feedback) -> Result<Vec<u8>, serde_json::Error> {
    serde_json::to_vec(fb)
}

/// Compresses a body with zstd (level 1, like the Python SDK's default).
pub(crate) fn compress(body: &[u8]) -> std::io::Result<Vec<u8>> {
    zstd::bulk::compress(body, 1)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::DottedOrder;
    use tokio::time::Instant;

    fn record() -> RunRecord {
        let id: Uuid = "01a1fc6d-6bd7-7464-a66d-dcab041aaeca".parse().unwrap();
        let t = Timestamp::parse_rfc3339("2026-11-21T04:46:31.895776+00:00").unwrap();
        let mut r = RunRecord::new(
            id,
            "fails",
            RunType::Tool,
            t,
            DottedOrder::root(t, id),
            None,
            "default".into(),
        );
        r.end_time = Timestamp::parse_rfc3339("2026-11-21T04:46:31.896182+00:00");
        r.error = Some("boom".into());
        r
    }

    #[test]
    fn post_parts_byte_layout() {
        let item = Item::new(Kind::Post(Box::new(record())), 0, 0, Instant::now());
        let mut w = MultipartWriter::with_boundary("b0".into());
        w.write_item(&item, None).unwrap();
        let (body, ct) = w.finish();
        assert_eq!(ct, "multipart/form-data; boundary=b0");
        let body = String::from_utf8(body).unwrap();
        let main = r#"{"id":"01a1fc6d-6bd7-7464-a66d-dcab041aaeca","start_time":"2026-11-21T04:46:31.895776+00:00","tags":[],"dotted_order":"20261121T044631895776Z01a1fc6d-6bd7-7464-a66d-dcab041aaeca","trace_id":"01a1fc6d-6bd7-7464-a66d-dcab041aaeca","session_name":"default","name":"fails","run_type":"tool","end_time":"2026-11-21T04:46:31.896182+00:00"}"#;
        let expected = format!(
            "--b0\r\nContent-Disposition: form-data; name=\"post.01a1fc6d-6bd7-7464-a66d-dcab041aaeca\"\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{main}\r\n\
             --b0\r\nContent-Disposition: form-data; name=\"post.01a1fc6d-6bd7-7464-a66d-dcab041aaeca.inputs\"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}\r\n\
             --b0\r\nContent-Disposition: form-data; name=\"post.01a1fc6d-6bd7-7464-a66d-dcab041aaeca.outputs\"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{{}}\r\n\
             --b0\r\nContent-Disposition: form-data; name=\"post.01a1fc6d-6bd7-7464-a66d-dcab041aaeca.events\"\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]\r\n\
             --b0\r\nContent-Disposition: form-data; name=\"post.01a1fc6d-6bd7-7464-a66d-dcab041aaeca.extra\"\r\nContent-Type: application/json\r\nContent-Length: 15\r\n\r\n{{\"metadata\":{{}}}}\r\n\
             --b0\r\nContent-Disposition: form-data; name=\"post.01a1fc6d-6bd7-7464-a66d-dcab041aaeca.error\"\r\nContent-Type: application/json\r\nContent-Length: 6\r\n\r\n\"boom\"\r\n\
             --b0--\r\n",
            main.len()
        );
        assert_eq!(body, expected);
    }

    #[test]
    fn patch_parts_and_project_override() {
        let mut r = record();
        r.inputs = Some(RawValue::from_string(r#"{"x":1}"#.into()).unwrap());
        r.outputs = Some(RawValue::from_string(r#"{"y":2}"#.into()).unwrap());
        let item = Item::new(Kind::Patch(Box::new(r)), 0, 0, Instant::now());
        let mut w = MultipartWriter::new();
        w.write_item(&item, Some("replica-project")).unwrap();
        let (body, _) = w.finish();
        let body = String::from_utf8(body).unwrap();
        let names: Vec<&str> = body
            .split("name=\"")
            .skip(1)
            .filter_map(|s| s.split('"').next())
            .collect();
        let id = "01a1fc6d-6bd7-7464-a66d-dcab041aaeca";
        assert_eq!(
            names,
            [
                format!("patch.{id}"),
                format!("patch.{id}.outputs"),
                format!("patch.{id}.events"),
                format!("patch.{id}.extra"),
                format!("patch.{id}.error"),
            ]
        );
        assert!(body.contains(r#""parent_run_id":null,"#));
        assert!(body.contains(r#""session_id":null,"session_name":"replica-project""#));
        assert!(
            !body.contains(r#"{"x":1}"#),
            "inputs are not re-sent on patch"
        );
    }

    #[test]
    fn batch_json_shape() {
        let post = Item::new(Kind::Post(Box::new(record())), 0, 0, Instant::now());
        let patch = Item::new(Kind::Patch(Box::new(record())), 1, 0, Instant::now());
        let body = batch_json(&[post, patch], Some("p2")).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(v["post"][0]["inputs"], serde_json::json!({}));
        assert_eq!(v["post"][0]["session_name"], "p2");
        assert!(v["patch"][0].get("inputs").is_none());
        assert_eq!(v["patch"][0]["error"], "boom");
    }
}
