#!/usr/bin/env bash
# bench/app_replay_bench.sh [BUILD_DIR] — application replay on ddrr's host runtime:
#  1. sgd_allreduce, 4 ranks, 200 steps, recorded at the payloads level: the recording's wall time
#     against the replay of rank 2 alone (its peers served from the recording), three times;
#  2. the cost of replay mode per call: 2 ranks of tiny all-reduces, recorded, then replayed with
#     every rank running for real (emu) — the same work plus matching and comparing each call —
#     and with rank 1 alone.
# Prints figures (docs/PERFORMANCE.md, "Application replay"); asserts nothing. "replay" is the
# program's run under replay mode from launch to exit as `ddrr replay` reports it; "recording"
# the recorded run's, first rank's start to last rank's end.
set -euo pipefail
. "$(dirname "$0")/lib.sh"
sgd="$build/bin/samples/sgd_allreduce"
use_sample_bootstrap
export DDRR_SAMPLE_KEEP_ID=1

now() { date +%s.%N; }
calc() { python3 -c "print(round($1, 2))"; }
# replay_line FILE: "replay X s (recording Y s)" from the report's last line.
replay_line() { sed -n 's/^replay: [a-z]*, \([0-9.]*\) s (recording \([0-9.]*\) s).*/replay \1 s, recording \2 s/p' "$1"; }
calls_of() { sed -n "s/^rank $2: replayed as recorded: \([0-9]*\) call.*/\1/p" "$1"; }

echo "== sgd_allreduce, 4 ranks, 200 steps, 256 features, payloads"
args=(--steps 200 --log-every 0)
t0=$(now)
"$ddrr" record --level payloads -o "$out/sgd" -- "$ddrr" run --host -n 4 -- "$sgd" "${args[@]}" \
  >/dev/null 2>&1
echo "ddrr record (4 ranks): $(calc "$(now) - $t0") s wall"
for trial in 1 2 3; do
  "$ddrr" replay "$out/sgd" --host --ranks 2 -- "$sgd" "${args[@]}" >"$out/r.txt" 2>/dev/null
  echo "rank 2 alone, trial $trial: $(replay_line "$out/r.txt"), $(calls_of "$out/r.txt" 2) calls"
done

echo "== replay mode per call: 1 rank, 100000 steps of tiny calls (memcpy, all-reduce, query)"
# One rank: no peer to wait for, so the times are the calls' own. The replay's program records
# itself too: its time less the recording's is what matching and comparing add.
args=(--steps 100000 --size 1 --samples 4 --log-every 0)
for trial in 1 2 3; do
  rm -rf "$out/tiny" "$DDRR_SAMPLE_BOOTSTRAP_DIR"/*
  "$ddrr" record --level metadata -o "$out/tiny" -- "$ddrr" run --host -n 1 -- "$sgd" "${args[@]}" \
    >/dev/null 2>&1
  "$ddrr" replay "$out/tiny" --host --ranks all -- "$sgd" "${args[@]}" >"$out/r.txt" 2>/dev/null
  calls=$(calls_of "$out/r.txt" 0)
  read -r replayed recorded < <(sed -n 's/^replay: [a-z]*, \([0-9.]*\) s (recording \([0-9.]*\) s).*/\1 \2/p' "$out/r.txt")
  echo "trial $trial: program recorded $recorded s, replayed $replayed s, $calls calls:" \
       "replay mode adds $(calc "($replayed - $recorded) * 1e9 / $calls") ns per call"
done
