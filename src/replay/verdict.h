// The verdict of a comm replay: did the replay behave as the recording did? Both runs are read
// the same way: each replayed rank's communication (NCCL calls that create, use or end
// communicators, and group boundaries) from its trace, in order, and what `ddrr check` finds in
// each run. Per rank and call, the replay must make the same call on the same communicator with
// the same count, datatype, reduction op and root or peer, and it must end the same way: succeed
// (and complete), fail with the same NCCL result, or hang, that is, block until the replay's
// timeout (or never complete) where the recording did. The first call that behaves otherwise is
// that rank's divergence. The findings must name the same first problem (kind, communicator,
// ranks), and, with `--data pattern`, every checked output must be right.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "analysis/finding.h"
#include "analysis/run_model.h"
#include "common/status.h"
#include "ddrr/replay.pb.h"
#include "trace/run.h"

namespace ddrr::replay {

struct RankVerdict {
  int64_t rank = -1;
  uint64_t compared = 0;  // calls that behaved alike
  bool diverged = false;
  std::string difference;     // what differs, one line
  std::string recorded_call;  // the recording's call there (dump line), or "(none)"
  uint64_t recorded_seq = 0;  // its seq
  std::string replayed_call;  // the replay's call there (dump line), or "(none)"
  bool hung = false;          // the comparison ended at a call that hung in both runs
  std::string hung_call;      // that call, recorded (dump line)
};

// One row of the timing table: one collective type at one size, median times per op. "call":
// the time inside the call (all of the op on emu, which completes it there; the enqueue on
// NCCL); "done": from the call until the recorder saw the op complete (on NCCL, the op's time,
// give or take the completion poller's latency).
struct TimingRow {
  std::string fn;
  uint64_t bytes = 0;  // per rank, rounded up to a power of two
  uint64_t recorded_ops = 0, replayed_ops = 0;
  double recorded_call_us = 0, replayed_call_us = 0;
  double recorded_done_us = 0, replayed_done_us = 0;
};

struct Verdict {
  bool reproduced = false;
  std::vector<RankVerdict> ranks;
  // The first error-class finding of `ddrr check` on each run (one line each; "" when none), and
  // whether they agree.
  std::string recorded_finding, replayed_finding;
  bool findings_agree = true;
  std::map<uint64_t, uint64_t> replay_keys;  // replay's communicator key -> recorded key
  std::vector<TimingRow> timing;
};

// Compares `replay` (the replay's own trace) with `recording` for the ranks and window of `plan`.
// `*_model` and `*_findings` come from analysis::ModelRun and CheckModel on each run.
StatusOr<Verdict> Judge(trace::Run& recording, const analysis::RunModel& recorded_model,
                        const std::vector<analysis::Finding>& recorded_findings, trace::Run& replay,
                        const analysis::RunModel& replay_model,
                        const std::vector<analysis::Finding>& replay_findings,
                        const ReplayPlan& plan);

}  // namespace ddrr::replay
