// emu AllReduce bus bandwidth with ranks as processes, next to single-core memcpy bandwidth.
// Usage: emu_allreduce_bench [nranks=4] [iterations=10]
// Prints one line per size; bus bandwidth = algbw * 2(n-1)/n, as nccl-tests computes it.
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "emu/api.h"

namespace {

using Clock = std::chrono::steady_clock;

double MemcpyGBps(size_t bytes, int iters) {
  std::vector<char> a(bytes, 1), b(bytes, 2);
  std::memcpy(b.data(), a.data(), bytes);  // fault pages in
  auto t0 = Clock::now();
  for (int i = 0; i < iters; ++i) {
    std::memcpy(i % 2 ? a.data() : b.data(), i % 2 ? b.data() : a.data(), bytes);
  }
  double s = std::chrono::duration<double>(Clock::now() - t0).count();
  return bytes * static_cast<double>(iters) / s / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ddrr::emu;
  int n = argc > 1 ? std::atoi(argv[1]) : 4;
  int iters = argc > 2 ? std::atoi(argv[2]) : 10;
  const size_t sizes[] = {1u << 20, 4u << 20, 16u << 20, 64u << 20};
  // Rank 0 reports its time per size through a shared page.
  auto* seconds = static_cast<double*>(
      mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0));
  UniqueIdBytes id = GetUniqueId();
  std::vector<pid_t> pids;
  for (int rank = 0; rank < n; ++rank) {
    pid_t pid = fork();
    if (pid != 0) {
      pids.push_back(pid);
      continue;
    }
    Comm* comm = nullptr;
    if (!CommInitRank(&comm, n, id, rank, {}).ok()) _exit(1);
    for (size_t s = 0; s < std::size(sizes); ++s) {
      size_t count = sizes[s] / sizeof(float);
      std::vector<float> in(count, 1.0f + rank), out(count);
      auto run = [&] {
        return Collective(comm, CollKind::kAllReduce, in.data(), out.data(), count,
                          static_cast<int>(DataType::kFloat32), 0, 0, nullptr);
      };
      if (!run().ok() || !run().ok()) _exit(2);  // warm-up: fault in buffers and staging
      auto t0 = Clock::now();
      for (int i = 0; i < iters; ++i) {
        if (!run().ok()) _exit(3);
      }
      double secs = std::chrono::duration<double>(Clock::now() - t0).count() / iters;
      if (rank == 0) seconds[s] = secs;
      if (out[count - 1] != n * (n + 1) / 2.0f) _exit(4);
    }
    CommDestroy(comm);
    _exit(0);
  }
  int failed = 0;
  for (pid_t pid : pids) {
    int status = 0;
    waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) ++failed;
  }
  if (failed) {
    std::fprintf(stderr, "%d ranks failed\n", failed);
    return 1;
  }
  std::printf("emu allreduce fp32 sum, %d ranks as processes, %ld cores online\n", n,
              sysconf(_SC_NPROCESSORS_ONLN));
  std::printf("%10s %12s %12s %12s %14s %8s\n", "bytes", "time_us", "algbw_GB/s", "busbw_GB/s",
              "memcpy_GB/s", "bus/mcp");
  for (size_t s = 0; s < std::size(sizes); ++s) {
    double alg = sizes[s] / seconds[s] / 1e9;
    double bus = alg * 2.0 * (n - 1) / n;
    double mcp = MemcpyGBps(sizes[s], iters);
    std::printf("%10zu %12.1f %12.2f %12.2f %14.2f %7.0f%%\n", sizes[s], seconds[s] * 1e6, alg, bus,
                mcp, 100.0 * bus / mcp);
  }
  return 0;
}
