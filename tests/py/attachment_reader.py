"""Reads runs back through the official SDK's Client.read_run, which
downloads each attachment from the URL the server gives (`s3_urls`).

Usage: attachment_reader.py RUN_ID... (LANGSMITH_* from the environment).
Prints {run_id: {name: {"mime_type", "hex"}}} as JSON.
"""
import json
import sys

from langsmith import Client


def main() -> None:
    client = Client()
    out = {}
    for run_id in sys.argv[1:]:
        run = client.read_run(run_id)
        out[run_id] = {
            name: {"mime_type": info["mime_type"], "hex": info["reader"].read().hex()}
            for name, info in (run.attachments or {}).items()
        }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
