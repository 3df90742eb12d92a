// Kernel launches are counted, not recorded: a training step launches thousands, and what a
// diagnosis needs is how many ran on each stream between two collectives. Counts live per
// thread (no lock on the launch path) and are written as KernelLaunches events right before the
// next collective that thread records (FlushLaunchCounts, called by CallEvent). With
// DDRR_KERNELS=full (`ddrr record --kernels full`) every launch is recorded as a call instead,
// with its kernel, grid, block, shared memory and stream. Launches made by the CUDA runtime's
// own users inside a library (cuBLAS, NCCL) never cross these symbols.
#include <cuda_runtime_api.h>

#include <vector>

#include "interpose/capture_config.h"
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
  if (InsideInterceptedCall() || RunningRecorder() == nullptr || Capture().kernels_full) return;
  for (auto& c : t_counts) {
    if (c.stream == stream) {
      ++c.count;
      return;
    }
  }
  t_counts.push_back({stream, 1});
}

trace::Dim3Value Dim(dim3 d) { return {d.x, d.y, d.z}; }

// DDRR_KERNELS=full: the launch as a call event. `internal`: the launch came through
// __cudaLaunchKernel (nvcc's <<<>>>), whose kernel handle differs from a function pointer.
template <typename Launch>
cudaError_t RecordedLaunch(bool internal, const void* func, dim3 grid, dim3 block,
                           size_t shared_mem, cudaStream_t stream, Launch launch) {
  if (!Capture().kernels_full || InsideInterceptedCall() || RunningRecorder() == nullptr)
    return launch();
  CallGuard guard;
  if (!guard.recording()) return launch();
  const uint64_t t0 = NowNs();
  const cudaError_t result = launch();
  using trace::FunctionId;
  CallEvent ev(internal ? FunctionId::kCudaLaunchKernelInternal : FunctionId::kCudaLaunchKernel, t0,
               result);
  if (internal) {
    trace::EncodeCudaLaunchKernelInternal(ev.encoder(), Scalar(func), Dim(grid), Dim(block),
                                          shared_mem, Scalar(stream));
  } else {
    trace::EncodeCudaLaunchKernel(ev.encoder(), Scalar(func), Dim(grid), Dim(block), shared_mem,
                                  Scalar(stream));
  }
  ev.Commit();
  return result;
}

// Every launch wrapper: counted, recorded under DDRR_KERNELS=full, forwarded to `real`.
// `internal`: nvcc's __cudaLaunchKernel, whose kernel handle is not a function pointer.
template <typename Fn, typename Kernel>
cudaError_t ForwardLaunch(Fn real, const char* name, bool internal, Kernel kernel, dim3 grid,
                          dim3 block, void** args, size_t shared_mem, cudaStream_t stream) {
  if (real == nullptr) return Missing<cudaError_t>(name);
  Count(stream);
  return RecordedLaunch(internal, kernel, grid, block, shared_mem, stream,
                        [&] { return real(kernel, grid, block, args, shared_mem, stream); });
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

using ddrr::interpose::ForwardLaunch;
using ddrr::interpose::Library;
using ddrr::interpose::Missing;
using ddrr::interpose::Real;

// The C launch functions have C++ template overloads: their types by hand.
using LaunchFn = cudaError_t (*)(const void*, dim3, dim3, void**, size_t, cudaStream_t);
using KernelLaunchFn = cudaError_t (*)(cudaKernel_t, dim3, dim3, void**, size_t, cudaStream_t);
using LaunchExFn = cudaError_t (*)(const cudaLaunchConfig_t*, const void*, void**);

// The four launch wrappers with the <<<>>> argument list: `internal` for __cudaLaunchKernel's
// kernel handle.
#define DDRR_LAUNCH_WRAPPER(name, Fn, Kernel, internal)                                         \
  extern "C" DDRR_EXPORT cudaError_t name(Kernel kernel, dim3 grid, dim3 block, void** args,    \
                                          size_t shared_mem, cudaStream_t stream) {             \
    static const auto real = Real<Fn>(Library::kCudart, #name);                                 \
    return ForwardLaunch(real, #name, internal, kernel, grid, block, args, shared_mem, stream); \
  }

DDRR_LAUNCH_WRAPPER(cudaLaunchKernel, LaunchFn, const void*, false)
DDRR_LAUNCH_WRAPPER(cudaLaunchKernel_ptsz, LaunchFn, const void*, false)
// What nvcc 13's <<<>>> calls (`-cudart shared`): __cudaLaunchKernel, not cudaLaunchKernel.
DDRR_LAUNCH_WRAPPER(__cudaLaunchKernel, KernelLaunchFn, cudaKernel_t, true)
DDRR_LAUNCH_WRAPPER(__cudaLaunchKernel_ptsz, KernelLaunchFn, cudaKernel_t, true)

extern "C" DDRR_EXPORT cudaError_t cudaLaunchKernelExC(const cudaLaunchConfig_t* config,
                                                       const void* func, void** args) {
  static const auto real = Real<LaunchExFn>(Library::kCudart, "cudaLaunchKernelExC");
  if (real == nullptr) return Missing<cudaError_t>("cudaLaunchKernelExC");
  ddrr::interpose::Count(config ? config->stream : nullptr);
  if (config == nullptr) return real(config, func, args);
  return ddrr::interpose::RecordedLaunch(false, func, config->gridDim, config->blockDim,
                                         config->dynamicSmemBytes, config->stream,
                                         [&] { return real(config, func, args); });
}
