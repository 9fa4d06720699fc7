#!/usr/bin/env bash
# Side-by-side load comparison on this machine, everything on 127.0.0.1:
#
#   sdk     this SDK's load harness (examples/loadgen, release) and the official
#           Python SDK (bench/python_load.py: @traceable root + child, then
#           Client.flush()) send the same N runs to the same null sink
#           (examples/null_sink); both deliveries are checked with the sink's
#           counters; prints both rates and their ratio.
#   wrk     examples/axum_service (release) with LANGSMITH_TRACING=true sending
#           to the null sink vs. LANGSMITH_TRACING=false, `wrk -t2 -c50 -d10s`
#           on GET /hello/x each; prints both throughputs and their ratio.
#   memory  loadgen with 1,000,000 runs into the null sink; prints the peak
#           RSS against the 100 MiB target (also: bench/memory.sh).
#
# Usage: bench/compare.sh [--runs N] [--only sdk|wrk|memory] [--rounds R]
#                         [--wrk-duration 10s] [--memory-runs N]
#                         [--wrk-sink count|read] [--wrk-preload LIB]
#                         [--wrk-variants discard,plain]
#
#   --runs N          runs per SDK in `sdk` (default 100000)
#   --rounds R        R loadgen runs and R wrk rounds of (off, on); medians
#                     reported (default 1; the Python SDK runs once)
#   --only SECTION    run one section (default: sdk, wrk, memory)
#   --wrk-sink MODE   what the null sink does with the runs of the wrk
#                     section: `count` (default) decodes and counts them on
#                     the same two cores as the service under test; `read`
#                     (NULL_SINK_COUNT=false) only reads the bodies, like a
#                     LangSmith on another machine — delivery is then taken
#                     from the service's own count (Client::stats) at exit
#   --wrk-variants V  more traced rounds after each (off, on) pair, each
#                     with its own ratio to the untraced rounds:
#                     `discard` (BENCH_DISCARD_RUNS=true: every run made as
#                     usual, then dropped instead of sent — the request
#                     path's cost alone) and `plain`
#                     (LANGSMITH_DISABLE_RUN_COMPRESSION=true: sent without
#                     zstd); comma-separated
#   --wrk-preload LIB another allocator for axum_service in both modes, via
#                     LD_PRELOAD (e.g. /lib/x86_64-linux-gnu/libmimalloc.so.2
#                     from Debian's libmimalloc2.0): glibc's malloc takes its
#                     slow path for most of a traced request's allocations
#
# Idempotent: builds what is missing, installs wrk (apt-get) and the Python
# SDK (scripts/setup-python.sh, .venv) when absent, starts its own processes
# and stops them (by pid) on exit. Logs go to target/bench-compare/.
# Exit status: non-zero when a run was not delivered or a step failed.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

runs=100000
rounds=1
only=all
wrk_duration=10s
memory_runs=1000000
wrk_sink=count
wrk_preload=
wrk_variants=
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs=$2; shift 2 ;;
    --rounds) rounds=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --wrk-duration) wrk_duration=$2; shift 2 ;;
    --memory-runs) memory_runs=$2; shift 2 ;;
    --wrk-sink) wrk_sink=$2; shift 2 ;;
    --wrk-preload) wrk_preload=$2; shift 2 ;;
    --wrk-variants) wrk_variants=${2//,/ }; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$only" in all|sdk|wrk|memory) ;; *) echo "--only: sdk, wrk or memory" >&2; exit 2 ;; esac
case "$wrk_sink" in count|read) ;; *) echo "--wrk-sink: count or read" >&2; exit 2 ;; esac
if [ -n "$wrk_preload" ] && [ ! -f "$wrk_preload" ]; then
  echo "--wrk-preload: no such file: $wrk_preload" >&2
  exit 2
fi
for v in $wrk_variants; do
  case "$v" in discard|plain) ;; *) echo "--wrk-variants: discard and/or plain, not $v" >&2; exit 2 ;; esac
done
want() { [ "$only" = all ] || [ "$only" = "$1" ]; }

logs="$root/target/bench-compare"
mkdir -p "$logs"
bin="$root/target/release/examples"
step() { printf '\n==> %s\n' "$*"; }
fail() { echo "FAILED: $*" >&2; exit 1; }

# ------------------------------------------------------------ processes we own
pids=()
cleanup() {
  local pid
  for pid in "${pids[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
}
trap cleanup EXIT

# Waits (up to 60 s) for "listening on ADDR" as the first line of $1; prints ADDR.
wait_listening() {
  local file=$1 pid=$2 i
  for i in $(seq 600); do
    if grep -q '^listening on ' "$file" 2>/dev/null; then
      sed -n 's/^listening on \(.*\)$/\1/p' "$file" | head -n1
      return 0
    fi
    kill -0 "$pid" 2>/dev/null || { cat "$file" >&2; fail "process $pid exited before listening"; }
    sleep 0.1
  done
  fail "no 'listening on' from pid $pid within 60 s"
}

json_field() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

# ------------------------------------------------------------ build
step "building release examples: null_sink, loadgen, axum_service"
cargo build --release --example null_sink --example loadgen --example axum_service

step "machine"
echo "nproc: $(nproc); CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1); load: $(cut -d' ' -f1-3 /proc/loadavg)"

# ------------------------------------------------------------ null sink
step "starting the null sink (examples/null_sink) on 127.0.0.1"
"$bin/null_sink" >"$logs/null_sink.out" 2>"$logs/null_sink.err" &
sink_pid=$!
pids+=("$sink_pid")
sink="http://$(wait_listening "$logs/null_sink.out" "$sink_pid")"
echo "null sink: $sink (pid $sink_pid)"
sink_reset() { curl -fsS -X POST "$sink/stats/reset" >/dev/null; }
sink_posts() { curl -fsS "$sink/stats" | json_field posts; }
sink_errors() { curl -fsS "$sink/stats" | json_field errors; }

export LANGSMITH_ENDPOINT="$sink" LANGSMITH_API_KEY=bench LANGSMITH_PROJECT=bench
unset LANGCHAIN_ENDPOINT LANGCHAIN_API_KEY LANGSMITH_RUNS_ENDPOINTS LANGSMITH_TRACING_SAMPLING_RATE 2>/dev/null || true

# Runs loadgen for $1 runs, checks delivery; sets rust_rate and rust_rss.
# Fails unless the null sink received exactly $2 runs (for $1) without errors.
check_delivery() {
  local who=$1 n=$2 posts
  posts=$(sink_posts)
  [ "$posts" = "$n" ] || fail "$who: the null sink received $posts runs, expected $n"
  [ "$(sink_errors)" = 0 ] || fail "$who: the null sink refused requests"
  echo "null sink: $posts runs received (every run delivered)"
}
# The rate and peak RSS a load harness printed into log $1.
rate_of() { sed -n 's/.*rate: \([0-9]*\) runs\/s.*/\1/p' "$1"; }
rss_of() { sed -n 's/.*peak RSS: \([0-9.]*\) MiB.*/\1/p' "$1"; }

run_loadgen() {
  local n=$1 log=$2
  sink_reset
  if ! timeout 900 "$bin/loadgen" --runs "$n" >"$log" 2>&1; then
    cat "$log" >&2
    fail "loadgen --runs $n"
  fi
  cat "$log"
  check_delivery loadgen "$n"
  rust_rate=$(rate_of "$log")
  rust_rss=$(rss_of "$log")
}

# ------------------------------------------------------------ sdk
if want sdk; then
  runs=$((runs + runs % 2))
  rust_all=()
  for r in $(seq "$rounds"); do
    step "Rust ($r/$rounds): loadgen --runs $runs -> null sink"
    run_loadgen "$runs" "$logs/loadgen_$r.log"
    rust_all+=("$rust_rate")
  done
  rust_rate=$(printf '%s\n' "${rust_all[@]}" | median)

  step "Python: setting up the official SDK (scripts/setup-python.sh)"
  python=$(scripts/setup-python.sh)
  "$python" -c 'import langsmith; print("langsmith", langsmith.__version__)'

  step "Python: bench/python_load.py --runs $runs -> null sink"
  sink_reset
  if ! LANGSMITH_TRACING=true timeout 1800 "$python" bench/python_load.py --runs "$runs" \
      >"$logs/python_load.log" 2>&1; then
    cat "$logs/python_load.log" >&2
    fail "python_load.py"
  fi
  grep -v '^python_load:' "$logs/python_load.log" | tail -n 5
  check_delivery python "$runs"
  py_rate=$(rate_of "$logs/python_load.log")
  py_rss=$(rss_of "$logs/python_load.log")

  step "end to end, $runs runs each (root + child pairs), delivered to the null sink"
  printf '%-28s %12s runs/s   peak RSS %7s MiB   (median of %s)\n' "Rust (loadgen)" "$rust_rate" "$rust_rss" "$rounds"
  printf '%-28s %12s runs/s   peak RSS %7s MiB\n' "Python SDK (@traceable)" "$py_rate" "$py_rss"
  echo "ratio Rust / Python: $(ratio "$rust_rate" "$py_rate")x (target >= 50x)"
fi

# ------------------------------------------------------------ wrk
if want wrk; then
  if ! command -v wrk >/dev/null; then
    step "installing wrk (apt-get)"
    if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
    $sudo apt-get install -y wrk >/dev/null 2>&1 || { $sudo apt-get update >/dev/null && $sudo apt-get install -y wrk >/dev/null; }
  fi
  wrk --version 2>&1 | head -n1 || true

  # The service's endpoint: the counting sink, or one that only reads.
  wrk_sink_url=$sink
  wrk_sink_pid=$sink_pid
  if [ "$wrk_sink" = read ]; then
    step "starting a second null sink that reads bodies without decoding them (NULL_SINK_COUNT=false)"
    NULL_SINK_COUNT=false "$bin/null_sink" >"$logs/null_sink_read.out" 2>"$logs/null_sink_read.err" &
    wrk_sink_pid=$!
    pids+=("$wrk_sink_pid")
    wrk_sink_url="http://$(wait_listening "$logs/null_sink_read.out" "$wrk_sink_pid")"
  fi

  # CPU ticks used so far by the service's thread groups (tokio workers, the
  # exporter thread, ...) and by the null sink, one "name ticks" per line.
  cpu_snapshot() {
    local t
    for t in /proc/"$1"/task/*; do
      printf '%s %s\n' "service:$(tr ' ' '_' <"$t/comm")" "$(sed 's/.*) //' "$t/stat" | awk '{ print $12 + $13 }')"
    done | awk '{ a[$1] += $2 } END { for (k in a) print k, a[k] }'
    echo "null_sink $(sed 's/.*) //' /proc/"$wrk_sink_pid"/stat | awk '{ print $12 + $13 }')"
  }

  # Starts axum_service with LANGSMITH_TRACING=$1 (and the variant $3, if
  # any), runs wrk against it, stops it (SIGTERM: it flushes and exits);
  # sets `rps` to its requests/s.
  wrk_round() {
    local tracing=$1 tag=$2 variant=${3:-} pid addr delivered discard=false plain=false
    case "$variant" in discard) discard=true ;; plain) plain=true ;; esac
    sink_reset
    LD_PRELOAD=${wrk_preload:-${LD_PRELOAD:-}} BENCH_DISCARD_RUNS=$discard LANGSMITH_DISABLE_RUN_COMPRESSION=$plain \
      LANGSMITH_ENDPOINT=$wrk_sink_url LANGSMITH_TRACING=$tracing PORT=0 "$bin/axum_service" >"$logs/axum_$tag.out" 2>"$logs/axum_$tag.err" &
    pid=$!
    pids+=("$pid")
    addr=$(wait_listening "$logs/axum_$tag.out" "$pid")
    wrk -t2 -c50 -d1s "http://$addr/hello/x" >/dev/null # warm-up, not counted
    cpu_snapshot "$pid" >"$logs/cpu_$tag.before"
    wrk -t2 -c50 -d"$wrk_duration" "http://$addr/hello/x" | tee "$logs/wrk_$tag.log" | sed 's/^/  /'
    cpu_snapshot "$pid" >"$logs/cpu_$tag.after"
    kill -TERM "$pid"
    timeout 60 tail --pid="$pid" -f /dev/null || fail "axum_service did not stop"
    wait "$pid" || fail "axum_service exited with an error"
    if grep -q 'Non-2xx\|Socket errors' "$logs/wrk_$tag.log"; then
      fail "wrk saw errors"
    fi
    rps=$(sed -n 's/^Requests\/sec:[[:space:]]*\([0-9.]*\).*/\1/p' "$logs/wrk_$tag.log")
    delivered=$(sed -n 's/^flushed: \(.*\)$/\1/p' "$logs/axum_$tag.out")
    echo "LANGSMITH_TRACING=$tracing${variant:+ ($variant)}: $rps requests/s"
    if [ "$discard" = true ]; then
      grep '^discarded: ' "$logs/axum_$tag.out" | sed 's/^/  service at exit: /'
      delivered="0 dropped" # by design: nothing is sent
    elif [ "$wrk_sink" = count ]; then
      echo "  service at exit: ${delivered:-?}; null sink received $(sink_posts) runs"
    else
      echo "  service at exit: ${delivered:-?} (the null sink only read the bodies)"
    fi
    case "$delivered" in
      *" 0 dropped") ;;
      *) echo "  NOTE: runs were dropped (queue full: the exporter did not keep up); see Client::stats" ;;
    esac
    echo "  CPU per request during the measurement (from /proc; wrk's own not counted):"
    local requests
    requests=$(awk '/requests in/ { print $1 }' "$logs/wrk_$tag.log")
    join <(sort "$logs/cpu_$tag.before") <(sort "$logs/cpu_$tag.after") |
      awk -v n="$requests" '{ printf "    %-26s %7.2f us\n", $1, ($3 - $2) * 1e6 / ticks / n }' ticks="$(getconf CLK_TCK)"
  }

  off_all=()
  on_all=()
  rm -f "$logs"/wrk_variant_*
  for r in $(seq "$rounds"); do
    step "wrk round $r/$rounds: axum_service, tracing off"
    wrk_round false "off_$r"
    off_all+=("$rps")
    step "wrk round $r/$rounds: axum_service, tracing on (every request traced: 3 runs each)"
    wrk_round true "on_$r"
    on_all+=("$rps")
    round_ratios="on $(ratio "$rps" "${off_all[-1]}")"
    for v in $wrk_variants; do
      step "wrk round $r/$rounds: axum_service, tracing on, variant: $v"
      wrk_round true "${v}_$r" "$v"
      printf '%s\n' "$rps" >>"$logs/wrk_variant_$v"
      round_ratios+=", $v $(ratio "$rps" "${off_all[-1]}")"
    done
    echo "round $r ratios to this round's untraced run: $round_ratios"
  done
  off=$(printf '%s\n' "${off_all[@]}" | median)
  on=$(printf '%s\n' "${on_all[@]}" | median)
  step "wrk -t2 -c50 -d$wrk_duration GET /hello/x, median of $rounds round(s), null sink: $wrk_sink${wrk_preload:+, allocator: $wrk_preload}"
  printf '%-28s %12s requests/s\n' "LANGSMITH_TRACING=false" "$off"
  printf '%-28s %12s requests/s\n' "LANGSMITH_TRACING=true" "$on"
  echo "ratio on / off: $(ratio "$on" "$off") (target >= 0.85)"
  for v in $wrk_variants; do
    vrps=$(median <"$logs/wrk_variant_$v")
    rm -f "$logs/wrk_variant_$v"
    printf '%-28s %12s requests/s, ratio to off: %s\n' "LANGSMITH_TRACING=true, $v" "$vrps" "$(ratio "$vrps" "$off")"
  done
fi

# ------------------------------------------------------------ memory
if want memory; then
  memory_runs=$((memory_runs + memory_runs % 2))
  step "memory: loadgen --runs $memory_runs -> null sink"
  run_loadgen "$memory_runs" "$logs/loadgen_memory.log"
  step "memory: $memory_runs runs delivered, peak RSS $rust_rss MiB (target < 100 MiB)"
  awk -v r="$rust_rss" 'BEGIN { exit !(r < 100) }' && echo "met" || echo "MISSED"
fi
