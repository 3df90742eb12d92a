// Send and receive. Each ordered pair of ranks has a ring of chunk slots in the segment; a
// message is cut into chunks, and messages between one pair are matched in issue order.
#pragma once

#include <cstddef>
#include <memory>

#include "emu/op.h"

namespace ddrr::emu {

class Comm;

// Reserve the ring positions now (issue order); the data moves when progressed.
std::unique_ptr<Op> MakeSendOp(Comm* comm, const void* buf, size_t bytes, int peer, void* stream);
std::unique_ptr<Op> MakeRecvOp(Comm* comm, void* buf, size_t bytes, int peer, void* stream);

}  // namespace ddrr::emu
