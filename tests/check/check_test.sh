#!/usr/bin/env bash
# check_test.sh CASE DDRR SAMPLES_DIR SYNTH PRELOAD — one `ddrr check` scenario: record a run of
# a sample with a fault (or synthesise one), check it, and assert the exit code and the first
# finding: kind, rank(s), communicator, op number, and the quoted calls against the trace
# itself (expect.py).
set -uo pipefail
case_name=$1 ddrr=$2 samples=$3 synth=$4 preload=$5
here=$(cd "$(dirname "$0")" && pwd)
hostrt=$(cd "$(dirname "$ddrr")/../lib/hostrt" && pwd)
source "$(dirname "$0")/../lib.sh"
fail() { echo "FAIL [$case_name]: $*" >&2; head -c 3000 "$work/check.json" >&2 2>/dev/null; exit 1; }

# record SAMPLE ARGS...: a 3-rank run of a sample under the recorder. The faulty job's own exit
# code is not ours to judge.
record() {
  local sample=$1; shift
  "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 3 -- "$samples/$sample" "$@" \
    >"$work/out" 2>&1
  [ -d "$work/run" ] || fail "nothing recorded: $(tail -5 "$work/out")"
}
# record_single ARGS...: multi_device_single_process, one process driving 4 host devices.
record_single() {
  DDRR_HOST_DEVICES=4 LD_LIBRARY_PATH="$hostrt" RANK=0 WORLD_SIZE=1 \
    "$ddrr" record -o "$work/run" -- "$samples/multi_device_single_process" "$@" >"$work/out" 2>&1
  [ -d "$work/run" ] || fail "nothing recorded: $(tail -5 "$work/out")"
}
synth() { "$synth" -o "$work/run" "$@" >"$work/out" 2>&1 || fail "synth: $(cat "$work/out")"; }
# check WANT_RC [ARGS]: ddrr check --json, with its exit code asserted; dumps the run for
# expect.py.
check() {
  local want=$1; shift
  "$ddrr" check "$work/run" --json "$@" >"$work/check.json" 2>"$work/check.err"
  local rc=$?
  [ "$rc" -eq "$want" ] || fail "check exited $rc, want $want: $(head -c 600 "$work/check.err")"
  "$ddrr" dump "$work/run" --json >"$work/dump.json" 2>/dev/null
}
expect() { python3 "$here/expect.py" "$work/check.json" "$work/dump.json" "$@" || fail "$*"; }
# The op the sample says it injected its fault at: sgd counts steps (op = step + 2: the weight
# broadcast is op 1, step 0's all-reduce op 2); the tour counts operations from 0, and before
# its operation 17 every one is a world collective (op = operation + 1).
fault_op() {
  local n
  n=$(grep -o "injecting fault '[a-z-]*' on rank [0-9]* at [a-z]* [0-9]*" "$work/out" | grep -o '[0-9]*$')
  [ -n "$n" ] || fail "no fault announced: $(tail -5 "$work/out")"
  if grep -q "at step" "$work/out"; then echo $((n + 2)); else echo $((n + 1)); fi
}
# The key of the first communicator rank 2 created (the tour's world).
world_key() {
  python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e["rank"] == 2 and e.get("fn") == "ncclCommInitRank":
        print(e["comm_key"]); break' "$work/dump.json"
}

case $case_name in
  sgd_wrong_count | sgd_wrong_dtype | tour_wrong_count | tour_wrong_dtype | tour_wrong_root)
    sample=sgd_allreduce; [ "${case_name%%_*}" = tour ] && sample=collectives_tour
    fault=${case_name#*_}; fault=${fault//_/-}
    record $sample --steps 6 --fault "$fault"
    check 1
    want=${fault#wrong-}; want=${want/dtype/datatype}
    fn=ncclAllReduce; [ $sample = collectives_tour ] && fn=ncclBroadcast
    expect first mismatched-collective 2 --op "$(fault_op)" --msg "$want differs" --call 2:$fn
    # Under the emulator every rank's mismatched call fails: those errors come after the cause.
    expect has nccl-error 2 ;;
  sgd_wrong_root)
    # sgd's wrong root is always the initial weight broadcast, op 1.
    record sgd_allreduce --steps 6 --fault wrong-root
    check 1
    expect first mismatched-collective 2 --op 1 --msg "root differs" --call 2:ncclBroadcast ;;
  sgd_skip_collective)
    # Rank 2 skips one all-reduce: its later ones line up with the others' next ones, until its
    # final 1-element all-reduce meets their last step's 257-element one, op 7 (steps + 1).
    record sgd_allreduce --steps 6 --fault skip-collective
    check 1
    expect first mismatched-collective 2 --op 7 --msg "count differs" --call 2:ncclAllReduce ;;
  tour_skip_collective)
    record collectives_tour --fault skip-collective
    check 1
    expect first mismatched-collective 2 --op "$(fault_op)" --msg "function differs" \
      --call 2:ncclBcast ;;
  sgd_unmatched_send)
    record sgd_allreduce --steps 6 --fault unmatched-send
    check 1
    expect first unmatched-p2p 2 --op "$(fault_op)" --call 2:ncclSend \
      --msg "has no matching ncclRecv: rank 0 posted 0, rank 2 posted 1" ;;
  tour_unmatched_send)
    # NCCL pairs in issue order: the ring exchange's receive from rank 2 takes the stray send,
    # so the ring's own send is the one left over (samples/README.md says the same).
    record collectives_tour --fault unmatched-send
    check 1
    "$ddrr" dump "$work/run" --json >"$work/dump.json" 2>/dev/null
    expect first unmatched-p2p 2 --comm "$(world_key)" --call 2:ncclSend \
      --msg "rank 0 posted 1, rank 2 posted 2" ;;
  sgd_same_device)
    record sgd_allreduce --steps 4 --fault same-device
    check 1
    expect first duplicate-device 0,2 --op 0 --call 0:ncclCommInitRank --call 2:ncclCommInitRank \
      --comm-rank-note "2:device 0 but local rank 2" ;;
  tour_same_device)
    # Ranks 0 and 2 share device 0 in all three communicators; the world comes first (created
    # first).
    record collectives_tour --fault same-device
    check 1
    "$ddrr" dump "$work/run" --json >"$work/dump.json" 2>/dev/null
    expect first duplicate-device 0,2 --comm "$(world_key)" --call 2:ncclCommInitRank
    [ "$(grep -c '"kind":"duplicate-device"' "$work/check.json")" -eq 3 ] || fail "want 3" ;;
  sgd_abort | tour_abort)
    sample=sgd_allreduce; [ "${case_name%%_*}" = tour ] && sample=collectives_tour
    record $sample --steps 6 --fault abort
    check 1
    # Rank 2 aborts before the collective of the fault's op: it stopped first.
    expect first missing-participant 2 --op "$(fault_op)" --msg "rank 2 stopped first"
    expect has comm-abort 2 ;;
  sgd_nan_digests | tour_nan_digests)
    # Needs the recorder's digests level: skipped (77) while it records metadata only.
    sample=sgd_allreduce; [ "${case_name%%_*}" = tour ] && sample=collectives_tour
    "$ddrr" record -o "$work/run" --level digests -- "$ddrr" run --host -n 3 -- \
      "$samples/$sample" --steps 6 --fault nan >"$work/out" 2>&1
    "$ddrr" info "$work/run" 2>/dev/null | grep -q "capture   digests" \
      || { echo "skipped [$case_name]: the recorder does not write digests yet"; exit 77; }
    check 1
    # Rank 2 put the NaN in its input; ranks 0 and 1 only received it.
    expect first nan-appeared 2 --op "$(fault_op)" --msg "ranks 0,1 received it" ;;
  sgd_clean | tour_clean)
    sample=sgd_allreduce; [ "${case_name%%_*}" = tour ] && sample=collectives_tour
    record $sample --steps 10
    check 0
    [ ! -s "$work/check.json" ] || fail "findings on a clean run" ;;
  md_same_device)
    record_single --fault same-device
    check 1
    expect first duplicate-device 0 --op 0 --call 0:ncclCommInitAll --msg "use the same GPU" ;;
  md_skip_collective | md_wrong_count)
    fault=${case_name#md_}; fault=${fault//_/-}
    record_single --fault "$fault"
    check 1
    # One process: the odd member is the last device's communicator (comm rank 3).
    expect first mismatched-collective 0 --comm-rank-note "3:odd one out" --call 0:ncclAllReduce ;;
  md_unmatched_send)
    record_single --fault unmatched-send
    check 1
    expect first unmatched-p2p 0 --comm-rank-note 3:unmatched --call 0:ncclSend ;;
  md_abort)
    record_single --fault abort
    check 1
    expect first comm-abort 0 --comm-rank-note 3:first --call 0:ncclCommAbort ;;
  md_clean)
    record_single
    check 0 ;;
  no_device_cuda_error)
    # No device visible: every rank's first CUDA call fails; one finding per rank, the earliest
    # marked.
    DDRR_HOST_DEVICES=0 record sgd_allreduce --steps 2
    check 1
    expect first cuda-error "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["ranks"][0])' "$work/check.json")" \
      --msg "first rank to fail" --call "$(python3 -c 'import json,sys; print(json.loads(open(sys.argv[1]).readline())["ranks"][0])' "$work/check.json"):cudaGetDeviceCount"
    for r in 0 1 2; do expect has cuda-error $r; done ;;
  synth_killed_rank)
    synth -n 4 --steps 10 --kill-rank 2 --kill-step 6
    check 1
    expect first missing-participant 2 --op 21 --msg "ranks 0,1,3 reached op 40; rank 2 stopped at op 20"
    grep -q "no footer" "$work/check.json" || fail "evidence does not say the trace was cut" ;;
  synth_truncated)
    # Small frames, then rank 2's file cut at 60%: its intact frames are read, and it looks like
    # a rank that stopped there.
    synth -n 4 --steps 50 --frame-bytes 2048
    size=$(stat -c %s "$work/run/rank-2.ddrr")
    truncate -s $((size * 6 / 10)) "$work/run/rank-2.ddrr"
    check 1
    expect first missing-participant 2
    grep -q "rank-2.ddrr" "$work/check.err" || fail "damage not noted: $(cat "$work/check.err")" ;;
  synth_nan)
    synth -n 4 --steps 6 --digests --nan-rank 1 --nan-step 3
    check 1
    # The first all-reduce of step 3 is op 9 (4 per step).
    expect first nan-appeared 1 --op 9 --msg "ranks 0,2,3 received it" --call 1:ncclAllReduce ;;
  synth_divergence)
    synth -n 4 --steps 6 --digests --diverge-rank 2 --diverge-step 4
    check 1
    expect first data-divergence 2 --op 16 --call 2:ncclAllReduce ;;
  synth_straggler)
    synth -n 4 --steps 10 --slow-rank 3 --slow-ms 15
    check 0  # info findings are reported but leave the status 0
    expect first straggler 3 --msg "arrived last at 40 of 40" ;;
  synth_clean_digests)
    synth -n 4 --steps 6 --digests
    check 0 ;;
  missing_rank_file)
    # Rank 0's file is gone: the mismatch among the others is still found, and the gap noted.
    record collectives_tour --fault wrong-count
    rm "$work/run/rank-0.ddrr"
    check 1
    expect first mismatched-collective 2 --op "$(fault_op)" --msg "count differs"
    grep -q "rank 0 of 3: no rank file" "$work/check.err" || fail "missing rank not noted" ;;
  killed_rank_salvaged)
    # Recorded with a plain LD_PRELOAD (nothing salvages by itself); one rank SIGKILLed mid-run.
    ( LD_PRELOAD="$preload" DDRR_OUT="$work/run" "$ddrr" run --host -n 3 -- \
        "$samples/sgd_allreduce" --steps 1000000 --log-every 1000 --seed 7150001 \
        >"$work/out" 2>&1 ) &
    for _ in $(seq 100); do grep -q 'step 2000 ' "$work/out" 2>/dev/null && break; sleep 0.1; done
    victim=$(pgrep -f "^[^ ]*/sgd_allreduce .*--seed 7150001$" | tail -1)
    [ -n "$victim" ] || fail "no rank to kill"
    victim_rank=$(tr '\0' '\n' <"/proc/$victim/environ" | sed -n 's/^RANK=//p')
    kill -9 "$victim"
    wait
    check 1
    grep -q "salvaged .*rank-$victim_rank.spool" "$work/check.err" || fail "not salvaged"
    expect first missing-participant "$victim_rank" --msg "rank $victim_rank stopped first" ;;
  comm_filter)
    record collectives_tour --fault same-device
    check 1
    world=$(world_key)
    check 1 --comm "$world"
    [ "$(wc -l <"$work/check.json")" -eq 1 ] || fail "--comm kept other communicators"
    expect first duplicate-device 0,2 --comm "$world"
    "$ddrr" check "$work/run" --comm xyz >/dev/null 2>"$work/err"
    [ $? -eq 2 ] || fail "bad key not exit 2"
    "$ddrr" check "$work/run" --comm 0123456789abcdef >/dev/null 2>"$work/err"
    [ $? -eq 2 ] || fail "unknown key not exit 2"
    grep -q "no communicator 0123456789abcdef" "$work/err" || fail "$(cat "$work/err")" ;;
  max_findings_and_text)
    record collectives_tour --fault wrong-count
    "$ddrr" check "$work/run" --json --max-findings 1 >"$work/check.json" 2>/dev/null
    [ $? -eq 1 ] || fail "exit code not 1"
    [ "$(wc -l <"$work/check.json")" -eq 1 ] || fail "--max-findings 1 printed more"
    "$ddrr" check "$work/run" >"$work/check.txt" 2>/dev/null
    head -1 "$work/check.txt" | grep -qE '^mismatched-collective comm [0-9a-f]{16} \(size 3\) op [0-9]+: ' \
      || fail "text header: $(head -1 "$work/check.txt")"
    sed -n 2p "$work/check.txt" | grep -qE '^    rank [0-9]+: #[0-9]+ nccl' \
      || fail "text rank line: $(sed -n 2p "$work/check.txt")"
    grep -qE '^      - rank [0-9]+: #[0-9]+ ' "$work/check.txt" || fail "no evidence lines" ;;
  bad_input)
    "$ddrr" check "$work/nothing-here" >/dev/null 2>&1
    [ $? -eq 2 ] || fail "missing run not exit 2"
    echo garbage >"$work/rank-0.ddrr"
    "$ddrr" check "$work/rank-0.ddrr" >/dev/null 2>"$work/err"
    [ $? -eq 2 ] || fail "garbage file not exit 2"
    [ "$(wc -l <"$work/err")" -ge 1 ] && grep -q "rank-0.ddrr" "$work/err" \
      || fail "error does not name the file: $(cat "$work/err")" ;;
  diff_data_divergence)
    # ddrr diff compares digests when both runs have them: rank 2's output digest differs from
    # op 16 on, the structure nowhere.
    synth -n 3 --steps 6 --digests
    mv "$work/run" "$work/a"
    synth -n 3 --steps 6 --digests --diverge-rank 2 --diverge-step 4
    "$ddrr" diff "$work/a" "$work/a" >"$work/diff" 2>&1 || fail "a run differs from itself"
    "$ddrr" diff "$work/a" "$work/run" >"$work/diff" 2>&1
    [ $? -eq 1 ] || fail "diff exit $?, want 1: $(cat "$work/diff")"
    [ "$(grep -c 'first data difference' "$work/diff")" -eq 1 ] || fail "$(cat "$work/diff")"
    grep -q '^rank 2: first data difference at event [0-9]*: output digest of #' "$work/diff"       || fail "$(cat "$work/diff")"
    grep -q 'ncclAllReduce(.*\[comm [0-9a-f]* op 16\]' "$work/diff" || fail "call not named"
    grep -q 'first difference at' "$work/diff" && fail "structure differs: $(cat "$work/diff")"
    true ;;
  diff_data_nan)
    # Rank 1 fed the NaN: its first data difference is the input of op 9; the others' is its
    # output.
    synth -n 3 --steps 6 --digests
    mv "$work/run" "$work/a"
    synth -n 3 --steps 6 --digests --nan-rank 1 --nan-step 3
    "$ddrr" diff "$work/a" "$work/run" >"$work/diff" 2>&1
    [ $? -eq 1 ] || fail "want exit 1: $(cat "$work/diff")"
    grep -A3 '^rank 1: first data difference' "$work/diff" | grep -q 'input digest'       || fail "$(cat "$work/diff")"
    for r in 0 2; do
      grep -A4 "^rank $r: first data difference" "$work/diff" | grep -q 'output digest'         || fail "rank $r: $(cat "$work/diff")"
    done
    grep -A4 '^rank 0: first data difference' "$work/diff" | grep -q '^  B .*1 NaN'       || fail "NaN count not shown" ;;
  diff_digests_one_side)
    synth -n 2 --steps 3 --digests
    mv "$work/run" "$work/a"
    synth -n 2 --steps 3
    "$ddrr" diff "$work/a" "$work/run" >"$work/diff" 2>&1 || fail "$(cat "$work/diff")"
    [ "$(grep -c 'digests only in' "$work/diff")" -eq 2 ] || fail "$(cat "$work/diff")"
    grep -q "no difference in 2 rank(s)" "$work/diff" || fail "$(cat "$work/diff")" ;;
  *) fail "unknown case" ;;
esac
echo "ok [$case_name]"
