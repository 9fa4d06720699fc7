"""A two-level @traceable trace whose root has its own tags and metadata and
adds more while it runs (get_current_run_tree().add_metadata / add_tags)
before calling its child, sent with the official SDK.

Usage: nested_inheritance.py (LANGSMITH_* from the environment).
Prints {"trace_id"} as JSON once the runs are flushed.
"""
import json

from langsmith import Client, get_current_run_tree, traceable


@traceable(name="inner")
def inner() -> str:
    return "ok"


@traceable(name="outer", metadata={"own": "x"}, tags=["t1"])
def outer() -> str:
    rt = get_current_run_tree()
    rt.add_metadata({"later": 1})
    rt.add_tags(["added"])
    inner()
    return str(rt.trace_id)


def main() -> None:
    client = Client()
    trace_id = outer(langsmith_extra={"client": client})
    client.flush()
    print(json.dumps({"trace_id": trace_id}))


if __name__ == "__main__":
    main()
