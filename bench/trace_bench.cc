// Trace format benchmarks. Run: build/bin/bench/trace_bench
//   BM_EncodeCall          one ncclAllReduce ApiCall body, interposer-side encoder only
//   BM_EncodeAndWrite      body + TraceWriter (framing, zstd, write to a file in /tmp)
//   BM_SyntheticBytesPerEvent  compressed bytes per event of a training-like stream
//   BM_ReadEvents          RankFileReader + libprotobuf parse of every event
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <filesystem>

#include "spec/api_encode.h"
#include "trace/record_encoders.h"
#include "trace/synthetic_run.h"
#include "trace/trace_reader.h"
#include "trace/trace_writer.h"

namespace ddrr::trace {
namespace {

std::string TempPath(const std::string& name) {
  return (std::filesystem::temp_directory_path() /
          ("ddrr-bench-" + std::to_string(getpid()) + "-" + name))
      .string();
}

void EncodeOneCall(WireEncoder& e, uint64_t i) {
  CallInfo c;
  c.comm_key = 0x5eed0c0ffee00001ull;
  c.duration_ns = 4000 + (i * 7919) % 3000;
  const size_t m = BeginCallBody(e, c);
  const uint64_t buf = 0x7f2a40000000ull + (i % 4) * (25ull << 20);
  EncodeNcclAllReduce(e, buf, buf, 6553600, 7, 0, 0x55d0c0a1b000ull, 0x55d0c0a1c000ull);
  EndCallBody(e, m);
}

void BM_EncodeCall(benchmark::State& state) {
  WireEncoder e;
  uint64_t i = 0;
  for (auto _ : state) {
    e.Clear();
    EncodeOneCall(e, ++i);
    benchmark::DoNotOptimize(e.data());
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["body_bytes"] = static_cast<double>(e.size());
}
BENCHMARK(BM_EncodeCall);

void BM_EncodeAndWrite(benchmark::State& state) {
  const std::string path = TempPath("write.ddrr");
  WriterOptions o;
  o.zstd_level = static_cast<int>(state.range(0));
  auto w = TraceWriter::Create(path, SyntheticHeader(0, {}), o);
  if (!w.ok()) {
    state.SkipWithError(w.status().ToString().c_str());
    return;
  }
  WireEncoder e;
  uint64_t i = 0, t = 0;
  for (auto _ : state) {
    e.Clear();
    EncodeOneCall(e, ++i);
    t += 20000 + (i * 104729) % 5000;
    EventMeta meta;
    meta.comm_key = 0x5eed0c0ffee00001ull;
    meta.op_seq = i;
    if (!(*w)->Append(i, 0, t, e.view(), &meta).ok()) state.SkipWithError("append failed");
  }
  (void)(*w)->Close({});
  state.SetItemsProcessed(state.iterations());
  state.counters["file_bytes_per_event"] =
      static_cast<double>(std::filesystem::file_size(path)) / static_cast<double>(i);
  std::filesystem::remove(path);
}
BENCHMARK(BM_EncodeAndWrite)->Arg(1)->Arg(3);

void BM_SyntheticBytesPerEvent(benchmark::State& state) {
  const std::string dir = TempPath("synth");
  SyntheticRunOptions o;
  o.world_size = 1;
  o.steps = 2000;
  o.writer.zstd_level = static_cast<int>(state.range(0));
  uint64_t events = 0;
  for (auto _ : state) {
    auto n = WriteSyntheticRun(dir, o);
    if (!n.ok()) state.SkipWithError(n.status().ToString().c_str());
    events = *n;
  }
  const double bytes = static_cast<double>(std::filesystem::file_size(dir + "/rank-0.ddrr"));
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(events));
  state.counters["events"] = static_cast<double>(events);
  state.counters["bytes_per_event"] = bytes / static_cast<double>(events);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SyntheticBytesPerEvent)->Arg(1)->Arg(3)->Arg(9)->Unit(benchmark::kMillisecond);

void BM_ReadEvents(benchmark::State& state) {
  const std::string dir = TempPath("read");
  SyntheticRunOptions o;
  o.world_size = 1;
  o.steps = 5000;
  auto n = WriteSyntheticRun(dir, o);
  if (!n.ok()) {
    state.SkipWithError(n.status().ToString().c_str());
    return;
  }
  Event ev;
  EventPosition pos;
  for (auto _ : state) {
    auto r = RankFileReader::Open(dir + "/rank-0.ddrr");
    uint64_t count = 0;
    while ((*r)->Next(&ev, &pos)) ++count;
    benchmark::DoNotOptimize(count);
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(*n));
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ReadEvents)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ddrr::trace

BENCHMARK_MAIN();
