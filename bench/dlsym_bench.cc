// Cost of one dlsym call, per kind of lookup, so that the dlsym hook's share can be measured: run
// it plain and with libddrr.so preloaded (bench/dlsym_overhead.sh does both). Each kind is timed
// in rounds of 1000 calls; the program prints the median and the slowest round's per-call time.
// NCCL is dlopened RTLD_LOCAL ("libnccl.so.2", from LD_LIBRARY_PATH), as XLA and vLLM do.
#include <dlfcn.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  const int rounds = argc > 1 ? atoi(argv[1]) : 200;
  constexpr int kPerRound = 1000;
  void* nccl = dlopen("libnccl.so.2", RTLD_NOW | RTLD_LOCAL);
  if (nccl == nullptr) {
    fprintf(stderr, "dlsym_bench: %s\n", dlerror());
    return 1;
  }
  struct Kind {
    const char* label;
    void* handle;
    const char* name;
  };
  const Kind kinds[] = {
      {"handle_unwrapped", nccl, "pncclAllReduce"},  // passes straight through
      {"default_unwrapped", RTLD_DEFAULT, "malloc"},      {"next_unwrapped", RTLD_NEXT, "malloc"},
      {"handle_wrapped", nccl, "ncclAllReduce"},  // answered with libddrr's wrapper
      {"default_wrapped", RTLD_DEFAULT, "ncclAllReduce"},
  };
  for (const Kind& kind : kinds) {
    std::vector<double> ns(rounds);
    for (int r = 0; r < rounds; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      for (int i = 0; i < kPerRound; ++i) {
        void* volatile found = dlsym(kind.handle, kind.name);
        (void)found;
      }
      const auto t1 = std::chrono::steady_clock::now();
      ns[r] = std::chrono::duration<double, std::nano>(t1 - t0).count() / kPerRound;
    }
    std::sort(ns.begin(), ns.end());
    printf("%s %s median_ns=%.1f max_ns=%.1f\n", kind.label, kind.name, ns[rounds / 2],
           ns[rounds - 1]);
  }
  return 0;
}
