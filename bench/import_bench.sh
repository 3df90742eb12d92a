#!/usr/bin/env bash
# bench/import_bench.sh [BUILD_DIR] — `ddrr import` speed: an NCCL_DEBUG=INFO log of 8 ranks
# interleaved in one file (init lines, then all-reduces and broadcasts with other INFO lines
# between them), imported three times. Prints input lines/s and calls (entries)/s, wall time
# included (reading, parsing, writing the rank files); then 8 pickled Flight Recorder dumps,
# entries/s; then 8 training logs ending in watchdog messages, lines/s. Figures:
# docs/PERFORMANCE.md, "Import".
set -euo pipefail
. "$(dirname "$0")/lib.sh"
ranks=8 ops=${DDRR_BENCH_OPS:-50000}

# import_trials NAME COUNT UNIT INPUT...: imports INPUT... into $out/NAME three times; prints each
# trial's wall time, COUNT UNITs per second and the imported entries per second.
import_trials() {
  local name=$1 count=$2 unit=$3
  shift 3
  for trial in 1 2 3; do
    rm -rf "${out:?}/$name"
    local start end entries
    start=$(date +%s.%N)
    "$ddrr" import "$@" -o "$out/$name" >"$out/summary"
    end=$(date +%s.%N)
    entries=$(sed -E 's/.* ([0-9]+) entries.*/\1/' "$out/summary" | head -1)
    python3 -c "
s = $end - $start
print('trial $trial: %.2f s, %.0f $unit/s, %.0f entries/s, run %s' % (s, $count / s,
      $entries / s, '$(du -sh "$out/$name" | cut -f1)'))"
  done
}

python3 - "$out/nccl.log" "$ranks" "$ops" <<'PY'
import sys
path, ranks, ops = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
with open(path, "w") as f:
    for r in range(ranks):
        f.write("node%d:%d:%d [%d] NCCL INFO [Rank %d] ncclCommInitRank comm 0x55d0%02x000000 "
                "rank %d nranks %d cudaDev %d nvmlDev %d busId %x000 commId 0x9f3a77c1d2 - "
                "Init START\n" % (r // 8, 1000 + r, 2000 + r, r % 8, r, r, r, ranks, r % 8,
                                  r % 8, r + 1))
    for i in range(ops):
        op = "AllReduce" if i % 4 else "Broadcast"
        for r in range(ranks):
            f.write("node%d:%d:%d [%d] NCCL INFO %s: opCount %x sendbuff 0x7f3a%08x recvbuff "
                    "0x7f3a%08x count %d datatype 7 op 0 root 0 comm 0x55d0%02x000000 "
                    "[nranks=%d] stream 0x55e1%06x\n" % (r // 8, 1000 + r, 2000 + r, r % 8, op,
                                                          i, i * 4096, i * 4096, 1 << 20, r,
                                                          ranks, r))
            if i % 16 == 0:
                f.write("node%d:%d:%d [%d] NCCL INFO Channel 00/02 : 0 1 2 3 4 5 6 7\n"
                        % (r // 8, 1000 + r, 2000 + r, r % 8))
PY
lines=$(wc -l <"$out/nccl.log")
echo "== nccl-log: $ranks ranks, $ops calls each, $lines lines, $(du -m "$out/nccl.log" | cut -f1) MiB"
import_trials run "$lines" lines "$out/nccl.log"

# Flight Recorder: 8 pickled dumps of 20,000 entries each (the ring size torchtitan uses).
entries=${DDRR_BENCH_FR_ENTRIES:-20000}
python3 - "$out/fr" "$ranks" "$entries" <<'PY'
import os, pickle, sys
out, ranks, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out)
for r in range(ranks):
    entries = [{"record_id": i, "pg_id": 0, "process_group": ("0", "default_pg"),
                "collective_seq_id": i + 1, "p2p_seq_id": 0, "op_id": i + 1,
                "profiling_name": "nccl:all_reduce", "time_created_ns": 1_700_000_000_000_000_000 + i * 1000,
                "input_sizes": [[1024, 1024]], "input_dtypes": ["BFloat16"],
                "output_sizes": [[1024, 1024]], "output_dtypes": ["BFloat16"],
                "state": "completed", "time_discovered_started_ns": None,
                "time_discovered_completed_ns": None, "retired": True, "timeout_ms": 600000,
                "is_p2p": False,
                "frames": [{"name": "step", "filename": "train.py", "line": 10 + k} for k in range(8)]}
               for i in range(n)]
    dump = {"version": "2.10", "nccl_version": "2.21.5",
            "pg_config": {"0": {"name": "0", "desc": "default_pg", "ranks": str(list(range(ranks)))}},
            "pg_status": {}, "entries": entries}
    with open(os.path.join(out, "nccl_trace_rank_%d" % r), "wb") as f:
        pickle.dump(dump, f)
PY
echo "== fr: $ranks pickled dumps, $entries entries each, $(du -sm "$out/fr" | cut -f1) MiB"
import_trials frrun "$((ranks * entries))" records "$out/fr"/nccl_trace_rank_*

# Watchdog messages: 8 ranks' training logs (torchrun's [rankN]: prefix on every line), 100,000
# lines of other output each, the watchdog's message (twice: log line and exception) at the end.
lines_per_rank=${DDRR_BENCH_WATCHDOG_LINES:-100000}
python3 - "$out/wd" "$ranks" "$lines_per_rank" <<'PY'
import os, sys
out, ranks, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
os.makedirs(out)
for r in range(ranks):
    with open(os.path.join(out, "train_rank%d.log" % r), "w") as f:
        for i in range(n):
            f.write("[rank%d]:step %d loss 0.%06d lr 3e-4 tokens/s 182340 grad_norm 1.02\n" % (r, i, i))
        msg = ("[rank%d]:[E1218 20:27:21.426415540 ProcessGroupNCCL.cpp:632] [PG ID 0 PG GUID "
               "0(default_pg) Rank %d] Watchdog caught collective operation timeout: WorkNCCL("
               "SeqNum=%d, OpType=ALLREDUCE, NumelIn=1048576, NumelOut=1048576, Timeout(ms)=600000)"
               " ran for 600081 milliseconds before timing out.\n" % (r, r, n + (r != 3)))
        f.write(msg + msg)
PY
wd_lines=$(cat "$out/wd"/*.log | wc -l)
echo "== watchdog: $ranks logs, $wd_lines lines, $(du -sm "$out/wd" | cut -f1) MiB"
import_trials wdrun "$wd_lines" lines "$out/wd"/train_rank*.log
