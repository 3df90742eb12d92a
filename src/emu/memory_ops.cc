#include "emu/memory_ops.h"

#include <cstring>

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
};

}  // namespace

MemoryOps* HostMemoryOps() {
  static HostOps* ops = new HostOps();
  return ops;
}

}  // namespace ddrr::emu
