//! Property tests for the header codec: emit → parse round-trips, the
//! percent-encoding model, and `parse`/`merge_baggage` never panicking.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use langsmith_core::headers::{Baggage, MAX_BAGGAGE_LEN, ReplicaHint, emit, merge_baggage, parse};
use langsmith_core::{DottedOrder, Timestamp, Uuid};
use proptest::prelude::*;
use serde_json::{Map, Value};
use std::collections::HashSet;

/// Strings that stress the encoding: separators of the baggage syntax,
/// `%` and `+`, spaces, quotes, escapes, control characters, non-ASCII.
fn tricky_string() -> impl Strategy<Value = String> {
    prop_oneof![
        "[,;=%+ \"\\\\/~!*'()a-zA-Z0-9\u{e9}\u{2713}\u{1F600}\n\t\u{1}\u{7f}\u{2028}]{0,10}",
        any::<String>().prop_map(|s| s.chars().take(12).collect()),
    ]
}

/// Floats that serde_json reads back exactly (short decimal expansions).
fn nice_f64() -> impl Strategy<Value = f64> {
    (any::<i32>(), 0u32..10).prop_map(|(m, e)| f64::from(m) / f64::from(1u32 << e))
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        nice_f64().prop_map(Value::from),
        tricky_string().prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((tricky_string(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn metadata() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((tricky_string(), json_value()), 0..4)
        .prop_map(|kv| kv.into_iter().collect())
}

/// Tags as they can round-trip: non-empty and without a comma (tags are sent
/// comma-joined, as in the Python SDK).
fn tags() -> impl Strategy<Value = Vec<String>> {
    prop::collection::vec(
        tricky_string().prop_filter("no empty tag, no comma", |t| {
            !t.is_empty() && !t.contains(',')
        }),
        0..4,
    )
}

/// Valid foreign W3C entries: token key, baggage-octet value, maybe a property.
fn foreign_entry() -> impl Strategy<Value = String> {
    (
        "[a-zA-Z0-9!#$&'*+.^_`|~-]{1,8}",
        "[!#-+\\--:<-\\[\\]-~]{0,8}",
        prop::option::of("[a-z]{1,4}(=[a-z0-9]{1,4})?"),
    )
        .prop_filter("not one of ours", |(k, _, _)| !k.starts_with("langsmith-"))
        .prop_map(|(k, v, p)| match p {
            Some(p) => format!("{k}={v};{p}"),
            None => format!("{k}={v}"),
        })
}

fn replica() -> impl Strategy<Value = ReplicaHint> {
    (
        tricky_string().prop_filter("named", |p| !p.is_empty()),
        prop::option::of((
            prop::option::of(any::<bool>()),
            prop::option::of(metadata()),
            prop::option::of(tags()),
        )),
    )
        .prop_map(|(project, updates)| ReplicaHint {
            project_name: Some(project),
            updates: updates.map(|(reroot, md, tags)| {
                let mut m = Map::new();
                if let Some(r) = reroot {
                    m.insert("reroot".into(), Value::from(r));
                }
                if let Some(md) = md {
                    m.insert("metadata".into(), Value::Object(md));
                }
                if let Some(t) = tags {
                    m.insert("tags".into(), Value::from(t));
                }
                m
            }),
        })
}

fn baggage() -> impl Strategy<Value = Baggage> {
    (
        metadata(),
        tags(),
        prop::option::of(tricky_string().prop_filter("non-empty", |p| !p.is_empty())),
        prop::option::of(Just(false)),
        prop::collection::vec(replica(), 0..3),
        prop::collection::vec(foreign_entry(), 0..4),
    )
        .prop_map(
            |(metadata, tags, project, sampled, replicas, foreign)| Baggage {
                metadata,
                tags,
                project,
                sampled,
                replicas,
                foreign,
            },
        )
}

fn dotted_order() -> impl Strategy<Value = DottedOrder> {
    (
        0i64..4_102_444_800_000_000,
        any::<u128>(),
        prop::collection::vec((0i64..1_000_000, any::<u128>()), 0..4),
    )
        .prop_map(|(t, id, children)| {
            let mut d = DottedOrder::root(Timestamp::from_micros(t), Uuid::from_u128(id));
            let mut now = t;
            for (dt, id) in children {
                now += dt;
                d = d.child(Timestamp::from_micros(now), Uuid::from_u128(id));
            }
            d
        })
}

/// `urllib.parse.quote(s, safe="/")`, written the obvious way.
fn model_quote(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"_.-~/".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

fn json_text(m: &Map<String, Value>) -> String {
    serde_json::to_string(m).unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn emit_then_parse_round_trips(d in dotted_order(), b in baggage()) {
        let out = emit(Some(&d), &b);
        let value = out.baggage.clone().unwrap_or_default();
        prop_assume!(value.len() <= MAX_BAGGAGE_LEN);
        let parsed = parse(out.iter());
        prop_assert_eq!(&parsed.errors, &vec![]);
        prop_assert_eq!(parsed.context.parent.as_ref(), Some(&d));
        let got = &parsed.context.baggage;
        prop_assert_eq!(got, &b);
        // Key order too (Map equality ignores it).
        prop_assert_eq!(json_text(&got.metadata), json_text(&b.metadata));
        // And what we would send on is the same bytes.
        prop_assert_eq!(emit(parsed.context.parent.as_ref(), got), out);
    }

    #[test]
    fn project_and_tags_are_quoted_like_python(
        project in tricky_string().prop_filter("non-empty", |p| !p.is_empty()),
        tags in prop::collection::vec(any::<String>(), 1..4),
    ) {
        let b = Baggage { project: Some(project.clone()), tags: tags.clone(), ..Baggage::default() };
        let want = format!(
            "langsmith-tags={},langsmith-project={}",
            model_quote(&tags.join(",")),
            model_quote(&project)
        );
        prop_assert_eq!(b.encode(), Some(want));
    }

    /// A comma in a tag is lost exactly as in Python: the receiver splits the
    /// joined string (and we drop the empty pieces).
    #[test]
    fn tags_come_back_as_the_comma_split_of_the_joined_tags(tags in prop::collection::vec(tricky_string(), 1..5)) {
        let b = Baggage { tags: tags.clone(), ..Baggage::default() };
        let back = parse([("baggage", b.encode().unwrap())]);
        let joined = tags.join(",");
        let want: Vec<&str> = joined.split(',').filter(|t| !t.is_empty()).collect();
        prop_assert_eq!(back.context.baggage.tags, want);
    }

    #[test]
    fn parse_never_panics_on_bytes(
        headers in prop::collection::vec(
            (
                prop_oneof![
                    Just("langsmith-trace".to_owned()),
                    Just("LangSmith-Trace".to_owned()),
                    Just("baggage".to_owned()),
                    Just("BAGGAGE".to_owned()),
                    "[a-zA-Z-]{0,12}",
                ],
                prop::collection::vec(any::<u8>(), 0..400),
            ),
            0..6,
        )
    ) {
        let p = parse(headers);
        for e in &p.errors {
            let _ = e.to_string();
        }
    }

    #[test]
    fn parse_never_panics_on_baggage_like_strings(
        entries in prop::collection::vec(
            (
                prop_oneof![
                    Just("langsmith-metadata"),
                    Just("langsmith-tags"),
                    Just("langsmith-project"),
                    Just("langsmith-sampled"),
                    Just("langsmith-replicas"),
                    Just("langsmith-address"),
                    Just("k"),
                    Just(""),
                ],
                "[%0-9A-Fa-f,;= \t{}\\[\\]\":a-z/+\u{e9}]{0,40}",
            ),
            0..8,
        ),
        trace in "[0-9TZa-f.-]{0,120}",
    ) {
        let value: Vec<String> = entries.iter().map(|(k, v)| format!("{k}={v}")).collect();
        let p = parse([("baggage", value.join(",")), ("langsmith-trace", trace)]);
        // Whatever was accepted can be sent on and read back the same
        // (except `langsmith-sampled=1`, the default, which is not sent).
        let out = emit(p.context.parent.as_ref(), &p.context.baggage);
        if out.baggage.as_ref().is_none_or(|b| b.len() <= MAX_BAGGAGE_LEN) {
            let again = parse(out.iter());
            let mut want = p.context.baggage.clone();
            want.sampled = want.sampled.filter(|s| !s);
            prop_assert_eq!(&again.context.baggage, &want);
            prop_assert_eq!(again.context.parent, p.context.parent);
        }
    }

    #[test]
    fn parse_never_panics_on_json_payloads(v in json_value(), key in prop_oneof![
        Just("langsmith-metadata"), Just("langsmith-replicas")
    ]) {
        let json = serde_json::to_string(&v).unwrap();
        let b = format!("{key}={},langsmith-project=p", model_quote(&json));
        let p = parse([("baggage", b)]);
        // The good entry is never lost to the bad one.
        prop_assert_eq!(p.context.baggage.project.as_deref(), Some("p"));
    }

    #[test]
    fn merge_baggage_has_no_duplicate_keys_and_ours_win(
        ours in baggage(),
        existing in prop::collection::vec(
            prop_oneof![
                foreign_entry(),
                Just("langsmith-project=stale".to_owned()),
                Just("langsmith-tags=stale".to_owned()),
                "[ ,;=a-z]{0,12}",
            ],
            0..6,
        ),
    ) {
        let ours_value = ours.encode().unwrap_or_default();
        let merged = merge_baggage(&existing.join(","), &ours_value);
        let keys: Vec<&str> = merged
            .split(',')
            .filter(|m| !m.trim().is_empty())
            .map(|m| m.split_once('=').map_or(m, |(k, _)| k).trim())
            .collect();
        let unique: HashSet<&str> = keys.iter().copied().collect();
        prop_assert_eq!(unique.len(), keys.len(), "{}", merged);
        if merged.len() <= MAX_BAGGAGE_LEN {
            let p = parse([("baggage", &merged)]);
            let b = &p.context.baggage;
            prop_assert_eq!(&b.metadata, &ours.metadata);
            if ours.project.is_some() {
                prop_assert_eq!(&b.project, &ours.project);
            }
            if !ours.tags.is_empty() {
                prop_assert_eq!(&b.tags, &ours.tags);
            }
        }
    }
}
