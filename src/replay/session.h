// A comm replay from start to end, as `ddrr replay` runs it: read and check the recording, plan,
// start one ddrr-replay-rank per replayed rank with ddrr's launcher (on the host runtime, on
// emu sharing GPUs, or one rank per GPU on the machine's NCCL), each recording itself, watch
// their progress (a hang: no rank moves for the timeout), stop them, and judge the replay's own
// trace against the recording (verdict.h). The CLI only parses arguments and prints the report.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "replay/monitor.h"
#include "replay/plan.h"
#include "replay/verdict.h"

namespace ddrr::replay {

struct ReplayOptions {
  std::string run;              // run directory or rank file
  std::vector<int64_t> ranks;   // empty: all
  bool host = false;            // ddrr's host runtime
  int ranks_per_gpu = 0;        // > 0: K ranks per GPU through emu
  double timeout_seconds = 60;  // no progress this long: the replay hangs
  std::string from, until;      // step:N | op:[KEY:]N
  bool pace_recorded = false;
  DataMode data = DATA_PATTERN;
  std::string output;           // the replay's run directory; empty: a temporary one
  bool progress_line = false;   // draw progress on stderr (a terminal)
  const char* argv0 = nullptr;  // finds ddrr's programs and libraries beside the binary
};

// What a rank's own log says (rank-<r>.log, src/replay/rank/result_log.h).
struct RankLog {
  int64_t rank = -1;
  std::vector<std::string> mismatches;  // "seq key op index got expected"
  std::vector<std::string> unresolved;  // calls that could not be issued, and why
  std::vector<std::string> skipped;     // NCCL calls left out, and why
  std::vector<std::string> errors;      // the rank's own failures
  uint64_t checked = 0, unchecked = 0, wrong = 0;
  bool summarized = false;  // the rank wrote its summary (it did not die first)
};

struct ReplayReport {
  Verdict verdict;
  std::vector<std::string> notes;   // plan notes: communicators left out, windows
  std::vector<std::string> damage;  // rank files replayed only up to their damage
  std::vector<RankLog> logs;
  bool stopped = false;  // the replay was stopped (a hang, or ranks waiting where they stalled)
  bool hang = false;     // ... and ranks waited in calls (the recording's hang, reproduced or not)
  std::vector<RankSnapshot> snapshot;  // when stopped
  std::string output;                  // the replay's run directory
  bool output_kept = true;
  double recorded_seconds = 0, replay_seconds = 0;
  uint64_t replayed_calls = 0;
  std::string placement;  // "host runtime", "2 ranks per GPU on 1 GPU (emu)", "4 GPUs (NCCL)"

  bool data_wrong() const;
  bool reproduced() const;  // the verdict, no wrong data, nothing unresolved
};

// Exit statuses `ddrr replay` reports beside ok/diverged.
enum class ReplayFailure { kNone, kInput, kPlacement };

struct ReplayOutcome {
  ReplayFailure failure = ReplayFailure::kNone;
  std::string message;  // the one-line error when failure != kNone
  ReplayReport report;  // when failure == kNone (or kInput after a replay of what is intact)
};

// Killed ranks' spools in the recording must be salvaged first (record::SalvageRun), as for every
// reader; the replay's own are salvaged here.
ReplayOutcome RunReplay(const ReplayOptions& options);

}  // namespace ddrr::replay
