//! Turning what the SDKs send (multipart parts, batch JSON, single runs,
//! feedback) into validated store operations. Bad items are reported one by
//! one; the good ones go through.

use std::collections::HashMap;

use serde::Serialize;
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::multipart::Part;

/// Fields a run may carry in a `post.{id}.{field}` / `patch.{id}.{field}` part.
const FIELD_PARTS: [&str; 7] = [
    "inputs",
    "outputs",
    "events",
    "extra",
    "error",
    "serialized",
    "attachments",
];

/// Whether an operation creates or updates a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum RunKind {
    Post,
    Patch,
}

/// One thing to store.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Op {
    Run {
        kind: RunKind,
        id: Uuid,
        doc: Map<String, Value>,
    },
    Feedback {
        id: Uuid,
        doc: Map<String, Value>,
    },
    Attachment {
        run_id: Uuid,
        name: String,
        content_type: Option<String>,
        data: bytes::Bytes,
    },
}

/// An item that was rejected, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Problem {
    /// The part name, or `post[3]`-style position in a batch.
    pub item: String,
    pub message: String,
}

/// The operations found in a request, and the items rejected.
#[derive(Debug, Default)]
pub(crate) struct Ingested {
    pub ops: Vec<Op>,
    pub problems: Vec<Problem>,
}

fn problem(item: impl Into<String>, message: impl Into<String>) -> Problem {
    Problem {
        item: item.into(),
        message: message.into(),
    }
}

struct RunBuilder {
    kind: RunKind,
    id: Uuid,
    main: Map<String, Value>,
    fields: Map<String, Value>,
    problem: Option<Problem>,
}

/// Operations from the parts of a `POST /runs/multipart` body.
pub(crate) fn from_parts(parts: &[Part<'_>]) -> Ingested {
    let mut out = Ingested::default();
    let mut runs: Vec<RunBuilder> = Vec::new();
    let mut index: HashMap<(RunKind, Uuid), usize> = HashMap::new();
    for part in parts {
        let name = part.name.as_str();
        let (prefix, rest) = name.split_once('.').unwrap_or((name, ""));
        match prefix {
            "post" | "patch" => {
                let kind = if prefix == "post" {
                    RunKind::Post
                } else {
                    RunKind::Patch
                };
                let (id_s, field) = match rest.split_once('.') {
                    Some((i, f)) => (i, Some(f)),
                    None => (rest, None),
                };
                let Ok(id) = id_s.parse::<Uuid>() else {
                    out.problems
                        .push(problem(name, format!("run id '{id_s}' is not a UUID")));
                    continue;
                };
                let slot = *index.entry((kind, id)).or_insert_with(|| {
                    runs.push(RunBuilder {
                        kind,
                        id,
                        main: Map::new(),
                        fields: Map::new(),
                        problem: None,
                    });
                    runs.len() - 1
                });
                let Some(b) = runs.get_mut(slot) else {
                    continue;
                };
                if b.problem.is_some() {
                    continue;
                }
                if let Err(p) = add_run_part(b, part, field) {
                    b.problem = Some(p);
                }
            }
            "feedback" => match feedback_from_part(part, rest) {
                Ok(op) => out.ops.push(op),
                Err(p) => out.problems.push(p),
            },
            "attachment" => match rest.split_once('.') {
                Some((id_s, att)) if !att.is_empty() => match id_s.parse::<Uuid>() {
                    Ok(run_id) => out.ops.push(Op::Attachment {
                        run_id,
                        name: att.to_owned(),
                        content_type: part.content_type.clone(),
                        data: bytes::Bytes::copy_from_slice(part.data),
                    }),
                    Err(_) => out
                        .problems
                        .push(problem(name, format!("run id '{id_s}' is not a UUID"))),
                },
                _ => out.problems.push(problem(
                    name,
                    "attachment parts are named attachment.{run_id}.{name}",
                )),
            },
            _ => out.problems.push(problem(
                name,
                "unknown part name (expected post.{id}[.field], patch.{id}[.field], \
                 feedback.{id} or attachment.{id}.{name})",
            )),
        }
    }
    for b in runs {
        if let Some(p) = b.problem {
            out.problems.push(p);
            continue;
        }
        let mut doc = b.main;
        for (k, v) in b.fields {
            doc.insert(k, v);
        }
        match validate_run(&doc, b.id) {
            Ok(()) => out.ops.push(Op::Run {
                kind: b.kind,
                id: b.id,
                doc,
            }),
            Err(m) => out.problems.push(problem(
                format!(
                    "{}.{}",
                    if b.kind == RunKind::Post {
                        "post"
                    } else {
                        "patch"
                    },
                    b.id
                ),
                m,
            )),
        }
    }
    out
}

fn add_run_part(b: &mut RunBuilder, part: &Part<'_>, field: Option<&str>) -> Result<(), Problem> {
    let value: Value = serde_json::from_slice(part.data)
        .map_err(|e| problem(&part.name, format!("invalid JSON: {e}")))?;
    match field {
        None => match value {
            Value::Object(m) => {
                for (k, v) in m {
                    b.main.insert(k, v);
                }
                Ok(())
            }
            _ => Err(problem(&part.name, "a run part must be a JSON object")),
        },
        Some("attachments") => Ok(()),
        Some(f) if FIELD_PARTS.contains(&f) => {
            b.fields.insert(f.to_owned(), value);
            Ok(())
        }
        Some(f) => Err(problem(
            &part.name,
            format!("unknown run field '{f}' (expected one of {FIELD_PARTS:?})"),
        )),
    }
}

fn feedback_from_part(part: &Part<'_>, id_s: &str) -> Result<Op, Problem> {
    let Ok(id) = id_s.parse::<Uuid>() else {
        return Err(problem(
            &part.name,
            format!("feedback id '{id_s}' is not a UUID"),
        ));
    };
    let value: Value = serde_json::from_slice(part.data)
        .map_err(|e| problem(&part.name, format!("invalid JSON: {e}")))?;
    feedback_op(value, Some(id)).map_err(|m| problem(&part.name, m))
}

/// Checks the fields of a run document that the store and readers rely on.
pub(crate) fn validate_run(doc: &Map<String, Value>, id: Uuid) -> Result<(), String> {
    if let Some(v) = doc.get("id").filter(|v| !v.is_null()) {
        match v.as_str().and_then(|s| s.parse::<Uuid>().ok()) {
            Some(body_id) if body_id == id => {}
            Some(body_id) => return Err(format!("id {body_id} does not match {id}")),
            None => return Err(format!("id {v} is not a UUID")),
        }
    }
    for k in [
        "trace_id",
        "parent_run_id",
        "session_id",
        "reference_example_id",
    ] {
        if let Some(v) = doc.get(k).filter(|v| !v.is_null())
            && v.as_str().and_then(|s| s.parse::<Uuid>().ok()).is_none()
        {
            return Err(format!("{k} {v} is not a UUID"));
        }
    }
    for k in [
        "name",
        "run_type",
        "start_time",
        "end_time",
        "dotted_order",
        "session_name",
        "address",
    ] {
        if let Some(v) = doc.get(k).filter(|v| !v.is_null() && !v.is_string()) {
            return Err(format!("{k} must be a string, got {v}"));
        }
    }
    if let Some(v) = doc.get("tags").filter(|v| !v.is_null())
        && !v.as_array().is_some_and(|a| a.iter().all(Value::is_string))
    {
        return Err(format!("tags must be a list of strings, got {v}"));
    }
    Ok(())
}

/// A run operation from a JSON object (`/runs`, `/runs/batch`, `PATCH /runs/{id}`).
/// `path_id` is the id from the URL, if any.
pub(crate) fn run_op(kind: RunKind, value: Value, path_id: Option<Uuid>) -> Result<Op, String> {
    let Value::Object(doc) = value else {
        return Err("a run must be a JSON object".into());
    };
    let id = match (path_id, doc.get("id")) {
        (Some(id), _) => id,
        (None, Some(Value::String(s))) => s
            .parse::<Uuid>()
            .map_err(|_| format!("id '{s}' is not a UUID"))?,
        (None, Some(v)) if !v.is_null() => return Err(format!("id {v} is not a UUID")),
        (None, _) => return Err("a run needs an id".into()),
    };
    validate_run(&doc, id)?;
    Ok(Op::Run { kind, id, doc })
}

/// Operations from a `POST /runs/batch` body: `{"post": [...], "patch": [...]}`.
pub(crate) fn from_batch(body: Value) -> Result<Ingested, String> {
    let Value::Object(mut obj) = body else {
        return Err("the batch must be a JSON object with 'post' and/or 'patch' lists".into());
    };
    let mut out = Ingested::default();
    for (key, kind) in [("post", RunKind::Post), ("patch", RunKind::Patch)] {
        match obj.remove(key) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.into_iter().enumerate() {
                    match run_op(kind, item, None) {
                        Ok(op) => out.ops.push(op),
                        Err(m) => out.problems.push(problem(format!("{key}[{i}]"), m)),
                    }
                }
            }
            Some(_) => return Err(format!("'{key}' must be a list of runs")),
        }
    }
    if let Some(k) = obj.keys().next() {
        out.problems.push(problem(
            k.clone(),
            "unknown key (expected 'post' and 'patch')",
        ));
    }
    Ok(out)
}

/// A feedback operation from a JSON object; fills in `id`, `created_at` and
/// `modified_at` when missing.
pub(crate) fn feedback_op(value: Value, part_id: Option<Uuid>) -> Result<Op, String> {
    let Value::Object(mut doc) = value else {
        return Err("feedback must be a JSON object".into());
    };
    let body_id = match doc.get("id") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_str()
                .and_then(|s| s.parse::<Uuid>().ok())
                .ok_or_else(|| format!("feedback id {v} is not a UUID"))?,
        ),
    };
    let id = match (part_id, body_id) {
        (Some(p), Some(b)) if p != b => {
            return Err(format!("feedback id {b} does not match {p}"));
        }
        (Some(p), _) => p,
        (None, Some(b)) => b,
        (None, None) => Uuid::new_v4(),
    };
    for k in ["run_id", "trace_id", "session_id"] {
        if let Some(v) = doc.get(k).filter(|v| !v.is_null())
            && v.as_str().and_then(|s| s.parse::<Uuid>().ok()).is_none()
        {
            return Err(format!("{k} {v} is not a UUID"));
        }
    }
    match doc.get("key") {
        Some(Value::String(k)) if !k.is_empty() => {}
        _ => return Err("feedback needs a non-empty string 'key'".into()),
    }
    doc.insert("id".into(), id.to_string().into());
    for k in ["run_id", "trace_id"] {
        doc.entry(k).or_insert(Value::Null);
    }
    let now = crate::time::now_rfc3339();
    for k in ["created_at", "modified_at"] {
        if doc.get(k).is_none_or(Value::is_null) {
            doc.insert(k.into(), now.clone().into());
        }
    }
    Ok(Op::Feedback { id, doc })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use serde_json::json;

    fn part<'a>(name: &str, data: &'a [u8]) -> Part<'a> {
        Part {
            name: name.into(),
            filename: None,
            content_type: Some("application/json".into()),
            declared_len: None,
            data,
        }
    }

    const ID: &str = "0193d5a2-0000-7000-8000-000000000001";

    #[test]
    fn groups_fields_into_runs_and_reports_bad_parts() {
        let main = format!(r#"{{"id":"{ID}","name":"r"}}"#);
        let parts = vec![
            part(&format!("post.{ID}"), main.as_bytes()),
            part(&format!("post.{ID}.inputs"), br#"{"a":1}"#),
            part("post.nope", b"{}"),
            part("weird.thing", b"{}"),
            part(
                "patch.0193d5a2-0000-7000-8000-000000000002.outputs",
                b"{bad",
            ),
        ];
        let got = from_parts(&parts);
        assert_eq!(got.ops.len(), 1);
        let Op::Run { doc, .. } = &got.ops[0] else {
            panic!()
        };
        assert_eq!(doc["inputs"], json!({"a":1}));
        assert_eq!(got.problems.len(), 3, "{:?}", got.problems);
    }

    #[test]
    fn batch_keeps_good_items() {
        let got = from_batch(json!({"post":[{"id":ID,"name":"x"},{"id":"bad"},{"name":"noid"}],"patch":[{"id":ID,"trace_id":"zz"}]})).unwrap();
        assert_eq!(got.ops.len(), 1);
        assert_eq!(got.problems.len(), 3);
    }

    #[test]
    fn feedback_defaults() {
        let Op::Feedback { doc, .. } = feedback_op(json!({"key":"k","run_id":ID}), None).unwrap()
        else {
            panic!()
        };
        assert!(doc["created_at"].is_string());
        assert!(feedback_op(json!({"run_id":ID}), None).is_err());
        assert!(feedback_op(json!({"key":"k","run_id":"x"}), None).is_err());
    }
}
