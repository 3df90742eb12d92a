#!/usr/bin/env bash
# check_test.sh CASE DDRR SAMPLES_DIR SYNTH — one `ddrr check` scenario: record a run (or
# synthesise one), check it, assert the exit code and the first finding.
set -uo pipefail
case_name=$1 ddrr=$2 samples=$3 synth=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export DDRR_SAMPLE_BOOTSTRAP_DIR="$work/bootstrap" DDRR_EMU_TIMEOUT=5 DDRR_RUN_GRACE=5
mkdir -p "$DDRR_SAMPLE_BOOTSTRAP_DIR"
fail() { echo "FAIL [$case_name]: $*" >&2; cat "$work/check.json" >&2 2>/dev/null; exit 1; }

# record SAMPLE ARGS...: a 3-rank run of a sample, under the recorder. The faulty job's own
# exit code is not ours to judge.
record() {
  local sample=$1; shift
  "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 3 -- "$samples/$sample" "$@" \
    >"$work/out" 2>&1
  [ -d "$work/run" ] || fail "nothing recorded: $(tail -5 "$work/out")"
}
# check WANT_RC: ddrr check --json, with its exit code asserted.
check() {
  "$ddrr" check "$work/run" --json >"$work/check.json" 2>"$work/check.err"
  local rc=$?
  [ "$rc" -eq "$1" ] || fail "check exited $rc, want $1: $(head -c 600 "$work/check.err")"
}
# first_finding KIND RANK [DIFFERENCE]: the first finding is KIND, blames exactly RANK, and its
# message names DIFFERENCE.
first_finding() {
  python3 - "$work/check.json" "$@" <<'PY' || fail "first finding wrong"
import json, sys
path, kind, rank = sys.argv[1], sys.argv[2], int(sys.argv[3])
want = sys.argv[4] if len(sys.argv) > 4 else ""
findings = [json.loads(l) for l in open(path)]
assert findings, "no findings"
f = findings[0]
for k in ("kind", "severity", "comm_key", "comm_size", "op_seq", "ranks", "message", "calls"):
    assert k in f, (k, f)
assert f["kind"] == kind, f
assert f["ranks"] == [rank], f
assert want in f["message"], (want, f["message"])
assert f["op_seq"] >= 1 and f["comm_key"], f
for c in f["calls"]:
    assert {"rank", "last_op"} <= set(c), c
kinds = [x["kind"] for x in findings]
order = ["mismatched-collective", "missing-participant", "nccl-error", "not-completed"]
assert [order.index(k) for k in kinds] == sorted(order.index(k) for k in kinds), kinds
PY
}

case $case_name in
  wrong_count | wrong_dtype | wrong_root)
    fault=${case_name//_/-}
    record collectives_tour --fault "$fault" --fault-rank 2
    check 1
    want=${case_name#wrong_}; want=${want/dtype/datatype}
    first_finding mismatched-collective 2 "$want differs"
    # Under the emulator every rank's mismatched call fails: those errors come after the cause.
    grep -q '"kind":"nccl-error"' "$work/check.json" || fail "no nccl-error after the mismatch" ;;
  skip_collective)
    record collectives_tour --fault skip-collective --fault-rank 2
    check 1
    python3 - "$work/check.json" <<'PY' || fail "skip not blamed on rank 2"
import json, sys
f = json.loads(open(sys.argv[1]).readline())
assert f["kind"] in ("mismatched-collective", "missing-participant"), f
assert f["ranks"] == [2], f
PY
    ;;
  sgd_clean)
    record sgd_allreduce --steps 10
    check 0
    [ ! -s "$work/check.json" ] || fail "findings on a clean run" ;;
  tour_clean)
    record collectives_tour
    check 0
    [ ! -s "$work/check.json" ] || fail "findings on a clean run" ;;
  killed_rank_synthetic)
    "$synth" -o "$work/run" -n 4 --steps 10 --kill-rank 2 --kill-step 6 >"$work/out" 2>&1 \
      || fail "synth failed: $(cat "$work/out")"
    check 1
    first_finding missing-participant 2 "rank 2 stopped at op"
    python3 - "$work/check.json" <<'PY' || fail "evidence wrong"
import json, sys
f = json.loads(open(sys.argv[1]).readline())
last = {c["rank"]: c["last_op"] for c in f["calls"]}
assert sorted(last) == [0, 1, 2, 3], last
assert last[2] < last[0] == last[1] == last[3], last
assert f["op_seq"] == last[2] + 1, f
assert "ranks 0,1,3 reached op %d" % last[0] in f["message"], f["message"]
PY
    ;;
  max_findings_and_text)
    record collectives_tour --fault wrong-count --fault-rank 2
    "$ddrr" check "$work/run" --json --max-findings 1 >"$work/check.json" 2>/dev/null
    [ $? -eq 1 ] || fail "exit code not 1"
    [ "$(wc -l <"$work/check.json")" -eq 1 ] || fail "--max-findings 1 printed more"
    "$ddrr" check "$work/run" >"$work/check.txt" 2>/dev/null
    head -1 "$work/check.txt" | grep -qE '^mismatched-collective comm [0-9a-f]{16} \(size 3\) op [0-9]+: ' \
      || fail "text header: $(head -1 "$work/check.txt")"
    sed -n 2p "$work/check.txt" | grep -qE '^    rank [0-9]+: #[0-9]+ nccl' \
      || fail "text rank line: $(sed -n 2p "$work/check.txt")" ;;
  bad_input)
    "$ddrr" check "$work/nothing-here" >/dev/null 2>&1
    [ $? -eq 2 ] || fail "missing run not exit 2"
    echo garbage >"$work/rank-0.ddrr"
    "$ddrr" check "$work/rank-0.ddrr" >/dev/null 2>&1
    [ $? -eq 2 ] || fail "garbage file not exit 2" ;;
  *) fail "unknown case" ;;
esac
echo "ok [$case_name]"
