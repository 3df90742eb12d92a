// Monitor: watches a running replay through its progress table (progress.h). It says when to
// stop the ranks: every rank still alive waits where its recording stops (at its end, or in a
// call that hung), or nothing has moved for `still_seconds` (a call blocked for good, as on real
// NCCL, where no timeout of its own ends it); and it draws the progress line on a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "replay/progress.h"

namespace ddrr::replay {

// A rank's state when the replay was stopped.
struct RankSnapshot {
  int64_t rank = -1;
  std::string state;
  std::string call;      // "ncclAllReduce (#54) op 6 of communicator <key>"; "" between calls
  double seconds = 0;    // in that state
  bool waiting = false;  // in a call, or stopped in one
  bool hung = false;     // stopped in a call that blocked until the timeout
  bool at_end = false;   // replayed all it recorded and stayed, as its process did
};

class Monitor {
 public:
  // `draw`: the progress line on stderr.
  Monitor(ProgressTable& table, double still_seconds, bool draw);

  // Polled while the ranks run.
  bool ShouldStop();
  void Snapshot(std::vector<RankSnapshot>* out) const;
  void EndLine();  // ends the progress line, if one was drawn

  bool stopped() const { return stopped_; }
  bool still() const { return still_; }  // stopped because nothing moved
  uint64_t calls_done() const { return done_; }

 private:
  bool AllStarted() const;
  void Draw(uint64_t done, uint64_t total);

  using Clock = std::chrono::steady_clock;
  ProgressTable& table_;
  double still_seconds_;
  bool draw_;
  Clock::time_point started_, last_draw_;
  bool drew_ = false, stopped_ = false, still_ = false;
  uint64_t done_ = 0;
};

}  // namespace ddrr::replay
