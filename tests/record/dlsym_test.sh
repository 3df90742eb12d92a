#!/usr/bin/env bash
# dlsym_test.sh CASE DDRR DLSYM_PROBE SAMPLES_DIR HOSTRT_DIR — the dlsym hook
# (src/interpose/dl_hooks.cc): programs that dlopen NCCL and look it up by handle are recorded,
# and every other dlsym answer is the one glibc gives without ddrr.
set -uo pipefail
case_name=$1 ddrr=$2 probe=$3 samples=$4 hostrt=$5
source "$(dirname "$0")/../lib.sh"

case $case_name in
  dlsym_answers)
    # Plain: glibc's answers. Only lookups of names libddrr wraps (by handle, RTLD_DEFAULT, or
    # RTLD_NEXT from the executable, which comes before libddrr) may answer libddrr.so.
    cp "$hostrt/libnccl.so.2" "$work/libnccl-copy.so.2"
    LD_LIBRARY_PATH="$hostrt" "$probe" "$work/libnccl-copy.so.2" >"$work/plain" 2>&1 \
      || fail "plain probe exited $?: $(cat "$work/plain")"
    RANK=0 WORLD_SIZE=1 "$ddrr" record -o "$work/run" -- env LD_LIBRARY_PATH="$hostrt" "$probe" \
      "$work/libnccl-copy.so.2" >"$work/out" 2>"$work/err" \
      || fail "recorded probe exited $?: $(cat "$work/err")"
    cat >"$work/want" <<'EOF'
next_from_a dlsym_probe_which libdlsym_probe_b.so
next_from_a getpid libc.so.6
next_from_main ncclGetVersion null dlerror-names-it | libddrr.so
default_from_main ncclGetVersion null dlerror-names-it | libddrr.so
next_from_c dlsym_probe_which libdlsym_probe_d.so
next_from_c getpid libc.so.6
default_from_c dlsym_probe_only_d libdlsym_probe_d.so
default_from_main dlsym_probe_only_d null dlerror-names-it
default_from_main no_such_symbol_ddrr null dlerror-names-it
dlerror_after_success clear
handle_nccl ncclGetVersion libnccl.so.2 | libddrr.so
call ncclGetVersion 0 22809
handle_nccl ncclNoSuchFunction null dlerror-names-it
handle_nccl pncclGetVersion libnccl.so.2
handle_nccl ncclTeamWorld libnccl.so.2
next_from_main ncclAllReduce null dlerror-names-it | libddrr.so
default_from_main ncclAllReduce null dlerror-names-it | libddrr.so
default_from_main ncclTeamWorld null dlerror-names-it
handle_cudart cudaGetDeviceCount libcudart.so.13 | libddrr.so
call cudaGetDeviceCount 0 8
handle_curand curandCreateGenerator libcurand.so.10 | libddrr.so
handle_copy ncclGetVersion libnccl-copy.so.2
call copy_ncclGetVersion 0 22809
EOF
    # "<key> <plain answer> | <recorded answer>", or one answer for both.
    sed -E 's/^(\S+ \S+) (.*) \| (.*)$/\1 \2/' "$work/want" >"$work/want_plain"
    sed -E 's/^(\S+ \S+) (.*) \| (.*)$/\1 \3/' "$work/want" >"$work/want_recorded"
    diff "$work/want_plain" "$work/plain" >&2 || fail "plain answers are not glibc's as expected"
    diff "$work/want_recorded" "$work/out" >&2 || fail "answers under libddrr.so differ"
    [ "$(grep -c 'ddrr WARN dlsym(ncclGetVersion) found it in a library that ddrr does not' \
      "$work/err")" -eq 1 ] || fail "no single warning for the second NCCL: $(cat "$work/err")"
    # Calls through looked-up wrappers are recorded; the second copy's is not.
    "$ddrr" dump "$work/run" --json >"$work/dump.json" || fail "dump failed"
    python3 - "$work/dump.json" <<'PY' || fail "calls through dlsym'd pointers not recorded"
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1])]
fns = [c["fn"] for c in calls if c["type"] == "call"]
assert fns == ["ncclGetVersion", "cudaGetDeviceCount"], fns
assert calls[0]["args"]["version"] == 22809 and calls[1]["args"]["count"] == 8, calls
PY
    ;;
  dlopen_sample_recorded)
    readelf -d "$samples/dlopen_nccl" | grep -q 'NEEDED.*libnccl' && fail "sample links libnccl"
    # By explicit path, as vLLM does with VLLM_NCCL_SO_PATH: the wrappers must still find it.
    export DDRR_SAMPLE_NCCL_LIB="$hostrt/libnccl.so.2"
    "$ddrr" run --host -n 4 -- "$samples/dlopen_nccl" --steps 3 --size 300 >"$work/plain" 2>&1 \
      || fail "plain run failed: $(tail -5 "$work/plain")"
    "$ddrr" record -o "$work/run" -- "$ddrr" run --host -n 4 -- "$samples/dlopen_nccl" --steps 3 \
      --size 300 >"$work/out" 2>&1 || fail "record exited $?"
    a=$(grep -o 'dlopen_nccl: OK.*' "$work/plain" | sort | uniq -c)
    b=$(grep -o 'dlopen_nccl: OK.*' "$work/out" | sort | uniq -c)
    [[ "$a" == *" 4 dlopen_nccl: OK world=4 steps=3 checksum="* ]] || fail "plain output: $a"
    [ "$a" = "$b" ] || fail "recording changed the output: $a vs $b"
    grep -q 'ddrr WARN' "$work/out" && fail "warnings: $(grep 'ddrr WARN' "$work/out")"
    "$ddrr" dump "$work/run" --json >"$work/dump.json" || fail "dump failed"
    python3 - "$work/dump.json" <<'PY' || fail "the sample's NCCL calls are not all recorded"
import json, sys, collections
ev = [json.loads(l) for l in open(sys.argv[1])]
by_rank = collections.defaultdict(list)
for e in ev:
    if e["type"] == "call" and e["fn"].startswith("nccl"):
        by_rank[e["rank"]].append(e)
assert sorted(by_rank) == [0, 1, 2, 3], sorted(by_rank)
steps, n = 3, 4
keys = set()
for r, cs in by_rank.items():
    want = ["ncclGetVersion"] + (["ncclGetUniqueId"] if r == 0 else []) + [
        "ncclCommInitRank", "ncclCommCount", "ncclCommUserRank"]
    want += ["ncclAllReduce", "ncclCommGetAsyncError", "ncclBroadcast",
             "ncclCommGetAsyncError"] * steps
    want += ["ncclCommFinalize", "ncclCommDestroy"]
    assert [c["fn"] for c in cs] == want, (r, [c["fn"] for c in cs])
    assert all(c["result_name"] == "ncclSuccess" for c in cs), r
    assert [c["seq"] for c in cs] == sorted(c["seq"] for c in cs), r
    init = next(c for c in cs if c["fn"] == "ncclCommInitRank")
    assert init["args"]["nranks"] == n and init["args"]["rank"] == r, init
    colls = [c for c in cs if c["fn"] in ("ncclAllReduce", "ncclBroadcast")]
    assert [c["op_seq"] for c in colls] == list(range(1, 2 * steps + 1)), (r, colls)
    for i, c in enumerate(colls):
        a = c["args"]
        assert a["count"] == 300 and a["datatype"] == "ncclFloat32", c
        assert a["sendbuff"]["alloc"] == a["recvbuff"]["alloc"], c  # in place
        if c["fn"] == "ncclAllReduce":
            assert a["op"] == "ncclSum", c
        else:
            assert a["root"] == (i // 2) % n, (i, c)
    keys |= {c["comm_key"] for c in cs if c.get("comm_key")}
assert len(keys) == 1, keys  # one communicator, the same key on every rank
PY
    ;;
  ctypes_nccl_recorded)
    # vLLM's pynccl: Python's ctypes dlopens NCCL by path (RTLD_LOCAL) and looks each call up.
    RANK=0 WORLD_SIZE=1 "$ddrr" record -o "$work/run" -- python3 - "$hostrt/libnccl.so.2" \
      >"$work/out" 2>&1 <<'PY' || fail "recorded python exited $?"
import ctypes, sys
nccl = ctypes.CDLL(sys.argv[1])
version = ctypes.c_int()
assert nccl.ncclGetVersion(ctypes.byref(version)) == 0 and version.value == 22809
unique_id = (ctypes.c_char * 128)()
assert nccl.ncclGetUniqueId(ctypes.byref(unique_id)) == 0
print("id", unique_id.raw.hex())
PY
    "$ddrr" dump "$work/run" --json >"$work/dump.json" || fail "dump failed"
    python3 - "$work/dump.json" "$(grep -o 'id [0-9a-f]*' "$work/out")" <<'PY' \
      || fail "ctypes calls not recorded"
import json, sys
calls = [json.loads(l) for l in open(sys.argv[1])]
assert [c["fn"] for c in calls] == ["ncclGetVersion", "ncclGetUniqueId"], calls
assert calls[1]["args"]["unique_id"] == sys.argv[2].split()[1], (calls[1], sys.argv[2])
PY
    ;;
  *) fail "unknown case" ;;
esac
echo "ok [$case_name]"
