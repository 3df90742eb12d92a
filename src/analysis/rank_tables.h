// RankTables: what one pass over every rank file keeps for the checks: per communicator, each
// rank's operations in op_seq order; every failed NCCL call; and per rank which calls the
// completion poller saw finish. Memory grows with ranks x communicators x operations, which is
// fine for the runs check reads today (a streaming aligner would bound it by the skew instead).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <vector>

#include "analysis/call_summary.h"
#include "trace/run.h"

namespace ddrr::analysis {

struct CommTable {
  int64_t size = -1;  // from the init call's nranks; -1 when no rank recorded one
  // rank -> its ops; ops[k] is op_seq k + 1. A rank that created the comm but issued no op
  // has an empty vector: it is still a member.
  std::map<int64_t, std::vector<CallSummary>> ops;
};

struct RankCompletions {
  bool any = false;              // the rank recorded at least one Completion
  std::set<uint64_t> completed;  // call_seq of every completion
};

struct RankTables {
  std::map<uint64_t, CommTable> comms;  // by comm_key
  std::vector<CallSummary> failed_nccl_calls;
  std::map<int64_t, RankCompletions> completions;  // by rank
};

// Reads every readable rank of `run` once, from the start.
RankTables ReadRankTables(trace::Run& run);

}  // namespace ddrr::analysis
