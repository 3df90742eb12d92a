#!/usr/bin/env bash
# bundle_test.sh CASE DDRR SAMPLES_DIR — one scenario of ddrr export / report / bundle on a
# 4-rank sgd_allreduce run recorded on the host runtime.
set -uo pipefail
case_name=$1 ddrr=$2 samples=$3
source "$(dirname "$0")/../lib.sh"

# record [ENV=VALUE...]: the sample, 4 ranks, 6 steps, into $work/run.
record() {
  env "$@" "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 4 -- "$samples/sgd_allreduce" \
    --steps 6 >"$work/out" 2>&1 || fail "record exited $?"
}

case $case_name in
  export_sample)
    record
    (cd "$work" && "$ddrr" export run >"$work/out" 2>&1) || fail "export exited $?"
    [ -s "$work/run.perfetto-trace" ] || fail "no run.perfetto-trace: $(cat "$work/out")"
    grep -q "wrote run.perfetto-trace: 4 rank(s)" "$work/out" || fail "summary: $(cat "$work/out")"
    "$ddrr" export "$work/run" --format json -o "$work/t.json" >"$work/out" 2>&1 \
      || fail "json export exited $?"
    python3 - "$work/t.json" <<'PY' || fail "JSON timeline wrong"
import json, sys, collections
d = json.load(open(sys.argv[1]))
ev = d["traceEvents"]
procs = {e["pid"]: e["args"]["name"] for e in ev if e["ph"] == "M" and e["name"] == "process_name"}
assert sorted(procs) == [1, 2, 3, 4], procs
assert all(n.startswith("rank %d " % (p - 1)) for p, n in procs.items()), procs
streams = {(e["pid"], e["tid"]) for e in ev if e["ph"] == "M" and e["name"] == "thread_name"
           and e["args"]["name"].startswith("stream ")}
assert streams, "no stream tracks"
ar = collections.Counter(e["pid"] for e in ev
                         if e["ph"] == "X" and e["cat"] == "stream" and e["name"] == "ncclAllReduce")
assert len(set(ar.values())) == 1 and min(ar.values()) >= 6, ar
# On each stream, the ops follow one another (a stream runs one at a time).
for key in streams:
    xs = sorted((e["ts"], e["ts"] + e["dur"]) for e in ev
                if e["ph"] == "X" and (e["pid"], e["tid"]) == key)
    assert all(a[1] <= b[0] + 1e-3 for a, b in zip(xs, xs[1:])), key
marks = [e for e in ev if e["ph"] == "i" and e["cat"] == "mark"]
assert len(marks) >= 4 * 6, len(marks)
PY
    ;;
  export_bad_inputs)
    "$ddrr" export "$work/nothing" >"$work/out" 2>&1
    [ $? -eq 2 ] || fail "a missing run did not exit 2"
    grep -q "ddrr: error: " "$work/out" || fail "no error line: $(cat "$work/out")"
    record
    "$ddrr" export "$work/run" -o "$work/no/such/dir/t.pt" >"$work/out" 2>&1
    [ $? -eq 2 ] || fail "an unwritable output did not exit 2"
    grep -q "ddrr: error: cannot write $work/no/such/dir/t.pt" "$work/out" \
      || fail "unwritable output not named: $(cat "$work/out")"
    "$ddrr" export "$work/run" --format xml >"$work/out" 2>&1
    [ $? -eq 2 ] || fail "a bad format did not exit 2" ;;
  report_sample)
    # A faulty job with a secret in its environment: the report names the fault, never the secret.
    env NCCL_IB_AUTH_TOKEN=hunter2-planted NCCL_DEBUG=WARN "$ddrr" record -o "$work/run" -- \
      "$ddrr" run --host -n 4 -- "$samples/sgd_allreduce" --steps 6 --fault wrong-count \
      >"$work/out" 2>&1
    "$ddrr" report "$work/run" >"$work/report.md" 2>"$work/out" || fail "report exited $?"
    grep -q "hunter2-planted" "$work/report.md" && fail "the secret is in the report"
    grep -q '^| `NCCL_IB_AUTH_TOKEN` | <redacted> |$' "$work/report.md" || fail "not redacted"
    grep -q '^| `NCCL_DEBUG` | WARN |$' "$work/report.md" || fail "NCCL_DEBUG missing"
    grep -q '^| NCCL | 2.28.9 |$' "$work/report.md" || fail "NCCL version missing"
    grep -q '^- ranks 0-3: ' "$work/report.md" || fail "ranks not grouped"
    grep -q '^1. \*\*error `mismatched-collective`\*\* (rank 3)' "$work/report.md" \
      || fail "first finding: $(grep '^1\.' "$work/report.md")"
    [ "$(grep -c '<details><summary>evidence</summary>' "$work/report.md")" -ge 1 ] \
      || fail "no evidence blocks"
    grep -q "^ddrr replay $work/run --host" "$work/report.md" || fail "no replay command"
    "$ddrr" report "$work/run" -o "$work/r2.md" >"$work/out" 2>&1 || fail "report -o exited $?"
    cmp -s "$work/report.md" "$work/r2.md" || fail "report -o differs from standard output"
    "$ddrr" report "$work/nothing" >"$work/out" 2>&1
    [ $? -eq 2 ] || fail "a missing run did not exit 2" ;;
  *) fail "unknown case" ;;
esac
exit 0
