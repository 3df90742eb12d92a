// Hangs: ranks that wait inside a call that never returned (the rank files' `enter` events, from
// a live rank's snapshot or a killed rank's salvage) for peers that never came.
#pragma once

#include <string>

#include "analysis/check_context.h"

namespace ddrr::analysis {

// Ranks waiting inside communicator creation (init, split, shrink) for members that never
// arrived: a hang-in-setup finding per communicator, the ranks that never came first.
void CheckSetupHangs(CheckContext& ctx);

// What a rank was last seen doing, for the culprits of a hang: "inside ncclAllReduce op 7 of
// communicator KEY for 12.3 s", "in its own code for 4.1 s since its last call
// (cudaMemcpy)", "dead: signal 6", "killed". Waits count to now for a rank still running, to the
// run's last sign of life otherwise.
std::string LastSeen(const CheckContext& ctx, const RankScan& scan);

// A rank still running counts as stopped only once it has been quiet (no event) for a second when
// read: ranks read one after another are at different points of a job that runs.
bool QuietWhenRead(const RankScan& scan);

// How long a rank has waited since `since` (unix ns): "12.3 s".
std::string WaitedSince(const CheckContext& ctx, const RankScan& scan, int64_t since);

}  // namespace ddrr::analysis
