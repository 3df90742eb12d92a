#include "emu/memory_ops.h"

#include <unistd.h>

#include <atomic>
#include <cstring>
#include <random>

namespace ddrr::emu {
namespace {

class HostOps final : public MemoryOps {
 public:
  Status Sync(void*) override { return Status::Ok(); }
  Status CopyToHost(void* dst, const void* src, size_t bytes, void*) override {
    if (bytes != 0 && dst != src) std::memcpy(dst, src, bytes);
    return Status::Ok();
  }
  Status CopyFromHost(void* dst, const void* src, size_t bytes, void*) override {
    if (bytes != 0 && dst != src) std::memcpy(dst, src, bytes);
    return Status::Ok();
  }
  bool HostAccessible() const override { return true; }
};

}  // namespace

uint64_t ThisProcessToken() {
  // pid in the high half, random low half, in one word, so threads racing after a fork settle
  // on whichever value is stored first.
  static std::atomic<uint64_t> token{0};
  uint64_t pid = static_cast<uint32_t>(getpid());
  uint64_t current = token.load(std::memory_order_acquire);
  while ((current >> 32) != pid) {
    std::random_device rd;
    uint64_t fresh = (pid << 32) | rd();
    if (token.compare_exchange_weak(current, fresh, std::memory_order_acq_rel)) return fresh;
  }
  return current;
}

MemoryOps* HostMemoryOps() {
  static HostOps* ops = new HostOps();
  return ops;
}

}  // namespace ddrr::emu
