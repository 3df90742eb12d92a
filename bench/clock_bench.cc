// The clock every recorded call reads twice: common/fast_clock.h against clock_gettime.
#include <benchmark/benchmark.h>

#include <ctime>

#include "common/fast_clock.h"

namespace {

void BM_ClockGettimeMonotonic(benchmark::State& state) {
  timespec ts;
  for (auto _ : state) {
    clock_gettime(CLOCK_MONOTONIC, &ts);
    benchmark::DoNotOptimize(ts);
  }
}
BENCHMARK(BM_ClockGettimeMonotonic);

void BM_FastClock(benchmark::State& state) {
  ddrr::FastClock& clock = ddrr::FastClock::Get();
  const uint64_t start = clock.NowNs();
  while (clock.NowNs() - start < 2 * ddrr::FastClock::kReanchorNs) {
  }  // past the first calibration
  for (auto _ : state) benchmark::DoNotOptimize(clock.NowNs());
  state.SetLabel(clock.using_tsc() ? "tsc" : "clock_gettime (TSC not trusted here)");
}
BENCHMARK(BM_FastClock);

}  // namespace

BENCHMARK_MAIN();
