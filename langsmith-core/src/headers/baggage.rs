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
            self.push_address_lrn(&address.to_lrn());
        }
    }

    /// Adds a `langsmith-address` entry for `lrn`, an agent address already
    /// checked (a run context keeps its address as the LRN).
    pub(crate) fn push_address_lrn(&mut self, lrn: &str) {
        let mut entry = String::with_capacity(ADDRESS.len() + 1 + lrn.len() + 8);
        entry.push_str(ADDRESS);
        entry.push('=');
        percent::encode_into(lrn.as_bytes(), &mut entry);
        self.foreign.push(entry);
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

/// Splits `value` into trimmed, non-empty list members (the scanner that
/// reads incoming baggage).
pub(crate) fn members(value: &str) -> impl Iterator<Item = &str> {
    Members::new(value).map(|m| m.entry)
}

/// The key of a list member (the whole member when it has no `=`).
pub(crate) fn member_key(member: &str) -> &str {
    member
        .split_once('=')
        .map_or(member, |(k, _)| k)
        .trim_end_matches(OWS)
}

/// One list member of a baggage value, cut in a single pass.
#[derive(Debug, PartialEq)]
struct Member<'a> {
    /// The member, trimmed.
    entry: &'a str,
    /// Its key, trimmed; `None` when it has no `=`.
    key: Option<&'a str>,
    /// Its value before any `;` property, trimmed (empty without `=`).
    raw: &'a str,
}

/// The first `needle` (ASCII) in `s[from..]`, as an index into `s`
/// (SIMD `memchr`: short and 4 KB values alike).
fn find_ascii(s: &str, from: usize, needle: u8) -> Option<usize> {
    memchr::memchr(needle, s.as_bytes().get(from..)?).map(|n| from + n)
}

/// The non-empty members of a baggage value, with the first `=` and the
/// first `;` after it (trimmed, as `split`/`split_once`/`trim` would give).
struct Members<'a> {
    value: &'a str,
    pos: usize,
}

impl<'a> Members<'a> {
    fn new(value: &'a str) -> Self {
        Members { value, pos: 0 }
    }
}

fn is_ows(b: u8) -> bool {
    b == b' ' || b == b'\t'
}

/// `s[start..end]` without surrounding whitespace (the cut points are ASCII,
/// so they are character boundaries; `""` if they were not).
fn trimmed(s: &str, mut start: usize, mut end: usize) -> &str {
    let b = s.as_bytes();
    while start < end && is_ows(b[start]) {
        start += 1;
    }
    while end > start && is_ows(b[end - 1]) {
        end -= 1;
    }
    s.get(start..end).unwrap_or_default()
}

impl<'a> Iterator for Members<'a> {
    type Item = Member<'a>;

    #[inline]
    fn next(&mut self) -> Option<Member<'a>> {
        let value = self.value;
        let b = value.as_bytes();
        while self.pos <= b.len() {
            let start = self.pos;
            // Each byte is looked at once: up to the first `=` or `,`, then
            // (after `=`) up to the first `;` or `,`, then to the `,`.
            let after = |at: usize| b.get(at..).unwrap_or_default();
            let (eq, semi, end) = match memchr::memchr2(b'=', b',', after(start)) {
                Some(n) if b.get(start + n) == Some(&b'=') => {
                    let eq = start + n;
                    match memchr::memchr2(b';', b',', after(eq + 1)) {
                        Some(m) if b.get(eq + 1 + m) == Some(&b';') => {
                            let semi = eq + 1 + m;
                            let end = find_ascii(value, semi + 1, b',').unwrap_or(b.len());
                            (Some(eq), semi, end)
                        }
                        Some(m) => (Some(eq), eq + 1 + m, eq + 1 + m),
                        None => (Some(eq), b.len(), b.len()),
                    }
                }
                Some(n) => (None, start + n, start + n),
                None => (None, b.len(), b.len()),
            };
            self.pos = end + 1;
            let entry = trimmed(value, start, end);
            if entry.is_empty() {
                continue;
            }
            let (key, raw) = match eq {
                Some(eq) => (
                    Some(trimmed(value, start, eq)),
                    trimmed(value, eq + 1, semi),
                ),
                None => (None, ""),
            };
            return Some(Member { entry, key, raw });
        }
        None
    }
}

/// Reads the `baggage` headers of a request one value at a time (as if they
/// were joined with `,`, without copying them together).
#[derive(Debug, Default)]
pub(crate) struct BaggageReader {
    baggage: Baggage,
    count: usize,
    dropped: usize,
}

impl BaggageReader {
    /// The baggage read; errors for entries over [`MAX_ENTRIES`].
    pub(crate) fn finish(self, errors: &mut Vec<HeaderError>) -> Baggage {
        if self.dropped > 0 {
            errors.push(HeaderError::TooManyEntries {
                dropped: self.dropped,
            });
        }
        self.baggage
    }

    /// Reads one `baggage` value. Bad entries are skipped with an error each.
    pub(crate) fn read(&mut self, value: &str, errors: &mut Vec<HeaderError>) {
        let baggage = &mut self.baggage;
        for Member { entry, key, raw } in Members::new(value) {
            self.count += 1;
            if self.count > MAX_ENTRIES {
                self.dropped += 1;
                continue;
            }
            let Some(key) = key else {
                errors.push(HeaderError::bad_entry(entry, "missing `=`"));
                continue;
            };
            if key.is_empty() {
                errors.push(HeaderError::bad_entry(entry, "empty key"));
                continue;
            }
            let result = match key {
                METADATA => parse_metadata(raw).map(|m| baggage.metadata = m),
                TAGS => percent::decode(raw).map(|tags| baggage.tags = split_tags(tags)),
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
    }
}

/// `a,b,c` as tags, empty ones dropped; the decoded string's own allocation
/// is kept for the first tag, and the list is allocated once.
fn split_tags(tags: std::borrow::Cow<'_, str>) -> Vec<String> {
    let mut tags = tags.into_owned();
    let Some(comma) = memchr::memchr(b',', tags.as_bytes()) else {
        return if tags.is_empty() {
            Vec::new()
        } else {
            vec![tags]
        };
    };
    let commas = memchr::memchr_iter(b',', tags.as_bytes()).count();
    let mut out = Vec::with_capacity(commas + 1);
    // The first tag's place; it takes `tags` itself once the rest is copied.
    out.push(String::new());
    let rest = tags.get(comma + 1..).unwrap_or_default();
    out.extend(rest.split(',').filter(|t| !t.is_empty()).map(str::to_owned));
    tags.truncate(comma);
    if tags.is_empty() {
        out.remove(0);
    } else {
        out[0] = tags;
    }
    out
}

/// The usual metadata, a flat object of plain strings
/// (`{"user_id":"u-1842","ls_model_name":"gpt-4o-mini"}`), read without
/// serde's machinery; `None` for anything else (escapes, numbers, nesting,
/// bad JSON), which serde_json then reads. Same result as serde_json for
/// what it accepts (JSON whitespace allowed, a repeated key keeps its place
/// and takes the last value).
fn flat_string_object(text: &str) -> Option<Map<String, Value>> {
    let b = text.as_bytes();
    let ws = |i: &mut usize| {
        while b
            .get(*i)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        {
            *i += 1;
        }
    };
    // A string without escapes or control characters, starting at `i`.
    let string = |i: &mut usize| -> Option<&str> {
        if b.get(*i) != Some(&b'"') {
            return None;
        }
        let start = *i + 1;
        // memchr, and a check without early exit (vectorized): long values
        // are not walked byte by byte.
        let len = find_ascii(text, start, b'"')? - start;
        let body = text.get(start..start + len)?;
        if crate::run::json_needs_escape(body) {
            return None;
        }
        *i = start + len + 1;
        Some(body)
    };
    let mut map = Map::new();
    let mut i = 0;
    ws(&mut i);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i += 1;
    ws(&mut i);
    if b.get(i) == Some(&b'}') {
        i += 1;
    } else {
        loop {
            ws(&mut i);
            let key = string(&mut i)?;
            ws(&mut i);
            if b.get(i) != Some(&b':') {
                return None;
            }
            i += 1;
            ws(&mut i);
            let value = string(&mut i)?;
            map.insert(key.to_owned(), Value::String(value.to_owned()));
            ws(&mut i);
            match b.get(i) {
                Some(b',') => i += 1,
                Some(b'}') => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    ws(&mut i);
    (i == b.len()).then_some(map)
}

fn parse_metadata(raw: &str) -> Result<Map<String, Value>, &'static str> {
    let text = percent::decode(raw)?;
    match flat_string_object(&text) {
        Some(map) => Ok(map),
        None => serde_json::from_str::<Map<String, Value>>(&text).map_err(|e| {
            if e.is_data() {
                "metadata is not a JSON object"
            } else {
                "metadata is not valid JSON"
            }
        }),
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

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    /// What the single-pass scanner must agree with: the three-pass split.
    fn by_split(value: &str) -> Vec<Member<'_>> {
        value
            .split(',')
            .map(|m| m.trim_matches(OWS))
            .filter(|m| !m.is_empty())
            .map(|entry| match entry.split_once('=') {
                Some((key, rest)) => Member {
                    entry,
                    key: Some(key.trim_matches(OWS)),
                    raw: rest
                        .split_once(';')
                        .map_or(rest, |(v, _)| v)
                        .trim_matches(OWS),
                },
                None => Member {
                    entry,
                    key: None,
                    raw: "",
                },
            })
            .collect()
    }

    #[test]
    fn flat_metadata_reads_like_serde_json() {
        let cases = [
            r#"{"user_id":"u-1842","ls_model_name":"gpt-4o-mini"}"#,
            r#"{}"#,
            " { } ",
            "\t{ \"a\" :\n\"b\" ,\r\"c\":\"\" }\n",
            r#"{"k":"1","k":"2","j":"3"}"#,
            r#"{"é✓":"ü"}"#,
            // What the fast path leaves to serde_json (or serde rejects):
            r#"{"k":"a\"b"}"#,
            r#"{"k":1}"#,
            r#"{"k":{"n":"v"}}"#,
            r#"{"k":"v",}"#,
            r#"{"k":"v"} x"#,
            r#"{"k":"v""#,
            r#"{"k" "v"}"#,
            "{\"k\":\"a\u{1}b\"}",
            r#"["k"]"#,
            "",
        ];
        for text in cases {
            let serde = serde_json::from_str::<Map<String, Value>>(text).ok();
            if let Some(fast) = flat_string_object(text) {
                assert_eq!(Some(&fast), serde.as_ref(), "{text:?}");
                let keys: Vec<_> = fast.keys().collect();
                let serde_keys: Vec<_> = serde.as_ref().unwrap().keys().collect();
                assert_eq!(keys, serde_keys, "key order of {text:?}");
            }
            let via_parse = parse_metadata(&super::percent::tests_encode(text)).ok();
            assert_eq!(via_parse, serde, "{text:?}");
        }
        assert!(flat_string_object(cases[0]).is_some());
        assert!(flat_string_object(cases[3]).is_some());
        assert!(flat_string_object(cases[6]).is_none());
    }

    #[test]
    fn find_ascii_agrees_with_find() {
        let long = format!("{}=x;{}", "é".repeat(40), "a".repeat(100));
        for s in [
            "",
            "a=b",
            "abc",
            long.as_str(),
            "ééééééééééééééééé=",
            "x,y;z",
        ] {
            for needle in [b'=', b';', b',', b'z'] {
                for from in [0, 1, 2, 5] {
                    let Some(hay) = s.get(from..) else { continue };
                    let want = hay.find(char::from(needle)).map(|n| from + n);
                    assert_eq!(find_ascii(s, from, needle), want, "{s:?} {from}");
                }
            }
        }
    }

    #[test]
    fn tags_split_like_python() {
        for (raw, want) in [
            ("", &[][..]),
            ("a", &["a"][..]),
            ("a,b", &["a", "b"]),
            (",a,,b,", &["a", "b"]),
            (",", &[]),
            ("production,checkout", &["production", "checkout"]),
            // Kept as sent (the codec round-trips); runs de-duplicate them.
            ("a,b,a", &["a", "b", "a"]),
        ] {
            assert_eq!(split_tags(raw.into()), want, "{raw:?}");
        }
    }

    #[test]
    fn member_scan_agrees_with_splitting() {
        for value in [
            "",
            ",",
            " , ,\t",
            "a=1",
            " a = 1 ; p = 2 , b=2;x;y , c",
            "k==v;;,=v,k=,é=ü;ß,\tlangsmith-project=p%20q ",
            "a=b=c;d=e,f;g=h",
            ";=,=;",
        ] {
            check(value);
        }
        // Long members (the SIMD paths), separators around the vector widths.
        let long = "x".repeat(70);
        for cut in [0, 1, 15, 16, 17, 31, 32, 33, 63, 64, 69] {
            let (a, b) = long.split_at(cut);
            for sep in ["=", ";", ",", "=;", ";=", "=,", ",;", " = "] {
                check(&format!("{a}{sep}{b}"));
                check(&format!("{a}{sep}{b},{a}={b};{a}{sep}"));
            }
        }
        fn check(value: &str) {
            let scanned: Vec<Member<'_>> = Members::new(value).collect();
            assert_eq!(scanned, by_split(value), "{value:?}");
        }
    }
}
