// Communicator setup findings: problems that exist before the first operation.
//   comm-size-mismatch  ranks created one communicator (one unique id) with different nranks,
//                       or NCCL's ncclCommCount disagrees with the size asked for;
//   duplicate-rank      two members claim the same rank of one communicator;
//   duplicate-device    two members of one communicator on one GPU of one host (NCCL:
//                       "Duplicate GPU detected", ncclInvalidUsage);
//   missing-from-init   fewer members than the size, while every rank file of the run is
//                       present (so the absent ones really never created it);
//   split-inconsistent  ranks disagree about an ncclCommSplit: they split a parent a different
//                       number of times, or a color's ranks did not end in one communicator of
//                       that many ranks.
#pragma once

#include "analysis/check_context.h"

namespace ddrr::analysis {

void CheckSetup(CheckContext& ctx);

}  // namespace ddrr::analysis
