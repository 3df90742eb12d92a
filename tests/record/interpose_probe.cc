// A small NCCL program for the recorder's process and thread tests:
//   interpose_probe threads N M   N threads, each marks its index and calls ncclGetVersion M times
//   interpose_probe collective-threads W N M
//                                 W waves of N threads; each thread makes its own 1-rank
//                                 communicator and stream and issues M zero-count all-reduces
//   interpose_probe fork          calls in the parent, forks, the child calls 50 times and exits,
//                                 then the parent calls 3 more times
//   interpose_probe abort         one call, then abort()
//   interpose_probe launches      5 kernel launches on stream A and 3 on stream B (they fail with
//                                 "no GPU" on the host runtime, but are launches all the same),
//                                 then a zero-count all-reduce on A, then 2 more on A and another
//                                 all-reduce
//   interpose_probe capture       a zero-count all-reduce on a stream capturing a CUDA graph,
//                                 then one on a plain stream
//   interpose_probe big-allreduce an all-reduce of 300,000 floats, then one of 16
//   interpose_probe entropy N     one call, then N getrandom() draws of 64 KiB (incompressible:
//                                 grows the rank file fast, for the file-size tests)
// ddrr_mark is looked up at run time, so the probe runs with or without libddrr.so.
#include <cuda_runtime_api.h>
#include <dlfcn.h>
#include <nccl.h>
#include <sys/random.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

void Mark(const char* label, int64_t step) {
  using MarkFn = void (*)(const char*, int64_t);
  static auto mark = reinterpret_cast<MarkFn>(dlsym(RTLD_DEFAULT, "ddrr_mark"));
  if (mark) mark(label, step);
}

void Calls(int n) {
  for (int i = 0; i < n; ++i) {
    int v = 0;
    if (ncclGetVersion(&v) != ncclSuccess || v == 0) {
      fprintf(stderr, "interpose_probe: ncclGetVersion failed\n");
      exit(1);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "threads" && argc == 4) {
    const int n = atoi(argv[2]), m = atoi(argv[3]);
    Calls(1);  // starts the recorder before the threads race
    std::vector<std::thread> threads;
    for (int t = 0; t < n; ++t) {
      threads.emplace_back([t, m] {
        Mark("thread", t);
        Calls(m);
      });
    }
    for (auto& th : threads) th.join();
  } else if (mode == "collective-threads" && argc == 5) {
    const int waves = atoi(argv[2]), n = atoi(argv[3]), m = atoi(argv[4]);
    for (int w = 0; w < waves; ++w) {  // later waves take over the queues of exited threads
      std::vector<std::thread> threads;
      for (int t = 0; t < n; ++t) {
        threads.emplace_back([m] {
          ncclComm_t comm;
          int dev = 0;
          cudaStream_t stream;
          if (ncclCommInitAll(&comm, 1, &dev) != ncclSuccess ||
              cudaStreamCreate(&stream) != cudaSuccess)
            exit(1);
          for (int i = 0; i < m; ++i) {
            if (ncclAllReduce(nullptr, nullptr, 0, ncclFloat32, ncclSum, comm, stream) !=
                ncclSuccess)
              exit(1);
          }
          if (cudaStreamSynchronize(stream) != cudaSuccess) exit(1);
          ncclCommDestroy(comm);
          cudaStreamDestroy(stream);
        });
      }
      for (auto& th : threads) th.join();
    }
  } else if (mode == "fork") {
    Calls(1);
    const pid_t child = fork();
    if (child == 0) {
      Calls(50);
      _exit(0);
    }
    int status = 0;
    waitpid(child, &status, 0);
    Calls(3);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return 1;
  } else if (mode == "entropy" && argc == 3) {
    Calls(1);
    std::vector<char> buf(64 << 10);
    for (int i = 0, n = atoi(argv[2]); i < n; ++i) {
      if (getrandom(buf.data(), buf.size(), 0) != static_cast<ssize_t>(buf.size())) return 1;
    }
  } else if (mode == "launches") {
    ncclComm_t comm;
    int dev = 0;
    cudaStream_t a, b;
    if (ncclCommInitAll(&comm, 1, &dev) != ncclSuccess || cudaStreamCreate(&a) != cudaSuccess ||
        cudaStreamCreate(&b) != cudaSuccess)
      return 1;
    static const char kFakeKernel = 0;  // never runs: only the launch call is observed
    auto launch = [](cudaStream_t s) {
      cudaLaunchKernel(&kFakeKernel, dim3(1), dim3(1), nullptr, 0, s);
    };
    for (int i = 0; i < 5; ++i) launch(a);
    for (int i = 0; i < 3; ++i) launch(b);
    ncclAllReduce(nullptr, nullptr, 0, ncclFloat32, ncclSum, comm, a);
    for (int i = 0; i < 2; ++i) launch(a);
    ncclAllReduce(nullptr, nullptr, 0, ncclFloat32, ncclSum, comm, a);
    cudaGetLastError();  // the failed launches left an error; the job would clear it too
    ncclCommDestroy(comm);
  } else if (mode == "capture") {
    ncclComm_t comm;
    int dev = 0;
    cudaStream_t stream;
    cudaGraph_t graph;
    if (ncclCommInitAll(&comm, 1, &dev) != ncclSuccess || cudaStreamCreate(&stream) != cudaSuccess)
      return 1;
    if (cudaStreamBeginCapture(stream, cudaStreamCaptureModeRelaxed) != cudaSuccess) return 1;
    ncclAllReduce(nullptr, nullptr, 0, ncclFloat32, ncclSum, comm, stream);
    if (cudaStreamEndCapture(stream, &graph) != cudaSuccess) return 1;
    ncclAllReduce(nullptr, nullptr, 0, ncclFloat32, ncclSum, comm, stream);
    if (cudaStreamSynchronize(stream) != cudaSuccess) return 1;
    ncclCommDestroy(comm);
  } else if (mode == "big-allreduce") {
    ncclComm_t comm;
    int dev = 0;
    float* buf = nullptr;
    const size_t big = 300000;
    if (ncclCommInitAll(&comm, 1, &dev) != ncclSuccess ||
        cudaMalloc(&buf, big * sizeof(float)) != cudaSuccess ||
        cudaMemset(buf, 0, big * sizeof(float)) != cudaSuccess)
      return 1;
    if (ncclAllReduce(buf, buf, big, ncclFloat32, ncclSum, comm, nullptr) != ncclSuccess ||
        ncclAllReduce(buf, buf, 16, ncclFloat32, ncclSum, comm, nullptr) != ncclSuccess ||
        cudaDeviceSynchronize() != cudaSuccess)
      return 1;
    ncclCommDestroy(comm);
  } else if (mode == "abort") {
    Calls(1);
    abort();
  } else {
    fprintf(stderr,
            "usage: interpose_probe threads N M | collective-threads W N M | fork | abort | "
            "entropy N | capture | launches | "
            "big-allreduce\n");
    return 2;
  }
  printf("interpose_probe %s: done\n", mode.c_str());
  return 0;
}
