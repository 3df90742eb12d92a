#!/usr/bin/env bash
# replay_test.sh CASE DDRR SAMPLES_DIR TRACE_EDIT COMM_VARIETY — one `ddrr replay` scenario on the host
# runtime: record a sample (clean, or with a fault), replay it, and assert the verdict, the
# findings the two runs share, the data checks and the exit status.
set -uo pipefail
case_name=$1 ddrr=$2 samples=$3 trace_edit=$4 comm_variety=$5
source "$(dirname "$0")/../lib.sh"
fail() {
  echo "FAIL [$case_name]: $*" >&2
  tail -c 2500 "$work/replay.out" >&2 2>/dev/null
  tail -5 "$work/replay.err" >&2 2>/dev/null
  exit 1
}

# record SAMPLE NRANKS ARGS...: the sample under the recorder on the host runtime. A faulty job's
# own exit status is not ours to judge.
record() {
  local sample=$1 n=$2; shift 2
  "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n "$n" -- "$samples/$sample" "$@" \
    >"$work/record.out" 2>&1
  ls "$work/run"/rank-*.ddrr >/dev/null 2>&1 || fail "nothing recorded: $(tail -5 "$work/record.out")"
}
record_single() {  # multi_device_single_process: one process driving 4 host devices
  DDRR_HOST_DEVICES=4 LD_LIBRARY_PATH="$(dirname "$ddrr")/../lib/hostrt" RANK=0 WORLD_SIZE=1 \
    "$ddrr" record -o "$work/run" -- "$samples/multi_device_single_process" "$@" \
    >"$work/record.out" 2>&1
  [ -f "$work/run/rank-0.ddrr" ] || fail "nothing recorded: $(tail -5 "$work/record.out")"
}
# replay WANT_RC ARGS...: ddrr replay --host --json, exit status asserted.
replay() {
  local want=$1; shift
  "$ddrr" replay "$work/run" --host --json --timeout 4 "$@" >"$work/replay.out" 2>"$work/replay.err"
  local rc=$?
  [ "$rc" -eq "$want" ] || fail "replay exited $rc, want $want"
}
# field EXPR: a Python expression over the report `r`.
field() { python3 -c "import json,sys; r=json.load(open(sys.argv[1])); print($1)" "$work/replay.out"; }
assert() {  # assert PYTHON_EXPR MESSAGE
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" \
    "$work/replay.out" || fail "$2"
}
reproduced() {
  assert 'r["verdict"] == "reproduced"' "verdict is not reproduced"
  assert 'r["findings"]["agree"]' "the replay's first finding differs from the recording's"
  assert 'not r["unresolved"]' "calls could not be replayed"
}

case $case_name in
  sgd_clean)
    record sgd_allreduce 4 --steps 12
    replay 0
    reproduced
    assert 'r["data"]["checked"] >= 4 * 13 and r["data"]["wrong"] == 0' "outputs not all checked"
    assert 'all(x["compared"] > 10 for x in r["ranks"])' "too few calls compared"
    assert 'r["output_kept"] is False' "a reproduced replay's temporary run was kept" ;;
  tour_clean)
    record collectives_tour 4
    replay 0
    reproduced
    assert 'r["data"]["checked"] > 4 * 20 and r["data"]["wrong"] == 0' "tour outputs not checked" ;;
  md_clean)
    record_single --steps 3
    DDRR_HOST_DEVICES=4 replay 0
    reproduced
    assert 'r["data"]["checked"] >= 4 * 3 * 2' "multi-device outputs not checked" ;;
  dlopen_clean)
    record dlopen_nccl 3
    replay 0
    reproduced ;;
  comm_variety)
    # Config, scalable init, split with NOCOLOR, shrink, groups over two communicators,
    # PreMulSum, registrations, ncclMemAlloc, events, a second thread.
    "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 4 -- "$comm_variety" \
      >"$work/record.out" 2>&1 || fail "comm_variety failed: $(tail -5 "$work/record.out")"
    [ "$(grep -c 'comm_variety: OK' "$work/record.out")" -eq 4 ] || fail "not OK on every rank"
    replay 0
    reproduced
    assert 'r["data"]["checked"] > 20 and r["data"]["wrong"] == 0' "outputs not checked"
    assert 'all(x["compared"] >= 20 for x in r["ranks"])' "too few calls compared" ;;
  sgd_fault_* | tour_fault_*)
    sample=sgd_allreduce; [ "${case_name%%_*}" = tour ] && sample=collectives_tour
    fault=${case_name#*_fault_}; fault=${fault//_/-}
    record "$sample" 3 --fault "$fault" --steps 6
    grep -q "injecting fault\|stalling\|aborted" "$work/record.out" || fail "fault not injected"
    replay 0
    reproduced
    [ "$fault" = nan ] || assert 'r["findings"]["recorded"] != ""' "the recording shows no problem" ;;
  md_fault_*)
    fault=${case_name#md_fault_}; fault=${fault//_/-}
    record_single --steps 4 --fault "$fault"
    DDRR_HOST_DEVICES=4 replay 0
    reproduced ;;
  hang_stall)
    # Rank 2 stalls in its own code; the others wait in the all-reduce until emu gives up.
    record sgd_allreduce 3 --steps 6 --fault stall --fault-rank 2 --fault-step 3
    replay 0
    reproduced
    assert 'r["stopped"] and r["hang"]' "the replay did not stop at the hang"
    assert 'any(w["rank"] == 2 and w["state"] == "at the end of its recording" for w in r["waiting"])' \
      "rank 2 is not the one that never came"
    assert 'all(x["hung"] for x in r["ranks"] if x["rank"] != 2)' "ranks 0,1 did not hang"
    assert '"missing-participant" in r["findings"]["replayed"]' "the replay does not name the culprit"
    assert '"rank 2" in r["findings"]["replayed"]' "the culprit is not rank 2" ;;
  hang_killed)
    # The job hangs for good (emu would wait 300 s) and is killed while it hangs.
    ( DDRR_EMU_TIMEOUT=300 "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 3 -- \
        "$samples/sgd_allreduce" --steps 6 --fault stall --fault-rank 1 --fault-step 2 \
        >"$work/record.out" 2>&1 ) &
    for _ in $(seq 100); do grep -q "stalling" "$work/record.out" 2>/dev/null && break; sleep 0.1; done
    sleep 1
    pkill -9 -f -- "^[^ ]*/sgd_allreduce --steps 6 --fault stall --fault-rank 1" || fail "no job"
    wait
    replay 0
    reproduced
    assert 'r["stopped"]' "the replay did not stop where the recording stops" ;;
  ranks_per_gpu)
    record sgd_allreduce 4 --steps 5
    DDRR_HOST_DEVICES=1 replay 0 --ranks-per-gpu 4
    reproduced
    assert '"4 ranks per device" in r["placement"]' "not placed 4 ranks per device" ;;
  edited_count)
    record sgd_allreduce 2 --steps 5
    "$trace_edit" "$work/run/rank-1.ddrr" "$work/edited" ncclAllReduce 3 count 100 \
      || fail "trace_edit failed"
    mv "$work/edited" "$work/run/rank-1.ddrr"
    replay 1
    assert 'r["verdict"] == "diverged"' "an edited count was not noticed"
    assert 'any(x["rank"] == 1 and x["diverged"] and "count=100" in x["replayed_call"] for x in r["ranks"])' \
      "rank 1 does not diverge at the edited all-reduce"
    assert 'r["output_kept"]' "a diverged replay's run was not kept" ;;
  window)
    record sgd_allreduce 2 --steps 10
    replay 0 --from step:3 --until step:6 -o "$work/replayed"
    reproduced
    n=$("$ddrr" dump "$work/replayed" --rank 0 | grep -c ' ncclAllReduce(')
    [ "$n" -eq 4 ] || fail "replayed $n all-reduces in steps 3..6, want 4"
    "$ddrr" dump "$work/replayed" --rank 0 | grep -q ncclBroadcast \
      && fail "a broadcast before the window was replayed" ;;
  window_op)
    record sgd_allreduce 2 --steps 10
    replay 0 --from op:4 --until op:6 -o "$work/replayed"
    reproduced
    n=$("$ddrr" dump "$work/replayed" --rank 1 | grep -c ' ncclAllReduce(')
    [ "$n" -eq 3 ] || fail "replayed $n ops 4..6, want 3" ;;
  zeros_and_pace)
    # Steps with real host work between the all-reduces: the recorded gaps are the compute time
    # the replay keeps (a lower bound however slow the machine is).
    record sgd_allreduce 2 --steps 4 --samples 100000
    replay 0 --data zeros --pace recorded
    reproduced
    assert 'r["data"]["checked"] == 0' "--data zeros checked data"
    span=$("$ddrr" dump "$work/run" --rank 0 | awk '/ nccl(AllReduce|Broadcast)\(/ {t = $3; if (!f) f = t} END {print t - f}')
    assert "r['replay_seconds'] >= 0.9 * $span and $span > 0.1" "the replay did not keep the recorded gaps ($span s)" ;;
  subset_split)
    # The tour's halves (ranks 0 and 2) without their parent: made from a fresh id.
    record collectives_tour 4
    replay 0 --ranks 0,2
    reproduced
    assert 'any("fresh id" in n for n in r["notes"])' "the half was not created from a fresh id"
    assert 'any("left out" in n for n in r["notes"])' "the world was not left out" ;;
  diff_with_replay)
    record sgd_allreduce 2 --steps 3
    replay 0 -o "$work/replayed"
    "$ddrr" diff "$work/run" "$work/replayed" >"$work/diff.out" 2>&1 || fail "diff: $(cat "$work/diff.out")"
    grep -q "comparing NCCL communication only" "$work/diff.out" || fail "diff did not see a replay" ;;
  missing_rank)
    record sgd_allreduce 3 --steps 3
    rm "$work/run/rank-2.ddrr"
    replay 2
    grep -q "rank 2 .*--ranks 0,1" "$work/replay.err" || fail "no hint to use --ranks"
    replay 0 --ranks 0,1
    assert 'any("left out" in n for n in r["notes"])' "the world with a missing member was not left out" ;;
  damaged)
    record sgd_allreduce 2 --steps 30
    size=$(stat -c %s "$work/run/rank-1.ddrr")
    printf 'garbage!garbage!garbage!' | dd of="$work/run/rank-1.ddrr" bs=1 seek=$((size / 2)) \
      conv=notrunc 2>/dev/null
    replay 2
    grep -q "rank-1.ddrr.*replayed what is intact" "$work/replay.err" || fail "damage not named" ;;
  truncated)
    record sgd_allreduce 2 --steps 30
    size=$(stat -c %s "$work/run/rank-0.ddrr")
    truncate -s $((size * 2 / 3)) "$work/run/rank-0.ddrr"
    replay 2
    grep -q "rank-0.ddrr" "$work/replay.err" || fail "truncation not named" ;;
  newer_format)
    record sgd_allreduce 2 --steps 2
    printf '\x63' | dd of="$work/run/rank-0.ddrr" bs=1 seek=8 conv=notrunc 2>/dev/null
    replay 2
    grep -q "newer" "$work/replay.err" || fail "newer format not named" ;;
  bad_input)
    mkdir -p "$work/run"
    "$ddrr" replay "$work/run" --host >/dev/null 2>"$work/replay.err"
    [ $? -eq 2 ] || fail "an empty directory did not exit 2"
    printf 'not a tar' >"$work/run.tgz"
    "$ddrr" replay "$work/run.tgz" --host >/dev/null 2>"$work/replay.err"
    [ $? -eq 2 ] || fail "a non-run file did not exit 2"
    record sgd_allreduce 2 --steps 2
    for args in "--ranks x" "--ranks 1," "--ranks 2-1" "--from step:" "--until op:0" "--pace slow" "--data ones" \
                "--ranks 7" "--timeout 0"; do
      # shellcheck disable=SC2086
      "$ddrr" replay "$work/run" --host $args >/dev/null 2>"$work/replay.err"
      [ $? -eq 2 ] || fail "'$args' did not exit 2: $(cat "$work/replay.err")"
      [ "$(wc -l <"$work/replay.err")" -le 2 ] || fail "'$args': not a short error"
    done ;;
  no_gpu)
    record sgd_allreduce 2 --steps 2
    "$ddrr" replay "$work/run" >/dev/null 2>"$work/replay.err"
    [ $? -eq 3 ] || fail "a replay without GPUs did not exit 3"
    grep -q -- "--host" "$work/replay.err" || fail "no hint to use --host" ;;
  *)
    fail "unknown case" ;;
esac
exit 0
