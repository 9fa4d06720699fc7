#!/usr/bin/env bash
# Bounded fuzzing smoke run (issue 9): builds the libFuzzer targets in fuzz/
# (headers_parse, collector_multipart) with AddressSanitizer and coverage
# instrumentation, and runs each for FUZZ_SECONDS (default 30) starting from
# the committed seed corpus in fuzz/corpus/<target>/. Fails on the first
# crash, panic, timeout or out-of-memory; the input is kept in
# fuzz/artifacts/<target>/ and is replayed by running the built target on it:
# `fuzz/target/<host>/<profile>/<target> fuzz/artifacts/<target>/crash-...`.
#
#   scripts/fuzz-smoke.sh                      # both targets, 30 s each
#   FUZZ_SECONDS=600 FUZZ_PROFILE=release scripts/fuzz-smoke.sh headers_parse
#
# No cargo-fuzz is needed: this passes rustc the same instrumentation flags
# (sancov + -Zsanitizer=address). Those are nightly features; the stable
# toolchain provides them with RUSTC_BOOTSTRAP=1 (set here), or
# FUZZ_TOOLCHAIN=nightly uses a nightly toolchain. FUZZ_PROFILE picks the
# cargo profile: `smoke` (default; opt-level 1, no debug info, the quickest
# cold build) or `release` (optimised, with line tables in crash reports).
# Builds are incremental, in fuzz/target/.
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${FUZZ_SECONDS:-30}"
profile="${FUZZ_PROFILE:-smoke}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(headers_parse collector_multipart)
fi

# FUZZ_TOOLING_OPTIONAL=1 (used by .ci/run): if the targets cannot be built,
# say so loudly and exit 0 — a tooling problem is not a finding. A crash
# found while fuzzing always fails.
tooling_failed() {
    if [ "${FUZZ_TOOLING_OPTIONAL:-0}" = 1 ]; then
        echo "WARNING: fuzz smoke skipped: $1" >&2
        exit 0
    fi
    echo "fuzz smoke: $1" >&2
    exit 1
}

cargo=(cargo)
if [ -n "${FUZZ_TOOLCHAIN:-}" ]; then
    cargo=(cargo "+${FUZZ_TOOLCHAIN}")
else
    export RUSTC_BOOTSTRAP=1
fi
host="$(rustc -vV | sed -n 's/^host: //p')"
[ -n "$host" ] || tooling_failed "could not read the host triple from rustc -vV"

# libFuzzer's coverage feedback (inline 8-bit counters, PC table, compare
# tracing, stack depth) and AddressSanitizer; `--cfg fuzzing` as libfuzzer-sys
# expects. An explicit --target keeps these flags off build scripts and
# proc macros.
export RUSTFLAGS="-Cpasses=sancov-module \
-Cllvm-args=-sanitizer-coverage-level=4 \
-Cllvm-args=-sanitizer-coverage-inline-8bit-counters \
-Cllvm-args=-sanitizer-coverage-pc-table \
-Cllvm-args=-sanitizer-coverage-trace-compares \
-Cllvm-args=-sanitizer-coverage-stack-depth \
-Cllvm-args=-simplifycfg-branch-fold-threshold=0 \
-Zsanitizer=address -Cdebug-assertions --cfg fuzzing"

start=$(date +%s)
echo "== building the fuzz targets (profile $profile, $host)"
bins=()
for t in "${targets[@]}"; do bins+=(--bin "$t"); done
"${cargo[@]}" build --manifest-path fuzz/Cargo.toml --target "$host" \
    --profile "$profile" "${bins[@]}" ||
    tooling_failed "could not build the fuzz targets"
echo "== built in $(( $(date +%s) - start )) s"

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failed=0
for t in "${targets[@]}"; do
    seeds="fuzz/corpus/$t"
    [ -d "$seeds" ] || { echo "no seed corpus $seeds" >&2; exit 2; }
    mkdir -p "$work/$t" "fuzz/artifacts/$t"
    echo "== fuzzing $t for ${secs} s ($(ls "$seeds" | wc -l) seeds)"
    # New inputs go to the scratch corpus (first directory), so the
    # committed seeds stay as they are.
    if "fuzz/target/$host/$profile/$t" "$work/$t" "$seeds" \
        -artifact_prefix="fuzz/artifacts/$t/" \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=16384 \
        -print_final_stats=1 >"$work/$t.log" 2>&1; then
        grep -E '^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$work/$t.log" || true
        grep -E '#[0-9]+ *DONE' "$work/$t.log" | tail -n 1 || true
        echo "== $t: no crash"
    else
        tail -n 60 "$work/$t.log"
        echo "== $t: FAILED (input in fuzz/artifacts/$t/)" >&2
        failed=1
    fi
done
echo "== fuzz smoke done in $(( $(date +%s) - start )) s"
exit "$failed"
