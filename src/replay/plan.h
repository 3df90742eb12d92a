// Planning a comm replay: everything the replay ranks need that no single rank file tells. One
// pass over every rank works out which communicators can be replayed (all their members are
// replayed), each member's comm rank, which memory NCCL calls use (so a replay allocates only
// that, sized to what is used, with the recorded in-place, offset and aliasing patterns), which
// devices each rank uses (placed onto the replay's devices), the window to replay, how each
// recorded process ended, and which operations the recording shows to be faulty (their data is
// not checked).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "analysis/finding.h"
#include "analysis/run_model.h"
#include "common/status.h"
#include "ddrr/replay.pb.h"
#include "trace/run.h"

namespace ddrr::replay {

// `--from` / `--until`: a step (from ddrr_mark) or an operation number of a communicator.
struct WindowPoint {
  enum Kind { kNone, kStep, kOp } kind = kNone;
  int64_t step = 0;
  uint64_t comm_key = 0;  // kOp: 0 for each rank's first communicator
  uint64_t op = 0;
};
// "step:N", "op:N" or "op:KEY:N" (KEY: 16 hex digits, as `ddrr info` prints communicators).
StatusOr<WindowPoint> ParseWindowPoint(const std::string& text);

// Unavailable, naming the ranks of `run` that still run (read from snapshots of their
// spools, footer END_LIVE), else Ok. A replay needs a recording that has ended: a live job's
// ranks are read at different points, which a replay would take for a hang, and the call each
// one is inside has not returned, so it has no result to replay.
Status RequireEnded(const trace::Run& run);

struct PlanOptions {
  std::vector<int64_t> ranks;  // empty: every rank of the run
  WindowPoint from, until;
  DataMode data = DATA_PATTERN;
  bool pace_recorded = false;
  double timeout_seconds = 60;
  bool exact_reductions = false;  // the replay runs on emu
  std::string work_dir;
};

struct PlannedReplay {
  ReplayPlan plan;
  std::vector<std::string> notes;   // communicators left out, windows, ...
  std::vector<std::string> damage;  // rank files replayed only up to their damage
  int devices = 0;                  // replay devices the ranks use together
};

// Fails (InvalidArgument) when the selection cannot be replayed: a rank not in the run, or ranks
// missing from the run when no --ranks says which to replay. `recording`: the run scanned
// (analysis/run_model.h); `findings`: `ddrr check`'s on it.
StatusOr<PlannedReplay> BuildPlan(trace::Run& run, const analysis::RunModel& recording,
                                  const std::vector<analysis::Finding>& findings,
                                  const PlanOptions& options);

}  // namespace ddrr::replay
