//! Read routes, shaped like LangSmith's API so the official clients can use
//! them: `/info`, `GET /runs/{id}`, `POST /runs/query`, `/sessions`,
//! `/feedback`, plus the collector's own `GET /api/traces/{trace_id}`.

use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::model::StoredRun;
use crate::query::{self, RunQuery};
use crate::server::{ApiError, AppState, detail, json_response};

/// The LangSmith server version reported by `/info`. The Python SDK gates
/// some features on it (e.g. queued feedback needs >= 0.8.10).
pub(crate) const REPORTED_VERSION: &str = "0.10.0";

pub(crate) fn parse_id(s: &str, what: &str) -> Result<Uuid, ApiError> {
    s.parse::<Uuid>().map_err(|_| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("{what} '{s}' is not a UUID"),
        )
    })
}

pub(crate) fn store_error(e: crate::store::StoreError) -> Response {
    detail(StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

/// `GET /`: what this is.
pub(crate) async fn root() -> Response {
    json_response(
        StatusCode::OK,
        json!({
            "name": "langsmith-collector",
            "version": env!("CARGO_PKG_VERSION"),
            "docs": "LangSmith-compatible ingest and read API; runs stored in SQLite",
        }),
    )
}

/// `GET /info`: the batch limits and flags the SDKs read.
pub(crate) async fn info(State(st): State<AppState>) -> Response {
    json_response(
        StatusCode::OK,
        json!({
            "version": REPORTED_VERSION,
            "license_expiration_time": null,
            "batch_ingest_config": {
                "use_multipart_endpoint": true,
                "scale_up_qsize_trigger": 1000,
                "scale_up_nthreads_limit": 16,
                "scale_down_nempty_trigger": 4,
                "size_limit": 100,
                "size_limit_bytes": st.cfg.size_limit_bytes,
            },
            "instance_flags": {
                "zstd_compression_enabled": st.cfg.zstd,
                "dataset_examples_multipart_enabled": false,
                "examples_multipart_enabled": false,
            },
            "customer_info": null,
            "collector": {
                "name": "langsmith-collector",
                "version": env!("CARGO_PKG_VERSION"),
                "body_limit_bytes": st.cfg.body_limit,
            },
        }),
    )
}

/// A run as the API returns it, with `child_run_ids` and `feedback_stats`.
fn full_run(
    conn: &rusqlite::Connection,
    run: &StoredRun,
    token: &str,
) -> rusqlite::Result<Map<String, Value>> {
    let mut obj = run.api_json(token);
    obj.insert(
        "child_run_ids".into(),
        json!(query::child_run_ids(conn, run.id)?),
    );
    obj.insert(
        "feedback_stats".into(),
        query::feedback_stats(conn, run.id)?,
    );
    Ok(obj)
}

/// `GET /runs/{id}`.
pub(crate) async fn get_run(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let id = match parse_id(&id, "run id") {
        Ok(id) => id,
        Err(r) => return r.into_response(),
    };
    let token = st.attachment_token.clone();
    let found = st
        .store
        .read_async(move |c| match query::get_run(c, id)? {
            Some(run) => Ok(Some(full_run(c, &run, &token)?)),
            None => Ok(None),
        })
        .await;
    match found {
        Ok(Some(obj)) => json_response(StatusCode::OK, Value::Object(obj)),
        Ok(None) => detail(StatusCode::NOT_FOUND, format!("Run {id} not found")),
        Err(e) => store_error(e),
    }
}

/// `POST /runs/query`: filters, `select`, and cursor paging (`cursors.next`).
pub(crate) async fn query_runs(State(st): State<AppState>, body: axum::body::Bytes) -> Response {
    let value: Value = if body.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => return detail(StatusCode::BAD_REQUEST, format!("invalid JSON body: {e}")),
        }
    };
    let q: RunQuery = match query::parse_run_query(&value) {
        Ok(q) => q,
        Err(m) => return detail(StatusCode::UNPROCESSABLE_ENTITY, m),
    };
    let q2 = q.clone();
    let token = st.attachment_token.clone();
    let result = st
        .store
        .read_async(move |c| {
            let token = &*token;
            let (runs, more) = query::query_runs(c, &q2)?;
            let wants = |f: &str| q2.select.as_ref().is_none_or(|s| s.iter().any(|x| x == f));
            let mut out = Vec::with_capacity(runs.len());
            for run in &runs {
                let mut obj = run.api_json(token);
                if wants("child_run_ids") {
                    obj.insert(
                        "child_run_ids".into(),
                        json!(query::child_run_ids(c, run.id)?),
                    );
                }
                if wants("feedback_stats") {
                    obj.insert("feedback_stats".into(), query::feedback_stats(c, run.id)?);
                }
                if let Some(sel) = &q2.select {
                    query::apply_select(&mut obj, sel);
                }
                out.push(Value::Object(obj));
            }
            Ok((out, more))
        })
        .await;
    match result {
        Ok((runs, more)) => {
            let next = more.then(|| query::cursor_after(q.offset + runs.len()));
            json_response(
                StatusCode::OK,
                json!({ "runs": runs, "cursors": { "next": next, "prev": null } }),
            )
        }
        Err(e) => store_error(e),
    }
}

/// `GET /api/traces/{trace_id}`: the trace as a tree, children nested under
/// their parents, siblings in dotted order.
pub(crate) async fn trace_tree(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let trace_id = match parse_id(&id, "trace id") {
        Ok(id) => id,
        Err(r) => return r.into_response(),
    };
    let runs = match st
        .store
        .read_async(move |c| query::trace_runs(c, trace_id))
        .await
    {
        Ok(r) => r,
        Err(e) => return store_error(e),
    };
    if runs.is_empty() {
        return detail(StatusCode::NOT_FOUND, format!("Trace {trace_id} not found"));
    }
    json_response(
        StatusCode::OK,
        json!({ "trace_id": trace_id.to_string(), "runs": nest(&runs, &st.attachment_token) }),
    )
}

/// Nests runs (in dotted order) under their parents; runs whose parent is
/// not in the list become roots.
pub(crate) fn nest(runs: &[StoredRun], token: &str) -> Vec<Value> {
    fn build(i: usize, runs: &[StoredRun], kids: &[Vec<usize>], token: &str) -> Value {
        let mut obj = runs.get(i).map(|r| r.api_json(token)).unwrap_or_default();
        let children: Vec<Value> = kids
            .get(i)
            .map(|k| k.iter().map(|c| build(*c, runs, kids, token)).collect())
            .unwrap_or_default();
        obj.insert("children".into(), Value::Array(children));
        Value::Object(obj)
    }
    let index: std::collections::HashMap<Uuid, usize> =
        runs.iter().enumerate().map(|(i, r)| (r.id, i)).collect();
    let mut kids: Vec<Vec<usize>> = vec![Vec::new(); runs.len()];
    let mut roots = Vec::new();
    for (i, r) in runs.iter().enumerate() {
        match r.parent_run_id.and_then(|p| index.get(&p)) {
            Some(&p) if p != i => {
                if let Some(k) = kids.get_mut(p) {
                    k.push(i);
                }
            }
            _ => roots.push(i),
        }
    }
    // Dotted order puts parents before children, so no cycles can form
    // unless the input lies; depth is bounded by the run count anyway.
    roots
        .iter()
        .map(|r| build(*r, runs, &kids, token))
        .collect()
}

/// Decoded `key=value` pairs of a query string.
fn query_pairs(q: Option<&str>) -> Vec<(String, String)> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = bytes
                        .get(i + 1..i + 3)
                        .and_then(|h| std::str::from_utf8(h).ok())
                        .and_then(|h| u8::from_str_radix(h, 16).ok());
                    match hex {
                        Some(b) => {
                            out.push(b);
                            i += 2;
                        }
                        None => out.push(b'%'),
                    }
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    q.unwrap_or_default()
        .split('&')
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn first<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn limit_offset(pairs: &[(String, String)]) -> (usize, usize) {
    let limit = first(pairs, "limit")
        .and_then(|v| v.parse().ok())
        .unwrap_or(100usize)
        .clamp(1, 1000);
    let offset = first(pairs, "offset")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    (limit, offset)
}

/// `GET /sessions?name=&name_contains=&limit=&offset=`: a list.
pub(crate) async fn list_sessions(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let pairs = query_pairs(q.as_deref());
    let name = first(&pairs, "name").map(str::to_owned);
    let contains = first(&pairs, "name_contains").map(str::to_owned);
    let (limit, offset) = limit_offset(&pairs);
    let id = match first(&pairs, "id").map(|s| parse_id(s, "session id")) {
        Some(Ok(id)) => Some(id),
        Some(Err(r)) => return r.into_response(),
        None => None,
    };
    match st
        .store
        .read_async(move |c| {
            query::sessions(c, name.as_deref(), contains.as_deref(), id, limit, offset)
        })
        .await
    {
        Ok(list) => json_response(StatusCode::OK, Value::Array(list)),
        Err(e) => store_error(e),
    }
}

/// `GET /sessions/{id}`.
pub(crate) async fn get_session(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let id = match parse_id(&id, "session id") {
        Ok(id) => id,
        Err(r) => return r.into_response(),
    };
    match st
        .store
        .read_async(move |c| query::sessions(c, None, None, Some(id), 1, 0))
        .await
    {
        Ok(mut list) if !list.is_empty() => json_response(StatusCode::OK, list.remove(0)),
        Ok(_) => detail(StatusCode::NOT_FOUND, format!("Session {id} not found")),
        Err(e) => store_error(e),
    }
}

/// `POST /sessions` (`{"name": ...}`): creates a project; 409 if it exists.
pub(crate) async fn create_session(
    State(st): State<AppState>,
    body: axum::body::Bytes,
) -> Response {
    let name = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| v.get("name").and_then(Value::as_str).map(str::to_owned))
        .filter(|n| !n.is_empty());
    let Some(name) = name else {
        return detail(
            StatusCode::UNPROCESSABLE_ENTITY,
            "expected a JSON object with a non-empty 'name'",
        );
    };
    // Sessions are created by the writer too; a racing insert is harmless
    // (`INSERT OR IGNORE` on the unique name).
    let n2 = name.clone();
    let result = st
        .store
        .write_with(move |c| query::create_session(c, &n2))
        .await;
    match result {
        Ok(Some(id)) => match st
            .store
            .read_async(move |c| query::sessions(c, None, None, Some(id), 1, 0))
            .await
        {
            Ok(mut l) if !l.is_empty() => json_response(StatusCode::CREATED, l.remove(0)),
            Ok(_) => detail(StatusCode::INTERNAL_SERVER_ERROR, "session vanished"),
            Err(e) => store_error(e),
        },
        Ok(None) => detail(
            StatusCode::CONFLICT,
            format!("Session {name} already exists"),
        ),
        Err(e) => store_error(e),
    }
}

/// `GET /feedback?run=..&run=..&key=..&limit=&offset=`: a list.
pub(crate) async fn list_feedback(State(st): State<AppState>, RawQuery(q): RawQuery) -> Response {
    let pairs = query_pairs(q.as_deref());
    let mut runs = Vec::new();
    for (k, v) in &pairs {
        if k == "run" {
            match parse_id(v, "run id") {
                Ok(id) => runs.push(id),
                Err(r) => return r.into_response(),
            }
        }
    }
    let keys: Vec<String> = pairs
        .iter()
        .filter(|(k, _)| k == "key")
        .map(|(_, v)| v.clone())
        .collect();
    let (limit, offset) = limit_offset(&pairs);
    match st
        .store
        .read_async(move |c| query::feedback(c, &runs, &keys, limit, offset))
        .await
    {
        Ok(list) => json_response(
            StatusCode::OK,
            Value::Array(list.into_iter().map(|f| f.raw).collect()),
        ),
        Err(e) => store_error(e),
    }
}

/// `GET /feedback/{id}`.
pub(crate) async fn get_feedback(State(st): State<AppState>, Path(id): Path<String>) -> Response {
    let id = match parse_id(&id, "feedback id") {
        Ok(id) => id,
        Err(r) => return r.into_response(),
    };
    match st
        .store
        .read_async(move |c| query::feedback_by_id(c, id))
        .await
    {
        Ok(Some(f)) => json_response(StatusCode::OK, f.raw),
        Ok(None) => detail(StatusCode::NOT_FOUND, format!("Feedback {id} not found")),
        Err(e) => store_error(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_string_decoding() {
        let p = query_pairs(Some("name=my%20proj%2F%C3%A9&run=a&run=b&x"));
        assert_eq!(first(&p, "name"), Some("my proj/é"));
        assert_eq!(p.iter().filter(|(k, _)| k == "run").count(), 2);
        assert_eq!(first(&p, "x"), Some(""));
        assert_eq!(query_pairs(Some("a=%zz%"))[0].1, "%zz%");
    }
}
