#!/usr/bin/env bash
# gpushare_test.sh CASE DDRR SAMPLES_DIR HOSTRT_DIR SHIM — one `ddrr run --ranks-per-gpu` scenario
# on the host runtime. DDRR_HOST_DEVICES=1 plays a machine with one GPU: without the shim every
# rank lands on device 0; with it, rank r is on virtual device r, with a bus id of its own.
set -uo pipefail
case_name=$1 ddrr=$2 samples=$3 hostrt=$4 shim=$5
source "$(dirname "$0")/../lib.sh"
run() {  # run WANT_RC ARGS... : ddrr run with output in $work/out
  local want=$1; shift
  rm -f "$DDRR_SAMPLE_BOOTSTRAP_DIR"/*
  timeout 100 "$ddrr" run "$@" >"$work/out" 2>&1; local rc=$?
  [ "$rc" -eq "$want" ] || fail "ddrr run $* exited $rc, want $want"
}
hashes() { grep -o 'weights_hash=[0-9a-f]*' "$work/out" | sort -u; }
devices() { grep -o 'device [0-9]* of world' "$work/out" | sort -u | wc -l; }
# A one-line error on stderr naming $1 (and nothing else printed).
one_line_error() {
  [ "$(wc -l <"$work/out")" -eq 1 ] || fail "want one line, got: $(cat "$work/out")"
  grep -qE "^ddrr: error: .*$1" "$work/out" || fail "error does not say '$1': $(cat "$work/out")"
}

case $case_name in
  sgd_same_weights_on_one_gpu)
    run 0 --host -n 4 -- "$samples/sgd_allreduce" --steps 12; plain=$(hashes)
    # Strict devices: emu refuses two ranks on one device, as NCCL does; the shim's distinct bus
    # ids are what let the 4 ranks on 1 GPU through.
    DDRR_HOST_DEVICES=1 DDRR_EMU_STRICT_DEVICES=1 \
      run 0 --host -n 4 --ranks-per-gpu 4 -- "$samples/sgd_allreduce" --steps 12
    [ "$(grep -c 'final loss=' "$work/out")" -eq 4 ] || fail "not every rank finished"
    [ "$(devices)" -eq 4 ] || fail "ranks not on 4 distinct devices: $(grep 'of world' "$work/out")"
    [ -n "$plain" ] && [ "$(hashes)" = "$plain" ] \
      || fail "4 ranks on one GPU give $(hashes), 4 ranks on 4 give $plain" ;;
  without_shim_ranks_collide)
    # The control for the case above: the same job with no shim puts every rank on device 0.
    DDRR_HOST_DEVICES=1 DDRR_EMU_STRICT_DEVICES=1 \
      timeout 100 "$ddrr" run --host -n 4 -- "$samples/sgd_allreduce" --steps 2 >"$work/out" 2>&1
    rc=$?
    [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] || fail "4 ranks on device 0 exited $rc, want a failure"
    grep -q "Duplicate GPU detected" "$work/out" || fail "emu did not see one device"
    [ "$(devices)" -eq 1 ] || fail "ranks were on distinct devices without the shim" ;;
  tour_two_per_gpu)
    DDRR_HOST_DEVICES=2 DDRR_EMU_STRICT_DEVICES=1 \
      run 0 --host -n 4 --ranks-per-gpu 2 -- "$samples/collectives_tour"
    [ "$(grep -c 'collectives_tour: OK' "$work/out")" -eq 4 ] || fail "the tour failed" ;;
  record_sees_virtual_devices)
    # The recorder comes first in LD_PRELOAD, the shim after it: the trace holds the devices the
    # program asked for, not the real one.
    DDRR_HOST_DEVICES=1 "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 4 \
      --ranks-per-gpu 4 -- "$samples/sgd_allreduce" --steps 3 >"$work/out" 2>&1 \
      || fail "record exited $?"
    json
    py <<'PY' || fail "the trace does not show 4 virtual devices"
calls = [e for e in ev if e["type"] == "call"]
count = {e["rank"]: e["args"]["count"] for e in calls if e["fn"] == "cudaGetDeviceCount"}
assert count == {0: 4, 1: 4, 2: 4, 3: 4}, count
dev = {e["rank"]: e["args"]["device"] for e in calls if e["fn"] == "cudaSetDevice"}
assert dev == {0: 0, 1: 1, 2: 2, 3: 3}, dev
PY
    ;;
  multi_device_single_process)
    # One process drives every device; preloaded by hand, without ddrr run.
    DDRR_HOST_DEVICES=1 LD_LIBRARY_PATH="$hostrt" \
      "$samples/multi_device_single_process" >"$work/out" 2>&1 || fail "without the shim: $?"
    grep -q "1 devices" "$work/out" || fail "without the shim: not 1 device"
    DDRR_HOST_DEVICES=1 DDRR_RANKS_PER_GPU=4 DDRR_EMU_STRICT_DEVICES=1 LD_PRELOAD="$shim" \
      LD_LIBRARY_PATH="$hostrt" "$samples/multi_device_single_process" >"$work/out" 2>&1 \
      || fail "with the shim: exit $?"
    grep -q "multi_device_single_process: 4 devices" "$work/out" || fail "not 4 devices"
    grep -q "multi_device_single_process: OK" "$work/out" || fail "no OK line" ;;
  bad_variable_passes_through)
    for value in x 0 -1 ""; do
      DDRR_HOST_DEVICES=1 DDRR_RANKS_PER_GPU=$value LD_PRELOAD="$shim" LD_LIBRARY_PATH="$hostrt" \
        "$samples/multi_device_single_process" >"$work/out" 2>&1 || fail "K=$value: exit $?"
      grep -q "multi_device_single_process: 1 devices" "$work/out" || fail "K=$value: not 1 device"
      grep -q "multi_device_single_process: OK" "$work/out" || fail "K=$value: no OK line"
      [ "$(grep -c "DDRR_RANKS_PER_GPU=$value is not a number of ranks" "$work/out")" -eq 1 ] \
        || fail "K=$value: not one warning"
    done
    env -u DDRR_RANKS_PER_GPU DDRR_HOST_DEVICES=1 LD_PRELOAD="$shim" LD_LIBRARY_PATH="$hostrt" \
      "$samples/multi_device_single_process" >"$work/out" 2>&1 || fail "unset: exit $?"
    grep -q "DDRR_RANKS_PER_GPU=(unset)" "$work/out" || fail "unset: no warning" ;;
  bad_ranks_per_gpu)
    for k in 0 -1 x 1025; do
      "$ddrr" run --host -n 2 --ranks-per-gpu "$k" -- true >"$work/out" 2>&1; rc=$?
      [ "$rc" -eq 2 ] || fail "--ranks-per-gpu $k exited $rc, want 2"
    done
    "$ddrr" run -n 2 -- true >"$work/out" 2>&1; rc=$?
    [ "$rc" -eq 2 ] || fail "neither --host nor --ranks-per-gpu: exit $rc"
    one_line_error "needs --host .* or --ranks-per-gpu" ;;
  too_many_ranks)
    DDRR_HOST_DEVICES=1 run 3 --host -n 5 --ranks-per-gpu 4 -- true
    one_line_error "5 ranks at 4 per GPU need 2 devices, but 1 is visible"
    DDRR_HOST_DEVICES=2 run 0 --host -n 5 --ranks-per-gpu 4 -- true
    DDRR_HOST_DEVICES=0 run 3 --host -n 1 --ranks-per-gpu 4 -- true
    one_line_error "cudaGetDeviceCount failed: no CUDA-capable device is detected" ;;
  without_host_over_runtime_on_path)
    # The path without --host, as on a GPU machine, with the host runtime playing NVIDIA's: it is
    # found as "libcudart.so.13" on the inherited LD_LIBRARY_PATH, by the device probe and by the
    # ranks, and emu's lone libnccl.so.2 (lib/emu) goes in front of it.
    DDRR_HOST_DEVICES=1 DDRR_EMU_STRICT_DEVICES=1 LD_LIBRARY_PATH="$hostrt" \
      run 0 -n 4 --ranks-per-gpu 4 -- "$samples/sgd_allreduce" --steps 12
    [ "$(grep -c 'final loss=' "$work/out")" -eq 4 ] || fail "not every rank finished"
    [ "$(devices)" -eq 4 ] || fail "ranks not on 4 distinct devices"
    [ "$(hashes | wc -l)" -eq 1 ] || fail "ranks disagree: $(hashes)"
    DDRR_HOST_DEVICES=1 LD_LIBRARY_PATH="$hostrt" run 0 -n 1 --ranks-per-gpu 4 -- \
      sh -c 'echo "path=$LD_LIBRARY_PATH preload=$LD_PRELOAD k=$DDRR_RANKS_PER_GPU"'
    grep -qE "path=[^:]*/lib/emu:$hostrt preload=$shim k=4\$" "$work/out" \
      || fail "rank environment: $(cat "$work/out")"
    DDRR_HOST_DEVICES=1 LD_LIBRARY_PATH="$hostrt" run 3 -n 5 --ranks-per-gpu 4 -- true
    one_line_error "5 ranks at 4 per GPU need 2 devices, but 1 is visible" ;;
  no_usable_gpu)
    # Over the real CUDA runtime with no device visible: no driver (this CI) or
    # CUDA_VISIBLE_DEVICES hiding every GPU; either way, one line before any rank starts.
    CUDA_VISIBLE_DEVICES= run 3 -n 2 --ranks-per-gpu 2 -- sh -c 'echo a rank started'
    one_line_error "(cudaGetDeviceCount failed|cannot load the CUDA runtime)"
    grep -q -- "--host" "$work/out" || fail "does not suggest --host" ;;
  exports_only_cuda)
    nm -D --defined-only "$shim" >"$work/syms" || fail "nm failed"
    bad=$(awk '{print $3}' "$work/syms" | grep -vE '^cuda' | grep -vE '^(_init|_fini)$')
    [ -z "$bad" ] || fail "exports more than cuda*: $bad"
    for f in cudaGetDeviceCount cudaSetDevice cudaGetDevice cudaDeviceGetPCIBusId \
             cudaDeviceGetByPCIBusId cudaDeviceCanAccessPeer cudaMemcpyPeerAsync; do
      grep -q " $f\$" "$work/syms" || fail "does not export $f"
    done
    readelf -dW "$shim" | grep -q 'NEEDED.*libcudart' && fail "links a CUDA runtime"
    true ;;
  *) fail "unknown case" ;;
esac
echo "ok [$case_name]"
