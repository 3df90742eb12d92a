#include "replay/rank/placeholders.h"

#include <cuda_runtime_api.h>

#include <atomic>

#include "replay/rank/pattern.h"
#include "replay/rank/replayer.h"

namespace ddrr::replay {
namespace {

// Made-up recorded addresses: above every user-space address, 1 TiB apart.
constexpr uint64_t kFirstBase = 0xdd00000000000000ull;
constexpr uint64_t kSpacing = uint64_t(1) << 40;
// An unknown datatype (255 in an import) is given the widest element.
constexpr size_t kWidestElement = 8;

}  // namespace

Placeholders::~Placeholders() {
  for (const Slot& s : slots_)
    if (void* live = replayer_->UnbindAllocation(s.base)) cudaFree(live);
}

uint64_t Placeholders::Take(Replayer& replayer, uint64_t bytes) {
  static std::atomic<uint64_t> next_base{kFirstBase};
  replayer_ = &replayer;
  if (next_ == slots_.size()) slots_.push_back({next_base.fetch_add(kSpacing), 0});
  Slot& s = slots_[next_++];
  if (s.bytes < bytes) {
    // cudaFree waits for the work still using the old memory.
    if (void* old = replayer.UnbindAllocation(s.base)) cudaFree(old);
    void* live = nullptr;
    if (cudaMalloc(&live, bytes) != cudaSuccess) {
      s.bytes = 0;
      return 0;  // the call gets a null buffer, as recorded, and fails as it would
    }
    replayer.BindAllocation(s.base, bytes, live);
    s.bytes = bytes;
  }
  return s.base;
}

bool Placeholders::Patch(Replayer& replayer, const trace::ApiCall& call, bool in_group,
                         trace::ApiCall* out, trace::OpView* view) {
  trace::OpView v;
  if (!trace::ViewOp(call, &v)) return false;
  bool unknown = false;
  for (uint32_t b = 0; b < v.nbuffers; ++b) unknown |= v.buffers[b].ptr == 0;
  const auto comm = replayer.FindComm(v.comm);
  if (!unknown || !comm) return false;
  if (!in_group) next_ = 0;
  const size_t element = ElementBytes(v.datatype);
  *out = call;
  for (uint32_t b = 0; b < v.nbuffers; ++b) {
    if (v.buffers[b].ptr != 0) continue;
    const uint64_t bytes = v.buffers[b].Elements(comm->size) * (element ? element : kWidestElement);
    if (bytes == 0) continue;  // an empty buffer may be null
    trace::SetOpBuffer(out, b, Take(replayer, bytes));
  }
  trace::ViewOp(*out, view);
  return true;
}

}  // namespace ddrr::replay
