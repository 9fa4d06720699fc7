"""Sends one run with two attachments through the official SDK's RunTree.

Usage: attachment_client.py (LANGSMITH_* from the environment). Prints
{"id": run id} as JSON once the run is flushed.
"""
import json
import os

from langsmith import Client
from langsmith.run_trees import RunTree


def main() -> None:
    client = Client()
    rt = RunTree(
        name="py_attachments",
        run_type="tool",
        inputs={"q": "chart"},
        project_name=os.environ["LANGSMITH_PROJECT"],
        ls_client=client,
        attachments={
            "chart": ("image/png", bytes(range(256)) * 12),
            "notes": ("text/plain; charset=utf-8", "héllo".encode()),
        },
    )
    rt.end(outputs={"ok": True})
    rt.post()
    client.flush()
    print(json.dumps({"id": str(rt.id)}))


if __name__ == "__main__":
    main()
