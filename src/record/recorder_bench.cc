// Recorder::Append cost and the sustained rate the sealer keeps up with.
//   recorder_bench [--benchmark_filter=...]
// Writes into $TMPDIR (a tmpfs there measures the recorder, not the disk).
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <thread>

#include "record/recorder.h"

namespace {

using ddrr::record::Recorder;

std::string BenchDir() {
  return (std::filesystem::temp_directory_path() / ("ddrr-bench-" + std::to_string(getpid())))
      .string();
}

std::string Body(uint64_t i) {  // a KernelLaunches body, ~15 bytes like a small call
  ddrr::trace::WireEncoder e;
  ddrr::trace::EncodeKernelLaunchesBody(e, 0x7f00001000 + (i & 7), i);
  return {reinterpret_cast<const char*>(e.data()), e.size()};
}

std::unique_ptr<Recorder> g_rec;
std::string g_dir;

void Setup(const benchmark::State&) {
  g_dir = BenchDir();
  ddrr::record::RecorderConfig c;
  c.dir = g_dir;
  c.wal_bytes = 256ull << 20;
  auto r = Recorder::Start(c);
  if (!r.ok()) std::abort();
  g_rec = std::move(r).value();
}

void Teardown(const benchmark::State&) {
  (void)g_rec->Close({});
  g_rec.reset();
  std::filesystem::remove_all(g_dir);
}

// ns per Append from the job's thread (threads share one recorder).
void BM_Append(benchmark::State& state) {
  const std::string body = Body(state.thread_index());
  ddrr::trace::EventMeta meta;
  meta.comm_key = 1;
  uint64_t i = 0, dropped = 0;
  for (auto _ : state) {
    meta.op_seq = ++i;
    dropped += g_rec->Append(state.thread_index(), i, body, meta) == 0;
  }
  state.counters["dropped"] = static_cast<double>(dropped);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Append)->Setup(Setup)->Teardown(Teardown)->Threads(1)->UseRealTime();
BENCHMARK(BM_Append)->Setup(Setup)->Teardown(Teardown)->Threads(4)->UseRealTime();

// Events/s that can go on forever: appends at full speed for `seconds` with a ring of 16 MiB
// and reports the rate of events sealed to the file (drops counted separately). When drops
// are 0, the sealer keeps up with the producer.
void BM_Sustained(benchmark::State& state) {
  for (auto _ : state) {
    const std::string dir = BenchDir() + "-s";
    ddrr::record::RecorderConfig c;
    c.dir = dir;
    c.wal_bytes = 16ull << 20;
    auto r = Recorder::Start(c);
    if (!r.ok()) std::abort();
    const int rate_per_ms = static_cast<int>(state.range(0));
    const auto start = std::chrono::steady_clock::now();
    uint64_t sent = 0;
    for (int ms = 0; ms < 1000; ++ms) {
      for (int k = 0; k < rate_per_ms; ++k) (*r)->Append(0, sent, Body(sent), {}), ++sent;
      std::this_thread::sleep_until(start + std::chrono::milliseconds(ms + 1));
    }
    (void)(*r)->Close({});
    const auto st = (*r)->stats();
    state.counters["offered_per_s"] = static_cast<double>(sent);
    state.counters["sealed"] = static_cast<double>(st.sealed);
    state.counters["dropped"] = static_cast<double>(st.dropped);
    std::filesystem::remove_all(dir);
  }
}
BENCHMARK(BM_Sustained)
    ->Arg(500)
    ->Arg(2000)
    ->Arg(5000)
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
