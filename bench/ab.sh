#!/usr/bin/env bash
# Side-by-side criterion comparison of two (or more) builds of one bench
# binary, alternating runs so that both see the same machine load.
#
# Usage: bench/ab.sh FILTER ROUNDS BIN_A BIN_B [BIN...]
#
#   FILTER   a criterion filter (regex), e.g. 'parse/typical|from_headers'
#   ROUNDS   how many times each binary runs (each run: 0.5 s warm-up,
#            1.5 s measurement per benchmark)
#   BIN_*    bench executables, e.g. copies of target/release/deps/headers-*
#            built from two commits (`cargo bench --no-run` prints the path;
#            copy it aside before building the other commit: same path)
#
# Prints, per binary and benchmark, the median of the per-run medians and
# all of them. Example (a worktree of the old commit sharing target/):
#
#   git worktree add /tmp/old <commit>
#   (cd /tmp/old && CARGO_TARGET_DIR=$PWD/../main/target cargo bench -p langsmith-core --bench headers --no-run)
#   cp target/release/deps/headers-<hash> /tmp/headers-old
#   cargo bench -p langsmith-core --bench headers --no-run
#   bench/ab.sh 'typical' 5 /tmp/headers-old target/release/deps/headers-<hash>
set -euo pipefail
if [ $# -lt 4 ]; then
  sed -n '2,/^set -euo/p' "$0" | sed '$d'
  exit 2
fi
filter=$1
rounds=$2
shift 2
# Results are labelled by file name: two binaries with the same name would
# be merged into one row without a word.
dups=$(for bin in "$@"; do basename "$bin"; done | sort | uniq -d)
if [ -n "$dups" ]; then
  echo "ab.sh: binaries must have distinct file names (copy them aside as e.g. headers-before, headers-after): $dups" >&2
  exit 2
fi
for r in $(seq "$rounds"); do
  for bin in "$@"; do
    "$bin" --bench --warm-up-time 0.5 --measurement-time 1.5 "$filter" 2>&1 |
      awk -v b="$(basename "$bin")" '
        /^Benchmarking/ { next }
        /time:/ {
          line = $0
          if ($1 != "time:") name = $1
          sub(/.*time: *\[/, "", line)
          split(line, x, " ")
          v = x[3]; u = x[4]
          if (u == "ns") v = v / 1000
          if (u == "ms") v = v * 1000
          print b, name, v
          next
        }
        NF == 1 { name = $1 }
      '
  done
done | sort -k2,2 -k1,1 -k3n | awk '
  { k = $2 " " $1; a[k] = a[k] " " $3; c[k]++ }
  END {
    for (k in a) {
      split(a[k], x, " ")
      printf "%-60s median %8.3f us   all:%s\n", k, x[int((c[k] + 1) / 2)], a[k]
    }
  }' | sort
