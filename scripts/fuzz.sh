#!/bin/sh
# `make fuzz`: builds every libFuzzer target with clang and runs each for
# SECONDS (default 60) on a scratch copy of its committed corpus. New inputs
# that crash are left in build-fuzz/crashes/; add them to tests/fuzz/corpus/.
#   scripts/fuzz.sh [SECONDS [TARGET...]]   e.g. scripts/fuzz.sh 600 fuzz_sdp_frag
# Each run's full log is build-fuzz/<target>.log; libFuzzer's final coverage
# and stats are printed. Exits 1 when any target found something.
set -eu
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
[ $# -gt 0 ] && shift
scripts/deps.sh fuzz
if [ $# -eq 0 ]; then
    # shellcheck disable=SC2046 # one word per target name
    set -- $(for src in tests/fuzz/fuzz_*.c; do basename "$src" .c; done)
fi
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DMEDRELAY_FUZZ=ON >/dev/null
# Only the fuzzers and what they link, not the whole tree.
cmake --build build-fuzz -j "$(nproc)" --target "$@" >/dev/null
mkdir -p build-fuzz/crashes
status=0
for name in "$@"; do
    work=build-fuzz/corpus-$name
    log=build-fuzz/$name.log
    rm -rf "$work" && mkdir -p "$work"
    cp tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null || true
    echo "== $name ($SECONDS_EACH s)"
    # No pipe into tail: sh has no pipefail, and the fuzzer's exit status
    # is what says whether it found something.
    if build-fuzz/tests/fuzz/"$name" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
            -artifact_prefix=build-fuzz/crashes/"$name"- "$work" >"$log" 2>&1; then
        grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|new_units_added|peak_rss_mb)' "$log" || true
    else
        tail -n 40 "$log"
        echo "== $name: FAILED (log: $log)"
        status=1
    fi
done
exit $status
