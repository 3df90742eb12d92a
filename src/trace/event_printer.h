// EventPrinter: renders events of one rank as one text line or one JSON line each.
// Handles (comms, streams, ...) are numbered in order of first appearance ("comm1"); pointers
// inside a recorded allocation are shown as allocation+offset ("alloc2+0x400"); enum values and
// return codes by their C names. The printer keeps that state, so feed it every event of a rank
// in file order, printing only the ones wanted (Observe() for the others). HandleNumbering and
// AllocationMap are that state on their own, for comparisons that number what they compare.
//
// Thread-safety: none.
#pragma once

#include <google/protobuf/descriptor.h>

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>
#include <utility>

#include "ddrr/trace.pb.h"
#include "trace/trace_reader.h"

namespace ddrr::trace {

// One argument value of a recorded call, read through reflection whatever its C++ type.
struct ArgValue {
  google::protobuf::FieldDescriptor::CppType type{};
  int64_t i = 0;                                   // INT32, INT64, ENUM
  uint64_t u = 0;                                  // UINT32, UINT64
  double d = 0;                                    // FLOAT, DOUBLE
  std::string bytes;                               // STRING (strings and bytes)
  const google::protobuf::Message* sub = nullptr;  // MESSAGE; null when absent
};
// `k` < 0 reads a singular field, else element k of a repeated one.
ArgValue ReadArg(const google::protobuf::Message& m, const google::protobuf::FieldDescriptor* f,
                 int k);

// The C name of an enum value ("ncclFloat32"), else its number.
std::string EnumName(const google::protobuf::EnumDescriptor* e, int value);
// A trace.proto enum by its short name ("NcclResult"); null when empty or unknown.
const google::protobuf::EnumDescriptor* FindEnum(const std::string& name);

// The arguments of a call (its NcclAllReduce, CudaMalloc, ... message); null for a function this
// build does not know.
const google::protobuf::Message* CallArgs(const ApiCall& call);

// Handles numbered per family in order of first appearance: the first comm seen is comm1. The
// number is what two runs of one program share; the value is an address of the run.
class HandleNumbering {
 public:
  uint64_t Number(const std::string& family, uint64_t value);   // 0 for NULL
  std::string Name(const std::string& family, uint64_t value);  // "comm1", "NULL"
  // Numbers every handle argument of `call`, in argument order.
  void Observe(const ApiCall& call);

 private:
  std::unordered_map<std::string, std::unordered_map<uint64_t, uint64_t>> ids_;
};

// The allocations recorded calls made, numbered in order, while they live. Allocation calls
// (category memory) name their pointer first (out for allocations, in for frees) and the size
// "size". An allocation is known from its own call (cudaMalloc shows alloc1+0x0) until after
// the call that frees it (cudaFree still shows the allocation it frees): Before() a call's
// arguments are looked at, After() once done.
class AllocationMap {
 public:
  void Before(const ApiCall& call) { Track(call, /*after=*/false); }
  void After(const ApiCall& call) { Track(call, /*after=*/true); }
  // The number of the live allocation holding `addr` and the offset in it; false if none.
  bool Find(uint64_t addr, uint64_t* id, uint64_t* offset) const;

 private:
  struct Allocation {
    uint64_t id;
    uint64_t size;
  };
  void Track(const ApiCall& call, bool after);

  std::map<uint64_t, Allocation> by_base_;
  uint64_t next_ = 1;
};

class EventPrinter {
 public:
  explicit EventPrinter(int64_t rank) : rank_(rank) {}

  // Updates handle and allocation state without printing.
  void Observe(const Event& event);
  // Observe() + render.
  std::string Text(const Event& event, const EventPosition& pos);
  std::string Json(const Event& event, const EventPosition& pos);

  // Shared helpers for other reports.
  static std::string FunctionName(const ApiCall& call);  // "ncclAllReduce" or "unknown#N"
  static std::string ResultName(const ApiCall& call);    // "ncclSuccess" or the number
  static std::string Hex(uint64_t v);                    // "0x1a2b"
  static std::string KeyHex(uint64_t key);               // 16 hex digits, no prefix
  static std::string JsonString(std::string_view s);     // quoted and escaped
  // Header versions: NCCL_VERSION_CODE as "2.28.9" ("not loaded" for 0), a CUDA version code
  // as "13.0" ("unknown" for 0).
  static std::string NcclVersion(int code);
  static std::string CudaVersion(int code);

 private:
  // "alloc3+0x10" when `addr` lies in a live recorded allocation, else "".
  std::string AllocationOf(uint64_t addr, uint64_t* id, uint64_t* offset) const;
  void BeforePrint(const Event& event);
  void AfterPrint(const Event& event);
  std::string TextBody(const Event& event, const EventPosition& pos);
  std::string JsonBody(const Event& event, const EventPosition& pos);
  std::string TextValue(const google::protobuf::FieldDescriptor* f, const ArgValue& v);
  std::string JsonValue(const google::protobuf::FieldDescriptor* f, const ArgValue& v);
  std::string CallText(const ApiCall& call);
  std::string EnterText(const CallEnter& enter);
  // The function's name and one argument as {name, value} ({} when none).
  std::pair<std::string, std::pair<std::string, std::string>> EnterParts(const CallEnter& enter);
  std::string CallJson(const ApiCall& call);

  int64_t rank_;
  HandleNumbering handles_;
  AllocationMap allocations_;
};

}  // namespace ddrr::trace
