#!/usr/bin/env bash
# Bounded fuzzing smoke run (issue 9): builds the cargo-fuzz targets in
# fuzz/ (headers_parse, collector_multipart) and runs each for
# FUZZ_SECONDS (default 30) starting from the committed seed corpus in
# fuzz/corpus/<target>/. Fails on the first crash, panic, timeout or
# out-of-memory; the input is kept in fuzz/artifacts/<target>/ and can be
# replayed with `RUSTC_BOOTSTRAP=1 cargo fuzz run <target> <file>`.
#
#   scripts/fuzz-smoke.sh                      # both targets, 30 s each
#   FUZZ_SECONDS=600 scripts/fuzz-smoke.sh headers_parse
#
# cargo-fuzz needs nightly compiler features; the stable toolchain provides
# them with RUSTC_BOOTSTRAP=1 (set here), so no nightly is needed.
# FUZZ_TOOLCHAIN=nightly uses a nightly toolchain instead. cargo-fuzz is
# installed from crates.io when missing. The first build takes a few
# minutes (the targets are optimised, with AddressSanitizer); later ones
# are incremental, in fuzz/target/.
set -euo pipefail
cd "$(dirname "$0")/.."

secs="${FUZZ_SECONDS:-30}"
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(headers_parse collector_multipart)
fi

# FUZZ_TOOLING_OPTIONAL=1 (used by .ci/run): if cargo-fuzz cannot be
# installed or the targets cannot be built, say so loudly and exit 0 — a
# tooling problem is not a finding. A crash found while fuzzing always fails.
tooling_failed() {
    if [ "${FUZZ_TOOLING_OPTIONAL:-0}" = 1 ]; then
        echo "WARNING: fuzz smoke skipped: $1" >&2
        exit 0
    fi
    echo "fuzz smoke: $1" >&2
    exit 1
}

if ! cargo fuzz --version >/dev/null 2>&1; then
    echo "== installing cargo-fuzz"
    cargo install cargo-fuzz --locked || tooling_failed "could not install cargo-fuzz"
fi

cargo_fuzz=(cargo)
if [ -n "${FUZZ_TOOLCHAIN:-}" ]; then
    cargo_fuzz=(cargo "+${FUZZ_TOOLCHAIN}")
else
    export RUSTC_BOOTSTRAP=1
fi
cargo_fuzz+=(fuzz)

start=$(date +%s)
echo "== building the fuzz targets"
"${cargo_fuzz[@]}" build || tooling_failed "could not build the fuzz targets"
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
    if "${cargo_fuzz[@]}" run "$t" "$work/$t" "$seeds" -- \
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
