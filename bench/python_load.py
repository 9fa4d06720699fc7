"""Load harness for the official LangSmith Python SDK: the counterpart of
`cargo run --release --example loadgen`.

Emits N traced runs as root + child pairs (`@traceable` "answer" calling
`@traceable(run_type="retriever")` "retrieve", the same small inputs and
outputs as loadgen) as fast as the SDK takes them, then `Client.flush()`,
and prints runs/s end to end (first run started to flush returned) and the
peak RSS. Configured by the usual environment (`LANGSMITH_ENDPOINT`,
`LANGSMITH_API_KEY`); tracing is switched on here.

    python bench/python_load.py --runs 100000

Whether every run arrived is for the endpoint to say (bench/compare.sh asks
the null sink); this script exits 1 only if the flush fails.
"""

import argparse
import os
import resource
import sys
import time

import langsmith as ls
from langsmith import traceable


@traceable(run_type="retriever", name="retrieve")
def retrieve(query: str) -> list:
    return ["Paris is the capital of France."]


@traceable(name="answer")
def answer(question: str, i: int) -> int:
    return len(retrieve("capital of France"))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=100_000)
    args = parser.parse_args()
    runs = args.runs + args.runs % 2  # root + child pairs
    endpoint = os.environ.get("LANGSMITH_ENDPOINT", "")
    if not endpoint.startswith(("http://127.0.0.1", "http://localhost")):
        print(f"python_load: refusing a non-loopback endpoint {endpoint!r}", file=sys.stderr)
        return 2
    client = ls.Client()
    print(f"python_load: {runs} runs to {endpoint} (langsmith {ls.__version__})", file=sys.stderr)

    started = time.perf_counter()
    with ls.tracing_context(enabled=True, client=client):
        for i in range(runs // 2):
            answer("What is the capital of France?", i)
    produced = time.perf_counter() - started
    try:
        client.flush()
    except Exception as e:  # noqa: BLE001 - report and fail
        print(f"python_load: flush failed: {e!r}", file=sys.stderr)
        return 1
    elapsed = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"runs: {runs}  produced in {produced:.2f}s  delivered in {elapsed:.2f}s  "
        f"rate: {runs / elapsed:.0f} runs/s  peak RSS: {peak_mib:.1f} MiB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
