// EventPrinter: renders events of one rank as one text line or one JSON line each.
// Handles (comms, streams, ...) are numbered in order of first appearance ("comm1"); pointers
// inside a recorded allocation are shown as allocation+offset ("alloc2+0x400"); enum values and
// return codes by their C names. The printer keeps that state, so feed it every event of a rank
// in file order, printing only the ones wanted (Observe() for the others).
//
// Thread-safety: none.
#pragma once

#include <google/protobuf/descriptor.h>

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>

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

 private:
  struct Allocation {
    uint64_t id;
    uint64_t size;
  };
  std::string HandleName(const std::string& family, uint64_t value);
  // "alloc3+0x10" when `addr` lies in a live recorded allocation, else "".
  std::string AllocationOf(uint64_t addr, uint64_t* id, uint64_t* offset) const;
  void BeforePrint(const Event& event);
  void TrackMemory(const ApiCall& call, bool after_print);
  std::string TextBody(const Event& event, const EventPosition& pos);
  std::string JsonBody(const Event& event, const EventPosition& pos);
  std::string TextValue(const google::protobuf::FieldDescriptor* f, const ArgValue& v);
  std::string JsonValue(const google::protobuf::FieldDescriptor* f, const ArgValue& v);
  std::string CallText(const ApiCall& call);
  std::string CallJson(const ApiCall& call);

  int64_t rank_;
  std::unordered_map<std::string, std::unordered_map<uint64_t, uint64_t>> handles_;
  std::unordered_map<std::string, uint64_t> next_handle_;
  std::map<uint64_t, Allocation> allocations_;  // by base address
  uint64_t next_allocation_ = 1;
};

}  // namespace ddrr::trace
