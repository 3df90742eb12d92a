// emu's C++ entry points, one per NCCL call, with NCCL's argument checks. The facade
// (nccl_api*.cc) maps them onto the C ABI; tests call them directly with host memory.
// Every failed Result has already been logged (WARN) and stored as the last error.
#pragma once

#include <cstddef>

#include "emu/collectives.h"
#include "emu/comm.h"
#include "emu/dtype.h"
#include "emu/group.h"
#include "emu/result.h"
#include "emu/unique_id.h"

namespace ddrr::emu {

inline constexpr int kSplitNoColor = -1;
inline constexpr int kVersionCode = 22809;

UniqueIdBytes GetUniqueId();

// Creation. Inside a group the communicator is returned at once and usable after GroupEnd.
Result CommInitRank(Comm** out, int nranks, const UniqueIdBytes& id, int rank,
                    const CommOptions& options);
// ndev ranks driven by this thread; devlist may be null (devices 0..ndev-1).
Result CommInitAll(Comm** comms, int ndev, const int* devlist, const CommOptions& options);
// options null: inherit the parent's. color kSplitNoColor: *out = null.
Result CommSplit(Comm* parent, int color, int key, Comm** out, const CommOptions* options);
Result CommShrink(Comm* parent, const int* exclude, int nexclude, Comm** out,
                  const CommOptions* options, int flags);

Result CommFinalize(Comm* comm);
Result CommDestroy(Comm* comm);
Result CommAbort(Comm* comm);
Result CommRevoke(Comm* comm, int flags);
Result CommGetAsyncError(Comm* comm, Code* error);
Result CommCount(const Comm* comm, int* count);
Result CommDevice(const Comm* comm, int* device);
Result CommUserRank(const Comm* comm, int* rank);

// `op` receives the handle (>= 5) of a PreMulSum operator. On device, `scalar` is read through
// the memory seam at every collective; otherwise now.
Result RedOpCreatePreMulSum(Comm* comm, DataType dtype, const void* scalar, bool on_device,
                            int* op);
Result RedOpDestroy(Comm* comm, int op);

// `redop` is the ncclRedOp_t value (ignored for non-reducing kinds).
Result Collective(Comm* comm, CollKind kind, const void* send, void* recv, size_t count, int dtype,
                  int redop, int root, void* stream);
Result Send(Comm* comm, const void* buf, size_t count, int dtype, int peer, void* stream);
Result Recv(Comm* comm, void* buf, size_t count, int dtype, int peer, void* stream);

// Logs a failure as NCCL would (one WARN line) and remembers it for LastError.
Result Report(Result r);
std::string LastError();

}  // namespace ddrr::emu
