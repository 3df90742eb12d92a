// CheckRun: the cross-rank checks behind `ddrr check` (docs/CHECK.md lists every finding).
//
// Two passes. First each rank file is read once, alone, into a RankScan (rank_scan.h): its
// collectives and send/recv go as 64-byte records to a spill file (op_store.h), the rest is
// small. Then every communicator is compared across its members from the spill file: setup,
// collective alignment with data and timing observers, send/recv pairing; failures come from
// the scans. Memory is bounded by the number of ranks and communicators (a scan per rank and a
// read buffer per member), not by the length of the run.
//
// Works on incomplete runs: ranks without a readable file are absent, damaged files give what
// their intact frames hold, and the findings say which ranks stopped first.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/finding.h"
#include "common/status.h"
#include "trace/run.h"

namespace ddrr::analysis {

struct CheckOptions {
  uint64_t comm_filter = 0;  // non-zero: only findings about this communicator key
  std::string temp_dir;      // where the spill file goes; empty: $TMPDIR, else /tmp
};

struct CheckStats {
  uint64_t ranks = 0;
  uint64_t events = 0;
  uint64_t ops = 0;  // collectives and send/recv
  uint64_t communicators = 0;
  uint64_t spilled_bytes = 0;
};

struct CheckResult {
  std::vector<Finding> findings;   // sorted, root causes first
  std::vector<std::string> notes;  // what limited the analysis (not findings)
  CheckStats stats;
  bool comm_found = true;  // with a filter: whether the run has that communicator
};

// Fails only when the spill file cannot be written (disk full, no temporary directory).
StatusOr<CheckResult> CheckRun(trace::Run& run, const CheckOptions& options = {});

struct RunModel;
// The same checks on a run already scanned (run_model.h); its op store is read, not consumed.
StatusOr<CheckResult> CheckModel(RunModel& run, const CheckOptions& options = {});

}  // namespace ddrr::analysis
