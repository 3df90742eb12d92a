#!/usr/bin/env python3
"""Writes PyTorch Flight Recorder dumps for the import tests, one per rank, as ProcessGroupNCCL
writes them (a dict with version, pg_config, pg_status and entries; pickle, or JSON with --json),
with the keys this script gives format VERSION: 2.2 and 2.3 without p2p_seq_id, is_p2p,
time_discovered_* and thread_*, `retired` from 2.9 on (ddrr takes every key as optional and
names the ones a dump lacks).

  make_fr_dumps.py OUTDIR SCENARIO [--version V] [--json]

Scenarios (3 ranks, world group "0" and a sub-group "1" of ranks 0,1 named
EXPERT_MODEL_PARALLEL_GROUP):
  clean      4 all-reduces on the world, 2 all-to-alls on the sub-group
  mismatch   rank 2's 3rd all-reduce has a different size
  missing    rank 1 stopped after 2 all-reduces; the others' 3rd is started, never completed
  p2p        rank 0 sends to rank 1 on the sub-group; rank 1 never receives
  wrapped    rank 0's ring kept only its last 3 entries (of 6)
  absent     like missing, but rank 1 left no dump
  rooted     a broadcast, a reduce and an all-reduce on the world (a dump names no root)
"""
import json
import os
import pickle
import sys

out, scenario = sys.argv[1], sys.argv[2]
version = sys.argv[sys.argv.index("--version") + 1] if "--version" in sys.argv else "2.10"
as_json = "--json" in sys.argv
old = version in ("2.2", "2.3")
PGS = {"0": ("default_pg", [0, 1, 2]), "1": ("EXPERT_MODEL_PARALLEL_GROUP", [0, 1])}


def entry(rid, pg, seq, p2p_seq, name, numel, state="completed", dtype="Float"):
    is_p2p = name.startswith("send") or name.startswith("recv")
    e = {"record_id": rid, "pg_id": int(pg), "process_group": (pg, PGS[pg][0]),
         "collective_seq_id": 0 if is_p2p else seq, "op_id": seq,
         "profiling_name": "nccl:" + name, "time_created_ns": 1_700_000_000_000_000_000 + rid,
         "input_sizes": [[numel]], "input_dtypes": [dtype], "output_sizes": [[numel]],
         "output_dtypes": [dtype], "state": state, "timeout_ms": 600000,
         "frames": [{"name": "train_step", "filename": "train.py", "line": 42}]}
    if not old:
        e.update({"p2p_seq_id": p2p_seq if is_p2p else 0, "is_p2p": is_p2p,
                  "time_discovered_started_ns": None, "time_discovered_completed_ns": None,
                  "thread_id": "1", "thread_name": "pt_main_thread"})
    if version in ("2.9", "2.10"):
        e["retired"] = state == "completed"
    if as_json:
        e.pop("frames")
        e["process_group"] = list(e["process_group"])
    return e


def rank_entries(rank):
    ops = []  # (pg, name, numel, state)
    if scenario in ("clean", "mismatch", "wrapped"):
        for i in range(4):
            ops.append(("0", "all_reduce", 99 if scenario == "mismatch" and rank == 2 and i == 2
                        else 1024, "completed"))
            if i < 2 and rank < 2:
                ops.append(("1", "all_to_all", 64, "completed"))
    elif scenario in ("missing", "absent"):
        n = 2 if rank == 1 else 3
        for i in range(n):
            ops.append(("0", "all_reduce", 8, "started" if i == 2 else "completed"))
    elif scenario == "rooted":
        for name in ("broadcast", "reduce", "all_reduce"):
            ops.append(("0", name, 256, "completed"))
    elif scenario == "p2p":
        ops.append(("0", "all_reduce", 8, "completed"))
        if rank == 0:
            ops.append(("1", "send 0->1", 16, "started"))
    seq = {"0": 0, "1": 0}
    p2p = 0
    entries = []
    for rid, (pg, name, numel, state) in enumerate(ops):
        if name.startswith("send") or name.startswith("recv"):
            p2p += 1
        else:
            seq[pg] += 1
        entries.append(entry(rid, pg, seq[pg], p2p, name, numel, state))
    if scenario == "wrapped" and rank == 0:
        entries = entries[-3:]
    return entries


os.makedirs(out, exist_ok=True)
for rank in range(3):
    if scenario == "absent" and rank == 1:
        continue
    dump = {"version": version, "nccl_version": "2.21.5",
            "pg_config": {pg: {"name": pg, "desc": d, "ranks": str(r)} for pg, (d, r) in PGS.items()},
            "pg_status": {pg: {"last_enqueued_collective": 0, "last_started_collective": 0,
                               "last_completed_collective": 0} for pg in PGS},
            "entries": rank_entries(rank)}
    path = os.path.join(out, "nccl_trace_rank_%d" % rank)
    if as_json:
        with open(path, "w") as f:
            json.dump(dump, f)
    else:
        with open(path, "wb") as f:
            pickle.dump(dump, f)
