#!/usr/bin/env python3
"""Generates comm replay's entries (src/replay/rank) from api_spec.py:

- replay_entries.cc: ReplayCall(), one case per function a replay re-issues. For `replay=ISSUE`
  functions the case maps every recorded argument to its live counterpart (handles through the
  rank's handle tables, pointers through its allocations, enums and numbers as recorded), calls
  the real function and binds the handles it creates; `replay=CUSTOM` cases call the hand-written
  entry of the same name in src/replay/rank/custom_entries.cc.
- replay_custom.h: the declaration of every custom entry, so a function marked CUSTOM without an
  entry does not link.

Usage: gen_replay.py OUT_DIR
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from api_spec import CUSTOM, FUNCTIONS, ISSUE  # noqa: E402
from gen_common import camel, generated_by, snake, write_outputs  # noqa: E402

HEADER = generated_by("gen_replay.py")

# Handle family -> the Call method that maps a recorded handle, and the one that binds a new one.
HANDLES = {"comm": "Comm", "stream": "Stream", "event": "Event",
           "ncclRegistration": "Registration", "ncclWindow": "Window"}


def in_expr(f, a):
    """The live value of input argument `a`, from the recorded message `m`."""
    t, v = a.type, f"m.{a.name}()"
    assert not a.repeated and not a.derived, f"{f.name}.{a.name}: make the function CUSTOM"
    if t.kind == "ARG_HANDLE":
        assert t.handle in HANDLES, f"{f.name}.{a.name}: no replay mapping for {t.handle}"
        return f"c.{HANDLES[t.handle]}({v})"
    if t.kind == "ARG_POINTER":
        return f"c.Pointer({v})"
    if t.kind == "ARG_CONFIG":
        return f"c.Config(m.has_{a.name}() ? &m.{a.name}() : nullptr)"
    if t.proto == "NcclRedOp":
        return f"c.RedOp({v})"
    if t.kind in ("ARG_INT", "ARG_SIZE", "ARG_FLAGS", "ARG_ENUM", "ARG_FLOAT"):
        return f"static_cast<{a.ctype}>({v})"
    raise AssertionError(f"{f.name}.{a.name}: no replay mapping for {t.kind}; make it CUSTOM")


def out_local(f, a):
    """The C type of the local an output argument is written into."""
    assert a.ctype.endswith("*") and not a.repeated and not a.expr, f"{f.name}.{a.name}"
    return a.ctype[:-1].strip()


def issue_case(f):
    lines = [f"      const auto& m = call.{snake(f.name)}();"] if f.c_args else []
    names, binds = [], []
    for a in f.c_args:
        local = f"_{a.name}"
        if a.direction == "out":
            lines.append(f"      {out_local(f, a)} {local}{{}};")
            names.append(f"&{local}")
            if a.type.kind == "ARG_HANDLE":
                binds.append(f"c.Bind{HANDLES[a.type.handle]}(m.{a.name}(), {local});")
        else:
            lines.append(f"      const auto {local} = {in_expr(f, a)};")
            names.append(local)
    lines.append("      if (!c.resolved()) return c.Unresolved();")
    call = f"{f.name}({', '.join(names)})"
    if binds:
        lines.append(f"      const auto _result = {call};")
        lines.append("      if (Call::Succeeded(_result)) {")
        lines += [f"        {b}" for b in binds]
        lines.append("      }")
        lines.append("      return c.Issued(_result);")
    else:
        lines.append(f"      return c.Issued({call});")
    return lines


def gen_entries():
    out = [HEADER, '#include "replay/rank/call.h"', "",
           '#include "replay/rank/replay_custom.h"', "",
           "namespace ddrr::replay {", "",
           "CallOutcome ReplayCall(const trace::ApiCall& call, Call& c) {",
           "  switch (call.fn_case()) {"]
    for f in FUNCTIONS:
        if f.replay == ISSUE:
            out.append(f"    case trace::ApiCall::k{camel(f.name)}: {{")
            out += issue_case(f)
            out.append("    }")
        elif f.replay == CUSTOM:
            out.append(f"    case trace::ApiCall::k{camel(f.name)}:")
            out.append(f"      return custom::{camel(f.name)}(call.{snake(f.name)}(), c);")
    out += ["    default:", "      return c.NotReplayed();", "  }", "}", "",
            "}  // namespace ddrr::replay", ""]
    return "\n".join(out)


def gen_custom_h():
    out = [HEADER, "#pragma once", "", '#include "replay/rank/call.h"', "",
           "namespace ddrr::replay::custom {", ""]
    for f in FUNCTIONS:
        if f.replay == CUSTOM:
            out.append(f"CallOutcome {camel(f.name)}(const trace::{camel(f.name)}& m, Call& c);")
    out += ["", "}  // namespace ddrr::replay::custom", ""]
    return "\n".join(out)


def main():
    write_outputs(sys.argv[1], {"replay/rank/replay_entries.cc": gen_entries,
                                "replay/rank/replay_custom.h": gen_custom_h})


if __name__ == "__main__":
    main()
