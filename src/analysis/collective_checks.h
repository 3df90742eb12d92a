// Collective alignment: a communicator's members issue its collectives in the same order, so
// the k-th collective of every member is one operation. Send/recv share the op numbering but
// are left out here (their counts legitimately differ per rank, see p2p_pairing.h).
//
// One pass reads every member's collectives in lockstep from the op store (memory: one buffer
// per member) and finds mismatched collectives (the first position where members called
// different things) and missing participants (members that issued fewer). Each aligned
// position before the first mismatch also goes to the observers (data checks, stragglers),
// which need the same view.
#pragma once

#include <vector>

#include "analysis/check_context.h"

namespace ddrr::analysis {

// One member's op at an aligned position.
struct Aligned {
  const Member* member;
  const OpRecord* rec;
};

class PositionObserver {
 public:
  virtual ~PositionObserver() = default;
  // `ops` holds the members that reached position `index` (0-based), in member order.
  virtual void OnPosition(const Comm& c, uint64_t index, const std::vector<Aligned>& ops) = 0;
  virtual void OnCommEnd(const Comm& c) {}
};

Status CheckCollectives(CheckContext& ctx, const Comm& c,
                        const std::vector<PositionObserver*>& observers);

}  // namespace ddrr::analysis
