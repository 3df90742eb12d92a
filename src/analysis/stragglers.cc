#include "analysis/stragglers.h"

#include <algorithm>
#include <cmath>

namespace ddrr::analysis {
namespace {

// A rank is a straggler when, over at least kMinOps collectives, it was last in at least
// kMinLastShare of them, kSigmas standard deviations above what chance gives (1/members per
// op), and its median lateness is at least kMinLateness: below that, arrival order is noise
// of the host (a print, a page fault), not a slow rank.
constexpr uint64_t kMinOps = 10;
constexpr double kMinLastShare = 0.5;
constexpr double kSigmas = 4;
constexpr int64_t kMinLateness = 1'000'000;  // 1 ms
constexpr size_t kMaxRank = 1 << 22;         // stats are indexed by rank

}  // namespace

int StragglerTracker::Bucket(int64_t ns) {
  if (ns < kSubBuckets) return static_cast<int>(std::max<int64_t>(ns, 0));
  const int e = 63 - __builtin_clzll(static_cast<uint64_t>(ns));
  const int sub = static_cast<int>((static_cast<uint64_t>(ns) >> (e - 3)) & (kSubBuckets - 1));
  return std::min(kBuckets - 1, e * kSubBuckets + sub);
}

int64_t StragglerTracker::BucketValue(int b) {
  if (b < 3 * kSubBuckets) return b;  // the exact small values
  const int e = b / kSubBuckets, sub = b % kSubBuckets;
  return static_cast<int64_t>(std::ldexp(1.0 + (sub + 0.5) / kSubBuckets, e));
}

void StragglerTracker::OnPosition(const Comm& c, uint64_t, const std::vector<Aligned>& ops) {
  // Threads of one process, or a member missing here: no arrival order to judge.
  if (ops.size() < 2 || ops.size() != c.members.size() || c.SingleProcess()) return;
  times_.clear();
  const Aligned* last = &ops.front();
  for (const Aligned& a : ops) {
    times_.push_back(a.rec->time_ns);
    if (a.rec->time_ns > last->rec->time_ns) last = &a;
  }
  auto mid = times_.begin() + static_cast<std::ptrdiff_t>(times_.size() / 2);
  std::nth_element(times_.begin(), mid, times_.end());
  const double p = 1.0 / static_cast<double>(ops.size());
  for (const Aligned& a : ops) {
    const auto r = static_cast<size_t>(a.member->rank);
    if (r >= kMaxRank) continue;
    if (stats_.size() <= r) stats_.resize(r + 1);
    RankStats& st = stats_[r];
    ++st.ops;
    st.expected += p;
    st.variance += p * (1 - p);
  }
  const auto r = static_cast<size_t>(last->member->rank);
  if (r >= kMaxRank) return;
  RankStats& st = stats_[r];
  const int64_t late = last->rec->time_ns - *mid;
  ++st.last;
  ++st.lateness[Bucket(late)];
  ++st.last_by_comm[c.key];
  if (late > st.worst) {
    st.worst = late;
    st.worst_comm = c.key;
    st.worst_op = *last->rec;
  }
}

void StragglerTracker::Finish() {
  for (size_t r = 0; r < stats_.size(); ++r) {
    const RankStats& st = stats_[r];
    if (st.ops < kMinOps || st.last < kMinLastShare * static_cast<double>(st.ops) ||
        st.last < st.expected + kSigmas * std::sqrt(st.variance))
      continue;
    uint64_t seen = 0;
    int64_t median = 0;
    for (int b = 0; b < kBuckets; ++b) {
      seen += st.lateness[b];
      if (2 * seen >= st.last) {
        median = BucketValue(b);
        break;
      }
    }
    if (median < kMinLateness) continue;
    // The communicator where it was last most often stands for the finding.
    uint64_t key = 0, most = 0;
    for (const auto& [k, n] : st.last_by_comm)
      if (n > most) {
        key = k;
        most = n;
      }
    Finding f;
    f.kind = FindingKind::kStraggler;
    f.severity = Severity::kInfo;
    f.ranks = {static_cast<int64_t>(r)};
    f.time_ns = st.worst_op.time_ns;
    const Comm* c = ctx_.model.Find(key);
    if (c) SetComm(f, *c);
    const Comm* worst_comm = ctx_.model.Find(st.worst_comm);
    if (st.worst_comm == key) f.op_seq = st.worst_op.op_seq;
    char expected[32];
    snprintf(expected, sizeof expected, "%.0f", st.expected);
    f.message = "rank " + std::to_string(r) + " arrived last at " + std::to_string(st.last) +
                " of " + std::to_string(st.ops) + " collectives (chance: about " + expected +
                "); median lateness " + DurationText(median) + " behind the median rank";
    f.evidence.push_back("worst: " + DurationText(st.worst) + " late at op " +
                         std::to_string(st.worst_op.op_seq) + " (#" +
                         std::to_string(st.worst_op.seq) + " " +
                         FromRecord(st.worst_op, -1, st.worst_comm).Describe() + ")");
    for (const auto& [k, n] : st.last_by_comm) {
      f.evidence.push_back("last at " + std::to_string(n) + " collectives on comm " + Hex16(k));
    }
    f.evidence.push_back(
        "call times are on each rank's wall clock (header start_unix_ns): a host whose clock "
        "is off shifts all its ranks");
    if (worst_comm)
      for (const Member& m : worst_comm->members)
        if (m.rank == static_cast<int64_t>(r)) {
          f.calls.push_back(SideOf(*worst_comm, m, &st.worst_op, "worst arrival"));
          break;
        }
    ctx_.out.push_back(std::move(f));
  }
}

}  // namespace ddrr::analysis
