// RunModel: every readable rank of a run scanned once (rank_scan.h: ops spilled to an OpStore,
// the rest summarised) and its communicators lined up across ranks (comm_model.h). What
// `ddrr check` compares, and what a replay plans from.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "analysis/comm_model.h"
#include "analysis/op_store.h"
#include "analysis/rank_scan.h"
#include "common/status.h"
#include "trace/run.h"

namespace ddrr::analysis {

struct RunModel {
  std::unique_ptr<OpStore> store;
  std::vector<RankScan> scans;       // one per readable rank, in the run's order
  std::unique_ptr<CommModel> comms;  // points into `scans`
  // Every rank of the world left a readable file: a member absent from a communicator is then
  // really absent, not just unrecorded.
  bool world_complete = false;
  int64_t world_size = 0;
  std::vector<std::string> notes;  // what limited the scan (digests too late to attach, ...)

  const RankScan* Scan(int64_t rank) const;
};

// Scans every readable rank of `run`; the op store spills to `temp_dir` ($TMPDIR, else /tmp, when
// empty). Fails only when the store cannot be written or a rank cannot be scanned.
// `calls_in_flight`, `observer`: as ScanRank's.
StatusOr<std::unique_ptr<RunModel>> ModelRun(trace::Run& run, const std::string& temp_dir = "",
                                             bool calls_in_flight = true,
                                             ScanObserver* observer = nullptr);

// "ranks 0-3 are still running (pid 12, 13, 14, 15)": the ranks of `run` whose process still
// runs (read from a snapshot of its spool, or its spool held by a live process), for commands
// that need a job that has ended; empty when none does.
std::string StillRunning(const trace::Run& run);

}  // namespace ddrr::analysis
