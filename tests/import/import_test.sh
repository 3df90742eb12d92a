#!/usr/bin/env bash
# import_test.sh CASE DDRR SAMPLES_DIR — one `ddrr import` scenario: record a sample with a
# fault, write the NCCL log the job would have printed (nccl_log_from_dump.py), import it, and
# assert that `ddrr check` on the import gives the recording's first finding (kind, ranks, op,
# communicator size); or feed bad input and assert exit 2 with a one-line error.
set -uo pipefail
case_name=$1 ddrr=$2 samples=$3
here=$(cd "$(dirname "$0")" && pwd)
source "$(dirname "$0")/../lib.sh"

record() {
  local sample=$1; shift
  "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 3 -- "$samples/$sample" "$@" \
    >"$work/out" 2>&1
  [ -d "$work/run" ] || fail "nothing recorded: $(tail -5 "$work/out")"
  "$ddrr" dump "$work/run" --json >"$work/dump.json" || fail "dump failed"
}
# to_log [ARGS]: the job's NCCL log from its recording, imported into $work/imported.
to_log() {
  python3 "$here/nccl_log_from_dump.py" "$work/dump.json" "$work/nccl.log" "$@" \
    || fail "writing the log failed"
  local inputs=("$work/nccl.log")
  [[ " $* " == *" --per-rank "* ]] && inputs=("$work"/nccl.log.*)
  "$ddrr" import "${inputs[@]}" -o "$work/imported" >"$work/import.out" 2>&1 \
    || fail "import failed: $(cat "$work/import.out")"
}
# fr_import KIND [ARGS]: Flight Recorder dumps of one scenario (make_fr_dumps.py) imported into
# $work/r, what the import printed in $work/import.out.
fr_import() {
  python3 "$here/make_fr_dumps.py" "$work/d" "$@" || fail "dumps"
  "$ddrr" import "$work/d"/* -o "$work/r" >"$work/import.out" || fail "import"
}
# first RUN: kind, ranks, op and size of check's first finding ("none" when there is none).
# Timing findings (stragglers, severity info) are left out: a loaded machine makes them.
first() {
  "$ddrr" check "$1" --json >"$work/check.json" 2>/dev/null
  python3 -c '
import json, sys
fs = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
fs = [f for f in fs if f["severity"] != "info"]
if not fs: print("none"); sys.exit()
f = fs[0]
print(f["kind"], ",".join(map(str, f["ranks"])), "op", f["op_seq"], "size", f["comm_size"])
' "$work/check.json"
}
# same_first: the import's first finding is the recording's; WANT_KIND names the one expected.
same_first() {
  local want=$1 a b
  a=$(first "$work/run") b=$(first "$work/imported")
  [ "${a%% *}" = "$want" ] || fail "the recording's first finding is '$a', want $want"
  [ "$a" = "$b" ] || fail "recording: '$a'; import: '$b'"
}
# fails_with TEXT CMD...: exit 2, one line on stderr naming TEXT.
fails_with() {
  local text=$1; shift
  "$@" >"$work/out" 2>"$work/err"; local rc=$?
  [ "$rc" -eq 2 ] || fail "'$*' exited $rc, want 2: $(head -3 "$work/err")"
  [ "$(wc -l <"$work/err")" -eq 1 ] || fail "want one line on stderr: $(cat "$work/err")"
  grep -q -- "$text" "$work/err" || fail "stderr lacks '$text': $(cat "$work/err")"
}

# replay_import RUN WANT_RC: comm replay of an imported run on the host runtime, JSON report in
# $work/replay.json.
replay_import() {
  "$ddrr" replay "$1" --host --no-progress --json --timeout 4 >"$work/replay.json" 2>"$work/err"
  local rc=$?
  [ "$rc" -eq "$2" ] || fail "replay exited $rc, want $2: $(tail -3 "$work/err")"
}
# replayed PYTHON_EXPR MESSAGE: an assertion on the replay's report `r`.
replayed() {
  python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if ($1) else 1)" \
    "$work/replay.json" || fail "$2: $(head -c 1500 "$work/replay.json")"
}
# emu_log SAMPLE ARGS...: the job recorded by ddrr on the host runtime while emu writes the
# NCCL_DEBUG=INFO log NCCL would (one file per process), then that log imported.
emu_log() {
  local sample=$1; shift
  NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=INIT,COLL NCCL_DEBUG_FILE="$work/nccl.%h.%p" DDRR_EMU_TIMEOUT=3 \
    DDRR_RUN_GRACE=1 \
    "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 4 -- "$samples/$sample" "$@" \
    >"$work/out" 2>&1
  [ -d "$work/run" ] || fail "nothing recorded: $(tail -5 "$work/out")"
  ls "$work"/nccl.* >/dev/null 2>&1 || fail "emu wrote no NCCL log"
  "$ddrr" import "$work"/nccl.* -o "$work/imported" >"$work/import.out" 2>&1 \
    || fail "import failed: $(cat "$work/import.out")"
  grep -q "4 rank file(s), world size 4" "$work/import.out" || fail "$(cat "$work/import.out")"
}
# watchdog_line RANK SEQ [PREFIX]: PyTorch's newest watchdog message.
watchdog_line() {
  echo "[rank$1]:[E1218 20:27:21.426415540 ProcessGroupNCCL.cpp:632] ${3:-[PG ID 0 PG GUID 0(default_pg) Rank $1] }Watchdog caught collective operation timeout: WorkNCCL(SeqNum=$2, OpType=ALLREDUCE, NumelIn=1024, NumelOut=1024, Timeout(ms)=600000) ran for 600081 milliseconds before timing out."
}

case $case_name in
  emu_log_sgd_wrong_count | emu_log_sgd_wrong_dtype | emu_log_sgd_wrong_root \
  | emu_log_sgd_skip_collective | emu_log_tour_wrong_count)
    rest=${case_name#emu_log_}; sample=sgd_allreduce
    [ "${rest%%_*}" = tour ] && sample=collectives_tour
    fault=${rest#*_}; fault=${fault//_/-}
    emu_log $sample --steps 6 --fault "$fault"
    same_first mismatched-collective
    if [ "$case_name" = emu_log_sgd_wrong_count ]; then
      # The log's pointers are another process's: mapped like recorded ones. The log has no
      # results: emu's failure where the arguments disagree is what NCCL's would have been.
      replay_import "$work/imported" 0
      replayed 'r["verdict"] == "reproduced" and not r["unresolved"]' "the log's replay diverged"
    fi ;;
  emu_log_sgd_unmatched_send)
    emu_log sgd_allreduce --steps 6 --fault unmatched-send
    same_first unmatched-p2p ;;
  emu_log_sgd_abort | emu_log_sgd_stall)
    fault=${case_name#emu_log_sgd_}
    emu_log sgd_allreduce --steps 6 --fault "$fault" --fault-rank 2 --fault-step 3
    same_first missing-participant
    if [ "$fault" = abort ]; then
      "$ddrr" dump "$work/imported" >"$work/dump.txt" || fail "dump failed"
      grep -q "NCCL WARN .*rank 2 was aborted" "$work/dump.txt" || fail "no WARN line imported"
    fi ;;
  emu_log_sgd_clean)
    emu_log sgd_allreduce --steps 6
    same_first none
    replay_import "$work/imported" 0
    replayed 'r["verdict"] == "reproduced" and not r["unresolved"]' "the log's replay diverged"
    replayed 'r["data"]["checked"] > 0 and r["data"]["wrong"] == 0' "outputs not checked"
    replayed 'not any("placeholder" in n for n in r["notes"])' "placeholders for known pointers"
    # Without NCCL_DEBUG emu prints nothing of its own.
    rm -f "$work"/nccl.*
    NCCL_DEBUG_FILE="$work/nccl.%h.%p" "$ddrr" run --host -n 2 -- "$samples/sgd_allreduce" \
      --steps 2 >"$work/quiet.out" 2>&1 || fail "clean run failed"
    ! ls "$work"/nccl.* >/dev/null 2>&1 || fail "a log was written without NCCL_DEBUG"
    ! grep -q "NCCL INFO" "$work/quiet.out" || fail "INFO lines without NCCL_DEBUG" ;;
  emu_log_subsys)
    # NCCL_DEBUG_SUBSYS as NCCL reads it: INIT only (its default) has no COLL line; to stdout.
    NCCL_DEBUG=INFO "$ddrr" run --host -n 2 -- "$samples/sgd_allreduce" --steps 2 \
      >"$work/out" 2>&1 || fail "run failed"
    grep -q "NCCL INFO ncclCommInitRank comm 0x[0-9a-f]* rank 1 nranks 2 .* - Init START" \
      "$work/out" || fail "no init line"
    ! grep -q "NCCL INFO AllReduce: opCount" "$work/out" || fail "COLL line without COLL"
    NCCL_DEBUG=INFO NCCL_DEBUG_SUBSYS=^INIT "$ddrr" run --host -n 2 -- \
      "$samples/sgd_allreduce" --steps 2 >"$work/out" 2>&1 || fail "run failed"
    grep -q "NCCL INFO AllReduce: opCount [0-9a-f]* sendbuff 0x" "$work/out" || fail "no COLL line"
    ! grep -q "Init START" "$work/out" || fail "INIT line with ^INIT"
    # WARN: a line per failure, nothing else.
    NCCL_DEBUG=WARN DDRR_RUN_GRACE=1 "$ddrr" run --host -n 2 -- "$samples/sgd_allreduce" \
      --steps 4 --fault abort --fault-rank 1 --fault-step 1 >"$work/out" 2>&1
    grep -q "^\[rank 0\] [^ ]*:[0-9]*:[0-9]* \[[0-9]*\] [a-z_]*\.cc:[0-9]* NCCL WARN .*was aborted" \
      "$work/out" || fail "no WARN line"
    ! grep -q "NCCL INFO" "$work/out" || fail "INFO lines at WARN" ;;
  fr_replay_clean)
    # A dump has no buffer pointers: the replay runs each op on placeholders of its size.
    fr_import clean
    replay_import "$work/r" 0
    replayed 'r["verdict"] == "reproduced"' "the clean dumps' replay did not reproduce"
    replayed 'not r["unresolved"]' "calls could not be replayed"
    replayed 'r["data"]["checked"] > 0 and r["data"]["wrong"] == 0' "placeholder data not checked"
    replayed 'sum("placeholder buffers" in n and "dummy" in n for n in r["notes"]) == 1' \
      "the replay does not say once that the data is dummy"
    replayed 'sum("no reduction ops: ncclSum" in n for n in r["notes"]) == 1' "sum not said"
    replayed 'not any("root" in n for n in r["notes"])' "roots named where no op has one" ;;
  fr_replay_rooted)
    # Rooted collectives and reductions whose root and op the dump does not have: said once.
    fr_import rooted
    replay_import "$work/r" 0
    replayed 'r["verdict"] == "reproduced" and not r["unresolved"]' "the rooted ops did not replay"
    replayed 'sum("no roots: root 0 is used" in n for n in r["notes"]) == 1' "root 0 not said once"
    replayed 'sum("ncclSum" in n for n in r["notes"]) == 1' "sum not said once" ;;
  fr_replay_mismatch)
    # Rank 2's 3rd all-reduce is smaller: emu fails it where NCCL did not check.
    fr_import mismatch
    replay_import "$work/r" 0
    replayed 'r["verdict"] == "reproduced"' "the mismatch was not reproduced"
    replayed 'r["findings"]["agree"] and "mismatched-collective" in r["findings"]["replayed"]' \
      "the replay's finding is not the diagnosis'" ;;
  fr_replay_missing)
    # Rank 1 stopped after two all-reduces; the others wait in the third: a hang.
    fr_import missing
    replay_import "$work/r" 0
    replayed 'r["verdict"] == "reproduced"' "the hang was not reproduced"
    replayed 'all(x["hung"] for x in r["ranks"] if x["rank"] != 1)' "ranks 0 and 2 did not hang" ;;
  watchdog_formats)
    # Each format PyTorch printed, one file per rank; rank 1 is behind (SeqNum 5 vs 7).
    watchdog_line 0 7 >"$work/w0.log"
    echo "[E ProcessGroupNCCL.cpp:475] [Rank 1] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=5, OpType=ALLREDUCE, Timeout(ms)=1800000) ran for 1800826 milliseconds before timing out." >"$work/w1.log"
    watchdog_line 2 7 "[PG 0 Rank 2] " >"$work/w2.log"
    { echo "loss 0.1"; watchdog_line 3 7 "[PG ID 0 PG GUID 0 Rank 3] "; } >"$work/w3.log"
    "$ddrr" import "$work"/w?.log -o "$work/r" >"$work/import.out" || fail "$(cat "$work/import.out")"
    grep -q "imported watchdog: 4 rank file(s), world size 4" "$work/import.out" \
      || fail "$(cat "$work/import.out")"
    [ "$(first "$work/r")" = "missing-participant 1 op 6 size 4" ] || fail "$(first "$work/r")"
    "$ddrr" info "$work/r" >"$work/info" || fail "info failed"
    grep -q "unknown   earlier-ops,pointers,datatype" "$work/info" || fail "$(head -12 "$work/info")" ;;
  watchdog_mixed)
    # An NCCL log with the watchdog's messages among its lines: they become notes of their rank.
    record sgd_allreduce --steps 2
    to_log
    { cat "$work/nccl.log"; watchdog_line 1 3; } >"$work/mixed.log"
    "$ddrr" import "$work/mixed.log" -o "$work/m" >"$work/import.out" 2>&1 \
      || fail "$(cat "$work/import.out")"
    grep -q "imported nccl-log" "$work/import.out" || fail "$(cat "$work/import.out")"
    "$ddrr" dump "$work/m" --json | python3 -c '
import json, sys
notes = [e for e in map(json.loads, sys.stdin) if "watchdog:" in json.dumps(e)]
assert len(notes) == 1 and notes[0]["rank"] == 1, notes' || fail "the watchdog note is not rank 1's"
    [ "$(first "$work/m")" = none ] || fail "a finding from a note: $(first "$work/m")"
    # --format watchdog reads only the messages.
    "$ddrr" import --format watchdog "$work/mixed.log" -o "$work/w" >"$work/import.out" 2>&1 \
      || fail "$(cat "$work/import.out")"
    grep -q "imported watchdog: 1 rank file(s)" "$work/import.out" || fail "$(cat "$work/import.out")" ;;
  watchdog_hostile)
    # A 1 GB line streamed through a pipe: refused after 1 MiB, never held whole.
    mkfifo "$work/big.fifo"
    ( { printf '[Rank 0] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=1, '; \
        head -c 1073741824 /dev/zero | tr '\0' x; echo; } >"$work/big.fifo" ) 2>/dev/null &
    python3 - "$ddrr" "$work" <<'PY' || fail "the long line was not refused in bounded memory"
import resource, subprocess, sys
ddrr, work = sys.argv[1], sys.argv[2]
p = subprocess.run([ddrr, "import", "--format", "watchdog", work + "/big.fifo", "-o", work + "/o1"],
                   capture_output=True, text=True)
rss_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
assert p.returncode == 2, (p.returncode, p.stderr)
assert "over 1 MiB" in p.stderr and len(p.stderr.splitlines()) == 1, p.stderr
assert rss_mib < 256, rss_mib
PY
    kill %1 2>/dev/null; wait 2>/dev/null
    { printf 'W'; head -c 4096 /dev/urandom; printf '\0\0'; } >"$work/junk.log"
    fails_with "binary data" "$ddrr" import --format watchdog "$work/junk.log" -o "$work/o2"
    fails_with "junk.log" "$ddrr" import "$work/junk.log" -o "$work/o3"
    echo "Watchdog caught collective operation timeout: WorkNCCL(" >"$work/cut.log"
    fails_with "no ProcessGroupNCCL watchdog message" "$ddrr" import "$work/cut.log" -o "$work/o4" ;;
  log_sgd_wrong_count | log_sgd_wrong_dtype | log_sgd_wrong_root | log_sgd_skip_collective \
  | log_tour_wrong_count | log_tour_skip_collective)
    rest=${case_name#log_}; sample=sgd_allreduce
    [ "${rest%%_*}" = tour ] && sample=collectives_tour
    fault=${rest#*_}; fault=${fault//_/-}
    record $sample --steps 6 --fault "$fault"
    to_log --noise
    same_first mismatched-collective ;;
  log_sgd_unmatched_send | log_tour_unmatched_send)
    sample=sgd_allreduce; [ "$case_name" = log_tour_unmatched_send ] && sample=collectives_tour
    record $sample --steps 6 --fault unmatched-send
    to_log
    same_first unmatched-p2p ;;
  log_sgd_abort)
    record sgd_allreduce --steps 6 --fault abort
    to_log
    same_first missing-participant ;;
  log_sgd_clean | log_tour_clean)
    sample=sgd_allreduce; [ "$case_name" = log_tour_clean ] && sample=collectives_tour
    record $sample --steps 6
    to_log
    same_first none ;;
  log_per_rank_files)
    # One log per rank (NCCL_DEBUG_FILE), rank 1's prefixes cut off.
    record collectives_tour --fault wrong-count
    to_log --per-rank --cut-prefix 1
    grep -q "3 rank file(s), world size 3" "$work/import.out" || fail "$(cat "$work/import.out")"
    same_first mismatched-collective ;;
  log_comm_replay)
    # Comm replay of an imported log: every rank's calls re-issued on the host runtime.
    record sgd_allreduce --steps 4
    to_log
    "$ddrr" replay "$work/imported" --host --no-progress --json >"$work/replay.json" 2>"$work/err" \
      || fail "replay exited $?: $(tail -3 "$work/err")"
    python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["verdict"] == "reproduced", r["verdict"]' \
      "$work/replay.json" || fail "replay did not reproduce the imported run" ;;
  info_shows_source)
    record sgd_allreduce --steps 2
    to_log
    "$ddrr" info "$work/imported" >"$work/info" 2>&1 || fail "info: $(cat "$work/info")"
    grep -q "imported  nccl-log from .*nccl.log" "$work/info" || fail "$(head -20 "$work/info")"
    grep -q "unknown   results" "$work/info" || fail "$(head -20 "$work/info")" ;;
  bad_input)
    fails_with "absent.log" "$ddrr" import "$work/absent.log" -o "$work/o1"
    { printf '\177ELF'; head -c 4096 /dev/urandom; printf '\0\0\0'; } >"$work/junk.bin"
    fails_with "junk.bin" "$ddrr" import "$work/junk.bin" -o "$work/o2"
    fails_with "binary" "$ddrr" import --format nccl-log "$work/junk.bin" -o "$work/o3"
    { printf 'h:1:2 [0] NCCL INFO x'; head -c 3000000 /dev/zero | tr '\0' 'x'; echo; } \
      >"$work/long.log"
    fails_with "over 1 MiB" "$ddrr" import --format nccl-log "$work/long.log" -o "$work/o4"
    echo "just some text" >"$work/text.log"
    fails_with "pass --format" "$ddrr" import "$work/text.log" -o "$work/o5"
    fails_with "no NCCL INFO line" "$ddrr" import --format nccl-log "$work/text.log" -o "$work/o6"
    echo "h:1:2 [0] NCCL INFO AllReduce: opCount 0 sendbuff 0x1 recvbuff 0x1 count 1 datatype 7 \
op 0 root 0 comm 0x5 [nranks=1] stream 0x1" >"$work/ok.log"
    fails_with "cannot create" "$ddrr" import "$work/ok.log" -o /proc/nonexistent/run
    "$ddrr" import "$work/ok.log" -o "$work/o7" >/dev/null || fail "a one-line log"
    fails_with "already holds rank files" "$ddrr" import "$work/ok.log" -o "$work/o7"
    "$ddrr" import --format bogus "$work/ok.log" -o "$work/o8" >/dev/null 2>&1
    [ $? -eq 2 ] || fail "unknown format accepted" ;;
  fr_versions)
    # The same faulty job dumped in each format version, pickle and JSON: the same finding.
    for v in 2.2 2.4 2.7 2.10; do
      for j in "" --json; do
        d="$work/fr-$v$j"
        python3 "$here/make_fr_dumps.py" "$d" mismatch --version "$v" $j || fail "dumps"
        "$ddrr" import "$d"/nccl_trace_rank_* -o "$d.run" >"$work/import.out" 2>&1 \
          || fail "import $v$j: $(cat "$work/import.out")"
        [ "$(first "$d.run")" = "mismatched-collective 2 op 3 size 3" ] \
          || fail "$v$j: $(first "$d.run")"
        if [ "$v" = 2.2 ]; then
          grep -q "(format 2.2) lacks entry keys: .*p2p_seq_id" "$work/import.out" \
            || fail "2.2's missing keys not named: $(cat "$work/import.out")"
        else
          ! grep -q "p2p_seq_id" "$work/import.out" || fail "$v: $(cat "$work/import.out")"
        fi
      done
    done
    "$ddrr" info "$work/fr-2.10.run" | grep -q "imported  fr 2.10 from" || fail "info" ;;
  fr_missing_participant)
    fr_import missing
    [ "$(first "$work/r")" = "missing-participant 1 op 3 size 3" ] || fail "$(first "$work/r")"
    grep -q '"kind":"not-completed"' "$work/check.json" || fail "stuck ops not reported" ;;
  fr_absent_rank)
    fr_import absent
    grep -q "rank 1 has no dump" "$work/import.out" || fail "$(cat "$work/import.out")"
    [ "$(first "$work/r")" = "not-completed 0 op 3 size 3" ] || fail "$(first "$work/r")" ;;
  fr_unmatched_p2p)
    fr_import p2p --json
    [ "$(first "$work/r")" = "unmatched-p2p 0 op 1 size 2" ] || fail "$(first "$work/r")"
    "$ddrr" check "$work/r" >"$work/check.txt"
    grep -q '^unmatched-p2p comm [0-9a-f]* "EXPERT_MODEL_PARALLEL_GROUP (process group 1)" (size 2)' \
      "$work/check.txt" || fail "the process group is not named: $(head -1 "$work/check.txt")" ;;
  fr_wrapped_ring)
    fr_import wrapped
    grep -q "the ring wrapped (first record_id 3)" "$work/import.out" || fail "$(cat "$work/import.out")"
    [ "$(first "$work/r")" = none ] || fail "findings from a wrapped ring: $(first "$work/r")" ;;
  fr_hostile)
    # A pickle that would run a command when unpickled by Python: refused, nothing run.
    python3 - "$work/evil" "$work/pwned" <<'PY'
import os, pickle, sys
class Evil:
    def __reduce__(self):
        return (os.system, ("touch " + sys.argv[2],))
for proto in (2, 4):
    with open(sys.argv[1] + str(proto), "wb") as f:
        pickle.dump({"version": "2.10", "entries": [Evil()]}, f, protocol=proto)
PY
    fails_with "GLOBAL.*refused" "$ddrr" import "$work/evil2" -o "$work/o1"
    fails_with "STACK_GLOBAL" "$ddrr" import --format fr "$work/evil4" -o "$work/o2"
    [ ! -e "$work/pwned" ] || fail "the pickle ran"
    [ ! -e "$work/o1/rank-0.ddrr" ] || fail "wrote a run"
    python3 -c 'import pickle,sys; open(sys.argv[1],"wb").write(pickle.dumps({"entries": []})[:-5])' \
      "$work/cut.pkl"
    fails_with "truncated" "$ddrr" import --format fr "$work/cut.pkl" -o "$work/o3"
    echo '{"version": "2.10", "entries": [' >"$work/cut.json"
    fails_with "cut.json is not readable JSON" "$ddrr" import "$work/cut.json" -o "$work/o4"
    # Random bytes behind a fixed first byte (a random one could be the PROTO opcode).
    { printf 'J'; head -c 4096 /dev/urandom; } >"$work/junk"
    fails_with "neither a pickle nor" "$ddrr" import --format fr "$work/junk" -o "$work/o5" ;;
  *) fail "unknown case" ;;
esac
echo "ok [$case_name]"
