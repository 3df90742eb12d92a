// CommModel: every communicator of a run as the ranks' scans describe it together: its members
// (one per rank and handle; a process that drives several devices has several), each member's
// rank in it, its size and its parent. Sizes and ranks come from what the ranks passed to
// NCCL (ncclCommInitRank's nranks and rank, InitAll's device index), from what NCCL answered
// (ncclCommCount, ncclCommUserRank), or for splits from NCCL's rule: ranks with one color,
// ordered by key, ties by parent rank.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "analysis/rank_scan.h"

namespace ddrr::analysis {

struct Member {
  const RankScan* scan = nullptr;
  const MemberFacts* facts = nullptr;
  int64_t rank = -1;       // global rank of the rank file
  int64_t comm_rank = -1;  // -1: unknown
};

struct Comm {
  uint64_t key = 0;
  int64_t size = -1;  // -1: unknown
  uint64_t parent_key = 0;
  uint16_t created_by = 0;  // trace::FunctionId; 0: no member recorded its creation
  std::string name;         // a member's header names it (RankScan::comm_names); "": none
  // Sorted by comm rank (unknown last), then global rank.
  std::vector<Member> members;
  // Some rank file holds several members (ncclCommInitAll, a thread per device): global ranks
  // alone do not tell members apart, so reports name comm ranks.
  bool shared_ranks = false;

  // True when all members are in one process (ncclCommInitAll, or threads of one rank).
  bool SingleProcess() const;
  // The member with this comm rank; nullptr if none or ambiguous.
  const Member* ByCommRank(int64_t comm_rank) const;
  // The member a rank's scan describes with `facts`; nullptr if none.
  const Member* ByFacts(const MemberFacts* facts) const;
  // "rank 3", or "rank 0 (comm rank 2)" when the two differ or ranks are shared.
  std::string Label(const Member& m) const;
  // "rank 3" / "ranks 0,1,3"; with shared ranks "comm ranks 0,2 (rank 0)".
  std::string Who(const std::vector<const Member*>& members) const;
};

class CommModel {
 public:
  // `scans` must outlive the model.
  explicit CommModel(const std::vector<RankScan>& scans);

  const std::map<uint64_t, Comm>& comms() const { return comms_; }
  const Comm* Find(uint64_t key) const;

 private:
  void ResolveRanks(Comm& c, std::map<uint64_t, int>& state);
  int64_t ParentRank(const Member& m, std::map<uint64_t, int>& state);

  std::map<uint64_t, Comm> comms_;
};

}  // namespace ddrr::analysis
