// Stragglers: ranks that are consistently the last to call a collective. For every aligned
// position where all members arrived, the last one's lateness is its call time minus the
// median call time (times on one clock: each rank's header start_unix_ns plus the event's
// offset). A rank is reported when it was last far more often than chance allows and its median
// lateness is large enough to matter (constants in stragglers.cc). Severity: info, sorted after
// every root cause. Clocks of different hosts are only as close as NTP keeps them; a host whose
// clock runs behind shifts all its ranks alike.
//
// Memory: a fixed-size lateness histogram per rank, whatever the number of ops.
#pragma once

#include <array>
#include <map>

#include "analysis/collective_checks.h"

namespace ddrr::analysis {

class StragglerTracker : public PositionObserver {
 public:
  explicit StragglerTracker(CheckContext& ctx) : ctx_(ctx) {}
  void OnPosition(const Comm& c, uint64_t index, const std::vector<Aligned>& ops) override;
  void Finish();

 private:
  // Log-scaled buckets: 8 per power of two, so the median is known within ~9%.
  static constexpr int kSubBuckets = 8;
  static constexpr int kBuckets = 64 * kSubBuckets;
  struct RankStats {
    uint64_t ops = 0;     // positions it took part in (all members present)
    uint64_t last = 0;    // ...at which it was last
    double expected = 0;  // how often it would be last by chance
    double variance = 0;
    std::array<uint32_t, kBuckets> lateness{};
    int64_t worst = 0;
    uint64_t worst_comm = 0;
    OpRecord worst_op;
    std::map<uint64_t, uint64_t> last_by_comm;
  };
  static int Bucket(int64_t ns);
  static int64_t BucketValue(int b);

  CheckContext& ctx_;
  std::vector<RankStats> stats_;  // by global rank
  std::vector<int64_t> times_;    // scratch
};

}  // namespace ddrr::analysis
