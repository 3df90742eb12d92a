// NCCL C API: collectives, point-to-point, groups and reduction operators.
#include <string>

#include "emu/facade.h"
#include "emu/nccl_debug_log.h"

using ddrr::emu::CollKind;
using namespace ddrr::emu::facade;
namespace emu = ddrr::emu;

namespace {

ncclResult_t Coll(const char* name, CollKind kind, const void* send, void* recv, size_t count,
                  ncclDataType_t dtype, int op, int root, ncclComm_t comm, cudaStream_t stream) {
  return Guarded(name, [&] {
    DDRR_NCCL_INFO(Op(name, send, recv, count, dtype, op, root, ToComm(comm), stream));
    return ToNccl(emu::Collective(ToComm(comm), kind, send, recv, count, static_cast<int>(dtype),
                                  op, root, stream));
  });
}

}  // namespace

DDRR_NCCL_API(ncclResult_t, ncclAllReduce, const void* sendbuff, void* recvbuff, size_t count,
              ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm, cudaStream_t stream) {
  return Coll("ncclAllReduce", CollKind::kAllReduce, sendbuff, recvbuff, count, datatype, op, 0,
              comm, stream);
}

DDRR_NCCL_API(ncclResult_t, ncclReduce, const void* sendbuff, void* recvbuff, size_t count,
              ncclDataType_t datatype, ncclRedOp_t op, int root, ncclComm_t comm,
              cudaStream_t stream) {
  return Coll("ncclReduce", CollKind::kReduce, sendbuff, recvbuff, count, datatype, op, root, comm,
              stream);
}

DDRR_NCCL_API(ncclResult_t, ncclBroadcast, const void* sendbuff, void* recvbuff, size_t count,
              ncclDataType_t datatype, int root, ncclComm_t comm, cudaStream_t stream) {
  return Coll("ncclBroadcast", CollKind::kBroadcast, sendbuff, recvbuff, count, datatype, 0, root,
              comm, stream);
}

DDRR_NCCL_API(ncclResult_t, ncclBcast, void* buff, size_t count, ncclDataType_t datatype, int root,
              ncclComm_t comm, cudaStream_t stream) {
  return Coll("ncclBcast", CollKind::kBroadcast, buff, buff, count, datatype, 0, root, comm,
              stream);
}

DDRR_NCCL_API(ncclResult_t, ncclAllGather, const void* sendbuff, void* recvbuff, size_t sendcount,
              ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream) {
  return Coll("ncclAllGather", CollKind::kAllGather, sendbuff, recvbuff, sendcount, datatype, 0, 0,
              comm, stream);
}

DDRR_NCCL_API(ncclResult_t, ncclReduceScatter, const void* sendbuff, void* recvbuff,
              size_t recvcount, ncclDataType_t datatype, ncclRedOp_t op, ncclComm_t comm,
              cudaStream_t stream) {
  return Coll("ncclReduceScatter", CollKind::kReduceScatter, sendbuff, recvbuff, recvcount,
              datatype, op, 0, comm, stream);
}

DDRR_NCCL_API(ncclResult_t, ncclAlltoAll, const void* sendbuff, void* recvbuff, size_t count,
              ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream) {
  return Coll("ncclAlltoAll", CollKind::kAlltoAll, sendbuff, recvbuff, count, datatype, 0, 0, comm,
              stream);
}

DDRR_NCCL_API(ncclResult_t, ncclGather, const void* sendbuff, void* recvbuff, size_t count,
              ncclDataType_t datatype, int root, ncclComm_t comm, cudaStream_t stream) {
  return Coll("ncclGather", CollKind::kGather, sendbuff, recvbuff, count, datatype, 0, root, comm,
              stream);
}

DDRR_NCCL_API(ncclResult_t, ncclScatter, const void* sendbuff, void* recvbuff, size_t count,
              ncclDataType_t datatype, int root, ncclComm_t comm, cudaStream_t stream) {
  return Coll("ncclScatter", CollKind::kScatter, sendbuff, recvbuff, count, datatype, 0, root, comm,
              stream);
}

DDRR_NCCL_API(ncclResult_t, ncclSend, const void* sendbuff, size_t count, ncclDataType_t datatype,
              int peer, ncclComm_t comm, cudaStream_t stream) {
  return Guarded("ncclSend", [&] {
    DDRR_NCCL_INFO(
        Op("ncclSend", nullptr, sendbuff, count, datatype, 0, peer, ToComm(comm), stream));
    return ToNccl(
        emu::Send(ToComm(comm), sendbuff, count, static_cast<int>(datatype), peer, stream));
  });
}

DDRR_NCCL_API(ncclResult_t, ncclRecv, void* recvbuff, size_t count, ncclDataType_t datatype,
              int peer, ncclComm_t comm, cudaStream_t stream) {
  return Guarded("ncclRecv", [&] {
    DDRR_NCCL_INFO(
        Op("ncclRecv", nullptr, recvbuff, count, datatype, 0, peer, ToComm(comm), stream));
    return ToNccl(
        emu::Recv(ToComm(comm), recvbuff, count, static_cast<int>(datatype), peer, stream));
  });
}

DDRR_NCCL_API(ncclResult_t, ncclGroupStart) {
  return Guarded("ncclGroupStart", [&] { return ToNccl(emu::GroupStart()); });
}

DDRR_NCCL_API(ncclResult_t, ncclGroupEnd) {
  return Guarded("ncclGroupEnd", [&] { return ToNccl(emu::Report(emu::GroupEnd())); });
}

DDRR_NCCL_API(ncclResult_t, ncclGroupSimulateEnd, ncclSimInfo_t* simInfo) {
  return Guarded("ncclGroupSimulateEnd", [&] {
    if (simInfo != nullptr && simInfo->magic != 0x74685283) {
      return ToNccl(emu::Report(
          Result(ddrr::emu::Code::kInvalidArgument,
                 "ncclSimInfo_t argument not initialized via NCCL_SIM_INFO_INITIALIZER")));
    }
    // Shared-memory copies have no meaningful GPU time to predict; report zero.
    if (simInfo != nullptr) simInfo->estimatedTime = 0.0f;
    return ToNccl(emu::Report(emu::GroupEnd()));
  });
}

DDRR_NCCL_API(ncclResult_t, ncclRedOpCreatePreMulSum, ncclRedOp_t* op, void* scalar,
              ncclDataType_t datatype, ncclScalarResidence_t residence, ncclComm_t comm) {
  return Guarded("ncclRedOpCreatePreMulSum", [&] {
    int handle = 0;
    Result r = emu::RedOpCreatePreMulSum(ToComm(comm), static_cast<emu::DataType>(datatype), scalar,
                                         residence == ncclScalarDevice, &handle);
    if (r.ok() && op != nullptr) *op = static_cast<ncclRedOp_t>(handle);
    return ToNccl(r);
  });
}

DDRR_NCCL_API(ncclResult_t, ncclRedOpDestroy, ncclRedOp_t op, ncclComm_t comm) {
  return Guarded("ncclRedOpDestroy",
                 [&] { return ToNccl(emu::RedOpDestroy(ToComm(comm), static_cast<int>(op))); });
}
