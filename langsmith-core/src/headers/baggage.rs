//! The `baggage` header: encoding our entries and reading W3C baggage.

use super::address::AgentAddress;
use super::error::HeaderError;
use super::json;
use super::percent::{self, PercentWriter};
use super::{Baggage, ReplicaHint};
use serde_json::{Map, Value};

/// W3C: at most 180 list members.
pub(crate) const MAX_ENTRIES: usize = 180;

pub(crate) const METADATA: &str = "langsmith-metadata";
pub(crate) const TAGS: &str = "langsmith-tags";
pub(crate) const PROJECT: &str = "langsmith-project";
pub(crate) const SAMPLED: &str = "langsmith-sampled";
pub(crate) const REPLICAS: &str = "langsmith-replicas";
pub(crate) const ADDRESS: &str = "langsmith-address";

/// Fields of a replica's `updates` accepted from a header: the Python SDK's
/// default allow-list (`LANGSMITH_BAGGAGE_ALLOWED_UPDATE_FIELDS` unset).
const ALLOWED_REPLICA_UPDATES: [&str; 3] = ["reroot", "metadata", "tags"];

/// Replica fields that name an endpoint or carry a credential: never taken
/// from a header.
const REPLICA_ENDPOINT_FIELDS: [&str; 7] = [
    "api_url",
    "api_key",
    "auth",
    "service_key",
    "tenant_id",
    "apiUrl",
    "apiKey",
];

/// Optional whitespace around list members, `=` and `;` (W3C baggage).
const OWS: [char; 2] = [' ', '\t'];

impl Baggage {
    /// The `baggage` header value for these entries, or `None` when there is
    /// nothing to send.
    ///
    /// Entries come in the order `langsmith-metadata`, `langsmith-tags`,
    /// `langsmith-project`, `langsmith-replicas`, `langsmith-sampled=0` (only
    /// when `sampled == Some(false)`), then the foreign entries verbatim.
    /// Empty ones are left out. The first three are byte-identical to the
    /// Python SDK's `RunTree.to_headers()`. A `langsmith-address` entry in
    /// `foreign` is left out when a project is sent (the two are
    /// alternatives; a receiver refuses a header with both). Foreign entries
    /// that are not valid W3C list members in printable ASCII are left out.
    ///
    /// ```
    /// use langsmith_core::headers::Baggage;
    /// let mut b = Baggage::default();
    /// assert_eq!(b.encode(), None);
    /// b.metadata.insert("k".into(), "v".into());
    /// b.tags = vec!["a".into(), "t 1".into()];
    /// b.project = Some("my proj".into());
    /// b.foreign.push("vendor=1".into());
    /// assert_eq!(
    ///     b.encode().as_deref(),
    ///     Some("langsmith-metadata=%7B%22k%22%3A%22v%22%7D,langsmith-tags=a%2Ct%201,langsmith-project=my%20proj,vendor=1")
    /// );
    /// ```
    pub fn encode(&self) -> Option<String> {
        let mut out = String::with_capacity(self.size_hint());
        self.encode_into(&mut out);
        (!out.is_empty()).then_some(out)
    }

    /// Appends the entries of [`Baggage::encode`] to `out` (with a `,` first
    /// when `out` is not empty).
    ///
    /// ```
    /// use langsmith_core::headers::Baggage;
    /// let b = Baggage { project: Some("p".into()), ..Baggage::default() };
    /// let mut out = String::from("other=1");
    /// b.encode_into(&mut out);
    /// assert_eq!(out, "other=1,langsmith-project=p");
    /// ```
    pub fn encode_into(&self, out: &mut String) {
        if !self.metadata.is_empty() {
            let mark = start_entry(out, METADATA);
            if json::to_writer(PercentWriter(out), &self.metadata).is_err() {
                out.truncate(mark);
            }
        }
        if !self.tags.is_empty() {
            // As Python: ",".join(tags), then percent-encoded (so a comma in
            // a tag is indistinguishable from the separator).
            start_entry(out, TAGS);
            for (i, tag) in self.tags.iter().enumerate() {
                if i > 0 {
                    out.push_str("%2C");
                }
                percent::encode_into(tag.as_bytes(), out);
            }
        }
        let has_project = match self.project.as_deref() {
            Some(project) if !project.is_empty() => {
                start_entry(out, PROJECT);
                percent::encode_into(project.as_bytes(), out);
                true
            }
            _ => false,
        };
        self.encode_replicas(out);
        if self.sampled == Some(false) {
            start_entry(out, SAMPLED);
            out.push('0');
        }
        for entry in &self.foreign {
            let key = member_key(entry);
            // Never a project and an address together: a receiver would
            // refuse to join the trace. Our project is where our run went.
            let dropped_address = has_project && key == ADDRESS;
            // Entries set by code are checked like incoming ones, so that the
            // header value stays valid (no CR/LF, no non-ASCII, no `,`).
            if valid_foreign(key, entry) && !entry.contains(',') && !dropped_address {
                if !out.is_empty() {
                    out.push(',');
                }
                out.push_str(entry);
            }
        }
    }

    /// The agent address named by a `langsmith-address` entry in
    /// [`Baggage::foreign`], if any: the Python SDK's alternative to a
    /// project as the destination of a trace (a name, not an endpoint).
    ///
    /// ```
    /// use langsmith_core::headers::{parse, AgentEnvironment};
    /// let b = parse([("baggage", "langsmith-address=lrn%3Aagents/bot/environments/production")]).context.baggage;
    /// let a = b.address().unwrap();
    /// assert_eq!((a.id(), a.environment()), ("bot", AgentEnvironment::Production));
    /// ```
    pub fn address(&self) -> Option<AgentAddress> {
        self.foreign.iter().rev().find_map(|entry| {
            let (key, value) = entry.split_once('=')?;
            if key.trim_end_matches(OWS) != ADDRESS {
                return None;
            }
            let value = value.split_once(';').map_or(value, |(v, _)| v);
            AgentAddress::from_lrn(&percent::decode(value.trim_matches(OWS)).ok()?)
        })
    }

    /// Sets (or with `None` removes) the `langsmith-address` entry kept in
    /// [`Baggage::foreign`].
    ///
    /// ```
    /// use langsmith_core::headers::{AgentAddress, AgentEnvironment, Baggage};
    /// let mut b = Baggage::default();
    /// b.set_address(AgentAddress::new("bot", AgentEnvironment::Staging).as_ref());
    /// assert_eq!(b.encode().as_deref(), Some("langsmith-address=lrn%3Aagents/bot/environments/staging"));
    /// b.set_address(None);
    /// assert_eq!(b.encode(), None);
    /// ```
    pub fn set_address(&mut self, address: Option<&AgentAddress>) {
        self.foreign.retain(|entry| member_key(entry) != ADDRESS);
        if let Some(address) = address {
            let mut entry = String::with_capacity(64);
            entry.push_str(ADDRESS);
            entry.push('=');
            percent::encode_into(address.to_lrn().as_bytes(), &mut entry);
            self.foreign.push(entry);
        }
    }

    /// `langsmith-replicas` as the legacy `[[project, updates], ...]` pairs,
    /// the one form both the Python and the JS SDK read. Replicas without a
    /// project cannot be written in that form and are left out.
    fn encode_replicas(&self, out: &mut String) {
        let pairs: Vec<(&str, Option<&Map<String, Value>>)> = self
            .replicas
            .iter()
            .filter_map(|r| match r.project_name.as_deref() {
                Some(p) if !p.is_empty() => Some((p, r.updates.as_ref())),
                _ => None,
            })
            .collect();
        if pairs.is_empty() {
            return;
        }
        let mark = start_entry(out, REPLICAS);
        if json::to_writer(PercentWriter(out), &pairs).is_err() {
            out.truncate(mark);
        }
    }

    fn size_hint(&self) -> usize {
        let tags: usize = self.tags.iter().map(|t| t.len() + 3).sum();
        let foreign: usize = self.foreign.iter().map(|f| f.len() + 1).sum();
        let project = self.project.as_ref().map_or(0, |p| p.len() + 20);
        let metadata = if self.metadata.is_empty() {
            0
        } else {
            24 + 48 * self.metadata.len()
        };
        16 + metadata + tags + project + foreign
    }
}

/// Writes `,key=` (or `key=` at the start); returns the length before it.
fn start_entry(out: &mut String, key: &str) -> usize {
    let mark = out.len();
    if !out.is_empty() {
        out.push(',');
    }
    out.push_str(key);
    out.push('=');
    mark
}

/// RFC 7230 `tchar`: what a W3C baggage key is made of.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A foreign entry is re-sent verbatim, so it must be a sane header value:
/// a token key and printable ASCII throughout.
fn valid_foreign(key: &str, entry: &str) -> bool {
    !key.is_empty()
        && entry.contains('=')
        && key.bytes().all(is_tchar)
        && entry
            .bytes()
            .all(|b| b == b'\t' || (0x20..0x7f).contains(&b))
}

/// Splits `value` into trimmed, non-empty list members.
pub(crate) fn members(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(|m| m.trim_matches(OWS))
        .filter(|m| !m.is_empty())
}

/// The key of a list member (the whole member when it has no `=`).
pub(crate) fn member_key(member: &str) -> &str {
    member
        .split_once('=')
        .map_or(member, |(k, _)| k)
        .trim_end_matches(OWS)
}

/// Reads W3C baggage (all `baggage` headers joined with `,`). Bad entries
/// are skipped with an error each; at most [`MAX_ENTRIES`] are read.
pub(crate) fn parse_baggage(value: &str, errors: &mut Vec<HeaderError>) -> Baggage {
    let mut baggage = Baggage::default();
    let mut count = 0usize;
    let mut dropped = 0usize;
    for entry in members(value) {
        count += 1;
        if count > MAX_ENTRIES {
            dropped += 1;
            continue;
        }
        let Some((key, rest)) = entry.split_once('=') else {
            errors.push(HeaderError::bad_entry(entry, "missing `=`"));
            continue;
        };
        let key = key.trim_end_matches(OWS);
        if key.is_empty() {
            errors.push(HeaderError::bad_entry(entry, "empty key"));
            continue;
        }
        // Properties (`;prop`) are ignored for our entries.
        let raw = rest
            .split_once(';')
            .map_or(rest, |(v, _)| v)
            .trim_matches(OWS);
        let result = match key {
            METADATA => parse_metadata(raw).map(|m| baggage.metadata = m),
            TAGS => percent::decode(raw).map(|tags| {
                baggage.tags = tags
                    .split(',')
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect();
            }),
            PROJECT => percent::decode(raw).map(|p| {
                baggage.project = (!p.is_empty()).then(|| p.into_owned());
            }),
            SAMPLED => percent::decode(raw).and_then(|v| {
                baggage.sampled = Some(match &*v {
                    "0" => false,
                    "1" => true,
                    _ => return Err("expected 0 or 1"),
                });
                Ok(())
            }),
            ADDRESS => percent::decode(raw).and_then(|lrn| {
                let a = AgentAddress::from_lrn(&lrn).ok_or("not an agent address")?;
                baggage.set_address(Some(&a));
                Ok(())
            }),
            REPLICAS => parse_replicas(raw, errors).map(|r| baggage.replicas = r),
            _ if valid_foreign(key, entry) => {
                baggage.foreign.push(entry.to_owned());
                Ok(())
            }
            _ => Err("not a valid W3C baggage entry"),
        };
        if let Err(reason) = result {
            errors.push(HeaderError::bad_entry(key, reason));
        }
    }
    if dropped > 0 {
        errors.push(HeaderError::TooManyEntries { dropped });
    }
    baggage
}

fn parse_metadata(raw: &str) -> Result<Map<String, Value>, &'static str> {
    let text = percent::decode(raw)?;
    match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(_) => Err("metadata is not a JSON object"),
        Err(_) => Err("metadata is not valid JSON"),
    }
}

/// `langsmith-replicas`: a JSON list of `[project, updates]` pairs and/or
/// objects `{"project_name": ..., "updates": ...}` (the Python SDK's two
/// forms; `projectName` from the JS SDK too). Only the project and the
/// allow-listed updates are kept.
fn parse_replicas(
    raw: &str,
    errors: &mut Vec<HeaderError>,
) -> Result<Vec<ReplicaHint>, &'static str> {
    let text = percent::decode(raw)?;
    let Ok(Value::Array(items)) = serde_json::from_str::<Value>(&text) else {
        return Err("replicas is not a JSON list");
    };
    let mut replicas = Vec::with_capacity(items.len());
    for item in items {
        let (project, updates) = match item {
            Value::Array(mut pair) if pair.len() == 2 => {
                let updates = pair.pop().unwrap_or(Value::Null);
                let project = pair.pop().unwrap_or(Value::Null);
                (project, updates)
            }
            Value::Object(mut obj) => {
                for field in REPLICA_ENDPOINT_FIELDS {
                    if obj.get(field).is_some_and(|v| !v.is_null()) {
                        errors.push(HeaderError::ReplicaEndpointIgnored { field });
                    }
                }
                let project = obj
                    .remove("project_name")
                    .filter(|v| !v.is_null())
                    .or_else(|| obj.remove("projectName"))
                    .unwrap_or(Value::Null);
                (project, obj.remove("updates").unwrap_or(Value::Null))
            }
            _ => {
                errors.push(HeaderError::bad_entry(REPLICAS, "unknown replica format"));
                continue;
            }
        };
        let project_name = match project {
            Value::String(p) if !p.is_empty() => p,
            _ => {
                errors.push(HeaderError::bad_entry(
                    REPLICAS,
                    "replica without a project name",
                ));
                continue;
            }
        };
        let updates = match updates {
            Value::Null => None,
            Value::Object(map) => Some(
                map.into_iter()
                    .filter(|(k, _)| {
                        let ok = ALLOWED_REPLICA_UPDATES.contains(&k.as_str());
                        if !ok {
                            errors.push(HeaderError::ReplicaUpdateIgnored {
                                field: super::error::truncate(k),
                            });
                        }
                        ok
                    })
                    .collect(),
            ),
            _ => {
                errors.push(HeaderError::bad_entry(
                    REPLICAS,
                    "replica updates is not an object",
                ));
                None
            }
        };
        replicas.push(ReplicaHint {
            project_name: Some(project_name),
            updates,
        });
    }
    Ok(replicas)
}
