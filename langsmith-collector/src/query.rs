//! Reads: runs by id, trace, project and filters (the `/runs/query` body the
//! official clients send), feedback and sessions.

use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use uuid::Uuid;

use crate::model::{StoredAttachment, StoredFeedback, StoredRun, merged};

/// Largest page `/runs/query` returns.
pub(crate) const MAX_PAGE: usize = 100;

const RUN_COLUMNS: &str = "SELECT r.id, r.session_id, s.name, r.post_doc, r.patch_doc
     FROM runs r LEFT JOIN sessions s ON s.id = r.session_id";

fn parse_map(s: &str) -> Map<String, Value> {
    match serde_json::from_str(s) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn run_from_row(row: &Row<'_>) -> rusqlite::Result<StoredRun> {
    let id: String = row.get(0)?;
    let session_id: String = row.get(1)?;
    let session_name: Option<String> = row.get(2)?;
    let post: String = row.get(3)?;
    let patch: String = row.get(4)?;
    let doc = merged(&parse_map(&post), &parse_map(&patch));
    Ok(StoredRun::from_doc(
        id.parse().unwrap_or_default(),
        &doc,
        session_id.parse().unwrap_or_default(),
        session_name.unwrap_or_default(),
    ))
}

fn with_attachments(
    conn: &Connection,
    mut runs: Vec<StoredRun>,
) -> rusqlite::Result<Vec<StoredRun>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, content_type, size FROM attachments WHERE run_id = ?1 ORDER BY name",
    )?;
    for r in &mut runs {
        r.attachments = stmt
            .query_map([r.id.to_string()], |row| {
                Ok(StoredAttachment {
                    name: row.get(0)?,
                    content_type: row.get(1)?,
                    size: row.get::<_, i64>(2)?.max(0) as u64,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
    }
    Ok(runs)
}

/// One attachment's content type and bytes; `None` when there is no such
/// attachment, or it was received by a build that did not keep the bytes.
pub(crate) fn attachment_data(
    conn: &Connection,
    run_id: Uuid,
    name: &str,
) -> rusqlite::Result<Option<(Option<String>, Vec<u8>)>> {
    conn.prepare_cached(
        "SELECT content_type, data FROM attachments
         WHERE run_id = ?1 AND name = ?2 AND data IS NOT NULL",
    )?
    .query_row(params![run_id.to_string(), name], |row| {
        Ok((row.get(0)?, row.get(1)?))
    })
    .optional()
}

fn runs_where(conn: &Connection, tail: &str, args: &[String]) -> rusqlite::Result<Vec<StoredRun>> {
    let sql = format!("{RUN_COLUMNS} {tail}");
    let runs = conn
        .prepare_cached(&sql)?
        .query_map(params_from_iter(args), run_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    with_attachments(conn, runs)
}

/// Every run, in the order first received.
pub(crate) fn all_runs(conn: &Connection) -> rusqlite::Result<Vec<StoredRun>> {
    runs_where(conn, "ORDER BY r.seq", &[])
}

/// One run.
pub(crate) fn get_run(conn: &Connection, id: Uuid) -> rusqlite::Result<Option<StoredRun>> {
    Ok(runs_where(conn, "WHERE r.id = ?1", &[id.to_string()])?
        .into_iter()
        .next())
}

/// The runs of one trace, ordered by dotted order.
pub(crate) fn trace_runs(conn: &Connection, trace_id: Uuid) -> rusqlite::Result<Vec<StoredRun>> {
    runs_where(
        conn,
        "WHERE r.trace_id = ?1 ORDER BY r.dotted_order, r.seq",
        &[trace_id.to_string()],
    )
}

/// How many runs have an end time.
pub(crate) fn count_ended(conn: &Connection) -> rusqlite::Result<usize> {
    conn.prepare_cached("SELECT COUNT(*) FROM runs WHERE end_time IS NOT NULL")?
        .query_row([], |r| r.get::<_, i64>(0))
        .map(|n| n.max(0) as usize)
}

/// Ids of a run's direct children, in dotted order.
pub(crate) fn child_run_ids(conn: &Connection, id: Uuid) -> rusqlite::Result<Vec<String>> {
    conn.prepare_cached("SELECT id FROM runs WHERE parent_run_id = ?1 ORDER BY dotted_order")?
        .query_map([id.to_string()], |r| r.get(0))?
        .collect()
}

/// A `/runs/query` request, as far as the collector understands it.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct RunQuery {
    pub ids: Vec<Uuid>,
    pub trace: Option<Uuid>,
    pub sessions: Vec<Uuid>,
    pub parent_run: Option<Uuid>,
    pub is_root: Option<bool>,
    pub run_type: Option<String>,
    pub error: Option<bool>,
    pub reference_examples: Vec<Uuid>,
    pub start_time: Option<String>,
    pub ascending: bool,
    pub offset: usize,
    pub page_size: usize,
    /// Fields to return (`None`: all).
    pub select: Option<Vec<String>>,
    /// `filter` (and `query`, a text search): on the run itself.
    pub filter: Vec<crate::filter::Filter>,
    /// `trace_filter`: on the root run of the run's trace.
    pub trace_filter: Option<crate::filter::Filter>,
    /// `tree_filter`: on any run of the run's trace.
    pub tree_filter: Option<crate::filter::Filter>,
}

fn uuid_list(v: &Value, key: &str) -> Result<Vec<Uuid>, String> {
    let one = |x: &Value| {
        x.as_str()
            .and_then(|s| s.parse::<Uuid>().ok())
            .ok_or_else(|| format!("'{key}' must hold UUIDs, got {x}"))
    };
    match v {
        Value::Null => Ok(Vec::new()),
        Value::Array(a) => a.iter().map(one).collect(),
        other => Ok(vec![one(other)?]),
    }
}

fn one_uuid(v: &Value, key: &str) -> Result<Option<Uuid>, String> {
    let mut l = uuid_list(v, key)?;
    if l.len() > 1 {
        return Err(format!("'{key}' takes one UUID"));
    }
    Ok(l.pop())
}

/// Reads a `/runs/query` body. Filter expressions (`filter`,
/// `trace_filter`, `tree_filter`; `query` as a text search) are parsed by
/// [`crate::filter`]; what it cannot evaluate is refused rather than
/// silently ignored.
pub(crate) fn parse_run_query(body: &Value) -> Result<RunQuery, String> {
    let Some(obj) = body.as_object() else {
        return Err("the query must be a JSON object".into());
    };
    let mut q = RunQuery {
        page_size: MAX_PAGE,
        ..RunQuery::default()
    };
    for (k, v) in obj {
        if v.is_null() {
            continue;
        }
        match k.as_str() {
            "id" => q.ids = uuid_list(v, k)?,
            "trace" => q.trace = one_uuid(v, k)?,
            "session" => q.sessions = uuid_list(v, k)?,
            "parent_run" => q.parent_run = one_uuid(v, k)?,
            "reference_example" => q.reference_examples = uuid_list(v, k)?,
            "is_root" => q.is_root = Some(v.as_bool().ok_or("'is_root' must be a boolean")?),
            "error" => q.error = Some(v.as_bool().ok_or("'error' must be a boolean")?),
            "run_type" => {
                q.run_type = Some(v.as_str().ok_or("'run_type' must be a string")?.to_owned())
            }
            "start_time" => {
                q.start_time = Some(
                    v.as_str()
                        .ok_or("'start_time' must be a string")?
                        .to_owned(),
                )
            }
            "order" => {
                q.ascending = match v.as_str() {
                    Some("asc") => true,
                    Some("desc") => false,
                    _ => return Err("'order' must be 'asc' or 'desc'".into()),
                }
            }
            "limit" => {
                let n = v.as_u64().ok_or("'limit' must be a positive integer")?;
                q.page_size = (n as usize).clamp(1, MAX_PAGE);
            }
            "cursor" => {
                q.offset = v
                    .as_str()
                    .and_then(|s| s.strip_prefix("offset:"))
                    .and_then(|s| s.parse().ok())
                    .ok_or("invalid 'cursor'")?;
            }
            "select" => {
                let a = v
                    .as_array()
                    .ok_or("'select' must be a list of field names")?;
                q.select = Some(
                    a.iter()
                        .map(|s| s.as_str().map(str::to_owned))
                        .collect::<Option<_>>()
                        .ok_or("'select' must be a list of field names")?,
                );
            }
            "filter" | "trace_filter" | "tree_filter" => {
                let text = v
                    .as_str()
                    .ok_or_else(|| format!("'{k}' must be a string"))?;
                if text.trim().is_empty() {
                    continue;
                }
                let f = crate::filter::parse(text).map_err(|e| format!("'{k}': {e}"))?;
                match k.as_str() {
                    "filter" => q.filter.push(f),
                    "trace_filter" => q.trace_filter = Some(f),
                    _ => q.tree_filter = Some(f),
                }
            }
            "query" => {
                let text = v.as_str().ok_or("'query' must be a string")?;
                if !text.trim().is_empty() {
                    q.filter
                        .push(crate::filter::Filter::Search(None, text.trim().to_owned()));
                }
            }
            _ => {}
        }
    }
    Ok(q)
}

/// The cursor that continues after `offset` results.
pub(crate) fn cursor_after(offset: usize) -> String {
    format!("offset:{offset}")
}

/// Runs matching `q` (one page), and whether more follow.
pub(crate) fn query_runs(
    conn: &Connection,
    q: &RunQuery,
) -> rusqlite::Result<(Vec<StoredRun>, bool)> {
    let mut clauses: Vec<String> = Vec::new();
    let mut args: Vec<String> = Vec::new();
    let lists: [(&str, &[Uuid]); 5] = [
        ("r.id", &q.ids),
        ("r.session_id", &q.sessions),
        ("r.reference_example_id", &q.reference_examples),
        ("r.trace_id", q.trace.as_slice()),
        ("r.parent_run_id", q.parent_run.as_slice()),
    ];
    for (col, ids) in lists {
        if !ids.is_empty() {
            clauses.push(format!("{col} IN ({})", vec!["?"; ids.len()].join(",")));
            args.extend(ids.iter().map(Uuid::to_string));
        }
    }
    match q.is_root {
        Some(true) => clauses.push("r.parent_run_id IS NULL".into()),
        Some(false) => clauses.push("r.parent_run_id IS NOT NULL".into()),
        None => {}
    }
    if let Some(e) = q.error {
        clauses.push(format!("r.has_error = {}", i32::from(e)));
    }
    if let Some(t) = &q.run_type {
        clauses.push("r.run_type = ?".into());
        args.push(t.clone());
    }
    if let Some(t) = &q.start_time {
        clauses.push("r.start_time >= ?".into());
        args.push(t.clone());
    }
    let mut tail = String::new();
    if !clauses.is_empty() {
        tail.push_str("WHERE ");
        tail.push_str(&clauses.join(" AND "));
    }
    let dir = if q.ascending { "ASC" } else { "DESC" };
    tail.push_str(&format!(" ORDER BY r.start_time {dir}, r.seq {dir}"));
    let filtered = !q.filter.is_empty() || q.trace_filter.is_some() || q.tree_filter.is_some();
    if !filtered {
        tail.push_str(&format!(" LIMIT {} OFFSET {}", q.page_size + 1, q.offset));
        let mut runs = runs_where(conn, &tail, &args)?;
        let more = runs.len() > q.page_size;
        runs.truncate(q.page_size);
        return Ok((runs, more));
    }
    // Expressions are evaluated here, on the runs the other fields select
    // (a local collector holds few enough), then paged.
    let candidates = runs_where(conn, &tail, &args)?;
    let mut traces: HashMap<Uuid, Vec<StoredRun>> = HashMap::new();
    if q.trace_filter.is_some() || q.tree_filter.is_some() {
        let ids: std::collections::BTreeSet<Uuid> = candidates.iter().map(|r| r.trace_id).collect();
        for id in ids {
            traces.insert(id, trace_runs(conn, id)?);
        }
    }
    let matches = |r: &StoredRun| {
        q.filter.iter().all(|f| f.matches(r))
            && q.trace_filter.as_ref().is_none_or(|f| {
                traces.get(&r.trace_id).is_some_and(|t| {
                    t.iter()
                        .find(|x| x.parent_run_id.is_none() || x.id == r.trace_id)
                        .is_some_and(|root| f.matches(root))
                })
            })
            && q.tree_filter.as_ref().is_none_or(|f| {
                traces
                    .get(&r.trace_id)
                    .is_some_and(|t| t.iter().any(|x| f.matches(x)))
            })
    };
    let mut runs: Vec<StoredRun> = candidates
        .into_iter()
        .filter(|r| matches(r))
        .skip(q.offset)
        .take(q.page_size + 1)
        .collect();
    let more = runs.len() > q.page_size;
    runs.truncate(q.page_size);
    Ok((runs, more))
}

fn feedback_from_row(row: &Row<'_>) -> rusqlite::Result<StoredFeedback> {
    let doc: String = row.get(0)?;
    let raw = parse_map(&doc);
    let uuid = |k: &str| {
        raw.get(k)
            .and_then(Value::as_str)
            .and_then(|s| s.parse().ok())
    };
    let text = |k: &str| raw.get(k).and_then(Value::as_str).map(str::to_owned);
    Ok(StoredFeedback {
        id: uuid("id").unwrap_or_default(),
        run_id: uuid("run_id"),
        trace_id: uuid("trace_id"),
        key: text("key").unwrap_or_default(),
        score: raw.get("score").cloned().unwrap_or(Value::Null),
        value: raw.get("value").cloned().unwrap_or(Value::Null),
        comment: text("comment"),
        created_at: text("created_at").unwrap_or_default(),
        raw: Value::Object(raw),
    })
}

/// Feedback, oldest first, optionally only for some runs and keys.
pub(crate) fn feedback(
    conn: &Connection,
    runs: &[Uuid],
    keys: &[String],
    limit: usize,
    offset: usize,
) -> rusqlite::Result<Vec<StoredFeedback>> {
    let mut clauses = Vec::new();
    let mut args: Vec<String> = Vec::new();
    if !runs.is_empty() {
        clauses.push(format!("run_id IN ({})", vec!["?"; runs.len()].join(",")));
        args.extend(runs.iter().map(Uuid::to_string));
    }
    if !keys.is_empty() {
        clauses.push(format!("key IN ({})", vec!["?"; keys.len()].join(",")));
        args.extend(keys.iter().cloned());
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql =
        format!("SELECT doc FROM feedback {filter} ORDER BY seq LIMIT {limit} OFFSET {offset}");
    conn.prepare(&sql)?
        .query_map(params_from_iter(args), feedback_from_row)?
        .collect()
}

/// One feedback.
pub(crate) fn feedback_by_id(
    conn: &Connection,
    id: Uuid,
) -> rusqlite::Result<Option<StoredFeedback>> {
    conn.prepare_cached("SELECT doc FROM feedback WHERE id = ?1")?
        .query_row([id.to_string()], feedback_from_row)
        .optional()
}

/// LangSmith-style `feedback_stats` of a run: per key, count and mean score.
pub(crate) fn feedback_stats(conn: &Connection, run_id: Uuid) -> rusqlite::Result<Value> {
    let all = feedback(conn, &[run_id], &[], usize::MAX >> 1, 0)?;
    let mut stats = Map::new();
    let mut keys: Vec<&str> = all.iter().map(|f| f.key.as_str()).collect();
    keys.dedup();
    keys.sort_unstable();
    keys.dedup();
    for key in keys {
        let of_key: Vec<&StoredFeedback> = all.iter().filter(|f| f.key == key).collect();
        let scores: Vec<f64> = of_key
            .iter()
            .filter_map(|f| match &f.score {
                Value::Bool(b) => Some(f64::from(u8::from(*b))),
                v => v.as_f64(),
            })
            .collect();
        let avg = if scores.is_empty() {
            Value::Null
        } else {
            json!(scores.iter().sum::<f64>() / scores.len() as f64)
        };
        let mut values = Map::new();
        for f in &of_key {
            if let Some(s) = f.value.as_str() {
                let n = values.get(s).and_then(Value::as_u64).unwrap_or(0) + 1;
                values.insert(s.to_owned(), json!(n));
            }
        }
        stats.insert(
            key.to_owned(),
            json!({"n": of_key.len(), "avg": avg, "values": values}),
        );
    }
    Ok(Value::Object(stats))
}

/// Sessions (projects) as LangSmith returns them.
pub(crate) fn sessions(
    conn: &Connection,
    name: Option<&str>,
    name_contains: Option<&str>,
    id: Option<Uuid>,
    limit: usize,
    offset: usize,
) -> rusqlite::Result<Vec<Value>> {
    let mut clauses = Vec::new();
    let mut args: Vec<String> = Vec::new();
    if let Some(n) = name {
        clauses.push(format!("s.name = ?{}", args.len() + 1));
        args.push(n.to_owned());
    }
    if let Some(n) = name_contains {
        clauses.push(format!("instr(s.name, ?{}) > 0", args.len() + 1));
        args.push(n.to_owned());
    }
    if let Some(i) = id {
        clauses.push(format!("s.id = ?{}", args.len() + 1));
        args.push(i.to_string());
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    let sql = format!(
        "SELECT s.id, s.name, s.start_time,
                (SELECT COUNT(*) FROM runs r WHERE r.session_id = s.id),
                (SELECT MAX(r.start_time) FROM runs r WHERE r.session_id = s.id)
         FROM sessions s {filter} ORDER BY s.start_time DESC, s.name LIMIT {limit} OFFSET {offset}"
    );
    conn.prepare(&sql)?
        .query_map(params_from_iter(args), |r| {
            Ok(json!({
                "id": r.get::<_, String>(0)?,
                "name": r.get::<_, String>(1)?,
                "start_time": r.get::<_, String>(2)?,
                "end_time": null,
                "description": null,
                "extra": null,
                "tenant_id": Uuid::nil().to_string(),
                "reference_dataset_id": null,
                "run_count": r.get::<_, i64>(3)?,
                "last_run_start_time": r.get::<_, Option<String>>(4)?,
            }))
        })?
        .collect()
}

/// Creates a session by name; `None` if the name is taken.
pub(crate) fn create_session(conn: &Connection, name: &str) -> rusqlite::Result<Option<Uuid>> {
    let id = Uuid::new_v4();
    let n = conn.execute(
        "INSERT OR IGNORE INTO sessions (id, name, start_time) VALUES (?1, ?2, ?3)",
        params![id.to_string(), name, crate::time::now_rfc3339()],
    )?;
    Ok((n == 1).then_some(id))
}

/// Keeps only the selected fields of an API run object (`id` always stays).
pub(crate) fn apply_select(obj: &mut Map<String, Value>, select: &[String]) {
    obj.retain(|k, _| k == "id" || select.iter().any(|s| s == k));
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    #[test]
    fn parses_what_list_runs_sends() {
        let q = parse_run_query(&json!({
            "session": ["0193d5a2-0000-7000-8000-000000000001"],
            "trace": "0193d5a2-0000-7000-8000-000000000002",
            "select": ["id", "name"], "limit": 5, "cursor": "offset:10", "is_root": false
        }))
        .unwrap();
        assert_eq!(q.sessions.len(), 1);
        assert!(q.trace.is_some());
        assert_eq!(q.page_size, 5);
        assert_eq!(q.offset, 10);
        assert_eq!(q.is_root, Some(false));
        assert_eq!(
            parse_run_query(&json!({"filter": "eq(name, 'x')"}))
                .unwrap()
                .filter
                .len(),
            1
        );
        let err = parse_run_query(&json!({"filter": "eq(feedback_key, 'x')"})).unwrap_err();
        assert!(
            err.contains("'filter'") && err.contains("feedback_key"),
            "{err}"
        );
        assert!(parse_run_query(&json!({"trace": "nope"})).is_err());
    }
}
