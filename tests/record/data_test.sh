#!/usr/bin/env bash
# data_test.sh CASE DDRR SAMPLES_DIR PROBE HOSTRT_DIR — what is captured beyond metadata: the
# digests and payloads levels (src/interpose/data_capture.cc) and every kernel launch in full,
# recorded on the host runtime and checked with `ddrr dump`.
set -uo pipefail
case_name=$1 ddrr=$2 samples=$3 probe=$4 hostrt=$5
source "$(dirname "$0")/../lib.sh"
sgd() { "$ddrr" run --host -n 3 -- "$samples/sgd_allreduce" --steps 6 --seed 5 "$@"; }

case $case_name in
  digests_tour)
    "$ddrr" record --level digests -o "$work/run" -- "$ddrr" run --host -n 4 -- \
      "$samples/collectives_tour" >"$work/out" 2>&1 || fail "record exited $?"
    json
    py <<'PY' || fail "digests wrong"
calls = {(e["rank"], e["seq"]): e for e in ev if e["type"] == "call"}
dig = collections.defaultdict(dict)  # (rank, call seq) -> role -> digest event
for e in ev:
    if e["type"] == "digest":
        dig[(e["rank"], e["call_seq"])][e["role"]] = e
size = {"ncclFloat32": 4, "ncclInt32": 4, "ncclFloat64": 8, "ncclFloat16": 2, "ncclBfloat16": 2,
        "ncclInt8": 1, "ncclUint8": 1, "ncclInt64": 8, "ncclUint64": 8, "ncclUint32": 4}
nranks = {}
for e in ev:
    if e["type"] == "call" and e["fn"].startswith("ncclCommInit") and e["result"] == 0:
        nranks[e["comm_key"]] = e["args"].get("nranks")
user_rank = {}  # (rank, comm_key) -> rank in comm
for e in ev:
    if e["type"] == "call" and e["fn"] == "ncclCommUserRank":
        user_rank[(e["rank"], e["comm_key"])] = e["args"]["rank"]
checked = collections.Counter()
equal_out = collections.defaultdict(set)
for (r, s), c in calls.items():
    fn, a = c["fn"], c["args"]
    if not c.get("op_seq") or c["result"] != 0:
        continue
    d = dig.get((r, s), {})
    es = size[a["datatype"]]
    n = nranks.get(c["comm_key"])
    if fn == "ncclAllReduce":
        assert set(d) == {"input", "output"}, (fn, r, s, d)
        assert d["input"]["bytes"] == d["output"]["bytes"] == a["count"] * es
        equal_out[(c["comm_key"], c["op_seq"])].add(d["output"]["value"])
    elif fn == "ncclAllGather" and n:
        assert d["input"]["bytes"] == a["sendcount"] * es, d
        assert d["output"]["bytes"] == a["sendcount"] * es * n, (d, n)
        equal_out[(c["comm_key"], c["op_seq"])].add(d["output"]["value"])
    elif fn == "ncclReduceScatter" and n:
        assert d["input"]["bytes"] == a["recvcount"] * es * n and d["output"]["bytes"] == a["recvcount"] * es
    elif fn == "ncclSend":
        assert set(d) == {"input"}, (fn, d)
    elif fn == "ncclRecv":
        assert set(d) == {"output"}, (fn, d)
    elif fn in ("ncclBroadcast", "ncclReduce"):
        assert "output" in d or fn == "ncclReduce", (fn, d)
    else:
        continue
    checked[fn] += 1
for fn in ("ncclAllReduce", "ncclAllGather", "ncclSend", "ncclRecv", "ncclBroadcast"):
    assert checked[fn] > 0, (fn, checked)
# Outputs every rank must agree on, agree.
bad = {k: v for k, v in equal_out.items() if len(v) != 1}
assert not bad, bad
# Root-only buffers: a Broadcast's input exists on exactly one rank per op.
bc = collections.defaultdict(list)
for (r, s), c in calls.items():
    if c["fn"] == "ncclBroadcast" and c["result"] == 0:
        bc[(c["comm_key"], c["op_seq"])].append("input" in dig.get((r, s), {}))
assert bc and all(v.count(True) == 1 for v in bc.values()), bc
# Every send's input equals the matching receive's output on the peer (k-th send from a to b
# pairs with the k-th receive of b from a): grouped receives are read after the group ran.
world = {}  # (rank, comm_key) -> rank in comm, from the init calls
for e in ev:
    if e["type"] == "call" and e["fn"] == "ncclCommInitRank":
        world[(e["rank"], e["comm_key"])] = e["args"]["rank"]
sends, recvs = collections.defaultdict(list), collections.defaultdict(list)
for (r, s), c in sorted(calls.items()):
    if c["fn"] in ("ncclSend", "ncclRecv") and (r, c["comm_key"]) in world:
        me = world[(r, c["comm_key"])]
        d = dig[(r, s)]
        if c["fn"] == "ncclSend":
            sends[(c["comm_key"], me, c["args"]["peer"])].append(d["input"]["value"])
        else:
            recvs[(c["comm_key"], c["args"]["peer"], me)].append(d["output"]["value"])
assert sends and sends.keys() == recvs.keys(), (sorted(sends), sorted(recvs))
for k in sends:
    assert sends[k] == recvs[k], (k, sends[k], recvs[k])
PY
    ;;
  data_levels_output_unchanged)
    sgd >"$work/plain" 2>&1 || fail "plain run failed"
    for level in digests payloads; do
      "$ddrr" record --level "$level" -o "$work/run-$level" -- "$ddrr" run --host -n 3 -- \
        "$samples/sgd_allreduce" --steps 6 --seed 5 >"$work/out" 2>&1 || fail "$level run failed"
      a=$(grep -o 'weights_hash=[0-9a-f]*' "$work/plain" | sort -u)
      b=$(grep -o 'weights_hash=[0-9a-f]*' "$work/out" | sort -u)
      [ -n "$a" ] && [ "$a" = "$b" ] || fail "$level recording changed the result: $a vs $b"
    done ;;
  payload_window)
    "$ddrr" record --level payloads --payload-steps 2-3 -o "$work/run" -- "$ddrr" run --host \
      -n 3 -- "$samples/sgd_allreduce" --steps 6 --seed 5 >"$work/out" 2>&1 || fail "record failed"
    "$ddrr" info "$work/run" >"$work/info" || fail "info failed"
    grep -q 'capture   payloads (steps 2-3), budget 1024 MiB' "$work/info" || fail "info: $(grep capture "$work/info")"
    json
    py >"$work/calls" <<'PY' || fail "payload references wrong"
import json, sys, collections
ev = [json.loads(l) for l in open(sys.argv[1])]
by_rank = collections.defaultdict(list)
for e in ev:
    by_rank[e["rank"]].append(e)
for r, es in sorted(by_rank.items()):
    es.sort(key=lambda e: e["seq"])
    step, in_window, outside = None, [], []
    for e in es:
        if e["type"] == "mark":
            step = e["step"]
        elif e.get("fn") == "ncclAllReduce":
            (in_window if step in (2, 3) else outside).append(e["seq"])
    refs = {e["call_seq"]: e for e in es if e["type"] == "payload"}
    digests = {(e["call_seq"], e["role"]): e["value"] for e in es if e["type"] == "digest"}
    assert sorted(refs) == in_window and len(in_window) == 2, (r, sorted(refs), in_window)
    for s, p in refs.items():
        assert p["role"] == "output" and p["bytes"] == 4 * 257, p
        assert p["content_hash"] == digests[(s, "output")], (p, digests.get((s, "output")))
    print(r, in_window[0], outside[0])
PY
    while read -r rank inside outside; do
      "$ddrr" payload "$work/run" --rank "$rank" --call "$inside" -o "$work/p$rank" \
        || fail "payload of rank $rank call $inside not extracted"
      [ "$(stat -c %s "$work/p$rank")" -eq 1028 ] || fail "payload size $(stat -c %s "$work/p$rank")"
      "$ddrr" payload "$work/run" --rank "$rank" --call "$outside" >/dev/null 2>"$work/err"
      [ $? -eq 1 ] && grep -q "no output payload recorded for call #$outside" "$work/err" \
        || fail "a call outside the window: want exit 1 and a message, got $(cat "$work/err")"
    done <"$work/calls"
    cmp -s "$work/p0" "$work/p1" && cmp -s "$work/p1" "$work/p2" \
      || fail "the ranks' all-reduce outputs differ" ;;
  payload_budget)
    # A 1 MiB budget holds no 1.2 MiB all-reduce output (digested still; a note says so), but
    # the 64-byte one after it.
    RANK=0 WORLD_SIZE=1 LD_LIBRARY_PATH="$hostrt" "$ddrr" record --level payloads --payload-mb 1 \
      -o "$work/run" -- "$probe" big-allreduce \
      >"$work/out" 2>&1 || fail "probe failed"
    json
    py <<'PY' || fail "budget not respected"
ar = [e for e in ev if e.get("fn") == "ncclAllReduce"]
assert len(ar) == 2, ar
digests = {(e["call_seq"], e["role"]): e["bytes"] for e in ev if e["type"] == "digest"}
payloads = {e["call_seq"]: e["bytes"] for e in ev if e["type"] == "payload"}
assert digests[(ar[0]["seq"], "output")] == 1200000 and ar[0]["seq"] not in payloads, payloads
assert payloads == {ar[1]["seq"]: 64}, payloads
notes = [e["text"] for e in ev if e["type"] == "note" and "data capture" in e["text"]]
assert notes and "over budget (raise DDRR_PAYLOAD_MB)" in notes[0], notes
PY
    ;;
  nan_in_digests)
    "$ddrr" record --level digests -o "$work/run" -- "$ddrr" run --host -n 3 -- \
      "$samples/sgd_allreduce" --steps 6 --seed 5 --fault nan --fault-rank 1 --fault-step 2 \
      >"$work/out" 2>&1
    json
    py <<'PY' || fail "NaN not visible in digests"
calls = {(e["rank"], e["seq"]): e for e in ev if e["type"] == "call"}
first_nan = {}  # rank -> (op_seq of the first all-reduce whose input had a NaN, output op)
for e in sorted(ev, key=lambda e: (e["rank"], e["seq"])):
    if e["type"] != "digest" or e["nan_count"] == 0:
        continue
    c = calls[(e["rank"], e["call_seq"])]
    first_nan.setdefault((e["rank"], e["role"]), c["op_seq"])
# Step 2's all-reduce is op 4 (op 1 is the broadcast): rank 1 fed the NaN in, everyone got it.
assert first_nan.get((1, "input")) == 4, first_nan
assert (0, "input") not in first_nan or first_nan[(0, "input")] > 4, first_nan
assert all(first_nan.get((r, "output")) == 4 for r in range(3)), first_nan
PY
    ;;
  kernels_full)
    RANK=0 WORLD_SIZE=1 LD_LIBRARY_PATH="$hostrt" "$ddrr" record --kernels full -o "$work/run" \
      -- "$probe" launches >"$work/out" 2>&1 || fail "probe failed: $(cat "$work/out")"
    json
    py <<'PY' || fail "launches not recorded in full"
seq = [(e.get("fn"), e["args"]["stream"]["handle"]) for e in ev
       if e.get("fn") in ("cudaLaunchKernel", "ncclAllReduce")]
L, A = "cudaLaunchKernel", "ncclAllReduce"
want = [(L, "stream1")] * 5 + [(L, "stream2")] * 3 + [(A, "stream1")] + [(L, "stream1")] * 2 + \
       [(A, "stream1")]
assert seq == want, seq
launch = next(e for e in ev if e.get("fn") == L)
assert launch["args"]["grid_dim"] and launch["args"]["block_dim"], launch
assert not [e for e in ev if e["type"] == "kernels"], "counted as well as recorded"
PY
    ;;
  rank_from_first_comm)
    # No rank variable ddrr knows: each process takes a free file number, then its rank from
    # ncclCommInitRank; readers see the real ranks.
    lib="$(dirname "$ddrr")/../lib/libddrr.so"
    for i in 0 1 2; do
      env -u RANK -u WORLD_SIZE -u LOCAL_RANK DDRR_SAMPLE_RANK=$i DDRR_SAMPLE_WORLD_SIZE=3 \
        LD_PRELOAD="$lib" DDRR_OUT="$work/run" LD_LIBRARY_PATH="$hostrt" \
        "$samples/sgd_allreduce" --steps 4 >"$work/out$i" 2>&1 &
    done
    wait || true
    for i in 0 1 2; do grep -q weights_hash "$work/out$i" || fail "process $i: $(cat "$work/out$i")"; done
    "$ddrr" info "$work/run" >"$work/info" || fail "info found problems: $(cat "$work/info")"
    [ "$(grep -c '(rank from first communicator)' "$work/info")" -eq 3 ] || fail "$(cat "$work/info")"
    grep -q 'world size 3' "$work/info" || fail "world size: $(head -1 "$work/info")"
    json
    py <<'PY' || fail "ranks not taken from the communicator"
init = {e["rank"]: e["args"]["rank"] for e in ev if e.get("fn") == "ncclCommInitRank"}
assert init == {0: 0, 1: 1, 2: 2}, init
notes = [e for e in ev if e["type"] == "note" and "from the first communicator" in e["text"]]
assert len(notes) == 3, notes
PY
    "$ddrr" check "$work/run" >"$work/check" || fail "check: $(cat "$work/check")" ;;
  bad_data_settings)
    sgd >"$work/plain" 2>&1 || fail "plain run failed"
    for bad in DDRR_LEVEL=everything DDRR_PAYLOAD_STEPS=5-2 DDRR_PAYLOAD_MB=0 DDRR_KERNELS=some; do
      env "$bad" "$ddrr" record -o "$work/run-$RANDOM" -- "$ddrr" run --host -n 3 -- \
        "$samples/sgd_allreduce" --steps 6 --seed 5 >"$work/out" 2>&1 \
        || fail "$bad: the job failed"
      # ddrr record sets DDRR_LEVEL itself; the variable reaches the job only without it.
      grep -q 'weights_hash' "$work/out" || fail "$bad: no job output"
    done
    DDRR_OUT="$work/direct" DDRR_PAYLOAD_STEPS=5-2 LD_PRELOAD="$(dirname "$ddrr")/../lib/libddrr.so" \
      "$ddrr" run --host -n 2 -- "$samples/sgd_allreduce" --steps 3 >"$work/out" 2>&1 \
      || fail "direct preload with a bad variable: the job failed"
    [ "$(grep -c 'DDRR_PAYLOAD_STEPS=5-2 is not a step range' "$work/out")" -ge 1 ] \
      || fail "no warning naming DDRR_PAYLOAD_STEPS"
    "$ddrr" record --payload-steps 3-4 -o "$work/x" -- true 2>"$work/err"
    [ $? -eq 2 ] && grep -q "need --level payloads" "$work/err" || fail "want exit 2: $(cat "$work/err")"
    "$ddrr" record --level payloads --payload-steps 4-3 -o "$work/x" -- true 2>"$work/err"
    [ $? -eq 2 ] || fail "reversed window accepted" ;;
  *) fail "unknown case" ;;
esac
echo "ok [$case_name]"
