"""Interop check: the official LangSmith Python SDK against langsmith-collector.

Run by tests/python_sdk.rs with LANGSMITH_ENDPOINT pointing at the collector.
Sends a nested @traceable trace whose child raises (caught), feedback for the
root (once through the tracing queue, once through POST /feedback), flushes,
reads everything back through the client's read API and prints one JSON
object on stdout.
"""

import json
import os
import sys
import warnings

warnings.simplefilter("ignore")

from langsmith import Client, traceable  # noqa: E402
from langsmith.run_helpers import get_current_run_tree  # noqa: E402

PROJECT = os.environ["LANGSMITH_PROJECT"]
client = Client()
ids = {}


@traceable(run_type="llm", name="invoke_llm", metadata={"ls_provider": "openai"})
def invoke_llm(prompt):
    return {"content": "Socks & Co.", "prompt": prompt}


@traceable(run_type="tool", name="fails")
def fails(subject):
    ids["error"] = str(get_current_run_tree().id)
    raise ValueError("boom: " + subject)


@traceable(run_type="chain", name="run_pipeline", tags=["interop"])
def run_pipeline(subject):
    rt = get_current_run_tree()
    ids["root"] = str(rt.id)
    ids["trace"] = str(rt.trace_id)
    answer = invoke_llm("Name a store that sells " + subject)
    try:
        fails(subject)
    except ValueError:
        pass
    return {"answer": answer["content"]}


result = run_pipeline("colorful socks", langsmith_extra={"client": client})
client.create_feedback(
    run_id=ids["root"], trace_id=ids["trace"], key="correctness", score=1, comment="queued"
)
client.create_feedback(run_id=ids["root"], key="helpfulness", score=0.5, comment="direct")
client.flush()


def run_dict(r):
    return {
        "id": str(r.id),
        "name": r.name,
        "run_type": r.run_type,
        "parent_run_id": str(r.parent_run_id) if r.parent_run_id else None,
        "trace_id": str(r.trace_id),
        "inputs": r.inputs,
        "outputs": r.outputs,
        "error": r.error,
        "status": r.status,
        "end_time": r.end_time.isoformat() if r.end_time else None,
        "session_id": str(r.session_id) if r.session_id else None,
        "tags": r.tags,
        "feedback_stats": r.feedback_stats,
    }


root = client.read_run(ids["root"])
listed = list(client.list_runs(trace_id=ids["trace"], project_name=PROJECT))
project = client.read_project(project_name=PROJECT)
feedback = list(client.list_feedback(run_ids=[ids["root"]]))
with_children = client.read_run(ids["root"], load_child_runs=True)
# Filter expressions, as the SDK sends them to /runs/query.
filtered = {
    "llm": client.list_runs(project_name=PROJECT, filter='eq(run_type, "llm")'),
    "errors": client.list_runs(project_name=PROJECT, filter='eq(status, "error")'),
    "tagged_roots": client.list_runs(
        project_name=PROJECT, filter='and(has(tags, "interop"), eq(is_root, true))'
    ),
    "metadata": client.list_runs(
        project_name=PROJECT,
        filter='and(eq(metadata_key, "ls_provider"), eq(metadata_value, "openai"))',
    ),
    "in_trace_of_pipeline": client.list_runs(
        project_name=PROJECT,
        trace_filter='eq(name, "run_pipeline")',
        filter='neq(name, "run_pipeline")',
    ),
    "none": client.list_runs(project_name=PROJECT, filter='eq(name, "no such run")'),
}
filtered = {k: sorted(r.name for r in v) for k, v in filtered.items()}

json.dump(
    {
        "result": result,
        "ids": ids,
        "project_id": str(project.id),
        "read_run": run_dict(root),
        "list_runs": [run_dict(r) for r in listed],
        "child_names": [c.name for c in (with_children.child_runs or [])],
        "filtered": filtered,
        "feedback": [
            {"key": f.key, "score": f.score, "comment": f.comment, "run_id": str(f.run_id)}
            for f in feedback
        ],
    },
    sys.stdout,
)
