//! LangSmith's run filter expressions (`filter`, `trace_filter`,
//! `tree_filter` of `/runs/query`, the `filter=` of the Python SDK's
//! `Client.list_runs`), for the attributes the collector stores:
//!
//! ```text
//! and(eq(run_type, "llm"), has(tags, "beta"), gt(latency, "2s"))
//! or(eq(name, 'retrieve'), eq(status, "error"))
//! and(eq(metadata_key, "tenant"), eq(metadata_value, "acme"))
//! search("timeout")
//! ```
//!
//! Operators: `and`, `or`, `not`, `eq`, `neq`, `gt`, `gte`, `lt`, `lte`,
//! `has`, `in`, `search`. Attributes: `id`, `trace_id`, `parent_run_id`,
//! `name`, `run_type`, `status`, `error`, `tags`, `start_time`, `end_time`,
//! `latency` (seconds, or `"1.5s"` / `"300ms"`), `metadata_key`,
//! `metadata_value`, `is_root`. Anything else is an error naming it, never
//! a silently wrong answer.

use crate::model::StoredRun;
use serde_json::Value;

/// A parsed expression.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Filter {
    And(Vec<Filter>),
    Or(Vec<Filter>),
    Not(Box<Filter>),
    Cmp(Op, Attr, Lit),
    In(Attr, Vec<Lit>),
    Has(Attr, Lit),
    Search(Option<Attr>, String),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Op {
    Eq,
    Neq,
    Gt,
    Gte,
    Lt,
    Lte,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Attr {
    Id,
    TraceId,
    ParentRunId,
    Name,
    RunType,
    Status,
    Error,
    Tags,
    StartTime,
    EndTime,
    Latency,
    MetadataKey,
    MetadataValue,
    IsRoot,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Str(String),
    Num(f64),
    Bool(bool),
}

impl Attr {
    fn parse(name: &str) -> Result<Attr, String> {
        Ok(match name {
            "id" => Attr::Id,
            "trace_id" => Attr::TraceId,
            "parent_run_id" => Attr::ParentRunId,
            "name" => Attr::Name,
            "run_type" => Attr::RunType,
            "status" => Attr::Status,
            "error" => Attr::Error,
            "tags" | "tag" => Attr::Tags,
            "start_time" => Attr::StartTime,
            "end_time" => Attr::EndTime,
            "latency" => Attr::Latency,
            "metadata_key" => Attr::MetadataKey,
            "metadata_value" => Attr::MetadataValue,
            "is_root" => Attr::IsRoot,
            other => {
                return Err(format!(
                    "filter attribute '{other}' is not supported by this collector"
                ));
            }
        })
    }
}

// ------------------------------------------------------------------ parsing

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Lit(Lit),
    Open,
    Close,
    Comma,
    ListOpen,
    ListClose,
}

fn tokenize(s: &str) -> Result<Vec<Tok>, String> {
    let mut out = Vec::new();
    let mut chars = s.char_indices().peekable();
    while let Some(&(i, c)) = chars.peek() {
        match c {
            c if c.is_whitespace() => {
                chars.next();
            }
            '(' | ')' | ',' | '[' | ']' => {
                chars.next();
                out.push(match c {
                    '(' => Tok::Open,
                    ')' => Tok::Close,
                    ',' => Tok::Comma,
                    '[' => Tok::ListOpen,
                    _ => Tok::ListClose,
                });
            }
            '"' | '\'' => {
                chars.next();
                let mut text = String::new();
                loop {
                    match chars.next() {
                        Some((_, '\\')) => match chars.next() {
                            Some((_, e)) => text.push(e),
                            None => return Err("unterminated string in filter".into()),
                        },
                        Some((_, q)) if q == c => break,
                        Some((_, x)) => text.push(x),
                        None => return Err("unterminated string in filter".into()),
                    }
                }
                out.push(Tok::Lit(Lit::Str(text)));
            }
            c if c.is_ascii_digit() || c == '-' || c == '.' => {
                let start = i;
                let mut end = i;
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_ascii_digit() || matches!(d, '-' | '.' | 'e' | 'E' | '+') {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let n = s[start..end]
                    .parse::<f64>()
                    .map_err(|_| format!("bad number '{}' in filter", &s[start..end]))?;
                out.push(Tok::Lit(Lit::Num(n)));
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                let mut end = i;
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_alphanumeric() || d == '_' {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                out.push(match &s[start..end] {
                    "true" => Tok::Lit(Lit::Bool(true)),
                    "false" => Tok::Lit(Lit::Bool(false)),
                    id => Tok::Ident(id.to_owned()),
                });
            }
            other => return Err(format!("unexpected '{other}' in filter")),
        }
    }
    Ok(out)
}

/// An argument: a nested call, a bare identifier (an attribute), a literal
/// or a list of literals.
#[derive(Debug)]
enum Arg {
    Call(Filter),
    Ident(String),
    Lit(Lit),
    List(Vec<Lit>),
}

struct Parser {
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn next(&mut self) -> Option<Tok> {
        let t = self.toks.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<(), String> {
        match self.next() {
            Some(t) if t == want => Ok(()),
            _ => Err(format!("filter: expected {what}")),
        }
    }

    fn arg(&mut self) -> Result<Arg, String> {
        match self.next() {
            Some(Tok::Ident(id)) if self.peek() == Some(&Tok::Open) => {
                Ok(Arg::Call(self.call(id)?))
            }
            Some(Tok::Ident(id)) => Ok(Arg::Ident(id)),
            Some(Tok::Lit(l)) => Ok(Arg::Lit(l)),
            Some(Tok::ListOpen) => {
                let mut items = Vec::new();
                if self.peek() == Some(&Tok::ListClose) {
                    self.next();
                    return Ok(Arg::List(items));
                }
                loop {
                    match self.next() {
                        Some(Tok::Lit(l)) => items.push(l),
                        _ => return Err("filter: a list holds only literals".into()),
                    }
                    match self.next() {
                        Some(Tok::Comma) => {}
                        Some(Tok::ListClose) => return Ok(Arg::List(items)),
                        _ => return Err("filter: expected ',' or ']' in a list".into()),
                    }
                }
            }
            _ => Err("filter: expected an expression".into()),
        }
    }

    fn call(&mut self, op: String) -> Result<Filter, String> {
        self.depth += 1;
        if self.depth > 64 {
            return Err("filter: nested too deeply".into());
        }
        self.expect(Tok::Open, "'('")?;
        let mut args = Vec::new();
        if self.peek() == Some(&Tok::Close) {
            self.next();
        } else {
            loop {
                args.push(self.arg()?);
                match self.next() {
                    Some(Tok::Comma) => {}
                    Some(Tok::Close) => break,
                    _ => return Err(format!("filter: expected ',' or ')' in {op}(..)")),
                }
            }
        }
        self.depth -= 1;
        build(&op, args)
    }
}

fn build(op: &str, args: Vec<Arg>) -> Result<Filter, String> {
    let attr_lit = |args: Vec<Arg>| -> Result<(Attr, Arg), String> {
        let mut it = args.into_iter();
        match (it.next(), it.next(), it.next()) {
            (Some(Arg::Ident(a)), Some(v), None) => Ok((Attr::parse(&a)?, v)),
            _ => Err(format!(
                "filter: {op}(attribute, value) takes two arguments"
            )),
        }
    };
    let lit = |v: Arg| match v {
        Arg::Lit(l) => Ok(l),
        Arg::Ident(i) => Ok(Lit::Str(i)),
        _ => Err(format!("filter: {op}(..) compares with a literal")),
    };
    Ok(match op {
        "and" | "or" => {
            let subs = args
                .into_iter()
                .map(|a| match a {
                    Arg::Call(f) => Ok(f),
                    _ => Err(format!("filter: {op}(..) takes expressions")),
                })
                .collect::<Result<Vec<_>, _>>()?;
            if subs.is_empty() {
                return Err(format!("filter: {op}() needs at least one expression"));
            }
            if op == "and" {
                Filter::And(subs)
            } else {
                Filter::Or(subs)
            }
        }
        "not" => match <[Arg; 1]>::try_from(args) {
            Ok([Arg::Call(f)]) => Filter::Not(Box::new(f)),
            _ => return Err("filter: not(..) takes one expression".into()),
        },
        "eq" | "neq" | "gt" | "gte" | "lt" | "lte" => {
            let cmp = match op {
                "eq" => Op::Eq,
                "neq" => Op::Neq,
                "gt" => Op::Gt,
                "gte" => Op::Gte,
                "lt" => Op::Lt,
                _ => Op::Lte,
            };
            let (a, v) = attr_lit(args)?;
            Filter::Cmp(cmp, a, lit(v)?)
        }
        "has" => {
            let (a, v) = attr_lit(args)?;
            Filter::Has(a, lit(v)?)
        }
        "in" => match attr_lit(args)? {
            (a, Arg::List(items)) => Filter::In(a, items),
            _ => return Err("filter: in(attribute, [values]) takes a list".into()),
        },
        "search" => {
            let mut it = args.into_iter();
            match (it.next(), it.next(), it.next()) {
                (Some(Arg::Lit(Lit::Str(s))), None, None) => Filter::Search(None, s),
                (Some(Arg::Ident(a)), Some(Arg::Lit(Lit::Str(s))), None) => {
                    Filter::Search(Some(Attr::parse(&a)?), s)
                }
                _ => return Err("filter: search(\"text\") or search(attribute, \"text\")".into()),
            }
        }
        other => {
            return Err(format!(
                "filter operator '{other}' is not supported by this collector"
            ));
        }
    })
}

/// Parses a filter expression.
pub(crate) fn parse(s: &str) -> Result<Filter, String> {
    let mut p = Parser {
        toks: tokenize(s)?,
        pos: 0,
        depth: 0,
    };
    let f = match p.next() {
        Some(Tok::Ident(op)) => p.call(op)?,
        _ => return Err("filter: expected an operator such as eq(..)".into()),
    };
    if p.pos < p.toks.len() {
        return Err("filter: unexpected text after the expression".into());
    }
    Ok(f)
}

// ---------------------------------------------------------------- evaluation

fn lit_str(l: &Lit) -> String {
    match l {
        Lit::Str(s) => s.clone(),
        Lit::Num(n) => n.to_string(),
        Lit::Bool(b) => b.to_string(),
    }
}

/// Seconds from a number or `"1.5s"` / `"300ms"` / `"2m"`.
fn seconds(l: &Lit) -> Option<f64> {
    match l {
        Lit::Num(n) => Some(*n),
        Lit::Str(s) => {
            let s = s.trim();
            let (num, scale) = if let Some(n) = s.strip_suffix("ms") {
                (n, 0.001)
            } else if let Some(n) = s.strip_suffix('s') {
                (n, 1.0)
            } else if let Some(n) = s.strip_suffix('m') {
                (n, 60.0)
            } else {
                (s, 1.0)
            };
            num.trim().parse::<f64>().ok().map(|n| n * scale)
        }
        Lit::Bool(_) => None,
    }
}

fn ordered(op: Op, o: std::cmp::Ordering) -> bool {
    use std::cmp::Ordering::*;
    match op {
        Op::Eq => o == Equal,
        Op::Neq => o != Equal,
        Op::Gt => o == Greater,
        Op::Gte => o != Less,
        Op::Lt => o == Less,
        Op::Lte => o != Greater,
    }
}

fn metadata(run: &StoredRun) -> Option<&serde_json::Map<String, Value>> {
    run.extra.get("metadata").and_then(Value::as_object)
}

fn value_matches(v: &Value, want: &Lit) -> bool {
    match (v, want) {
        (Value::String(s), l) => *s == lit_str(l),
        (Value::Number(n), Lit::Num(w)) => n.as_f64() == Some(*w),
        (Value::Bool(b), Lit::Bool(w)) => b == w,
        (Value::Number(n), Lit::Str(s)) => s.trim().parse::<f64>().ok() == n.as_f64(),
        (Value::Bool(b), Lit::Str(s)) => s.trim().parse::<bool>().ok() == Some(*b),
        _ => false,
    }
}

fn time_of(t: Option<&str>) -> Option<i64> {
    t.and_then(crate::time::parse_rfc3339_micros)
}

fn cmp(run: &StoredRun, op: Op, attr: Attr, want: &Lit) -> bool {
    let text = |have: Option<String>| {
        let Some(have) = have else {
            return op == Op::Neq;
        };
        ordered(op, have.as_str().cmp(lit_str(want).as_str()))
    };
    match attr {
        Attr::Id => text(Some(run.id.to_string())),
        Attr::TraceId => text(Some(run.trace_id.to_string())),
        Attr::ParentRunId => text(run.parent_run_id.map(|p| p.to_string())),
        Attr::Name => text(Some(run.name.clone())),
        Attr::RunType => text(Some(run.run_type.clone())),
        Attr::Status => text(Some(run.status.clone())),
        Attr::Error => match want {
            Lit::Bool(b) => (run.error.is_some() == *b) == (op == Op::Eq),
            _ => text(run.error.clone()),
        },
        Attr::IsRoot => match want {
            Lit::Bool(b) => (run.parent_run_id.is_none() == *b) == (op == Op::Eq),
            _ => false,
        },
        Attr::Tags => {
            let has = run.tags.contains(&lit_str(want));
            if op == Op::Neq { !has } else { has }
        }
        Attr::StartTime | Attr::EndTime => {
            let have = if attr == Attr::StartTime {
                time_of(Some(&run.start_time))
            } else {
                time_of(run.end_time.as_deref())
            };
            let want = match want {
                Lit::Str(s) => crate::time::parse_rfc3339_micros(s),
                _ => None,
            };
            match (have, want) {
                (Some(h), Some(w)) => ordered(op, h.cmp(&w)),
                _ => false,
            }
        }
        Attr::Latency => {
            let have = time_of(run.end_time.as_deref())
                .zip(time_of(Some(&run.start_time)))
                .map(|(e, s)| (e - s) as f64 / 1e6);
            match (have, seconds(want)) {
                (Some(h), Some(w)) => h.partial_cmp(&w).is_some_and(|o| ordered(op, o)),
                _ => false,
            }
        }
        Attr::MetadataKey => {
            let has = metadata(run).is_some_and(|m| m.contains_key(&lit_str(want)));
            if op == Op::Neq { !has } else { has }
        }
        Attr::MetadataValue => {
            let has = metadata(run).is_some_and(|m| m.values().any(|v| value_matches(v, want)));
            if op == Op::Neq { !has } else { has }
        }
    }
}

/// `and(eq(metadata_key, k), eq(metadata_value, v))`: the value of key `k`,
/// as LangSmith pairs them.
fn metadata_pair(subs: &[Filter]) -> Option<(String, &Lit)> {
    let key = subs.iter().find_map(|f| match f {
        Filter::Cmp(Op::Eq, Attr::MetadataKey, k) => Some(lit_str(k)),
        _ => None,
    })?;
    let value = subs.iter().find_map(|f| match f {
        Filter::Cmp(Op::Eq, Attr::MetadataValue, v) => Some(v),
        _ => None,
    })?;
    Some((key, value))
}

fn search_text(run: &StoredRun, attr: Option<Attr>) -> String {
    match attr {
        Some(Attr::Name) => run.name.clone(),
        Some(Attr::Error) => run.error.clone().unwrap_or_default(),
        Some(Attr::Tags) => run.tags.join(" "),
        _ => format!(
            "{} {} {} {} {}",
            run.name,
            run.inputs,
            run.outputs,
            run.error.as_deref().unwrap_or(""),
            run.extra
        ),
    }
}

impl Filter {
    /// Whether `run` matches.
    pub(crate) fn matches(&self, run: &StoredRun) -> bool {
        match self {
            Filter::And(subs) => {
                if let Some((k, v)) = metadata_pair(subs)
                    && !metadata(run)
                        .and_then(|m| m.get(&k))
                        .is_some_and(|have| value_matches(have, v))
                {
                    return false;
                }
                subs.iter().all(|f| f.matches(run))
            }
            Filter::Or(subs) => subs.iter().any(|f| f.matches(run)),
            Filter::Not(f) => !f.matches(run),
            Filter::Cmp(op, attr, want) => cmp(run, *op, *attr, want),
            Filter::In(attr, items) => items.iter().any(|l| cmp(run, Op::Eq, *attr, l)),
            Filter::Has(attr, want) => match attr {
                Attr::Tags | Attr::MetadataKey | Attr::MetadataValue => {
                    cmp(run, Op::Eq, *attr, want)
                }
                _ => search_text(run, Some(*attr)).contains(&lit_str(want)),
            },
            Filter::Search(attr, text) => search_text(run, *attr)
                .to_lowercase()
                .contains(&text.to_lowercase()),
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use serde_json::json;
    use uuid::Uuid;

    fn run(name: &str, run_type: &str, tags: &[&str], metadata: Value, secs: f64) -> StoredRun {
        let end_micros = (secs * 1e6) as i64;
        StoredRun {
            id: Uuid::from_u128(1),
            name: name.into(),
            run_type: run_type.into(),
            start_time: "2026-11-21T10:00:00.000000+00:00".into(),
            end_time: Some(format!(
                "2026-11-21T10:00:{:02}.{:06}+00:00",
                end_micros / 1_000_000,
                end_micros % 1_000_000
            )),
            inputs: json!({"q": "why is the sky blue"}),
            outputs: json!({"a": "rayleigh"}),
            error: None,
            extra: json!({ "metadata": metadata }),
            events: Value::Null,
            serialized: Value::Null,
            tags: tags.iter().map(|t| t.to_string()).collect(),
            parent_run_id: None,
            trace_id: Uuid::from_u128(1),
            dotted_order: String::new(),
            session_id: Uuid::from_u128(9),
            session_name: "p".into(),
            reference_example_id: None,
            status: "success".into(),
            attachments: Vec::new(),
        }
    }

    #[test]
    fn expressions_select_the_runs_a_user_would_expect() {
        let llm = run(
            "chat",
            "llm",
            &["beta"],
            json!({"tenant": "acme", "k": 3}),
            2.5,
        );
        let tool = run("search", "tool", &[], json!({"tenant": "umbrella"}), 0.3);
        let cases = [
            (r#"eq(run_type, "llm")"#, true, false),
            ("eq(run_type, 'tool')", false, true),
            (r#"neq(name, "chat")"#, false, true),
            (r#"has(tags, "beta")"#, true, false),
            (r#"not(has(tags, "beta"))"#, false, true),
            (r#"gt(latency, "1s")"#, true, false),
            ("lte(latency, 0.3)", false, true),
            (r#"lt(latency, "500ms")"#, false, true),
            (
                r#"and(eq(metadata_key, "tenant"), eq(metadata_value, "acme"))"#,
                true,
                false,
            ),
            // Paired: the value of that key, not of any key.
            (
                r#"and(eq(metadata_key, "k"), eq(metadata_value, "acme"))"#,
                false,
                false,
            ),
            (
                r#"and(eq(metadata_key, "k"), eq(metadata_value, 3))"#,
                true,
                false,
            ),
            (r#"eq(metadata_key, "tenant")"#, true, true),
            (r#"in(name, ["chat", "other"])"#, true, false),
            (r#"or(eq(name, "search"), has(tags, "beta"))"#, true, true),
            (r#"search("RAYLEIGH")"#, true, true),
            (r#"search(name, "sea")"#, false, true),
            (r#"gte(start_time, "2026-11-21T09:59:59Z")"#, true, true),
            (r#"gt(end_time, "2026-11-21T10:00:01+00:00")"#, true, false),
            ("eq(is_root, true)", true, true),
            (r#"eq(status, "success")"#, true, true),
            ("eq(error, false)", true, true),
            (r#"and(eq(run_type, "llm"), gt(latency, 3))"#, false, false),
        ];
        for (expr, want_llm, want_tool) in cases {
            let f = parse(expr).unwrap_or_else(|e| panic!("{expr}: {e}"));
            assert_eq!(
                (f.matches(&llm), f.matches(&tool)),
                (want_llm, want_tool),
                "{expr}"
            );
        }
    }

    proptest::proptest! {
        /// Any text (here: made of the grammar's own pieces, where the
        /// bugs would be) parses or is refused; it never panics, and what
        /// parses can be evaluated.
        #[test]
        fn any_text_parses_or_is_refused(pieces in proptest::collection::vec(
            proptest::sample::select(vec![
                "and(", "or(", "not(", "eq(", "gt(", "has(", "in(", "search(", ")", ",", "[", "]",
                "name", "tags", "latency", "metadata_key", "'x'", "\"y\"", "\"", "'", "1.5",
                "-", "1e309", "true", " ", "é", "\\", "(",
            ]),
            0..40,
        )) {
            let text: String = pieces.concat();
            if let Ok(f) = parse(&text) {
                let r = run("n", "llm", &["x"], json!({"x": 1}), 1.0);
                let _ = f.matches(&r);
            }
        }
    }

    #[test]
    fn unsupported_or_malformed_expressions_are_errors_that_say_why() {
        for (expr, says) in [
            (r#"eq(feedback_key, "x")"#, "feedback_key"),
            (r#"like(name, "x")"#, "like"),
            (r#"eq(name "x")"#, "expected"),
            (r#"eq(name, "x"#, "unterminated"),
            (r#"eq(name, "x")) "#, "after the expression"),
            ("and()", "at least one"),
            ("not(eq(name, 'a'), eq(name, 'b'))", "one expression"),
            ("in(name, 'x')", "list"),
            ("eq(name, 'x') $", "unexpected"),
            ("", "expected an operator"),
        ] {
            let err = parse(expr).unwrap_err();
            assert!(err.contains(says), "{expr}: {err}");
        }
        let deep = format!("{}eq(name, 'x'){}", "not(".repeat(100), ")".repeat(100));
        assert!(parse(&deep).unwrap_err().contains("deeply"));
    }
}
