#!/usr/bin/env bash
# python_test.sh CASE DDRR PYTHON_DIR — one scenario of ddrr's Python package (python/ddrr) on the
# host runtime: outside ddrr, recorded (`ddrr record -- ddrr run --host`), and re-run against its
# recording (`ddrr replay RUN --host --ranks R -- python3 PROG`). rank_prog.py calls the CUDA
# runtime through ctypes; torch_prog.py drives ddrr.torch through the fake torch in fake_torch/.
# numpy's generator is covered when numpy is importable.
set -uo pipefail
case_name=$1 ddrr=$2 pydir=$3
source "$(dirname "$0")/../lib.sh"
here=$(cd "$(dirname "$0")" && pwd)
export PYTHONPATH="$pydir" PYTHONHASHSEED=0
prog=(python3 "$here/rank_prog.py" --steps 3)
torch_prog=(python3 "$here/torch_prog.py" --steps 3)
has_numpy=$(python3 -c 'import numpy' 2>/dev/null && echo 1 || echo 0)
has() { grep -qF -- "$1" "$2" || fail "no '$1' in $2: $(tail -5 "$2")"; }

# replay WANT_RC OUT RANKS [replay options] -- PROGRAM ARGS: into $work/OUT, output in OUT.out.
replay() {
  local want=$1 out=$2 ranks=$3; shift 3
  local opts=()
  while [ "$1" != "--" ]; do opts+=("$1"); shift; done
  shift
  "$ddrr" replay "$work/run" --host --ranks "$ranks" --timeout 20 -o "$work/$out" "${opts[@]}" \
    -- "$@" >"$work/$out.out" 2>&1
  local rc=$?
  [ "$rc" -eq "$want" ] || { cp "$work/$out.out" "$work/out"; fail "replay exited $rc, want $want"; }
}
# The line rank R printed: recorded and replayed.
line_of() { grep -o "rank $1: sum=.*" "$2" | sed 's/ enabled=.*//'; }

case $case_name in
  api)
    # Outside ddrr: every call a no-op, failures caught, states serialised exactly.
    python3 "$here/api_test.py" >"$work/out" 2>&1 || fail "api_test.py failed"
    # A rank program run without the recorder: the same calls, nothing recorded, no output.
    "$ddrr" run --host -n 2 -- "${prog[@]}" >"$work/out" 2>&1 || fail "unrecorded run failed"
    has "rank 1: sum=" "$work/out"
    has "rng= enabled=0" "$work/out"
    grep -q "ddrr: warning" "$work/out" && fail "a warning outside ddrr: $(cat "$work/out")"
    "${torch_prog[@]}" >"$work/out" 2>&1 || fail "torch_prog failed outside ddrr"
    has "installed: False" "$work/out"
    grep -q "^set_rng_state" "$work/out" && fail "states set outside ddrr" ;;
  record)
    # Every rank's marks and RNG states are in its trace: the state before each step's draw.
    "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 2 -- "${prog[@]}" >"$work/out" 2>&1 \
      || fail "record exited $?"
    has "enabled=1" "$work/out"
    "$ddrr" info "$work/run" >"$work/info" 2>&1 || fail "info found problems"
    [ "$(grep -c 'ended     cleanly' "$work/info")" -eq 2 ] || fail "not 2 clean ranks"
    "$ddrr" dump "$work/run" --rank 1 >"$work/dump.txt" || fail "dump failed"
    has "rng \"python.random\"" "$work/dump.txt"
    json
    HAS_NUMPY=$has_numpy py <<'PY' || fail "marks or RNG states wrong"
import json, os, random, sys
import ddrr.rng as rng
ev = [json.loads(l) for l in open(sys.argv[1])]
numpy = None
if os.environ["HAS_NUMPY"] == "1":
    import numpy
for r in (0, 1):
    mine = [e for e in ev if e["rank"] == r]
    marks = [(e["label"], e["step"]) for e in mine if e["type"] == "mark"]
    assert marks == [("step", 0), ("step", 1), ("step", 2)], marks
    names = [e["name"] for e in mine if e["type"] == "rng"]
    per_step = ["python.random"] + (["numpy.random"] if numpy else [])
    assert names == per_step * 3, names
    # Each state is the generator's before the step's draw: seeded with 100 + rank (--seed 1).
    g = random.Random(100 + r)
    if numpy:
        numpy.random.seed(2 + r)
    states = [e["state"] for e in mine if e["type"] == "rng"]
    for step in range(3):
        at = step * len(per_step)
        assert states[at] == rng.python_random_state(g).hex(), (r, step)
        g.random()
        if numpy:
            assert states[at + 1] == rng.numpy_random_state(numpy).hex(), (r, step)
            numpy.random.random()
    # A mark comes before that step's states and its CUDA copies.
    seqs = [(e["seq"], e["type"], e.get("fn", "")) for e in mine]
    first_mark = next(i for i, s in enumerate(seqs) if s[1] == "mark")
    assert any(s[2] == "cudaMalloc" for s in seqs[:first_mark]), seqs[:first_mark]
    assert any(s[2] == "cudaMemcpy" for s in seqs[first_mark:]), seqs
PY
    ;;
  replay_reproduces)
    # The program re-run against its recording, one rank alone and every rank: as recorded.
    "$ddrr" record --level payloads -o "$work/run" -- "$ddrr" run --host -n 2 -- "${prog[@]}" \
      >"$work/rec.out" 2>&1 || fail "record exited $?"
    replay 0 one 1 -- "${prog[@]}"
    has "rank 1: replayed as recorded" "$work/one.out"
    want=$(line_of 1 "$work/rec.out") got=$(line_of 1 "$work/one.out")
    [ -n "$want" ] && [ "$want" = "$got" ] || fail "rank 1 printed '$got', recorded '$want'"
    "$ddrr" diff "$work/run" "$work/one" >"$work/diff.out" 2>&1
    grep -q "^rank 1:" "$work/diff.out" && fail "diff finds a difference: $(cat "$work/diff.out")"
    replay 0 all all -- "${prog[@]}"
    [ "$(grep -c 'replayed as recorded' "$work/all.out")" -eq 2 ] || fail "not 2 ranks reproduced" ;;
  replay_rng_changed)
    # Another seed is caught at the first state; --restore-rng hands the recorded states back
    # and the program draws what it drew when recorded.
    "$ddrr" record --level payloads -o "$work/run" -- "$ddrr" run --host -n 2 -- "${prog[@]}" \
      >"$work/rec.out" 2>&1 || fail "record exited $?"
    replay 1 changed 0 -- "${prog[@]}" --seed 7
    has "rank 0: diverged" "$work/changed.out"
    has "RNG state 'python.random' differs" "$work/changed.out"
    replay 0 restored 0 --restore-rng -- "${prog[@]}" --seed 7
    want=$(line_of 0 "$work/rec.out") got=$(line_of 0 "$work/restored.out")
    [ -n "$want" ] && [ "$want" = "$got" ] || fail "restored rank 0 printed '$got', recorded '$want'" ;;
  torch_hooks)
    # ddrr.torch on the fake torch: one mark per optimizer step, each optimizer counted apart,
    # the global hook registered once; states of the CPU, both CUDA devices and random.
    "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 1 -- "${torch_prog[@]}" \
      >"$work/rec.out" 2>&1 || fail "record exited $?"
    has "installed: True once: True" "$work/rec.out"
    json
    HAS_NUMPY=$has_numpy py <<'PY' || fail "marks or RNG states wrong"
marks = [(e["label"], e["step"]) for e in ev if e["type"] == "mark"]
assert marks == [("optimizer.step", s) for s in (1, 1, 2, 2, 3, 3)], marks
names = [e["name"] for e in ev if e["type"] == "rng"]
per_step = ["torch.cpu", "torch.cuda.0", "torch.cuda.1", "python.random"]
assert names == per_step * 6, names
cpu = [e["state"] for e in ev if e.get("name") == "torch.cpu"]
assert len(set(cpu)) == 6, cpu  # each step drew from the generator
PY
    # Hooked on one optimizer only: its steps alone are marked.
    "$ddrr" record -o "$work/run1" -- "$ddrr" run --host -n 1 -- "${torch_prog[@]}" \
      --mode optimizer >"$work/out" 2>&1 || fail "record of --mode optimizer exited $?"
    "$ddrr" dump "$work/run1" --json | grep -c '"type":"mark"' >"$work/marks"
    [ "$(cat "$work/marks")" -eq 3 ] || fail "$(cat "$work/marks") marks, want 3"
    # Replayed with another seed: caught; with --restore-rng every generator gets its recorded
    # state at each step, and the program ends in the recorded states.
    replay 1 changed 0 -- "${torch_prog[@]}" --seed 9
    has "RNG state 'torch.cpu' differs" "$work/changed.out"
    replay 0 restored 0 --restore-rng -- "${torch_prog[@]}" --seed 9
    [ "$(grep -c '^\[rank 0\] set_rng_state cpu' "$work/restored.out")" -eq 6 ] \
      || fail "CPU state not set at each of 6 steps"
    [ "$(grep -c '^\[rank 0\] set_rng_state cuda.1' "$work/restored.out")" -eq 6 ] \
      || fail "CUDA device 1's state not set at each of 6 steps"
    want=$(grep -o 'final cpu=.*' "$work/rec.out") got=$(grep -o 'final cpu=.*' "$work/restored.out")
    [ "$want" = "$got" ] || fail "restored run ends in '$got', recorded '$want'" ;;
  *) fail "unknown case" ;;
esac
exit 0
