//! `GET /api/traces`: one row per trace, newest first, with filters and
//! keyset paging. All of the viewer's SQL lives here.

use rusqlite::{Connection, Row, params_from_iter};
use serde::Deserialize;
use serde_json::{Value, json};

/// Largest page the listing returns.
pub(crate) const MAX_LIMIT: usize = 200;
/// The page size when none is asked for.
pub(crate) const DEFAULT_LIMIT: usize = 50;

/// The query string of `GET /api/traces`, as received.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListParams {
    /// Only traces whose root run is in this project (exact name).
    pub project: Option<String>,
    /// Only traces whose root run's name contains this (ASCII case-insensitive).
    pub name: Option<String>,
    /// `true`/`1`: only traces with a failed run; `false`/`0`: only without.
    pub error: Option<String>,
    /// The `cursors.next` of the previous page.
    pub cursor: Option<String>,
    /// Page size, 1..=200 (default 50).
    pub limit: Option<String>,
}

/// Where a page starts: after the trace with this sort key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// The trace's start, in milliseconds since the epoch (0 if unknown).
    pub start_ms: i64,
    pub trace_id: String,
}

impl Cursor {
    fn encode(&self) -> String {
        format!("{}_{}", self.start_ms, self.trace_id)
    }

    fn decode(s: &str) -> Option<Cursor> {
        let (ms, id) = s.split_once('_')?;
        let trace_id = id.parse::<uuid::Uuid>().ok()?.to_string();
        Some(Cursor {
            start_ms: ms.parse().ok()?,
            trace_id,
        })
    }
}

/// A validated listing query.
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct TraceQuery {
    pub project: Option<String>,
    pub name: Option<String>,
    pub error: Option<bool>,
    pub after: Option<Cursor>,
    pub limit: usize,
}

fn non_empty(s: &Option<String>) -> Option<String> {
    s.as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

impl TraceQuery {
    /// Checks the query string; the message says what is wrong.
    pub(crate) fn parse(p: &ListParams) -> Result<TraceQuery, String> {
        let error = match non_empty(&p.error).as_deref() {
            None | Some("any") => None,
            Some("true" | "1") => Some(true),
            Some("false" | "0") => Some(false),
            Some(other) => {
                return Err(format!("'error' must be true, false or any, got '{other}'"));
            }
        };
        let after = match non_empty(&p.cursor) {
            None => None,
            Some(c) => Some(Cursor::decode(&c).ok_or_else(|| format!("invalid cursor '{c}'"))?),
        };
        let limit = match non_empty(&p.limit) {
            None => DEFAULT_LIMIT,
            Some(l) => l
                .parse::<usize>()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("'limit' must be a positive integer, got '{l}'"))?
                .min(MAX_LIMIT),
        };
        Ok(TraceQuery {
            project: non_empty(&p.project),
            name: non_empty(&p.name),
            error,
            after,
            limit,
        })
    }
}

/// Milliseconds since the epoch of a Julian day number expression (SQLite
/// parses RFC 3339 with millisecond precision; `NULL` stays `NULL`).
fn epoch_ms(julian: &str) -> String {
    format!("CAST(ROUND(({julian} - 2440587.5) * 86400000.0) AS INTEGER)")
}

fn row_json(row: &Row<'_>) -> rusqlite::Result<(Value, Cursor)> {
    let trace_id: String = row.get(0)?;
    let run_count: i64 = row.get(1)?;
    let error_count: i64 = row.get(2)?;
    let pending_count: i64 = row.get(3)?;
    let start_ms: i64 = row.get(4)?;
    let end_ms: Option<i64> = row.get(5)?;
    let first_ms: Option<i64> = row.get(6)?;
    let root_has_error: bool = row.get(11)?;
    let status = if pending_count > 0 {
        "pending"
    } else if error_count > 0 {
        "error"
    } else {
        "success"
    };
    let v = json!({
        "trace_id": trace_id,
        "root_run_id": row.get::<_, String>(7)?,
        "name": row.get::<_, String>(8)?,
        "run_type": row.get::<_, String>(9)?,
        "start_time": row.get::<_, String>(10)?,
        "end_time": row.get::<_, Option<String>>(12)?,
        "project": row.get::<_, Option<String>>(13)?.unwrap_or_default(),
        "session_id": row.get::<_, String>(14)?,
        "run_count": run_count,
        "error_count": error_count,
        "pending_count": pending_count,
        "error": error_count > 0,
        "root_error": root_has_error,
        "status": status,
        "duration_ms": match (first_ms, end_ms) {
            (Some(s), Some(e)) => json!((e - s).max(0)),
            _ => Value::Null,
        },
    });
    Ok((v, Cursor { start_ms, trace_id }))
}

/// One page of traces matching `q`, newest first, and the cursor of the
/// next page if there is one.
pub(crate) fn list_traces(
    conn: &Connection,
    q: &TraceQuery,
) -> rusqlite::Result<(Vec<Value>, Option<String>)> {
    let mut clauses: Vec<&str> = Vec::new();
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    if let Some(p) = &q.project {
        clauses.push("s.name = ?");
        args.push(p.clone().into());
    }
    if let Some(n) = &q.name {
        clauses.push("instr(lower(root.name), lower(?)) > 0");
        args.push(n.clone().into());
    }
    match q.error {
        Some(true) => clauses.push("t.error_count > 0"),
        Some(false) => clauses.push("t.error_count = 0"),
        None => {}
    }
    if let Some(c) = &q.after {
        clauses.push("(t.skey < ? OR (t.skey = ? AND t.trace_id < ?))");
        args.push(c.start_ms.into());
        args.push(c.start_ms.into());
        args.push(c.trace_id.clone().into());
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!("WHERE {}", clauses.join(" AND "))
    };
    // `t`: per trace, the counts, its first start and last end (ms), and the
    // root run: the run whose id is the trace id, else a run without a
    // parent, else the first in dotted order (its parents may not have
    // arrived yet).
    let sql = format!(
        "WITH g AS (
           SELECT trace_id,
                  COUNT(*) AS run_count,
                  SUM(has_error) AS error_count,
                  SUM(end_time IS NULL) AS pending_count,
                  {first} AS first_ms,
                  {last} AS end_ms
           FROM runs GROUP BY trace_id
         ), t AS (
           SELECT g.*, COALESCE(g.first_ms, 0) AS skey,
                  COALESCE(
                    (SELECT x.seq FROM runs x WHERE x.id = g.trace_id AND x.trace_id = g.trace_id),
                    (SELECT x.seq FROM runs x WHERE x.trace_id = g.trace_id
                     ORDER BY (x.parent_run_id IS NULL) DESC, x.dotted_order, x.seq
                     LIMIT 1)) AS root_seq
           FROM g
         )
         SELECT t.trace_id, t.run_count, t.error_count, t.pending_count, t.skey, t.end_ms,
                t.first_ms, root.id, root.name, root.run_type, root.start_time, root.has_error,
                root.end_time, s.name, root.session_id
         FROM t JOIN runs root ON root.seq = t.root_seq
         LEFT JOIN sessions s ON s.id = root.session_id
         {filter}
         ORDER BY t.skey DESC, t.trace_id DESC
         LIMIT {}",
        q.limit + 1,
        first = epoch_ms("MIN(julianday(start_time))"),
        last = epoch_ms("MAX(julianday(end_time))"),
    );
    let mut rows = conn
        .prepare(&sql)?
        .query_map(params_from_iter(args), row_json)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let next = if rows.len() > q.limit {
        rows.truncate(q.limit);
        rows.last().map(|(_, c)| c.encode())
    } else {
        None
    };
    Ok((rows.into_iter().map(|(v, _)| v).collect(), next))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> ListParams {
        let get = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        };
        ListParams {
            project: get("project"),
            name: get("name"),
            error: get("error"),
            cursor: get("cursor"),
            limit: get("limit"),
        }
    }

    #[test]
    fn parses_and_validates_the_query() {
        let q = TraceQuery::parse(&params(&[])).unwrap();
        assert_eq!(q.limit, DEFAULT_LIMIT);
        assert_eq!(q.error, None);
        let q = TraceQuery::parse(&params(&[
            ("project", " demo "),
            ("name", ""),
            ("error", "1"),
            ("limit", "5000"),
        ]))
        .unwrap();
        assert_eq!(q.project.as_deref(), Some("demo"));
        assert_eq!(q.name, None);
        assert_eq!(q.error, Some(true));
        assert_eq!(q.limit, MAX_LIMIT);
        assert!(TraceQuery::parse(&params(&[("error", "maybe")])).is_err());
        assert!(TraceQuery::parse(&params(&[("limit", "0")])).is_err());
        assert!(TraceQuery::parse(&params(&[("cursor", "x")])).is_err());
        let c = Cursor {
            start_ms: 1_767_323_045_678,
            trace_id: "0193d5a2-0000-7000-8000-000000000001".into(),
        };
        let q = TraceQuery::parse(&params(&[("cursor", &c.encode())])).unwrap();
        assert_eq!(q.after, Some(c));
    }

    #[test]
    fn epoch_ms_matches_sqlite() {
        let conn = Connection::open_in_memory().unwrap();
        let ms: i64 = conn
            .query_row(
                &format!(
                    "SELECT {}",
                    epoch_ms("julianday('2026-01-02T03:04:05.678901+00:00')")
                ),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(ms, 1_767_323_045_679);
        let none: Option<i64> = conn
            .query_row(
                &format!("SELECT {}", epoch_ms("julianday('garbage')")),
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(none, None);
    }
}
