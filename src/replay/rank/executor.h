// Executor: replays one rank's recorded calls, in recorded order per thread. Each recorded thread
// that made replayed calls gets a replay thread (a single-threaded rank replays on the caller's
// thread); a call starts only once every earlier call of another thread that creates a handle
// (communicator, stream, event, allocation, ...) has returned, so a thread never meets a handle
// before it exists, and calls that block on peers (a collective, a synchronize) never hold up
// the other threads.
//
// Around each call: the recorded pacing (`--pace recorded`), the progress table, the data
// pattern (`--data pattern`), and the verdict of the call itself: a call that blocked for the
// replay's timeout and failed (emu's "peers never came", a rendezvous nobody joined) has hung,
// and the rank stops there, as the recorded rank stopped making progress there.
#pragma once

#include <cstdint>
#include <memory>

#include "common/status.h"
#include "ddrr/replay.pb.h"
#include "replay/progress.h"
#include "replay/rank/result_log.h"
#include "trace/trace_reader.h"

namespace ddrr::replay {

enum class ReplayEnd {
  kCompleted,  // every call replayed
  kHung,       // stopped at a call that hung
};

// Replays rank `rank` of `plan` from `reader`. Errors only when the rank cannot start (its
// regions cannot be allocated); everything that goes wrong during the replay is in `log`.
StatusOr<ReplayEnd> ReplayRank(const ReplayPlan& plan, const RankPlan& rank,
                               trace::RankFileReader& reader, ProgressWriter progress,
                               ResultLog& log);

}  // namespace ddrr::replay
