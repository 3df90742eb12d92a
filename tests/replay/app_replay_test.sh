#!/usr/bin/env bash
# app_replay_test.sh CASE DDRR SAMPLES_DIR COMM_VARIETY USER_PROGRAMS_DIR — one application-replay
# scenario on the host runtime:
# record a sample, re-run the program itself against the recording (`ddrr replay RUN --ranks R
# -- PROG`), and assert what the program printed, the report and the exit status.
set -uo pipefail
case_name=$1 ddrr=$2 samples=$3 comm_variety=$4 user_programs=$5
source "$(dirname "$0")/../lib.sh"
fail() {
  echo "FAIL [$case_name]: $*" >&2
  tail -c 3000 "$work/replay.out" >&2 2>/dev/null
  exit 1
}
# The program's own rendezvous file stays, as a shared file written during the recording does.
export DDRR_SAMPLE_KEEP_ID=1 DDRR_SAMPLE_CHECKPOINT_DIR="$work"
sgd=("$samples/sgd_allreduce" --steps 12 --log-every 0)

# record NRANKS LEVEL ARGS...: sgd under the recorder on the host runtime, into $work/run.
record() {
  local n=$1 level=$2; shift 2
  rm -f "$DDRR_SAMPLE_BOOTSTRAP_DIR"/*  # a kept id is the last job's: each job starts afresh
  "$ddrr" record --level "$level" -o "$work/run" -- "$ddrr" run --host -n "$n" -- "${sgd[@]}" "$@" \
    >"$work/record.out" 2>&1
  ls "$work/run"/rank-*.ddrr >/dev/null 2>&1 || fail "nothing recorded: $(tail -5 "$work/record.out")"
}
# replay WANT_RC OUT RANKS PROGRAM_ARGS...: the sample re-run against $work/run.
replay() {
  local want=$1 out=$2 ranks=$3; shift 3
  rm -rf "$work/$out"
  "$ddrr" replay "$work/run" --host --ranks "$ranks" --timeout 8 -o "$work/$out" "${opts[@]}" \
    -- "${sgd[@]}" "$@" >"$work/replay.out" 2>&1
  local rc=$?
  [ "$rc" -eq "$want" ] || fail "replay exited $rc, want $want"
}
opts=()
has() { grep -qF -- "$1" "$work/replay.out" || fail "no '$1' in the output"; }
# The weights hash rank R printed when recorded, and when replayed.
recorded_hash() { grep "^\[rank $1\] final" "$work/record.out" | sed 's/.*weights_hash=//'; }
replayed_hash() { grep "^\[rank $1\] final" "$work/replay.out" | sed 's/.*weights_hash=//'; }
same_hash() {
  local want got
  want=$(recorded_hash "$1") got=$(replayed_hash "$1")
  [ -n "$want" ] && [ "$want" = "$got" ] || fail "rank $1: weights hash '$got', recorded '$want'"
}

case $case_name in
  rank_alone)
    # Rank 2 alone: its peers' data comes from the payloads; same result bit for bit, and a
    # trace that `ddrr diff` finds identical to the recording's (digests included).
    record 4 payloads
    replay 0 rep 2
    same_hash 2
    has "rank 2: replayed as recorded"
    has "served from the recording"
    "$ddrr" diff "$work/run" "$work/rep" >"$work/diff.out" 2>&1
    grep -q "^rank 2:" "$work/diff.out" && fail "diff finds a difference: $(cat "$work/diff.out")"
    "$ddrr" check "$work/rep" >/dev/null 2>&1 || fail "ddrr check of the replay's trace failed" ;;
  all_ranks)
    # Every rank runs for real on emu: only metadata is needed, each rank's result is the same.
    unset DDRR_SAMPLE_KEEP_ID
    record 4 metadata
    replay 0 rep all
    for r in 0 1 2 3; do same_hash $r; done
    [ "$(grep -c 'replayed as recorded' "$work/replay.out")" -eq 4 ] || fail "not 4 ranks reproduced" ;;
  all_ranks_data)
    # All ranks run for real; rank 3's program now poisons its step-3 gradient. No call differs,
    # but the data does: the replay's digests against the recorded ones name the first buffer.
    unset DDRR_SAMPLE_KEEP_ID
    record 4 digests
    replay 1 rep all --fault nan --fault-rank 3 --fault-step 3
    has "rank 3: diverged"
    has "data: the input buffer of recorded call #"
    has "rank 0: diverged"
    has "data: the output buffer of recorded call #" ;;
  all_on_one_device)
    # Every rank on one host device through emu (--ranks-per-gpu), the same results.
    unset DDRR_SAMPLE_KEEP_ID
    record 4 metadata
    rm -f "$DDRR_SAMPLE_BOOTSTRAP_DIR"/*
    DDRR_HOST_DEVICES=1 "$ddrr" replay "$work/run" --host --ranks-per-gpu 4 --timeout 8 \
      -o "$work/rep" -- "${sgd[@]}" >"$work/replay.out" 2>&1 || fail "replay failed"
    for r in 0 1 2 3; do same_hash $r; done ;;
  twice)
    # Two replays of one rank: identical traces and identical output.
    record 4 payloads
    replay 0 rep1 1
    cp "$work/replay.out" "$work/first.out"
    replay 0 rep2 1
    [ "$(replayed_hash 1)" = "$(grep '^\[rank 1\] final' "$work/first.out" | sed 's/.*=//')" ] ||
      fail "two replays printed different results"
    "$ddrr" diff "$work/rep1" "$work/rep2" --scope all >"$work/diff.out" 2>&1 ||
      fail "two replays differ: $(cat "$work/diff.out")" ;;
  entropy_seed)
    # Each rank seeds from getrandom(): the replay hands the recorded bytes back.
    record 4 payloads --entropy-seed 1
    replay 0 rep 3 --entropy-seed 1
    same_hash 3
    has "1 entropy draw(s) handed back" ;;
  rng_state)
    # The program records its host generator's state every step: another seed is caught at the
    # first state; --restore-rng hands the recorded states back and the result is the same.
    record 4 payloads --grad-noise 0.01
    replay 0 rep 1 --grad-noise 0.01
    same_hash 1
    replay 1 rep 1 --grad-noise 0.01 --noise-seed 7
    has "RNG state 'grad_noise' differs"
    opts=(--restore-rng)
    replay 0 rep 1 --grad-noise 0.01 --noise-seed 7
    same_hash 1 ;;
  learning_rate)
    # One rank's program changed: the first collective whose input differs is the divergence.
    record 4 payloads
    replay 1 rep 2 --lr 0.3
    has "rank 2: diverged"
    has "data: input buffer sendbuff has digest"
    has "recorded: [2]"
    has "ncclAllReduce(sendbuff=alloc"
    has "op 3]"
    has "the last 10 matching call(s):"
    grep -q "^\[rank 2\] final" "$work/replay.out" && fail "stop did not stop the program"
    # report: every difference, the program runs to its end; ignore: only counted.
    opts=(--on-divergence report)
    replay 1 rep 2 --lr 0.3
    grep -q "^\[rank 2\] final" "$work/replay.out" || fail "report stopped the program"
    [ "$(grep -c 'data: input buffer' "$work/replay.out")" -gt 2 ] || fail "report listed one difference"
    opts=(--on-divergence ignore)
    replay 1 rep 2 --lr 0.3
    grep -q "data: input buffer" "$work/replay.out" && fail "ignore listed differences"
    has "rank 2: diverged" ;;
  fault_*)
    # The faulty rank alone reproduces the fault's call and error.
    fault=${case_name#fault_}
    fault=${fault//_/-}
    DDRR_EMU_TIMEOUT=3 DDRR_RUN_GRACE=1 record 4 payloads --fault "$fault" --fault-step 3
    replay 0 rep 3 --fault "$fault" --fault-step 3
    has "rank 3: replayed as recorded"
    has "injecting fault '$fault' on rank 3"
    case $fault in
      wrong-count | wrong-dtype | wrong-root | skip-collective) has "NCCL error 5: invalid usage" ;;
      abort) has "aborted the communicator at step 3" ;;
      nan) has "loss is not finite" ;;
      stall) has "it stopped where its recording stopped" ;;
      unmatched-send | same-device) same_hash 3 ;;
    esac ;;
  resume)
    # Payloads for steps 5-11 only: a replay from the start lacks the data and says which window
    # it has; the program resumed from its own checkpoint of step 5 replays as recorded.
    rm -f "$DDRR_SAMPLE_BOOTSTRAP_DIR"/*
    "$ddrr" record --level payloads --payload-steps 5-11 -o "$work/run" -- "$ddrr" run --host -n 4 \
      -- "${sgd[@]}" --checkpoint-at 5 >"$work/record.out" 2>&1 || fail "recording failed"
    replay 2 rep 1
    has "payloads were recorded for steps 5-11 only; replay with --from step:5"
    opts=(--from step:5)
    replay 0 rep 1 --resume-at 5
    same_hash 1
    has "rank 1: replayed as recorded"
    opts=(--from step:40)
    replay 2 rep 1 --resume-at 5
    has "never marked step 40" ;;
  variety_subsets | tour_subsets)
    # Programs with split (one rank NOCOLOR), shrink, scalable init, a non-blocking
    # communicator, registrations, PreMulSum and a second thread; or three communicators and
    # every collective: each rank alone and subsets (a split whose members all run, from a
    # parent that does not, is served too), each checking its own results.
    prog=("$comm_variety") subsets="0 1 2 3 1,2,3 0,2"
    [ "$case_name" = tour_subsets ] && prog=("$samples/collectives_tour") subsets="0 3 0,2 2,3"
    rm -f "$DDRR_SAMPLE_BOOTSTRAP_DIR"/*
    "$ddrr" record --level payloads -o "$work/run" -- "$ddrr" run --host -n 4 -- "${prog[@]}" \
      >"$work/record.out" 2>&1 || fail "recording failed: $(tail -3 "$work/record.out")"
    for ranks in $subsets; do
      rm -rf "$work/rep"
      "$ddrr" replay "$work/run" --host --ranks "$ranks" --timeout 8 -o "$work/rep" -- "${prog[@]}" \
        >"$work/replay.out" 2>&1 || fail "ranks $ranks: replay exited $?"
      [ "$(grep -c 'replayed as recorded' "$work/replay.out")" -eq "$(echo "$ranks" | tr ',' '\n' | wc -l)" ] ||
        fail "ranks $ranks: not all reproduced"
      grep -q ": OK" "$work/replay.out" || fail "ranks $ranks: the program's own checks failed"
    done ;;
  user_zero_step | user_ring_split | user_seeded_id)
    # Programs written like user code (their own rendezvous file, launcher variables, no sample
    # support): each rank alone, subsets, all ranks (a fresh id: the file is made anew), twice,
    # two ranks per device, a metadata recording, and a changed program.
    id="$work/nccl.id"
    case $case_name in
      user_zero_step) prog=("$user_programs/zero_step" --id-file "$id") base=(--steps 3)
        changed=(--steps 3 --count 2048) pat="zero_step rank" subsets="0 3 1,2" ;;
      user_ring_split) prog=("$user_programs/ring_split") base=() changed=(--elems 256)
        pat="ring_split rank" subsets="2 0,1 1,2" ;;
      user_seeded_id) prog=("$user_programs/seeded_id" "$id") base=(2) changed=(3)
        pat="seeded_id rank" subsets="2 0,3" ;;
    esac
    changed=("${prog[@]}" "${changed[@]}")
    prog+=("${base[@]}")
    export RING_ID_FILE=$id
    # result FILE RANK: what the program printed as rank RANK.
    result() { grep "\] $pat $2:" "$1" | sed 's/^\[rank [0-9]*\] //'; }
    same_results() {  # RANKS...: each one printed what it printed when recorded
      for r in "$@"; do
        want=$(result "$work/record.out" "$r") got=$(result "$work/replay.out" "$r")
        [ -n "$want" ] && [ "$want" = "$got" ] || fail "rank $r printed '$got', recorded '$want'"
      done
    }
    app() {  # WANT_RC OUT RANKS ARGS...
      local want=$1 out=$2 ranks=$3; shift 3
      rm -rf "$work/$out"
      "$ddrr" replay "$work/run" --host --ranks "$ranks" --timeout 8 -o "$work/$out" "$@" \
        >"$work/replay.out" 2>&1
      local rc=$?
      [ "$rc" -eq "$want" ] || fail "ranks $ranks: replay exited $rc, want $want"
    }
    for level in metadata payloads; do
      rm -f "$id"
      "$ddrr" record --level $level -o "$work/run" -- "$ddrr" run --host -n 4 -- "${prog[@]}" \
        >"$work/record.out" 2>&1 || fail "recording failed: $(tail -3 "$work/record.out")"
      # All ranks: the rendezvous runs afresh, from a file that is not there yet.
      rm -f "$id"
      app 0 all all -- "${prog[@]}"
      same_results 0 1 2 3
      [ "$(grep -c 'replayed as recorded' "$work/replay.out")" -eq 4 ] || fail "not 4 reproduced"
    done
    for ranks in $subsets; do
      app 0 rep "$ranks" -- "${prog[@]}"
      # shellcheck disable=SC2046
      same_results $(echo "$ranks" | tr ',' ' ')
      has "served from the recording"
    done
    if [ "$case_name" = user_seeded_id ]; then  # the last subset is 0,3: rank 0 drew twice
      grep -q "^rank 0: replayed as recorded.* 2 entropy draw(s) handed back" "$work/replay.out" ||
        fail "rank 0's two getrandom draws were not handed back"
    fi
    app 0 rep1 1 -- "${prog[@]}"
    app 0 rep2 1 -- "${prog[@]}"
    same_results 1
    "$ddrr" diff "$work/rep1" "$work/rep2" --scope all >"$work/diff.out" 2>&1 ||
      fail "two replays differ: $(cat "$work/diff.out")"
    rm -f "$id"
    DDRR_HOST_DEVICES=2 app 0 rep all --ranks-per-gpu 2 -- "${prog[@]}"
    same_results 0 1 2 3
    # The program changed: a divergence report, exit 1, never a crash.
    app 1 rep 1 -- "${changed[@]}"
    has "rank 1: diverged"
    has "recorded: [1] #"
    has "replay: diverged" ;;
  other_program)
    # Another program against the recording: a divergence at its first different call.
    record 4 payloads
    "$ddrr" replay "$work/run" --host --ranks 2 --timeout 8 -- "$samples/collectives_tour" \
      >"$work/replay.out" 2>&1
    [ $? -eq 1 ] || fail "another program did not diverge"
    has "where the recording has" ;;
  bad_input)
    record 2 metadata
    for args in "--ranks 7" "--ranks 1" "--ranks 0 --from op:3"; do
      # shellcheck disable=SC2086
      "$ddrr" replay "$work/run" --host $args -- "${sgd[@]}" >"$work/replay.out" 2>&1
      rc=$?
      [ $rc -eq 2 ] || fail "'$args': exit $rc, want 2"
      [ "$(wc -l <"$work/replay.out")" -eq 1 ] || fail "'$args': not one line"
    done
    "$ddrr" replay "$work/run" --host --ranks 7 -- "${sgd[@]}" >"$work/replay.out" 2>&1
    has "rank 7 is not in"
    "$ddrr" replay "$work/run" --host --ranks 1 -- "${sgd[@]}" >"$work/replay.out" 2>&1
    has "needs the payloads level"
    # A program that fails before its first NCCL or CUDA call: it is named, not the recording.
    rm -rf "$work/run"
    record 2 payloads
    "$ddrr" replay "$work/run" --host --ranks 1 -- false >"$work/replay.out" 2>&1
    [ $? -eq 2 ] || fail "a program that never reached replay mode is not exit 2"
    has "rank 1: the program never reached replay mode (exit status 1)"
    has "replay: stopped: the program never reached replay mode"
    # A damaged trace.
    rm -rf "$work/run"
    record 2 payloads
    python3 - "$work/run/rank-1.ddrr" <<'EOF'
import sys
p = sys.argv[1]
b = bytearray(open(p, "rb").read())
for i in range(len(b) * 3 // 4, len(b) * 3 // 4 + 64):
    b[i] ^= 0xFF
open(p, "wb").write(b)
EOF
    "$ddrr" replay "$work/run" --host --ranks 1 -- "${sgd[@]}" >"$work/replay.out" 2>&1
    [ $? -eq 2 ] || fail "a damaged trace is not exit 2"
    [ "$(wc -l <"$work/replay.out")" -eq 1 ] || fail "a damaged trace: not one line"
    has "rank-1.ddrr: offset" ;;
  *)
    fail "unknown case" ;;
esac
exit 0
