// CallSummary: a recorded call as a finding shows it (function, count, datatype, reduction op,
// root, peer, result). Built from an OpRecord for collectives and send/recv, or through
// reflection for the rare calls the checks quote (communicator setup, errors, aborts), so the
// checks need not know each function's typed message.
#pragma once

#include <cstdint>
#include <string>

#include "analysis/op_record.h"
#include "ddrr/trace.pb.h"

namespace ddrr::analysis {

struct CallSummary {
  int64_t rank = -1;
  uint64_t seq = 0;          // Event.seq of the call on its rank
  int64_t time_ns = 0;       // Unix time of the call: header start_unix_ns + event time
  uint64_t duration_ns = 0;  // time inside the call (0 when not known)
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
  bool nccl = false;     // an NCCL function (results are ncclResult_t)
  bool returned = true;  // false: the rank was inside it when last read (no result)

  // "ncclAllReduce count 1024 ncclFloat32 ncclSum" (root / peer when the function has one).
  std::string Describe() const;
};

CallSummary Summarize(const trace::ApiCall& call, int64_t rank, uint64_t seq, int64_t time_ns);
CallSummary FromRecord(const OpRecord& r, int64_t rank, uint64_t comm_key);

}  // namespace ddrr::analysis
