#!/usr/bin/env bash
# bench/live_check_bench.sh [BUILD_DIR] [NRANKS] — `ddrr check` on a job that hangs while it
# runs: NRANKS (default 64) ranks of sgd_allreduce on the host runtime, the last one stalled in
# its own code at step 25, the others waiting inside the all-reduce; prints the wall time of
# three checks of the live run (every rank read from a snapshot of its spool) and of one after
# the job is killed (salvage included). Asserts nothing.
set -euo pipefail
build=${1:-build}
n=${2:-64}
ddrr="$build/bin/ddrr"
out=$(mktemp -d)
export DDRR_SAMPLE_BOOTSTRAP_DIR="$out/bootstrap" DDRR_EMU_TIMEOUT=600 DDRR_HOST_DEVICES=$n
mkdir -p "$DDRR_SAMPLE_BOOTSTRAP_DIR"
"$ddrr" record -o "$out/run" -- "$ddrr" run --host -n "$n" -- "$build/bin/samples/sgd_allreduce" \
  --steps 50 --log-every 0 --fault stall --fault-step 25 >"$out/job" 2>&1 &
job=$!
trap 'kill -9 $job 2>/dev/null; rm -rf "$out"' EXIT
for _ in $(seq 600); do grep -q "stalling before" "$out/job" 2>/dev/null && break; sleep 0.1; done
sleep 3
for trial in 1 2 3; do
  start=$(date +%s.%N)
  "$ddrr" check "$out/run" >"$out/check" 2>/dev/null || true
  echo "live, $n ranks, trial $trial: $(python3 -c "print(round($(date +%s.%N) - $start, 2))") s;" \
       "first finding: $(head -1 "$out/check" | cut -c1-100)"
done
kill -9 $job
wait $job 2>/dev/null || true
start=$(date +%s.%N)
"$ddrr" check "$out/run" >"$out/check" 2>/dev/null || true
echo "killed, $n ranks (salvage included): $(python3 -c "print(round($(date +%s.%N) - $start, 2))") s;" \
     "first finding: $(head -1 "$out/check" | cut -c1-100)"
