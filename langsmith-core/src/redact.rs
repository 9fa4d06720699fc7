//! Redaction before data leaves the process: a rule-based [`Anonymizer`]
//! that replaces matches with `"<redacted>"` and keeps the JSON's shape.

use serde_json::{Map, Value};
use std::fmt;

/// What a redacted value or match is replaced with.
pub const REDACTED: &str = "<redacted>";

/// A pattern that is not a valid regular expression.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError(String);

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid redaction pattern: {}", self.0)
    }
}

impl std::error::Error for PatternError {}

#[derive(Clone, Debug)]
struct Rule {
    pattern: regex::Regex,
    replacement: String,
}

/// Replaces sensitive text in every string of a JSON value, and whole values
/// under sensitive keys, keeping objects, arrays, numbers and keys as they are.
/// Use it as a client's redaction with [`crate::ClientBuilder::anonymizer`].
///
/// ```
/// use langsmith_core::redact::Anonymizer;
/// use serde_json::json;
/// let a = Anonymizer::with_defaults().key("ssn");
/// let out = a.apply(json!({
///     "msg": "mail bob@example.com, card 4111 1111 1111 1111",
///     "ssn": "123-45-6789",
///     "n": 3,
///     "list": ["Bearer abc.def.ghi"],
/// }));
/// assert_eq!(out, json!({
///     "msg": "mail <redacted>, card <redacted>",
///     "ssn": "<redacted>",
///     "n": 3,
///     "list": ["<redacted>"],
/// }));
/// ```
#[derive(Clone, Debug, Default)]
pub struct Anonymizer {
    rules: Vec<Rule>,
    keys: Vec<String>,
}

impl Anonymizer {
    /// An anonymizer with no rules.
    ///
    /// ```
    /// let a = langsmith_core::redact::Anonymizer::new();
    /// assert_eq!(a.apply(serde_json::json!("x")), "x");
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Rules for common secrets and personal data: e-mail addresses, card
    /// numbers, bearer tokens, `sk-…`/`lsv2_…` style API keys, and the keys
    /// `password`, `api_key`, `authorization`, `secret`, `token`.
    ///
    /// ```
    /// let a = langsmith_core::redact::Anonymizer::with_defaults();
    /// assert_eq!(a.apply(serde_json::json!("key sk-abcdefghijklmnop1234")), "key <redacted>");
    /// ```
    pub fn with_defaults() -> Self {
        let mut a = Anonymizer::new();
        for p in [
            r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
            r"\b(?:\d[ -]?){12,18}\d\b",
            r"(?i)bearer\s+[A-Za-z0-9._~+/=-]+",
            r"\b(?:sk|pk|rk)-[A-Za-z0-9_-]{16,}\b",
            r"\blsv2_[A-Za-z0-9_]{16,}\b",
        ] {
            if let Ok(re) = regex::Regex::new(p) {
                a.rules.push(Rule {
                    pattern: re,
                    replacement: REDACTED.to_owned(),
                });
            }
        }
        for k in ["password", "api_key", "authorization", "secret", "token"] {
            a.keys.push(k.to_owned());
        }
        a
    }

    /// Adds a regular expression whose matches are replaced with `"<redacted>"`.
    ///
    /// ```
    /// let a = langsmith_core::redact::Anonymizer::new().rule(r"\bACME-\d+\b").unwrap();
    /// assert_eq!(a.apply(serde_json::json!("order ACME-77")), "order <redacted>");
    /// assert!(langsmith_core::redact::Anonymizer::new().rule("(").is_err());
    /// ```
    pub fn rule(self, pattern: &str) -> Result<Self, PatternError> {
        self.rule_with(pattern, REDACTED)
    }

    /// Adds a regular expression whose matches are replaced with `replacement`
    /// (`$1`-style group references work).
    ///
    /// ```
    /// let a = langsmith_core::redact::Anonymizer::new().rule_with(r"user=(\w)\w*", "user=$1***").unwrap();
    /// assert_eq!(a.apply(serde_json::json!("user=alice")), "user=a***");
    /// ```
    pub fn rule_with(mut self, pattern: &str, replacement: &str) -> Result<Self, PatternError> {
        let re = regex::Regex::new(pattern).map_err(|e| PatternError(e.to_string()))?;
        self.rules.push(Rule {
            pattern: re,
            replacement: replacement.to_owned(),
        });
        Ok(self)
    }

    /// Replaces the whole value under any object key equal to `key`
    /// (ASCII case-insensitive), at any depth.
    ///
    /// ```
    /// let a = langsmith_core::redact::Anonymizer::new().key("email");
    /// assert_eq!(
    ///     a.apply(serde_json::json!({"user": {"Email": "x@y.z"}})),
    ///     serde_json::json!({"user": {"Email": "<redacted>"}})
    /// );
    /// ```
    pub fn key(mut self, key: impl Into<String>) -> Self {
        self.keys.push(key.into());
        self
    }

    /// Applies the rules to `value`.
    ///
    /// ```
    /// let a = langsmith_core::redact::Anonymizer::with_defaults();
    /// assert_eq!(a.apply(serde_json::json!([1, true, null])), serde_json::json!([1, true, null]));
    /// ```
    pub fn apply(&self, value: Value) -> Value {
        match value {
            Value::String(s) => Value::String(self.redact_str(s)),
            Value::Array(items) => Value::Array(items.into_iter().map(|v| self.apply(v)).collect()),
            Value::Object(map) => Value::Object(self.apply_map(map)),
            other => other,
        }
    }

    fn apply_map(&self, map: Map<String, Value>) -> Map<String, Value> {
        map.into_iter()
            .map(|(k, v)| {
                if self.keys.iter().any(|s| s.eq_ignore_ascii_case(&k)) {
                    (k, Value::String(REDACTED.to_owned()))
                } else {
                    (k, self.apply(v))
                }
            })
            .collect()
    }

    fn redact_str(&self, mut s: String) -> String {
        for rule in &self.rules {
            if rule.pattern.is_match(&s) {
                s = rule
                    .pattern
                    .replace_all(&s, rule.replacement.as_str())
                    .into_owned();
            }
        }
        s
    }
}
