#!/usr/bin/env python3
"""Writes the NCCL_DEBUG=INFO log (INIT and COLL lines, in NCCL's own formats: src/debug.cc,
src/init.cc, src/enqueue.cc) that a recorded job would have printed, from `ddrr dump --json`
of its recording. The tests import that log and compare `ddrr check` on it with `ddrr check`
on the recording.

  nccl_log_from_dump.py DUMP_JSON OUT [--per-rank] [--cut-prefix RANK] [--noise]

One file OUT with every rank's lines in time order, or OUT.<rank> per rank; --cut-prefix drops
the host:pid:tid [dev] prefix from RANK's lines, --noise adds other text around the log.
"""
import json
import sys
import zlib

OPS = {
    "ncclAllReduce": "AllReduce", "ncclBroadcast": "Broadcast", "ncclBcast": "Broadcast",
    "ncclReduce": "Reduce", "ncclAllGather": "AllGather", "ncclReduceScatter": "ReduceScatter",
    "ncclSend": "Send", "ncclRecv": "Recv", "ncclAlltoAll": "AlltoAll",
    "ncclGather": "Gather", "ncclScatter": "Scatter",
}
DTYPES = ["ncclInt8", "ncclUint8", "ncclInt32", "ncclUint32", "ncclInt64", "ncclUint64",
          "ncclFloat16", "ncclFloat32", "ncclFloat64", "ncclBfloat16"]
REDOPS = ["ncclSum", "ncclProd", "ncclMax", "ncclMin", "ncclAvg"]


def ptr(v):
    if isinstance(v, dict):
        v = v.get("value", v.get("addr", "0x0"))
    v = int(str(v), 16) if isinstance(v, str) else int(v or 0)
    return "(nil)" if v == 0 else "0x%x" % v


def enum(v, names):
    return names.index(v) if isinstance(v, str) and v in names else int(v) if str(v).isdigit() else 0


def main():
    dump, out = sys.argv[1], sys.argv[2]
    per_rank = "--per-rank" in sys.argv
    cut = int(sys.argv[sys.argv.index("--cut-prefix") + 1]) if "--cut-prefix" in sys.argv else -1
    noise = "--noise" in sys.argv
    events = [json.loads(l) for l in open(dump) if l.strip()]
    calls = [e for e in events if e.get("type") == "call"]
    # Splits: the new communicator's rank and size follow NCCL's rule (one color, by key, ties
    # by parent rank).
    comm_rank, comm_size, device = {}, {}, {}
    split_groups, split_ordinal = {}, {}
    for e in calls:
        a, r = e["args"], e["rank"]
        if e["fn"] == "ncclCommInitRank":
            comm_rank[(r, ptr(a["comm"]))] = a["rank"]
            comm_size[(r, ptr(a["comm"]))] = a["nranks"]
        if e["fn"] == "ncclCommSplit" and e["result"] == 0:
            parent = ptr(a["comm"])
            n = split_ordinal.get((r, parent), 0)
            split_ordinal[(r, parent)] = n + 1
            group = split_groups.setdefault((e["comm_key"], n, a["color"]), [])
            group.append((a["key"], comm_rank.get((r, parent), r), r, ptr(a["newcomm"])))
    for group in split_groups.values():
        group.sort()
        for i, (_, _, r, new) in enumerate(group):
            comm_rank[(r, new)] = i
            comm_size[(r, new)] = len(group)
    lines = {}
    splits_seen = {}
    for e in sorted(events, key=lambda e: (e["time_ns"], e["rank"], e["seq"])):
        if e.get("type") != "call":
            continue
        r, fn, a = e["rank"], e["fn"], e["args"]
        dev = device.get(r, 0)
        prefix = "" if r == cut else "node0:%d:%d [%d] NCCL INFO " % (1000 + r, 2000 + r, dev)
        text = None
        if fn == "cudaSetDevice":
            device[r] = a["device"]
        elif fn == "ncclCommInitRank" and e["result"] == 0:
            h = zlib.crc32(bytes.fromhex(a["comm_id"])) | 0x100000000
            text = ("[Rank %d] ncclCommInitRank comm %s rank %d nranks %d cudaDev %d nvmlDev %d "
                    "busId %x commId 0x%x - Init START" % (a["rank"], ptr(a["comm"]), a["rank"],
                                                          a["nranks"], dev, dev,
                                                          0x1000 * (dev + 1), h))
        elif fn == "ncclCommSplit" and e["result"] == 0:
            new, parent = ptr(a["newcomm"]), ptr(a["comm"])
            n = splits_seen.get((r, parent), 0) + 1
            splits_seen[(r, parent)] = n
            text = ("ncclCommSplit comm %s rank %d nranks %d cudaDev %d nvmlDev %d busId %x "
                    "parent %s splitCount %d color %d key %d- Init START" %
                    (new, comm_rank[(r, new)], comm_size[(r, new)], dev, dev, 0x1000 * (dev + 1),
                     parent, n, a["color"], a["key"]))
        elif fn in ("ncclCommDestroy", "ncclCommAbort"):
            c = ptr(a["comm"])
            text = "comm %s rank %d nranks %d cudaDev %d busId %x - %s COMPLETE" % (
                c, comm_rank.get((r, c), 0), comm_size.get((r, c), 0), dev, 0x1000 * (dev + 1),
                "Destroy" if fn == "ncclCommDestroy" else "Abort")
        elif fn in OPS:
            c = ptr(a["comm"])
            send = a.get("sendbuff", a.get("buff", 0))
            recv = a.get("recvbuff", a.get("buff", 0))
            if fn in ("ncclSend", "ncclRecv"):  # NCCL prints the buffer as recvbuff
                send, recv = 0, a.get("sendbuff", a.get("recvbuff", 0))
            count = a.get("count", a.get("sendcount", a.get("recvcount", 0)))
            root = a.get("root", a.get("peer", 0))
            text = ("%s: opCount %x sendbuff %s recvbuff %s count %d datatype %d op %d root %d "
                    "comm %s [nranks=%d] stream %s" %
                    (OPS[fn], max(e["op_seq"] - 1, 0), ptr(send), ptr(recv), count,
                     enum(a.get("datatype"), DTYPES), enum(a.get("op", 0), REDOPS), root, c,
                     comm_size.get((r, c), 0), ptr(a.get("stream", 0))))
        if text is not None:
            lines.setdefault(r if per_rank else 0, []).append(prefix + text)
            if noise and len(lines[r if per_rank else 0]) % 3 == 0:
                lines[r if per_rank else 0].append("step done, loss 0.25 (not an NCCL line)")
    for k, ls in lines.items():
        with open(out + (".%d" % k if per_rank else ""), "w") as f:
            f.write("\n".join(ls) + "\n")


if __name__ == "__main__":
    main()
