//! Byte-exact header vectors: the Python SDK fixture, extra cases generated
//! with the real Python SDK, and the W3C/robustness behaviour of `parse`.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use langsmith_core::headers::{
    AgentAddress, AgentEnvironment, Baggage, HeaderError, Outgoing, ReplicaHint, emit,
    merge_baggage, parse,
};
use langsmith_core::{DottedOrder, DottedOrderError, Timestamp, Uuid};
use serde_json::{Map, Value, json};

const FIXTURE: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../testdata/python-sdk/python-sdk-headers.json"
));

/// Produced by /tmp/genv.py with the official Python SDK (langsmith 0.14.17):
/// each `emit` case is
/// `RunTree(id=run_id, name="x", start_time=start_time, extra={"metadata": metadata}, tags=tags, project_name=project).to_headers()`;
/// each `parse` case is `RunTree.from_headers(headers)` (`expect: null` when it
/// returns `None`), reporting `id`, `trace_id`, `parent_run_id`,
/// `dotted_order`, `extra["metadata"]`, `tags`, `session_name`, `replicas`
/// (project_name/updates) and `address` (as its LRN).
const PY_EXTRA: &str = r###"{
 "emit": [
  {
   "run_id": "0193d5a2-0000-7000-8000-000000000100",
   "start_time": "2026-01-02T03:04:05.678901+00:00",
   "metadata": {
    "pct": "100%",
    "plus": "a+b",
    "sp": "a b",
    "safe": "-_.~/",
    "js": "!*'()",
    "q": "\"\\",
    "uni": "é✓😀",
    "ctl": "\n\t\r\b\f\u0001\u001f",
    "ls": "  "
   },
   "tags": [],
   "project": "p",
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000100",
    "baggage": "langsmith-metadata=%7B%22pct%22%3A%22100%25%22%2C%22plus%22%3A%22a%2Bb%22%2C%22sp%22%3A%22a%20b%22%2C%22safe%22%3A%22-_.~/%22%2C%22js%22%3A%22%21%2A%27%28%29%22%2C%22q%22%3A%22%5C%22%5C%5C%22%2C%22uni%22%3A%22%C3%A9%E2%9C%93%F0%9F%98%80%22%2C%22ctl%22%3A%22%5Cn%5Ct%5Cr%5Cb%5Cf%5Cu0001%5Cu001f%7F%22%2C%22ls%22%3A%22%E2%80%A8%E2%80%A9%22%7D,langsmith-project=p"
   }
  },
  {
   "run_id": "0193d5a2-0000-7000-8000-000000000101",
   "start_time": "2026-01-02T03:04:05.678901+00:00",
   "metadata": {
    "f": [
     0.1,
     1e+20,
     1e-07,
     1.0,
     -0.0,
     123456789.123,
     1e+16,
     1000000000000000.0,
     5e-324,
     1.7976931348623157e+308,
     2.5e-05,
     1e+21,
     1e-06,
     1.23e-18,
     -837128935158365.2
    ]
   },
   "tags": [],
   "project": "p",
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000101",
    "baggage": "langsmith-metadata=%7B%22f%22%3A%5B0.1%2C1e%2B20%2C1e-7%2C1.0%2C-0.0%2C123456789.123%2C1e%2B16%2C1000000000000000.0%2C5e-324%2C1.7976931348623157e%2B308%2C0.000025%2C1e%2B21%2C1e-6%2C1.23e-18%2C-837128935158365.2%5D%7D,langsmith-project=p"
   }
  },
  {
   "run_id": "0193d5a2-0000-7000-8000-000000000102",
   "start_time": "2026-01-02T03:04:05.678901+00:00",
   "metadata": {
    "i": [
     9223372036854775807,
     -9223372036854775808,
     18446744073709551615,
     0,
     -1
    ]
   },
   "tags": [],
   "project": "p",
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000102",
    "baggage": "langsmith-metadata=%7B%22i%22%3A%5B9223372036854775807%2C-9223372036854775808%2C18446744073709551615%2C0%2C-1%5D%7D,langsmith-project=p"
   }
  },
  {
   "run_id": "0193d5a2-0000-7000-8000-000000000103",
   "start_time": "2026-01-02T03:04:05.678901+00:00",
   "metadata": {
    "k,;= %+": "v,;= %+"
   },
   "tags": [
    "a,b",
    "c"
   ],
   "project": "p",
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000103",
    "baggage": "langsmith-metadata=%7B%22k%2C%3B%3D%20%25%2B%22%3A%22v%2C%3B%3D%20%25%2B%22%7D,langsmith-tags=a%2Cb%2Cc,langsmith-project=p"
   }
  },
  {
   "run_id": "0193d5a2-0000-7000-8000-000000000104",
   "start_time": "2026-01-02T03:04:05.678901+00:00",
   "metadata": {},
   "tags": [
    "x",
    ""
   ],
   "project": "p",
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000104",
    "baggage": "langsmith-tags=x%2C,langsmith-project=p"
   }
  },
  {
   "run_id": "0193d5a2-0000-7000-8000-000000000105",
   "start_time": "2026-01-02T03:04:05.678901+00:00",
   "metadata": {},
   "tags": [
    ""
   ],
   "project": "p",
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000105",
    "baggage": "langsmith-tags=,langsmith-project=p"
   }
  },
  {
   "run_id": "0193d5a2-0000-7000-8000-000000000106",
   "start_time": "2026-01-02T03:04:05.678901+00:00",
   "metadata": {},
   "tags": [
    "t 1",
    "😀",
    "a/b",
    "%2C"
   ],
   "project": "my/proj ~%😀",
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000106",
    "baggage": "langsmith-tags=t%201%2C%F0%9F%98%80%2Ca/b%2C%252C,langsmith-project=my/proj%20~%25%F0%9F%98%80"
   }
  },
  {
   "run_id": "0193d5a2-0000-7000-8000-000000000107",
   "start_time": "2026-01-02T03:04:05.678901+00:00",
   "metadata": {
    "e": {},
    "l": [],
    "n": null
   },
   "tags": [],
   "project": "p",
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000107",
    "baggage": "langsmith-metadata=%7B%22e%22%3A%7B%7D%2C%22l%22%3A%5B%5D%2C%22n%22%3Anull%7D,langsmith-project=p"
   }
  },
  {
   "run_id": "0193d5a2-0000-7000-8000-000000000108",
   "start_time": "2026-01-02T03:04:05.678901+00:00",
   "metadata": {
    "emoji😀key": {
     "deep": [
      [
       []
      ]
     ]
    },
    "ls_temperature": 0.7
   },
   "tags": [
    "é"
   ],
   "project": "é",
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000108",
    "baggage": "langsmith-metadata=%7B%22emoji%F0%9F%98%80key%22%3A%7B%22deep%22%3A%5B%5B%5B%5D%5D%5D%7D%2C%22ls_temperature%22%3A0.7%7D,langsmith-tags=%C3%A9,langsmith-project=%C3%A9"
   }
  },
  {
   "run_id": "0193d5a2-0000-7000-8000-000000000109",
   "start_time": "2026-01-02T03:04:05.678901+00:00",
   "metadata": {
    "z": 1,
    "a": 2,
    "m": 3
   },
   "tags": [
    "b",
    "a",
    "b"
   ],
   "project": "default",
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000109",
    "baggage": "langsmith-metadata=%7B%22z%22%3A1%2C%22a%22%3A2%2C%22m%22%3A3%7D,langsmith-tags=b%2Ca%2Cb,langsmith-project=default"
   }
  }
 ],
 "parse": [
  {
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
    "baggage": "langsmith-metadata=%7B%22a%22%3A%22x%2Fy%20!*'()%22%7D,langsmith-tags=b%2Ca,langsmith-project=a%2Bb+c"
   },
   "expect": {
    "id": "0193d5a2-0000-7000-8000-000000000001",
    "trace_id": "0193d5a2-0000-7000-8000-000000000001",
    "parent_run_id": null,
    "dotted_order": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
    "metadata": {
     "a": "x/y !*'()"
    },
    "tags": [
     "a",
     "b"
    ],
    "project": "a+b+c",
    "replicas": [],
    "address": null
   }
  },
  {
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001.20260102T030405678906Z0193d5a2-0000-7000-8000-000000000002",
    "baggage": "langsmith-metadata=%7b%22k%22%3a%22%c3%a9%22%7d,langsmith-project=%F0%9F%98%80"
   },
   "expect": {
    "id": "0193d5a2-0000-7000-8000-000000000002",
    "trace_id": "0193d5a2-0000-7000-8000-000000000001",
    "parent_run_id": "0193d5a2-0000-7000-8000-000000000001",
    "dotted_order": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001.20260102T030405678906Z0193d5a2-0000-7000-8000-000000000002",
    "metadata": {
     "k": "é"
    },
    "tags": [],
    "project": "😀",
    "replicas": [],
    "address": null
   }
  },
  {
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
    "baggage": "langsmith-metadata=%7B%22k%22%3A1%2C%22k%22%3A2%2C%22j%22%3A3%7D"
   },
   "expect": {
    "id": "0193d5a2-0000-7000-8000-000000000001",
    "trace_id": "0193d5a2-0000-7000-8000-000000000001",
    "parent_run_id": null,
    "dotted_order": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
    "metadata": {
     "k": 2,
     "j": 3
    },
    "tags": [],
    "project": "default",
    "replicas": [],
    "address": null
   }
  },
  {
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
    "baggage": "langsmith-tags=b%2Ca%2Cb,other=1"
   },
   "expect": {
    "id": "0193d5a2-0000-7000-8000-000000000001",
    "trace_id": "0193d5a2-0000-7000-8000-000000000001",
    "parent_run_id": null,
    "dotted_order": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
    "metadata": {},
    "tags": [
     "a",
     "b"
    ],
    "project": "default",
    "replicas": [],
    "address": null
   }
  },
  {
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
    "baggage": "langsmith-project=default"
   },
   "expect": {
    "id": "0193d5a2-0000-7000-8000-000000000001",
    "trace_id": "0193d5a2-0000-7000-8000-000000000001",
    "parent_run_id": null,
    "dotted_order": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
    "metadata": {},
    "tags": [],
    "project": "default",
    "replicas": [],
    "address": null
   }
  },
  {
   "headers": {
    "langsmith-trace": " 20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001 ",
    "baggage": "langsmith-project=p"
   },
   "expect": {
    "id": "0193d5a2-0000-7000-8000-000000000001",
    "trace_id": "0193d5a2-0000-7000-8000-000000000001",
    "parent_run_id": null,
    "dotted_order": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
    "metadata": {},
    "tags": [],
    "project": "p",
    "replicas": [],
    "address": null
   }
  },
  {
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
    "baggage": "langsmith-replicas=%5B%5B%22rp1%22%2C%7B%22metadata%22%3A%7B%22x%22%3A1%7D%2C%22session_name%22%3A%22evil%22%7D%5D%2C%5B%22rp2%22%2Cnull%5D%5D"
   },
   "expect": {
    "id": "0193d5a2-0000-7000-8000-000000000001",
    "trace_id": "0193d5a2-0000-7000-8000-000000000001",
    "parent_run_id": null,
    "dotted_order": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
    "metadata": {},
    "tags": [],
    "project": "default",
    "replicas": [
     {
      "project_name": "rp1",
      "updates": {
       "metadata": {
        "x": 1
       }
      }
     },
     {
      "project_name": "rp2",
      "updates": null
     }
    ],
    "address": null
   }
  },
  {
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
    "baggage": "langsmith-replicas=%5B%7B%22api_url%22%3A%22https%3A//evil.example%22%2C%22api_key%22%3A%22k%22%2C%22project_name%22%3A%22rp3%22%2C%22updates%22%3A%7B%22reroot%22%3Atrue%2C%22tags%22%3A%5B%22t%22%5D%7D%7D%2C%7B%22project_name%22%3A%22%22%2C%22updates%22%3A%7B%7D%7D%2C%7B%22updates%22%3A%7B%7D%7D%5D"
   },
   "expect": {
    "id": "0193d5a2-0000-7000-8000-000000000001",
    "trace_id": "0193d5a2-0000-7000-8000-000000000001",
    "parent_run_id": null,
    "dotted_order": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
    "metadata": {},
    "tags": [],
    "project": "default",
    "replicas": [
     {
      "project_name": "rp3",
      "updates": {
       "reroot": true,
       "tags": [
        "t"
       ]
      }
     }
    ],
    "address": null
   }
  },
  {
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
    "baggage": "langsmith-address=lrn%3Aagents/support-agent/environments/production"
   },
   "expect": {
    "id": "0193d5a2-0000-7000-8000-000000000001",
    "trace_id": "0193d5a2-0000-7000-8000-000000000001",
    "parent_run_id": null,
    "dotted_order": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
    "metadata": {},
    "tags": [],
    "project": null,
    "replicas": [],
    "address": "lrn:agents/support-agent/environments/production"
   }
  },
  {
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
    "baggage": "langsmith-address=lrn%3Aagents/support-agent/environments/PRODUCTION,langsmith-project=p"
   },
   "expect": null
  },
  {
   "headers": {
    "langsmith-trace": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
    "baggage": "langsmith-address=lrn%3Aagents/Bad/environments/production,langsmith-project=p"
   },
   "expect": {
    "id": "0193d5a2-0000-7000-8000-000000000001",
    "trace_id": "0193d5a2-0000-7000-8000-000000000001",
    "parent_run_id": null,
    "dotted_order": "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001",
    "metadata": {},
    "tags": [],
    "project": "p",
    "replicas": [],
    "address": null
   }
  }
 ]
}"###;

const T1: &str = "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000001";

fn fixture(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn baggage_of(case: &Value) -> Baggage {
    Baggage {
        metadata: case["metadata"].as_object().unwrap().clone(),
        tags: case["tags"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .collect(),
        project: case["project"].as_str().map(str::to_owned),
        ..Baggage::default()
    }
}

fn check_emit(case: &Value) {
    let id: Uuid = case["run_id"].as_str().unwrap().parse().unwrap();
    let start = Timestamp::parse_rfc3339(case["start_time"].as_str().unwrap()).unwrap();
    let run = DottedOrder::root(start, id);
    let out = emit(Some(&run), &baggage_of(case));
    let want = case["headers"].as_object().unwrap();
    assert_eq!(
        out.trace.as_deref(),
        want["langsmith-trace"].as_str(),
        "trace of {case}"
    );
    assert_eq!(
        out.baggage.as_deref(),
        want["baggage"].as_str(),
        "baggage of {case}"
    );
    let got: Vec<(&str, &str)> = out.iter().collect();
    let expected: Vec<(&str, &str)> = want
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str().unwrap()))
        .collect();
    assert_eq!(got, expected);
}

/// Python's `from_headers` merges baggage tags as `sorted(set(tags))`.
fn python_tags(tags: &[String]) -> Vec<String> {
    let mut t = tags.to_vec();
    t.sort();
    t.dedup();
    t
}

/// Compares `parse` with what `RunTree.from_headers` made of the same headers.
fn check_parse(case: &Value) {
    let headers: Vec<(String, String)> = case["headers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
        .collect();
    let parsed = parse(headers);
    let expect = &case["expect"];
    let ctx = &parsed.context;
    if expect.is_null() {
        assert_eq!(ctx.parent, None, "{case}");
        return;
    }
    let parent = ctx.parent.as_ref().expect("parent");
    assert_eq!(parent.run_id().to_string(), expect["id"], "{case}");
    assert_eq!(parent.trace_id().to_string(), expect["trace_id"], "{case}");
    assert_eq!(
        parent.parent_id().map(|p| p.to_string()),
        expect["parent_run_id"].as_str().map(str::to_owned),
        "{case}"
    );
    assert_eq!(parent.as_str(), expect["dotted_order"], "{case}");
    // Same keys, values and order.
    assert_eq!(
        serde_json::to_string(&ctx.baggage.metadata).unwrap(),
        serde_json::to_string(&expect["metadata"]).unwrap(),
        "{case}"
    );
    let want_tags: Vec<String> = serde_json::from_value(expect["tags"].clone()).unwrap();
    assert_eq!(python_tags(&ctx.baggage.tags), want_tags, "{case}");
    // A missing project means the receiver's default, "default" in Python;
    // an addressed run has none.
    let project = ctx.baggage.project.as_deref();
    match expect["project"].as_str() {
        Some(p) => assert_eq!(project.unwrap_or("default"), p, "{case}"),
        None => assert_eq!(project, None, "{case}"),
    }
    if let Some(replicas) = expect.get("replicas") {
        let got: Vec<Value> = ctx
            .baggage
            .replicas
            .iter()
            .map(|r| json!({"project_name": r.project_name, "updates": r.updates}))
            .collect();
        assert_eq!(&Value::Array(got), replicas, "{case}");
    }
    if let Some(address) = expect.get("address") {
        assert_eq!(
            ctx.baggage.address().map(|a| a.to_lrn()),
            address.as_str().map(str::to_owned),
            "{case}"
        );
    }
}

#[test]
fn fixture_emit_cases() {
    let f = fixture(FIXTURE);
    let cases = f["emit"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    cases.iter().for_each(check_emit);
}

#[test]
fn fixture_child_dotted_order_cases() {
    let f = fixture(FIXTURE);
    let cases = f["child_dotted_order"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        let parent = DottedOrder::parse(case["parent_dotted_order"].as_str().unwrap()).unwrap();
        let start = Timestamp::parse_rfc3339(case["child_start_time"].as_str().unwrap()).unwrap();
        let id: Uuid = case["child_id"].as_str().unwrap().parse().unwrap();
        let child = parent.child(start.max(parent.start_time()), id);
        assert_eq!(child.as_str(), case["child_dotted_order"]);
        assert_eq!(child.trace_id().to_string(), case["child_trace_id"]);
        assert_eq!(
            child.parent_id().map(|p| p.to_string()).as_deref(),
            case["child_parent_run_id"].as_str()
        );
        // And it travels: the child's outgoing trace header is its dotted order.
        let out = emit(Some(&child), &Baggage::default());
        assert_eq!(out.trace.as_deref(), Some(child.as_str()));
        assert_eq!(out.baggage, None);
    }
}

#[test]
fn fixture_parse_cases() {
    let f = fixture(FIXTURE);
    let cases = f["parse"].as_array().unwrap();
    assert_eq!(cases.len(), 4);
    for case in cases {
        check_parse(case);
        let headers: Vec<(String, String)> = case["headers"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_owned()))
            .collect();
        assert_eq!(parse(headers).errors, [], "{case}");
    }
}

#[test]
fn python_generated_emit_cases() {
    let f = fixture(PY_EXTRA);
    let cases = f["emit"].as_array().unwrap();
    assert_eq!(cases.len(), 10);
    cases.iter().for_each(check_emit);
}

#[test]
fn python_generated_parse_cases() {
    let f = fixture(PY_EXTRA);
    let cases = f["parse"].as_array().unwrap();
    assert_eq!(cases.len(), 11);
    cases.iter().for_each(check_parse);
}

/// Emitted values read back to the same baggage (all generated Python cases
/// whose tags have no comma and no empty tag).
#[test]
fn python_generated_emit_cases_round_trip() {
    let f = fixture(PY_EXTRA);
    for case in f["emit"].as_array().unwrap() {
        let b = baggage_of(case);
        if b.tags.iter().any(|t| t.is_empty() || t.contains(',')) {
            continue;
        }
        let out = emit(None, &b);
        let parsed = parse(out.iter());
        assert_eq!(parsed.errors, []);
        assert_eq!(parsed.context.baggage, b, "{case}");
    }
}

// --- Python behaviour we deliberately do not copy --------------------------

/// `RunTree.from_headers` with `baggage: langsmith-tags=a%2C%2Cb` gives tags
/// `["", "a", "b"]` and with `langsmith-tags=,langsmith-project=` gives
/// `[""]` and project "default" (langsmith 0.14.17). Empty tags carry
/// nothing, so we drop them; an empty project is no project in both.
#[test]
fn empty_tags_are_dropped() {
    let b = parse([("baggage", "langsmith-tags=a%2C%2Cb")])
        .context
        .baggage;
    assert_eq!(b.tags, ["a", "b"]);
    let p = parse([("baggage", "langsmith-tags=,langsmith-project=")]);
    assert_eq!(p.errors, []);
    assert_eq!(p.context.baggage, Baggage::default());
}

/// Python emits `langsmith-tags=x%2C` for tags `["x", ""]` and
/// `langsmith-tags=` for `[""]` (see PY_EXTRA); so do we, byte for byte.
/// A tag with a comma is sent comma-joined too (`["a,b", "c"]` →
/// `a%2Cb%2Cc`), so it comes back as two tags, as in Python.
#[test]
fn tags_with_commas_split_like_python() {
    let b = Baggage {
        tags: vec!["a,b".into(), "c".into()],
        ..Baggage::default()
    };
    assert_eq!(b.encode().as_deref(), Some("langsmith-tags=a%2Cb%2Cc"));
    let back = parse([("baggage", b.encode().unwrap())]).context.baggage;
    assert_eq!(back.tags, ["a", "b", "c"]);
}

// --- JS SDK input -----------------------------------------------------------

/// The JS SDK writes `encodeURIComponent(JSON.stringify(metadata))`, which
/// leaves `!*'()` as is and encodes `/` as `%2F`; lowercase hex is valid too.
#[test]
fn js_style_percent_encoding_is_accepted() {
    let p = parse([
        ("langsmith-trace", T1),
        (
            "baggage",
            "langsmith-metadata=%7B%22path%22%3A%22a%2Fb%22%2C%22js%22%3A%22!*'()%22%7D,\
             langsmith-tags=x%2Fy%2cz,langsmith-project=a%2fb%20c",
        ),
    ]);
    assert_eq!(p.errors, []);
    let b = &p.context.baggage;
    assert_eq!(
        serde_json::to_string(&b.metadata).unwrap(),
        r#"{"path":"a/b","js":"!*'()"}"#
    );
    assert_eq!(b.tags, ["x/y", "z"]);
    assert_eq!(b.project.as_deref(), Some("a/b c"));
    // And we send it back the Python way.
    assert_eq!(
        b.encode().as_deref(),
        Some(
            "langsmith-metadata=%7B%22path%22%3A%22a/b%22%2C%22js%22%3A%22%21%2A%27%28%29%22%7D,\
             langsmith-tags=x/y%2Cz,langsmith-project=a/b%20c"
        )
    );
}

/// W3C baggage: `+` is a literal plus, not a space (Python's `unquote` agrees).
#[test]
fn plus_is_literal() {
    let b = parse([("baggage", "langsmith-project=a+b%2B")])
        .context
        .baggage;
    assert_eq!(b.project.as_deref(), Some("a+b+"));
}

// --- Header handling --------------------------------------------------------

#[test]
fn header_names_are_case_insensitive_and_unknown_ones_ignored() {
    let p = parse([
        ("X-Request-Id", "1"),
        ("LANGSMITH-TRACE", T1),
        ("Baggage", "langsmith-project=p"),
        ("cookie", "langsmith-project=evil"),
    ]);
    assert_eq!(p.errors, []);
    assert_eq!(p.context.parent.unwrap().as_str(), T1);
    assert_eq!(p.context.baggage.project.as_deref(), Some("p"));
}

#[test]
fn several_baggage_headers_are_merged_in_order() {
    let p = parse([
        ("baggage", "a=1,langsmith-project=first"),
        ("langsmith-trace", T1),
        ("baggage", "langsmith-tags=t"),
        ("BAGGAGE", "b=2,langsmith-project=second"),
        ("baggage", ""),
    ]);
    assert_eq!(p.errors, []);
    let b = &p.context.baggage;
    assert_eq!(b.foreign, ["a=1", "b=2"]);
    assert_eq!(b.tags, ["t"]);
    // A repeated entry: the last one wins, as in the Python SDK.
    assert_eq!(b.project.as_deref(), Some("second"));
}

#[test]
fn whitespace_around_entries_is_allowed() {
    let p = parse([(
        "baggage",
        " \tlangsmith-tags = a%2Cb , langsmith-project=p\t,vendor = x ; prop=1 ,, ",
    )]);
    assert_eq!(p.errors, []);
    let b = &p.context.baggage;
    assert_eq!(b.tags, ["a", "b"]);
    assert_eq!(b.project.as_deref(), Some("p"));
    assert_eq!(b.foreign, ["vendor = x ; prop=1"]);
}

#[test]
fn properties_are_ignored_on_ours_and_kept_on_foreign_entries() {
    let p = parse([(
        "baggage",
        "langsmith-project=p;ttl=5;flag,langsmith-sampled=0;x,userId=alice;sensitive",
    )]);
    assert_eq!(p.errors, []);
    let b = &p.context.baggage;
    assert_eq!(b.project.as_deref(), Some("p"));
    assert_eq!(b.sampled, Some(false));
    assert_eq!(b.foreign, ["userId=alice;sensitive"]);
}

#[test]
fn foreign_entries_are_preserved_and_re_emitted_after_ours() {
    let p = parse([
        ("langsmith-trace", T1),
        (
            "baggage",
            "congo=t61rcWkgMzE,langsmith-metadata=%7B%22k%22%3A%22v%22%7D,rojo=00f067aa0ba902b7;p=1,langsmith-project=p",
        ),
    ]);
    assert_eq!(p.errors, []);
    let out = emit(p.context.parent.as_ref(), &p.context.baggage);
    assert_eq!(out.trace.as_deref(), Some(T1));
    assert_eq!(
        out.baggage.as_deref(),
        Some(
            "langsmith-metadata=%7B%22k%22%3A%22v%22%7D,langsmith-project=p,congo=t61rcWkgMzE,rojo=00f067aa0ba902b7;p=1"
        )
    );
}

#[test]
fn foreign_entries_that_are_not_header_safe_are_skipped() {
    let p = parse([("baggage", "ok=1,bad key=1,k=caf\u{e9},good=2")]);
    assert_eq!(p.context.baggage.foreign, ["ok=1", "good=2"]);
    assert_eq!(
        p.errors,
        [
            HeaderError::BadEntry {
                key: "bad key".into(),
                reason: "not a valid W3C baggage entry"
            },
            HeaderError::BadEntry {
                key: "k".into(),
                reason: "not a valid W3C baggage entry"
            },
        ]
    );
}

#[test]
fn oversized_baggage_is_rejected_whole_but_the_trace_is_kept() {
    let big = format!("langsmith-project=p,pad={}", "x".repeat(20 * 1024));
    let p = parse([("langsmith-trace", T1.to_owned()), ("baggage", big.clone())]);
    assert_eq!(p.context.parent.unwrap().as_str(), T1);
    assert_eq!(p.context.baggage, Baggage::default());
    assert_eq!(
        p.errors,
        [HeaderError::TooLarge {
            header: "baggage",
            len: big.len()
        }]
    );
    // The limit is on all baggage headers together: 2 x 4.5 KB is too much.
    let half = format!("k={}", "x".repeat(4600));
    let p = parse([("baggage", &half), ("baggage", &half)]);
    assert_eq!(
        p.errors,
        [HeaderError::TooLarge {
            header: "baggage",
            len: 2 * half.len() + 1
        }]
    );
    // Exactly 8192 bytes is fine.
    let exact = format!("langsmith-project=p,k={}", "x".repeat(8192 - 22));
    assert_eq!(exact.len(), 8192);
    let p = parse([("baggage", exact)]);
    assert_eq!(p.errors, []);
    assert_eq!(p.context.baggage.project.as_deref(), Some("p"));
}

#[test]
fn more_than_180_entries_are_capped() {
    let entries: Vec<String> = (0..200).map(|i| format!("k{i}=v")).collect();
    let p = parse([("baggage", entries.join(","))]);
    assert_eq!(p.context.baggage.foreign, entries[..180]);
    assert_eq!(p.errors, [HeaderError::TooManyEntries { dropped: 20 }]);
    // Entries past the cap are not read, ours included.
    let p = parse([(
        "baggage",
        format!("{},langsmith-project=late", entries.join(",")),
    )]);
    assert_eq!(p.context.baggage.project, None);
    assert_eq!(p.errors, [HeaderError::TooManyEntries { dropped: 21 }]);
}

#[test]
fn bad_entries_are_skipped_and_good_ones_kept() {
    let p = parse([
        ("langsmith-trace", T1),
        (
            "baggage",
            "langsmith-metadata=%7B%22k%22%ZZ,langsmith-tags=a,noequals,=v,langsmith-project=p,\
             langsmith-sampled=yes",
        ),
    ]);
    let b = &p.context.baggage;
    assert_eq!(p.context.parent.unwrap().as_str(), T1);
    assert_eq!(b.metadata, Map::new());
    assert_eq!(b.tags, ["a"]);
    assert_eq!(b.project.as_deref(), Some("p"));
    assert_eq!(b.sampled, None);
    assert_eq!(
        p.errors,
        [
            HeaderError::BadEntry {
                key: "langsmith-metadata".into(),
                reason: "bad percent-encoding"
            },
            HeaderError::BadEntry {
                key: "noequals".into(),
                reason: "missing `=`"
            },
            HeaderError::BadEntry {
                key: "=v".into(),
                reason: "empty key"
            },
            HeaderError::BadEntry {
                key: "langsmith-sampled".into(),
                reason: "expected 0 or 1"
            },
        ]
    );
}

#[test]
fn bad_metadata_is_skipped() {
    for (value, reason) in [
        ("%7Bnot%20json", "metadata is not valid JSON"),
        ("%5B1%2C2%5D", "metadata is not a JSON object"),
        ("%22s%22", "metadata is not a JSON object"),
        (
            "%7B%22k%22%3A%22%FF%22%7D",
            "not UTF-8 after percent-decoding",
        ),
        ("%7B%22k%22%3ANaN%7D", "metadata is not valid JSON"),
    ] {
        let p = parse([(
            "baggage",
            format!("langsmith-metadata={value},langsmith-project=p"),
        )]);
        assert_eq!(p.context.baggage.metadata, Map::new(), "{value}");
        assert_eq!(p.context.baggage.project.as_deref(), Some("p"), "{value}");
        assert_eq!(
            p.errors,
            [HeaderError::BadEntry {
                key: "langsmith-metadata".into(),
                reason
            }],
            "{value}"
        );
    }
    // Deep nesting is refused, not a stack overflow.
    let deep = format!("{}{}", "%5B".repeat(2000), "%5D".repeat(2000));
    let p = parse([("baggage", format!("langsmith-metadata={deep}"))]);
    assert_eq!(p.errors.len(), 1);
}

#[test]
fn non_utf8_headers_are_skipped() {
    let p = parse([
        ("langsmith-trace", T1.as_bytes().to_vec()),
        ("baggage", b"langsmith-project=caf\xe9".to_vec()),
        ("baggage", b"langsmith-tags=ok".to_vec()),
    ]);
    assert_eq!(p.context.parent.as_ref().unwrap().as_str(), T1);
    assert_eq!(p.context.baggage.project, None);
    assert_eq!(p.context.baggage.tags, ["ok"]);
    assert_eq!(p.errors, [HeaderError::NotUtf8 { header: "baggage" }]);

    let p = parse([("langsmith-trace", &b"\xff\xfe"[..])]);
    assert_eq!(p.context.parent, None);
    assert_eq!(
        p.errors,
        [HeaderError::NotUtf8 {
            header: "langsmith-trace"
        }]
    );
}

#[test]
fn bad_trace_headers() {
    let p = parse([
        ("langsmith-trace", "not-a-dotted-order"),
        ("baggage", "langsmith-project=p"),
    ]);
    assert_eq!(p.context.parent, None);
    assert_eq!(p.context.baggage.project.as_deref(), Some("p"));
    assert_eq!(
        p.errors,
        [HeaderError::BadTrace(DottedOrderError::BadSegment {
            index: 0
        })]
    );

    let long = format!("{T1}.").repeat(140);
    let p = parse([("langsmith-trace", &long)]);
    assert_eq!(
        p.errors,
        [HeaderError::TooLarge {
            header: "langsmith-trace",
            len: long.len()
        }]
    );

    // Empty is the same as absent (Python: `if not langsmith_trace`).
    let p = parse([("langsmith-trace", "  ")]);
    assert_eq!(p, Default::default());

    // Two different trace headers: the first wins, noted once.
    let other = "20260102T030405678901Z0193d5a2-0000-7000-8000-000000000009";
    let p = parse([
        ("langsmith-trace", T1),
        ("langsmith-trace", T1),
        ("langsmith-trace", other),
        ("langsmith-trace", other),
    ]);
    assert_eq!(p.context.parent.unwrap().as_str(), T1);
    assert_eq!(p.errors, [HeaderError::ConflictingTrace]);
}

// --- Sampling -------------------------------------------------------------------

#[test]
fn sampled_entry() {
    let get = |v: &str| parse([("baggage", format!("langsmith-sampled={v}"))]);
    assert_eq!(get("0").context.baggage.sampled, Some(false));
    assert_eq!(get("1").context.baggage.sampled, Some(true));
    for bad in ["", "2", "false", "00"] {
        let p = get(bad);
        assert_eq!(p.context.baggage.sampled, None);
        assert_eq!(
            p.errors,
            [HeaderError::BadEntry {
                key: "langsmith-sampled".into(),
                reason: "expected 0 or 1"
            }]
        );
    }
    // Without a trace header, "not sampled" still comes through.
    let p = get("0");
    assert_eq!(p.context.parent, None);
}

#[test]
fn unsampled_emit_sends_only_the_sampled_flag() {
    let b = Baggage {
        sampled: Some(false),
        foreign: vec!["vendor=1".into()],
        ..Baggage::default()
    };
    assert_eq!(
        emit(None, &b),
        Outgoing {
            trace: None,
            baggage: Some("langsmith-sampled=0,vendor=1".into())
        }
    );
    assert_eq!(emit(None, &Baggage::default()), Outgoing::default());
    // Sampled (the default) is not sent.
    let b = Baggage {
        sampled: Some(true),
        ..Baggage::default()
    };
    assert_eq!(emit(None, &b).baggage, None);
}

#[test]
fn full_entry_order() {
    let mut updates = Map::new();
    updates.insert("metadata".into(), json!({"r": "é,;"}));
    let mut b = Baggage {
        tags: vec!["a".into()],
        project: Some("p".into()),
        replicas: vec![
            ReplicaHint {
                project_name: Some("rp1".into()),
                updates: Some(updates),
            },
            ReplicaHint {
                project_name: Some("rp 2".into()),
                updates: None,
            },
            // No project: cannot be sent in the pair form, left out.
            ReplicaHint {
                project_name: None,
                updates: None,
            },
        ],
        sampled: Some(false),
        foreign: vec!["vendor=x;p=1".into()],
        ..Baggage::default()
    };
    b.metadata.insert("k".into(), json!(1));
    // Python 0.14.17's `RunTree.from_headers` reads this as project "p",
    // tags ["a"], replicas [{project_name: "rp1", updates: {metadata: {r: "é,;"}}},
    // {project_name: "rp 2", updates: None}] (checked by hand).
    assert_eq!(
        b.encode().as_deref(),
        Some(
            "langsmith-metadata=%7B%22k%22%3A1%7D,langsmith-tags=a,langsmith-project=p,\
             langsmith-replicas=%5B%5B%22rp1%22%2C%7B%22metadata%22%3A%7B%22r%22%3A%22%C3%A9%2C%3B%22%7D%7D%5D%2C%5B%22rp%202%22%2Cnull%5D%5D,\
             langsmith-sampled=0,vendor=x;p=1"
        )
    );
    let back = parse([("baggage", b.encode().unwrap())]);
    assert_eq!(back.errors, []);
    b.replicas.pop();
    assert_eq!(back.context.baggage, b);
}

// --- Replicas and addresses ----------------------------------------------------------

#[test]
fn replica_endpoints_and_credentials_are_discarded() {
    // [{"api_url":"https://evil.example","api_key":"k","auth":{"api_key":"k"},"project_name":"rp","updates":{"reroot":true,"session_name":"x"}},
    //  ["legacy",{"tags":["t"]}], {"projectName":"js"}, 5, {"updates":{}}, ["",null]]
    let json = r#"[{"api_url":"https://evil.example","api_key":"k","auth":{"api_key":"k"},"project_name":"rp","updates":{"reroot":true,"session_name":"x"}},["legacy",{"tags":["t"]}],{"projectName":"js"},5,{"updates":{}},["",null]]"#;
    let mut enc = String::new();
    for b in json.bytes() {
        enc.push_str(&format!("%{b:02X}"));
    }
    let p = parse([
        ("langsmith-trace", T1.to_owned()),
        (
            "baggage",
            format!("langsmith-replicas={enc},langsmith-project=p"),
        ),
    ]);
    let b = &p.context.baggage;
    assert_eq!(p.context.parent.unwrap().as_str(), T1);
    assert_eq!(b.project.as_deref(), Some("p"));
    let mut reroot = Map::new();
    reroot.insert("reroot".into(), json!(true));
    let mut tags = Map::new();
    tags.insert("tags".into(), json!(["t"]));
    assert_eq!(
        b.replicas,
        [
            ReplicaHint {
                project_name: Some("rp".into()),
                updates: Some(reroot)
            },
            ReplicaHint {
                project_name: Some("legacy".into()),
                updates: Some(tags)
            },
            ReplicaHint {
                project_name: Some("js".into()),
                updates: None
            },
        ]
    );
    assert_eq!(
        p.errors,
        [
            HeaderError::ReplicaEndpointIgnored { field: "api_url" },
            HeaderError::ReplicaEndpointIgnored { field: "api_key" },
            HeaderError::ReplicaEndpointIgnored { field: "auth" },
            HeaderError::ReplicaUpdateIgnored {
                field: "session_name".into()
            },
            HeaderError::BadEntry {
                key: "langsmith-replicas".into(),
                reason: "unknown replica format"
            },
            HeaderError::BadEntry {
                key: "langsmith-replicas".into(),
                reason: "replica without a project name"
            },
            HeaderError::BadEntry {
                key: "langsmith-replicas".into(),
                reason: "replica without a project name"
            },
        ]
    );
    // Nothing of the endpoint survives anywhere, not even re-emitted.
    let out = emit(None, b).baggage.unwrap();
    assert!(!out.contains("evil") && !out.contains("api"), "{out}");
}

#[test]
fn replicas_not_a_list_is_a_bad_entry() {
    let p = parse([("baggage", "langsmith-replicas=%7B%7D,langsmith-project=p")]);
    assert_eq!(p.context.baggage.replicas, []);
    assert_eq!(p.context.baggage.project.as_deref(), Some("p"));
    assert_eq!(
        p.errors,
        [HeaderError::BadEntry {
            key: "langsmith-replicas".into(),
            reason: "replicas is not a JSON list"
        }]
    );
}

/// `langsmith-address` is an agent address (`lrn:agents/{id}/environments/{env}`),
/// a destination like a project, not an endpoint: it is validated, kept and
/// forwarded, but never sent next to a project.
#[test]
fn agent_address() {
    let p = parse([
        ("langsmith-trace", T1),
        (
            "baggage",
            "langsmith-address=lrn%3Aagents/support-agent/environments/PRODUCTION,langsmith-tags=t",
        ),
    ]);
    assert_eq!(p.errors, []);
    let b = &p.context.baggage;
    let want = AgentAddress::new("support-agent", AgentEnvironment::Production).unwrap();
    assert_eq!(b.address(), Some(want));
    // Forwarded (normalised) when we send no project ...
    assert_eq!(
        b.encode().as_deref(),
        Some(
            "langsmith-tags=t,langsmith-address=lrn%3Aagents/support-agent/environments/production"
        )
    );
    // ... and left out when we do.
    let mut with_project = b.clone();
    with_project.project = Some("p".into());
    assert_eq!(
        with_project.encode().as_deref(),
        Some("langsmith-tags=t,langsmith-project=p")
    );

    // Both in one header: Python's `from_headers` returns None; so no parent here.
    let p = parse([
        ("langsmith-trace", T1),
        (
            "baggage",
            "langsmith-address=lrn%3Aagents/a/environments/local,langsmith-project=p,langsmith-tags=t,v=1,langsmith-sampled=0",
        ),
    ]);
    assert_eq!(p.errors, [HeaderError::ProjectAndAddress]);
    assert_eq!(p.context.parent, None);
    assert_eq!(
        p.context.baggage,
        Baggage {
            sampled: Some(false),
            foreign: vec!["v=1".into()],
            ..Baggage::default()
        }
    );

    // Not an agent address (e.g. a URL): skipped.
    let p = parse([(
        "baggage",
        "langsmith-address=https%3A//evil.example/runs,langsmith-project=p",
    )]);
    assert_eq!(p.context.baggage.address(), None);
    assert_eq!(p.context.baggage.foreign, Vec::<String>::new());
    assert_eq!(p.context.baggage.project.as_deref(), Some("p"));
    assert_eq!(
        p.errors,
        [HeaderError::BadEntry {
            key: "langsmith-address".into(),
            reason: "not an agent address"
        }]
    );
}

// --- merge_baggage ---------------------------------------------------------------

#[test]
fn merge_baggage_keeps_callers_entries_and_ours_win() {
    let ours = "langsmith-metadata=%7B%22k%22%3A1%7D,langsmith-project=ours,vendor=propagated";
    let existing =
        " other=1 , langsmith-project=stale,vendor=caller;p=1,langsmith-tags=keep,other=dup,,";
    assert_eq!(
        merge_baggage(existing, ours),
        "langsmith-metadata=%7B%22k%22%3A1%7D,langsmith-project=ours,other=1,vendor=caller;p=1,langsmith-tags=keep"
    );
    assert_eq!(merge_baggage("", ours), ours);
    assert_eq!(merge_baggage("a=1", ""), "a=1");
    assert_eq!(merge_baggage("", ""), "");
    // Project and address are one choice: ours replaces either of the caller's.
    assert_eq!(
        merge_baggage(
            "langsmith-address=lrn%3Aagents/a/environments/local,x=1",
            "langsmith-project=p"
        ),
        "langsmith-project=p,x=1"
    );
    // The result parses without duplicates.
    let p = parse([("baggage", merge_baggage(existing, ours))]);
    assert_eq!(p.errors, []);
    assert_eq!(p.context.baggage.project.as_deref(), Some("ours"));
    assert_eq!(p.context.baggage.tags, ["keep"]);
    assert_eq!(p.context.baggage.foreign, ["other=1", "vendor=caller;p=1"]);
}

#[test]
fn outgoing_iter_order() {
    let run = DottedOrder::parse(T1).unwrap();
    let b = Baggage {
        project: Some("p".into()),
        ..Baggage::default()
    };
    let out = emit(Some(&run), &b);
    let v: Vec<_> = out.iter().collect();
    assert_eq!(
        v,
        [("langsmith-trace", T1), ("baggage", "langsmith-project=p")]
    );
}

#[test]
fn foreign_entries_set_by_code_cannot_break_the_header() {
    let b = Baggage {
        project: Some("p".into()),
        foreign: vec![
            "ok=1".into(),
            "evil=1\r\nX-Injected: yes".into(),
            "two=1,three=2".into(),
            "caf\u{e9}=1".into(),
            "noequals".into(),
            String::new(),
            "last=2;prop".into(),
        ],
        ..Baggage::default()
    };
    assert_eq!(
        b.encode().as_deref(),
        Some("langsmith-project=p,ok=1,last=2;prop")
    );
}
