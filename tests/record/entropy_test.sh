#!/usr/bin/env bash
# entropy_test.sh CASE DDRR PROBE HOSTRT_DIR — entropy capture by libddrr.so (src/interpose/entropy.cc).
# entropy_probe prints "<source> <hex>" per source; the trace must hold the same bytes, in order.
set -uo pipefail
case_name=$1 ddrr=$2 probe=$3 hostrt=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export RANK=0 WORLD_SIZE=1
fail() { echo "FAIL [$case_name]: $*" >&2; tail -20 "$work/out" >&2 2>/dev/null; exit 1; }

record() {
  "$ddrr" record -o "$work/run" -- env LD_LIBRARY_PATH="$hostrt" "$probe" >"$work/out" 2>"$work/err" \
    || fail "recorded probe exited $?: $(tail -5 "$work/err")"
}

case $case_name in
  entropy_recorded)
    record
    "$ddrr" dump "$work/run" --json >"$work/dump.json" || fail "dump failed"
    python3 - "$work/out" "$work/dump.json" <<'PY' || fail "trace does not hold the probe's entropy"
import json, sys
names = {"getrandom": "getrandom", "getentropy": "getentropy",
         "syscall_getrandom": "syscall(getrandom)", "dev_urandom": "/dev/urandom",
         "random_device": "std::random_device"}
want = []
for line in open(sys.argv[1]):
    src, hexdata = line.split()
    want.append((names[src], hexdata))
assert [s for s, _ in want] == list(names.values()), want
ev = [json.loads(l) for l in open(sys.argv[2])]
got = [(e["source"], e["data"]) for e in ev if e["type"] == "entropy"]
# The probe draws nothing else once the recorder runs, so the trace holds exactly these events.
assert got == want, f"trace {got}\nprobe {want}"
PY
    ;;
  entropy_output_unchanged)
    # The bytes differ run to run; what must not differ is what the program sees of the calls:
    # exit status, sources, order and byte counts.
    env LD_LIBRARY_PATH="$hostrt" "$probe" >"$work/plain" 2>&1 || fail "plain probe exited $?"
    record
    shape() { awk '{print $1, length($2)}' "$1"; }
    diff <(shape "$work/plain") <(shape "$work/out") || fail "recording changed the output"
    [ -s "$work/plain" ] || fail "no output"
    ;;
  *) fail "unknown case" ;;
esac
