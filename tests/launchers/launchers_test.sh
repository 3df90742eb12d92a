#!/usr/bin/env bash
# launchers_test.sh CASE DDRR SAMPLES_DIR HOSTRT_DIR — recording through launchers other than
# `ddrr run`, and one job recorded on several "nodes" (each its own run directory) merged back
# into one run with `ddrr merge`. Everything on the host runtime.
set -uo pipefail
case_name=$1 ddrr=$2 samples=$3 hostrt=$4
source "$(dirname "$0")/../lib.sh"
sgd=("$samples/sgd_allreduce" --steps 6 --log-every 0)

case $case_name in
  mpirun_all_ranks)
    # `ddrr record -- mpirun -n 4`: every rank recorded, its rank and world size from Open MPI's
    # variables, and the run as clean as under `ddrr run`.
    if ! command -v mpirun >/dev/null; then
      echo "SKIP: mpirun is not installed (scripts/setup-deps installs openmpi-bin)"
      exit 77
    fi
    # In a container: processes on this host only (plm isolated: no ssh), no network transport
    # (the program does not use MPI itself), root allowed, more ranks than cores.
    mpi=(mpirun -n 4 --oversubscribe --mca plm isolated --mca btl self)
    [ "$(id -u)" -eq 0 ] && mpi+=(--allow-run-as-root)
    LD_LIBRARY_PATH="$hostrt${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" \
      "$ddrr" record -o "$work/run" -- "${mpi[@]}" "${sgd[@]}" >"$work/out" 2>&1 \
      || fail "record exited $?"
    for r in 0 1 2 3; do [ -f "$work/run/rank-$r.ddrr" ] || fail "no rank-$r.ddrr"; done
    [ "$(ls "$work/run" | wc -l)" -eq 4 ] || fail "not 4 files: $(ls "$work/run")"
    json
    py <<'PY' || fail "rank headers wrong"
inits = {e["rank"]: e for e in ev if e.get("fn") == "ncclCommInitRank"}
assert sorted(inits) == [0, 1, 2, 3], sorted(inits)
for r, e in inits.items():
    assert e["args"]["rank"] == r and e["args"]["nranks"] == 4, e
PY
    "$ddrr" info "$work/run" >"$work/info" 2>&1 || fail "info found problems: $(tail -5 "$work/info")"
    [ "$(grep -c 'ended     cleanly' "$work/info")" -eq 4 ] || fail "not 4 clean ranks"
    for r in 0 1 2 3; do
      grep -q "rank $r of 4" "$work/info" || fail "no 'rank $r of 4' in ddrr info"
    done
    [ "$(grep -c "(rank from OMPI_COMM_WORLD_RANK)" "$work/info")" -eq 4 ] || fail "rank source not Open MPI's"
    "$ddrr" check "$work/run" >"$work/check" 2>&1 || fail "check found problems: $(cat "$work/check")" ;;
  merge_nodes)
    # One 4-rank job whose "nodes" write to their own directories (ranks 0-1 to a, 2-3 to b), as
    # ranks on hosts without a shared filesystem do; a fault gives `ddrr check` something to say.
    "$ddrr" record -o "$work/a" -- "$ddrr" run --host -n 4 -- bash -c \
      '[ "$RANK" -ge 2 ] && export DDRR_OUT='"$work/b"'; exec "$@"' node "${sgd[@]}" \
      --fault skip-collective --fault-rank 2 --fault-step 3 >"$work/out" 2>&1
    [ "$(ls "$work/a")" = "$(printf 'rank-0.ddrr\nrank-1.ddrr')" ] || fail "a holds $(ls "$work/a")"
    [ "$(ls "$work/b")" = "$(printf 'rank-2.ddrr\nrank-3.ddrr')" ] || fail "b holds $(ls "$work/b")"
    mkdir "$work/full" && cp "$work"/a/* "$work"/b/* "$work/full/"
    "$ddrr" check "$work/full" --json >"$work/check.full" 2>&1
    [ $? -eq 1 ] || fail "no finding in the full run"
    # Run directories merged: the rank files byte for byte.
    "$ddrr" merge "$work/a" "$work/b" -o "$work/m1" >"$work/out" 2>&1 || fail "merge exited $?"
    grep -q "merged 4 rank file(s) of run [0-9a-f]* (world size 4) from 2 input(s)" "$work/out" \
      || fail "merge said: $(cat "$work/out")"
    for r in 0 1 2 3; do
      cmp -s "$work/full/rank-$r.ddrr" "$work/m1/rank-$r.ddrr" || fail "rank $r changed"
    done
    # Bundles, one per node, merged: `ddrr check` says what it says of the full run.
    "$ddrr" bundle "$work/a" -o "$work/a.tgz" >/dev/null 2>&1 || fail "bundle a failed"
    "$ddrr" bundle "$work/b" -o "$work/b.tgz" >/dev/null 2>&1 || fail "bundle b failed"
    "$ddrr" merge "$work/a.tgz" "$work/b.tgz" -o "$work/m2" >"$work/out" 2>&1 \
      || fail "merge of bundles exited $?"
    "$ddrr" check "$work/m2" --json >"$work/check.m2" 2>&1
    diff "$work/check.full" "$work/check.m2" >/dev/null \
      || fail "check differs: $(diff "$work/check.full" "$work/check.m2" | head -5)"
    "$ddrr" info "$work/m2" >/dev/null 2>&1 || fail "info finds problems in the merged run"
    # A node's run given twice is the same rank files: copied once.
    "$ddrr" merge "$work/a" "$work/m1" -o "$work/m3" >"$work/out" 2>&1 || fail "overlap refused"
    grep -q "rank 0 is in .* identical: copied once" "$work/out" || fail "no note: $(cat "$work/out")"
    # Half the job: merged, and the missing ranks named.
    "$ddrr" merge "$work/a" -o "$work/m4" >"$work/out" 2>&1 || fail "half a job refused"
    grep -q "rank(s) 2,3 of the world are in no input" "$work/out" || fail "no note: $(cat "$work/out")" ;;
  merge_refused)
    # Inputs that are not parts of one job: refused with one line, exit 4, nothing written.
    record() {  # DIR NRANKS [ARGS]: a job of its own (DDRR_RUN_ID as the caller sets it)
      local dir=$1 n=$2; shift 2
      "$ddrr" record -o "$work/$dir" -- "$ddrr" run --host -n "$n" -- "${sgd[@]}" "$@" \
        >"$work/rec.out" 2>&1 || fail "record $dir exited $?"
    }
    refused() {  # OUT INPUTS... : merge must exit 4 with one line naming what differs
      local out=$1 want=$2; shift 2
      "$ddrr" merge "$@" -o "$work/$out" >"$work/out" 2>&1
      local rc=$?
      [ $rc -eq 4 ] || fail "merge exited $rc, want 4: $(cat "$work/out")"
      [ "$(wc -l <"$work/out")" -eq 1 ] || fail "not one line: $(cat "$work/out")"
      grep -q -- "$want" "$work/out" || fail "no '$want' in: $(cat "$work/out")"
      [ -e "$work/$out" ] && fail "$out was written"
      return 0
    }
    record x 2
    record y 2
    refused o1 "is from run '[0-9a-f]*', .* from run '[0-9a-f]*': not one job" "$work/x" "$work/y"
    # One DDRR_RUN_ID given to both: the same job by its id, but ranks 0 and 1 recorded twice.
    DDRR_RUN_ID=job-7 record p 2
    DDRR_RUN_ID=job-7 record q 2 --seed 5
    refused o2 "rank 0 is in .* with different contents" "$work/p" "$work/q"
    DDRR_RUN_ID=job-7 record w 3
    refused o3 "has world size 3, .* 2: not one job" "$work/p" "$work/w"
    # Input errors: exit 2.
    "$ddrr" merge "$work/nowhere" -o "$work/o4" >"$work/out" 2>&1
    [ $? -eq 2 ] || fail "a missing input is not exit 2: $(cat "$work/out")"
    "$ddrr" merge "$work/x" -o "$work/x" >"$work/out" 2>&1
    [ $? -eq 2 ] || fail "merging into a run is not exit 2: $(cat "$work/out")"
    grep -q "already holds rank files" "$work/out" || fail "said: $(cat "$work/out")" ;;
  *) fail "unknown case" ;;
esac
exit 0
