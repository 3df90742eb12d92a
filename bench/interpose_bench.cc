// Added latency per intercepted NCCL call. A 1-rank communicator and a loop of zero-count
// ncclAllReduce calls (a no-op in emu, so the real call costs almost nothing and the wrapper's
// work dominates: comm lookup, op number, encoding, spool append). Each call is timed on its
// own; the program prints median and p99. Run it with and without libddrr.so preloaded:
// bench/interpose_overhead.sh does both and prints the difference.
// `interpose_bench ITERS launch` times cudaLaunchKernel instead (counted, not recorded; on the
// host runtime the launch itself fails fast, which is what makes its cost measurable here).
// `interpose_bench ITERS floats N` all-reduces N floats per call instead (for the digests and
// payloads levels, whose cost grows with the buffer: bench/data_capture_cost.sh).
// `interpose_bench ITERS runtime` (run without libddrr.so) adds to each all-reduce the CUDA
// runtime calls completion tracking makes for it (cudaStreamIsCapturing, then cudaEventRecord of
// a pooled timing-free event): recorded minus this is ddrr's own work, whatever the runtime.
#include <cuda_runtime_api.h>
#include <nccl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

int main(int argc, char** argv) {
  const int iters = argc > 1 ? atoi(argv[1]) : 200000;
  const bool launches = argc > 2 && std::string(argv[2]) == "launch";
  const bool runtime_calls = argc > 2 && std::string(argv[2]) == "runtime";
  const size_t floats = argc > 3 && std::string(argv[2]) == "floats" ? atol(argv[3]) : 0;
  float* buf = nullptr;
  if (floats && cudaMalloc(&buf, floats * sizeof(float)) != cudaSuccess) return 1;
  ncclComm_t comm;
  int dev = 0;
  if (ncclCommInitAll(&comm, 1, &dev) != ncclSuccess) {
    fprintf(stderr, "interpose_bench: ncclCommInitAll failed\n");
    return 1;
  }
  std::vector<cudaEvent_t> events(runtime_calls ? 1024 : 0);
  for (auto& e : events) {
    if (cudaEventCreateWithFlags(&e, cudaEventDisableTiming) != cudaSuccess) return 1;
  }
  std::vector<double> ns(iters);
  for (int i = 0; i < iters; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    if (launches) {
      static const char kFakeKernel = 0;
      cudaLaunchKernel(&kFakeKernel, dim3(1), dim3(1), nullptr, 0, nullptr);
    } else {
      ncclAllReduce(buf, buf, floats, ncclFloat32, ncclSum, comm, nullptr);
      if (runtime_calls) {
        cudaStreamCaptureStatus capture;
        cudaStreamIsCapturing(nullptr, &capture);
        cudaEventRecord(events[i % events.size()], nullptr);
      }
    }
    const auto t1 = std::chrono::steady_clock::now();
    ns[i] = std::chrono::duration<double, std::nano>(t1 - t0).count();
  }
  ncclCommDestroy(comm);
  std::sort(ns.begin(), ns.end());
  printf("calls=%d median_ns=%.0f p99_ns=%.0f\n", iters, ns[iters / 2], ns[iters * 99 / 100]);
  return 0;
}
