#!/usr/bin/env bash
# bench/replay_bench.sh [BUILD_DIR] — comm replay on ddrr's host runtime:
#  1. sgd_allreduce at 8 ranks: the recording's wall time against the replay's, with the data
#     pattern checked and with --data zeros;
#  2. tiny collectives: 2 ranks, 100,000 all-reduces of 2 floats each, replayed flat out
#     (--data zeros and --data pattern): replayed NCCL ops per second per rank.
# Prints figures (docs/PERFORMANCE.md, "Replay"); asserts nothing. `replay_seconds` is the
# replay ranks' run from launch to exit (reading the plan and the trace, and recording
# themselves, included); `recorded_seconds` the recording's, first start to last end.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
samples="$build/bin/samples"
use_sample_bootstrap

field() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($2)" "$1"; }
ops_per_rank() {  # recorded NCCL collectives of rank 0
  "$ddrr" info "$1" | awk '/^  comm /{for (i = 1; i <= NF; ++i) if ($(i+1) == "ops,") print $i}' | head -1
}

echo "== sgd_allreduce, 8 ranks, 200 steps, 256 features"
"$ddrr" record -o "$out/sgd" -- "$ddrr" run --host -n 8 -- "$samples/sgd_allreduce" --steps 200 \
  --log-every 0 >/dev/null 2>&1
for data in pattern zeros; do
  for trial in 1 2 3; do
    "$ddrr" replay "$out/sgd" --host --json --data "$data" --no-progress >"$out/r.json" 2>/dev/null
    echo "data $data trial $trial: verdict $(field "$out/r.json" 'r["verdict"]')," \
         "recorded $(field "$out/r.json" '"%.2f" % r["recorded_seconds"]') s," \
         "replayed $(field "$out/r.json" '"%.2f" % r["replay_seconds"]') s," \
         "checked outputs $(field "$out/r.json" 'r["data"]["checked"]')"
  done
done

echo "== tiny collectives, 2 ranks, 100000 all-reduces of 2 floats"
"$ddrr" record -o "$out/tiny" -- "$ddrr" run --host -n 2 -- "$samples/sgd_allreduce" \
  --steps 100000 --size 1 --samples 4 --log-every 0 >/dev/null 2>&1
ops=$(ops_per_rank "$out/tiny")
for data in zeros pattern; do
  for trial in 1 2 3; do
    "$ddrr" replay "$out/tiny" --host --json --data "$data" --no-progress >"$out/r.json" 2>/dev/null
    secs=$(field "$out/r.json" 'r["replay_seconds"]')
    echo "data $data trial $trial: verdict $(field "$out/r.json" 'r["verdict"]'), $ops ops per rank" \
         "in ${secs} s: $(python3 -c "print(int($ops / $secs))") ops/s per rank" \
         "(recorded in $(field "$out/r.json" '"%.2f" % r["recorded_seconds"]') s)"
  done
done
