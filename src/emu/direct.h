// Direct collectives: when every rank can reach its peers' buffers (ranks that are threads of
// one process, or processes whose buffers the runtime shares, as ddrr's host runtime does through
// CUDA IPC handles), each rank does its share of the work straight from the peers' inputs into
// the peers' outputs. That moves each byte once instead of three times through staging.
//
// Shares are disjoint: no two ranks write the same bytes, and a rank reads only what no other
// rank writes during the operation (in-place all-to-all aside, which stays on staging).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "emu/collectives.h"

namespace ddrr::emu {

// Elements of each rank's send / receive buffer that a collective touches.
size_t SendElems(const CollArgs& a, int nranks);
size_t RecvElems(const CollArgs& a, int nranks);

// Whether peers of `rank` read its send buffer / write its receive buffer in the direct form.
bool PeersReadSend(CollKind kind, int rank, int root);
bool PeersWriteRecv(CollKind kind, int rank, int root);

// False when this rank's buffers rule the direct form out (an in-place all-to-all would let
// one rank overwrite input another rank has not read yet).
bool DirectSafe(const CollArgs& a, int nranks);

// Every rank's buffers as this rank reaches them; null where the rank does not need them.
struct DirectBuffers {
  std::vector<const char*> send;
  std::vector<char*> recv;
};

// This rank's share of the collective. Reductions go over ranks 0..n-1 in order through a small
// scratch buffer, so results are bit-identical to the staged form. `scalars`: each rank's
// PreMulSum scalar (raw), or null.
void RunDirectShare(const CollArgs& a, int me, int nranks, const uint64_t* scalars,
                    const DirectBuffers& buffers);

}  // namespace ddrr::emu
