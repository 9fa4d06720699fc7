//! Typed helpers for LLM runs: the `ls_*` invocation metadata LangSmith uses
//! for model and cost views, token usage, prompt versions and threads.

use crate::builder::RunBuilder;
use crate::handle::Run;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// How a model was invoked: becomes the `ls_*` metadata keys of an LLM run.
///
/// ```
/// use langsmith_core::{trace, RunType, llm::LlmParams};
/// let params = LlmParams::new("openai", "gpt-4o-mini").temperature(0.2).max_tokens(256);
/// let builder = trace("chat").run_type(RunType::Llm).llm_params(&params);
/// # let _ = builder;
/// assert_eq!(params.to_metadata()["ls_model_name"], "gpt-4o-mini");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LlmParams {
    /// `ls_provider`, e.g. `"openai"`, `"anthropic"`.
    pub provider: String,
    /// `ls_model_name`.
    pub model_name: String,
    /// `ls_model_type`: `"chat"` (default) or `"llm"`.
    pub model_type: Option<String>,
    /// `ls_temperature`.
    pub temperature: Option<f64>,
    /// `ls_max_tokens`.
    pub max_tokens: Option<u64>,
    /// `ls_stop`.
    pub stop: Option<Vec<String>>,
    /// `ls_invocation_params`: everything else sent to the model.
    pub invocation_params: Option<Map<String, Value>>,
}

impl LlmParams {
    /// Provider and model name.
    ///
    /// ```
    /// let p = langsmith_core::llm::LlmParams::new("anthropic", "claude-sonnet");
    /// assert_eq!(p.provider, "anthropic");
    /// ```
    pub fn new(provider: impl Into<String>, model_name: impl Into<String>) -> Self {
        LlmParams {
            provider: provider.into(),
            model_name: model_name.into(),
            ..Default::default()
        }
    }

    /// Sets the temperature.
    ///
    /// ```
    /// let p = langsmith_core::llm::LlmParams::new("p", "m").temperature(0.0);
    /// assert_eq!(p.temperature, Some(0.0));
    /// ```
    pub fn temperature(mut self, t: f64) -> Self {
        self.temperature = Some(t);
        self
    }

    /// Sets the maximum number of tokens.
    ///
    /// ```
    /// let p = langsmith_core::llm::LlmParams::new("p", "m").max_tokens(10);
    /// assert_eq!(p.max_tokens, Some(10));
    /// ```
    pub fn max_tokens(mut self, n: u64) -> Self {
        self.max_tokens = Some(n);
        self
    }

    /// Sets the stop sequences.
    ///
    /// ```
    /// let p = langsmith_core::llm::LlmParams::new("p", "m").stop(["\n\n"]);
    /// assert_eq!(p.stop.unwrap(), ["\n\n"]);
    /// ```
    pub fn stop<I, S>(mut self, stop: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.stop = Some(stop.into_iter().map(Into::into).collect());
        self
    }

    /// Sets one more invocation parameter.
    ///
    /// ```
    /// let p = langsmith_core::llm::LlmParams::new("p", "m").invocation_param("top_p", 0.9);
    /// assert_eq!(p.invocation_params.unwrap()["top_p"], 0.9);
    /// ```
    pub fn invocation_param(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.invocation_params
            .get_or_insert_with(Map::new)
            .insert(key.into(), value.into());
        self
    }

    /// The `ls_*` metadata entries.
    ///
    /// ```
    /// let md = langsmith_core::llm::LlmParams::new("openai", "gpt").stop(["x"]).to_metadata();
    /// assert_eq!(md["ls_provider"], "openai");
    /// assert_eq!(md["ls_model_type"], "chat");
    /// assert_eq!(md["ls_stop"], serde_json::json!(["x"]));
    /// ```
    pub fn to_metadata(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("ls_provider".into(), self.provider.clone().into());
        m.insert("ls_model_name".into(), self.model_name.clone().into());
        m.insert(
            "ls_model_type".into(),
            self.model_type
                .clone()
                .unwrap_or_else(|| "chat".into())
                .into(),
        );
        if let Some(t) = self.temperature {
            m.insert("ls_temperature".into(), t.into());
        }
        if let Some(n) = self.max_tokens {
            m.insert("ls_max_tokens".into(), n.into());
        }
        if let Some(s) = &self.stop {
            m.insert("ls_stop".into(), s.clone().into());
        }
        if let Some(p) = &self.invocation_params {
            m.insert("ls_invocation_params".into(), Value::Object(p.clone()));
        }
        m
    }
}

/// Breakdown of input tokens (`input_token_details`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputTokenDetails {
    /// Tokens read from the prompt cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_read: Option<u64>,
    /// Tokens written to the prompt cache.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cache_creation: Option<u64>,
    /// Audio input tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<u64>,
}

/// Breakdown of output tokens (`output_token_details`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputTokenDetails {
    /// Reasoning tokens not returned as output.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<u64>,
    /// Audio output tokens.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audio: Option<u64>,
}

/// Token usage of an LLM run, as LangSmith reads it from
/// `extra.metadata.usage_metadata`.
///
/// ```
/// use langsmith_core::llm::Usage;
/// let u = Usage::new(120, 30).cache_read(100).reasoning(12);
/// assert_eq!(u.total_tokens, 150);
/// let json = serde_json::to_value(&u).unwrap();
/// assert_eq!(json["input_token_details"]["cache_read"], 100);
/// assert_eq!(json["output_token_details"]["reasoning"], 12);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// Input (prompt) tokens, all kinds.
    pub input_tokens: u64,
    /// Output (completion) tokens, all kinds.
    pub output_tokens: u64,
    /// Input + output.
    pub total_tokens: u64,
    /// Input breakdown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_token_details: Option<InputTokenDetails>,
    /// Output breakdown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_token_details: Option<OutputTokenDetails>,
}

impl Usage {
    /// Input and output tokens; the total is their sum.
    ///
    /// ```
    /// assert_eq!(langsmith_core::llm::Usage::new(1, 2).total_tokens, 3);
    /// ```
    pub fn new(input_tokens: u64, output_tokens: u64) -> Self {
        Usage {
            input_tokens,
            output_tokens,
            total_tokens: input_tokens.saturating_add(output_tokens),
            ..Default::default()
        }
    }

    /// Tokens read from the prompt cache.
    ///
    /// ```
    /// let u = langsmith_core::llm::Usage::new(1, 2).cache_read(1);
    /// assert_eq!(u.input_token_details.unwrap().cache_read, Some(1));
    /// ```
    pub fn cache_read(mut self, n: u64) -> Self {
        self.input_token_details
            .get_or_insert_with(Default::default)
            .cache_read = Some(n);
        self
    }

    /// Tokens written to the prompt cache.
    ///
    /// ```
    /// let u = langsmith_core::llm::Usage::new(1, 2).cache_creation(1);
    /// assert_eq!(u.input_token_details.unwrap().cache_creation, Some(1));
    /// ```
    pub fn cache_creation(mut self, n: u64) -> Self {
        self.input_token_details
            .get_or_insert_with(Default::default)
            .cache_creation = Some(n);
        self
    }

    /// Reasoning tokens.
    ///
    /// ```
    /// let u = langsmith_core::llm::Usage::new(1, 2).reasoning(1);
    /// assert_eq!(u.output_token_details.unwrap().reasoning, Some(1));
    /// ```
    pub fn reasoning(mut self, n: u64) -> Self {
        self.output_token_details
            .get_or_insert_with(Default::default)
            .reasoning = Some(n);
        self
    }
}

/// A prompt version from the LangSmith prompt hub, as the Python SDK records it.
///
/// ```
/// use langsmith_core::llm::PromptVersion;
/// let p = PromptVersion { owner: "acme".into(), repo: "support-bot".into(), commit_hash: "a1b2c3".into() };
/// assert_eq!(p.to_metadata()["lc_hub_repo"], "support-bot");
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PromptVersion {
    /// `lc_hub_owner`.
    pub owner: String,
    /// `lc_hub_repo`.
    pub repo: String,
    /// `lc_hub_commit_hash`.
    pub commit_hash: String,
}

impl PromptVersion {
    /// The metadata entries.
    ///
    /// ```
    /// let md = langsmith_core::llm::PromptVersion::default().to_metadata();
    /// assert_eq!(md.len(), 3);
    /// ```
    pub fn to_metadata(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("lc_hub_owner".into(), self.owner.clone().into());
        m.insert("lc_hub_repo".into(), self.repo.clone().into());
        m.insert("lc_hub_commit_hash".into(), self.commit_hash.clone().into());
        m
    }
}

impl RunBuilder {
    /// Adds the `ls_*` invocation metadata of an LLM run.
    ///
    /// ```
    /// use langsmith_core::{trace, RunType, llm::LlmParams};
    /// let b = trace("chat").run_type(RunType::Llm).llm_params(&LlmParams::new("openai", "gpt-4o"));
    /// # let _ = b;
    /// ```
    pub fn llm_params(self, params: &LlmParams) -> Self {
        self.metadata_map(params.to_metadata())
    }

    /// Groups the run into a conversation thread (`thread_id` metadata; the
    /// LangSmith UI also accepts `session_id` and `conversation_id`).
    ///
    /// ```
    /// let b = langsmith_core::trace("turn").thread_id("conv-42");
    /// # let _ = b;
    /// ```
    pub fn thread_id(self, thread_id: impl Into<String>) -> Self {
        self.metadata("thread_id", thread_id.into())
    }

    /// Records the prompt version used.
    ///
    /// ```
    /// use langsmith_core::llm::PromptVersion;
    /// let b = langsmith_core::trace("chat").prompt_version(&PromptVersion::default());
    /// # let _ = b;
    /// ```
    pub fn prompt_version(self, prompt: &PromptVersion) -> Self {
        self.metadata_map(prompt.to_metadata())
    }
}

impl Run {
    /// Records token usage (`extra.metadata.usage_metadata`).
    ///
    /// ```
    /// use langsmith_core::{*, llm::Usage};
    /// let sink = MemorySink::new();
    /// let mut run = RunTree::new("chat").run_type(RunType::Llm)
    ///     .client(Client::builder().sink(sink.clone()).build()).start();
    /// run.set_usage(&Usage::new(10, 5).cache_read(8));
    /// run.end();
    /// let md = &sink.runs()[0].extra.metadata;
    /// assert_eq!(md["usage_metadata"]["total_tokens"], 15);
    /// ```
    pub fn set_usage(&mut self, usage: &Usage) {
        if let Ok(v) = serde_json::to_value(usage) {
            self.record_metadata("usage_metadata".to_owned(), v);
        }
    }
}
