#!/usr/bin/env python3
"""Generates the interposer's wrappers (src/interpose) from api_spec.py: for every function whose
wrapper is not written by hand, an exported definition with the real header's signature that
forwards to the real function and, at call depth 0, records an ApiCall event; in replay mode
(interpose/app_replay.h) it first compares the call with the recording, and serves it from the
recording where the recording says so. Generated locals
start with '_' so they never meet a parameter name (apitrace's rule).

Usage: gen_wrappers.py OUT_FILE
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import api_spec  # noqa: E402
from api_spec import HOOKED, MANUAL  # noqa: E402
from gen_common import camel, generated_by, write_outputs  # noqa: E402

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


def replay_in_lines(f):
    """Replay mode, before the call: the arguments as the recording compares them."""
    lines = []
    for i, a in enumerate(f.args):
        if a.direction != "in" or a.derived or a.repeated:
            continue
        k = a.type.kind
        if k in ("ARG_INT", "ARG_SIZE", "ARG_FLAGS", "ARG_FLOAT", "ARG_ENUM"):
            lines.append(f"    _rp.Scalar({i}, ::ddrr::interpose::Scalar({a.name}));")
        elif k == "ARG_POINTER":
            lines.append(f"    _rp.Pointer({i}, {a.name});")
        elif k == "ARG_HANDLE":
            lines.append(f"    _rp.Handle({i}, \"{a.type.handle}\", "
                         f"reinterpret_cast<const void*>({a.name}));")
    for b in f.buffers:
        if b.role == "in":
            stream = next(a.name for a in f.args if a.type.handle == "stream")
            idx = [a.name for a in f.args].index(b.arg)
            lines.append(f"    _rp.Input({idx}, {b.arg}, {stream});")
    return lines


def serve_lines(f, ret):
    """Replay mode, a served call: what the recording says it wrote, and its result."""
    lines = []
    for i, a in enumerate(f.args):
        if a.direction != "out" or a.expr:
            continue
        k = a.type.kind
        target = f"std::remove_pointer_t<decltype({a.name})>"
        if k == "ARG_HANDLE" and a.repeated:
            lines.append(f"      for (int _k = 0; {a.name} && _k < {a.count}; ++_k) {a.name}[_k] = "
                         f"reinterpret_cast<{target}>(_rp.NewHandle({i}, \"{a.type.handle}\", _k));")
        elif k == "ARG_HANDLE":
            lines.append(f"      if ({a.name}) *{a.name} = reinterpret_cast<{target}>("
                         f"_rp.NewHandle({i}, \"{a.type.handle}\"));")
        elif k == "ARG_UNIQUE_ID":
            lines.append(f"      if ({a.name}) _rp.OutBytes({i}, {a.name}->internal, "
                         f"NCCL_UNIQUE_ID_BYTES);")
        elif k == "ARG_FLOAT":
            lines.append(f"      if ({a.name}) *{a.name} = static_cast<{target}>(_rp.OutFloat({i}));")
        elif k in ("ARG_INT", "ARG_ENUM", "ARG_SIZE", "ARG_FLAGS"):
            lines.append(f"      if ({a.name}) *{a.name} = static_cast<{target}>(_rp.OutScalar({i}));")
    out = ["    if (_rp.writes_outputs()) {"] + lines + ["    }"] if lines else []
    for b in f.buffers:
        if b.role == "out":
            stream = next(a.name for a in f.args if a.type.handle == "stream")
            out.append(f"    _rp.WriteOutput({b.arg}, {stream});")
    if ret == "const char*":
        out.append("    _result = \"\";")
    elif ret != "void":
        out.append(f"    _result = static_cast<{ret}>(_rp.recorded_result());")
    return out


def replay_after_lines(f, ret):
    """Replay mode, after the call: handles it made, allocations, the result it answers."""
    lines = []
    for i, a in enumerate(f.args):
        if a.direction == "out" and a.type.kind == "ARG_HANDLE" and not a.repeated:
            lines.append(f"    _rp.OutHandle({i}, \"{a.type.handle}\", "
                         f"{a.name} ? reinterpret_cast<const void*>(*{a.name}) : nullptr);")
    first = f.args[0] if f.args else None
    if f.category == "memory" and first is not None and first.type.kind == "ARG_POINTER":
        ok = "::ddrr::interpose::ResultCode(_result) == 0"
        if first.direction == "out":
            lines.append(f"    if ({ok} && {first.name}) _rp.Allocated(*{first.name}, size);")
        else:
            lines.append(f"    if ({ok}) _rp.Freed({first.name});")
    if ret in ("const char*", "void"):
        lines.append("    _rp.After(0);")
    else:
        lines.append(f"    _result = static_cast<{ret}>(_rp.After("
                     f"::ddrr::interpose::ResultCode(_result)));")
    return lines


def in_flight_comm(f):
    """The communicator a blocking call waits on, as the in-flight table records it."""
    arg = next((a for a in f.args if a.name == f.comm_arg), None)
    if arg is None or arg.direction != "in":
        return "nullptr"  # none, or one being created
    return f"reinterpret_cast<const void*>({arg.name})"


def in_flight_detail(f):
    """What a reader shows of a call in progress: a communicator being created, its size or a
    split's color; a collective, its element count; a send/recv, its peer + 1 (0: unknown), the
    rank it waits for."""
    names = [a.name for a in f.c_args]
    if f.category == "p2p" and "peer" in names:
        return "static_cast<int64_t>(peer) + 1"
    wanted = {"comm_create": ("nranks", "color", "ndev"),
              "collective": ("count", "sendcount", "recvcount")}.get(f.category, ())
    for n in wanted:
        if n in names:
            return f"static_cast<int64_t>({n})"
    return "0"


def real_call(f):
    """The real call in replay mode: devices mapped, queries waited for."""
    names = []
    for a in f.c_args:
        if f.app == api_spec.DEVICE and a.name == "device":
            names.append("_rp.MapDevice(device)")
        else:
            names.append(a.name)
    call = f"_real({', '.join(names)})"
    if f.app == api_spec.QUERY:
        call = f"(_rp.WaitForQuery({f.c_args[0].name}), {call})"
    return call


def gen():
    out = [HEADER, '#include "interpose/wrapper_support.h"', '#include "interpose/app_replay.h"',
           "", "#include <type_traits>", "",
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
        out.append(f"  if (!_guard.recording() && !_guard.replaying()) return {call};")
        out.append(f"  ::ddrr::interpose::ReplayStep _rp(FunctionId::k{camel(f.name)}, _guard.replaying());")
        out.append("  if (_rp.active()) {")
        out += replay_in_lines(f)
        out.append("    _rp.Check();")
        out.append("  }")
        if f.buffers:  # inputs are copied before the call, outside its measured time
            stream = next(a.name for a in f.args if a.type.handle == "stream")
            out.append(f"  ::ddrr::interpose::DataCapture _data(datatype, {f.comm_arg}, {stream}, "
                       f"_guard.recording());")
            out += data_lines(f, "in")
        out.append("  const uint64_t _t0 = ::ddrr::interpose::NowNs();")
        if f.blocking:
            out.append(f"  ::ddrr::interpose::InFlightCall _in_flight(_guard.recording() && "
                       f"!_rp.serves(), FunctionId::k{camel(f.name)}, {in_flight_comm(f)}, "
                       f"{in_flight_detail(f)}, _t0);")
        if ret == "void":
            out.append(f"  {real_call(f)};")
            out.append("  if (_rp.active()) _rp.After(0);")
            result = "0"
        else:
            out.append(f"  {ret} _result;")
            out.append("  if (_rp.serves()) {")
            out += serve_lines(f, ret)
            out.append("  } else {")
            out.append(f"    _result = {real_call(f)};")
            out.append("  }")
            out.append("  if (_rp.active()) {")
            out += replay_after_lines(f, ret)
            out.append("  }")
            result = "::ddrr::interpose::ResultCode(_result)"
        out.append("  if (!_guard.recording()) return" + ("" if ret == "void" else " _result") + ";")
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
    write_outputs(os.path.dirname(sys.argv[1]), {os.path.basename(sys.argv[1]): gen})


if __name__ == "__main__":
    main()
