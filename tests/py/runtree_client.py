"""Calls a URL inside a Python RunTree, propagating it with to_headers().

Usage: runtree_client.py URL. Prints {"trace_id", "id", "body"} as JSON.
With PY_AGENT_ID set, the trace is addressed to that agent instead of a project.
"""
import json
import os
import sys
import urllib.request

from langsmith import Client, agent_address
from langsmith.run_trees import RunTree


def main() -> None:
    url = sys.argv[1]
    client = Client()
    # PY_AGENT_ID set: the trace is addressed to that agent (production)
    # instead of a project (the SDK's agent addressing).
    agent = os.environ.get("PY_AGENT_ID")
    destination = (
        {"address": agent_address(agent, "production")}
        if agent
        else {"project_name": os.environ["LANGSMITH_PROJECT"]}
    )
    rt = RunTree(
        name="py_client",
        run_type="chain",
        inputs={"url": url},
        tags=["py-tag"],
        extra={"metadata": {"team": "python"}},
        ls_client=client,
        **destination,
    )
    rt.post()
    req = urllib.request.Request(url, headers=rt.to_headers())
    body = urllib.request.urlopen(req, timeout=30).read().decode()
    rt.end(outputs={"body": body})
    rt.patch()
    client.flush()
    print(json.dumps({"trace_id": str(rt.trace_id), "id": str(rt.id), "body": body}))


if __name__ == "__main__":
    main()
