#!/usr/bin/env bash
# bench/interpose_overhead.sh [BUILD_DIR] [ITERS] [launch] — added latency of libddrr.so per
# NCCL call (or, with `launch`, per counted kernel launch), on the host runtime: the same loop
# plain, then under `ddrr record`. With completion tracking on (the default), it also times the
# CUDA runtime calls tracking makes (cudaStreamIsCapturing + cudaEventRecord) without ddrr, and
# prints what remains: ddrr's own work.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
iters=${2:-200000}
mode=${3:-}
export RANK=0 WORLD_SIZE=1
# DDRR_BENCH_RUNTIME=real: the CUDA runtime and NCCL the loader finds (a GPU machine); default:
# ddrr's host runtime.
[ "${DDRR_BENCH_RUNTIME:-host}" = real ] || export LD_LIBRARY_PATH="$build/lib/hostrt"
for trial in 1 2 3; do
  plain=$("$build/bin/bench/interpose_bench" "$iters" $mode 2>/dev/null)
  rec=$("$build/bin/ddrr" record -o "$out/run$trial" -- "$build/bin/bench/interpose_bench" "$iters" $mode 2>/dev/null)
  pm=$(sed -E 's/.*median_ns=([0-9]+).*/\1/' <<<"$plain"); pp=$(sed -E 's/.*p99_ns=([0-9]+).*/\1/' <<<"$plain")
  rm=$(sed -E 's/.*median_ns=([0-9]+).*/\1/' <<<"$rec"); rp=$(sed -E 's/.*p99_ns=([0-9]+).*/\1/' <<<"$rec")
  events=$("$build/bin/ddrr" info "$out/run$trial" | grep -o 'events    [0-9]*' | awk '{print $2}')
  echo "trial $trial: plain median ${pm} ns p99 ${pp} ns | recorded median ${rm} ns p99 ${rp} ns" \
       "| added median $((rm - pm)) ns p99 $((rp - pp)) ns | events recorded ${events}"
  if [ -z "$mode" ] && [ "${DDRR_COMPLETIONS:-1}" != 0 ]; then
    # The runtime calls completion tracking makes, timed without ddrr: the rest is ddrr's own.
    rt=$("$build/bin/bench/interpose_bench" "$iters" runtime 2>/dev/null)
    tm=$(sed -E 's/.*median_ns=([0-9]+).*/\1/' <<<"$rt")
    echo "         plain + tracking's runtime calls median ${tm} ns (runtime calls $((tm - pm)) ns)" \
         "| ddrr's own work median $((rm - tm)) ns"
  fi
done
