#!/usr/bin/env bash
# The project's test command: sets up the Python SDK for the interop tests,
# then runs the whole workspace's tests. Extra arguments go to `cargo test`.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if python=$(scripts/setup-python.sh); then
  export LANGSMITH_TEST_PYTHON="$python"
else
  echo "WARNING: could not set up the Python SDK venv; interop tests will skip (and fail under CI=true)" >&2
fi
scripts/setup-browser.sh || echo "WARNING: could not set up the browser test (chromium/playwright-core); it will skip (and fail under CI=true)" >&2
exec cargo test --workspace --all-features "$@"
