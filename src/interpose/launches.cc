// Kernel launches are counted, not recorded: a training step launches thousands, and what a
// diagnosis needs is how many ran on each stream between two collectives. Counts live per
// thread (no lock on the launch path) and are written as KernelLaunches events right before the
// next collective that thread records (FlushLaunchCounts, called by CallEvent). Launches made
// by the CUDA runtime's own users inside a library (cuBLAS, NCCL) never cross these symbols.
#include <cuda_runtime_api.h>

#include <vector>

#include "interpose/session.h"
#include "interpose/wrapper_support.h"
#include "trace/record_encoders.h"

namespace ddrr::interpose {
namespace {

struct StreamCount {
  cudaStream_t stream;
  uint64_t count;
};
thread_local std::vector<StreamCount> t_counts;

inline void Count(cudaStream_t stream) {
  if (InsideInterceptedCall() || RunningRecorder() == nullptr) return;
  for (auto& c : t_counts) {
    if (c.stream == stream) {
      ++c.count;
      return;
    }
  }
  t_counts.push_back({stream, 1});
}

template <typename Fn>
Fn Real(const char* name) {
  return reinterpret_cast<Fn>(Resolve(Library::kCudart, name));
}

}  // namespace

void FlushLaunchCounts(uint64_t time_ns) {
  if (t_counts.empty()) return;
  record::Recorder* r = RunningRecorder();
  if (r) {
    thread_local trace::WireEncoder e;
    for (const auto& c : t_counts) {
      if (c.count == 0) continue;
      e.Clear();
      trace::EncodeKernelLaunchesBody(e, Scalar(c.stream), c.count);
      r->Append(ThreadIndex(), time_ns, e.view(), {});
    }
  }
  t_counts.clear();
}

}  // namespace ddrr::interpose

using ddrr::interpose::Missing;

using LaunchFn = cudaError_t (*)(const void*, dim3, dim3, void**, size_t, cudaStream_t);
using KernelLaunchFn = cudaError_t (*)(cudaKernel_t, dim3, dim3, void**, size_t, cudaStream_t);
using LaunchExFn = cudaError_t (*)(const cudaLaunchConfig_t*, const void*, void**);

extern "C" DDRR_EXPORT cudaError_t cudaLaunchKernel(const void* func, dim3 grid, dim3 block,
                                                    void** args, size_t shared_mem,
                                                    cudaStream_t stream) {
  static const auto real = ddrr::interpose::Real<LaunchFn>("cudaLaunchKernel");
  if (real == nullptr) return Missing<cudaError_t>("cudaLaunchKernel");
  ddrr::interpose::Count(stream);
  return real(func, grid, block, args, shared_mem, stream);
}

extern "C" DDRR_EXPORT cudaError_t cudaLaunchKernel_ptsz(const void* func, dim3 grid, dim3 block,
                                                         void** args, size_t shared_mem,
                                                         cudaStream_t stream) {
  static const auto real = ddrr::interpose::Real<LaunchFn>("cudaLaunchKernel_ptsz");
  if (real == nullptr) return Missing<cudaError_t>("cudaLaunchKernel_ptsz");
  ddrr::interpose::Count(stream);
  return real(func, grid, block, args, shared_mem, stream);
}

// What nvcc 13's <<<>>> calls (field-notes.md 2.2).
extern "C" DDRR_EXPORT cudaError_t __cudaLaunchKernel(cudaKernel_t kernel, dim3 grid, dim3 block,
                                                      void** args, size_t shared_mem,
                                                      cudaStream_t stream) {
  static const auto real = ddrr::interpose::Real<KernelLaunchFn>("__cudaLaunchKernel");
  if (real == nullptr) return Missing<cudaError_t>("__cudaLaunchKernel");
  ddrr::interpose::Count(stream);
  return real(kernel, grid, block, args, shared_mem, stream);
}

extern "C" DDRR_EXPORT cudaError_t __cudaLaunchKernel_ptsz(cudaKernel_t kernel, dim3 grid,
                                                           dim3 block, void** args,
                                                           size_t shared_mem, cudaStream_t stream) {
  static const auto real = ddrr::interpose::Real<KernelLaunchFn>("__cudaLaunchKernel_ptsz");
  if (real == nullptr) return Missing<cudaError_t>("__cudaLaunchKernel_ptsz");
  ddrr::interpose::Count(stream);
  return real(kernel, grid, block, args, shared_mem, stream);
}

extern "C" DDRR_EXPORT cudaError_t cudaLaunchKernelExC(const cudaLaunchConfig_t* config,
                                                       const void* func, void** args) {
  static const auto real = ddrr::interpose::Real<LaunchExFn>("cudaLaunchKernelExC");
  if (real == nullptr) return Missing<cudaError_t>("cudaLaunchKernelExC");
  ddrr::interpose::Count(config ? config->stream : nullptr);
  return real(config, func, args);
}
