#!/usr/bin/env bash
# record_test.sh CASE DDRR SAMPLES_DIR LIBDDRR PROBE HOSTRT_DIR — one recording scenario on the
# host runtime.
set -uo pipefail
case_name=$1 ddrr=$2 samples=$3 lib=$4 probe=$5 hostrt=$6
source "$(dirname "$0")/../lib.sh"
# The probe recorded alone (rank 0 of 1) on the host runtime into $work/run, its output in
# $work/out.
record_probe() {
  RANK=0 WORLD_SIZE=1 LD_LIBRARY_PATH="$hostrt" "$ddrr" record -o "$work/run" -- "$probe" "$@" \
    >"$work/out" 2>&1
}

case $case_name in
  sgd_all_ranks_recorded)
    "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 4 -- "$samples/sgd_allreduce" \
      --steps 6 >"$work/out" 2>&1 || fail "record exited $?"
    "$ddrr" info "$work/run" >"$work/info" || fail "info found problems: $(tail -5 "$work/info")"
    [ "$(grep -c 'ended     cleanly (process exit' "$work/info")" -eq 4 ] || fail "not 4 clean ranks"
    [ "$(grep -o 'comm      [0-9a-f]* size 4' "$work/info" | sort -u | wc -l)" -eq 1 ] \
      || fail "ranks disagree on the communicator key"
    json
    py <<'PY' || fail "recorded calls wrong"
calls = [e for e in ev if e["type"] == "call"]
by_rank = collections.defaultdict(list)
for c in calls: by_rank[c["rank"]].append(c)
assert sorted(by_rank) == [0, 1, 2, 3], sorted(by_rank)
for r, cs in by_rank.items():
    fns = [c["fn"] for c in cs]
    assert fns.count("ncclCommInitRank") == 1, fns
    init = next(c for c in cs if c["fn"] == "ncclCommInitRank")
    assert init["args"]["nranks"] == 4 and init["args"]["rank"] == r, init
    assert init["result_name"] == "ncclSuccess"
    bc = [c for c in cs if c["fn"] == "ncclBroadcast"]
    assert bc and bc[0]["args"]["root"] == 0, bc[:1]
    ar = [c for c in cs if c["fn"] == "ncclAllReduce"]
    assert len(ar) >= 6, len(ar)
    assert all(c["args"]["datatype"] == "ncclFloat32" and c["args"]["op"] == "ncclSum" for c in ar)
    ops = [c["op_seq"] for c in cs if c["fn"] in ("ncclBroadcast", "ncclAllReduce")]
    assert ops == list(range(1, len(ops) + 1)), ops
    nccl = [f for f in fns if f.startswith("nccl")]
    assert nccl[-2:] == ["ncclCommFinalize", "ncclCommDestroy"], nccl[-3:]  # ends with teardown
counts = {r: sum(c["fn"] == "ncclAllReduce" for c in cs) for r, cs in by_rank.items()}
assert len(set(counts.values())) == 1, counts
# Completion tracking: every collective completed once, after it was issued, on its comm.
for r in by_rank:
    colls = {e["seq"]: e for e in ev if e["rank"] == r and e.get("fn") in ("ncclBroadcast", "ncclAllReduce")}
    done = [e for e in ev if e["rank"] == r and e["type"] == "completion"]
    assert sorted(d["call_seq"] for d in done) == sorted(colls), (r, len(done), len(colls))
    for d in done:
        c = colls[d["call_seq"]]
        assert d["seq"] > c["seq"] and d["comm_key"] == c["comm_key"] and d["op_seq"] == c["op_seq"]
        assert d["error"] == 0
PY
    ;;
  output_unchanged)
    "$ddrr" run --host -n 3 -- "$samples/sgd_allreduce" --steps 8 --seed 3 >"$work/plain" 2>&1 \
      || fail "plain run failed"
    "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 3 -- "$samples/sgd_allreduce" \
      --steps 8 --seed 3 >"$work/out" 2>&1 || fail "recorded run failed"
    a=$(grep -o 'weights_hash=[0-9a-f]*' "$work/plain" | sort -u)
    b=$(grep -o 'weights_hash=[0-9a-f]*' "$work/out" | sort -u)
    [ -n "$a" ] && [ "$a" = "$b" ] || fail "recording changed the result: $a vs $b" ;;
  record_summary)
    # What `ddrr record` says at the end: how much, and what was lost.
    "$ddrr" record -o "$work/none" -- true >"$work/out" 2>&1 || fail "record of true failed"
    grep -q "ddrr: nothing was recorded in" "$work/out" || fail "empty run not said: $(cat "$work/out")"
    record_probe threads 2 100 || fail "record failed"
    grep -q "ddrr: recorded 1 rank file(s), [0-9]* events" "$work/out" || fail "$(cat "$work/out")"
    grep -q "ddrr: note:" "$work/out" && fail "notes on a clean run: $(cat "$work/out")"
    # 3.2 M calls into a 1 MiB spool: on an idle machine the sealer keeps up with 320 k of them.
    RANK=0 WORLD_SIZE=1 LD_LIBRARY_PATH="$hostrt" DDRR_SPOOL_MB=1 "$ddrr" record -o "$work/full" \
      -- "$probe" threads 16 200000 >"$work/out" 2>&1 || fail "record failed"
    grep -q "ddrr: note: rank 0 dropped [0-9]* events: its spool was full" "$work/out" \
      || fail "dropped events not said: $(tail -3 "$work/out")" ;;
  tour_comm_keys_align)
    "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 4 -- "$samples/collectives_tour" \
      >"$work/out" 2>&1 || fail "record exited $?"
    # The halves are split from the world: info knows their size and each member's rank too.
    "$ddrr" info "$work/run" >"$work/info" || fail "info found problems"
    [ "$(grep -c 'size 2 rank [01], [0-9]* ops, created by ncclCommSplit' "$work/info")" -eq 4 ] \
      || fail "split communicators without size or rank: $(grep ncclCommSplit "$work/info")"
    json
    py <<'PY' || fail "communicator keys or op numbers do not align"
ops = collections.defaultdict(dict)   # comm_key -> rank -> [(op_seq, fn)]
for e in ev:
    if e["type"] == "call" and e.get("op_seq"):
        ops[e["comm_key"]].setdefault(e["rank"], []).append((e["op_seq"], e["fn"]))
assert len(ops) >= 3, list(ops)                       # world + split halves + second comm
for key, ranks in ops.items():
    seqs = list(ranks.values())
    for s in seqs:
        assert [o for o, _ in s] == list(range(1, len(s) + 1)), (key, s[:5])
    colls = [[f for _, f in s if f not in ("ncclSend", "ncclRecv")] for s in seqs]
    assert all(c == colls[0] for c in colls), (key, [len(c) for c in colls])
# Completions name a collective or p2p call outside a group, or the group's ncclGroupEnd.
by_seq = {(e["rank"], e["seq"]): e for e in ev}
done = [e for e in ev if e["type"] == "completion"]
assert done, "no completions"
for d in done:
    c = by_seq[(d["rank"], d["call_seq"])]
    assert c.get("fn") == "ncclGroupEnd" or (c.get("op_seq") and not c.get("group_depth")), c
assert any(by_seq[(d["rank"], d["call_seq"])]["fn"] == "ncclGroupEnd" for d in done)
PY
    ;;
  exports_only_api)
    # The intercepted API, ddrr's C API, the entropy hooks (src/interpose/entropy.cc), the
    # launch counters (launches.cc) and the dlsym hook (dl_hooks.cc).
    hooks="getrandom getentropy syscall open open64 openat openat64 __open_2 __open64_2 __openat_2
      __openat64_2 read __read_chk close _ZNSt13random_device9_M_getvalEv
      _ZNSt13random_device13_M_getval_pretrEv arc4random arc4random_buf arc4random_uniform
      __cudaLaunchKernel __cudaLaunchKernel_ptsz dlsym"
    hook_re="^($(echo $hooks | tr ' ' '|'))\$"
    # Read once into files: `nm | grep -q` under pipefail fails when grep exits before nm ends.
    nm -D --defined-only "$lib" >"$work/syms" || fail "nm failed"
    readelf -rW "$lib" >"$work/relocs" || fail "readelf failed"
    bad=$(awk '{print $3}' "$work/syms" | grep -vE '^(nccl|cuda|curand|ddrr_)' \
      | grep -vE "$hook_re" | grep -vE '^(_init|_fini)$')
    for h in $hooks; do
      grep -q " $h\$" "$work/syms" || fail "hook $h not exported"
    done
    # libddrr's own lookups call the real dlsym (RealDlsym): a relocation against dlsym would be
    # a call into the hook from inside libddrr.
    grep -qE ' dlsym(@| |$)' "$work/relocs" && fail "libddrr calls its own dlsym hook"
    [ -z "$bad" ] || fail "exports beyond the API: $(echo $bad | head -c 300)"
    grep -q ' pnccl' "$work/syms" && fail "exports pnccl* (would shadow NCCL)"
    [ "$(grep -c ' nccl' "$work/syms")" -eq 41 ] || fail "not 41 NCCL functions"
    for f in ddrr_mark ddrr_record_rng ddrr_enabled cudaMalloc curandGenerateNormal; do
      grep -q " $f\$" "$work/syms" || fail "$f not exported"
    done
    ldd "$lib" | grep -q protobuf && fail "libddrr.so loads libprotobuf"
    true ;;
  unwritable_dir_passes_through)
    mkdir "$work/ro" && chmod 500 "$work/ro"
    [ "$(id -u)" -eq 0 ] && target=/proc/ddrr-cannot-write || target="$work/ro/run"
    "$ddrr" run --host -n 2 -- "$samples/sgd_allreduce" --steps 4 >"$work/plain" 2>&1
    LD_PRELOAD="$lib" DDRR_OUT="$target" "$ddrr" run --host -n 2 -- \
      "$samples/sgd_allreduce" --steps 4 >"$work/out" 2>&1 || fail "job failed: exit $?"
    [ "$(grep -c 'ddrr WARN cannot record' "$work/out")" -eq 2 ] || fail "want one warning per rank"
    diff <(grep -o 'weights_hash=.*' "$work/plain") <(grep -o 'weights_hash=.*' "$work/out") \
      || fail "output changed" ;;
  bad_variable_passes_through)
    LD_PRELOAD="$lib" DDRR_OUT="$work/run" DDRR_SPOOL_MB=lots "$ddrr" run --host -n 2 -- \
      "$samples/sgd_allreduce" --steps 3 >"$work/out" 2>&1 || fail "job failed: exit $?"
    grep -q "DDRR_SPOOL_MB=lots is not a size" "$work/out" || fail "no warning"
    grep -q "final loss" "$work/out" || fail "job did not finish" ;;
  split_shape_recorded)
    # A split's new communicator: its size and this rank's place in it, asked of NCCL as the
    # call returned, so one rank file alone tells them.
    "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 4 -- "$samples/collectives_tour" \
      >"$work/out" 2>&1 || fail "record exited $?"
    json
    py <<'PY' || fail "split shapes not recorded"
splits = [e for e in ev if e["type"] == "call" and e["fn"] == "ncclCommSplit"]
assert len(splits) == 4, len(splits)
by_key = collections.defaultdict(list)
for s in splits:
    assert s["created_nranks"] == 2, s
    by_key[s["comm_key"]].append(s["created_rank"])
assert sorted(sorted(v) for v in by_key.values()) == [[0, 1], [0, 1]], by_key
PY
    mkdir "$work/one" && cp "$work/run/rank-1.ddrr" "$work/one/"
    "$ddrr" info "$work/one" >"$work/info" 2>&1  # exit 1: the other rank files are missing
    grep -q "size 2 rank [01], .* created by ncclCommSplit" "$work/info" ||
      fail "one rank file does not tell its split's size: $(cat "$work/info")" ;;
  seal_idle_bad_value)
    LD_PRELOAD="$lib" DDRR_OUT="$work/run" DDRR_SEAL_IDLE_MS=0 "$ddrr" run --host -n 2 -- \
      "$samples/sgd_allreduce" --steps 3 >"$work/out" 2>&1 || fail "job failed: exit $?"
    grep -q "DDRR_SEAL_IDLE_MS=0" "$work/out" || fail "no warning: $(head -3 "$work/out")"
    grep -q "final loss" "$work/out" || fail "job did not finish" ;;
  rank_file_current)
    # The sealer writes what the spool holds into the rank file within DDRR_SEAL_IDLE_MS: the
    # rank files alone (no spool, as a reader on another host may see them) hold every event of
    # a rank that has gone quiet.
    trap 'pkill -9 -f -- "--seed 7130009$"; rm -rf "$work"' EXIT
    DDRR_SEAL_IDLE_MS=200 "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 3 -- \
      "$samples/sgd_allreduce" --steps 20 --log-every 0 --fault stall --fault-rank 2 \
      --fault-step 3 --seed 7130009 >"$work/out" 2>&1 &
    for _ in $(seq 100); do grep -q "stalling before" "$work/out" && break; sleep 0.1; done
    grep -q "stalling before" "$work/out" || fail "the fault did not fire: $(tail -3 "$work/out")"
    sleep 1
    mkdir "$work/copy" && cp "$work/run"/rank-*.ddrr "$work/copy/"
    live=$("$ddrr" dump "$work/run" --rank 2 2>/dev/null | grep -c '^\[2\] #')
    copied=$("$ddrr" dump "$work/copy" --rank 2 2>/dev/null | grep -c '^\[2\] #')
    [ "$live" -gt 10 ] && [ "$copied" -eq "$live" ] ||
      fail "the rank file holds $copied of the $live events recorded" ;;
  killed_rank_salvaged)
    ( "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 3 -- "$samples/sgd_allreduce" \
        --steps 1000000 --log-every 1000 --seed 7130002 >"$work/out" 2>&1; echo $? >"$work/rc" ) &
    for _ in $(seq 300); do grep -q 'step 2000 ' "$work/out" 2>/dev/null && break; sleep 0.1; done
    victim=$(pgrep -f "^[^ ]*/sgd_allreduce .*--seed 7130002$" | tail -1)  # this job's rank
    [ -n "$victim" ] || fail "no rank to kill"
    kill -9 "$victim"
    wait
    grep -q "ddrr: salvaged .*rank-[0-9].spool" "$work/out" || fail "no salvage reported"
    "$ddrr" info "$work/run" >"$work/info"
    grep -q "salvaged from spool" "$work/info" || fail "killed rank not salvaged: $(cat "$work/info")"
    [ "$(ls "$work/run"/*.spool 2>/dev/null | wc -l)" -eq 0 ] || fail "spool left behind" ;;
  transparent_salvage_spares_live_ranks)
    # Recorded with a plain LD_PRELOAD, so nothing salvages by itself. A failure must not leave
    # the million-step job running (the test would then time out instead of saying why).
    trap 'pkill -9 -f -- "--seed 7130003$"; rm -rf "$work"' EXIT
    ( LD_PRELOAD="$lib" DDRR_OUT="$work/run" "$ddrr" run --host -n 2 -- \
        "$samples/sgd_allreduce" --steps 1000000 --log-every 1000 --seed 7130003 \
        >"$work/out" 2>&1; echo $? >"$work/rc" ) &
    for _ in $(seq 300); do grep -q 'step 2000 ' "$work/out" 2>/dev/null && break; sleep 0.1; done
    "$ddrr" info "$work/run" >"$work/live" 2>&1
    # Read as it stands, up to its last event, and shown as running.
    grep -q "still running; read up to their last event" "$work/live" \
      || fail "a live rank's spool was not read as it stands: $(head -3 "$work/live")"
    grep -q "ended     no: still running (pid" "$work/live" || fail "a live rank is not shown live"
    [ "$(ls "$work/run"/*.spool | wc -l)" -eq 2 ] || fail "live spools touched"
    victim=$(pgrep -f "^[^ ]*/sgd_allreduce .*--seed 7130003$" | tail -1)
    [ -n "$victim" ] || fail "no rank to kill"
    kill -9 "$victim"
    wait
    "$ddrr" info "$work/run" >"$work/info" 2>&1
    grep -q "ddrr: salvaged .*rank-[01].spool" "$work/info" || fail "info did not salvage"
    grep -q "salvaged from spool" "$work/info" || fail "rank not shown as salvaged"
    "$ddrr" seal "$work/run" >"$work/seal" 2>&1 || fail "seal failed"
    grep -q "0 spool(s) salvaged" "$work/seal" || fail "seal: $(cat "$work/seal")"
    [ "$(ls "$work/run"/*.spool 2>/dev/null | wc -l)" -eq 0 ] || fail "spool left behind" ;;
  threads_no_loss)
    record_probe threads 16 2000 || fail "probe failed"
    json
    py <<'PY' || fail "events lost, duplicated or out of order"
seqs = [e["seq"] for e in ev]
assert seqs == list(range(1, len(seqs) + 1)), "seqs not 1..n"
calls = collections.Counter(e["thread"] for e in ev if e.get("fn") == "ncclGetVersion")
marks = {e["step"]: e["thread"] for e in ev if e["type"] == "mark"}
assert sum(calls.values()) == 1 + 16 * 2000, sum(calls.values())
assert sorted(marks) == list(range(16)), sorted(marks)
for step, thread in marks.items():            # every thread's mark precedes its own calls
    first_call = min(e["seq"] for e in ev if e["thread"] == thread and e.get("fn"))
    mark_seq = next(e["seq"] for e in ev if e["type"] == "mark" and e["step"] == step)
    assert mark_seq < first_call, (step, thread)
    assert calls[thread] == 2000 + (1 if thread == 0 else 0), (thread, calls[thread])
PY
    ;;
  completions_many_threads)
    # Per-thread completion queues: several blocks each, and threads that exit hand theirs on.
    record_probe collective-threads 3 6 700 || fail "probe failed"
    json
    py <<'PY' || fail "completions lost, duplicated or wrong"
colls = {e["seq"]: e for e in ev if e.get("fn") == "ncclAllReduce"}
assert len(colls) == 3 * 6 * 700, len(colls)
done = collections.Counter(e["call_seq"] for e in ev if e["type"] == "completion")
assert set(done) == set(colls), (len(done), len(colls))
assert max(done.values()) == 1, "a collective completed twice"
for d in (e for e in ev if e["type"] == "completion"):
    c = colls[d["call_seq"]]
    assert d["seq"] > c["seq"] and d["comm_key"] == c["comm_key"] and d["op_seq"] == c["op_seq"], d
    assert d["error"] == 0, d
# Per communicator, completions arrive in op order.
by_comm = collections.defaultdict(list)
for d in sorted((e for e in ev if e["type"] == "completion"), key=lambda e: e["seq"]):
    by_comm[d["comm_key"]].append(d["op_seq"])
assert all(ops == list(range(1, 701)) for ops in by_comm.values()), "out of order"
assert len(by_comm) == 18, len(by_comm)
PY
    ;;
  fork_child_not_recorded)
    record_probe fork || fail "probe failed"
    [ "$(ls "$work/run" | wc -l)" -eq 1 ] || fail "files: $(ls "$work/run")"
    json
    [ "$(grep -c '"fn":"ncclGetVersion"' "$work/dump.json")" -eq 4 ] \
      || fail "want the parent's 4 calls only, got $(grep -c ncclGetVersion "$work/dump.json")" ;;
  abort_ends_with_signal)
    record_probe abort
    rc=$?
    [ "$rc" -eq 134 ] || fail "the job's exit changed: $rc (want 134, SIGABRT)"
    "$ddrr" info "$work/run" >"$work/info" 2>&1
    grep -q "ended     NOT cleanly (fatal signal, signal 6)" "$work/info" \
      || fail "no END_SIGNAL: $(grep ended "$work/info")"
    "$ddrr" dump "$work/run" | grep -q "ncclGetVersion" || fail "the call before abort was lost" ;;
  file_size_limit_passes_through)
    # RLIMIT_FSIZE too small for the spool: ddrr must fail with a warning, never kill the job
    # with SIGXFSZ. (The probe has no emu segment, which the limit would hit by itself.)
    export RANK=0 WORLD_SIZE=1 LD_LIBRARY_PATH="$hostrt"
    plain=$("$probe" threads 2 100 2>&1); plain_rc=$?
    out=$( (ulimit -f 64; LD_PRELOAD="$lib" DDRR_OUT="$work/run" "$probe" threads 2 100) 2>&1 )
    rc=$?
    [ "$rc" -eq "$plain_rc" ] || fail "exit changed: $rc vs $plain_rc"
    [ "$(grep -c 'ddrr WARN cannot record' <<<"$out")" -eq 1 ] || fail "want one warning: $out"
    [ "$(grep -v 'ddrr WARN' <<<"$out")" = "$plain" ] || fail "output changed" ;;
  file_size_limit_mid_run)
    # The spool fits, the rank file outgrows the limit while the job runs: the sealer stops,
    # warns once, the job goes on and ends as it would.
    export RANK=0 WORLD_SIZE=1 LD_LIBRARY_PATH="$hostrt"
    out=$( (ulimit -f 1300; LD_PRELOAD="$lib" DDRR_OUT="$work/run" DDRR_SPOOL_MB=1 \
      "$probe" entropy 60) 2>&1 )
    rc=$?
    [ "$rc" -eq 0 ] || fail "job exit $rc: $out"
    grep -q "interpose_probe entropy: done" <<<"$out" || fail "job did not finish"
    [ "$(grep -c 'recorder disabled' <<<"$out")" -eq 1 ] || fail "want one warning: $out"
    grep -q "File too large" <<<"$out" || fail "warning does not say why: $out"
    "$ddrr" info "$work/run" >"$work/info" 2>&1
    grep -q "rank 0 of 1" "$work/info" || fail "nothing readable left: $(cat "$work/info")" ;;
  full_disk_passes_through)
    mkdir -p "$work/tiny"
    # Room for the 1 MiB spool and less than it holds: however many events a busy machine drops
    # (the job never waits for the writer), what reaches the spool fills the disk.
    if ! mount -t tmpfs -o size=1600k tmpfs "$work/tiny" 2>/dev/null; then
      echo "skipped: cannot mount a tmpfs here (needs root)"; exit 77
    fi
    trap 'umount "$work/tiny"; rm -rf "$work"' EXIT
    export RANK=0 WORLD_SIZE=1 LD_LIBRARY_PATH="$hostrt"
    out=$(LD_PRELOAD="$lib" DDRR_OUT="$work/tiny/run" DDRR_SPOOL_MB=1 "$probe" entropy 60 2>&1)
    rc=$?
    [ "$rc" -eq 0 ] || fail "job exit $rc: $out"
    grep -q "interpose_probe entropy: done" <<<"$out" || fail "job did not finish"
    [ "$(grep -c 'ddrr WARN' <<<"$out")" -eq 1 ] || fail "want one warning: $out"
    grep -q "No space left on device" <<<"$out" || fail "warning does not say why: $out" ;;
  same_rank_twice_is_refused)
    # A second live process claiming rank 0 is not recorded; the first one's files are intact.
    export RANK=0 WORLD_SIZE=1 LD_LIBRARY_PATH="$hostrt"
    ( LD_PRELOAD="$lib" DDRR_OUT="$work/run" "$samples/sgd_allreduce" --steps 1000000 \
        --log-every 1000 --seed 7130004 >"$work/out" 2>&1 ) &
    for _ in $(seq 300); do grep -q 'step 2000 ' "$work/out" 2>/dev/null && break; sleep 0.1; done
    second=$(LD_PRELOAD="$lib" DDRR_OUT="$work/run" "$probe" threads 1 10 2>&1) \
      || fail "second process failed: $second"
    grep -q "is being recorded by another live process (two processes claim rank 0" <<<"$second" \
      || fail "no refusal: $second"
    kill -9 "$(pgrep -f "^[^ ]*/sgd_allreduce .*--seed 7130004$")"
    wait
    "$ddrr" dump "$work/run" >"$work/dump.txt" 2>&1  # salvages the killed first process
    grep -q "ncclCommInitRank" "$work/dump.txt" || fail "the first process's trace is gone"
    grep -q "ncclGetVersion" "$work/dump.txt" && fail "the second process wrote into it"
    true ;;
  graph_capture_tagged)
    record_probe capture || fail "probe failed: $(cat "$work/out")"
    json
    py <<'PY' || fail "captured collective not tagged, or tracked"
ar = [e for e in ev if e.get("fn") == "ncclAllReduce"]
assert len(ar) == 2, len(ar)
assert ar[0].get("graph_captured") is True and "graph_captured" not in ar[1], ar
done = {e["call_seq"] for e in ev if e["type"] == "completion"}
assert ar[0]["seq"] not in done and ar[1]["seq"] in done, (done, ar)
PY
    ;;
  kernel_launches_counted)
    record_probe launches || fail "probe failed: $(cat "$work/out")"
    json
    py <<'PY' || fail "launch counts wrong"
seq = [(e["type"], e.get("fn"), e.get("stream"), e.get("count")) for e in ev
       if e["type"] == "kernels" or e.get("fn") == "ncclAllReduce"]
want = [("kernels", None, "stream1", 5), ("kernels", None, "stream2", 3),
        ("call", "ncclAllReduce", None, None), ("kernels", None, "stream1", 2),
        ("call", "ncclAllReduce", None, None)]
assert seq == want, seq
assert not any(e.get("fn") == "cudaLaunchKernel" for e in ev)  # counted, not recorded
PY
    ;;
  diff_finds_the_seed)
    for r in a b; do
      "$ddrr" record -o "$work/$r" -- "$ddrr" run --host -n 2 -- "$samples/sgd_allreduce" \
        --steps 4 --seed 1 >/dev/null 2>&1 || fail "record $r failed"
    done
    "$ddrr" record -o "$work/c" -- "$ddrr" run --host -n 2 -- "$samples/sgd_allreduce" \
      --steps 4 --seed 2 >/dev/null 2>&1 || fail "record c failed"
    "$ddrr" diff "$work/a" "$work/b" >"$work/same" 2>&1 || fail "same seed differs: $(cat "$work/same")"
    grep -q "no difference in 2 rank(s)" "$work/same" || fail "$(cat "$work/same")"
    "$ddrr" diff "$work/a" "$work/c" >"$work/other" 2>&1
    [ $? -eq 1 ] || fail "different seeds: want exit 1"
    [ "$(grep -c '^rank [01]: first difference' "$work/other")" -eq 2 ] || fail "$(cat "$work/other")"
    [ "$(grep -c '^  A .*curandSetPseudoRandomGeneratorSeed' "$work/other")" -eq 2 ] \
      || fail "first difference is not the seed: $(cat "$work/other")"
    "$ddrr" diff "$work/a" "$work/c" --rank 1 | grep -q '^rank 0' && fail "--rank ignored"
    "$ddrr" diff "$work/a" "$work/nope" >/dev/null 2>&1
    [ $? -eq 2 ] || fail "missing run: want exit 2"
    true ;;
  diff_scope_of_a_replay)
    # A run whose rank files carry DDRR_REPLAY_OF is compared on its NCCL communication only:
    # another seed changes what the program computes, not what it communicates; one step fewer
    # does.
    rec() {  # rec DIR REPLAY_OF ARGS...
      local dir=$1 of=$2; shift 2
      env ${of:+DDRR_REPLAY_OF="$of"} "$ddrr" record -o "$dir" -- "$ddrr" run --host -n 2 -- \
        "$samples/sgd_allreduce" "$@" >/dev/null 2>&1 || fail "record $dir failed"
    }
    rec "$work/a" "" --steps 3 --seed 1
    rec "$work/b" "$work/a" --steps 3 --seed 2
    rec "$work/c" "$work/a" --steps 2 --seed 1
    "$ddrr" diff "$work/a" "$work/b" >"$work/out" 2>&1 || fail "replay differs: $(cat "$work/out")"
    [ "$(head -1 "$work/out")" = "comparing NCCL communication only (B is a replay)" ] \
      || fail "scope line: $(cat "$work/out")"
    grep -qx "no difference in 2 rank(s)" "$work/out" || fail "$(cat "$work/out")"
    "$ddrr" diff "$work/b" "$work/a" | head -1 \
      | grep -qx "comparing NCCL communication only (A is a replay)" || fail "A not the replay"
    "$ddrr" diff "$work/a" "$work/b" --scope all >"$work/out" 2>&1
    [ $? -eq 1 ] || fail "--scope all: want exit 1: $(cat "$work/out")"
    grep -q "comparing" "$work/out" && fail "--scope all says it compares less"
    [ "$(grep -c '^  A .*curandSetPseudoRandomGeneratorSeed' "$work/out")" -eq 2 ] \
      || fail "--scope all: first difference is not the seed: $(cat "$work/out")"
    "$ddrr" diff "$work/a" "$work/c" >"$work/out" 2>&1
    [ $? -eq 1 ] || fail "a step fewer: want exit 1: $(cat "$work/out")"
    [ "$(grep -c '^  A .*ncclAllReduce(' "$work/out")" -eq 2 ] || fail "$(cat "$work/out")"
    grep -q 'cudaMemcpy' "$work/out" && fail "CUDA calls compared: $(cat "$work/out")"
    true ;;
  *) fail "unknown case" ;;
esac
echo "ok [$case_name]"
