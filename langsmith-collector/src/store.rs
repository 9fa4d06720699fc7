//! SQLite storage. One writer thread owns the read-write connection and
//! commits whatever is queued in one transaction; reads use a separate
//! read-only connection on a file database (WAL) or go through the writer's
//! connection for an in-memory one.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, mpsc};
use std::thread::JoinHandle;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};
use serde_json::{Map, Value};
use uuid::Uuid;

use crate::ingest::{Op, RunKind};
use crate::model::{Columns, merged, overlay};

/// Most commands committed in one transaction.
const MAX_BATCH: usize = 512;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    start_time TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    trace_id TEXT NOT NULL,
    parent_run_id TEXT,
    session_id TEXT NOT NULL,
    dotted_order TEXT NOT NULL,
    name TEXT NOT NULL,
    run_type TEXT NOT NULL,
    start_time TEXT NOT NULL,
    end_time TEXT,
    has_error INTEGER NOT NULL,
    reference_example_id TEXT,
    post_doc TEXT NOT NULL,
    patch_doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runs_trace ON runs(trace_id, dotted_order);
CREATE INDEX IF NOT EXISTS runs_session ON runs(session_id, start_time);
CREATE INDEX IF NOT EXISTS runs_parent ON runs(parent_run_id);
CREATE TABLE IF NOT EXISTS feedback (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    run_id TEXT,
    trace_id TEXT,
    key TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS feedback_run ON feedback(run_id);
CREATE TABLE IF NOT EXISTS attachments (
    run_id TEXT NOT NULL,
    name TEXT NOT NULL,
    content_type TEXT,
    size INTEGER NOT NULL,
    data BLOB,
    PRIMARY KEY (run_id, name)
);
";

/// The schema version this build writes (`PRAGMA user_version`): 1 stored
/// attachments' name, type and size; 2 also their bytes (`data`).
const SCHEMA_VERSION: i64 = 2;

/// Brings a database made by an older build up to [`SCHEMA_VERSION`].
fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let version: i64 = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    if version < 2 {
        let has_data = conn
            .prepare("SELECT 1 FROM pragma_table_info('attachments') WHERE name = 'data'")?
            .exists([])?;
        if !has_data {
            // Attachments received before keep their name, type and size; their
            // bytes were never stored (downloading one answers 404).
            conn.execute_batch("ALTER TABLE attachments ADD COLUMN data BLOB")?;
        }
    }
    conn.pragma_update(None, "user_version", SCHEMA_VERSION)
}

/// A storage failure.
#[derive(Debug)]
pub(crate) enum StoreError {
    Sqlite(rusqlite::Error),
    Io(std::io::Error),
    /// The transaction this write was part of failed.
    Failed(String),
    Closed,
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(e) => write!(f, "database error: {e}"),
            Self::Io(e) => write!(f, "i/o error: {e}"),
            Self::Failed(e) => write!(f, "write failed: {e}"),
            Self::Closed => write!(f, "the store is shut down"),
        }
    }
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        Self::Sqlite(e)
    }
}

/// What one write stored.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WriteSummary {
    pub runs: usize,
    pub feedback: usize,
    pub attachments: usize,
}

type Reply = tokio::sync::oneshot::Sender<Result<WriteSummary, StoreError>>;
type ReadFn = Box<dyn FnOnce(&Connection) + Send>;

enum Cmd {
    Write(Vec<Op>, Reply),
    Read(ReadFn),
    Shutdown,
}

/// Handle to the store; cheap to clone.
#[derive(Clone)]
pub(crate) struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    tx: mpsc::Sender<Cmd>,
    reader: Option<Mutex<Connection>>,
    writer: Mutex<Option<JoinHandle<()>>>,
}

impl Store {
    /// Opens (creating if needed) the database at `path`, or an in-memory one.
    pub(crate) fn open(path: Option<&Path>) -> Result<Store, StoreError> {
        let conn = match path {
            Some(p) => {
                let c = Connection::open(p)?;
                c.pragma_update(None, "journal_mode", "WAL")?;
                c.pragma_update(None, "synchronous", "NORMAL")?;
                c
            }
            None => Connection::open_in_memory()?,
        };
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA)?;
        migrate(&conn)?;
        let reader = match path {
            Some(p) => {
                let r = Connection::open_with_flags(
                    p,
                    OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                )?;
                r.busy_timeout(std::time::Duration::from_secs(5))?;
                Some(Mutex::new(r))
            }
            None => None,
        };
        let (tx, rx) = mpsc::channel();
        let writer = std::thread::Builder::new()
            .name("langsmith-collector-writer".into())
            .spawn(move || Writer::new(conn).run(rx))
            .map_err(StoreError::Io)?;
        Ok(Store {
            inner: Arc::new(Inner {
                tx,
                reader,
                writer: Mutex::new(Some(writer)),
            }),
        })
    }

    /// Stores `ops` and waits until they are committed.
    pub(crate) async fn write(&self, ops: Vec<Op>) -> Result<WriteSummary, StoreError> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.inner
            .tx
            .send(Cmd::Write(ops, tx))
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `f` on a connection that sees every committed write. Blocks.
    pub(crate) fn read<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        if let Some(reader) = &self.inner.reader {
            let conn = reader.lock().unwrap_or_else(|p| p.into_inner());
            return Ok(f(&conn)?);
        }
        let (tx, rx) = mpsc::sync_channel(1);
        let job: ReadFn = Box::new(move |c| {
            let _ = tx.send(f(c));
        });
        self.inner
            .tx
            .send(Cmd::Read(job))
            .map_err(|_| StoreError::Closed)?;
        Ok(rx.recv().map_err(|_| StoreError::Closed)??)
    }

    /// Runs `f` on the writer's connection (outside the batched
    /// transactions) and returns its result.
    pub(crate) async fn write_with<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: ReadFn = Box::new(move |c| {
            let _ = tx.send(f(c));
        });
        self.inner
            .tx
            .send(Cmd::Read(job))
            .map_err(|_| StoreError::Closed)?;
        Ok(rx.await.map_err(|_| StoreError::Closed)??)
    }

    /// [`Store::read`] from async code, off the runtime's worker threads.
    pub(crate) async fn read_async<T, F>(&self, f: F) -> Result<T, StoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let store = self.clone();
        tokio::task::spawn_blocking(move || store.read(f))
            .await
            .map_err(|_| StoreError::Closed)?
    }

    /// Commits what is queued, stops the writer and waits for it.
    pub(crate) fn close(&self) {
        let _ = self.inner.tx.send(Cmd::Shutdown);
        let handle = self
            .inner
            .writer
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .take();
        if let Some(h) = handle {
            let _ = h.join();
        }
    }
}

struct Writer {
    conn: Connection,
    /// Session name -> id.
    sessions: HashMap<String, Uuid>,
}

impl Writer {
    fn new(conn: Connection) -> Self {
        Writer {
            conn,
            sessions: HashMap::new(),
        }
    }

    fn run(mut self, rx: mpsc::Receiver<Cmd>) {
        let mut pending: Vec<(Vec<Op>, Reply)> = Vec::new();
        while let Ok(first) = rx.recv() {
            let mut next = Some(first);
            let mut shutdown = false;
            while let Some(cmd) = next.take() {
                match cmd {
                    Cmd::Write(ops, reply) => pending.push((ops, reply)),
                    Cmd::Read(job) => {
                        self.flush(&mut pending);
                        job(&self.conn);
                    }
                    Cmd::Shutdown => {
                        shutdown = true;
                        break;
                    }
                }
                if pending.len() < MAX_BATCH {
                    next = rx.try_recv().ok();
                }
            }
            self.flush(&mut pending);
            if shutdown {
                break;
            }
        }
        self.flush(&mut pending);
        // Fold the WAL back into the main file on a clean shutdown.
        let _ = self.conn.pragma_update(None, "wal_checkpoint", "TRUNCATE");
    }

    fn flush(&mut self, pending: &mut Vec<(Vec<Op>, Reply)>) {
        if pending.is_empty() {
            return;
        }
        let batch = std::mem::take(pending);
        let sessions_before = self.sessions.clone();
        let result = self.write_batch(&batch);
        match result {
            Ok(summaries) => {
                for ((_, reply), s) in batch.into_iter().zip(summaries) {
                    let _ = reply.send(Ok(s));
                }
            }
            Err(e) => {
                self.sessions = sessions_before;
                tracing::error!("write failed: {e}");
                let msg = e.to_string();
                for (_, reply) in batch {
                    let _ = reply.send(Err(StoreError::Failed(msg.clone())));
                }
            }
        }
    }

    fn write_batch(&mut self, batch: &[(Vec<Op>, Reply)]) -> rusqlite::Result<Vec<WriteSummary>> {
        let tx = self.conn.unchecked_transaction()?;
        let mut out = Vec::with_capacity(batch.len());
        for (ops, _) in batch {
            let mut s = WriteSummary::default();
            for op in ops {
                match op {
                    Op::Run { kind, id, doc } => {
                        write_run(&tx, &mut self.sessions, *kind, *id, doc)?;
                        s.runs += 1;
                    }
                    Op::Feedback { id, doc } => {
                        write_feedback(&tx, *id, doc)?;
                        s.feedback += 1;
                    }
                    Op::Attachment {
                        run_id,
                        name,
                        content_type,
                        data,
                    } => {
                        tx.prepare_cached(
                            "INSERT INTO attachments (run_id, name, content_type, size, data)
                             VALUES (?1, ?2, ?3, ?4, ?5)
                             ON CONFLICT(run_id, name) DO UPDATE SET
                               content_type = excluded.content_type, size = excluded.size,
                               data = excluded.data",
                        )?
                        .execute(params![
                            run_id.to_string(),
                            name,
                            content_type,
                            data.len() as i64,
                            &data[..]
                        ])?;
                        s.attachments += 1;
                    }
                }
            }
            out.push(s);
        }
        tx.commit()?;
        Ok(out)
    }
}

fn parse_doc(s: &str) -> Map<String, Value> {
    match serde_json::from_str(s) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

fn write_run(
    conn: &Connection,
    sessions: &mut HashMap<String, Uuid>,
    kind: RunKind,
    id: Uuid,
    doc: &Map<String, Value>,
) -> rusqlite::Result<()> {
    let id_s = id.to_string();
    let existing: Option<(String, String)> = conn
        .prepare_cached("SELECT post_doc, patch_doc FROM runs WHERE id = ?1")?
        .query_row([&id_s], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    let (mut post, mut patch) = match &existing {
        Some((a, b)) => (parse_doc(a), parse_doc(b)),
        None => (Map::new(), Map::new()),
    };
    let target = match kind {
        RunKind::Post => &mut post,
        RunKind::Patch => &mut patch,
    };
    let before = target.clone();
    overlay(target, doc.clone());
    if existing.is_some() && *target == before {
        return Ok(()); // a duplicate: nothing changes
    }
    let full = merged(&post, &patch);
    let c = Columns::of(id, &full);
    let session_id = resolve_session(conn, sessions, &full)?;
    conn.prepare_cached(
        "INSERT INTO runs (id, trace_id, parent_run_id, session_id, dotted_order, name, run_type,
                           start_time, end_time, has_error, reference_example_id, post_doc, patch_doc)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
         ON CONFLICT(id) DO UPDATE SET
           trace_id = excluded.trace_id, parent_run_id = excluded.parent_run_id,
           session_id = excluded.session_id, dotted_order = excluded.dotted_order,
           name = excluded.name, run_type = excluded.run_type, start_time = excluded.start_time,
           end_time = excluded.end_time, has_error = excluded.has_error,
           reference_example_id = excluded.reference_example_id,
           post_doc = excluded.post_doc, patch_doc = excluded.patch_doc",
    )?
    .execute(params![
        id_s,
        c.trace_id.to_string(),
        c.parent_run_id.map(|u| u.to_string()),
        session_id.to_string(),
        c.dotted_order,
        c.name,
        c.run_type,
        c.start_time,
        c.end_time,
        c.has_error,
        c.reference_example_id.map(|u| u.to_string()),
        Value::Object(post).to_string(),
        Value::Object(patch).to_string(),
    ])?;
    Ok(())
}

/// The project of a run: by `session_name` (created on first sight), else by
/// its agent `address` (the Python SDK's agent addressing: the project is
/// named by the LRN, so that every run addressed to one agent lands in one
/// project, whichever SDK sent it), else by `session_id`, else `default`.
fn resolve_session(
    conn: &Connection,
    cache: &mut HashMap<String, Uuid>,
    doc: &Map<String, Value>,
) -> rusqlite::Result<Uuid> {
    let given_id: Option<Uuid> = doc
        .get("session_id")
        .and_then(Value::as_str)
        .and_then(|s| s.parse().ok());
    let address = doc.get("address").and_then(Value::as_str);
    let name = match doc.get("session_name").and_then(Value::as_str) {
        Some(n) if !n.is_empty() => n.to_owned(),
        _ if address.is_some_and(|a| !a.is_empty()) => address.unwrap_or_default().to_owned(),
        _ => match given_id {
            Some(id) => {
                let known: Option<String> = conn
                    .prepare_cached("SELECT name FROM sessions WHERE id = ?1")?
                    .query_row([id.to_string()], |r| r.get(0))
                    .optional()?;
                known.unwrap_or_else(|| id.to_string())
            }
            None => "default".to_owned(),
        },
    };
    ensure_session(conn, cache, &name, given_id)
}

/// Gets or creates the session called `name`; a new one takes `want_id` if
/// given and free.
pub(crate) fn ensure_session(
    conn: &Connection,
    cache: &mut HashMap<String, Uuid>,
    name: &str,
    want_id: Option<Uuid>,
) -> rusqlite::Result<Uuid> {
    if let Some(id) = cache.get(name) {
        return Ok(*id);
    }
    let found: Option<String> = conn
        .prepare_cached("SELECT id FROM sessions WHERE name = ?1")?
        .query_row([name], |r| r.get(0))
        .optional()?;
    let id = match found.and_then(|s| s.parse::<Uuid>().ok()) {
        Some(id) => id,
        None => {
            let taken = match want_id {
                Some(w) => conn
                    .prepare_cached("SELECT 1 FROM sessions WHERE id = ?1")?
                    .exists([w.to_string()])?,
                None => true,
            };
            let id = match want_id {
                Some(w) if !taken => w,
                _ => Uuid::new_v4(),
            };
            conn.prepare_cached("INSERT INTO sessions (id, name, start_time) VALUES (?1, ?2, ?3)")?
                .execute(params![id.to_string(), name, crate::time::now_rfc3339()])?;
            id
        }
    };
    cache.insert(name.to_owned(), id);
    Ok(id)
}

fn write_feedback(conn: &Connection, id: Uuid, doc: &Map<String, Value>) -> rusqlite::Result<()> {
    let existing: Option<String> = conn
        .prepare_cached("SELECT doc FROM feedback WHERE id = ?1")?
        .query_row([id.to_string()], |r| r.get(0))
        .optional()?;
    let doc = match existing {
        Some(old) => {
            let mut old = parse_doc(&old);
            let created = old.get("created_at").cloned();
            let before = old.clone();
            overlay(&mut old, doc.clone());
            if let Some(c) = created {
                old.insert("created_at".into(), c);
            }
            if old == before {
                return Ok(()); // a duplicate
            }
            old
        }
        None => doc.clone(),
    };
    let doc = &doc;
    let uuid_of = |k: &str| {
        doc.get(k)
            .and_then(Value::as_str)
            .and_then(|s| s.parse::<Uuid>().ok())
            .map(|u| u.to_string())
    };
    let key = doc.get("key").and_then(Value::as_str).unwrap_or_default();
    conn.prepare_cached(
        "INSERT INTO feedback (id, run_id, trace_id, key, doc) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(id) DO UPDATE SET run_id = excluded.run_id, trace_id = excluded.trace_id,
           key = excluded.key, doc = excluded.doc",
    )?
    .execute(params![
        id.to_string(),
        uuid_of("run_id"),
        uuid_of("trace_id"),
        key,
        Value::Object(doc.clone()).to_string(),
    ])?;
    Ok(())
}
