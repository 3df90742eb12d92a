// 64-bit FNV-1a: ddrr's one hash of short byte strings into keys (unique ids, communicator ids,
// bus ids, wrapper cache keys). Chain calls by passing the previous result as `h`. Not meant to
// resist an adversary; mix.h's Mix64 spreads nearby keys further where that matters.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace ddrr {

inline constexpr uint64_t kFnv1aSeed = 0xcbf29ce484222325ull;

inline uint64_t Fnv1a(const void* data, size_t bytes, uint64_t h = kFnv1aSeed) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

inline uint64_t Fnv1a(std::string_view bytes, uint64_t h = kFnv1aSeed) {
  return Fnv1a(bytes.data(), bytes.size(), h);
}

}  // namespace ddrr
