// NCCL C API: ids, communicator life cycle and queries, errors and version.
#include <cstring>
#include <string>

#include "emu/facade.h"

using ddrr::emu::CommOptions;
using ddrr::emu::UniqueIdBytes;
using namespace ddrr::emu::facade;
namespace emu = ddrr::emu;

namespace {

UniqueIdBytes IdBytes(const ncclUniqueId& id) {
  UniqueIdBytes bytes;
  std::memcpy(bytes.data(), id.internal, bytes.size());
  return bytes;
}

ncclResult_t InitRank(ncclComm_t* comm, int nranks, const ncclUniqueId& id, int rank,
                      const ncclConfig_t* config) {
  if (comm == nullptr)
    return ToNccl(
        emu::Report(Result(Code::kInvalidArgument, "CommInitRank : newcomm argument is NULL")));
  *comm = nullptr;
  CommOptions options;
  Result r = OptionsForCurrentDevice(config, &options);
  if (!r.ok()) return ToNccl(emu::Report(r));
  Comm* out = nullptr;
  r = emu::CommInitRank(&out, nranks, IdBytes(id), rank, options);
  *comm = ToHandle(out);
  return ToNccl(r);
}

// A split or shrunk communicator inherits its parent's options (not its name), then the
// caller's config on top.
Result ChildOptions(Comm* parent, const ncclConfig_t* config, CommOptions* options) {
  if (parent != nullptr && parent->IsLive()) *options = parent->options();
  options->name.clear();
  return ApplyConfig(config, options);
}

}  // namespace

DDRR_NCCL_API(ncclResult_t, ncclGetVersion, int* version) {
  if (version == nullptr) {
    return ToNccl(
        emu::Report(Result(Code::kInvalidArgument, "GetVersion : version argument is NULL")));
  }
  *version = NCCL_VERSION_CODE;
  return ncclSuccess;
}

DDRR_NCCL_API(ncclResult_t, ncclGetUniqueId, ncclUniqueId* out) {
  return Guarded("ncclGetUniqueId", [&] {
    if (out == nullptr) {
      return ToNccl(
          emu::Report(Result(Code::kInvalidArgument, "GetUniqueId : out argument is NULL")));
    }
    UniqueIdBytes bytes = emu::GetUniqueId();
    std::memcpy(out->internal, bytes.data(), bytes.size());
    return ncclSuccess;
  });
}

DDRR_NCCL_API(ncclResult_t, ncclCommInitRank, ncclComm_t* comm, int nranks, ncclUniqueId commId,
              int rank) {
  return Guarded("ncclCommInitRank", [&] { return InitRank(comm, nranks, commId, rank, nullptr); });
}

DDRR_NCCL_API(ncclResult_t, ncclCommInitRankConfig, ncclComm_t* comm, int nranks,
              ncclUniqueId commId, int rank, ncclConfig_t* config) {
  return Guarded("ncclCommInitRankConfig",
                 [&] { return InitRank(comm, nranks, commId, rank, config); });
}

DDRR_NCCL_API(ncclResult_t, ncclCommInitRankScalable, ncclComm_t* newcomm, int nranks, int myrank,
              int nId, ncclUniqueId* commIds, ncclConfig_t* config) {
  return Guarded("ncclCommInitRankScalable", [&] {
    if (nId < 1 || commIds == nullptr) {
      return ToNccl(emu::Report(Result(
          Code::kInvalidArgument,
          "CommInitRankScalable : invalid nId " + std::to_string(nId) + " or commIds NULL")));
    }
    return InitRank(newcomm, nranks, commIds[0], myrank, config);
  });
}

DDRR_NCCL_API(ncclResult_t, ncclCommInitAll, ncclComm_t* comms, int ndev, const int* devlist) {
  return Guarded("ncclCommInitAll", [&] {
    CommOptions options;
    Result r = OptionsForCurrentDevice(nullptr, &options);
    if (!r.ok()) return ToNccl(emu::Report(r));
    return ToNccl(emu::CommInitAll(reinterpret_cast<Comm**>(comms), ndev, devlist, options));
  });
}

DDRR_NCCL_API(ncclResult_t, ncclCommSplit, ncclComm_t comm, int color, int key, ncclComm_t* newcomm,
              ncclConfig_t* config) {
  return Guarded("ncclCommSplit", [&] {
    Comm* parent = ToComm(comm);
    CommOptions options;
    Result r = ChildOptions(parent, config, &options);
    if (!r.ok()) return ToNccl(emu::Report(r));
    return ToNccl(emu::CommSplit(parent, color, key, reinterpret_cast<Comm**>(newcomm),
                                 config != nullptr ? &options : nullptr));
  });
}

DDRR_NCCL_API(ncclResult_t, ncclCommShrink, ncclComm_t comm, int* excludeRanksList,
              int excludeRanksCount, ncclComm_t* newcomm, ncclConfig_t* config, int shrinkFlags) {
  return Guarded("ncclCommShrink", [&] {
    Comm* parent = ToComm(comm);
    CommOptions options;
    Result r = ChildOptions(parent, config, &options);
    if (!r.ok()) return ToNccl(emu::Report(r));
    return ToNccl(emu::CommShrink(parent, excludeRanksList, excludeRanksCount,
                                  reinterpret_cast<Comm**>(newcomm),
                                  config != nullptr ? &options : nullptr, shrinkFlags));
  });
}

DDRR_NCCL_API(ncclResult_t, ncclCommFinalize, ncclComm_t comm) {
  return Guarded("ncclCommFinalize", [&] { return ToNccl(emu::CommFinalize(ToComm(comm))); });
}

DDRR_NCCL_API(ncclResult_t, ncclCommDestroy, ncclComm_t comm) {
  return Guarded("ncclCommDestroy", [&] { return ToNccl(emu::CommDestroy(ToComm(comm))); });
}

DDRR_NCCL_API(ncclResult_t, ncclCommAbort, ncclComm_t comm) {
  return Guarded("ncclCommAbort", [&] { return ToNccl(emu::CommAbort(ToComm(comm))); });
}

DDRR_NCCL_API(ncclResult_t, ncclCommRevoke, ncclComm_t comm, int revokeFlags) {
  return Guarded("ncclCommRevoke",
                 [&] { return ToNccl(emu::CommRevoke(ToComm(comm), revokeFlags)); });
}

DDRR_NCCL_API(ncclResult_t, ncclCommGetAsyncError, ncclComm_t comm, ncclResult_t* asyncError) {
  return Guarded("ncclCommGetAsyncError", [&] {
    Code code = Code::kSuccess;
    Result r = emu::CommGetAsyncError(ToComm(comm), &code);
    if (r.ok() && asyncError != nullptr) *asyncError = static_cast<ncclResult_t>(code);
    return ToNccl(r);
  });
}

DDRR_NCCL_API(ncclResult_t, ncclCommCount, const ncclComm_t comm, int* count) {
  return Guarded("ncclCommCount", [&] { return ToNccl(emu::CommCount(ToComm(comm), count)); });
}

DDRR_NCCL_API(ncclResult_t, ncclCommCuDevice, const ncclComm_t comm, int* device) {
  return Guarded("ncclCommCuDevice", [&] { return ToNccl(emu::CommDevice(ToComm(comm), device)); });
}

DDRR_NCCL_API(ncclResult_t, ncclCommUserRank, const ncclComm_t comm, int* rank) {
  return Guarded("ncclCommUserRank", [&] { return ToNccl(emu::CommUserRank(ToComm(comm), rank)); });
}

DDRR_NCCL_API(const char*, ncclGetErrorString, ncclResult_t code) {
  switch (code) {
    case ncclSuccess:
      return "no error";
    case ncclUnhandledCudaError:
      return "unhandled cuda error (run with NCCL_DEBUG=INFO for details)";
    case ncclSystemError:
      return "unhandled system error (run with NCCL_DEBUG=INFO for details)";
    case ncclInternalError:
      return "internal error - please report this issue to the NCCL developers";
    case ncclInvalidArgument:
      return "invalid argument (run with NCCL_DEBUG=WARN for details)";
    case ncclInvalidUsage:
      return "invalid usage (run with NCCL_DEBUG=WARN for details)";
    case ncclRemoteError:
      return "remote process exited or there was a network error";
    case ncclInProgress:
      return "NCCL operation in progress";
    default:
      return "unknown result code";
  }
}

DDRR_NCCL_API(const char*, ncclGetLastError, ncclComm_t comm) {
  // As in NCCL the text is process-wide; a per-thread copy keeps the pointer valid until this
  // thread asks again.
  thread_local std::string text;
  text = emu::LastError();
  return text.c_str();
}

DDRR_NCCL_API(void, ncclResetDebugInit) {}
