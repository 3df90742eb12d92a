// The 128-byte communicator id. It names the shared-memory segment the ranks meet in, so it
// works between processes of one host without any listener thread.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "common/fnv1a.h"

namespace ddrr::emu {

inline constexpr size_t kUniqueIdBytes = 128;
using UniqueIdBytes = std::array<char, kUniqueIdBytes>;

struct UniqueId {
  int creator_pid = 0;  // process that made the id; 0 when the bytes are foreign
  uint64_t nonce = 0;   // random, makes the segment name unique
  std::string segment;  // shared-memory object name, without leading '/'
  uint64_t hash = 0;    // job-wide communicator key (hash of all 128 bytes)
};

// A fresh id owned by this process.
UniqueIdBytes NewUniqueId();
// Decodes an id. Bytes not made by NewUniqueId still work (all ranks must pass the same bytes):
// the segment is then named after their hash.
UniqueId DecodeUniqueId(const UniqueIdBytes& bytes);

// Segment names all start with this, followed by "<creator pid>-<16 hex digits>".
inline constexpr const char* kSegmentPrefix = "ddrr-emu-";
std::string SegmentName(int creator_pid, uint64_t key);
std::string Hex64(uint64_t v);

}  // namespace ddrr::emu
