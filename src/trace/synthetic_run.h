// Writes a synthetic, training-like multi-rank run: what a data-parallel job looks like at the
// NCCL/CUDA boundary (setup, then per step: a mark, kernel-launch counts, bucketed gradient
// all-reduces with completions, a copy and a sync; teardown). Used by tests, benchmarks, the
// demo (until the recorder exists) and `ddrr-synth`. Deterministic for a given seed.
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
  WriterOptions writer;
};

// Writes <dir>/rank-<r>.ddrr for every rank; returns the total number of events written.
StatusOr<uint64_t> WriteSyntheticRun(const std::string& dir, const SyntheticRunOptions& options);

// Writes one rank's events through `w` (header already written). Returns the events written.
StatusOr<uint64_t> WriteSyntheticRank(TraceWriter& w, uint32_t rank,
                                      const SyntheticRunOptions& options, bool stop_early);

HeaderInfo SyntheticHeader(uint32_t rank, const SyntheticRunOptions& options);

}  // namespace ddrr::trace
