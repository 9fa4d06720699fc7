//! Configuration: the official SDKs' environment variables, overridable in code.

use std::fmt;
use std::time::Duration;

/// The default LangSmith API endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://api.smith.langchain.com";
/// The project runs go to when none is configured.
pub const DEFAULT_PROJECT: &str = "default";

/// An API key. Its `Debug` and `Display` never show the key.
///
/// ```
/// use langsmith_core::ApiKey;
/// let key = ApiKey::new("lsv2_secret");
/// assert_eq!(format!("{key:?}"), "ApiKey(***)");
/// assert_eq!(key.expose(), "lsv2_secret");
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl ApiKey {
    /// Wraps a key.
    ///
    /// ```
    /// let _ = langsmith_core::ApiKey::new("k");
    /// ```
    pub fn new(key: impl Into<String>) -> Self {
        ApiKey(key.into())
    }

    /// The key itself, for the `x-api-key` header. Never log it.
    ///
    /// ```
    /// assert_eq!(langsmith_core::ApiKey::new("k").expose(), "k");
    /// ```
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A further endpoint every run is also written to (`LANGSMITH_RUNS_ENDPOINTS`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaEndpoint {
    /// Base URL of that LangSmith.
    pub api_url: String,
    /// Its API key.
    pub api_key: Option<ApiKey>,
    /// Project to write to there; `None` keeps each run's own project.
    pub project_name: Option<String>,
}

/// Tuning of the background exporter.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ExporterSettings {
    /// Most runs waiting in the queue; more are dropped and counted.
    pub queue_max_runs: usize,
    /// Most bytes (serialized size estimate) waiting in the queue.
    pub queue_max_bytes: usize,
    /// Most runs in one request.
    pub batch_max_runs: usize,
    /// Most bytes in one request (before compression).
    pub batch_max_bytes: usize,
    /// How long a run may wait for companions before a batch is sent.
    pub batch_interval: Duration,
    /// A run still undelivered after this long is dropped and counted.
    pub max_age: Duration,
    /// Timeout of one HTTP request.
    pub request_timeout: Duration,
    /// Longest wait between retries.
    pub max_backoff: Duration,
    /// Whether to compress with zstd when the server allows it
    /// (`LANGSMITH_DISABLE_RUN_COMPRESSION=true` turns it off, as in the
    /// Python SDK).
    pub compression: bool,
    /// The zstd level (`LANGSMITH_RUN_COMPRESSION_LEVEL`, default 1 as in
    /// the Python SDK). Negative levels trade size for less CPU on the
    /// exporter thread; higher ones the reverse. Clamped to the levels zstd
    /// supports (-131072 to 22).
    pub compression_level: i32,
    /// Most requests in flight at once per destination. A second one starts
    /// only while full batches wait (a backlog, e.g. a far or slow
    /// LangSmith), never while retrying after a failure; under light load
    /// requests go one at a time. Batches sent at once may arrive in any
    /// order, as from the Python SDK's several sender threads.
    pub max_in_flight: usize,
    /// When the last handle to the exporter is dropped, how long it may keep
    /// sending what is still queued before giving up (dropping waits this long
    /// at most, and returns at once when nothing is pending).
    pub shutdown_timeout: Duration,
}

impl Default for ExporterSettings {
    fn default() -> Self {
        ExporterSettings {
            queue_max_runs: 100_000,
            queue_max_bytes: 256 * 1024 * 1024,
            batch_max_runs: 100,
            batch_max_bytes: 20 * 1024 * 1024,
            batch_interval: Duration::from_millis(100),
            max_age: Duration::from_secs(10 * 60),
            request_timeout: Duration::from_secs(30),
            max_backoff: Duration::from_secs(10),
            compression: true,
            compression_level: 1,
            max_in_flight: 4,
            shutdown_timeout: Duration::from_secs(5),
        }
    }
}

/// Everything a [`crate::Client`] is configured with.
///
/// ```
/// use langsmith_core::Config;
/// let cfg = Config::from_lookup(|name| match name {
///     "LANGSMITH_PROJECT" => Some("shop".to_string()),
///     "LANGCHAIN_API_KEY" => Some("legacy-key".to_string()),
///     _ => None,
/// });
/// assert_eq!(cfg.project, "shop");
/// assert_eq!(cfg.api_key.unwrap().expose(), "legacy-key");
/// assert_eq!(cfg.tracing, None);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct Config {
    /// `LANGSMITH_API_KEY`.
    pub api_key: Option<ApiKey>,
    /// `LANGSMITH_ENDPOINT`, without a trailing slash.
    pub endpoint: String,
    /// `LANGSMITH_PROJECT`.
    pub project: String,
    /// `LANGSMITH_WORKSPACE_ID`, sent as `X-Tenant-Id`.
    pub workspace_id: Option<String>,
    /// `LANGSMITH_TRACING`: `Some(true)` on, `Some(false)` explicitly off,
    /// `None` unset (new traces are not started, continued ones are).
    pub tracing: Option<bool>,
    /// `LANGSMITH_TRACING_SAMPLING_RATE`, 0.0 to 1.0.
    pub sampling_rate: f64,
    /// `LANGSMITH_HIDE_INPUTS`.
    pub hide_inputs: bool,
    /// `LANGSMITH_HIDE_OUTPUTS`.
    pub hide_outputs: bool,
    /// `LANGSMITH_HIDE_METADATA`.
    pub hide_metadata: bool,
    /// `LANGSMITH_AGENT_ID` + `LANGSMITH_AGENT_ENVIRONMENT` (the Python SDK's
    /// agent addressing): new traces are filed under this agent address
    /// instead of [`project`](Self::project). When `LANGSMITH_PROJECT` is set
    /// too, the project wins and a warning says so (the Python SDK then
    /// traces nothing).
    pub agent_address: Option<crate::headers::AgentAddress>,
    /// `LANGSMITH_RUNS_ENDPOINTS`: replicas every run is also written to.
    pub replicas: Vec<ReplicaEndpoint>,
    /// Exporter tuning.
    pub exporter: ExporterSettings,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            api_key: None,
            endpoint: DEFAULT_ENDPOINT.to_owned(),
            project: DEFAULT_PROJECT.to_owned(),
            workspace_id: None,
            tracing: None,
            sampling_rate: 1.0,
            hide_inputs: false,
            hide_outputs: false,
            hide_metadata: false,
            agent_address: None,
            replicas: Vec::new(),
            exporter: ExporterSettings::default(),
        }
    }
}

impl Config {
    /// Reads the process environment (`LANGSMITH_*`, then legacy `LANGCHAIN_*`).
    ///
    /// ```
    /// let cfg = langsmith_core::Config::from_env();
    /// assert!(!cfg.endpoint.ends_with('/'));
    /// ```
    pub fn from_env() -> Self {
        Self::from_lookup(|k| std::env::var(k).ok())
    }

    /// Reads configuration through `lookup` (e.g. a map in tests). Bad values
    /// are reported with a warning and the default is kept.
    ///
    /// ```
    /// let cfg = langsmith_core::Config::from_lookup(|k| (k == "LANGSMITH_TRACING").then(|| "true".into()));
    /// assert_eq!(cfg.tracing, Some(true));
    /// ```
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| -> Option<String> {
            let v = lookup(&format!("LANGSMITH_{name}"))
                .or_else(|| lookup(&format!("LANGCHAIN_{name}")))?;
            let v = v.trim().to_owned();
            (!v.is_empty()).then_some(v)
        };
        let mut cfg = Config::default();
        if let Some(k) = get("API_KEY") {
            cfg.api_key = Some(ApiKey(k));
        }
        if let Some(e) = get("ENDPOINT") {
            cfg.endpoint = e.trim_end_matches('/').to_owned();
        }
        let project_set = get("PROJECT").map(|p| cfg.project = p).is_some();
        cfg.agent_address = agent_address_from(&lookup, project_set);
        cfg.workspace_id = get("WORKSPACE_ID");
        let tracing_var = get("TRACING").or_else(|| get("TRACING_V2"));
        cfg.tracing = tracing_var.and_then(|v| parse_bool("LANGSMITH_TRACING", &v));
        if let Some(r) = get("TRACING_SAMPLING_RATE") {
            match r.parse::<f64>() {
                Ok(x) if (0.0..=1.0).contains(&x) => cfg.sampling_rate = x,
                _ => tracing::warn!(
                    value = %r,
                    "LANGSMITH_TRACING_SAMPLING_RATE must be a number from 0 to 1; sampling everything"
                ),
            }
        }
        for (name, slot) in [
            ("HIDE_INPUTS", &mut cfg.hide_inputs),
            ("HIDE_OUTPUTS", &mut cfg.hide_outputs),
            ("HIDE_METADATA", &mut cfg.hide_metadata),
        ] {
            if let Some(v) = get(name) {
                *slot = parse_bool(name, &v).unwrap_or(false);
            }
        }
        if let Some(v) = get("DISABLE_RUN_COMPRESSION") {
            cfg.exporter.compression =
                !parse_bool("LANGSMITH_DISABLE_RUN_COMPRESSION", &v).unwrap_or(false);
        }
        if let Some(v) = get("RUN_COMPRESSION_LEVEL") {
            match v.trim().parse::<i32>() {
                Ok(level) => cfg.exporter.compression_level = level,
                Err(_) => tracing::warn!(
                    value = %v,
                    "LANGSMITH_RUN_COMPRESSION_LEVEL must be an integer; using 1"
                ),
            }
        }
        if let Some(v) = get("RUNS_ENDPOINTS") {
            cfg.replicas = parse_runs_endpoints(&v);
        }
        cfg
    }
}

/// The agent address of `LANGSMITH_AGENT_ID` and `LANGSMITH_AGENT_ENVIRONMENT`
/// (only under `LANGSMITH_`, as the Python SDK reads them); `None`, with a
/// warning, when only one is set, either is invalid, or a project is set
/// too (`project_set`).
fn agent_address_from(
    lookup: &impl Fn(&str) -> Option<String>,
    project_set: bool,
) -> Option<crate::headers::AgentAddress> {
    use crate::headers::{AgentAddress, AgentEnvironment};
    let read = |name: &str| {
        lookup(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let (id, env) = (
        read("LANGSMITH_AGENT_ID"),
        read("LANGSMITH_AGENT_ENVIRONMENT"),
    );
    let (id, env) = match (id, env) {
        (None, None) => return None,
        (Some(id), Some(env)) => (id, env),
        (id, _) => {
            let missing = if id.is_none() {
                "LANGSMITH_AGENT_ID"
            } else {
                "LANGSMITH_AGENT_ENVIRONMENT"
            };
            tracing::warn!("an agent address needs {missing} as well; filing runs by project");
            return None;
        }
    };
    let address = AgentEnvironment::parse(&env).and_then(|e| AgentAddress::new(&id, e));
    match address {
        None => {
            tracing::warn!(
                agent_id = %id,
                environment = %env,
                "LANGSMITH_AGENT_ID must be a DNS label (lowercase letters, digits, hyphens) and \
                 LANGSMITH_AGENT_ENVIRONMENT one of local, development, staging, production; \
                 filing runs by project"
            );
            None
        }
        Some(_) if project_set => {
            tracing::warn!(
                "LANGSMITH_PROJECT and LANGSMITH_AGENT_ID/ENVIRONMENT are both set; \
                 filing runs in the project (set only one)"
            );
            None
        }
        some => some,
    }
}

fn parse_bool(name: &str, v: &str) -> Option<bool> {
    match v.to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Some(true),
        "false" | "0" | "no" | "off" => Some(false),
        _ => {
            tracing::warn!(variable = name, value = %v, "not a boolean; ignored");
            None
        }
    }
}

/// `LANGSMITH_RUNS_ENDPOINTS` as the official SDK reads it: either an object
/// `{"<api_url>": "<api_key>", ...}` or a list of
/// `{"api_url": ..., "api_key": ..., "project_name": ...}`.
pub(crate) fn parse_runs_endpoints(v: &str) -> Vec<ReplicaEndpoint> {
    use serde_json::Value;
    let parsed: Value = match serde_json::from_str(v) {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "LANGSMITH_RUNS_ENDPOINTS is not valid JSON; ignored");
            return Vec::new();
        }
    };
    let str_of = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let mut out = Vec::new();
    match parsed {
        Value::Object(map) => {
            for (url, key) in map {
                out.push(ReplicaEndpoint {
                    api_url: url.trim_end_matches('/').to_owned(),
                    api_key: key.as_str().map(ApiKey::new),
                    project_name: None,
                });
            }
        }
        Value::Array(items) => {
            for item in items {
                match str_of(item.get("api_url")) {
                    Some(url) => out.push(ReplicaEndpoint {
                        api_url: url.trim_end_matches('/').to_owned(),
                        api_key: str_of(item.get("api_key")).map(ApiKey::new),
                        project_name: str_of(item.get("project_name")),
                    }),
                    None => {
                        tracing::warn!("LANGSMITH_RUNS_ENDPOINTS entry without api_url; ignored")
                    }
                }
            }
        }
        _ => tracing::warn!("LANGSMITH_RUNS_ENDPOINTS must be an object or a list; ignored"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn cfg(pairs: &[(&str, &str)]) -> Config {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn langsmith_prefix_wins_over_legacy() {
        let c = cfg(&[("LANGSMITH_PROJECT", "new"), ("LANGCHAIN_PROJECT", "old")]);
        assert_eq!(c.project, "new");
        let c = cfg(&[("LANGCHAIN_TRACING_V2", "true")]);
        assert_eq!(c.tracing, Some(true));
        let c = cfg(&[("LANGSMITH_TRACING", "false")]);
        assert_eq!(c.tracing, Some(false));
    }

    #[test]
    fn bad_values_keep_defaults() {
        let c = cfg(&[
            ("LANGSMITH_TRACING_SAMPLING_RATE", "2"),
            ("LANGSMITH_TRACING", "maybe"),
            ("LANGSMITH_ENDPOINT", "http://x:1/"),
        ]);
        assert_eq!(c.sampling_rate, 1.0);
        assert_eq!(c.tracing, None);
        assert_eq!(c.endpoint, "http://x:1");
    }

    #[test]
    fn agent_address_from_the_environment_like_python() {
        let lrn = |c: &Config| c.agent_address.as_ref().map(|a| a.to_lrn());
        let both = [
            ("LANGSMITH_AGENT_ID", "support-bot"),
            ("LANGSMITH_AGENT_ENVIRONMENT", " Production "),
        ];
        let c = cfg(&both);
        assert_eq!(
            lrn(&c).as_deref(),
            Some("lrn:agents/support-bot/environments/production")
        );
        assert_eq!(c.project, "default");
        // Each refusal keeps filing by project, and says why.
        let cases: [(&[(&str, &str)], &str); 4] = [
            (&both[..1], "needs LANGSMITH_AGENT_ENVIRONMENT"),
            (
                &[("LANGSMITH_AGENT_ENVIRONMENT", "local")],
                "needs LANGSMITH_AGENT_ID",
            ),
            (
                &[
                    ("LANGSMITH_AGENT_ID", "Bot_1"),
                    ("LANGSMITH_AGENT_ENVIRONMENT", "local"),
                ],
                "must be a DNS label",
            ),
            (
                &[both[0], both[1], ("LANGSMITH_PROJECT", "shop")],
                "are both set",
            ),
        ];
        for (vars, why) in cases {
            let (c, logs) = crate::warn::capture_logs(|| cfg(vars));
            assert_eq!(lrn(&c), None, "{vars:?}");
            assert!(logs.contains(why), "{vars:?}: {logs}");
        }
        // Only under LANGSMITH_, as the Python SDK reads them.
        let legacy = cfg(&[
            ("LANGCHAIN_AGENT_ID", "bot"),
            ("LANGCHAIN_AGENT_ENVIRONMENT", "local"),
        ]);
        assert_eq!(lrn(&legacy), None);
    }

    #[test]
    fn compression_settings_like_python() {
        let c = cfg(&[]);
        assert!(c.exporter.compression);
        assert_eq!(c.exporter.compression_level, 1);
        let c = cfg(&[
            ("LANGSMITH_DISABLE_RUN_COMPRESSION", "true"),
            ("LANGSMITH_RUN_COMPRESSION_LEVEL", " -3 "),
        ]);
        assert!(!c.exporter.compression);
        assert_eq!(c.exporter.compression_level, -3);
        let c = cfg(&[
            ("LANGCHAIN_DISABLE_RUN_COMPRESSION", "false"),
            ("LANGSMITH_RUN_COMPRESSION_LEVEL", "fast"),
        ]);
        assert!(c.exporter.compression);
        assert_eq!(c.exporter.compression_level, 1);
        let c = cfg(&[("LANGSMITH_DISABLE_RUN_COMPRESSION", "perhaps")]);
        assert!(c.exporter.compression);
    }

    #[test]
    fn runs_endpoints_both_forms() {
        let c = cfg(&[(
            "LANGSMITH_RUNS_ENDPOINTS",
            r#"{"http://a":"ka","http://b/":"kb"}"#,
        )]);
        assert_eq!(c.replicas.len(), 2);
        assert_eq!(c.replicas[1].api_url, "http://b");
        let c = cfg(&[(
            "LANGSMITH_RUNS_ENDPOINTS",
            r#"[{"api_url":"http://a","api_key":"k","project_name":"p"},{"nope":1}]"#,
        )]);
        assert_eq!(c.replicas.len(), 1);
        assert_eq!(c.replicas[0].project_name.as_deref(), Some("p"));
        assert!(
            cfg(&[("LANGSMITH_RUNS_ENDPOINTS", "{")])
                .replicas
                .is_empty()
        );
    }

    #[test]
    fn api_key_never_in_debug() {
        let c = cfg(&[("LANGSMITH_API_KEY", "lsv2_very_secret")]);
        assert!(!format!("{c:?}").contains("very_secret"));
    }
}
