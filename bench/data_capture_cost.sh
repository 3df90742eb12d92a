#!/usr/bin/env bash
# bench/data_capture_cost.sh [BUILD_DIR] [ITERS] — time per ncclAllReduce on the host runtime,
# 1 rank, for several buffer sizes, plain and recorded at each capture level (median, p99).
set -euo pipefail
. "$(dirname "$0")/lib.sh"
iters=${2:-2000}
export RANK=0 WORLD_SIZE=1
# DDRR_BENCH_RUNTIME=real: the CUDA runtime and NCCL the loader finds (a GPU machine); default:
# ddrr's host runtime.
[ "${DDRR_BENCH_RUNTIME:-host}" = real ] || export LD_LIBRARY_PATH="$build/lib/hostrt"
bench="$build/bin/bench/interpose_bench"
for floats in 256 262144 4194304; do
  line="floats=$floats ($((floats * 4)) bytes):"
  plain=$("$bench" "$iters" floats "$floats" 2>/dev/null)
  line+=" plain $(sed -E 's/.*median_ns=([0-9]+) p99_ns=([0-9]+).*/\1\/\2/' <<<"$plain")"
  for level in metadata digests payloads; do
    rec=$(DDRR_SPOOL_MB=1024 "$build/bin/ddrr" record --level "$level" -o "$out/$level$floats" -- \
      "$bench" "$iters" floats "$floats" 2>/dev/null)
    line+=" | $level $(sed -E 's/.*median_ns=([0-9]+) p99_ns=([0-9]+).*/\1\/\2/' <<<"$rec")"
  done
  echo "$line  (ns median/p99)"
done
