// Hangs: ranks that wait inside a call that never returned (the rank files' `enter` events, from
// a live rank's snapshot or a killed rank's salvage) for peers that never came, and the chains
// of such waits across communicators ("rank 2 waits in TP op 7 because rank 5 waits in DP op 3
// for rank 9, in its own code").
#pragma once

#include <string>
#include <vector>

#include "analysis/check_context.h"

namespace ddrr::analysis {

// Ranks waiting inside communicator creation (init, split, shrink) for members that never
// arrived: a hang-in-setup finding per communicator, the ranks that never came first.
void CheckSetupHangs(CheckContext& ctx);

// Ends every hang finding's message with its conclusion. A blamed rank that is itself inside
// another hang's op is a victim: the chain is followed to the ranks that wait for nothing (the
// likely culprits, which the finding then blames), or round to a rank already on it (a
// deadlock: the ranks on the cycle are blamed). Run after every check has added its findings.
void ChainWaits(const CheckContext& ctx, std::vector<Finding>& findings);

// Where a rank waits, when it is inside a call that never returned: "inside ncclAllReduce op 7
// of communicator KEY", "inside ncclCommInitRank (nranks 4)", "inside cudaStreamSynchronize";
// empty when it was not inside one. `since` (optional) gets when it entered (unix ns).
std::string WaitPlace(const RankScan& scan, int64_t* since = nullptr);

// WaitPlace and for how long: "inside ncclGroupEnd for 3.9 s"; empty when not inside a call.
std::string InsideCall(const CheckContext& ctx, const RankScan& scan);

// What a rank was last seen doing, for the culprits of a hang: "inside ncclAllReduce op 7 of
// communicator KEY for 12.3 s", "in its own code for 4.1 s since its last event (still
// running)", "in its own code for 4.1 s after its last event, until killed", "rank died
// of signal 6". Waits count to now for a rank still running, to its last sign of life otherwise.
std::string LastSeen(const CheckContext& ctx, const RankScan& scan);

// A rank still running counts as stopped only once it has been quiet (no event) for a second when
// read: ranks read one after another are at different points of a job that runs.
bool QuietWhenRead(const RankScan& scan);

// How long a rank has waited since `since` (unix ns), and until when: "for 12.3 s" (still
// running: to now), "for 12.3 s until killed" (to its last sign of life), "when its trace
// ends" (no end known).
std::string WaitedFor(const CheckContext& ctx, const RankScan& scan, int64_t since);

}  // namespace ddrr::analysis
