//! Header codec for distributed tracing: `langsmith-trace` and `baggage`.
//!
//! Wire format (byte-identical to the official Python SDK's
//! `RunTree.to_headers()` / readable from `RunTree.from_headers()`):
//!
//! - `langsmith-trace: <dotted order of the calling run>`
//! - `baggage: langsmith-metadata=<%JSON>,langsmith-tags=<%tags joined by ,>,langsmith-project=<%name>`
//!
//! where `%` is `urllib.parse.quote(s, safe="/")` and the JSON is compact,
//! UTF-8, key order kept. Incoming values may use any valid percent-encoding
//! (the JS SDK uses `encodeURIComponent`). See [`parse`], [`emit`] and
//! [`merge_baggage`].
//!
//! ```
//! use langsmith_core::headers::{emit, parse, Baggage};
//! use langsmith_core::{DottedOrder, Timestamp, uuid7};
//! let run = DottedOrder::root(Timestamp::now(), uuid7());
//! let baggage = Baggage { project: Some("proj".into()), tags: vec!["a".into()], ..Baggage::default() };
//! let out = emit(Some(&run), &baggage);
//! let parsed = parse(out.iter());
//! assert!(parsed.errors.is_empty());
//! assert_eq!(parsed.context.parent, Some(run));
//! assert_eq!(parsed.context.baggage, baggage);
//! ```

mod address;
mod baggage;
mod error;
mod json;
mod percent;

pub use address::{AgentAddress, AgentEnvironment};
pub use error::HeaderError;

use crate::DottedOrder;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// Name of the header that carries the caller's `dotted_order`.
///
/// ```
/// assert_eq!(langsmith_core::headers::TRACE_HEADER, "langsmith-trace");
/// ```
pub const TRACE_HEADER: &str = "langsmith-trace";
/// Name of the W3C baggage header.
///
/// ```
/// assert_eq!(langsmith_core::headers::BAGGAGE_HEADER, "baggage");
/// ```
pub const BAGGAGE_HEADER: &str = "baggage";

/// Longest `langsmith-trace` value accepted.
///
/// ```
/// use langsmith_core::headers::{parse, HeaderError, MAX_TRACE_LEN};
/// let long = "x".repeat(MAX_TRACE_LEN + 1);
/// assert!(matches!(parse([("langsmith-trace", long)]).errors[..], [HeaderError::TooLarge { .. }]));
/// ```
pub const MAX_TRACE_LEN: usize = 8192;
/// Longest total `baggage` accepted (all `baggage` headers together), per W3C.
///
/// ```
/// use langsmith_core::headers::{parse, MAX_BAGGAGE_LEN};
/// let big = format!("langsmith-project=p,pad={}", "x".repeat(MAX_BAGGAGE_LEN));
/// assert_eq!(parse([("baggage", big)]).context.baggage.project, None);
/// ```
pub const MAX_BAGGAGE_LEN: usize = 8192;
/// Most baggage entries read, per W3C; the rest are dropped.
///
/// ```
/// use langsmith_core::headers::{parse, MAX_BAGGAGE_ENTRIES};
/// let many: Vec<String> = (0..200).map(|i| format!("k{i}=v")).collect();
/// let p = parse([("baggage", many.join(","))]);
/// assert_eq!(p.context.baggage.foreign.len(), MAX_BAGGAGE_ENTRIES);
/// ```
pub const MAX_BAGGAGE_ENTRIES: usize = baggage::MAX_ENTRIES;

/// What LangSmith puts into W3C baggage, plus the entries of other systems.
///
/// ```
/// use langsmith_core::headers::Baggage;
/// let b = Baggage { project: Some("p".into()), sampled: Some(false), ..Baggage::default() };
/// assert_eq!(b.encode().as_deref(), Some("langsmith-project=p,langsmith-sampled=0"));
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Baggage {
    /// `langsmith-metadata`: metadata every downstream run inherits.
    pub metadata: Map<String, Value>,
    /// `langsmith-tags`: tags every downstream run inherits, in header order.
    /// Empty tags are dropped when reading; repeated ones are kept here (as
    /// sent) and dropped when a run inherits them (the Python SDK
    /// de-duplicates and sorts them when it merges them into its run). Tags are sent
    /// comma-joined, so a tag containing a comma comes back as two tags —
    /// in the Python SDK too.
    pub tags: Vec<String>,
    /// `langsmith-project`: the project downstream runs go to.
    pub project: Option<String>,
    /// `langsmith-sampled`: `Some(false)` when the trace was not sampled.
    pub sampled: Option<bool>,
    /// `langsmith-replicas`: extra projects each run is also written to.
    pub replicas: Vec<ReplicaHint>,
    /// Entries of other systems, kept verbatim and re-emitted downstream.
    ///
    /// A valid `langsmith-address` entry (the Python SDK's agent address, a
    /// destination used instead of a project) is kept here too, normalised;
    /// see [`Baggage::address`].
    pub foreign: Vec<String>,
}

/// A replica named in incoming baggage: only a project name and field
/// updates are honoured; endpoints and credentials are never taken from a header.
///
/// ```
/// use langsmith_core::headers::parse;
/// // baggage: langsmith-replicas=[["rp",{"tags":["x"]}]], percent-encoded
/// let p = parse([("baggage", "langsmith-replicas=%5B%5B%22rp%22%2C%7B%22tags%22%3A%5B%22x%22%5D%7D%5D%5D")]);
/// let r = &p.context.baggage.replicas[0];
/// assert_eq!(r.project_name.as_deref(), Some("rp"));
/// assert_eq!(r.updates.as_ref().unwrap()["tags"], serde_json::json!(["x"]));
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaHint {
    /// The project the replica writes to.
    pub project_name: Option<String>,
    /// Fields to override on the replicated run. From a header only
    /// `reroot`, `metadata` and `tags` are kept (the Python SDK's allow-list).
    pub updates: Option<Map<String, Value>>,
}

/// The trace context carried by incoming headers.
///
/// ```
/// use langsmith_core::headers::parse;
/// let ctx = parse([("langsmith-trace", "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001")]).context;
/// assert_eq!(ctx.parent.unwrap().run_id().to_string(), "0193d5a2-0000-7000-8000-000000000001");
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IncomingContext {
    /// The caller's dotted order: the new run becomes its child.
    pub parent: Option<DottedOrder>,
    /// The decoded baggage.
    pub baggage: Baggage,
}

/// Result of parsing: the context plus the problems that were skipped.
///
/// ```
/// use langsmith_core::headers::parse;
/// let p = parse([("langsmith-trace", "garbage")]);
/// assert!(p.context.parent.is_none());
/// assert_eq!(p.errors.len(), 1);
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    /// What could be used.
    pub context: IncomingContext,
    /// What was skipped, and why.
    pub errors: Vec<HeaderError>,
}

/// Parse from any header pairs (name, value bytes). Case-insensitive names;
/// several `baggage` headers merged in order; unknown headers ignored.
///
/// Never fails and never panics: each problem is skipped and reported in
/// [`Parsed::errors`], and whatever is still good is used:
///
/// - `langsmith-trace` over 8192 bytes, not UTF-8 or not a valid dotted
///   order: no parent. Several different ones: the first is used.
/// - `baggage` over 8192 bytes in total: all baggage ignored (the trace
///   header is still used). Over 180 entries: the first 180 are used.
/// - A bad entry (no `=`, bad percent-encoding, not UTF-8, metadata not a
///   JSON object, `langsmith-sampled` not `0`/`1`, ...) is skipped alone.
/// - W3C syntax: whitespace around entries, `=` and `;` is allowed;
///   properties (`;k=v`) are ignored on our entries and kept on foreign
///   ones, which are kept verbatim in [`Baggage::foreign`]. `+` is a plain `+`.
/// - `langsmith-replicas`: only project names and allow-listed updates are
///   kept; `api_url`/`api_key`/`auth` are dropped with an error.
/// - A project and an agent address together: like the Python SDK, the
///   parent is not joined ([`HeaderError::ProjectAndAddress`]).
///
/// ```
/// use langsmith_core::headers::parse;
/// let p = parse([
///     ("Langsmith-Trace", &b"20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001"[..]),
///     ("BAGGAGE", b"langsmith-tags=a%2Cb, vendor=x;p=1"),
///     ("baggage", b"langsmith-project=proj2"),
///     ("x-other", b"ignored"),
/// ]);
/// assert!(p.errors.is_empty());
/// let b = &p.context.baggage;
/// assert_eq!(b.tags, ["a", "b"]);
/// assert_eq!(b.project.as_deref(), Some("proj2"));
/// assert_eq!(b.foreign, ["vendor=x;p=1"]);
/// ```
pub fn parse<I, K, V>(headers: I) -> Parsed
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<[u8]>,
{
    let mut errors = Vec::new();
    let mut trace: Option<String> = None;
    let mut conflicting = false;
    // Baggage entries are read header by header; their errors are kept
    // apart so that a baggage over the size limit reports only that.
    let mut bag = baggage::BaggageReader::default();
    let mut bag_errors = Vec::new();
    let mut bag_len = 0usize;
    for (name, value) in headers {
        let (name, value) = (name.as_ref(), value.as_ref());
        if name.eq_ignore_ascii_case(TRACE_HEADER) {
            if value.len() > MAX_TRACE_LEN {
                errors.push(HeaderError::TooLarge {
                    header: TRACE_HEADER,
                    len: value.len(),
                });
                continue;
            }
            let Ok(value) = std::str::from_utf8(value) else {
                errors.push(HeaderError::NotUtf8 {
                    header: TRACE_HEADER,
                });
                continue;
            };
            let value = value.trim();
            match &trace {
                _ if value.is_empty() => {}
                None => trace = Some(value.to_owned()),
                Some(first) if first != value && !conflicting => {
                    conflicting = true;
                    errors.push(HeaderError::ConflictingTrace);
                }
                Some(_) => {}
            }
        } else if name.eq_ignore_ascii_case(BAGGAGE_HEADER) {
            let Ok(value) = std::str::from_utf8(value) else {
                errors.push(HeaderError::NotUtf8 {
                    header: BAGGAGE_HEADER,
                });
                continue;
            };
            let value = value.trim_matches([' ', '\t']);
            if value.is_empty() {
                continue;
            }
            if bag_len > 0 {
                bag_len += 1;
            }
            bag_len += value.len();
            // Past the limit only the length is counted.
            if bag_len <= MAX_BAGGAGE_LEN {
                bag.read(value, &mut bag_errors);
            }
        }
    }

    let mut parent = trace.and_then(|t| {
        DottedOrder::parse_owned(t)
            .map_err(|e| errors.push(HeaderError::BadTrace(e)))
            .ok()
    });
    let mut baggage = if bag_len > MAX_BAGGAGE_LEN {
        errors.push(HeaderError::TooLarge {
            header: BAGGAGE_HEADER,
            len: bag_len,
        });
        Baggage::default()
    } else {
        let baggage = bag.finish(&mut bag_errors);
        errors.append(&mut bag_errors);
        baggage
    };
    if baggage.project.is_some() && baggage.address().is_some() {
        // As `RunTree.from_headers`: joining the upstream trace in some other
        // destination would misfile it, so the parent is not joined.
        errors.push(HeaderError::ProjectAndAddress);
        parent = None;
        baggage.set_address(None);
        baggage = Baggage {
            sampled: baggage.sampled,
            foreign: baggage.foreign,
            ..Baggage::default()
        };
    }
    Parsed {
        context: IncomingContext { parent, baggage },
        errors,
    }
}

/// The header values to send for a run: `trace` is the run's dotted order
/// (None when unsampled), `baggage` None when empty.
///
/// ```
/// use langsmith_core::headers::{Outgoing, BAGGAGE_HEADER};
/// let out = Outgoing { trace: None, baggage: Some("langsmith-sampled=0".into()) };
/// assert_eq!(out.iter().collect::<Vec<_>>(), [(BAGGAGE_HEADER, "langsmith-sampled=0")]);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outgoing {
    /// The `langsmith-trace` value.
    pub trace: Option<String>,
    /// The `baggage` value.
    pub baggage: Option<String>,
}

impl Outgoing {
    /// The headers to set: `("langsmith-trace", v)` then `("baggage", v)`,
    /// for the present ones.
    ///
    /// ```
    /// use langsmith_core::headers::Outgoing;
    /// let out = Outgoing { trace: Some("t".into()), baggage: Some("b".into()) };
    /// let v: Vec<_> = out.iter().collect();
    /// assert_eq!(v, [("langsmith-trace", "t"), ("baggage", "b")]);
    /// assert_eq!(Outgoing::default().iter().count(), 0);
    /// ```
    pub fn iter(&self) -> impl Iterator<Item = (&'static str, &str)> {
        let trace = self.trace.as_deref().map(|v| (TRACE_HEADER, v));
        let baggage = self.baggage.as_deref().map(|v| (BAGGAGE_HEADER, v));
        trace.into_iter().chain(baggage)
    }
}

/// The headers to send on an outgoing call made by the run with
/// `dotted_order` (`None` when the trace is not sampled) carrying `baggage`
/// (see [`Baggage::encode`] for the entry order).
///
/// Byte-identical to the Python SDK's `RunTree.to_headers()` for the same
/// metadata, tags and project.
///
/// ```
/// use langsmith_core::headers::{emit, Baggage};
/// use langsmith_core::DottedOrder;
/// let run = DottedOrder::parse("20260102T030405678901Z0193d5a2-0000-7000-8000-000000000002").unwrap();
/// let mut b = Baggage { tags: vec!["a".into()], project: Some("proj".into()), ..Baggage::default() };
/// b.metadata.insert("k".into(), "v".into());
/// let out = emit(Some(&run), &b);
/// assert_eq!(out.trace.as_deref(), Some(run.as_str()));
/// assert_eq!(
///     out.baggage.as_deref(),
///     Some("langsmith-metadata=%7B%22k%22%3A%22v%22%7D,langsmith-tags=a,langsmith-project=proj")
/// );
/// // Unsampled: no trace header, and downstream is told not to sample.
/// let unsampled = Baggage { sampled: Some(false), ..Baggage::default() };
/// assert_eq!(emit(None, &unsampled).baggage.as_deref(), Some("langsmith-sampled=0"));
/// ```
pub fn emit(dotted_order: Option<&DottedOrder>, baggage: &Baggage) -> Outgoing {
    Outgoing {
        trace: dotted_order.map(|d| d.as_str().to_owned()),
        baggage: baggage.encode(),
    }
}

const LANGSMITH_PREFIX: &str = "langsmith-";

/// Whether a key names where runs are filed; `project` and `address` are
/// one choice, so ours replaces both of the caller's.
fn is_destination(key: &str) -> bool {
    key == baggage::PROJECT || key == baggage::ADDRESS
}

/// Merge our baggage value with a baggage value the caller already set on an
/// outgoing request (caller's foreign entries kept, our langsmith-* entries
/// win, no duplicate keys).
///
/// Our entries come first, then the caller's. A foreign key present on both
/// sides keeps the caller's entry (they set it explicitly on this request);
/// a `langsmith-*` key present on both sides keeps ours. Empty members and
/// surrounding whitespace are dropped.
///
/// ```
/// use langsmith_core::headers::merge_baggage;
/// let merged = merge_baggage(
///     "vendor=caller, langsmith-project=stale, other=1",
///     "langsmith-project=ours,vendor=propagated",
/// );
/// assert_eq!(merged, "langsmith-project=ours,vendor=caller,other=1");
/// assert_eq!(merge_baggage("", "langsmith-project=p"), "langsmith-project=p");
/// ```
pub fn merge_baggage(existing: &str, ours: &str) -> String {
    let existing_keys: HashSet<&str> = baggage::members(existing)
        .map(baggage::member_key)
        .collect();
    let ours_keys: HashSet<&str> = baggage::members(ours).map(baggage::member_key).collect();
    let ours_has_destination = ours_keys.iter().any(|k| is_destination(k));
    let mut seen: HashSet<&str> = HashSet::new();
    let mut out = String::with_capacity(existing.len() + ours.len() + 1);
    let mut push = |member: &str| {
        if !out.is_empty() {
            out.push(',');
        }
        out.push_str(member);
    };
    for member in baggage::members(ours) {
        let key = baggage::member_key(member);
        if !key.starts_with(LANGSMITH_PREFIX) && existing_keys.contains(key) {
            continue; // the caller's own entry wins
        }
        if seen.insert(key) {
            push(member);
        }
    }
    for member in baggage::members(existing) {
        let key = baggage::member_key(member);
        if key.starts_with(LANGSMITH_PREFIX)
            && (ours_keys.contains(key) || (ours_has_destination && is_destination(key)))
        {
            continue; // ours wins
        }
        if seen.insert(key) {
            push(member);
        }
    }
    out
}
