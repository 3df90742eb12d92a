// Data findings from the digests the recorder writes at capture level `digests`:
//   nan-appeared     where NaN/Inf first entered the collectives: the op whose input digest
//                    counted some on a rank that had not yet received any (its own outputs
//                    were still finite), as opposed to the ranks that merely received it;
//   data-divergence  outputs that must be bit-identical on every member (AllReduce,
//                    Broadcast, Bcast, AllGather) have different digests; the odd members
//                    are found by majority vote.
// Fed the aligned positions of collective_checks.h.
#pragma once

#include <map>
#include <set>

#include "analysis/collective_checks.h"

namespace ddrr::analysis {

class DataChecker : public PositionObserver {
 public:
  explicit DataChecker(CheckContext& ctx) : ctx_(ctx) {}
  void OnPosition(const Comm& c, uint64_t index, const std::vector<Aligned>& ops) override;
  void OnCommEnd(const Comm& c) override;
  // NaN entries not seen at an aligned position (send/recv, or past a mismatch) are reported
  // on their own.
  void Finish();

 private:
  bool IsFeed(const Member& m, const OpRecord& r) const;

  CheckContext& ctx_;
  std::set<const RankScan*> reported_feeds_;
  bool diverged_ = false;  // in the current communicator
  uint64_t divergent_ops_ = 0;
  Finding divergence_;
};

}  // namespace ddrr::analysis
