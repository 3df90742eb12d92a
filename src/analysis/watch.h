// What `ddrr watch` prints beside a running job: one line per look at the run (ranks live, the
// furthest op of each communicator, the slowest rank), and whether anything moved since the last
// look, to tell a hang from a job at work.
#pragma once

#include <cstdint>
#include <string>

#include "analysis/run_model.h"

namespace ddrr::analysis {

struct WatchSummary {
  int ranks = 0, live = 0;  // rank files, and ranks still running
  uint64_t progress = 0;    // ops issued and events written by every rank: moves while it works
  std::string line;         // "4 ranks, 4 live; comm 1a2b..: op 57 (slowest rank 2 at op 53)"
};

WatchSummary SummarizeForWatch(const RunModel& model);

}  // namespace ddrr::analysis
