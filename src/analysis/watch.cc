#include "analysis/watch.h"

#include <algorithm>
#include <cstdio>

#include "trace/event_printer.h"

namespace ddrr::analysis {

WatchSummary SummarizeForWatch(const RunModel& model) {
  WatchSummary w;
  for (const RankScan& s : model.scans) {
    ++w.ranks;
    if (s.live) ++w.live;
    w.progress += s.events;
  }
  w.line = std::to_string(w.ranks) + " rank(s), " + std::to_string(w.live) + " live";
  size_t shown = 0;
  for (const auto& [key, c] : model.comms->comms()) {
    uint64_t top = 0, low = UINT64_MAX;
    int64_t slowest = -1;
    for (const Member& m : c.members) {
      w.progress += m.facts->last_op;
      top = std::max(top, m.facts->last_op);
      if (m.facts->last_op < low) {
        low = m.facts->last_op;
        slowest = m.rank;
      }
    }
    if (c.members.empty() || top == 0) continue;
    if (++shown > 4) continue;  // the line stays short; the count says how many more
    w.line +=
        "; comm " + trace::EventPrinter::KeyHex(key).substr(0, 8) + " op " + std::to_string(top);
    if (low < top)
      w.line += " (slowest rank " + std::to_string(slowest) + " at op " + std::to_string(low) + ")";
  }
  if (shown > 4) w.line += "; " + std::to_string(shown - 4) + " more communicator(s)";
  return w;
}

}  // namespace ddrr::analysis
