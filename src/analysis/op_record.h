// OpRecord: the 64 bytes `ddrr check` keeps of one collective or send/recv, instead of the
// decoded event (hundreds of bytes with libprotobuf's bookkeeping). Every cross-rank check works
// from these, so the hot path never touches reflection or strings. The names of functions,
// datatypes, reduction ops and results are looked up only when a finding is printed.
#pragma once

#include <cstdint>
#include <string>

#include "common/nccl_datatype.h"
#include "ddrr/trace.pb.h"

namespace ddrr::analysis {

enum OpFlags : uint8_t {
  kOpInGroup = 1,        // issued between ncclGroupStart and ncclGroupEnd
  kOpGraphCaptured = 2,  // issued while its stream captured a CUDA graph
  kOpHasIn = 4,          // an input Digest was recorded
  kOpHasOut = 8,         // an output Digest was recorded
  kOpOutNonFinite = 16,  // the output digest counted NaN or Inf
};

struct OpRecord {
  uint64_t seq = 0;     // Event.seq of the call on its rank
  int64_t time_ns = 0;  // Unix time of the call: header start_unix_ns + event time
  uint64_t count = 0;   // count / sendcount / recvcount, whichever the function has
  uint64_t in_digest = 0;
  uint64_t out_digest = 0;
  uint32_t op_seq = 0;  // per-communicator op number (ApiCall.op_seq)
  int32_t root = -1;    // root of rooted collectives; the peer's comm rank for send/recv
  uint32_t in_nan = 0;  // NaN / Inf counted in the input digest (saturating)
  uint32_t in_inf = 0;
  uint16_t fn = 0;  // trace::FunctionId
  int16_t result = 0;
  int8_t datatype = -1;  // ncclDataType_t, -1 when the function has none
  int8_t redop = -1;     // ncclRedOp_t (PreMulSum ops are small integers too), -1: none
  uint8_t flags = 0;     // OpFlags
  uint8_t reserved = 0;
};
static_assert(sizeof(OpRecord) == 64, "OpRecord is spilled to disk as raw bytes");

// NCCL collectives (Reduce .. Scatter) and p2p (Send, Recv) by trace::FunctionId.
bool IsCollective(uint16_t fn);
bool IsP2p(uint16_t fn);
bool IsSend(uint16_t fn);
// Collectives whose output must be bit-identical on every rank: AllReduce, Broadcast, Bcast,
// AllGather. (Reduce and Gather output live on the root only; ReduceScatter and AlltoAll
// outputs differ per rank by design.)
bool OutputMustAgree(uint16_t fn);
using ::ddrr::DatatypeBytes;  // bytes per element of an ncclDataType_t; 0 when unknown
// An NCCL result that is not a failure: ncclSuccess, or ncclInProgress (non-blocking comms).
inline bool NcclOk(int64_t result) { return result == 0 || result == 7; }

// Fills `r` from a collective or send/recv call and returns its communicator handle, or returns
// false for any other call. `time_ns` is the call's Unix time.
bool ExtractOp(const trace::ApiCall& call, uint64_t seq, int64_t time_ns, OpRecord* r,
               uint64_t* comm_handle);

// C names for reports: "ncclAllReduce", "ncclFloat32", "ncclSum", "ncclSuccess".
std::string FunctionName(uint16_t fn);
std::string DatatypeName(int datatype);
std::string RedOpName(int redop);
std::string ResultName(uint16_t fn, int64_t result);

}  // namespace ddrr::analysis
