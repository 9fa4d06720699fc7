//! Parsing of the attribute's options: `#[traceable(name = "..", ...)]`.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Expr, Ident, LitStr, Path, Token, bracketed, parenthesized};

/// Every option, for the "unknown option" message.
const OPTIONS: &str = "name, run_type, tags, metadata, project, skip, skip_all, redact, \
                       include_self, result, no_result, skip_output, crate";

/// Run types LangSmith recognises, with the `RunType` variant of each.
pub(crate) const RUN_TYPES: [(&str, &str); 7] = [
    ("llm", "Llm"),
    ("chain", "Chain"),
    ("tool", "Tool"),
    ("retriever", "Retriever"),
    ("prompt", "Prompt"),
    ("parser", "Parser"),
    ("embedding", "Embedding"),
];

/// The parsed options.
#[derive(Default)]
pub(crate) struct Args {
    pub name: Option<LitStr>,
    /// The `RunType` variant.
    pub run_type: Option<Ident>,
    pub tags: Vec<LitStr>,
    /// `(key, value)`; values are any expression `Into<serde_json::Value>`.
    pub metadata: Vec<(LitStr, Expr)>,
    pub project: Option<LitStr>,
    pub skip: Vec<Ident>,
    /// The `skip_all` token, when present.
    pub skip_all: Option<Span>,
    pub redact: Vec<Ident>,
    pub include_self: bool,
    /// `Some(true)`: `result`; `Some(false)`: `no_result`; `None`: by the return type.
    pub result: Option<bool>,
    pub skip_output: bool,
    pub krate: Option<Path>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        let mut seen: Vec<String> = Vec::new();
        let mut spans: Vec<Span> = Vec::new();
        while !input.is_empty() {
            let key = Ident::parse_any(input)?;
            let k = key.to_string();
            if seen.contains(&k) {
                return Err(syn::Error::new(
                    key.span(),
                    format!("duplicate #[traceable] option `{k}`"),
                ));
            }
            seen.push(k.clone());
            spans.push(key.span());
            match k.as_str() {
                "name" => args.name = Some(parse_eq_str(input)?),
                "run_type" => {
                    let lit = parse_eq_str(input)?;
                    let value = lit.value();
                    let Some((_, variant)) = RUN_TYPES.iter().find(|(s, _)| *s == value) else {
                        let valid: Vec<_> = RUN_TYPES.iter().map(|(s, _)| *s).collect();
                        return Err(syn::Error::new(
                            lit.span(),
                            format!(
                                "unknown run_type {value:?}; expected one of: {}",
                                valid.join(", ")
                            ),
                        ));
                    };
                    args.run_type = Some(Ident::new(variant, lit.span()));
                }
                "tags" => {
                    let content;
                    let tags: Punctuated<LitStr, Token![,]> = if input.peek(Token![=]) {
                        input.parse::<Token![=]>()?;
                        if !input.peek(syn::token::Bracket) {
                            return Err(input.error("expected a list: `tags = [\"a\", \"b\"]`"));
                        }
                        bracketed!(content in input);
                        content.parse_terminated(<LitStr as Parse>::parse, Token![,])?
                    } else if input.peek(syn::token::Paren) {
                        parenthesized!(content in input);
                        content.parse_terminated(<LitStr as Parse>::parse, Token![,])?
                    } else {
                        return Err(syn::Error::new(
                            key.span(),
                            "expected `tags(\"a\", \"b\")` or `tags = [\"a\", \"b\"]`",
                        ));
                    };
                    args.tags = tags.into_iter().collect();
                }
                "metadata" => {
                    if !input.peek(syn::token::Paren) {
                        return Err(syn::Error::new(
                            key.span(),
                            "expected `metadata(key = \"value\", n = 1)`",
                        ));
                    }
                    let content;
                    parenthesized!(content in input);
                    let entries = content.parse_terminated(parse_metadata_entry, Token![,])?;
                    args.metadata = entries.into_iter().collect();
                }
                "project" => args.project = Some(parse_eq_str(input)?),
                "skip" => args.skip = parse_idents(input, &key)?,
                "redact" => args.redact = parse_idents(input, &key)?,
                "skip_all" => args.skip_all = Some(key.span()),
                "include_self" => args.include_self = true,
                "result" => args.result = Some(true),
                "no_result" => args.result = Some(false),
                "skip_output" => args.skip_output = true,
                "crate" => {
                    input.parse::<Token![=]>()?;
                    args.krate = Some(input.call(Path::parse_mod_style)?);
                }
                _ => {
                    return Err(syn::Error::new(
                        key.span(),
                        format!("unknown #[traceable] option `{k}`; expected one of: {OPTIONS}"),
                    ));
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        if let (Some(_), Some(i)) = (
            seen.iter().position(|s| s == "result"),
            seen.iter().position(|s| s == "no_result"),
        ) {
            return Err(syn::Error::new(
                spans[i],
                "`result` and `no_result` contradict each other",
            ));
        }
        Ok(args)
    }
}

fn parse_eq_str(input: ParseStream<'_>) -> syn::Result<LitStr> {
    input.parse::<Token![=]>()?;
    input.parse()
}

/// `(a, b, self)`.
fn parse_idents(input: ParseStream<'_>, key: &Ident) -> syn::Result<Vec<Ident>> {
    if !input.peek(syn::token::Paren) {
        return Err(syn::Error::new(
            key.span(),
            format!("expected `{key}(arg, ...)` naming arguments"),
        ));
    }
    let content;
    parenthesized!(content in input);
    let ids = content.parse_terminated(Ident::parse_any, Token![,])?;
    Ok(ids.into_iter().collect())
}

/// `key = expr` or `"key" = expr`.
fn parse_metadata_entry(input: ParseStream<'_>) -> syn::Result<(LitStr, Expr)> {
    let key = if input.peek(LitStr) {
        input.parse::<LitStr>()?
    } else {
        let id = Ident::parse_any(input)?;
        LitStr::new(&id.unraw().to_string(), id.span())
    };
    input.parse::<Token![=]>()?;
    let value: Expr = input.parse()?;
    Ok((key, value))
}
