//! The run as LangSmith stores it: run types and the wire record.

use crate::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use uuid::Uuid;

/// The kinds of run LangSmith recognises.
///
/// ```
/// use langsmith_core::RunType;
/// assert_eq!(RunType::Llm.as_str(), "llm");
/// assert_eq!("retriever".parse::<RunType>().unwrap(), RunType::Retriever);
/// assert_eq!(serde_json::to_string(&RunType::Tool).unwrap(), "\"tool\"");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum RunType {
    /// A call to a language model.
    Llm,
    /// A sequence of steps; the default.
    #[default]
    Chain,
    /// A tool or function call.
    Tool,
    /// A document retrieval.
    Retriever,
    /// Prompt formatting.
    Prompt,
    /// Output parsing.
    Parser,
    /// An embedding call.
    Embedding,
}

impl RunType {
    /// All run types.
    pub const ALL: [RunType; 7] = [
        RunType::Llm,
        RunType::Chain,
        RunType::Tool,
        RunType::Retriever,
        RunType::Prompt,
        RunType::Parser,
        RunType::Embedding,
    ];

    /// The wire name (`"llm"`, `"chain"`, ...).
    ///
    /// ```
    /// assert_eq!(langsmith_core::RunType::Embedding.as_str(), "embedding");
    /// ```
    pub const fn as_str(self) -> &'static str {
        match self {
            RunType::Llm => "llm",
            RunType::Chain => "chain",
            RunType::Tool => "tool",
            RunType::Retriever => "retriever",
            RunType::Prompt => "prompt",
            RunType::Parser => "parser",
            RunType::Embedding => "embedding",
        }
    }
}

impl fmt::Display for RunType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A string that is not one of the recognised run types.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownRunType(pub String);

impl fmt::Display for UnknownRunType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown run type {:?} (expected one of llm, chain, tool, retriever, prompt, parser, embedding)",
            self.0
        )
    }
}

impl std::error::Error for UnknownRunType {}

impl std::str::FromStr for RunType {
    type Err = UnknownRunType;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        RunType::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| UnknownRunType(s.to_owned()))
    }
}

/// JSON already serialized to bytes: inputs and outputs are serialized once,
/// on the calling thread, and written to the wire as they are.
pub type Payload = Box<RawValue>;

/// `extra` of a run: metadata and runtime information.
#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
pub struct Extra {
    /// User metadata (`extra.metadata`), including `ls_*` keys.
    #[serde(default)]
    pub metadata: Map<String, Value>,
    /// SDK and platform information (`extra.runtime`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<Arc<Value>>,
}

/// One run as it is sent to LangSmith, field for field its run schema.
///
/// Field order follows the official Python SDK's `post` parts.
///
/// ```
/// use langsmith_core::{RunRecord, RunType, Timestamp, DottedOrder, uuid7};
/// let id = uuid7();
/// let start = Timestamp::from_micros(1_767_323_045_678_901);
/// let rec = RunRecord::new(id, "step", RunType::Tool, start, DottedOrder::root(start, id), None, "default".into());
/// let json = serde_json::to_value(&rec).unwrap();
/// assert_eq!(json["run_type"], "tool");
/// assert_eq!(json["start_time"], "2026-01-02T03:04:05.678901+00:00");
/// assert_eq!(json["trace_id"], id.to_string());
/// ```
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RunRecord {
    /// Run id (UUID v7).
    pub id: Uuid,
    /// When the run started.
    pub start_time: Timestamp,
    /// The parent's id; `None` for a root.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_run_id: Option<Uuid>,
    /// Tags, inherited ones first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Path from the root, see [`crate::DottedOrder`].
    pub dotted_order: String,
    /// The root run's id.
    pub trace_id: Uuid,
    /// The project. Not sent when [`address`](Self::address) is set.
    pub session_name: Arc<str>,
    /// The agent address the run is filed under instead of a project (the
    /// LRN `lrn:agents/{id}/environments/{environment}`), when the trace it
    /// continues was addressed so (`langsmith-address` in the caller's
    /// `baggage`, as the Python SDK's agent addressing sends it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<Arc<str>>,
    /// Run name.
    pub name: Cow<'static, str>,
    /// Run type.
    pub run_type: RunType,
    /// When the run ended; `None` while running.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Timestamp>,
    /// Dataset example this run was made for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reference_example_id: Option<Uuid>,
    /// Inputs (a JSON object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inputs: Option<Payload>,
    /// Outputs (a JSON object).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outputs: Option<Payload>,
    /// Events (e.g. streamed tokens), in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<Value>,
    /// Metadata and runtime.
    #[serde(default)]
    pub extra: Extra,
    /// Error message when the run failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Description of the traced callable.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serialized: Option<Value>,
    /// Files sent with the run as `attachment.{id}.{name}` parts (not part
    /// of its JSON: `/runs/batch`, the fallback without multipart, cannot
    /// carry them).
    #[serde(skip)]
    pub attachments: Vec<crate::Attachment>,
}

impl RunRecord {
    /// A record with the identity fields set and everything else empty.
    ///
    /// ```
    /// # use langsmith_core::{RunRecord, RunType, Timestamp, DottedOrder, uuid7};
    /// let id = uuid7();
    /// let t = Timestamp::now();
    /// let rec = RunRecord::new(id, "x", RunType::Chain, t, DottedOrder::root(t, id), None, "p".into());
    /// assert!(rec.end_time.is_none());
    /// ```
    pub fn new(
        id: Uuid,
        name: impl Into<Cow<'static, str>>,
        run_type: RunType,
        start_time: Timestamp,
        dotted_order: crate::DottedOrder,
        parent_run_id: Option<Uuid>,
        session_name: Arc<str>,
    ) -> Self {
        let trace_id = dotted_order.trace_id();
        let mut rec = Self::new_without_dotted_order(
            id,
            name,
            run_type,
            start_time,
            trace_id,
            parent_run_id,
            session_name,
        );
        rec.dotted_order = dotted_order.into_string();
        rec
    }

    /// [`RunRecord::new`] with an empty `dotted_order`, for a record whose
    /// dotted order is filled in when it leaves its run.
    pub(crate) fn new_without_dotted_order(
        id: Uuid,
        name: impl Into<Cow<'static, str>>,
        run_type: RunType,
        start_time: Timestamp,
        trace_id: Uuid,
        parent_run_id: Option<Uuid>,
        session_name: Arc<str>,
    ) -> Self {
        RunRecord {
            id,
            start_time,
            parent_run_id,
            tags: Vec::new(),
            trace_id,
            dotted_order: String::new(),
            session_name,
            address: None,
            name: name.into(),
            run_type,
            end_time: None,
            reference_example_id: None,
            inputs: None,
            outputs: None,
            events: Vec::new(),
            extra: Extra::default(),
            error: None,
            serialized: None,
            attachments: Vec::new(),
        }
    }
}

/// Serializes `value` as a run's inputs or outputs: a JSON object is kept as
/// it is, anything else is wrapped as `{"output": value}` like the official
/// SDKs do. A value that cannot be serialized is recorded as an error string
/// rather than lost or panicking.
///
/// ```
/// use langsmith_core::to_payload;
/// assert_eq!(to_payload(&serde_json::json!({"q": 1}), "output").get(), r#"{"q":1}"#);
/// assert_eq!(to_payload(&"hi", "output").get(), r#"{"output":"hi"}"#);
/// ```
pub fn to_payload<T: Serialize + ?Sized>(value: &T, wrap_key: &str) -> Payload {
    // A value known not to be an object is serialized once, inside its
    // wrapper (no copy).
    if crate::json_kind::is_object(value) == Some(false) {
        let wrapped = Wrapped {
            key: wrap_key,
            value,
        };
        if let Ok(raw) = serde_json::value::to_raw_value(&wrapped) {
            return raw;
        }
    }
    // One serialization pass straight into a `RawValue` (no re-parse); a
    // non-object (one whose kind could not be told beforehand, e.g. a
    // `RawValue` holding an array) is then wrapped by copying its bytes.
    match serde_json::value::to_raw_value(value) {
        Ok(raw) if raw.get().starts_with('{') => raw,
        Ok(raw) => {
            let wrapped = Wrapped {
                key: wrap_key,
                value: &raw,
            };
            serde_json::value::to_raw_value(&wrapped).unwrap_or_else(|_| empty_object())
        }
        Err(e) => {
            tracing::warn!(error = %e, "LangSmith: a traced value could not be serialized to JSON");
            let msg = serde_json::json!({ "error": format!("<unserializable: {e}>") });
            serde_json::value::to_raw_value(&msg).unwrap_or_else(|_| empty_object())
        }
    }
}

/// Whether `s` needs escaping as a JSON string (a quote, a backslash or a
/// control character). Checked without an early exit, so that it
/// vectorizes; the fast JSON writers copy `s` as is when this is false.
pub(crate) fn json_needs_escape(s: &str) -> bool {
    s.bytes().fold(false, |acc, b| {
        acc | (b < 0x20) | (b == b'"') | (b == b'\\')
    })
}

/// `{"<key>": <value>}` without building a map.
struct Wrapped<'a, T: ?Sized> {
    key: &'a str,
    value: &'a T,
}

impl<T: Serialize + ?Sized> Serialize for Wrapped<'_, T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(1))?;
        map.serialize_entry(self.key, self.value)?;
        map.end()
    }
}

/// An empty JSON object payload.
pub(crate) fn empty_object() -> Payload {
    RawValue::from_string("{}".to_owned()).unwrap_or_default()
}

/// Feedback on a run, possibly sent before the run itself arrives.
///
/// ```
/// use langsmith_core::{Feedback, uuid7};
/// let fb = Feedback::new(uuid7(), "correctness").score(1.0).comment("exact match");
/// assert_eq!(serde_json::to_value(&fb).unwrap()["key"], "correctness");
/// ```
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Feedback {
    /// Feedback id (UUID v7).
    pub id: Uuid,
    /// The run it is about.
    pub run_id: Uuid,
    /// The trace of that run, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_id: Option<Uuid>,
    /// The metric name, e.g. `"correctness"`.
    pub key: String,
    /// A numeric score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score: Option<f64>,
    /// A categorical or free-form value.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Value>,
    /// A comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// A correction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub correction: Option<Value>,
    /// When it was made.
    pub created_at: Timestamp,
    /// Where it came from, as the official SDK sends it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback_source: Option<Value>,
}

impl Feedback {
    /// New feedback for `run_id` under `key`.
    ///
    /// ```
    /// # use langsmith_core::{Feedback, uuid7};
    /// let fb = Feedback::new(uuid7(), "thumbs");
    /// assert!(fb.score.is_none());
    /// ```
    pub fn new(run_id: Uuid, key: impl Into<String>) -> Self {
        Feedback {
            id: crate::uuid7(),
            run_id,
            trace_id: None,
            key: key.into(),
            score: None,
            value: None,
            comment: None,
            correction: None,
            created_at: Timestamp::now(),
            feedback_source: Some(serde_json::json!({"type": "api"})),
        }
    }

    /// Sets the score.
    ///
    /// ```
    /// # use langsmith_core::{Feedback, uuid7};
    /// assert_eq!(Feedback::new(uuid7(), "k").score(0.5).score, Some(0.5));
    /// ```
    pub fn score(mut self, score: f64) -> Self {
        self.score = Some(score);
        self
    }

    /// Sets the value.
    ///
    /// ```
    /// # use langsmith_core::{Feedback, uuid7};
    /// let fb = Feedback::new(uuid7(), "label").value("good");
    /// assert_eq!(fb.value, Some(serde_json::json!("good")));
    /// ```
    pub fn value(mut self, value: impl Into<Value>) -> Self {
        self.value = Some(value.into());
        self
    }

    /// Sets the comment.
    ///
    /// ```
    /// # use langsmith_core::{Feedback, uuid7};
    /// assert_eq!(Feedback::new(uuid7(), "k").comment("ok").comment.as_deref(), Some("ok"));
    /// ```
    pub fn comment(mut self, comment: impl Into<String>) -> Self {
        self.comment = Some(comment.into());
        self
    }

    /// Sets the trace id of the run.
    ///
    /// ```
    /// # use langsmith_core::{Feedback, uuid7};
    /// let t = uuid7();
    /// assert_eq!(Feedback::new(uuid7(), "k").trace_id(t).trace_id, Some(t));
    /// ```
    pub fn trace_id(mut self, trace_id: Uuid) -> Self {
        self.trace_id = Some(trace_id);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_wrapping() {
        assert_eq!(
            to_payload(&vec![1, 2], "output").get(),
            r#"{"output":[1,2]}"#
        );
        assert_eq!(
            to_payload(&serde_json::Value::Null, "output").get(),
            r#"{"output":null}"#
        );
        assert_eq!(to_payload(&1, "we\"ird").get(), r#"{"we\"ird":1}"#);
        let m: std::collections::HashMap<Vec<u8>, i32> = [(vec![1u8], 1)].into_iter().collect();
        assert!(to_payload(&m, "output").get().contains("unserializable"));
    }

    /// `to_payload` keeps objects and wraps everything else, byte for byte
    /// what going through a `serde_json::Value` gives.
    #[test]
    fn payload_matches_the_value_route() {
        use serde_json::json;
        fn check<T: Serialize + ?Sized>(v: &T) {
            let value = serde_json::to_value(v).unwrap();
            let want = if value.is_object() {
                value
            } else {
                json!({ "output": value })
            };
            assert_eq!(to_payload(v, "output").get(), want.to_string());
        }
        #[derive(Serialize)]
        struct S {
            a: &'static str,
        }
        #[derive(Serialize)]
        struct N(Vec<u8>);
        #[derive(Serialize)]
        enum E {
            U,
            V(i32),
        }
        check("text with \"quotes\" and \u{1}");
        check(&42);
        check(&-0.5);
        check(&f64::INFINITY);
        check(&false);
        check(&());
        check(&None::<String>);
        check(&Some(S { a: "x" }));
        check(&vec!["a", "b"]);
        check(&(1, 2, 3));
        check(&S { a: "y" });
        check(&N(vec![1]));
        check(&E::U);
        check(&E::V(1));
        check(&json!({"z": 1, "a": 2}));
        check(&json!(["x"]));
        check(&*RawValue::from_string("[1,2]".into()).unwrap());
        check(&*RawValue::from_string(r#"{"k":"v"}"#.into()).unwrap());
        check(&*RawValue::from_string(r#""s""#.into()).unwrap());
    }

    #[test]
    fn needs_escape_matches_serde_at_every_position() {
        // Plain strings of every length up to 69 (past any SIMD width the
        // compiler may vectorize the check to), then
        // each byte that needs escaping (and some that do not) at every
        // position: the answer must be whether serde_json escapes anything.
        for len in 0..70 {
            let plain: String = "abcdefghijklmnopqrstuvwxyz0123456789-.:/é"
                .chars()
                .cycle()
                .take(len)
                .collect();
            let serde_escapes = |s: &str| serde_json::to_string(s).unwrap() != format!("\"{s}\"");
            assert!(!json_needs_escape(&plain), "{plain:?}");
            assert!(!serde_escapes(&plain));
            for at in 0..len {
                for special in ['"', '\\', '\n', '\u{0}', '\u{1f}', ' ', '~', '\u{7f}', 'é'] {
                    let mut s: Vec<char> = plain.chars().collect();
                    s[at] = special;
                    let s: String = s.into_iter().collect();
                    assert_eq!(json_needs_escape(&s), serde_escapes(&s), "{s:?}");
                }
            }
        }
    }
}
