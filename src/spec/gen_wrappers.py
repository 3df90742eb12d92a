#!/usr/bin/env python3
"""Generates the interposer's wrappers (src/interpose) from api_spec.py: for every function with a
C signature in C_PARAMS, an exported definition with the real header's signature that forwards
to the real function and, at call depth 0, records an ApiCall event. Generated locals start
with '_' so they never meet a parameter name (apitrace's rule).

Usage: gen_wrappers.py OUT_FILE
"""

import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_spec  # noqa: E402
from api_spec import (BUFFERS, C_PARAMS, C_RESULT, EXTRA_ARGS, LIBRARY_RESULT,  # noqa: E402
                      OUT_EXPR, REPEAT_COUNT)
from gen_api import camel, write_if_changed, HEADER  # noqa: E402


def encode_expr(f, a, ctype):
    """C++ expression giving the encoder's value for argument `a` (C type `ctype`)."""
    key = (f.name, a.name)
    if key in EXTRA_ARGS:
        return EXTRA_ARGS[key]
    if key in OUT_EXPR:
        return OUT_EXPR[key]
    t = a.type
    n = a.name
    if a.repeated:
        count = REPEAT_COUNT[key]
        if t.kind == "ARG_UNIQUE_ID":
            return f"::ddrr::interpose::UniqueIds({n}, {count})"
        if t.cpp == "int64_t":
            return f"::ddrr::interpose::Ints({n}, {count})"
        return f"::ddrr::interpose::Handles({n}, {count})"
    if t.kind == "ARG_CONFIG":
        return f"::ddrr::interpose::Config({n})"
    if t.kind == "ARG_UNIQUE_ID":
        if a.direction == "out":
            return f"::ddrr::interpose::UniqueIdBytes({n})"
        return f"std::string_view({n}.internal, NCCL_UNIQUE_ID_BYTES)"
    value = f"(*{n})" if a.direction == "out" else n
    if a.direction == "out":
        # Read what the callee wrote; a null out-pointer reads as 0.
        inner = f"::ddrr::interpose::Scalar({value})"
        return f"({n} ? {inner} : {t.cpp}{{}})"
    return f"::ddrr::interpose::Scalar({value})"


def data_lines(f, role):
    """Statements staging the buffers of `role` ("in" or "out") of a collective or p2p call."""
    lines = []
    for r, buf, count, whose in BUFFERS.get(f.name, []):
        if r != role:
            continue
        count = re.sub(r"\bnranks\b", "_data.nranks()", count)
        holds = "true" if whose == "all" else "_data.IsRoot(root)"
        method = "Input" if role == "in" else "Output"
        lines.append(f"  if (_data.active()) _data.{method}({buf}, {count}, {holds});")
    return lines


def gen():
    out = [HEADER, '#include "interpose/wrapper_support.h"', "",
           "// clang-format off", "using ::ddrr::trace::FunctionId;", ""]
    for f in api_spec.FUNCTIONS:
        if f.name not in C_PARAMS:
            continue
        ctypes = C_PARAMS[f.name]
        cargs = [a for a in f.args if (f.name, a.name) not in EXTRA_ARGS]
        params = ", ".join(f"{ct} {a.name}" for ct, a in zip(ctypes, cargs))
        names = ", ".join(a.name for a in cargs)
        ret = C_RESULT.get(f.name, LIBRARY_RESULT[f.library])
        lib = f.library
        out.append(f"extern \"C\" DDRR_EXPORT {ret} {f.name}({params}) {{")
        out.append(f"  using Fn = {ret} (*)({', '.join(ctypes)});")
        # A magic static: resolved once, thread-safely, on the first call (the library is loaded
        # by then, since the application is calling it).
        out.append(f"  static const Fn _real = reinterpret_cast<Fn>("
                   f"::ddrr::interpose::Resolve(::ddrr::interpose::Library::k{lib.capitalize()}, "
                   f"\"{f.name}\"));")
        if ret == "void":
            out.append(f"  if (_real == nullptr) return ::ddrr::interpose::Missing(\"{f.name}\");")
        else:
            out.append(f"  if (_real == nullptr) return ::ddrr::interpose::Missing<{ret}>(\"{f.name}\");")
        out.append("  ::ddrr::interpose::CallGuard _guard;")
        call = f"_real({names})"
        if ret == "void":
            out.append(f"  if (!_guard.recording()) return {call};")
        else:
            out.append(f"  if (!_guard.recording()) return {call};")
        if f.name in BUFFERS:  # inputs are copied before the call, outside its measured time
            stream = next(a.name for a in f.args if a.type.handle == "stream")
            out.append(f"  ::ddrr::interpose::DataCapture _data(datatype, {f.comm_arg}, {stream});")
            out += data_lines(f, "in")
        out.append("  const uint64_t _t0 = ::ddrr::interpose::NowNs();")
        if ret == "void":
            out.append(f"  {call};")
            result = "0"
        else:
            out.append(f"  auto _result = {call};")
            result = "::ddrr::interpose::ResultCode(_result)"
        out.append(f"  ::ddrr::interpose::CallEvent _ev(FunctionId::k{camel(f.name)}, _t0, {result});")
        # Communicator bookkeeping: created comms get their job-wide key; ops get op numbers.
        hook = f"::ddrr::interpose::hooks::{camel(f.name)}"
        if f.name in HOOKED:
            out.append(f"  {hook}(_ev, {names});")
        elif f.comm_arg:
            counts = "true" if f.category in ("collective", "p2p") else "false"
            out.append(f"  _ev.OnComm({f.comm_arg}, /*counts_op=*/{counts});")
        if f.category in ("collective", "p2p"):
            stream = next(a.name for a in f.args if a.type.handle == "stream")
            out.append(f"  _ev.OnStream({stream});")
            out += data_lines(f, "out")
        if f.category == "group":
            out.append(f"  _ev.OnGroup(FunctionId::k{camel(f.name)});")
        args = ", ".join(["_ev.encoder()"] + [encode_expr(f, a, None) for a in f.args])
        out.append(f"  ::ddrr::trace::Encode{camel(f.name)}({args});")
        out.append("  _ev.Commit(&_data);" if f.name in BUFFERS else "  _ev.Commit();")
        if ret != "void":
            out.append("  return _result;")
        out.append("}")
        out.append("")
    out.append("// clang-format on")
    return "\n".join(out) + "\n"


# Creation calls whose new communicators need keys (wrapper_support.h, namespace hooks).
HOOKED = {"ncclCommInitRank", "ncclCommInitRankConfig", "ncclCommInitAll",
          "ncclCommInitRankScalable", "ncclCommSplit", "ncclCommShrink"}


def main():
    api_spec.validate()
    write_if_changed(sys.argv[1], gen())


if __name__ == "__main__":
    main()
