#include "support/wait.h"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "support/check.h"

namespace ddrr_samples {
namespace {

int ReportSeconds() {
  const char* text = getenv("DDRR_SAMPLE_WAIT_REPORT");
  if (text == nullptr || *text == '\0') return 30;
  return atoi(text);
}

}  // namespace

void WaitStream(cudaStream_t stream, ncclComm_t comm, const char* what) {
  using std::chrono::steady_clock;
  static const int report_seconds = ReportSeconds();
  const auto start = steady_clock::now();
  auto next_report = start + std::chrono::seconds(report_seconds);
  // Short sleeps first (most waits are short), then back off so that N ranks sharing a few
  // cores on the host runtime do not starve each other.
  auto pause = std::chrono::microseconds(20);
  while (true) {
    cudaError_t state = cudaStreamQuery(stream);
    if (state == cudaSuccess) return;
    if (state != cudaErrorNotReady) CUDA_CHECK(state);
    if (comm != nullptr) {
      ncclResult_t async_error = ncclSuccess;
      NCCL_CHECK(ncclCommGetAsyncError(comm, &async_error));
      if (async_error != ncclSuccess && async_error != ncclInProgress) {
        fprintf(stderr, "%sasynchronous NCCL error while waiting for %s: %s\n", LogPrefix(), what,
                ncclGetErrorString(async_error));
        ncclCommAbort(comm);  // nothing useful to do if this fails too: we are exiting
        exit(kExitFailure);
      }
    }
    if (report_seconds > 0 && steady_clock::now() >= next_report) {
      auto waited = std::chrono::duration_cast<std::chrono::seconds>(steady_clock::now() - start);
      fprintf(stderr, "%sstill waiting for %s after %lld s\n", LogPrefix(), what,
              static_cast<long long>(waited.count()));
      next_report += std::chrono::seconds(report_seconds);
    }
    std::this_thread::sleep_for(pause);
    if (pause < std::chrono::milliseconds(1)) pause *= 2;
  }
}

void StallForever(const char* what) {
  fprintf(stderr, "%sstalling before %s until killed\n", LogPrefix(), what);
  fflush(stderr);
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
}

}  // namespace ddrr_samples
