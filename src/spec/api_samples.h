// Deterministic sample arguments for every function of the spec: the round-trip test encodes
// one call per function with these values and checks that libprotobuf reads back exactly them;
// benchmarks use them as realistic events. The values depend only on (function id, argument
// index, salt), so a test can recompute what it expects.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "spec/api_table.h"
#include "trace/wire_encoder.h"

namespace ddrr::trace {

// Encodes ApiCall.fn for function `id` with sample arguments (only the fn field).
void EncodeSampleCall(WireEncoder& e, FunctionId id, uint64_t salt);

inline uint64_t SampleU64(uint32_t fn, uint32_t arg, uint64_t salt) {
  uint64_t x = (uint64_t(fn) << 32) ^ (uint64_t(arg) << 16) ^ (salt * 0x9E3779B97F4A7C15ull);
  x ^= x >> 29;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 32;
  return (x & 0x0000ffffffffffffull) | 1;  // pointer-like, never zero
}

// Thread-local storage keeps the views valid until the next call on this thread.
inline std::string_view SampleString(uint32_t fn, uint32_t arg, uint64_t salt) {
  thread_local std::array<std::string, 8> ring;
  thread_local size_t next = 0;
  std::string& s = ring[next++ % ring.size()];
  s.assign(16 + SampleU64(fn, arg, salt) % 113, '\0');
  for (size_t i = 0; i < s.size(); ++i) s[i] = static_cast<char>(SampleU64(fn, arg, salt + i));
  return s;
}

inline const std::vector<std::string_view>& SampleStrings(uint32_t fn, uint32_t arg,
                                                          uint64_t salt) {
  thread_local std::vector<std::string_view> v;
  v.clear();
  for (uint64_t i = 0; i < 3; ++i) v.push_back(SampleString(fn, arg, salt * 7 + i));
  return v;
}

inline const std::vector<int64_t>& SampleInts(uint32_t fn, uint32_t arg, uint64_t salt) {
  thread_local std::vector<int64_t> v;
  v.clear();
  for (uint64_t i = 0; i < 4; ++i) v.push_back(int64_t(SampleU64(fn, arg, salt + i) % 64) - 8);
  return v;
}

inline const std::vector<uint64_t>& SampleU64s(uint32_t fn, uint32_t arg, uint64_t salt) {
  thread_local std::vector<uint64_t> v;
  v.clear();
  for (uint64_t i = 0; i < 4; ++i) v.push_back(SampleU64(fn, arg, salt + i));
  return v;
}

inline const NcclConfigValue& SampleConfig(uint64_t salt) {
  thread_local NcclConfigValue c;
  c = NcclConfigValue{};
  c.has[0] = true;  // blocking
  c.value[0] = int32_t(salt % 2);
  c.has[3] = true;  // max_ctas
  c.value[3] = 32;
  c.has[7] = true;  // comm_name
  c.text[7] = "sample-comm";
  return c;
}

}  // namespace ddrr::trace
