#!/usr/bin/env python3
"""Generates, from api_spec.py: api.proto, api_encode.h (interposer-side encoders that need no
libprotobuf), api_table.{h,cc} (function/argument metadata for dumpers, analysis and replay),
api_views.{h,cc} (reader-side: a collective's or send/recv's arguments, whichever function it is)
and api_samples.cc (deterministic sample calls for round-trip tests and benchmarks).

Usage: gen_api.py OUT_DIR
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from api_spec import FUNCTIONS, ENUMS, LIBRARY_IDS  # noqa: E402
from gen_common import (API_CALL_FIELD_BASE, api_call_field, camel, generated_by,  # noqa: E402
                        snake, value_form, write_outputs)


def enum_value_name(enum, value_name):
    prefix = snake(enum).upper()
    return f"{prefix}_{value_name}"


HEADER = generated_by("gen_api.py")


# ---- api.proto ------------------------------------------------------------------------------
def gen_proto():
    out = [HEADER.replace("//", "//"), 'syntax = "proto3";', "", "package ddrr.trace;", "",
           'import "ddrr/options.proto";', ""]
    for name, values in ENUMS.items():
        out.append(f"enum {name} {{")
        if not any(v == 0 for _, v in values):
            out.append(f"  {enum_value_name(name, 'UNSPECIFIED')} = 0;")
        for vname, v in values:
            out.append(f"  {enum_value_name(name, vname)} = {v} [(.ddrr.trace.c_enum_value) = \"{vname}\"];")
        out.append("}")
        out.append("")
    out += ["// A CUDA launch geometry.",
            "message Dim3 {", "  uint32 x = 1;", "  uint32 y = 2;", "  uint32 z = 3;", "}", "",
            "// ncclConfig_t as the application filled it (fields left NCCL_CONFIG_UNDEF_* are",
            "// absent).",
            "message NcclConfig {",
            "  optional int32 blocking = 1;", "  optional int32 cga_cluster_size = 2;",
            "  optional int32 min_ctas = 3;", "  optional int32 max_ctas = 4;",
            "  optional string net_name = 5;", "  optional int32 split_share = 6;",
            "  optional int32 traffic_class = 7;", "  optional string comm_name = 8;",
            "  optional int32 collnet_enable = 9;", "  optional int32 cta_policy = 10;",
            "  optional int32 shrink_share = 11;", "  optional int32 nvls_ctas = 12;",
            "  optional int32 n_channels_per_net_peer = 13;",
            "  optional int32 nvlink_centric_sched = 14;", "}", ""]
    for f in FUNCTIONS:
        opts = [f'option (.ddrr.trace.c_name) = "{f.name}";', f'option (.ddrr.trace.library) = "{f.library}";',
                f'option (.ddrr.trace.category) = "{f.category}";']
        if f.result:
            opts.append(f'option (.ddrr.trace.result_enum) = "{f.result}";')
        if f.comm_arg:
            opts.append(f'option (.ddrr.trace.comm_arg) = "{f.comm_arg}";')
        out.append(f"message {camel(f.name)} {{")
        for o in opts:
            out.append(f"  {o}")
        for i, a in enumerate(f.args, start=1):
            fo = [f"(.ddrr.trace.arg_kind) = {a.type.kind}"]
            if a.type.handle:
                fo.append(f'(.ddrr.trace.handle_family) = "{a.type.handle}"')
            if a.direction == "out":
                fo.append("(.ddrr.trace.out) = true")
            rep = "repeated " if a.repeated else ""
            out.append(f"  {rep}{a.type.proto} {a.name} = {i} [{', '.join(fo)}];")
        out.append("}")
        out.append("")
    out += ["// One intercepted call, as the application made it.",
            "message ApiCall {",
            "  sint64 result = 1;        // return code the application saw",
            "  uint64 duration_ns = 2;   // time inside the real call",
            "  fixed64 comm_key = 3;     // job-wide communicator key (0: none), same on every rank",
            "  uint64 op_seq = 4;        // per-communicator op number, from 1 (readers set it: Event.op_seq)",
            "  uint32 group_depth = 5;   // ncclGroupStart nesting when called",
            "  bool graph_captured = 6;  // its stream was capturing a CUDA graph",
            "  uint32 call_depth = 7;    // >0: made by an intercepted library, not the app",
            "  // A split's or shrink's new communicator, asked of NCCL as the call returned: its",
            "  // size (0: not asked, or not ready yet) and this rank's place in it.",
            "  int32 created_nranks = 8;",
            "  int32 created_rank = 9;",
            "  oneof fn {"]
    for f in FUNCTIONS:
        out.append(f"    {camel(f.name)} {snake(f.name)} = {api_call_field(f)};")
    out += ["  }", "}", ""]
    return "\n".join(out)


# ---- api_encode.h ---------------------------------------------------------------------------
def cpp_param(a):
    t = a.type
    if a.repeated:
        if t.wire == "bytes":
            return f"std::span<const std::string_view> {a.name}"
        return f"std::span<const {t.cpp}> {a.name}"
    return f"{t.cpp} {a.name}"


# The statement writing argument {n} as field {i}, by its value_form.
ENCODE_STMT = {
    "repeated_bytes": "for (auto v : {n}) e.Bytes({i}, v);",
    "packed": "e.PackedVarint({i}, {n});",
    "varint": "e.Varint({i}, static_cast<uint64_t>({n}));",
    "float": "e.Float({i}, {n});",
    "double": "e.Double({i}, {n});",
    "bytes": "e.Bytes({i}, {n});",
    "Dim3": "EncodeDim3(e, {i}, {n});",
    "NcclConfig": "if ({n}) EncodeNcclConfig(e, {i}, *{n});",
}


def enc_stmt(i, a):
    return ENCODE_STMT[value_form(a)].format(i=i, n=a.name)


def gen_encode_h():
    out = [HEADER, "#pragma once", "", "#include <cstdint>", "#include <span>",
           "#include <string_view>", "", '#include "trace/wire_encoder.h"', "",
           "namespace ddrr::trace {", ""]
    for f in FUNCTIONS:
        params = ", ".join(["WireEncoder& e"] + [cpp_param(a) for a in f.args])
        out.append(f"// {f.name} (ApiCall.fn = {api_call_field(f)})")
        out.append(f"inline void Encode{camel(f.name)}({params}) {{")
        out.append(f"  const size_t m = e.BeginMessage({api_call_field(f)});")
        for i, a in enumerate(f.args, start=1):
            out.append("  " + enc_stmt(i, a))
        out.append("  e.EndMessage(m);")
        out.append("}")
        out.append("")
    out += ["}  // namespace ddrr::trace", ""]
    return "\n".join(out)


# ---- api_table ------------------------------------------------------------------------------
def gen_table_h():
    ids = "\n".join(f"  k{camel(f.name)} = {f.id}," for f in FUNCTIONS)
    library_tests = "\n".join(
        f"inline constexpr bool Is{camel(lib)}Function(uint32_t id) {{ return id >= {first} && id < {end}; }}"
        for lib, (first, end) in LIBRARY_IDS.items())
    return HEADER + f"""#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace ddrr::trace {{

// Function ids of api_spec.py; ApiCall.fn field number = kApiCallFieldBase + id.
inline constexpr uint32_t kApiCallFieldBase = {API_CALL_FIELD_BASE};
enum class FunctionId : uint32_t {{
{ids}
}};

enum class ArgType : uint8_t {{
  kInt, kSize, kFlags, kFloat, kPointer, kFunction, kString, kBytes, kUniqueId, kHandle, kEnum,
  kDim3, kConfig
}};

struct ArgInfo {{
  std::string_view name;
  ArgType type;
  std::string_view handle_family;  // "comm", "stream", ... for kHandle
  std::string_view enum_name;      // for kEnum
  bool out;
  bool repeated;
}};

struct FunctionInfo {{
  FunctionId id;
  std::string_view name;
  std::string_view library;
  std::string_view category;
  std::string_view result_enum;
  int comm_arg;  // index into args, -1 if none
  std::span<const ArgInfo> args;
  std::string_view replay;  // how comm replay treats it: "issue", "custom" or "skip"
  // How application replay treats it: "real", "peer", "recorded", "device" or "group".
  std::string_view app;
}};

std::span<const FunctionInfo> AllFunctions();
const FunctionInfo* FindFunction(FunctionId id);
const FunctionInfo* FindFunction(std::string_view name);
inline uint32_t ApiCallField(FunctionId id) {{
  return kApiCallFieldBase + static_cast<uint32_t>(id);
}}
// The function a recorded call's ApiCall.fn field number (its fn_case()) stands for.
inline FunctionId FunctionOfField(uint32_t field) {{
  return static_cast<FunctionId>(field - kApiCallFieldBase);
}}
// Which library a function id belongs to (each library's ids are one range, api_spec.py).
{library_tests}

}}  // namespace ddrr::trace
"""


KIND_CPP = {"ARG_INT": "kInt", "ARG_SIZE": "kSize", "ARG_FLAGS": "kFlags", "ARG_FLOAT": "kFloat",
            "ARG_POINTER": "kPointer", "ARG_FUNCTION": "kFunction", "ARG_STRING": "kString",
            "ARG_BYTES": "kBytes", "ARG_UNIQUE_ID": "kUniqueId", "ARG_HANDLE": "kHandle",
            "ARG_ENUM": "kEnum", "ARG_DIM3": "kDim3", "ARG_CONFIG": "kConfig"}


def gen_table_cc():
    out = [HEADER, '#include "spec/api_table.h"', "", "#include <algorithm>", "",
           "namespace ddrr::trace {", "namespace {", ""]
    for f in FUNCTIONS:
        if not f.args:
            continue
        out.append(f"constexpr ArgInfo k{camel(f.name)}Args[] = {{")
        for a in f.args:
            en = a.type.proto if a.type.kind == "ARG_ENUM" else ""
            out.append(f'    {{"{a.name}", ArgType::{KIND_CPP[a.type.kind]}, "{a.type.handle}", '
                       f'"{en}", {str(a.direction == "out").lower()}, '
                       f'{str(a.repeated).lower()}}},')
        out.append("};")
    out.append("")
    out.append("const FunctionInfo kFunctions[] = {")
    for f in FUNCTIONS:
        comm = [a.name for a in f.args].index(f.comm_arg) if f.comm_arg else -1
        args = f"k{camel(f.name)}Args" if f.args else "std::span<const ArgInfo>()"
        out.append(f'    {{FunctionId::k{camel(f.name)}, "{f.name}", "{f.library}", '
                   f'"{f.category}", "{f.result}", {comm}, {args}, "{f.replay}", "{f.app}"}},')
    out += ["};", "", "}  // namespace", "",
            "std::span<const FunctionInfo> AllFunctions() { return kFunctions; }", "",
            "const FunctionInfo* FindFunction(FunctionId id) {",
            "  switch (id) {"] + [f"    case FunctionId::k{camel(f.name)}: return &kFunctions[{i}];"
                                  for i, f in enumerate(FUNCTIONS)] + [
            "  }",
            "  return nullptr;", "}", "",
            "const FunctionInfo* FindFunction(std::string_view name) {",
            "  for (const auto& f : kFunctions)",
            "    if (f.name == name) return &f;",
            "  return nullptr;", "}", "",
            "}  // namespace ddrr::trace", ""]
    return "\n".join(out)


# ---- api_samples.cc: one deterministic call per function --------------------------------------
# The sample value of an argument, by its value_form; {base} is a deterministic 64-bit number,
# {ids} the sample's function id, argument index and salt.
SAMPLE_EXPR = {
    "repeated_bytes": "std::span<const std::string_view>(SampleStrings({ids}))",
    "packed": "std::span<const {cpp}>(Sample{ints_or_u64s}({ids}))",
    "float": "static_cast<float>({base} % 1000) / 8.0f",
    "double": "static_cast<double>({base} % 100000) / 16.0",
    "bytes": "SampleString({ids})",
    "Dim3": "Dim3Value{{uint32_t({base} % 65536), 1, uint32_t({base} % 7)}}",
    "NcclConfig": "&SampleConfig(salt)",
}


def sample_varint(t):
    if t.cpp == "int64_t":
        if t.kind == "ARG_ENUM":
            return "static_cast<int64_t>({base} % 3)"
        return "static_cast<int64_t>({base} % 4096) - 64"
    if t.proto == "uint32":
        return "({base} & 0xffffffffu)"
    return "{base}"


def sample_expr(f, i, a):
    t = a.type
    form = value_form(a)
    template = sample_varint(t) if form == "varint" else SAMPLE_EXPR[form]
    ids = f"{f.id}, {i}, salt"
    return template.format(ids=ids, base=f"SampleU64({ids})", cpp=t.cpp,
                           ints_or_u64s="Ints" if t.cpp == "int64_t" else "U64s")


def gen_samples_cc():
    out = [HEADER, '#include "spec/api_samples.h"', "", '#include "spec/api_encode.h"', "",
           "namespace ddrr::trace {", "", "void EncodeSampleCall(WireEncoder& e, FunctionId id, "
           "uint64_t salt) {", "  switch (id) {"]
    for f in FUNCTIONS:
        args = ", ".join(["e"] + [sample_expr(f, i, a) for i, a in enumerate(f.args, start=1)])
        out.append(f"    case FunctionId::k{camel(f.name)}:")
        out.append(f"      Encode{camel(f.name)}({args});")
        out.append("      return;")
    out += ["  }", "}", "", "}  // namespace ddrr::trace", ""]
    return "\n".join(out)


# ---- api_views: the arguments of a collective or send/recv, read from its message ------------
VIEWS_H = HEADER + """#pragma once

#include <cstdint>

#include "ddrr/api.pb.h"
#include "spec/api_table.h"

namespace ddrr::trace {

// A data buffer of a collective or send/recv call (api_spec.py, Function.buffers).
struct BufferView {
  bool output = false;
  uint64_t ptr = 0;
  uint64_t count = 0;      // the call's count argument
  bool per_rank = false;   // holds `count` elements for each rank of the communicator
  bool root_only = false;  // only the root's buffer matters
  uint64_t Elements(int64_t nranks) const {
    return per_rank ? count * static_cast<uint64_t>(nranks > 0 ? nranks : 0) : count;
  }
};

// A collective's or send/recv's arguments, whichever function it is.
struct OpView {
  FunctionId fn{};
  uint64_t comm = 0;
  uint64_t stream = 0;
  uint64_t count = 0;     // count / sendcount / recvcount: the function's count argument
  int32_t datatype = -1;  // ncclDataType_t
  int32_t redop = -1;     // ncclRedOp_t; -1: the function reduces nothing
  int32_t root = -1;      // -1: not a rooted collective
  int32_t peer = -1;      // -1: not a send/recv
  uint32_t nbuffers = 0;
  BufferView buffers[2];
  bool p2p() const { return peer >= 0; }
};

// Fills `view` from a collective or send/recv call; false for any other call.
bool ViewOp(const ApiCall& call, OpView* view);

// Sets the pointer of buffer `i` of a collective or send/recv call (OpView::buffers[i]); false
// for any other call. Buffers that are one argument (ncclBcast's buff) are set together.
bool SetOpBuffer(ApiCall* call, uint32_t i, uint64_t ptr);

}  // namespace ddrr::trace
"""


def gen_views_cc():
    out = [HEADER, '#include "spec/api_views.h"', "", "namespace ddrr::trace {", "",
           "bool ViewOp(const ApiCall& call, OpView* v) {", "  *v = OpView{};",
           "  switch (call.fn_case()) {"]
    for f in FUNCTIONS:
        if not f.buffers:
            continue
        names = [a.name for a in f.args]
        count = f.buffers[0].count
        out.append(f"    case ApiCall::k{camel(f.name)}: {{")
        out.append(f"      const auto& m = call.{snake(f.name)}();")
        out.append(f"      v->fn = FunctionId::k{camel(f.name)};")
        out.append("      v->comm = m.comm();")
        out.append("      v->stream = m.stream();")
        out.append(f"      v->count = m.{count}();")
        out.append("      v->datatype = static_cast<int32_t>(m.datatype());")
        if "op" in names:
            out.append("      v->redop = static_cast<int32_t>(m.op());")
        for field in ("root", "peer"):
            if field in names:
                out.append(f"      v->{field} = static_cast<int32_t>(m.{field}());")
        out.append(f"      v->nbuffers = {len(f.buffers)};")
        for i, b in enumerate(f.buffers):
            out.append(f"      v->buffers[{i}] = {{{str(b.role == 'out').lower()}, m.{b.arg}(), "
                       f"m.{b.count}(), {str(b.per_rank).lower()}, "
                       f"{str(b.whose == 'root').lower()}}};")
        out.append("      return true;")
        out.append("    }")
    out += ["    default:", "      return false;", "  }", "}", "",
            "bool SetOpBuffer(ApiCall* call, uint32_t i, uint64_t ptr) {",
            "  switch (call->fn_case()) {"]
    for f in FUNCTIONS:
        if not f.buffers:
            continue
        out.append(f"    case ApiCall::k{camel(f.name)}:")
        out.append(f"      if (i >= {len(f.buffers)}) return false;")
        for i, b in enumerate(f.buffers):
            out.append(f"      if (i == {i}) call->mutable_{snake(f.name)}()->set_{b.arg}(ptr);")
        out.append("      return true;")
    out += ["    default:", "      return false;", "  }", "}", "",
            "}  // namespace ddrr::trace", ""]
    return "\n".join(out)


def main():
    write_outputs(sys.argv[1], {
        "ddrr/api.proto": gen_proto,
        "spec/api_encode.h": gen_encode_h,
        "spec/api_table.h": gen_table_h,
        "spec/api_table.cc": gen_table_cc,
        "spec/api_samples.cc": gen_samples_cc,
        "spec/api_views.h": lambda: VIEWS_H,
        "spec/api_views.cc": gen_views_cc,
    })


if __name__ == "__main__":
    main()
