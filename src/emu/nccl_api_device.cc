// Host side of NCCL's experimental device API (nccl_device.h). emu has no device-side
// communicator, so resource creation fails with a clear message; team queries answer for a
// world where every rank shares one host.
#include <cstddef>
#include <cstdint>
using std::size_t;  // nccl_device/utility.h uses size_t unqualified
#include <nccl_device.h>

#include "emu/facade.h"

using namespace ddrr::emu::facade;
namespace emu = ddrr::emu;

namespace {
ncclResult_t Unsupported(const char* name) {
  return ToNccl(emu::Report(
      Result(Code::kInvalidUsage, std::string(name) +
                                      ": the NCCL device API is not supported by ddrr emu (no "
                                      "device-side communicator)")));
}
ncclTeam_t WorldOf(ncclComm_t comm) {
  ncclTeam_t team{1, 0, 1};
  if (comm != nullptr && ToComm(comm)->IsLive()) {
    team.nRanks = ToComm(comm)->nranks();
    team.rank = ToComm(comm)->rank();
  }
  return team;
}
}  // namespace

DDRR_NCCL_API(ncclResult_t, ncclDevCommCreate, ncclComm_t comm,
              ncclDevCommRequirements_t const* reqs, ncclDevComm_t* outDevComm) {
  return Unsupported("ncclDevCommCreate");
}

DDRR_NCCL_API(ncclResult_t, ncclDevCommDestroy, ncclComm_t comm, ncclDevComm_t const* devComm) {
  return Unsupported("ncclDevCommDestroy");
}

DDRR_NCCL_API(ncclTeam_t, ncclTeamWorld, ncclComm_t comm) { return WorldOf(comm); }

// All ranks of an emu communicator share one host, so the load/store-accessible team is the
// whole world and each rail holds one rank.
DDRR_NCCL_API(ncclTeam_t, ncclTeamLsa, ncclComm_t comm) { return WorldOf(comm); }

DDRR_NCCL_API(ncclTeam_t, ncclTeamRail, ncclComm_t comm) {
  ncclTeam_t world = WorldOf(comm);
  return ncclTeam_t{1, 0, world.nRanks};
}

DDRR_NCCL_API(int, ncclTeamRankToWorld, ncclComm_t comm, ncclTeam_t team, int rank) {
  return WorldOf(comm).rank + (rank - team.rank) * team.stride;
}

DDRR_NCCL_API(int, ncclTeamRankToLsa, ncclComm_t comm, ncclTeam_t team, int rank) {
  return WorldOf(comm).rank + (rank - team.rank) * team.stride;
}

DDRR_NCCL_API(ncclResult_t, ncclLsaBarrierCreateRequirement, ncclTeam_t team, int nBarriers,
              ncclLsaBarrierHandle_t* outHandle, ncclDevResourceRequirements_t* outReq) {
  return Unsupported("ncclLsaBarrierCreateRequirement");
}

DDRR_NCCL_API(ncclResult_t, ncclGinBarrierCreateRequirement, ncclComm_t comm, ncclTeam_t team,
              int nBarriers, ncclGinBarrierHandle_t* outHandle,
              ncclDevResourceRequirements_t* outReq) {
  return Unsupported("ncclGinBarrierCreateRequirement");
}

DDRR_NCCL_API(ncclResult_t, ncclLLA2ACreateRequirement, int nBlocks, int nSlots,
              ncclLLA2AHandle_t* outHandle, ncclDevResourceRequirements_t* outReq) {
  return Unsupported("ncclLLA2ACreateRequirement");
}

// Slot count only sizes device buffers that emu never creates; answer the element count.
DDRR_NCCL_API(int, ncclLLA2ACalcSlots, int maxElts, int maxEltSize) { return maxElts; }
