//! What the collector stores: runs, feedback, attachments; and how creates
//! and updates of one run are merged.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use uuid::Uuid;

/// A run as stored: the field-wise merge of every create (`post`) and update
/// (`patch`) received for its id, in whatever order they arrived.
///
/// Fields an update sets win over the create's; a `null` never erases a
/// value. Receiving the same create or update again changes nothing. A run
/// known only from an update has empty strings where the create's fields
/// (`name`, `run_type`, …) would be.
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let c = langsmith_collector::Collector::builder().start()?;
/// let id = "0193d5a2-0000-7000-8000-000000000001";
/// let body = format!(r#"{{"id":"{id}","name":"root","run_type":"chain",
///     "start_time":"2026-01-02T03:04:05.678901+00:00","inputs":{{"q":1}},
///     "trace_id":"{id}","dotted_order":"20260102T030405678901Z{id}"}}"#);
/// # let url = format!("{}/runs", c.url());
/// # langsmith_collector::doc_support::post_json(&url, &body)?;
/// let run = c.run(id.parse()?).expect("stored");
/// assert_eq!(run.name, "root");
/// assert_eq!(run.inputs["q"], 1);
/// assert_eq!(run.status, "pending"); // no end_time yet
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredRun {
    /// The run's id.
    pub id: Uuid,
    /// The run's name (empty if no create was received yet).
    pub name: String,
    /// `llm`, `chain`, `tool`, … (empty if no create was received yet).
    pub run_type: String,
    /// Start time exactly as received.
    pub start_time: String,
    /// End time exactly as received, once the run has ended.
    pub end_time: Option<String>,
    /// Inputs (`null` if none were sent).
    pub inputs: Value,
    /// Outputs (`null` if none were sent).
    pub outputs: Value,
    /// The error message, if the run failed.
    pub error: Option<String>,
    /// `extra` (holds `metadata` and `runtime`), `null` if none.
    pub extra: Value,
    /// Events (`null` if none were sent).
    pub events: Value,
    /// `serialized` (`null` if none was sent).
    pub serialized: Value,
    /// Tags.
    pub tags: Vec<String>,
    /// The parent run, `None` for a root run.
    pub parent_run_id: Option<Uuid>,
    /// The trace (root run) id; the run's own id if none was sent.
    pub trace_id: Uuid,
    /// The dotted order as received (empty if none was sent).
    pub dotted_order: String,
    /// The project's id (assigned by the collector when first seen).
    pub session_id: Uuid,
    /// The project's name (`default` if the run named none).
    pub session_name: String,
    /// The dataset example this run was evaluated on, if any.
    pub reference_example_id: Option<Uuid>,
    /// `pending` (no end time), `success` or `error`.
    pub status: String,
    /// Attachments received for this run (`attachment.{id}.{name}` parts).
    pub attachments: Vec<StoredAttachment>,
}

/// An attachment received for a run; only its name, type and size are kept.
///
/// ```
/// let a = langsmith_collector::StoredAttachment {
///     name: "image".into(), content_type: Some("image/png".into()), size: 3,
/// };
/// assert_eq!(a.size, 3);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredAttachment {
    /// The attachment's name (the part name after `attachment.{run_id}.`).
    pub name: String,
    /// The part's content type, if any.
    pub content_type: Option<String>,
    /// Size in bytes.
    pub size: u64,
}

/// Feedback as stored (from `POST /feedback` or a `feedback.{id}` part).
///
/// ```
/// # fn main() -> Result<(), Box<dyn std::error::Error>> {
/// let c = langsmith_collector::Collector::builder().start()?;
/// # let url = format!("{}/feedback", c.url());
/// # langsmith_collector::doc_support::post_json(&url,
/// #   r#"{"run_id":"0193d5a2-0000-7000-8000-000000000001","key":"correct","score":1}"#)?;
/// let fb = c.feedback();
/// assert_eq!(fb[0].key, "correct");
/// assert_eq!(fb[0].score, 1);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredFeedback {
    /// The feedback's id.
    pub id: Uuid,
    /// The run it is about, if any.
    pub run_id: Option<Uuid>,
    /// The trace it is about, if given.
    pub trace_id: Option<Uuid>,
    /// The feedback key (`correctness`, `user_score`, …).
    pub key: String,
    /// The score (number or boolean), `null` if none.
    pub score: Value,
    /// The value, `null` if none.
    pub value: Value,
    /// The comment, if any.
    pub comment: Option<String>,
    /// Creation time as received (or as stamped on receipt).
    pub created_at: String,
    /// The whole feedback object as received, with `id`, `created_at` and
    /// `modified_at` filled in when missing.
    pub raw: Value,
}

/// Copies `new`'s non-null fields over `base`.
pub(crate) fn overlay(base: &mut Map<String, Value>, new: Map<String, Value>) {
    for (k, v) in new {
        if !v.is_null() {
            base.insert(k, v);
        }
    }
}

/// The merged view of a run: the create with the update laid over it.
pub(crate) fn merged(post: &Map<String, Value>, patch: &Map<String, Value>) -> Map<String, Value> {
    let mut out = post.clone();
    overlay(&mut out, patch.clone());
    out
}

fn uuid_field(doc: &Map<String, Value>, key: &str) -> Option<Uuid> {
    doc.get(key)?.as_str()?.parse().ok()
}

fn str_field(doc: &Map<String, Value>, key: &str) -> Option<String> {
    doc.get(key)?.as_str().map(str::to_owned)
}

/// The error of a merged run document as text.
pub(crate) fn error_text(doc: &Map<String, Value>) -> Option<String> {
    match doc.get("error")? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The columns the store indexes, derived from a merged document.
pub(crate) struct Columns {
    pub trace_id: Uuid,
    pub parent_run_id: Option<Uuid>,
    pub dotted_order: String,
    pub name: String,
    pub run_type: String,
    pub start_time: String,
    pub end_time: Option<String>,
    pub has_error: bool,
    pub reference_example_id: Option<Uuid>,
}

impl Columns {
    pub(crate) fn of(id: Uuid, doc: &Map<String, Value>) -> Self {
        Columns {
            trace_id: uuid_field(doc, "trace_id").unwrap_or(id),
            parent_run_id: uuid_field(doc, "parent_run_id"),
            dotted_order: str_field(doc, "dotted_order").unwrap_or_default(),
            name: str_field(doc, "name").unwrap_or_default(),
            run_type: str_field(doc, "run_type").unwrap_or_default(),
            start_time: str_field(doc, "start_time").unwrap_or_default(),
            end_time: str_field(doc, "end_time"),
            has_error: error_text(doc).is_some_and(|e| !e.is_empty()),
            reference_example_id: uuid_field(doc, "reference_example_id"),
        }
    }
}

impl StoredRun {
    /// Builds the typed run from a merged document.
    pub(crate) fn from_doc(
        id: Uuid,
        doc: &Map<String, Value>,
        session_id: Uuid,
        session_name: String,
    ) -> Self {
        let c = Columns::of(id, doc);
        let get = |k: &str| doc.get(k).cloned().unwrap_or(Value::Null);
        let tags = doc
            .get("tags")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        let error = error_text(doc);
        let status = if c.has_error {
            "error"
        } else if c.end_time.is_some() {
            "success"
        } else {
            "pending"
        };
        StoredRun {
            id,
            name: c.name,
            run_type: c.run_type,
            start_time: c.start_time,
            end_time: c.end_time,
            inputs: get("inputs"),
            outputs: get("outputs"),
            error,
            extra: get("extra"),
            events: get("events"),
            serialized: get("serialized"),
            tags,
            parent_run_id: c.parent_run_id,
            trace_id: c.trace_id,
            dotted_order: c.dotted_order,
            session_id,
            session_name,
            reference_example_id: c.reference_example_id,
            status: status.to_owned(),
            attachments: Vec::new(),
        }
    }

    /// Ancestor ids from the dotted order, root first, excluding the run itself.
    pub(crate) fn parent_run_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self
            .dotted_order
            .split('.')
            .filter_map(|seg| seg.split_once('Z').map(|(_, id)| id.to_owned()))
            .filter(|id| id.parse::<Uuid>().is_ok())
            .collect();
        ids.pop();
        ids
    }

    /// The run as LangSmith's API returns it (the `Run` schema of the SDKs).
    /// `token`: the collector's attachment token, put in the attachments'
    /// download URLs.
    pub(crate) fn api_json(&self, token: &str) -> Map<String, Value> {
        let obj_or_wrapped = |v: &Value, key: &str| match v {
            Value::Null | Value::Object(_) => v.clone(),
            other => serde_json::json!({ key: other }),
        };
        let only = |v: &Value, ok: fn(&Value) -> bool| if ok(v) { v.clone() } else { Value::Null };
        let usage = self
            .outputs
            .get("usage_metadata")
            .or_else(|| self.extra.pointer("/metadata/usage_metadata"));
        let tok = |k: &str| usage.and_then(|u| u.get(k)).cloned().unwrap_or(Value::Null);
        let inputs = match obj_or_wrapped(&self.inputs, "input") {
            Value::Null => Value::Object(Map::new()),
            v => v,
        };
        let attachments: Map<String, Value> = self
            .attachments
            .iter()
            .map(|a| {
                (
                    format!("attachment.{}", a.name),
                    serde_json::json!({
                        "presigned_url": format!(
                            "/attachments/{}/{}?token={token}",
                            self.id,
                            url_segment(&a.name)
                        ),
                        "mime_type": a.content_type,
                        "size": a.size,
                    }),
                )
            })
            .collect();
        let mut m = Map::new();
        let mut put = |k: &str, v: Value| {
            m.insert(k.to_owned(), v);
        };
        put("id", self.id.to_string().into());
        put("name", self.name.clone().into());
        put("run_type", self.run_type.clone().into());
        put("start_time", self.start_time.clone().into());
        put("end_time", self.end_time.clone().into());
        put("inputs", inputs);
        put("outputs", obj_or_wrapped(&self.outputs, "output"));
        put("error", self.error.clone().into());
        put("extra", only(&self.extra, Value::is_object));
        put("events", only(&self.events, Value::is_array));
        put("serialized", only(&self.serialized, Value::is_object));
        put("tags", serde_json::json!(self.tags));
        put(
            "parent_run_id",
            self.parent_run_id.map(|u| u.to_string()).into(),
        );
        put("parent_run_ids", serde_json::json!(self.parent_run_ids()));
        put("trace_id", self.trace_id.to_string().into());
        put("dotted_order", self.dotted_order.clone().into());
        put("session_id", self.session_id.to_string().into());
        put("status", self.status.clone().into());
        put(
            "reference_example_id",
            self.reference_example_id.map(|u| u.to_string()).into(),
        );
        put("prompt_tokens", tok("input_tokens"));
        put("completion_tokens", tok("output_tokens"));
        put("total_tokens", tok("total_tokens"));
        put("first_token_time", Value::Null);
        put("app_path", Value::Null);
        // LangSmith answers with both; the Python SDK's `read_run` downloads
        // what `s3_urls` lists.
        put("s3_urls", Value::Object(attachments.clone()));
        put("attachments_info", Value::Object(attachments));
        m
    }
}

/// `name` percent-encoded for one URL path segment (everything but ASCII
/// letters, digits and `-._~`; dots too in `.` and `..`, which clients would
/// resolve as path steps).
fn url_segment(name: &str) -> String {
    let dot_ok = !matches!(name, "." | "..");
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'~') || (b == b'.' && dot_ok) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn update_wins_but_null_never_erases() {
        let post = obj(json!({"name":"a","outputs":{},"parent_run_id":"x","error":null}));
        let patch = obj(json!({"outputs":{"o":1},"parent_run_id":null,"end_time":"t"}));
        let m = merged(&post, &patch);
        assert_eq!(m["outputs"], json!({"o":1}));
        assert_eq!(m["parent_run_id"], json!("x"));
        assert_eq!(m["end_time"], json!("t"));
    }

    #[test]
    fn parent_ids_from_dotted_order() {
        let id: Uuid = "0193d5a2-0000-7000-8000-000000000064".parse().unwrap();
        let doc = obj(json!({
            "dotted_order": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001.20260102T030405678906Z0193d5a2-0000-7000-8000-000000000064"
        }));
        let r = StoredRun::from_doc(id, &doc, Uuid::nil(), "default".into());
        assert_eq!(
            r.parent_run_ids(),
            vec!["0193d5a2-0000-7000-8000-000000000001".to_owned()]
        );
        assert_eq!(r.trace_id, id);
        assert_eq!(r.status, "pending");
    }
}
