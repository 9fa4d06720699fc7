#!/usr/bin/env bash
# Memory check: this SDK's load harness (examples/loadgen, release) sends
# 1,000,000 runs (root + child pairs) to the null sink (examples/null_sink)
# on 127.0.0.1; every run must arrive; prints the peak RSS against the
# 100 MiB target. Same as `bench/compare.sh --only memory`.
#
# Usage: bench/memory.sh [--memory-runs N]
set -euo pipefail
exec "$(dirname "$0")/compare.sh" --only memory "$@"
