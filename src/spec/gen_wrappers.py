#!/usr/bin/env python3
"""Generates the interposer's wrappers (src/interpose) from api_spec.py: for every function whose
wrapper is not written by hand, an exported definition with the real header's signature that
forwards to the real function and, at call depth 0, records an ApiCall event. Generated locals
start with '_' so they never meet a parameter name (apitrace's rule).

Usage: gen_wrappers.py OUT_FILE
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_spec  # noqa: E402
from api_spec import HOOKED, MANUAL  # noqa: E402
from gen_api import camel, generated_by, write_if_changed  # noqa: E402

HEADER = generated_by("gen_wrappers.py")


def encode_expr(a):
    """C++ expression giving the encoder's value for argument `a`."""
    if a.expr:
        return a.expr
    t = a.type
    n = a.name
    if a.repeated:
        count = a.count
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
    for b in f.buffers:
        if b.role != role:
            continue
        count = f"{b.count} * _data.nranks()" if b.per_rank else b.count
        holds = "true" if b.whose == "all" else "_data.IsRoot(root)"
        method = "Input" if role == "in" else "Output"
        lines.append(f"  if (_data.active()) _data.{method}({b.arg}, {count}, {holds});")
    return lines


def gen():
    out = [HEADER, '#include "interpose/wrapper_support.h"', "",
           "// clang-format off", "using ::ddrr::trace::FunctionId;", ""]
    for f in api_spec.FUNCTIONS:
        if f.wrapper == MANUAL:
            continue
        cargs = f.c_args
        ctypes = [a.ctype for a in cargs]
        params = ", ".join(f"{a.ctype} {a.name}" for a in cargs)
        names = ", ".join(a.name for a in cargs)
        ret = f.c_return
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
        if f.buffers:  # inputs are copied before the call, outside its measured time
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
        if f.wrapper == HOOKED:
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
        args = ", ".join(["_ev.encoder()"] + [encode_expr(a) for a in f.args])
        out.append(f"  ::ddrr::trace::Encode{camel(f.name)}({args});")
        out.append("  _ev.Commit(&_data);" if f.buffers else "  _ev.Commit();")
        if ret != "void":
            out.append("  return _result;")
        out.append("}")
        out.append("")
    out.append("// clang-format on")
    return "\n".join(out) + "\n"


def main():
    api_spec.validate()
    write_if_changed(sys.argv[1], gen())


if __name__ == "__main__":
    main()
