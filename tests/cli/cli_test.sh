#!/usr/bin/env bash
# cli_test.sh CASE DDRR DDRR_SYNTH GOLDEN_DIR — one CLI scenario; exits non-zero on failure.
# DDRR_UPDATE_GOLDEN=1 rewrites the golden files instead of comparing.
set -uo pipefail
case_name=$1 ddrr=$2 synth=$3 golden=$4
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL [$case_name]: $*" >&2; exit 1; }
expect_rc() {  # expect_rc WANT CMD...
  local want=$1; shift
  "$@" >"$work/out" 2>"$work/err"; local rc=$?
  [ "$rc" -eq "$want" ] || fail "'$*' exited $rc, want $want; stderr: $(head -3 "$work/err")"
}
# Placeholders: times, durations and addresses vary between recordings of one program.
normalize() {
  sed -E -e 's/ [0-9]+\.[0-9]{9} / <time> /' \
         -e 's/0x[0-9a-f]{6,}/<ptr>/g' \
         -e 's/ [0-9.]+(ns|us|ms|s)$/ <dur>/'
}
check_golden() {  # check_golden NAME < actual
  local name=$1
  normalize >"$work/$name"
  if [ "${DDRR_UPDATE_GOLDEN:-0}" = 1 ]; then cp "$work/$name" "$golden/$name"; return; fi
  diff -u "$golden/$name" "$work/$name" || fail "output differs from golden $name"
}

"$synth" -o "$work/run" -n 3 --steps 4 --seed 7 >/dev/null || fail "ddrr-synth failed"

case $case_name in
  golden_text)
    expect_rc 0 "$ddrr" dump "$work/run" --rank 2 --count 16
    check_golden dump_rank2.txt <"$work/out" ;;
  golden_json_parses)
    expect_rc 0 "$ddrr" dump "$work/run" --json
    python3 - "$work/out" <<'PY' || fail "JSON lines invalid"
import json, sys
lines = open(sys.argv[1]).read().splitlines()
objs = [json.loads(l) for l in lines]
assert len(objs) > 100, len(objs)
assert {o["rank"] for o in objs} == {0, 1, 2}
ar = [o for o in objs if o.get("fn") == "ncclAllReduce"]
assert len(ar) == 3 * 4 * 4, len(ar)
a = ar[0]
assert a["args"]["datatype"] == "ncclFloat32" and a["args"]["op"] == "ncclSum", a
assert a["args"]["sendbuff"]["alloc"] == 1 and a["args"]["comm"]["handle"] == "comm1", a
assert a["result_name"] == "ncclSuccess" and a["op_seq"] == 1, a
seqs = [o["seq"] for o in objs if o["rank"] == 0]
assert seqs == sorted(seqs) and seqs[0] == 1
PY
    ;;
  info_clean)
    expect_rc 0 "$ddrr" info "$work/run"
    grep -q "run .*: 3 rank file(s), world size 3" "$work/out" || fail "no run line"
    [ "$(grep -c 'ended     cleanly (process exit, status 0)' "$work/out")" -eq 3 ] || fail "not clean"
    grep -q "comm      [0-9a-f]\{16\} size 3 rank 1, 16 ops, created by ncclCommInitRank" "$work/out" \
      || fail "comm line missing"
    grep -q "steps     1..4" "$work/out" || fail "steps missing" ;;
  info_killed_rank)
    "$synth" -o "$work/killed" -n 4 --steps 10 --kill-rank 2 --kill-step 6 >/dev/null
    rm "$work/killed/rank-3.ddrr"
    expect_rc 1 "$ddrr" info "$work/killed"
    grep -q "NOT cleanly: no footer" "$work/out" || fail "killed rank not flagged"
    grep -q "rank-2.ddrr: offset [0-9]*: no footer" "$work/out" || fail "no-footer problem missing"
    grep -q "rank 3 of 4: no rank file" "$work/out" || fail "missing rank not reported" ;;
  dump_window)
    expect_rc 0 "$ddrr" dump "$work/run" --rank 0 --from 10 --count 3
    [ "$(wc -l <"$work/out")" -eq 3 ] || fail "want 3 lines"
    head -1 "$work/out" | grep -q '^\[0\] #10 ' || fail "window does not start at seq 10"
    # Handle and allocation names do not depend on the window.
    "$ddrr" dump "$work/run" --rank 0 | grep '^\[0\] #1[012] ' | diff - "$work/out" \
      || fail "windowed lines differ from full dump" ;;
  bad_inputs)
    expect_rc 2 "$ddrr" info "$work/nope"
    grep -q "^ddrr: error: .*nope: no such file or directory" "$work/err" || fail "bad message"
    mkdir "$work/empty"
    expect_rc 2 "$ddrr" info "$work/empty"
    grep -q "no rank-N.ddrr files here" "$work/err" || fail "empty dir message"
    echo "hello" >"$work/notatrace"
    expect_rc 2 "$ddrr" dump "$work/notatrace"
    grep -q "offset 0: not a ddrr trace" "$work/err" || fail "bad magic message"
    # A run directory whose only rank file is not a trace: nothing to analyse, exit 2 everywhere.
    mkdir "$work/junk" && echo "hello" >"$work/junk/rank-0.ddrr"
    for cmd in info dump check; do
      expect_rc 2 "$ddrr" "$cmd" "$work/junk"
      grep -q "no readable rank file in" "$work/err" || fail "$cmd: $(cat "$work/err")"
    done
    expect_rc 2 "$ddrr" dump "$work/run" --rank 7
    expect_rc 2 "$ddrr" dump "$work/run" --count -1
    expect_rc 2 "$ddrr" dump
    expect_rc 2 "$ddrr" frobnicate
    expect_rc 2 "$ddrr" ;;
  damaged_file)
    "$synth" -o "$work/run" -n 3 --steps 4 --seed 7 --frame-bytes 256 >/dev/null
    f="$work/run/rank-1.ddrr"
    size=$(stat -c %s "$f")
    head -c $((size - 200)) "$f" >"$work/cut" && mv "$work/cut" "$f"
    expect_rc 1 "$ddrr" dump "$work/run" --rank 1
    grep -q "ddrr: warning: .*rank-1.ddrr: offset [0-9]*: " "$work/err" || fail "no damage warning"
    [ "$(wc -l <"$work/out")" -gt 0 ] || fail "intact events not printed" ;;
  help)
    # Every command's --help: a usage line, an example, and each option described with its
    # default (or REQUIRED, or a flag); `ddrr --help` lists each command on one line.
    python3 - "$ddrr" <<'PY' || fail "help incomplete"
import re, subprocess, sys
ddrr = sys.argv[1]

def help_of(*args):
    r = subprocess.run([ddrr, *args, "--help"], capture_output=True, text=True)
    assert r.returncode == 0, (args, r.returncode, r.stderr)
    return r.stdout

top = help_of()
assert re.search(r"^Exit codes:$", top, re.M), "no exit codes in ddrr --help"
assert re.search(r"^Examples?:\n  ddrr ", top, re.M), "no example in ddrr --help"
commands = []
for line in top.split("\nSubcommands:\n", 1)[1].splitlines():
    if not line.startswith("  "):
        break
    m = re.match(r"  ([a-z-]+) +(\S.*)$", line)
    assert m and len(line) <= 100, f"not one line per command: {line!r}"
    commands.append(m.group(1))
core = {"info", "import", "dump", "payload", "diff", "check", "watch", "export", "report"}
assert core <= set(commands), f"missing from ddrr --help: {core - set(commands)}"
problems = []
for c in commands:
    text = help_of(c)
    lines = text.splitlines()
    if not re.search(rf"^Usage: ddrr {c} ", text, re.M):
        problems.append(f"{c}: no usage line")
    if not re.search(r"^Examples?:\n  ddrr ", text, re.M):
        problems.append(f"{c}: no example")
    if any(len(l) > 100 for l in lines):
        problems.append(f"{c}: a line over 100 columns")
    group = False
    for i, line in enumerate(lines):
        if line in ("Positionals:", "Options:"):
            group = True
            continue
        if not line.strip():
            group = False
        if not group or not re.match(r"  \S", line):
            continue
        name = line.split()[0]
        described = re.search(r"\S\s{2,}\S", line) or (
            i + 1 < len(lines) and re.match(r" {30}\S", lines[i + 1]))
        if not described:
            problems.append(f"{c} {name}: no description")
        typed = re.match(r"  \S+ [A-Z]{3,}(:|\s|$)", line)  # a flag has no type
        if typed and "[default: " not in line and " REQUIRED" not in line:
            problems.append(f"{c} {name}: no default shown")
assert not problems, "\n".join(problems)
print(f"{len(commands)} commands checked")
PY
    expect_rc 2 "$ddrr" info --no-such-option ;;
  diff_scope_nccl)
    # Communication only: one all-reduce fewer per step is found where the communication goes
    # on differently. Two recordings are compared in full unless asked.
    "$synth" -o "$work/fewer" -n 3 --steps 4 --seed 7 --buckets 3 >/dev/null || fail "synth failed"
    expect_rc 0 "$ddrr" diff "$work/run" "$work/run" --scope nccl
    [ "$(head -1 "$work/out")" = "comparing NCCL communication only (--scope nccl)" ] \
      || fail "no scope line: $(head -1 "$work/out")"
    grep -qx "no difference in 3 rank(s)" "$work/out" || fail "$(cat "$work/out")"
    expect_rc 1 "$ddrr" diff "$work/run" "$work/fewer" --scope nccl --rank 1
    grep -qx "rank 1: first difference at event 14" "$work/out" || fail "$(cat "$work/out")"
    grep -q '^  A \[1\] #[0-9]* .* ncclAllReduce(.* op 13\]' "$work/out" \
      || fail "$(cat "$work/out")"
    grep -q '^  B \[1\] #[0-9]* .* ncclCommDestroy(' "$work/out" || fail "$(cat "$work/out")"
    [ "$(grep -c '^    \[1\] ' "$work/out")" -eq 3 ] || fail "not 3 context lines"
    expect_rc 1 "$ddrr" diff "$work/run" "$work/fewer" --rank 1
    grep -q "comparing" "$work/out" && fail "auto scope of two recordings is not all"
    grep -q "^rank 1: first difference" "$work/out" || fail "$(cat "$work/out")" ;;
  diff_bad_scope)
    expect_rc 2 "$ddrr" diff "$work/run" "$work/run" --scope everything
    grep -q -- "--scope" "$work/err" || fail "error does not name --scope: $(cat "$work/err")"
    [ -s "$work/out" ] && fail "compared anyway: $(cat "$work/out")"
    true ;;
  *) fail "unknown case" ;;
esac
echo "ok [$case_name]"
