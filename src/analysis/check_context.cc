#include "analysis/check_context.h"

#include <algorithm>
#include <cstdio>

namespace ddrr::analysis {

void SetComm(Finding& f, const Comm& c) {
  f.comm_key = c.key;
  f.comm_size = c.size;
  f.parent_key = c.parent_key;
  f.comm_name = c.name;
}

RankCall SideOf(const Comm& c, const Member& m, const OpRecord* rec, std::string note) {
  RankCall rc;
  rc.rank = m.rank;
  rc.comm_rank = m.comm_rank;
  rc.has_call = rec != nullptr;
  if (rec) rc.call = FromRecord(*rec, m.rank, c.key);
  rc.last_op = m.facts->last_op;
  rc.note = std::move(note);
  return rc;
}

RankCall SideOf(const RankScan& s, int32_t member, const CallSummary* call, std::string note) {
  RankCall rc;
  rc.rank = s.rank;
  if (member >= 0) {
    const MemberFacts& f = s.members[member];
    rc.last_op = f.last_op;
    rc.comm_rank = f.user_rank >= 0 ? f.user_rank : f.claimed_rank;
  }
  rc.has_call = call != nullptr;
  if (call) rc.call = *call;
  rc.note = std::move(note);
  return rc;
}

RankCall CreationSide(const Comm& c, const Member& m, std::string note) {
  RankCall rc = SideOf(c, m, nullptr, std::move(note));
  if (m.facts->created_by) {
    rc.has_call = true;
    rc.call = m.facts->create_call;
  }
  return rc;
}

std::string Hex16(uint64_t v) {
  char buf[17];
  snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

void SortUnique(std::vector<int64_t>& ranks) {
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
}

std::string DurationText(int64_t ns) {
  char buf[32];
  const double v = static_cast<double>(ns);
  if (ns >= 1'000'000'000)
    snprintf(buf, sizeof buf, "%.2f s", v / 1e9);
  else if (ns >= 1'000'000)
    snprintf(buf, sizeof buf, "%.1f ms", v / 1e6);
  else if (ns >= 1'000)
    snprintf(buf, sizeof buf, "%.0f us", v / 1e3);
  else
    snprintf(buf, sizeof buf, "%lld ns", static_cast<long long>(ns));
  return buf;
}

}  // namespace ddrr::analysis
