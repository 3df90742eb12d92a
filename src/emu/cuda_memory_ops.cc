// The memory seam over the CUDA runtime. Copies use cudaMemcpyDefault so that user buffers may
// be device or host memory (UVA); each copy is complete when it returns, so its bytes can be
// published to peers at once.
#include <cuda_runtime_api.h>

#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>

#include "emu/facade.h"

namespace ddrr::emu::facade {
namespace {

Status CudaStatus(cudaError_t err, const char* what) {
  if (err == cudaSuccess) return Status::Ok();
  return Status::Internal(std::string(what) + " failed: " + cudaGetErrorString(err));
}

class CudaOps final : public MemoryOps {
 public:
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
