#!/usr/bin/env python3
"""Assertions on `ddrr check --json` output, checked against the trace itself (`ddrr dump
--json`), so a finding is right only if it points at the calls the fault really produced.

  expect.py CHECK_JSON DUMP_JSON first KIND RANKS [--op N] [--comm KEY] [--msg TEXT]
            [--call RANK:FN] [--comm-rank-note CR:NOTE]
  expect.py CHECK_JSON DUMP_JSON has KIND RANKS
  expect.py CHECK_JSON DUMP_JSON schema

RANKS is a comma list ("2", "0,2"). --call RANK:FN: the finding quotes RANK's call FN, and
the dump has exactly that call at that seq, on the finding's communicator, with the finding's
op number when it has one.
"""
import json
import sys

ORDER = [
    "comm-size-mismatch", "duplicate-rank", "duplicate-device", "missing-from-init",
    "split-inconsistent", "mismatched-collective", "unmatched-p2p", "mismatched-p2p",
    "missing-participant", "comm-abort", "nccl-async-error", "nccl-error", "cuda-error",
    "nan-appeared", "data-divergence", "not-completed", "straggler",
]
CLASS = [0] * 5 + [1] * 3 + [2] + [3] * 4 + [4] * 2 + [5] * 2
FINDING_KEYS = {"kind", "severity", "comm_key", "comm_size", "parent_key", "op_seq", "ranks",
                "message", "evidence", "time_unix_ns", "calls"}


def fail(msg, findings):
    print("expect.py: " + msg, file=sys.stderr)
    for f in findings[:4]:
        print(json.dumps(f), file=sys.stderr)
    sys.exit(1)


def main():
    check_path, dump_path, what = sys.argv[1], sys.argv[2], sys.argv[3]
    findings = [json.loads(l) for l in open(check_path) if l.strip()]
    events = {}
    if dump_path != "-":
        for l in open(dump_path):
            e = json.loads(l)
            events[(e["rank"], e["seq"])] = e
    # Always: the schema, and report order by class.
    for f in findings:
        if set(f) != FINDING_KEYS:
            fail("keys %s" % sorted(set(f) ^ FINDING_KEYS), findings)
        for c in f["calls"]:
            if not {"rank", "comm_rank", "last_op"} <= set(c):
                fail("call keys %s" % c, findings)
    classes = [CLASS[ORDER.index(f["kind"])] for f in findings]
    if classes != sorted(classes):
        fail("not sorted root causes first: %s" % [f["kind"] for f in findings], findings)
    if what == "schema":
        return
    kind, ranks = sys.argv[4], [int(r) for r in sys.argv[5].split(",") if r]
    if what == "has":
        if not any(f["kind"] == kind and f["ranks"] == ranks for f in findings):
            fail("no %s finding for ranks %s" % (kind, ranks), findings)
        return
    if not findings:
        fail("no findings", findings)
    f = findings[0]
    if f["kind"] != kind or f["ranks"] != ranks:
        fail("first finding is %s %s, want %s %s" % (f["kind"], f["ranks"], kind, ranks), findings)
    args = sys.argv[6:]
    while args:
        flag, value = args[0], args[1]
        args = args[2:]
        if flag == "--op" and f["op_seq"] != int(value):
            fail("op_seq %d, want %s" % (f["op_seq"], value), findings)
        elif flag == "--comm" and f["comm_key"] != value:
            fail("comm %s, want %s" % (f["comm_key"], value), findings)
        elif flag == "--msg" and value not in f["message"]:
            fail("message lacks %r" % value, findings)
        elif flag == "--call":
            rank, fn = value.split(":")
            calls = [c for c in f["calls"] if c["rank"] == int(rank) and c.get("fn") == fn]
            if not calls:
                fail("no %s call of rank %s quoted" % (fn, rank), findings)
            for c in calls:
                e = events.get((int(rank), c["seq"]))
                if not e or e.get("fn") != fn:
                    fail("rank %s seq %d is not %s in the trace: %s" % (rank, c["seq"], fn, e),
                         findings)
                if f["comm_key"] and e.get("comm_key") != f["comm_key"]:
                    fail("the quoted call is on comm %s" % e.get("comm_key"), findings)
                if c["op_seq"] and e.get("op_seq") != c["op_seq"]:
                    fail("the quoted call is op %s in the trace" % e.get("op_seq"), findings)
        elif flag == "--comm-rank-note":
            cr, note = value.split(":", 1)
            if not any(c["comm_rank"] == int(cr) and note in c.get("note", "")
                       for c in f["calls"]):
                fail("no call of comm rank %s noted %r" % (cr, note), findings)
        elif flag not in ("--op", "--comm", "--msg"):
            fail("unknown flag " + flag, findings)


if __name__ == "__main__":
    main()
