//! The `#[traceable]` attribute macro of the LangSmith Rust SDK. Use it
//! through the `langsmith` crate (feature `macros`, on by default):
//! `use langsmith::traceable;`.
//!
//! See [`macro@traceable`] for every option.

mod args;
mod expand;

use proc_macro::TokenStream;

/// Traces every call of a function as a LangSmith run — the equivalent of
/// the official SDKs' `@traceable` decorator.
///
/// Works on `fn` and `async fn`: free functions, inherent and trait-impl
/// methods (`self`, `&self`, `&mut self`), generic functions, and methods of
/// `#[async_trait]` impls. Each call becomes a child of the current run (or
/// a new trace when there is none and tracing is on):
///
/// - **name**: the function's name, unless `name = "..."`;
/// - **inputs**: the arguments by name as a JSON object `{"a": .., "b": ..}`
///   (each must implement `serde::Serialize`; `self` is left out unless
///   `include_self`);
/// - **attachments**: an argument typed `Attachment` or `&Attachment`
///   (`langsmith::Attachment`, matched by name) is attached to the run (a
///   reference-counted clone of its data) instead of recorded in the inputs,
///   as the Python SDK treats its `Attachment` parameters; `skip(arg)`
///   leaves it out;
/// - **outputs**: the return value (`{"output": value}` unless it is a JSON
///   object); for a function returning `Result`, the `Ok` value, and the `Err`
///   (its `Display`) becomes the run's error;
/// - **panics** are recorded as the error `"panicked: <message>"` and then
///   resumed; a future dropped before it completes ends as cancelled.
///
/// When tracing is off, the function body runs directly after one cheap
/// check (see `langsmith::tracing_active`).
///
/// ```
/// use langsmith::traceable;
///
/// #[traceable(run_type = "retriever", tags("docs"), metadata(index = "faq", k = 3))]
/// fn retrieve(query: &str, k: usize) -> Vec<String> {
///     vec![format!("doc about {query}"); k]
/// }
///
/// #[traceable(run_type = "llm", redact(api_key))]
/// async fn chat(prompt: String, api_key: &str) -> Result<String, std::io::Error> {
///     let _ = api_key;
///     Ok(format!("answer to {prompt}"))
/// }
///
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let docs = retrieve("refunds", 2);
/// let answer = chat(docs.join("\n"), "sk-...").await.unwrap();
/// assert!(answer.starts_with("answer"));
/// # }
/// ```
///
/// # Options
///
/// | option | effect |
/// | --- | --- |
/// | `name = "..."` | the run's name (default: the function's) |
/// | `run_type = "llm"` | one of `llm`, `chain` (default), `tool`, `retriever`, `prompt`, `parser`, `embedding`; checked at compile time |
/// | `tags("a", "b")` or `tags = ["a", "b"]` | tags of the run |
/// | `metadata(key = "value", n = 1)` | metadata entries; keys are identifiers or string literals, values any expression convertible `Into<serde_json::Value>` |
/// | `project = "..."` | sends the run (and its descendants) to this project |
/// | `skip(a, b)` | leaves these arguments out of the inputs |
/// | `skip_all` | records no argument (inputs `{}`) |
/// | `redact(a)` | records `"<redacted>"` for `a`, keeping the key |
/// | `include_self` | records `self` too, under the key `"self"` |
/// | `result` / `no_result` | treats the return type as a `Result` or not (default: by its name, `Result` / `io::Result` / ...; use these for type aliases) |
/// | `skip_output` | records no output (for return values that are not `Serialize`) |
/// | `crate = path` | where the `langsmith` API is (default `::langsmith`; `crate = ::langsmith_core` for code using the core crate directly) |
///
/// # Per-call overrides
///
/// `langsmith::with_extra` / `langsmith::with_extra_async` give the next
/// traced call a run id chosen in advance, an explicit parent, metadata,
/// tags, a name, a project or a client — like `langsmith_extra` in Python:
///
/// ```
/// use langsmith::{traceable, with_extra, TraceExtra, uuid7};
///
/// #[traceable]
/// fn answer(question: &str) -> usize {
///     question.len()
/// }
///
/// let run_id = uuid7(); // known in advance, e.g. to attach feedback later
/// let n = with_extra(TraceExtra::new().run_id(run_id).metadata("user", "u-7"), || answer("why?"));
/// assert_eq!(n, 4);
/// ```
///
/// # Methods and `async-trait`
///
/// ```
/// use langsmith::traceable;
///
/// struct Agent { model: String }
///
/// impl Agent {
///     #[traceable(run_type = "llm", include_self)]
///     fn model(&self) -> String { self.model.clone() }
///
///     #[traceable]
///     async fn step(&mut self, input: u32) -> u32 { input + 1 }
/// }
/// # impl serde::Serialize for Agent {
/// #     fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> { s.serialize_str(&self.model) }
/// # }
///
/// #[async_trait::async_trait]
/// trait Tool { async fn run(&self, q: String) -> String; }
///
/// struct Search;
/// #[async_trait::async_trait]
/// impl Tool for Search {
///     #[traceable(run_type = "tool")]
///     async fn run(&self, q: String) -> String { q }
/// }
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// # let mut a = Agent { model: "m".into() };
/// # assert_eq!(a.step(1).await, 2);
/// # assert_eq!(a.model(), "m");
/// # assert_eq!(Search.run("x".into()).await, "x");
/// # }
/// ```
///
/// # Compile errors
///
/// `const fn`s, declarations without a body, unknown options, unknown run
/// types, `skip`/`redact` naming a missing argument, and arguments or
/// return values that cannot be recorded are reported at compile time, at
/// the offending token, with the fix (`skip(x)`, `redact(x)`,
/// `skip_output`, `no_result`).
#[proc_macro_attribute]
pub fn traceable(attr: TokenStream, item: TokenStream) -> TokenStream {
    let args = match syn::parse::<args::Args>(attr) {
        Ok(a) => a,
        Err(e) => return with_item(e, item),
    };
    let f = match syn::parse::<expand::TracedFn>(item.clone()) {
        Ok(f) => f,
        Err(e) => return with_item(e, item),
    };
    match expand::expand(args, f) {
        Ok(ts) => ts.into(),
        Err(e) => with_item(e, item),
    }
}

/// The error, plus the item unchanged (so that one mistake in the attribute
/// does not cascade into "function not found" errors at every call site).
fn with_item(e: syn::Error, item: TokenStream) -> TokenStream {
    let mut out: TokenStream = e.to_compile_error().into();
    out.extend(item);
    out
}
