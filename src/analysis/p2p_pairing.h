// Send/recv pairing. NCCL matches point-to-point operations per (communicator, sender,
// receiver) in issue order, groups or not: the n-th ncclSend from a to b pairs with the n-th
// ncclRecv at b from a. Unpaired operations are `unmatched-p2p` (the peer never posted the
// matching op); pairs whose datatype or byte size differ are `mismatched-p2p`. Both sides are
// named.
//
// Members' send/recv streams are merged by time, so the queues of not-yet-paired operations
// stay as short as the ranks' skew: memory does not grow with the run, only with the number of
// operations that really are unmatched.
#pragma once

#include "analysis/check_context.h"

namespace ddrr::analysis {

Status CheckP2p(CheckContext& ctx, const Comm& c);

}  // namespace ddrr::analysis
