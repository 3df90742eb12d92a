// The memory seam over the CUDA runtime. Copies use cudaMemcpyDefault so that user buffers may
// be device or host memory (UVA); each copy is complete when it returns, so its bytes can be
// published to peers at once.
//
// On ddrr's host runtime "device" memory is host memory, and the runtime shares large
// allocations between processes through CUDA IPC handles: there, ranks reach each other's
// buffers directly (direct collectives, direct.h). On NVIDIA's runtime they never do: emu
// has no kernels, so device buffers are only ever copied.
#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <list>
#include <string>
#include <utility>

#include "common/mutex.h"
#include "emu/facade.h"

namespace ddrr::emu::facade {
namespace {

Status CudaStatus(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return Status::Ok();
  return Status::Internal(std::string(what) + " failed: " + cudaGetErrorString(err));
}

// cuMemGetAddressRange's twin that only ddrr's host runtime exports (src/hostrt).
using AddressRangeFn = cudaError_t (*)(void** base, size_t* size, const void* ptr);

AddressRangeFn FindHostRuntimeAddressRange() {
  // Ask the libcudart.so.13 actually loaded: it may sit in a local scope (a dlopened NCCL).
  void* cudart = dlopen("libcudart.so.13", RTLD_NOW | RTLD_NOLOAD);
  void* fn = dlsym(cudart != nullptr ? cudart : RTLD_DEFAULT, "ddrrHostMemGetAddressRange");
  return reinterpret_cast<AddressRangeFn>(fn);
}

// Peer allocations opened with cudaIpcOpenMemHandle, kept open across operations (training
// reuses its buffers, and opening costs a map and page faults). Bounded: the least recently
// used is closed once no operation holds it.
class IpcMappings {
 public:
  Status Open(const PeerRef& ref, size_t bytes, PeerView* view) {
    MutexLock lock(&mu_);
    for (auto it = open_.begin(); it != open_.end(); ++it) {
      if (std::memcmp(it->handle, ref.handle, sizeof(it->handle)) == 0) {
        open_.splice(open_.begin(), open_, it);
        return View(open_.front(), ref, bytes, view);
      }
    }
    cudaIpcMemHandle_t handle;
    std::memcpy(&handle, ref.handle, sizeof(handle));
    void* base = nullptr;
    cudaError_t err = cudaIpcOpenMemHandle(&base, handle, cudaIpcMemLazyEnablePeerAccess);
    if (err != cudaSuccess) {
      return Status::Unavailable(std::string("cudaIpcOpenMemHandle failed: ") +
                                 cudaGetErrorString(err));
    }
    size_t size = 0;
    void* range_base = nullptr;
    if (address_range_(&range_base, &size, base) != cudaSuccess) size = 0;
    Entry entry{{}, size, std::shared_ptr<void>(base, [](void* p) { cudaIpcCloseMemHandle(p); })};
    std::memcpy(entry.handle, ref.handle, sizeof(entry.handle));
    open_.push_front(std::move(entry));
    Evict();
    return View(open_.front(), ref, bytes, view);
  }

  explicit IpcMappings(AddressRangeFn address_range) : address_range_(address_range) {}

 private:
  static constexpr size_t kMaxOpen = 64;
  struct Entry {
    uint8_t handle[64];  // CUDA IPC handles name one allocation of one process
    size_t size;
    std::shared_ptr<void> base;  // closes the handle when the last user lets go
  };

  static Status View(const Entry& e, const PeerRef& ref, size_t bytes, PeerView* view) {
    if (ref.offset > e.size || bytes > e.size - ref.offset) {
      return Status::InvalidArgument("buffer (offset " + std::to_string(ref.offset) + ", " +
                                     std::to_string(bytes) + " bytes) lies outside its " +
                                     std::to_string(e.size) + "-byte allocation");
    }
    view->data = static_cast<char*>(e.base.get()) + ref.offset;
    view->keep = e.base;
    return Status::Ok();
  }

  void Evict() EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    while (open_.size() > kMaxOpen) open_.pop_back();  // in-flight views keep theirs open
  }

  AddressRangeFn address_range_;
  Mutex mu_;
  std::list<Entry> open_ GUARDED_BY(mu_);  // most recently used first
};

class CudaOps final : public MemoryOps {
 public:
  CudaOps() : address_range_(FindHostRuntimeAddressRange()), mappings_(address_range_) {}

  bool HostAccessible() const override { return address_range_ != nullptr; }

  bool Export(const void* user, size_t bytes, PeerRef* ref) override {
    if (address_range_ == nullptr) return false;
    void* base = nullptr;
    size_t size = 0;
    if (address_range_(&base, &size, user) != cudaSuccess) return false;
    size_t offset = static_cast<const char*>(user) - static_cast<char*>(base);
    if (bytes > size - offset) return false;
    cudaIpcMemHandle_t handle;
    if (cudaIpcGetMemHandle(&handle, base) != cudaSuccess) {
      cudaGetLastError();  // not shareable is an answer, not an error the program should see
      return false;
    }
    static_assert(sizeof(handle) == sizeof(ref->handle));
    std::memcpy(ref->handle, &handle, sizeof(handle));
    ref->offset = offset;
    return true;
  }

  Status Import(const PeerRef& ref, size_t bytes, PeerView* view) override {
    if (address_range_ == nullptr) return MemoryOps::Import(ref, bytes, view);
    Status s = mappings_.Open(ref, bytes, view);
    if (!s.ok()) cudaGetLastError();
    return s;
  }

  Status Sync(void* stream) override {
    return CudaStatus(cudaStreamSynchronize(static_cast<cudaStream_t>(stream)),
                      "cudaStreamSynchronize");
  }
  Status CopyToHost(void* dst, const void* src, size_t bytes, void* stream) override {
    return Copy(dst, src, bytes, stream);
  }
  Status CopyFromHost(void* dst, const void* src, size_t bytes, void* stream) override {
    return Copy(dst, src, bytes, stream);
  }

 private:
  static Status Copy(void* dst, const void* src, size_t bytes, void* stream) {
    if (bytes == 0 || dst == src) return Status::Ok();
    auto s = static_cast<cudaStream_t>(stream);
    Status st =
        CudaStatus(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, s), "cudaMemcpyAsync");
    if (!st.ok()) return st;
    return CudaStatus(cudaStreamSynchronize(s), "cudaStreamSynchronize");
  }

  AddressRangeFn address_range_;
  IpcMappings mappings_;
};

}  // namespace

MemoryOps* CudaMemoryOps() {
  static CudaOps* ops = new CudaOps();
  return ops;
}

Result OptionsForCurrentDevice(const ncclConfig_t* config, CommOptions* options) {
  int device = 0;
  cudaError_t err = cudaGetDevice(&device);
  if (err != cudaSuccess) {
    return Result(Code::kUnhandledCudaError,
                  std::string("ddrr emu: cudaGetDevice failed: ") + cudaGetErrorString(err));
  }
  options->device = device;
  char bus_id[32] = {0};
  if (cudaDeviceGetPCIBusId(bus_id, sizeof(bus_id), device) == cudaSuccess && bus_id[0] != 0) {
    // Same GPU under different CUDA_VISIBLE_DEVICES orderings has the same bus id.
    options->device_key = static_cast<int64_t>(Fnv1a(bus_id, std::strlen(bus_id)) >> 1);
  } else {
    options->device_key = device;
  }
  options->mem = CudaMemoryOps();
  return ApplyConfig(config, options);
}

Result ApplyConfig(const ncclConfig_t* config, CommOptions* options) {
  if (config != nullptr) {
    if (config->magic != 0xcafebeef || config->size < offsetof(ncclConfig_t, blocking)) {
      return Result(Code::kInvalidArgument,
                    "ncclConfig_t argument not initialized via NCCL_CONFIG_INITIALIZER");
    }
    // Communicators complete synchronously, so blocking=0 needs nothing more; the name is kept
    // for messages. Tuning fields (CTAs, netName, collnet...) have no meaning here.
    if (config->size >= offsetof(ncclConfig_t, commName) + sizeof(config->commName) &&
        config->commName != nullptr) {
      options->name = config->commName;
    }
  }
  return Result::Ok();
}

}  // namespace ddrr::emu::facade
