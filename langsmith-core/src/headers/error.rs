//! Problems found while reading headers.

use crate::DottedOrderError;
use std::fmt;

/// Longest key echoed in an error (header content is untrusted; values are
/// never echoed at all).
const MAX_KEY_IN_ERROR: usize = 64;

/// One problem found while reading headers; the rest is still used.
///
/// Messages never contain header values (they are untrusted and may carry
/// personal data); at most a truncated entry key.
///
/// ```
/// use langsmith_core::headers::{parse, HeaderError};
/// let parsed = parse([("baggage", "langsmith-sampled=maybe,langsmith-project=p")]);
/// assert_eq!(parsed.context.baggage.project.as_deref(), Some("p"));
/// assert!(matches!(&parsed.errors[..], [HeaderError::BadEntry { key, .. }] if key == "langsmith-sampled"));
/// println!("{}", parsed.errors[0]); // bad baggage entry `langsmith-sampled`: ...
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HeaderError {
    /// `langsmith-trace` is not a valid dotted order; no parent is used.
    BadTrace(DottedOrderError),
    /// A header is longer than its limit (8192 bytes for `langsmith-trace`,
    /// 8192 bytes for all `baggage` headers together) and was ignored whole.
    TooLarge {
        /// Which header.
        header: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// More than 180 baggage entries: the first 180 were used.
    TooManyEntries {
        /// How many entries were dropped.
        dropped: usize,
    },
    /// One baggage entry was skipped.
    BadEntry {
        /// The entry's key (truncated), or the start of the entry when it has no `=`.
        key: String,
        /// Why it was skipped.
        reason: &'static str,
    },
    /// A header value is not UTF-8; that header was ignored.
    NotUtf8 {
        /// Which header.
        header: &'static str,
    },
    /// Several different `langsmith-trace` values; the first was used.
    ConflictingTrace,
    /// Baggage names both a project and an agent address. As in the Python
    /// SDK, the parent is not joined at all: no parent, no LangSmith baggage
    /// (foreign entries are still kept).
    ProjectAndAddress,
    /// A `langsmith-replicas` entry carried an endpoint or credential
    /// (`api_url`, `api_key`, `auth`, ...); it was discarded, the replica's
    /// project and updates were kept.
    ReplicaEndpointIgnored {
        /// The discarded field.
        field: &'static str,
    },
    /// A replica's `updates` had a field outside the allow-list
    /// (`reroot`, `metadata`, `tags`, as in the Python SDK); it was dropped.
    ReplicaUpdateIgnored {
        /// The dropped field (truncated).
        field: String,
    },
}

impl HeaderError {
    pub(crate) fn bad_entry(key: &str, reason: &'static str) -> Self {
        HeaderError::BadEntry {
            key: truncate(key),
            reason,
        }
    }
}

/// The longest prefix of `s` of at most [`MAX_KEY_IN_ERROR`] bytes ending on
/// a char boundary.
pub(crate) fn truncate(s: &str) -> String {
    let mut end = s.len().min(MAX_KEY_IN_ERROR);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_owned()
}

impl fmt::Display for HeaderError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HeaderError::BadTrace(e) => write!(f, "bad `langsmith-trace` header: {e}"),
            HeaderError::TooLarge { header, len } => {
                write!(f, "`{header}` header too large ({len} bytes), ignored")
            }
            HeaderError::TooManyEntries { dropped } => {
                write!(f, "more than 180 baggage entries, {dropped} dropped")
            }
            HeaderError::BadEntry { key, reason } => {
                write!(f, "bad baggage entry `{}`: {reason}", key.escape_debug())
            }
            HeaderError::NotUtf8 { header } => write!(f, "`{header}` header is not UTF-8"),
            HeaderError::ConflictingTrace => {
                f.write_str("several different `langsmith-trace` headers, the first was used")
            }
            HeaderError::ProjectAndAddress => f.write_str(
                "baggage names both a project and an agent address, the parent is ignored",
            ),
            HeaderError::ReplicaEndpointIgnored { field } => write!(
                f,
                "replica `{field}` in baggage ignored: endpoints and credentials never come from a header"
            ),
            HeaderError::ReplicaUpdateIgnored { field } => write!(
                f,
                "replica update field `{}` in baggage is not allowed, dropped",
                field.escape_debug()
            ),
        }
    }
}

impl std::error::Error for HeaderError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            HeaderError::BadTrace(e) => Some(e),
            _ => None,
        }
    }
}
