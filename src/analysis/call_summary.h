// CallSummary: the few fields of a recorded call that cross-rank checks compare (function,
// count, datatype, reduction op, root, peer, result), read once through reflection so the
// checks need not know each function's typed message.
#pragma once

#include <cstdint>
#include <string>

#include "ddrr/trace.pb.h"

namespace ddrr::analysis {

struct CallSummary {
  int64_t rank = -1;
  uint64_t seq = 0;      // Event.seq of the call on its rank
  uint64_t time_ns = 0;  // header start_mono_ns + event time: comparable across ranks of a host
  uint64_t comm_key = 0;
  uint64_t op_seq = 0;
  std::string fn;
  bool has_count = false;
  uint64_t count = 0;
  std::string datatype;  // C enum name; empty when the function has none
  std::string op;        // reduction op
  bool has_root = false;
  int64_t root = 0;
  bool has_peer = false;
  int64_t peer = 0;
  int64_t result = 0;
  std::string result_name;
  bool p2p = false;          // ncclSend / ncclRecv: their pairing is not checked yet
  bool nccl = false;         // an NCCL function (results are ncclResult_t)
  uint32_t group_depth = 0;  // inside ncclGroupStart/End: completed through the group end
  bool graph_captured = false;

  // "ncclAllReduce count 1024 ncclFloat32 ncclSum" (root / peer when the function has one).
  std::string Describe() const;
};

CallSummary Summarize(const trace::ApiCall& call, int64_t rank, uint64_t seq, uint64_t time_ns);

}  // namespace ddrr::analysis
