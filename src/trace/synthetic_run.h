// Writes a synthetic, training-like multi-rank run: what a data-parallel job looks like at the
// NCCL/CUDA boundary (setup, then per step: a mark, kernel-launch counts, bucketed gradient
// all-reduces with completions, a copy and a sync; teardown). Used by tests, benchmarks
// and `ddrr-synth`. Deterministic for a given seed.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "trace/trace_writer.h"

namespace ddrr::trace {

struct SyntheticRunOptions {
  uint32_t world_size = 4;
  uint32_t steps = 20;
  uint32_t buckets_per_step = 4;  // all-reduces per step
  uint64_t seed = 1;
  // Fault injection for tests of readers and analysis:
  int64_t stop_rank = -1;     // this rank stops (no footer: "killed")...
  uint32_t stop_at_step = 0;  // ...at the start of this step
  // Ranks share one timeline, as collectives make real ranks do: every rank's events follow a
  // common schedule plus a small per-rank jitter that does not accumulate. Off: each rank's
  // clock drifts on its own (a random walk), the stream the trace benchmarks were measured on.
  bool synchronized = false;
  int64_t slow_rank = -1;  // with `synchronized`: calls each all-reduce this much late
  uint64_t slow_ns = 0;
  // Capture level `digests`: an input and an output Digest after every all-reduce. Inputs
  // differ per rank, outputs are equal on all ranks unless a fault says otherwise.
  bool digests = false;
  int64_t nan_rank = -1;      // feeds a NaN into the first all-reduce of nan_step; every
  uint32_t nan_step = 0;      // output from there on, and every later input, counts NaN
  int64_t diverge_rank = -1;  // gets a different output digest from the last all-reduce of
  uint32_t diverge_step = 0;  // this step on
  WriterOptions writer;
};

// Writes <dir>/rank-<r>.ddrr for every rank; returns the total number of events written.
StatusOr<uint64_t> WriteSyntheticRun(const std::string& dir, const SyntheticRunOptions& options);

// Writes one rank's events through `w` (header already written). Returns the events written.
StatusOr<uint64_t> WriteSyntheticRank(TraceWriter& w, uint32_t rank,
                                      const SyntheticRunOptions& options, bool stop_early);

HeaderInfo SyntheticHeader(uint32_t rank, const SyntheticRunOptions& options);

}  // namespace ddrr::trace
