#!/usr/bin/env bash
# samples_test.sh CASE DDRR SAMPLES_DIR HOSTRT_DIR — one sample scenario on the host runtime.
set -uo pipefail
case_name=$1 ddrr=$2 samples=$3 hostrt=$4
source "$(dirname "$0")/../lib.sh"
run() {  # run WANT_RC ARGS... : ddrr run --host with output in $work/out; WANT_RC may be
         # "nonzero" (any failure, but not the timeout's 124)
  local want=$1; shift
  rm -f "$DDRR_SAMPLE_BOOTSTRAP_DIR"/*
  timeout 100 "$ddrr" run --host "$@" >"$work/out" 2>&1; local rc=$?
  if [ "$want" = nonzero ]; then
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "ddrr run --host $* exited $rc, want a failure"
  else
    [ "$rc" -eq "$want" ] || fail "ddrr run --host $* exited $rc, want $want"
  fi
}
hashes() { grep -o 'weights_hash=[0-9a-f]*' "$work/out" | sort -u; }
direct_ranks() { grep -c 'direct collectives on' "$work/out"; }

case $case_name in
  sgd_direct_same_weights)
    # Gradients of 80 KB: emu's ranks reduce straight from each other's cudaMalloc buffers
    # (shared through the host runtime's CUDA IPC handles), and must land on the very same bits
    # as through staging.
    args=(--steps 10 --size 20000 --samples 32 --lr 0.001)
    DDRR_DEBUG=INFO DDRR_DEBUG_SUBSYS=EMU run 0 -n 4 -- "$samples/sgd_allreduce" "${args[@]}"
    direct=$(hashes)
    [ "$(direct_ranks)" -eq 4 ] || fail "want 4 ranks direct: $(grep -c direct "$work/out")"
    DDRR_EMU_DIRECT=0 DDRR_DEBUG=INFO DDRR_DEBUG_SUBSYS=EMU \
      run 0 -n 4 -- "$samples/sgd_allreduce" "${args[@]}"
    [ "$(direct_ranks)" -eq 0 ] || fail "DDRR_EMU_DIRECT=0 still went direct"
    [ "$(hashes | wc -l)" -eq 1 ] && [ "$(hashes)" = "$direct" ] \
      || fail "direct gave $direct, staged $(hashes)" ;;
  tour_direct_across_processes)
    # Every collective and p2p pattern with 80 KB blocks, four processes, direct where it can.
    DDRR_DEBUG=INFO DDRR_DEBUG_SUBSYS=EMU run 0 -n 4 -- "$samples/collectives_tour" --size 20000
    [ "$(grep -c 'collectives_tour: OK' "$work/out")" -eq 4 ] || fail "the tour failed"
    [ "$(direct_ranks)" -ge 4 ] || fail "no communicator went direct" ;;
  sgd_ranks_agree)
    run 0 -n 4 -- "$samples/sgd_allreduce" --steps 15
    [ "$(grep -c 'final loss=' "$work/out")" -eq 4 ] || fail "not every rank finished"
    [ "$(hashes | wc -l)" -eq 1 ] || fail "ranks disagree on the weights: $(hashes)"
    grep -q '^\[rank 3\] ' "$work/out" || fail "output not prefixed per rank" ;;
  sgd_deterministic)
    run 0 -n 3 -- "$samples/sgd_allreduce" --steps 10 --seed 5; first=$(hashes)
    run 0 -n 3 -- "$samples/sgd_allreduce" --steps 10 --seed 5
    [ "$first" = "$(hashes)" ] || fail "same seed, different weights: $first vs $(hashes)" ;;
  sgd_seed_changes_result)
    run 0 -n 2 -- "$samples/sgd_allreduce" --steps 5 --seed 1; first=$(hashes)
    run 0 -n 2 -- "$samples/sgd_allreduce" --steps 5 --seed 2
    [ "$first" != "$(hashes)" ] || fail "different seeds gave the same weights" ;;
  tour_world_sizes)
    for n in 1 2 3 4; do
      run 0 -n "$n" -- "$samples/collectives_tour"
      [ "$(grep -c 'collectives_tour: OK' "$work/out")" -eq "$n" ] || fail "tour at $n ranks"
    done ;;
  multi_device)
    DDRR_HOST_DEVICES=4 LD_LIBRARY_PATH="$hostrt" "$samples/multi_device_single_process" \
      >"$work/out" 2>&1 || fail "exit $?"
    grep -q "multi_device_single_process: OK" "$work/out" || fail "no OK line" ;;
  abort_fault_stops_job)
    start=$SECONDS
    # The launcher returns the first rank to fail: the aborting rank (3) or a peer that saw the
    # abort (1), whichever exits first.
    run nonzero -n 4 -- "$samples/sgd_allreduce" --steps 20 --fault abort --fault-rank 1 \
      --fault-step 5
    [ $((SECONDS - start)) -lt 30 ] || fail "took $((SECONDS - start)) s to stop"
    grep -q '^\[rank 1\] .*aborted the communicator at step 5' "$work/out" || fail "no abort"
    [ "$(grep -c 'rank 1 failed: comm [0-9a-f]* rank 1 was aborted' "$work/out")" -ge 3 ] \
      || fail "peers were not told rank 1 aborted" ;;
  skip_collective_names_rank)
    run 1 -n 3 -- "$samples/collectives_tour" --fault skip-collective --fault-rank 2
    # emu names the faulty rank and what it called, on the other ranks.
    grep -q "^\[rank 0\] .*ddrr emu: comm [0-9a-f]* rank 0 .*: rank 2 called " "$work/out" \
      || fail "rank 0 was not told that rank 2 called something else"
    grep -q "NCCL error 5: invalid usage" "$work/out" || fail "not ncclInvalidUsage" ;;
  dead_rank_detected)
    # A rank killed mid-run: the others must get an error, not hang.
    export DDRR_SAMPLE_WAIT_REPORT=1
    rm -f "$DDRR_SAMPLE_BOOTSTRAP_DIR"/*
    # A seed no other test uses: the kill below must hit only this job's ranks.
    ( timeout 100 "$ddrr" run --host -n 3 -- "$samples/sgd_allreduce" --steps 100000 \
        --log-every 1000 --seed 7130001 >"$work/out" 2>&1; echo $? >"$work/rc" ) &
    # Killed mid-run, once every rank is past set-up (a loaded machine may take a while).
    for _ in $(seq 300); do grep -q 'step 1000 ' "$work/out" 2>/dev/null && break; sleep 0.2; done
    grep -q 'step 1000 ' "$work/out" || fail "the job did not reach step 1000 in 60 s"
    victim=$(pgrep -f "^[^ ]*/sgd_allreduce .*--seed 7130001$" | tail -1)  # a rank, not ddrr
    [ -n "$victim" ] || fail "no rank to kill"
    kill -9 "$victim"
    wait
    rc=$(cat "$work/rc")
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "job exit $rc after a rank was killed"
    grep -q "ddrr emu: comm [0-9a-f]* rank [0-9] .*: rank [0-9] (pid $victim) exited" "$work/out" \
      || fail "survivors were not told which rank died"
    grep -q "NCCL error 6: remote process exited" "$work/out" || fail "not ncclRemoteError" ;;
  run_bad_usage)
    "$ddrr" run --host -- "$samples/sgd_allreduce" >/dev/null 2>&1; [ $? -eq 2 ] || fail "-n missing"
    "$ddrr" run --host -n 0 -- "$samples/sgd_allreduce" >/dev/null 2>&1; [ $? -eq 2 ] || fail "-n 0"
    "$ddrr" run --host -n 2 -- /nonexistent/prog >"$work/out" 2>&1; rc=$?
    [ "$rc" -ne 0 ] || fail "missing program succeeded"
    DDRR_HOSTRT_DIR=/nonexistent "$ddrr" run --host -n 2 -- true >"$work/out" 2>&1; rc=$?
    [ "$rc" -eq 2 ] || fail "bad DDRR_HOSTRT_DIR exit $rc"
    grep -q "DDRR_HOSTRT_DIR" "$work/out" || fail "message does not name DDRR_HOSTRT_DIR" ;;
  killed_launcher_leaves_no_rank)
    # SIGKILL of `ddrr run`, and of `ddrr record` around it, while ranks hang: none survives.
    for launcher in run record; do
      tag=$((9876500 + RANDOM))
      if [ "$launcher" = run ]; then
        "$ddrr" run --host -n 2 -- sleep "$tag" >/dev/null 2>&1 &
      else
        "$ddrr" record -o "$work/rec" -- "$ddrr" run --host -n 2 -- sleep "$tag" >/dev/null 2>&1 &
      fi
      top=$!
      for _ in $(seq 50); do [ "$(pgrep -fc "^sleep $tag$")" -eq 2 ] && break; sleep 0.1; done
      [ "$(pgrep -fc "^sleep $tag$")" -eq 2 ] || fail "$launcher: ranks did not start"
      kill -9 "$top"
      for _ in $(seq 30); do pgrep -f "^sleep $tag$" >/dev/null || break; sleep 0.1; done
      if pgrep -f "^sleep $tag$" >/dev/null; then
        pkill -9 -f "^sleep $tag$"
        fail "ranks outlived a SIGKILLed ddrr $launcher"
      fi
    done ;;
  *) fail "unknown case" ;;
esac
echo "ok [$case_name]"
