#!/usr/bin/env bash
# hang_test.sh CASE DDRR SAMPLES_DIR [BUSY_THREADS] — a job that hangs on the host runtime,
# diagnosed while it hangs and again after the whole job is killed: `ddrr check` exits 1 naming
# the culprit, the victims and where they wait; no rank outlives a SIGKILL of `ddrr record`;
# every reader works beside a busy or hung job.
set -uo pipefail
case_name=$1 ddrr=$2 samples=$3 busy_threads=${4:-}
source "$(dirname "$0")/../lib.sh"
export DDRR_EMU_TIMEOUT=300  # emu would end the hang itself: here only a kill does
job_pid=
seed=$$  # ends every rank's command line: finds this case's ranks, and only them
cleanup() {
  [ -n "$job_pid" ] && kill -9 "$job_pid" 2>/dev/null
  pkill -9 -f -- "--seed $seed$" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
has() { grep -qF -- "$1" "$work/out" || fail "no '$1' in: $(head -c 2000 "$work/out")"; }

# start N FAULT_ARGS...: the job (sgd, or $prog) recorded in the background; returns once the
# fault fired.
prog=("$samples/sgd_allreduce" --steps 20 --log-every 0)
fired="stalling before"  # what the faulty rank prints once the fault fired
start() {
  local n=$1; shift
  "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n "$n" -- "${prog[@]}" "$@" --seed "$seed" \
    >"$work/job" 2>&1 &
  job_pid=$!
  for _ in $(seq 100); do grep -q "$fired" "$work/job" && break; sleep 0.1; done
  grep -q "$fired" "$work/job" || fail "the fault did not fire: $(tail -3 "$work/job")"
  sleep 2  # the others reach the call they will wait in; the culprit is quiet for a while
}
check() {  # check: ddrr check of the run into $work/out, exit status 1 asserted
  "$ddrr" check "$work/run" >"$work/out" 2>"$work/err"
  local rc=$?
  [ $rc -eq 1 ] || fail "check exited $rc: $(cat "$work/out" "$work/err" | head -20)"
}
kill_job() {  # SIGKILL of ddrr record: no rank may outlive it by more than 3 s
  kill -9 "$job_pid"
  wait "$job_pid" 2>/dev/null
  job_pid=
  for _ in $(seq 30); do pgrep -f -- "--seed $seed$" >/dev/null || return 0; sleep 0.1; done
  fail "ranks still alive 3 s after ddrr record was killed"
}

# reader CMD ARGS...: a reading command beside the live job, into $work/out and $work/err: it
# exits 0 or 1 (2 where $want_rc says), reports no damage that is not there, and leaves nothing
# in its temporary folder.
want_rc=
reader() {
  mkdir -p "$work/tmp"
  TMPDIR="$work/tmp" "$ddrr" "$@" >"$work/out" 2>"$work/err"
  local rc=$?
  if [ -n "$want_rc" ]; then
    [ $rc -eq "$want_rc" ] || fail "$1 exited $rc, want $want_rc: $(tail -3 "$work/err")"
  else
    [ $rc -le 1 ] || fail "$1 exited $rc while the job ran: $(tail -3 "$work/err")"
  fi
  grep -iE "checksum|damage|malformed|truncated|no footer|faster than" "$work/out" "$work/err" \
    >"$work/bad" && fail "$1 saw damage: $(head -3 "$work/bad")"
  [ -z "$(ls -A "$work/tmp")" ] || fail "$1 left $(ls "$work/tmp") in its temporary folder"
  return $rc
}

case $case_name in
  stall)
    # Rank 2 stops in its own code before the all-reduce of step 3; the others wait inside it.
    start 4 --fault stall --fault-rank 2 --fault-step 3
    check
    has "missing-participant"
    has "rank 2 stopped first"
    has "rank 2 issued 4 of 5 collectives; last seen in its own code for"
    has "rank 0 issued 5 of 5 collectives; waits inside it for"
    "$ddrr" info "$work/run" >"$work/out" 2>&1
    has "ended     no: still running (pid"
    kill_job
    check
    has "rank 2 stopped first (likely culprit)"
    has "rank 2 issued 4 of 5 collectives; last seen in its own code for"
    has "after its last event, until killed"
    has "; was inside it for"
    has "ncclAllReduce count 257 (inside, not returned); last op 5" ;;
  init_stall)
    # Rank 3 never reaches ncclCommInitRank; the others wait inside it.
    start 4 --fault init-stall
    check
    has "hang-in-setup"
    has "ranks 0,1,2 wait inside ncclCommInitRank (nranks 4) for"
    has "rank 3 never arrived"
    kill_job
    check
    has "ranks 0,1,2 were inside ncclCommInitRank (nranks 4) for"
    has "until killed; rank 3 never arrived (likely culprit)" ;;
  pipeline_stall | split_stall)
    # The tour: rank 2 stalls before its send/recv pipeline (operation 18), or rank 3 before
    # the first collective on the even/odd split (operation 20).
    prog=("$samples/collectives_tour")
    if [ "$case_name" = pipeline_stall ]; then
      start 4 --fault stall --fault-rank 2 --fault-step 18
      culprit=2
    else
      start 4 --fault stall --fault-rank 3 --fault-step 20
      culprit=3
    fi
    # Rank 3 (pipeline: inside a receive from rank 2) or rank 1 (split: inside the half's
    # all-reduce) waits for the culprit: the chain is followed to it, and every finding names it.
    if [ "$case_name" = pipeline_stall ]; then
      chained=("rank 3 is inside ncclRecv op" "rank 2 stopped before it (the likely culprit)")
    else
      chained=("wait chain: rank 1 is inside ncclAllReduce op 1 of communicator"
        "rank 3 (end of the chain): last seen in its own code for")
    fi
    check
    has "rank $culprit is the likely culprit"
    has "last seen in its own code for"
    for text in "${chained[@]}"; do has "$text"; done
    grep -q "likely culprit" <(grep -v "rank $culprit" "$work/out" | grep -v "^ ") &&
      fail "a finding blames another rank: $(head -c 2000 "$work/out")"
    kill_job
    check
    has "rank $culprit is the likely culprit"
    for text in "${chained[@]}"; do has "$text"; done
    has "until killed" ;;
  deadlock)
    # Rank 1 queues the tour's last two all-reduces (world, reversed) in the other order: it
    # waits inside the reversed one for the others, who wait inside the world one for it.
    prog=("$samples/collectives_tour")
    fired="injecting fault 'cross-order'"
    start 4 --fault cross-order --fault-rank 1
    check
    has "deadlock: rank 1 is inside ncclAllReduce op"
    has "(ranks 0,1,2,3 wait for each other)"
    kill_job
    check
    has "deadlock: "
    has "until killed" ;;
  watch)
    # ddrr watch beside the job: the diagnosis within --stall + --interval of its first look,
    # and it ends (exit 1: a hang was seen) once the job is killed.
    start 4 --fault stall --fault-rank 2 --fault-step 3
    "$ddrr" watch "$work/run" --interval 0.5 --stall 2 >"$work/out" 2>"$work/err" &
    watch_pid=$!
    for _ in $(seq 60); do grep -q "diagnosis" "$work/out" && break; sleep 0.1; done
    grep -q "diagnosis" "$work/out" || fail "no diagnosis within 6 s: $(cat "$work/out")"
    has "rank 2 stopped first"
    has "live; comm"
    kill_job
    for _ in $(seq 100); do kill -0 $watch_pid 2>/dev/null || break; sleep 0.1; done
    kill -0 $watch_pid 2>/dev/null && { kill $watch_pid; fail "watch did not end with the job"; }
    wait $watch_pid
    rc=$?
    [ $rc -eq 1 ] || fail "watch exited $rc, want 1"
    has "every rank has ended" ;;
  busy_reader)
    # Readers beside a rank that writes all the time: never a crash, never damage that is not
    # there.
    "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 2 -- "$samples/sgd_allreduce" \
      --steps 100000000 --size 2048 --log-every 0 --seed "$seed" >"$work/job" 2>&1 &
    job_pid=$!
    for _ in $(seq 100); do [ -e "$work/run/rank-1.spool" ] && break; sleep 0.1; done
    sleep 0.5
    for i in 1 2 3; do
      for cmd in check info; do
        "$ddrr" $cmd "$work/run" >"$work/out" 2>"$work/err"
        rc=$?
        [ $rc -le 1 ] || fail "$cmd exited $rc while the job ran: $(tail -3 "$work/err")"
        grep -iE "checksum|damage|malformed|truncated" "$work/err" >"$work/bad" &&
          fail "$cmd saw damage: $(cat "$work/bad")"
        grep -q "missing-participant\|hang-in-setup" "$work/out" &&
          fail "$cmd found a hang in a running job: $(head -3 "$work/out")"
      done
      "$ddrr" dump "$work/run" --rank 0 >"$work/out" 2>"$work/err" || fail "dump exited $?"
      [ -s "$work/out" ] || fail "dump printed nothing"
    done
    kill_job ;;
  busy_threads)
    # Two ranks of 8 threads each recording all the time, read by every reader over and over
    # while they run: never a crash, a damage report or a leftover file; a snapshot is always
    # the rank's events up to now (diff of two snapshots: the same as far as the shorter goes).
    "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 2 -- "$busy_threads" --threads 8 \
      --seconds 6 --pause-us 2000 >"$work/job" 2>&1 &
    job_pid=$!
    for _ in $(seq 100); do [ -e "$work/run/rank-1.spool" ] && break; sleep 0.1; done
    [ -e "$work/run/rank-1.spool" ] || fail "the job did not start: $(tail -3 "$work/job")"
    rounds=0
    while kill -0 $job_pid 2>/dev/null; do
      reader check "$work/run"
      grep -q "missing-participant\|hang-in-setup" "$work/out" &&
        fail "check found a hang in a running job: $(head -3 "$work/out")"
      reader info "$work/run"
      reader dump "$work/run" --rank 1 --json
      [ -s "$work/out" ] || fail "dump printed nothing"
      reader diff "$work/run" "$work/run" || fail "two reads of one run differ: $(head "$work/out")"
      reader export "$work/run" -o "$work/t.perfetto-trace"
      reader export "$work/run" --format json -o "$work/t.json"
      reader info "$work/run/rank-0.ddrr"
      rounds=$((rounds + 1))
    done
    wait $job_pid || fail "the job failed: $(tail -3 "$work/job")"
    job_pid=
    grep -q "busy_threads: OK" "$work/job" || fail "the job did not end well: $(tail "$work/job")"
    [ $rounds -ge 2 ] || fail "only $rounds round(s) of readers while the job ran"
    ls "$work"/t.* | grep -q partial && fail "an export left a partial file"
    reader check "$work/run"
    reader info "$work/run"
    grep -q "ended     cleanly" "$work/out" || fail "a rank did not end cleanly: $(cat "$work/out")"
    grep -q "dropped" "$work/out" && fail "events were dropped: $(grep dropped "$work/out")"
    true ;;
  hung_readers)
    # Every reader on a job that hangs while it hangs: each sees the ranks up to now (the calls
    # they wait in included) and says they still run; replay and bundle refuse, in one line.
    "$ddrr" record -o "$work/done" -- "$ddrr" run --host -n 4 -- "${prog[@]}" --seed "$seed" \
      >"$work/job" 2>&1 || fail "the clean run failed: $(tail -3 "$work/job")"
    start 4 --fault stall --fault-rank 2 --fault-step 3
    reader info "$work/run"
    [ "$(grep -c "ended     no: still running (pid" "$work/out")" -eq 4 ] ||
      fail "info: $(cat "$work/out")"
    reader info "$work/run/rank-0.ddrr"
    has "ended     no: still running (pid"
    reader dump "$work/run/rank-0.ddrr" --json
    tail -1 "$work/out" | grep -q '"type":"enter","fn":"ncclAllReduce","comm":"comm1"}' ||
      fail "the call rank 0 waits in is not its last event: $(tail -1 "$work/out")"
    reader diff "$work/run" "$work/done" || fail "diff: $(head "$work/out")"
    has "is still running: its ranks are compared up to their last event"
    reader diff "$work/run" "$work/run" || fail "diff of a run with itself: $(head "$work/out")"
    reader export "$work/run" --format json -o "$work/t.json"
    python3 - "$work/t.json" <<'PY' || fail "export: the waits are not on the timeline"
import json, sys
events = json.load(open(sys.argv[1]))["traceEvents"]
waits = [e for e in events if e.get("args", {}).get("returned", "").startswith("not yet")]
assert sorted(e["pid"] for e in waits) == [1, 2, 4], waits  # ranks 0, 1, 3
assert all(e["name"] == "ncclAllReduce" for e in waits), waits
names = [e["args"]["name"] for e in events if e.get("name") == "process_name"]
assert all(n.endswith(", still running)") for n in names), names
PY
    reader export "$work/run" -o "$work/t.perfetto-trace"
    reader report "$work/run"
    has "still running (pid"
    has "missing-participant"
    want_rc=2
    reader replay "$work/run" --host --timeout 3
    grep -q "^ddrr: error: ranks 0-3 are still running (pid [0-9]*, [0-9]*, [0-9]*, [0-9]*): replay needs a recording whose job has ended" \
      "$work/err" || fail "replay: $(cat "$work/err")"
    [ "$(grep -c "error" "$work/err")" -eq 1 ] || fail "replay: $(cat "$work/err")"
    reader replay "$work/run" --ranks 0 -- "${prog[@]}"
    grep -q "^ddrr: error: ranks 0-3 are still running" "$work/err" || fail "$(cat "$work/err")"
    reader bundle "$work/run" -o "$work/bug.tgz"
    grep -q "^ddrr: error: ranks 0-3 are still running (pid .*); bundle the run once the job has ended" \
      "$work/err" || fail "bundle: $(cat "$work/err")"
    [ -e "$work/bug.tgz" ] && fail "a bundle of a live run was written"
    want_rc=
    kill_job ;;
  *)
    fail "unknown case" ;;
esac
exit 0
