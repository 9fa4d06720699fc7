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
use super::remap::{Ids, remap, uuid7_deterministic};
use crate::Timestamp;
use crate::run::{Extra, Feedback, RunRecord, RunType};
use serde::Serialize;
use serde_json::value::RawValue;
use std::sync::Arc;
use uuid::Uuid;

/// The ids a run is sent with: its own, or those of a replica project.
#[derive(Clone, Copy)]
struct IdView<'a> {
    id: &'a Uuid,
    trace_id: &'a Uuid,
    parent_run_id: Option<&'a Uuid>,
    dotted_order: &'a str,
}

impl<'a> IdView<'a> {
    fn new(run: &'a RunRecord, remapped: Option<&'a Ids>) -> Self {
        match remapped {
            Some(x) => IdView {
                id: &x.id,
                trace_id: &x.trace_id,
                parent_run_id: x.parent_run_id.as_ref(),
                dotted_order: &x.dotted_order,
            },
            None => IdView {
                id: &run.id,
                trace_id: &run.trace_id,
                parent_run_id: run.parent_run_id.as_ref(),
                dotted_order: &run.dotted_order,
            },
        }
    }
}

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
    #[serde(flatten)]
    destination: Destination<'a>,
    name: &'a str,
    run_type: RunType,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time: Option<&'a Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference_example_id: Option<&'a Uuid>,
}

/// Serializes as JSON `null`.
#[derive(Clone, Copy)]
struct Null;

impl Serialize for Null {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_none()
    }
}

/// Where a run is filed: a project (`session_name`), or an agent address
/// (`address`, the LRN) with no project, as the Python SDK's
/// `apply_to_payload` sends an addressed run.
#[derive(Serialize, Clone, Copy)]
enum Destination<'a> {
    #[serde(rename = "session_name")]
    Project(&'a str),
    #[serde(rename = "address")]
    Address(&'a str),
}

impl<'a> Destination<'a> {
    /// A replica's project replaces the run's destination; otherwise the
    /// run's address, else its project.
    fn of(run: &'a RunRecord, project: Option<&'a str>) -> Self {
        match (project, run.address.as_deref()) {
            (Some(p), _) => Destination::Project(p),
            (None, Some(a)) => Destination::Address(a),
            (None, None) => Destination::Project(&run.session_name),
        }
    }

    /// `"session_name":"..."` or `"address":"..."`, after a comma.
    fn write_json(self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        let (key, value): (&[u8], &str) = match self {
            Destination::Project(p) => (b",\"session_name\":", p),
            Destination::Address(a) => (b",\"address\":", a),
        };
        out.extend_from_slice(key);
        push_str(out, value)
    }
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
    /// `null` beside a project (as Python's `update_run` sends it); left
    /// out beside an address (Python's `apply_to_payload` drops it).
    #[serde(skip_serializing_if = "Option::is_none")]
    session_id: Option<Null>,
    #[serde(flatten)]
    destination: Destination<'a>,
    start_time: &'a Timestamp,
    #[serde(skip_serializing_if = "Option::is_none")]
    end_time: Option<&'a Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reference_example_id: Option<&'a Uuid>,
}

impl<'a> PostMain<'a> {
    fn new(run: &'a RunRecord, ids: IdView<'a>, project: Option<&'a str>) -> Self {
        PostMain {
            id: ids.id,
            start_time: &run.start_time,
            parent_run_id: ids.parent_run_id,
            tags: &run.tags,
            dotted_order: ids.dotted_order,
            trace_id: ids.trace_id,
            destination: Destination::of(run, project),
            name: &run.name,
            run_type: run.run_type,
            end_time: run.end_time.as_ref(),
            reference_example_id: run.reference_example_id.as_ref(),
        }
    }
}

impl PostMain<'_> {
    /// Appends this part's JSON to `out`, byte for byte what
    /// `serde_json::to_writer` writes for it, without serde's per-byte
    /// string escaping where no escaping is needed (ids, timestamps, the
    /// dotted order and most names): that escaping was the largest single
    /// cost of the exporter's encoding.
    fn write_json(&self, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
        out.extend_from_slice(b"{\"id\":");
        push_uuid(out, self.id);
        out.extend_from_slice(b",\"start_time\":");
        push_ts(out, self.start_time);
        if let Some(parent) = self.parent_run_id {
            out.extend_from_slice(b",\"parent_run_id\":");
            push_uuid(out, parent);
        }
        out.extend_from_slice(b",\"tags\":[");
        for (i, tag) in self.tags.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            push_str(out, tag)?;
        }
        out.extend_from_slice(b"],\"dotted_order\":");
        push_str(out, self.dotted_order)?;
        out.extend_from_slice(b",\"trace_id\":");
        push_uuid(out, self.trace_id);
        self.destination.write_json(out)?;
        out.extend_from_slice(b",\"name\":");
        push_str(out, self.name)?;
        out.extend_from_slice(b",\"run_type\":");
        serde_json::to_writer(&mut *out, &self.run_type)?;
        if let Some(end) = &self.end_time {
            out.extend_from_slice(b",\"end_time\":");
            push_ts(out, end);
        }
        if let Some(example) = self.reference_example_id {
            out.extend_from_slice(b",\"reference_example_id\":");
            push_uuid(out, example);
        }
        out.push(b'}');
        Ok(())
    }
}

/// `"` + the hyphenated lower-case id + `"`.
fn push_uuid(out: &mut Vec<u8>, id: &Uuid) {
    out.reserve(38);
    out.push(b'"');
    out.extend_from_slice(&crate::id::hyphenated(id));
    out.push(b'"');
}

/// A JSON string: copied as is when nothing in it needs escaping, else
/// through serde_json's escaper.
fn push_str(out: &mut Vec<u8>, s: &str) -> Result<(), serde_json::Error> {
    if crate::run::json_needs_escape(s) {
        return serde_json::to_writer(&mut *out, s);
    }
    out.reserve(s.len() + 2);
    out.push(b'"');
    out.extend_from_slice(s.as_bytes());
    out.push(b'"');
    Ok(())
}

fn push_ts(out: &mut Vec<u8>, t: &Timestamp) {
    out.push(b'"');
    t.push_iso(out);
    out.push(b'"');
}

/// A whole run for `/runs/batch`: the fields of the `post.{id}` part, then
/// the big ones.
#[derive(Serialize)]
struct FullRun<'a> {
    #[serde(flatten)]
    main: PostMain<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    inputs: Option<&'a RawValue>,
    #[serde(skip_serializing_if = "Option::is_none")]
    outputs: Option<&'a RawValue>,
    events: &'a [serde_json::Value],
    extra: &'a Extra,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    serialized: Option<&'a serde_json::Value>,
}

impl<'a> FullRun<'a> {
    fn new(run: &'a RunRecord, ids: IdView<'a>, project: Option<&'a str>, post: bool) -> Self {
        FullRun {
            main: PostMain::new(run, ids, project),
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
    /// The `(op, id)` whose prefix `name` holds.
    name_key: Option<(&'static str, Uuid)>,
    /// `extra.runtime` is one `Arc` shared by all runs of a client:
    /// serialized once per body.
    runtime_cache: Option<(Arc<serde_json::Value>, Vec<u8>)>,
}

impl MultipartWriter {
    /// An empty body with a fresh random boundary.
    pub(crate) fn new() -> Self {
        Self::with_boundary(Uuid::new_v4().simple().to_string())
    }

    /// An empty body with a fresh random boundary and room for `capacity`
    /// bytes (a batch's body grows to about 150 KB per 100 small runs).
    pub(crate) fn with_capacity(capacity: usize) -> Self {
        let mut w = Self::new();
        w.buf.reserve(capacity);
        w
    }

    /// An empty body with the given boundary.
    pub(crate) fn with_boundary(boundary: String) -> Self {
        MultipartWriter {
            buf: Vec::with_capacity(16 * 1024),
            boundary,
            scratch: Vec::with_capacity(1024),
            name: String::with_capacity(64),
            name_key: None,
            runtime_cache: None,
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
        self.typed_part("application/json", data);
    }

    /// A part with the current name and the given `Content-Type`.
    fn typed_part(&mut self, content_type: &str, data: &[u8]) {
        const DISPOSITION: &[u8] = b"\r\nContent-Disposition: form-data; name=\"";
        const TYPE: &[u8] = b"\"\r\nContent-Type: ";
        const LENGTH: &[u8] = b"\r\nContent-Length: ";
        let buf = &mut self.buf;
        // One reservation for the whole part (28: the dashes, the length's
        // digits and the line ends).
        buf.reserve(
            self.boundary.len()
                + DISPOSITION.len()
                + self.name.len()
                + TYPE.len()
                + content_type.len()
                + LENGTH.len()
                + 28
                + data.len(),
        );
        buf.extend_from_slice(b"--");
        buf.extend_from_slice(self.boundary.as_bytes());
        buf.extend_from_slice(DISPOSITION);
        buf.extend_from_slice(self.name.as_bytes());
        buf.extend_from_slice(TYPE);
        buf.extend_from_slice(content_type.as_bytes());
        buf.extend_from_slice(LENGTH);
        push_decimal(buf, data.len());
        buf.extend_from_slice(b"\r\n\r\n");
        buf.extend_from_slice(data);
        buf.extend_from_slice(b"\r\n");
    }

    /// Sets the part name `{op}.{id}` or `{op}.{id}.{field}`; the
    /// `{op}.{id}` prefix is kept from the previous call when unchanged.
    fn set_name(&mut self, op: &'static str, id: &Uuid, field: Option<&str>) {
        let prefix_len = op.len() + 1 + uuid::fmt::Hyphenated::LENGTH;
        if self.name_key == Some((op, *id)) && self.name.len() >= prefix_len {
            self.name.truncate(prefix_len);
        } else {
            self.name.clear();
            self.name.push_str(op);
            self.name.push('.');
            crate::id::push_hyphenated(&mut self.name, id);
            self.name_key = Some((op, *id));
        }
        if let Some(f) = field {
            self.name.push('.');
            self.name.push_str(f);
        }
    }

    fn json_part<T: Serialize + ?Sized>(
        &mut self,
        op: &'static str,
        id: &Uuid,
        field: Option<&str>,
        value: &T,
    ) -> Result<(), serde_json::Error> {
        self.scratch.clear();
        serde_json::to_writer(&mut self.scratch, value)?;
        self.scratch_part(op, id, field);
        Ok(())
    }

    /// `events`: `[]` (the usual) without serde.
    fn events_part(
        &mut self,
        op: &'static str,
        id: &Uuid,
        events: &[serde_json::Value],
    ) -> Result<(), serde_json::Error> {
        if events.is_empty() {
            self.raw_part(op, id, "events", "[]");
            Ok(())
        } else {
            self.json_part(op, id, Some("events"), events)
        }
    }

    /// `extra`, byte for byte as `serde_json::to_vec(&extra)` writes it.
    fn extra_part(
        &mut self,
        op: &'static str,
        id: &Uuid,
        extra: &Extra,
    ) -> Result<(), serde_json::Error> {
        // Destructured so that a new field of `Extra` cannot be forgotten here.
        let Extra { metadata, runtime } = extra;
        let scratch = &mut self.scratch;
        scratch.clear();
        scratch.extend_from_slice(b"{\"metadata\":");
        serde_json::to_writer(&mut *scratch, metadata)?;
        if let Some(rt) = runtime {
            scratch.extend_from_slice(b",\"runtime\":");
            match &self.runtime_cache {
                Some((cached, bytes)) if Arc::ptr_eq(cached, rt) => {
                    scratch.extend_from_slice(bytes)
                }
                _ => {
                    let bytes = serde_json::to_vec(&**rt)?;
                    scratch.extend_from_slice(&bytes);
                    self.runtime_cache = Some((rt.clone(), bytes));
                }
            }
        }
        scratch.push(b'}');
        self.scratch_part(op, id, Some("extra"));
        Ok(())
    }

    /// Writes what `scratch` holds as the part `{op}.{id}[.{field}]`.
    fn scratch_part(&mut self, op: &'static str, id: &Uuid, field: Option<&str>) {
        self.set_name(op, id, field);
        let data = std::mem::take(&mut self.scratch);
        self.part(&data);
        self.scratch = data;
    }

    /// `attachment.{id}.{name}` parts, after the run's own (as the Python
    /// SDK orders them). Names and types were checked by `Attachment::new`.
    fn attachment_parts(&mut self, id: &Uuid, attachments: &[crate::Attachment]) {
        for a in attachments {
            self.set_name("attachment", id, Some(a.name()));
            self.typed_part(a.mime_type(), a.data());
        }
    }

    fn raw_part(&mut self, op: &'static str, id: &Uuid, field: &str, raw: &str) {
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
                let remapped = remap(run, project);
                let ids = IdView::new(run, remapped.as_ref());
                let id = ids.id;
                self.scratch.clear();
                PostMain::new(run, ids, project).write_json(&mut self.scratch)?;
                self.scratch_part("post", id, None);
                let inputs = run.inputs.as_deref().map_or("{}", RawValue::get);
                self.raw_part("post", id, "inputs", inputs);
                let outputs = run.outputs.as_deref().map_or("{}", RawValue::get);
                self.raw_part("post", id, "outputs", outputs);
                self.events_part("post", id, &run.events)?;
                self.extra_part("post", id, &run.extra)?;
                if let Some(error) = &run.error {
                    self.json_part("post", id, Some("error"), error)?;
                }
                if let Some(serialized) = &run.serialized {
                    self.json_part("post", id, Some("serialized"), serialized)?;
                }
                self.attachment_parts(id, &run.attachments);
            }
            Kind::Patch(run) => {
                let remapped = remap(run, project);
                let ids = IdView::new(run, remapped.as_ref());
                let id = ids.id;
                let destination = Destination::of(run, project);
                let main = PatchMain {
                    id,
                    name: &run.name,
                    run_type: run.run_type,
                    trace_id: ids.trace_id,
                    parent_run_id: ids.parent_run_id,
                    dotted_order: ids.dotted_order,
                    tags: &run.tags,
                    session_id: match destination {
                        Destination::Project(_) => Some(Null),
                        Destination::Address(_) => None,
                    },
                    destination,
                    start_time: &run.start_time,
                    end_time: run.end_time.as_ref(),
                    reference_example_id: run.reference_example_id.as_ref(),
                };
                self.json_part("patch", id, None, &main)?;
                // Like the Python SDK (LANGSMITH_EXCLUDE_INPUTS_ON_PATCH
                // defaults to true), inputs are not sent again on a patch.
                if let Some(outputs) = &run.outputs {
                    self.raw_part("patch", id, "outputs", outputs.get());
                }
                self.events_part("patch", id, &run.events)?;
                self.extra_part("patch", id, &run.extra)?;
                if let Some(error) = &run.error {
                    self.json_part("patch", id, Some("error"), error)?;
                }
                self.attachment_parts(id, &run.attachments);
            }
            Kind::Feedback(fb) => match project {
                Some(p) => {
                    let fb = remap_feedback(fb, p);
                    self.json_part("feedback", &fb.id, None, &fb)?;
                }
                None => self.json_part("feedback", &fb.id, None, fb.as_ref())?,
            },
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

/// Appends `n` in decimal.
fn push_decimal(buf: &mut Vec<u8>, mut n: usize) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    buf.extend_from_slice(&digits[i..]);
}

static ATTACHMENTS_WITHOUT_MULTIPART: crate::RateLimited = crate::RateLimited::new(60);

/// The `/runs/batch` body `{"post":[...],"patch":[...]}` for run items
/// (feedback items are skipped: they go to `/feedback` one by one).
pub(crate) fn batch_json(
    items: &[Item],
    project: Option<&str>,
) -> Result<Vec<u8>, serde_json::Error> {
    let remapped: Vec<Option<Ids>> = items
        .iter()
        .map(|item| match &item.kind {
            Kind::Post(run) | Kind::Patch(run) => remap(run, project),
            Kind::Feedback(_) => None,
        })
        .collect();
    let dropped: usize = items
        .iter()
        .map(|item| match &item.kind {
            Kind::Post(run) | Kind::Patch(run) => run.attachments.len(),
            Kind::Feedback(_) => 0,
        })
        .sum();
    if dropped > 0 {
        ATTACHMENTS_WITHOUT_MULTIPART.log(|suppressed| {
            tracing::warn!(
                attachments = dropped,
                suppressed,
                "LangSmith: the endpoint has no /runs/multipart; runs are sent to /runs/batch, \
                 which cannot carry attachments, so these were not sent"
            )
        });
    }
    let mut post = Vec::new();
    let mut patch = Vec::new();
    for (item, ids) in items.iter().zip(&remapped) {
        match &item.kind {
            Kind::Post(run) => post.push(FullRun::new(
                run,
                IdView::new(run, ids.as_ref()),
                project,
                true,
            )),
            Kind::Patch(run) => patch.push(FullRun::new(
                run,
                IdView::new(run, ids.as_ref()),
                project,
                false,
            )),
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
pub(crate) fn feedback_json(
    fb: &Feedback,
    project: Option<&str>,
) -> Result<Vec<u8>, serde_json::Error> {
    match project {
        Some(p) => serde_json::to_vec(&remap_feedback(fb, p)),
        None => serde_json::to_vec(fb),
    }
}

/// Feedback for a replica with its own project: about the run's copy there
/// (whose ids are derived from the project, see [`remap`]).
fn remap_feedback(fb: &Feedback, project: &str) -> Feedback {
    let mut f = fb.clone();
    f.run_id = uuid7_deterministic(f.run_id, project);
    f.trace_id = f.trace_id.map(|t| uuid7_deterministic(t, project));
    f
}

/// Compresses bodies with zstd at [`ExporterSettings::compression_level`]
/// (default 1, as the Python SDK), reusing one compression context
/// (creating one per body costs about as much as compressing a 100-run
/// batch).
///
/// [`ExporterSettings::compression_level`]: crate::ExporterSettings::compression_level
#[derive(Default)]
pub(crate) struct Compressor {
    ctx: Option<zstd::bulk::Compressor<'static>>,
    level: i32,
}

impl Compressor {
    /// A compressor at `level`, clamped to what the zstd library supports.
    pub(crate) fn new(level: i32) -> Self {
        let range = zstd::compression_level_range();
        Compressor {
            ctx: None,
            level: level.clamp(*range.start(), *range.end()),
        }
    }

    pub(crate) fn compress(&mut self, body: &[u8]) -> std::io::Result<Vec<u8>> {
        let mut ctx = match self.ctx.take() {
            Some(ctx) => ctx,
            None => zstd::bulk::Compressor::new(self.level)?,
        };
        let out = ctx.compress(body);
        self.ctx = Some(ctx);
        out
    }
}

impl std::fmt::Debug for Compressor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Compressor")
    }
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
    fn fast_post_main_writes_what_serde_writes() {
        let child: Uuid = "01a1fc6d-6bd7-7464-a66d-dcab041aaecb".parse().unwrap();
        let mut cases = Vec::new();
        let base = record();
        cases.push(base.clone());
        // A child with tags, a reference example and no end time.
        let mut r = base.clone();
        let parent = r.id;
        r.dotted_order = DottedOrder::parse(&r.dotted_order)
            .unwrap()
            .child(r.start_time, child)
            .into_string();
        r.id = child;
        r.parent_run_id = Some(parent);
        r.tags = vec!["a".into(), "b c".into()];
        r.reference_example_id = Some(parent);
        r.end_time = None;
        cases.push(r);
        // Strings serde escapes: quotes, backslashes, control characters,
        // and non-ASCII that it does not.
        let mut r = base.clone();
        r.name = "say \"hi\"\\\n\t\u{1}é✓".into();
        r.session_name = "proj\u{7f}\"".into();
        r.tags = vec!["t\"1".into(), String::new()];
        r.dotted_order = "not \"validated\"".into();
        cases.push(r);
        // Addressed to an agent: `address` where `session_name` was.
        let mut r = base.clone();
        r.session_name = "".into();
        r.address = Some("lrn:agents/bot/environments/production".into());
        cases.push(r);
        // Timestamps outside the fast range take serde's path.
        let mut r = base.clone();
        r.start_time = Timestamp::from_micros(-1);
        r.end_time = Some(Timestamp::from_micros(i64::MAX / 2));
        cases.push(r);
        for (i, run) in cases.iter().enumerate() {
            for project in [None, Some("other \"project\"")] {
                let main = PostMain::new(run, IdView::new(run, None), project);
                let mut fast = Vec::new();
                main.write_json(&mut fast).unwrap();
                let slow = serde_json::to_vec(&main).unwrap();
                assert_eq!(
                    String::from_utf8_lossy(&fast),
                    String::from_utf8_lossy(&slow),
                    "case {i}, project {project:?}"
                );
            }
        }
    }

    #[test]
    fn one_compressor_serves_many_bodies() {
        let a = b"--b\r\npost.1 {\"a\":1}\r\n--b--\r\n".repeat(50);
        let b = b"other body".repeat(10);
        // Any level, out-of-range ones clamped (the extremes barely compress).
        for level in [1, -5, 19, i32::MIN, i32::MAX] {
            let mut c = Compressor::new(level);
            for body in [&a, &b, &a] {
                let z = c.compress(body).unwrap();
                if body.len() > 1000 && (-5..=19).contains(&level) {
                    assert!(z.len() < body.len(), "level {level}");
                }
                assert_eq!(&zstd::bulk::decompress(&z, body.len()).unwrap(), body);
            }
        }
        // Higher levels compress this body at least as well as level 1.
        let fast = Compressor::new(-5).compress(&a).unwrap().len();
        let strong = Compressor::new(19).compress(&a).unwrap().len();
        assert!(strong <= fast, "{strong} > {fast}");
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
    fn attachments_follow_the_run_parts_with_their_own_type() {
        let png = crate::Attachment::new("chart", "image/png", &b"\x89PNG\r\n"[..]).unwrap();
        let txt = crate::Attachment::new("notes", "text/plain; charset=utf-8", "hi").unwrap();
        let id = "01a1fc6d-6bd7-7464-a66d-dcab041aaeca";
        // The layout the Python SDK 0.14.17 writes for an attachment part
        // (`_operations.encode_multipart_parts_and_context`), then `\r\n`.
        let mut png_part = format!(
            "--b0\r\nContent-Disposition: form-data; name=\"attachment.{id}.chart\"\r\n\
             Content-Type: image/png\r\nContent-Length: 6\r\n\r\n"
        )
        .into_bytes();
        png_part.extend_from_slice(b"\x89PNG\r\n\r\n");
        for post in [true, false] {
            let mut r = record();
            r.attachments = vec![png.clone(), txt.clone()];
            let kind = if post {
                Kind::Post(Box::new(r))
            } else {
                Kind::Patch(Box::new(r))
            };
            let mut w = MultipartWriter::with_boundary("b0".into());
            w.write_item(&Item::new(kind, 0, 0, Instant::now()), None)
                .unwrap();
            let body = w.finish().0;
            let names: Vec<String> = String::from_utf8_lossy(&body)
                .split("name=\"")
                .skip(1)
                .filter_map(|s| s.split('"').next().map(str::to_owned))
                .collect();
            let op = if post { "post" } else { "patch" };
            let n = names.len();
            assert_eq!(names[n - 3], format!("{op}.{id}.error"));
            assert_eq!(
                names[n - 2..],
                [
                    format!("attachment.{id}.chart"),
                    format!("attachment.{id}.notes")
                ]
            );
            assert!(body.windows(png_part.len()).any(|w| w == png_part), "{op}");
            let notes = format!(
                "name=\"attachment.{id}.notes\"\r\nContent-Type: text/plain; charset=utf-8\r\n\
                 Content-Length: 2\r\n\r\nhi\r\n--b0--\r\n"
            );
            assert!(body.ends_with(notes.as_bytes()), "{op}");
        }
        // Sent to a replica's project: under the run's id for that project.
        let mut r = record();
        r.attachments = vec![png];
        let item = Item::new(Kind::Post(Box::new(r.clone())), 0, 0, Instant::now());
        let mut w = MultipartWriter::with_boundary("b0".into());
        w.write_item(&item, Some("replica-project")).unwrap();
        let body = String::from_utf8_lossy(&w.finish().0).into_owned();
        let remapped = remap(&r, Some("replica-project")).unwrap().id;
        assert_ne!(remapped, r.id);
        assert!(
            body.contains(&format!("name=\"attachment.{remapped}.chart\"")),
            "{body}"
        );
        assert!(!body.contains(&format!("attachment.{id}")));
    }

    #[test]
    fn the_batch_fallback_sends_the_run_and_says_its_attachments_could_not_go() {
        let mut r = record();
        r.attachments = vec![crate::Attachment::new("chart", "image/png", "x").unwrap()];
        let items = [Item::new(Kind::Post(Box::new(r)), 0, 0, Instant::now())];
        let (body, log) = crate::warn::capture_logs(|| batch_json(&items, None));
        let body: serde_json::Value = serde_json::from_slice(&body.unwrap()).unwrap();
        assert_eq!(body["post"][0]["name"], "fails");
        assert!(body["post"][0].get("attachments").is_none());
        assert!(
            log.contains("cannot carry attachments") && log.contains("attachments=1"),
            "{log}"
        );
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
        // A project other than the run's own: ids derived like the Python SDK's.
        let orig: Uuid = "01a1fc6d-6bd7-7464-a66d-dcab041aaeca".parse().unwrap();
        let new = uuid7_deterministic(orig, "replica-project");
        assert_ne!(new, orig);
        let id = new.to_string();
        assert!(body.contains(&format!(r#""trace_id":"{id}""#)));
        assert!(body.contains(&format!(r#""dotted_order":"20261121T044631895776Z{id}""#)));
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
    fn decimal() {
        for n in [0usize, 7, 10, 99, 100, 12345, usize::MAX] {
            let mut b = Vec::new();
            push_decimal(&mut b, n);
            assert_eq!(String::from_utf8(b).unwrap(), n.to_string());
        }
    }

    #[test]
    fn fast_paths_write_what_serde_writes() {
        let mut extra = Extra::default();
        for with_runtime in [false, true] {
            if with_runtime {
                extra
                    .metadata
                    .insert("k\"ey".into(), serde_json::json!({"a": [1, "ü"]}));
                extra.runtime = Some(Arc::new(
                    serde_json::json!({"sdk": "langsmith-rs", "v": null}),
                ));
            }
            let mut w = MultipartWriter::with_boundary("b".into());
            let id = Uuid::nil();
            // Twice: the second time from the runtime cache.
            for _ in 0..2 {
                w.extra_part("post", &id, &extra).unwrap();
                let expected = serde_json::to_vec(&extra).unwrap();
                let (_, tail) = w.buf.split_at(w.buf.len() - expected.len() - 2);
                assert_eq!(&tail[..expected.len()], &expected[..]);
            }
        }
        for micros in [
            0i64,
            1,
            999_999,
            1_767_323_045_678_901,
            951_782_400_000_000,
            253_402_300_799_999_999,
            -1,
            -86_400_000_001,
        ] {
            let t = Timestamp::from_micros(micros);
            let mut fast = Vec::new();
            push_ts(&mut fast, &t);
            assert_eq!(
                String::from_utf8(fast).unwrap(),
                serde_json::to_string(&t).unwrap(),
                "{micros}"
            );
        }
    }

    /// The `/runs/batch` entries byte for byte: the `post.{id}` part's
    /// fields first, in the same order, then the big ones.
    #[test]
    fn batch_json_bytes() {
        let mut r = record();
        r.parent_run_id = Some("01a1fc6d-6bd7-7464-a66d-dcab041aaecb".parse().unwrap());
        r.reference_example_id = Some("01a1fc6d-6bd7-7464-a66d-dcab041aaecc".parse().unwrap());
        r.tags = vec!["t1".into()];
        r.outputs = Some(RawValue::from_string(r#"{"y":2}"#.into()).unwrap());
        r.serialized = Some(serde_json::json!({"name": "s"}));
        let post = Item::new(Kind::Post(Box::new(r.clone())), 0, 0, Instant::now());
        let patch = Item::new(Kind::Patch(Box::new(r)), 1, 0, Instant::now());
        let body = batch_json(&[post, patch], None).unwrap();
        let main = r#"{"id":"01a1fc6d-6bd7-7464-a66d-dcab041aaeca","start_time":"2026-11-21T04:46:31.895776+00:00","parent_run_id":"01a1fc6d-6bd7-7464-a66d-dcab041aaecb","tags":["t1"],"dotted_order":"20261121T044631895776Z01a1fc6d-6bd7-7464-a66d-dcab041aaeca","trace_id":"01a1fc6d-6bd7-7464-a66d-dcab041aaeca","session_name":"default","name":"fails","run_type":"tool","end_time":"2026-11-21T04:46:31.896182+00:00","reference_example_id":"01a1fc6d-6bd7-7464-a66d-dcab041aaecc""#;
        let expected = format!(
            r#"{{"post":[{main},"inputs":{{}},"outputs":{{"y":2}},"events":[],"extra":{{"metadata":{{}}}},"error":"boom","serialized":{{"name":"s"}}}}],"patch":[{main},"outputs":{{"y":2}},"events":[],"extra":{{"metadata":{{}}}},"error":"boom"}}]}}"#
        );
        assert_eq!(String::from_utf8(body).unwrap(), expected);
    }

    /// A run addressed to an agent goes out with `address` (its LRN) and no
    /// project — post, patch and the `/runs/batch` fallback — as the Python
    /// SDK sends it; a replica with its own project files it there instead.
    #[test]
    fn an_addressed_run_is_sent_with_its_address_and_no_project() {
        let lrn = "lrn:agents/bot/environments/production";
        let mut r = record();
        r.session_name = "".into();
        r.address = Some(lrn.into());
        let multipart = |kind: Kind, project: Option<&str>| {
            let mut w = MultipartWriter::new();
            w.write_item(&Item::new(kind, 0, 0, Instant::now()), project)
                .unwrap();
            String::from_utf8(w.finish().0).unwrap()
        };
        let post = multipart(Kind::Post(Box::new(r.clone())), None);
        assert!(
            post.contains(&format!(
                r#""trace_id":"{}","address":"{lrn}","name""#,
                r.trace_id
            )),
            "{post}"
        );
        assert!(!post.contains("session_name"), "{post}");
        let patch = multipart(Kind::Patch(Box::new(r.clone())), None);
        assert!(
            patch.contains(&format!(r#""tags":[],"address":"{lrn}","start_time""#)),
            "{patch}"
        );
        assert!(
            !patch.contains("session_name") && !patch.contains("session_id"),
            "{patch}"
        );
        let replica = multipart(Kind::Post(Box::new(r.clone())), Some("mirror"));
        assert!(replica.contains(r#""session_name":"mirror""#) && !replica.contains("address"));
        let item = |kind| Item::new(kind, 0, 0, Instant::now());
        let body = batch_json(
            &[
                item(Kind::Post(Box::new(r.clone()))),
                item(Kind::Patch(Box::new(r))),
            ],
            None,
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
        for entry in [&v["post"][0], &v["patch"][0]] {
            assert_eq!(entry["address"], lrn);
            assert!(entry.get("session_name").is_none() && entry.get("session_id").is_none());
        }
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
