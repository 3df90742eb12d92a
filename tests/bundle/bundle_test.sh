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
  bundle_sample)
    # A faulty job with a planted secret, bundled both ways: the secret is nowhere in what tar
    # and unzip extract, the run is untouched, and every command reads the bundle as the run.
    env NCCL_IB_AUTH_TOKEN=hunter2-planted "$ddrr" record -o "$work/run" -- \
      "$ddrr" run --host -n 4 -- "$samples/sgd_allreduce" --steps 6 --fault wrong-count \
      >"$work/out" 2>&1
    (cd "$work/run" && sha256sum rank-*.ddrr) >"$work/before"
    "$ddrr" bundle "$work/run" -o "$work/bug.tgz" >"$work/out" 2>&1 || fail "bundle exited $?"
    grep -q "wrote $work/bug.tgz: 4 rank file(s), report.md, timeline.perfetto-trace, manifest.json; [0-9.]* kB" \
      "$work/out" || fail "summary: $(cat "$work/out")"
    grep -q "redacted: the values of NCCL_IB_AUTH_TOKEN" "$work/out" || fail "redaction not said"
    grep -q "this one fits" "$work/out" || fail "size not judged"
    "$ddrr" bundle "$work/run" -o "$work/bug.zip" --redact hosts,cmdline >"$work/out" 2>&1 \
      || fail "zip bundle exited $?"
    (cd "$work/run" && sha256sum rank-*.ddrr) | cmp -s - "$work/before" || fail "the run changed"
    mkdir "$work/t" "$work/z"
    tar -C "$work/t" -xzf "$work/bug.tgz" || fail "tar cannot extract the bundle"
    python3 -m zipfile -e "$work/bug.zip" "$work/z" || fail "unzip cannot extract the bundle"
    for d in t z; do
      grep -rq "hunter2-planted" "$work/$d" && fail "the secret is in the $d bundle"
      [ "$(ls "$work/$d/bug/run" | wc -l)" -eq 4 ] || fail "$d: not 4 rank files"
      (cd "$work/$d/bug" && python3 - <<'PY') || fail "$d: manifest does not match the files"
import hashlib, json
m = json.load(open("manifest.json"))
assert m["redacted"]["env"] == ["NCCL_IB_AUTH_TOKEN"], m["redacted"]
names = sorted(f["name"] for f in m["files"])
assert names == sorted(["report.md", "timeline.perfetto-trace"] +
                       ["run/rank-%d.ddrr" % r for r in range(4)]), names
for f in m["files"]:
    data = open(f["name"], "rb").read()
    assert len(data) == f["bytes"] and hashlib.sha256(data).hexdigest() == f["sha256"], f["name"]
PY
    done
    hostname_now=$(hostname)
    grep -rq -- "$hostname_now" "$work/z/bug/run" && fail "--redact hosts left the host name"
    grep -q "hunter2-planted" "$work/run/rank-0.ddrr" || fail "the original lost its header"
    grep -q '^ddrr check bug.tgz$' "$work/t/bug/report.md" || fail "the report does not name the bundle"
    grep -q '^ddrr replay bug.zip --host' "$work/z/bug/report.md" ||
      fail "the report's replay command does not name the bundle"
    # A bundle replays as it is, comm replay and the program itself alike.
    "$ddrr" replay "$work/bug.tgz" --host --timeout 8 >"$work/r_b" 2>&1 ||
      fail "comm replay of the bundle: $(tail -3 "$work/r_b")"
    "$ddrr" check "$work/run" >"$work/c_run" 2>/dev/null; rc_run=$?
    for b in bug.tgz bug.zip; do
      "$ddrr" check "$work/$b" >"$work/c_b" 2>/dev/null; rc_b=$?
      [ $rc_run -eq $rc_b ] || fail "check $b exited $rc_b, the run $rc_run"
      cmp -s "$work/c_run" "$work/c_b" || fail "check $b differs: $(diff "$work/c_run" "$work/c_b" | head)"
    done
    for cmd in export report; do
      "$ddrr" $cmd "$work/bug.tgz" -o "$work/from-bundle.$cmd" >"$work/out" 2>&1 \
        || fail "$cmd cannot read the bundle: $(cat "$work/out")"
    done
    "$ddrr" info "$work/bug.tgz" >"$work/out" 2>&1; [ $? -le 1 ] || fail "info of the bundle"
    "$ddrr" dump "$work/bug.tgz" --rank 0 --count 3 >"$work/out" 2>&1 || fail "dump of the bundle"
    "$ddrr" diff "$work/run" "$work/bug.zip" >"$work/out" 2>&1 || fail "the bundle differs: $(head "$work/out")" ;;
  bundle_hostile)
    # Archives that try to write outside: each refused with exit 2, nothing written outside,
    # no temporary folder left.
    mkdir -p "$work/tmp" "$work/outside"
    python3 - "$work" <<'PY' || fail "could not make the hostile archives"
import io, sys, tarfile, zipfile
w = sys.argv[1]
def tgz(name, *infos):
    with tarfile.open("%s/%s.tgz" % (w, name), "w:gz", format=tarfile.PAX_FORMAT) as t:
        for info, data in infos:
            t.addfile(info, io.BytesIO(data) if data is not None else None)
def reg(path, data=b"evil"):
    i = tarfile.TarInfo(path); i.size = len(data); return i, data
def link(path, target):
    i = tarfile.TarInfo(path); i.type = tarfile.SYMTYPE; i.linkname = target; return i, None
tgz("dotdot", reg("b/rank-0.ddrr"), reg("b/../../escaped"))
tgz("absolute", reg(w + "/escaped"))
tgz("symlink", link("b/out", w + "/outside"), reg("b/out/escaped"))
with zipfile.ZipFile(w + "/slip.zip", "w") as z:
    z.writestr("b/rank-0.ddrr", b"x")
    z.writestr("../escaped", b"evil")
PY
    truncate -s 10G "$work/rank-0.ddrr"
    tar -C "$work" -cSzf "$work/sparse.tgz" rank-0.ddrr || fail "tar --sparse failed"
    rm -f "$work/rank-0.ddrr"
    [ "$(stat -c %s "$work/sparse.tgz")" -lt 1000000 ] || fail "the sparse archive is not small"
    for a in dotdot.tgz absolute.tgz symlink.tgz slip.zip sparse.tgz; do
      TMPDIR="$work/tmp" "$ddrr" check "$work/$a" >"$work/out" 2>&1; rc=$?
      [ $rc -eq 2 ] || fail "$a: exit $rc, not 2: $(cat "$work/out")"
      grep -q "^ddrr: error: $work/$a: .*refused, nothing extracted" "$work/out" \
        || fail "$a: $(cat "$work/out")"
      [ -e "$work/escaped" ] || [ -e "$(dirname "$work")/escaped" ] || [ -e "$work/outside/escaped" ] \
        && fail "$a wrote outside"
      [ -z "$(ls -A "$work/tmp")" ] || fail "$a left $(ls "$work/tmp")"
    done
    grep -q "over the limit" <(TMPDIR="$work/tmp" "$ddrr" info "$work/sparse.tgz" 2>&1) \
      || fail "the 10 GB member is not refused for its size" ;;
  bundle_bad_inputs)
    record
    "$ddrr" bundle "$work/run" -o "$work/bug.tar.zst" >"$work/out" 2>&1
    [ $? -eq 2 ] || fail "a .tar.zst bundle did not exit 2"
    grep -q "GitHub takes .tgz, .tar.gz or .zip" "$work/out" || fail "$(cat "$work/out")"
    "$ddrr" bundle "$work/run" -o "$work/no/dir/bug.tgz" >"$work/out" 2>&1
    [ $? -eq 2 ] || fail "an unwritable bundle did not exit 2"
    grep -q "ddrr: error: cannot write $work/no/dir/bug.tgz" "$work/out" || fail "$(cat "$work/out")"
    "$ddrr" bundle "$work/run" -o "$work/bug.tgz" --redact emails >"$work/out" 2>&1
    [ $? -eq 2 ] || fail "--redact emails did not exit 2"
    "$ddrr" bundle "$work/run" -o "$work/bug.tgz" --ranks 9 >"$work/out" 2>&1
    [ $? -eq 2 ] || fail "--ranks 9 of 4 did not exit 2"
    grep -q "no rank file for rank 9" "$work/out" || fail "$(cat "$work/out")"
    "$ddrr" bundle "$work/run" -o "$work/two.zip" --ranks 1-2 --no-timeline >"$work/out" 2>&1 \
      || fail "--ranks 1-2 exited $?"
    [ "$(python3 -c 'import sys,zipfile; print(" ".join(sorted(zipfile.ZipFile(sys.argv[1]).namelist())))' "$work/two.zip")" \
      = "two/manifest.json two/report.md two/run/rank-1.ddrr two/run/rank-2.ddrr" ] \
      || fail "--ranks 1-2 --no-timeline holds the wrong files"
    echo "not an archive" >"$work/junk.tgz"
    "$ddrr" check "$work/junk.tgz" >"$work/out" 2>&1
    [ $? -eq 2 ] || fail "a junk .tgz did not exit 2" ;;
  bundle_live_rank_refused)
    "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 2 -- "$samples/sgd_allreduce" \
      --steps 100000000 >"$work/out" 2>&1 &
    job=$!
    for _ in $(seq 100); do [ -e "$work/run/rank-1.spool" ] && break; sleep 0.1; done
    [ -e "$work/run/rank-1.spool" ] || { kill $job; fail "the job did not start"; }
    "$ddrr" bundle "$work/run" -o "$work/bug.tgz" >"$work/bout" 2>&1; rc=$?
    kill -TERM $job; wait $job
    [ $rc -eq 2 ] || fail "bundling a live run exited $rc: $(cat "$work/bout")"
    grep -q "are still running" "$work/bout" || fail "$(cat "$work/bout")"
    [ -e "$work/bug.tgz" ] && fail "a bundle of a live run was written" ;;
  bundle_over_the_limit)
    "$(dirname "$ddrr")/ddrr-synth" -o "$work/run" -n 64 --steps 1200 >"$work/out" 2>&1 \
      || fail "synth: $(cat "$work/out")"
    "$ddrr" bundle "$work/run" -o "$work/big.tgz" >"$work/out" 2>&1 || fail "bundle exited $?"
    grep -q "big.tgz is over the 25 MB GitHub takes for an attachment: bundle fewer ranks with --ranks" \
      "$work/out" || fail "no advice: $(cat "$work/out")"
    grep -q -- "--no-timeline" "$work/out" || fail "the timeline is not named"
    grep -q -- "--steps A-B" "$work/out" || fail "--steps is not named" ;;
  bundle_steps)
    # Steps 2-3 of 6: a smaller bundle that check reads as it reads the run, and that holds the
    # setup and the window's marks only.
    "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 4 -- "$samples/sgd_allreduce" \
      --steps 12 >"$work/out" 2>&1 || fail "record exited $?"
    "$ddrr" bundle "$work/run" -o "$work/all.tgz" --no-timeline >"$work/out" 2>&1 \
      || fail "bundle exited $?: $(cat "$work/out")"
    "$ddrr" bundle "$work/run" -o "$work/win.tgz" --no-timeline --steps 2-3 >"$work/out" 2>&1 \
      || fail "bundle --steps exited $?: $(cat "$work/out")"
    grep -q "^steps 2-3: [0-9]* event(s) kept, [1-9][0-9]* cut$" "$work/out" \
      || fail "no steps summary: $(cat "$work/out")"
    mkdir -p "$work/a" "$work/w"
    tar -C "$work/a" -xzf "$work/all.tgz" && tar -C "$work/w" -xzf "$work/win.tgz" || fail "tar"
    all=$(cat "$work"/a/all/run/*.ddrr | wc -c) win=$(cat "$work"/w/win/run/*.ddrr | wc -c)
    [ "$win" -lt "$all" ] || fail "the window's rank files ($win bytes) are not smaller ($all)"
    python3 - "$work/w/win/manifest.json" <<'PY' || fail "the manifest does not say what was cut"
import json, sys
s = json.load(open(sys.argv[1]))["steps"]
assert s["first"] == 2 and s["last"] == 3 and s["events_cut"] > 0 and s["events_kept"] > 0, s
PY
    "$ddrr" check "$work/win.tgz" >"$work/c_win" 2>&1; rc=$?
    [ $rc -eq 0 ] || fail "check of the window exited $rc: $(cat "$work/c_win")"
    "$ddrr" dump "$work/win.tgz" --json >"$work/dump" 2>&1 || fail "dump of the window"
    python3 - "$work/dump" <<'PY' || fail "the window's dump is wrong"
import json, sys, collections
ev = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
steps = collections.Counter(e["step"] for e in ev if e.get("type") == "mark")
assert sorted(steps) == [2, 3] and set(steps.values()) == {4}, steps
names = collections.Counter(e["fn"] for e in ev if e.get("type") == "call")
inits = sum(n for fn, n in names.items() if fn.startswith("ncclCommInit"))
assert inits == 4, names                              # the setup is there
assert names["ncclAllReduce"] in (8, 12), names       # 2 steps x 4 ranks, and one before the loop
PY
    "$ddrr" bundle "$work/run" -o "$work/none.tgz" --steps 50-60 >"$work/out" 2>&1
    [ $? -eq 2 ] || fail "a window with no marks did not exit 2"
    grep -q "no rank marked a step in 50-60" "$work/out" || fail "$(cat "$work/out")"
    "$ddrr" bundle "$work/run" -o "$work/bad.tgz" --steps 3-1 >"$work/out" 2>&1
    [ $? -eq 2 ] || fail "--steps 3-1 did not exit 2" ;;
  *) fail "unknown case" ;;
esac
exit 0
