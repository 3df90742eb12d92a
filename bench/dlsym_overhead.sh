#!/usr/bin/env bash
# bench/dlsym_overhead.sh [BUILD_DIR] [ROUNDS] — added cost of libddrr.so's dlsym hook per call,
# per kind of lookup (bench/dlsym_bench.cc): the same loops plain, then with libddrr.so preloaded.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
rounds=${2:-200}
export LD_LIBRARY_PATH="$build/lib/hostrt" DDRR_OUT="$out/run"
median() { grep "^$1 " <<<"$2" | sed -E 's/.*median_ns=([0-9.]+).*/\1/'; }
for trial in 1 2 3; do
  plain=$("$build/bin/bench/dlsym_bench" "$rounds")
  hooked=$(LD_PRELOAD="$build/lib/libddrr.so" "$build/bin/bench/dlsym_bench" "$rounds")
  for kind in handle_unwrapped default_unwrapped next_unwrapped handle_wrapped default_wrapped; do
    p=$(median $kind "$plain") h=$(median $kind "$hooked")
    printf 'trial %d %-18s plain %7.1f ns  hooked %7.1f ns  added %7.1f ns\n' "$trial" "$kind" \
      "$p" "$h" "$(echo "$h - $p" | bc)"
  done
done
