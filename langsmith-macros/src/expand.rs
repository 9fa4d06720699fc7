//! Code generation for `#[traceable]`.
//!
//! The function body is left as it is and moved into a closure (sync) or an
//! async block (async); the generated prologue asks the runtime
//! (`__private::begin`) whether the call is traced. If not, the body runs
//! directly — one branch. If so, the run is built from the options, the
//! per-call overrides and the arguments, and the body runs through the
//! public `RunBuilder::{call, try_call, call_async, try_call_async}` API.

use crate::args::Args;
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::spanned::Spanned;
use syn::visit_mut::VisitMut;
use syn::{
    Attribute, Block, Expr, FnArg, GenericArgument, Ident, LitStr, Pat, PathArguments, ReturnType,
    Signature, Stmt, Token, Type, TypeParamBound, Visibility,
};

/// A function with a body (free function, method, trait default method).
pub(crate) struct TracedFn {
    attrs: Vec<Attribute>,
    vis: Visibility,
    sig: Signature,
    block: Block,
}

impl Parse for TracedFn {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        let vis: Visibility = input.parse()?;
        let sig: Signature = input.parse()?;
        if input.peek(Token![;]) {
            return Err(syn::Error::new(
                sig.ident.span(),
                "#[traceable] needs a function with a body (not a declaration in a trait or `extern` block)",
            ));
        }
        let block: Block = input.parse()?;
        Ok(TracedFn {
            attrs,
            vis,
            sig,
            block,
        })
    }
}

/// One argument as seen by the inputs.
struct Param {
    /// The key in the inputs object.
    name: String,
    /// The binding to read (an identifier, or `self`).
    ident: TokenStream,
    span: Span,
    is_self: bool,
    /// Typed `Attachment` or `&Attachment` (by name): attached to the run,
    /// not recorded in the inputs.
    attachment: bool,
}

enum Record {
    Value,
    Redacted,
}

/// What kind of body the function has.
enum Kind {
    Sync,
    Async,
    /// A non-`async` fn whose last expression is `Box::pin(async move {..})`
    /// or `async move {..}` (what `#[async_trait]` generates): the async
    /// block is what gets traced.
    AsyncLike,
}

pub(crate) fn expand(args: Args, mut f: TracedFn) -> syn::Result<TokenStream> {
    if let Some(c) = &f.sig.constness {
        return Err(syn::Error::new(
            c.span,
            "#[traceable] cannot be used on a `const fn`: runs are recorded at run time",
        ));
    }
    if let Some(v) = &f.sig.variadic {
        return Err(syn::Error::new(
            v.span(),
            "#[traceable] does not support variadic functions",
        ));
    }
    let krate = match &args.krate {
        Some(p) => p.to_token_stream(),
        None => quote!(::langsmith),
    };
    let params = collect_params(&f.sig);
    let recorded = select_inputs(&args, &params, &f.sig)?;

    let kind = if f.sig.asyncness.is_some() {
        Kind::Async
    } else if async_block_mut(&mut f.block).is_some() {
        Kind::AsyncLike
    } else {
        Kind::Sync
    };

    // The body's value type, `impl Trait` replaced by `_` (usable in a turbofish).
    let (ret_ty, ret_span): (Option<Type>, Span) = match (&f.sig.output, &kind) {
        (ReturnType::Default, Kind::AsyncLike) => (None, f.sig.ident.span()),
        (ReturnType::Default, _) => (Some(syn::parse_quote!(())), f.sig.ident.span()),
        (ReturnType::Type(_, ty), Kind::AsyncLike) => (future_output(ty), ty.span()),
        (ReturnType::Type(_, ty), _) => (Some((**ty).clone()), ty.span()),
    };
    let is_result = match args.result {
        Some(r) => r,
        None => ret_ty.as_ref().is_some_and(is_result_type),
    };
    let ret_tokens = match ret_ty {
        Some(mut t) => {
            ImplToInfer.visit_type_mut(&mut t);
            t.into_token_stream()
        }
        None => quote!(_),
    };

    let begin = gen_begin(&args, &krate, &f.sig, &recorded);
    // Attachment arguments: cloned (a reference count) before the body takes
    // them, when the call is traced, and added to the run once it runs.
    let attached: Vec<&Param> = params
        .iter()
        .filter(|p| p.attachment && !option_names(&args.skip, p) && !option_names(&args.redact, p))
        .collect();
    let (take_attachments, attach) = if attached.is_empty() {
        (TokenStream::new(), None)
    } else {
        let clones = attached.iter().map(|p| {
            let ident = &p.ident;
            quote_spanned!(p.span=> ::core::clone::Clone::clone(
                ::core::borrow::Borrow::<#krate::Attachment>::borrow(&#ident)
            ))
        });
        (
            quote! {
                let __ls_att = match &__ls_run {
                    ::core::option::Option::Some(_) => ::core::option::Option::Some([#(#clones),*]),
                    ::core::option::Option::None => ::core::option::Option::None,
                };
            },
            Some(quote!(#krate::__private::attach(__ls_att);)),
        )
    };
    let call_fn = {
        let base = match (&kind, is_result) {
            (Kind::Sync, false) => "call",
            (Kind::Sync, true) => "try_call",
            (_, false) => "call_async",
            (_, true) => "try_call_async",
        };
        let name = if args.skip_output {
            format!("{base}_opaque")
        } else {
            base.to_owned()
        };
        Ident::new(&name, ret_span)
    };

    let async_body = |block: &Block| {
        gen_async_body(
            &krate,
            &begin,
            (&take_attachments, attach.as_ref()),
            &ret_tokens,
            &call_fn,
            ret_span,
            block,
        )
    };
    match kind {
        Kind::Sync => {
            let block = &f.block;
            let call = respan(
                quote!(#krate::__private::#call_fn(__ls_b, __ls_f)),
                ret_span,
            );
            let call = match &attach {
                None => call,
                Some(attach) => respan(
                    quote!(#krate::__private::#call_fn(__ls_b, move || { #attach __ls_f() })),
                    ret_span,
                ),
            };
            let body = quote! {
                let __ls_run = #begin;
                #take_attachments
                let __ls_f = #krate::__private::typed_fn::<#ret_tokens, _>(move || #block);
                match __ls_run {
                    ::core::option::Option::None => __ls_f(),
                    ::core::option::Option::Some(__ls_b) => #call,
                }
            };
            f.block = syn::parse2(quote!({ #body }))?;
        }
        Kind::Async => {
            let body = async_body(&f.block);
            f.block = syn::parse2(quote!({ #body }))?;
        }
        Kind::AsyncLike => {
            let Some(inner) = async_block_mut(&mut f.block) else {
                return Err(syn::Error::new(
                    f.sig.ident.span(),
                    "#[traceable]: internal error: async block not found",
                ));
            };
            let body = async_body(&inner.block);
            inner.block = syn::parse2(quote!({ #body }))?;
        }
    }

    let TracedFn {
        attrs,
        vis,
        sig,
        block,
    } = f;
    Ok(quote! {
        #(#attrs)*
        #vis #sig #block
    })
}

fn gen_async_body(
    krate: &TokenStream,
    begin: &TokenStream,
    (take_attachments, attach): (&TokenStream, Option<&TokenStream>),
    ret_tokens: &TokenStream,
    call_fn: &Ident,
    ret_span: Span,
    block: &Block,
) -> TokenStream {
    let fut = match attach {
        None => quote!(__ls_fut),
        Some(attach) => quote!(async move { #attach __ls_fut.await }),
    };
    let call = respan(quote!(#krate::__private::#call_fn(__ls_b, #fut)), ret_span);
    quote! {
        // In a block without `.await`, so that the builder is not kept in
        // the function's future.
        let __ls_next = {
            let __ls_run = #begin;
            #take_attachments
            let __ls_fut = #krate::__private::typed_future::<#ret_tokens, _>(async move #block);
            match __ls_run {
                ::core::option::Option::None => {
                    #krate::__private::MaybeTraced::Plain { fut: __ls_fut }
                }
                ::core::option::Option::Some(__ls_b) => #krate::__private::MaybeTraced::Traced {
                    fut: ::std::boxed::Box::pin(#call),
                },
            }
        };
        __ls_next.await
    }
}

/// The prologue: `Option<RunBuilder>`, `None` when the call is not traced.
fn gen_begin(
    args: &Args,
    krate: &TokenStream,
    sig: &Signature,
    recorded: &[(&Param, Record)],
) -> TokenStream {
    let name = match &args.name {
        Some(n) => n.clone(),
        None => LitStr::new(&sig.ident.unraw().to_string(), sig.ident.span()),
    };
    let mut opts = TokenStream::new();
    if let Some(rt) = &args.run_type {
        opts.extend(quote!(.run_type(#krate::RunType::#rt)));
    }
    for t in &args.tags {
        opts.extend(quote!(.tag(#t)));
    }
    for (k, v) in &args.metadata {
        opts.extend(quote!(.metadata(#k, #v)));
    }
    if let Some(p) = &args.project {
        opts.extend(quote!(.project(#p)));
    }

    // Up to twelve recorded arguments go into `InputsOf((Entry(..), ..))`,
    // each serialized once straight into the inputs object, by a generic
    // function whose type parameters carry the per-argument bounds (so that
    // an argument that is not `Serialize` gives one error, naming it); more
    // into the slice of `dyn` arguments of `Inputs`, each serialized on its
    // own first. (Twelve: the largest tuple `__private::InputsOf` is
    // implemented for; the twelve-argument test fails to compile if the two
    // disagree.)
    let tuple = recorded.len() <= 12;
    let input_trait = if tuple {
        quote!(#krate::__private::Input)
    } else {
        quote!(#krate::__private::InputDyn)
    };
    let mut items = TokenStream::new();
    let mut entries = Vec::new();
    let mut params = Vec::new();
    let mut args = Vec::new();
    for (i, (p, how)) in recorded.iter().enumerate() {
        let key = &p.name;
        match how {
            Record::Redacted => {
                entries.push(if tuple {
                    quote!(#krate::__private::Entry(#key, &#krate::__private::Redacted))
                } else {
                    quote!((#key, #krate::__private::Arg::Redacted))
                });
            }
            Record::Value => {
                let tr = format_ident!("__LsArg{}", i);
                let message = format!(
                    "argument `{key}` of a #[traceable] function must implement `serde::Serialize` \
                     to be recorded in the run's inputs: `{{Self}}` does not"
                );
                let note = if p.is_self {
                    "`self` is recorded because of #[traceable(include_self)]: remove it".to_owned()
                } else {
                    format!(
                        "skip it with #[traceable(skip({key}))], or record it as \"<redacted>\" \
                         with #[traceable(redact({key}))]"
                    )
                };
                items.extend(quote! {
                    #[diagnostic::on_unimplemented(
                        message = #message,
                        label = "not serializable",
                        note = #note
                    )]
                    trait #tr: #input_trait {}
                    impl<T: #input_trait> #tr for T {}
                });
                let ident = &p.ident;
                let value = quote_spanned!(p.span=> &#ident);
                if tuple {
                    let ty = format_ident!("__LsA{}", i);
                    let arg = format_ident!("__ls_a{}", i);
                    params.push(quote!(#arg: &#ty));
                    entries.push(quote!(#krate::__private::Entry(#key, #arg)));
                    args.push((ty, tr, value));
                } else {
                    let check = format_ident!("__ls_arg_{}", i);
                    items.extend(quote! {
                        fn #check<T: #tr>(v: &T) -> &dyn #krate::__private::InputDyn {
                            v
                        }
                    });
                    let value = quote_spanned!(p.span=> #check(#value));
                    entries.push(quote!((#key, #krate::__private::Arg::Value(#value))));
                }
            }
        }
    }
    let with_inputs = if tuple {
        let bounds = args.iter().map(|(ty, tr, _)| quote!(#ty: #tr));
        let values = args.iter().map(|(_, _, value)| value);
        quote! {
            #[allow(clippy::too_many_arguments)]
            fn __ls_inputs<#(#bounds),*>(#(#params),*) -> #krate::__private::Payload {
                #krate::__private::InputsOf((#(#entries,)*)).payload()
            }
            #krate::__private::with_inputs(__ls_call.apply(__ls_b), __ls_inputs(#(#values),*))
        }
    } else {
        quote!(__ls_call.apply(__ls_b).inputs(&#krate::__private::Inputs(&[#(#entries),*])))
    };
    quote! {
        match #krate::__private::begin() {
            ::core::option::Option::Some(mut __ls_call) => {
                ::core::option::Option::Some(#krate::__private::cold(|| {
                    #items
                    let __ls_b = __ls_call.builder(#name) #opts;
                    #with_inputs
                }))
            }
            ::core::option::Option::None => ::core::option::Option::None,
        }
    }
}

/// Every binding of the signature, in order (`self` first when present).
fn collect_params(sig: &Signature) -> Vec<Param> {
    let mut out = Vec::new();
    for arg in &sig.inputs {
        match arg {
            FnArg::Receiver(r) => out.push(Param {
                name: "self".to_owned(),
                ident: r.self_token.to_token_stream(),
                span: r.self_token.span,
                is_self: true,
                attachment: false,
            }),
            FnArg::Typed(pt) => {
                pat_idents(&pt.pat, &mut out);
                if matches!(&*pt.pat, Pat::Ident(_))
                    && is_attachment_type(&pt.ty)
                    && let Some(p) = out.last_mut()
                {
                    p.attachment = true;
                }
            }
        }
    }
    out
}

/// `Attachment`, `langsmith::Attachment` (any path ending so) or a
/// reference to one.
fn is_attachment_type(ty: &Type) -> bool {
    match ty {
        Type::Reference(r) => is_attachment_type(&r.elem),
        Type::Paren(p) => is_attachment_type(&p.elem),
        Type::Path(p) => {
            p.qself.is_none()
                && p.path
                    .segments
                    .last()
                    .is_some_and(|s| s.ident == "Attachment" && s.arguments.is_none())
        }
        _ => false,
    }
}

fn pat_idents(pat: &Pat, out: &mut Vec<Param>) {
    match pat {
        Pat::Ident(p) => {
            out.push(Param {
                name: p.ident.unraw().to_string(),
                // Resolved like the macro's own code (so lints about the
                // user's code, e.g. on `_x` bindings, do not fire on this
                // use), located at the argument for error messages.
                ident: {
                    let mut id = p.ident.clone();
                    id.set_span(Span::call_site().located_at(p.ident.span()));
                    id.to_token_stream()
                },
                span: p.ident.span(),
                is_self: p.ident == "self",
                attachment: false,
            });
            if let Some((_, sub)) = &p.subpat {
                pat_idents(sub, out);
            }
        }
        Pat::Reference(p) => pat_idents(&p.pat, out),
        Pat::Paren(p) => pat_idents(&p.pat, out),
        Pat::Type(p) => pat_idents(&p.pat, out),
        Pat::Tuple(p) => p.elems.iter().for_each(|e| pat_idents(e, out)),
        Pat::TupleStruct(p) => p.elems.iter().for_each(|e| pat_idents(e, out)),
        Pat::Slice(p) => p.elems.iter().for_each(|e| pat_idents(e, out)),
        Pat::Struct(p) => p.fields.iter().for_each(|f| pat_idents(&f.pat, out)),
        _ => {}
    }
}

/// Whether an option's list (`skip(..)`, `redact(..)`) names `p`.
fn option_names(list: &[Ident], p: &Param) -> bool {
    list.iter().any(|s| s.unraw() == p.name.as_str())
}

/// Which parameters go into the inputs, and how; checks `skip`/`redact` names.
fn select_inputs<'p>(
    args: &Args,
    params: &'p [Param],
    sig: &Signature,
) -> syn::Result<Vec<(&'p Param, Record)>> {
    let names: Vec<&str> = params.iter().map(|p| p.name.as_str()).collect();
    let check = |id: &Ident, option: &str| -> syn::Result<()> {
        let n = id.unraw().to_string();
        if names.contains(&n.as_str()) {
            return Ok(());
        }
        let known: Vec<&str> = names.iter().copied().filter(|n| *n != "self").collect();
        let list = if known.is_empty() {
            format!("`{}` has no arguments", sig.ident)
        } else {
            format!("arguments: {}", known.join(", "))
        };
        Err(syn::Error::new(
            id.span(),
            format!(
                "#[traceable({option}(..))]: `{}` has no argument `{n}` ({list})",
                sig.ident
            ),
        ))
    };
    if let Some(span) = args
        .skip_all
        .filter(|_| !(args.skip.is_empty() && args.redact.is_empty()))
    {
        return Err(syn::Error::new(
            span,
            "`skip_all` already leaves every argument out: remove `skip(..)`/`redact(..)`",
        ));
    }
    let mut errors: Option<syn::Error> = None;
    let mut push = |e: syn::Error| match &mut errors {
        Some(all) => all.combine(e),
        None => errors = Some(e),
    };
    for id in &args.skip {
        if let Err(e) = check(id, "skip") {
            push(e);
        }
    }
    for id in &args.redact {
        if let Err(e) = check(id, "redact") {
            push(e);
        } else if args.skip.iter().any(|s| s == id) {
            push(syn::Error::new(
                id.span(),
                format!("`{id}` is both skipped and redacted: pick one"),
            ));
        }
    }
    if let Some(e) = errors {
        return Err(e);
    }
    let skipped = |p: &Param| option_names(&args.skip, p);
    let redacted = |p: &Param| option_names(&args.redact, p);
    let mut out = Vec::new();
    for p in params {
        let how = if skipped(p) || (p.attachment && !redacted(p)) {
            continue;
        } else if redacted(p) {
            Record::Redacted
        } else if p.is_self {
            if !args.include_self {
                continue;
            }
            Record::Value
        } else if args.skip_all.is_some() {
            continue;
        } else {
            Record::Value
        };
        out.push((p, how));
    }
    Ok(out)
}

/// The async block a non-`async` fn returns as its last expression:
/// `async move {..}` or `Box::pin(async move {..})`.
fn async_block_mut(block: &mut Block) -> Option<&mut syn::ExprAsync> {
    let last = block.stmts.iter_mut().rev().find_map(|s| match s {
        Stmt::Expr(e, None) => Some(e),
        _ => None,
    })?;
    match last {
        Expr::Async(a) => Some(a),
        Expr::Call(call) => {
            let Expr::Path(p) = &*call.func else {
                return None;
            };
            let segs: Vec<String> = p
                .path
                .segments
                .iter()
                .map(|s| s.ident.to_string())
                .collect();
            let n = segs.len();
            if n < 2 || segs[n - 2] != "Box" || segs[n - 1] != "pin" || call.args.len() != 1 {
                return None;
            }
            match call.args.first_mut() {
                Some(Expr::Async(a)) => Some(a),
                _ => None,
            }
        }
        _ => None,
    }
}

/// `R` in `Pin<Box<dyn Future<Output = R> + ..>>`, `impl Future<Output = R>`,
/// `BoxFuture<'a, R>`.
fn future_output(ty: &Type) -> Option<Type> {
    match ty {
        Type::Path(tp) => {
            let last = tp.path.segments.last()?;
            let PathArguments::AngleBracketed(ab) = &last.arguments else {
                return None;
            };
            if last.ident == "BoxFuture" || last.ident == "LocalBoxFuture" {
                return ab.args.iter().rev().find_map(|a| match a {
                    GenericArgument::Type(t) => Some(t.clone()),
                    _ => None,
                });
            }
            ab.args.iter().find_map(|a| match a {
                GenericArgument::Type(t) => future_output(t),
                _ => None,
            })
        }
        Type::TraitObject(t) => bounds_output(t.bounds.iter()),
        Type::ImplTrait(t) => bounds_output(t.bounds.iter()),
        Type::Paren(t) => future_output(&t.elem),
        Type::Group(t) => future_output(&t.elem),
        _ => None,
    }
}

fn bounds_output<'a>(mut bounds: impl Iterator<Item = &'a TypeParamBound>) -> Option<Type> {
    bounds.find_map(|b| {
        let TypeParamBound::Trait(tb) = b else {
            return None;
        };
        let last = tb.path.segments.last()?;
        if last.ident != "Future" {
            return None;
        }
        let PathArguments::AngleBracketed(ab) = &last.arguments else {
            return None;
        };
        ab.args.iter().find_map(|a| match a {
            GenericArgument::AssocType(at) if at.ident == "Output" => Some(at.ty.clone()),
            _ => None,
        })
    })
}

/// `Result<..>`, `io::Result<..>`, `std::result::Result<..>`: recorded as
/// `Ok` output / `Err` error. Type aliases need `result`.
fn is_result_type(ty: &Type) -> bool {
    match ty {
        Type::Path(tp) if tp.qself.is_none() => {
            tp.path.segments.last().is_some_and(|s| s.ident == "Result")
        }
        Type::Paren(t) => is_result_type(&t.elem),
        Type::Group(t) => is_result_type(&t.elem),
        _ => false,
    }
}

/// Gives every token of `ts` the span `span` (so that an error about the
/// expression points at the user's code, e.g. the return type).
fn respan(ts: TokenStream, span: Span) -> TokenStream {
    ts.into_iter()
        .map(|mut tt| {
            if let proc_macro2::TokenTree::Group(g) = &tt {
                let mut ng = proc_macro2::Group::new(g.delimiter(), respan(g.stream(), span));
                ng.set_span(span);
                tt = proc_macro2::TokenTree::Group(ng);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}

/// Replaces `impl Trait` with `_`, so the type can be written in a turbofish.
struct ImplToInfer;

impl VisitMut for ImplToInfer {
    fn visit_type_mut(&mut self, ty: &mut Type) {
        if let Type::ImplTrait(it) = ty {
            *ty = Type::Infer(syn::TypeInfer {
                underscore_token: Token![_](it.impl_token.span),
            });
            return;
        }
        syn::visit_mut::visit_type_mut(self, ty);
    }
}

use syn::ext::IdentExt;
