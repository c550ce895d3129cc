#!/bin/sh
# `make fuzz`: builds every libFuzzer target with clang and runs each for
# SECONDS (default 60) on a scratch copy of its committed corpus. New inputs
# that crash are left in build-fuzz/crashes/; add them to tests/fuzz/corpus/.
set -eu
cd "$(dirname "$0")/.."
SECONDS_EACH=${1:-60}
command -v clang >/dev/null || { echo "make fuzz needs clang (apt-get install clang)" >&2; exit 1; }
cmake -S . -B build-fuzz -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DMEDRELAY_FUZZ=ON >/dev/null
cmake --build build-fuzz -j "$(nproc)" >/dev/null
mkdir -p build-fuzz/crashes
status=0
for src in tests/fuzz/fuzz_*.c; do
    name=$(basename "$src" .c)
    work=build-fuzz/corpus-$name
    rm -rf "$work" && mkdir -p "$work"
    cp tests/fuzz/corpus/"$name"/* "$work"/ 2>/dev/null || true
    echo "== $name ($SECONDS_EACH s)"
    if ! build-fuzz/tests/fuzz/"$name" -max_total_time="$SECONDS_EACH" -print_final_stats=1 \
            -artifact_prefix=build-fuzz/crashes/"$name"- "$work" 2>&1 | tail -n 12; then
        status=1
    fi
done
exit $status
