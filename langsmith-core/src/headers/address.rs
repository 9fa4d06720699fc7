//! `langsmith-address`: an agent address, the Python SDK's alternative to a
//! project as the destination of a trace. On the wire it is the LRN
//! `lrn:agents/{id}/environments/{environment}`. It names where runs are
//! filed, not an endpoint, so it is safe to take from a header.

use std::fmt;

/// One of the four environments of an agent.
///
/// ```
/// use langsmith_core::headers::AgentEnvironment;
/// assert_eq!(AgentEnvironment::parse("Production"), Some(AgentEnvironment::Production));
/// assert_eq!(AgentEnvironment::Staging.as_str(), "staging");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AgentEnvironment {
    /// `local`
    Local,
    /// `development`
    Development,
    /// `staging`
    Staging,
    /// `production`
    Production,
}

impl AgentEnvironment {
    /// Parses an environment name in any case.
    ///
    /// ```
    /// use langsmith_core::headers::AgentEnvironment;
    /// assert_eq!(AgentEnvironment::parse("LOCAL"), Some(AgentEnvironment::Local));
    /// assert_eq!(AgentEnvironment::parse("prod"), None);
    /// ```
    pub fn parse(s: &str) -> Option<Self> {
        [
            AgentEnvironment::Local,
            AgentEnvironment::Development,
            AgentEnvironment::Staging,
            AgentEnvironment::Production,
        ]
        .into_iter()
        .find(|e| e.as_str().eq_ignore_ascii_case(s))
    }

    /// The lowercase wire name.
    ///
    /// ```
    /// use langsmith_core::headers::AgentEnvironment;
    /// assert_eq!(AgentEnvironment::Development.as_str(), "development");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            AgentEnvironment::Local => "local",
            AgentEnvironment::Development => "development",
            AgentEnvironment::Staging => "staging",
            AgentEnvironment::Production => "production",
        }
    }
}

/// A validated agent address (`ls.agent_address(id, environment)` in Python).
///
/// ```
/// use langsmith_core::headers::{AgentAddress, AgentEnvironment};
/// let a = AgentAddress::new("support-agent", AgentEnvironment::Production).unwrap();
/// assert_eq!(a.to_lrn(), "lrn:agents/support-agent/environments/production");
/// assert_eq!(AgentAddress::from_lrn(&a.to_lrn()), Some(a));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AgentAddress {
    id: String,
    environment: AgentEnvironment,
}

/// Python's `[a-z](?:[a-z0-9-]{0,61}[a-z0-9])?`: a DNS label.
fn valid_agent_id(id: &str) -> bool {
    let b = id.as_bytes();
    let (Some(first), Some(last)) = (b.first(), b.last()) else {
        return false;
    };
    b.len() <= 63
        && first.is_ascii_lowercase()
        && (last.is_ascii_lowercase() || last.is_ascii_digit())
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

impl AgentAddress {
    /// An address, if `id` is 1 to 63 lowercase ASCII letters, digits or
    /// hyphens, starting with a letter and ending with a letter or digit.
    ///
    /// ```
    /// use langsmith_core::headers::{AgentAddress, AgentEnvironment};
    /// assert!(AgentAddress::new("a1", AgentEnvironment::Local).is_some());
    /// assert!(AgentAddress::new("Bad", AgentEnvironment::Local).is_none());
    /// assert!(AgentAddress::new("a-", AgentEnvironment::Local).is_none());
    /// ```
    pub fn new(id: &str, environment: AgentEnvironment) -> Option<Self> {
        valid_agent_id(id).then(|| AgentAddress {
            id: id.to_owned(),
            environment,
        })
    }

    /// Parses the wire form `lrn:agents/{id}/environments/{environment}`
    /// (environment in any case), as the Python SDK does.
    ///
    /// ```
    /// use langsmith_core::headers::AgentAddress;
    /// let a = AgentAddress::from_lrn("lrn:agents/bot/environments/STAGING").unwrap();
    /// assert_eq!(a.id(), "bot");
    /// assert!(AgentAddress::from_lrn("https://example.com").is_none());
    /// ```
    pub fn from_lrn(lrn: &str) -> Option<Self> {
        let rest = lrn.strip_prefix("lrn:agents/")?;
        let (id, rest) = rest.split_once('/')?;
        let env = rest.strip_prefix("environments/")?;
        if env.contains('/') {
            return None;
        }
        AgentAddress::new(id, AgentEnvironment::parse(env)?)
    }

    /// The wire form, with the environment in lowercase.
    ///
    /// ```
    /// use langsmith_core::headers::{AgentAddress, AgentEnvironment};
    /// let a = AgentAddress::new("bot", AgentEnvironment::Local).unwrap();
    /// assert_eq!(a.to_lrn(), "lrn:agents/bot/environments/local");
    /// ```
    pub fn to_lrn(&self) -> String {
        self.to_string()
    }

    /// The agent id.
    ///
    /// ```
    /// use langsmith_core::headers::{AgentAddress, AgentEnvironment};
    /// assert_eq!(AgentAddress::new("bot", AgentEnvironment::Local).unwrap().id(), "bot");
    /// ```
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The environment.
    ///
    /// ```
    /// use langsmith_core::headers::{AgentAddress, AgentEnvironment};
    /// let a = AgentAddress::new("bot", AgentEnvironment::Staging).unwrap();
    /// assert_eq!(a.environment(), AgentEnvironment::Staging);
    /// ```
    pub fn environment(&self) -> AgentEnvironment {
        self.environment
    }
}

impl fmt::Display for AgentAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lrn:agents/{}/environments/{}",
            self.id,
            self.environment.as_str()
        )
    }
}
