#include "emu/unique_id.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <random>

namespace ddrr::emu {
namespace {

constexpr char kMagic[8] = {'D', 'D', 'R', 'R', 'E', 'M', 'U', '1'};

// Fixed layout inside the 128 bytes.
struct IdLayout {
  char magic[8];
  int32_t creator_pid;
  uint32_t reserved;
  uint64_t nonce;
};
static_assert(sizeof(IdLayout) <= kUniqueIdBytes);

}  // namespace

std::string Hex64(uint64_t v) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string SegmentName(int creator_pid, uint64_t key) {
  return std::string(kSegmentPrefix) + std::to_string(creator_pid) + "-" + Hex64(key);
}

UniqueIdBytes NewUniqueId() {
  static std::atomic<uint64_t> counter{0};
  std::random_device rd;
  uint64_t nonce = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  nonce ^= static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count());
  nonce += counter.fetch_add(1) * 0x9e3779b97f4a7c15ull;
  IdLayout layout{};
  std::memcpy(layout.magic, kMagic, sizeof(kMagic));
  layout.creator_pid = static_cast<int32_t>(getpid());
  layout.nonce = nonce;
  UniqueIdBytes bytes{};
  std::memcpy(bytes.data(), &layout, sizeof(layout));
  return bytes;
}

UniqueId DecodeUniqueId(const UniqueIdBytes& bytes) {
  UniqueId id;
  id.hash = Fnv1a(bytes.data(), bytes.size());
  IdLayout layout;
  std::memcpy(&layout, bytes.data(), sizeof(layout));
  if (std::memcmp(layout.magic, kMagic, sizeof(kMagic)) == 0) {
    id.creator_pid = layout.creator_pid;
    id.nonce = layout.nonce;
  } else {
    id.nonce = id.hash;
  }
  id.segment = SegmentName(id.creator_pid, id.nonce);
  return id;
}

}  // namespace ddrr::emu
