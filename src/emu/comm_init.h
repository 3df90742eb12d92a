// Operations that bring a communicator up: meeting in its segment (init), and the parent-side
// agreement that precedes a split.
#pragma once

#include <memory>
#include <string>

#include "emu/comm.h"
#include "emu/op.h"

namespace ddrr::emu {

// Attaches `comm` to its segment (creating it if first), claims its rank slot, and waits for
// every rank. `what` names the API call in messages.
std::unique_ptr<Op> MakeInitOp(Comm* comm, std::string what);

// Runs the split agreement on `parent` (color/key of every rank), then initialises `child`
// (null for NCCL_SPLIT_NOCOLOR) with its rank and size filled in from the agreement.
// `child_out` receives the child once its rank/size are known; the child is created by the op.
std::unique_ptr<Op> MakeSplitOp(Comm* parent, int color, int key, const CommOptions& options,
                                Comm* child);

}  // namespace ddrr::emu
