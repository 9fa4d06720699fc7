#!/usr/bin/env bash
# Instructions per request of examples/axum_service under wrk, tracing off vs
# on, counted by callgrind per thread: load-independent evidence for the wrk
# target (throughput on this shared VM moves ±15 % between identical runs;
# these counts move < 2 %). Kernel time is not counted (callgrind sees user
# space only).
#
#   bench/wrk_instructions.sh [--seconds 4] [--top 25] [--service PATH]
#
# --service runs another build of examples/axum_service (e.g. one made from
# an older commit with its own CARGO_TARGET_DIR) to compare two builds.
#
# For each of tracing off / on: the service runs under callgrind
# (--separate-threads) sending to a null sink that only reads bodies; wrk
# (-t1 -c4) warms it up for 1 s, the counters are zeroed, wrk runs for
# --seconds, the counters are dumped. Prints instructions per request of the
# tokio workers and of the exporter thread (the exporter's count includes
# what it sends after the dump, up to the service's exit flush), then the
# functions whose self cost per request grew most on the workers and the
# exporter's largest. Logs and callgrind files: target/bench-instructions/.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
seconds=4
top=25
service=
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --top) top=$2; shift 2 ;;
    --service) service=$2; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
for tool in valgrind callgrind_control wrk python3; do
  command -v "$tool" >/dev/null || { echo "needs $tool" >&2; exit 1; }
done

out=$root/target/bench-instructions
rm -rf "$out" && mkdir -p "$out"
cargo build --release --quiet --example axum_service --example null_sink
bin=${CARGO_TARGET_DIR:-$root/target}/release/examples
service=${service:-$bin/axum_service}

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

# Waits for "listening on ADDR" in $1 and prints ADDR.
wait_listening() {
  local addr
  for _ in $(seq 300); do
    addr=$(grep -o 'listening on [0-9.:]*' "$1" 2>/dev/null | awk '{ print $3 }' || true)
    if [ -n "$addr" ]; then echo "$addr"; return; fi
    sleep 0.1
  done
  echo "no address in $1" >&2
  exit 1
}

NULL_SINK_COUNT=false "$bin/null_sink" >"$out/null_sink.out" 2>&1 &
pids+=($!)
sink=$(wait_listening "$out/null_sink.out")

for tracing in false true; do
  LANGSMITH_ENDPOINT=http://$sink LANGSMITH_TRACING=$tracing PORT=0 \
    valgrind --tool=callgrind --separate-threads=yes \
    --callgrind-out-file="$out/$tracing.cg" "$service" >"$out/$tracing.log" 2>&1 &
  pid=$!
  pids+=("$pid")
  addr=$(wait_listening "$out/$tracing.log")
  wrk -t1 -c4 -d1s "http://$addr/hello/x" >/dev/null
  sleep 0.5 # the exporter sends what the warm-up left
  callgrind_control -z "$pid" >/dev/null
  wrk -t1 -c4 -d"${seconds}s" "http://$addr/hello/x" >"$out/wrk_$tracing.log"
  callgrind_control -d "$pid" >/dev/null
  kill -TERM "$pid"
  wait "$pid" || { echo "axum_service (tracing $tracing) failed, see $out/$tracing.log" >&2; exit 1; }
  awk '/requests in/ { print $1 }' "$out/wrk_$tracing.log" >"$out/requests_$tracing"
done

python3 - "$out" "$top" <<'EOF'
import collections, glob, os, re, subprocess, sys
out, top = sys.argv[1], int(sys.argv[2])

def role(path):
    text = open(path, errors="replace").read()
    if "langsmith_core::exporter::run_worker" in text:
        return "exporter"
    if "multi_thread::worker::run" in text:
        return "workers"
    return None

def self_costs(path):
    """Self cost per function, and the thread's total under the key TOTAL.
    (A dump after `callgrind_control -z` also lists the frames that were on
    the stack with their inclusive cost: entries above half the total are
    those, skipped.)"""
    costs = collections.Counter()
    text = subprocess.run(["callgrind_annotate", "--inclusive=no", "--threshold=100", path],
                          capture_output=True, text=True).stdout
    rows = []
    for line in text.splitlines():
        m = re.match(r"\s*([\d,]+)\s+\([\s\d.]+%\)\s+(.*)", line)
        if m:
            rows.append((int(m.group(1).replace(",", "")), m.group(2)))
    totals = [v for v, name in rows if "PROGRAM TOTALS" in name]
    costs["TOTAL"] = totals[0] if totals else 0
    for v, name in rows:
        if "PROGRAM TOTALS" not in name and v <= costs["TOTAL"] / 2:
            costs[re.sub(r"\s*\[.*\]$", "", name).split(":", 1)[-1]] += v
    return costs

result = {}
for tracing in ("false", "true"):
    requests = int(open(f"{out}/requests_{tracing}").read())
    by_role = collections.defaultdict(collections.Counter)
    # `.cg.1-NN`: the measured interval; `.cg-NN`: after it (exit flush),
    # counted for the exporter only.
    for path in sorted(glob.glob(f"{out}/{tracing}.cg*-*")):
        r = role(path)
        measured = ".cg.1-" in path
        if r == "workers" and measured or r == "exporter":
            by_role[r].update(self_costs(path))
    result[tracing] = (requests, {r: {k: v / requests for k, v in c.items()} for r, c in by_role.items()})

def total(tracing, r):
    return result[tracing][1].get(r, {}).get("TOTAL", 0)

print(f"instructions per request (callgrind, wrk -t1 -c4, {result['false'][0]} / {result['true'][0]} requests)")
print(f"  workers, tracing off   {total('false', 'workers'):9.0f}")
print(f"  workers, tracing on    {total('true', 'workers'):9.0f}   (+{total('true', 'workers') - total('false', 'workers'):.0f})")
print(f"  exporter thread        {total('true', 'exporter'):9.0f}")
print(f"  tracing adds           {total('true', 'workers') - total('false', 'workers') + total('true', 'exporter'):9.0f}")
off, on = result["false"][1].get("workers", {}), result["true"][1].get("workers", {})
print(f"\nworkers: largest growth per request (off -> on)")
for delta, name in sorted(((on.get(k, 0) - off.get(k, 0), k) for k in set(on) | set(off) if k != "TOTAL"), reverse=True)[:top]:
    print(f"  {delta:+8.0f} {off.get(name, 0):8.0f} {on.get(name, 0):8.0f}  {name[:110]}")
exp = result["true"][1].get("exporter", {})
print(f"\nexporter: largest self cost per request")
for name, v in sorted(((k, v) for k, v in exp.items() if k != "TOTAL"), key=lambda kv: -kv[1])[:top]:
    print(f"  {v:8.0f}  {name[:110]}")
EOF
