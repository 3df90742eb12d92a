#include "analysis/hang_checks.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <tuple>

#include "spec/api_table.h"
#include "trace/event_printer.h"

namespace ddrr::analysis {
namespace {

std::string FnName(uint16_t fn) {
  const trace::FunctionInfo* info = trace::FindFunction(static_cast<trace::FunctionId>(fn));
  return info ? std::string(info->name) : "function#" + std::to_string(fn);
}

// The end of the waits: now for a rank still running, else the run's last sign of life.
int64_t WaitsEnd(const CheckContext& ctx, const RankScan& scan) {
  if (scan.live)
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  int64_t last = 0;
  for (const RankScan& s : ctx.scans)
    last = std::max(last, s.start_unix_ns + static_cast<int64_t>(s.last_time_ns));
  return last;
}

}  // namespace

bool QuietWhenRead(const RankScan& scan) {
  constexpr int64_t kQuietNs = 1000000000;
  const int64_t last = scan.start_unix_ns + static_cast<int64_t>(scan.last_time_ns);
  return !scan.live || !scan.read_unix_ns || scan.read_unix_ns - last >= kQuietNs;
}

std::string WaitedSince(const CheckContext& ctx, const RankScan& scan, int64_t since) {
  return SecondsText(WaitsEnd(ctx, scan) - since);
}

std::string LastSeen(const CheckContext& ctx, const RankScan& scan) {
  // A wait counts to now while the rank runs; a killed rank's trace ends inside it.
  auto how_long = [&](int64_t since) {
    return scan.live ? " for " + WaitedSince(ctx, scan, since) : " when its trace ends";
  };
  if (!scan.setup_waits.empty())
    return "inside " + FnName(scan.setup_waits.front().fn) +
           how_long(scan.setup_waits.front().since);
  for (const MemberFacts& m : scan.members)
    if (m.in_flight_fn)
      return "inside " + FnName(m.in_flight_fn) + " op " + std::to_string(m.last_op) +
             " of communicator " + trace::EventPrinter::KeyHex(m.comm_key) +
             how_long(m.in_flight_since);
  const int64_t last = scan.start_unix_ns + static_cast<int64_t>(scan.last_time_ns);
  if (scan.live)
    return "in its own code for " + WaitedSince(ctx, scan, last) +
           " since its last event (still running)";
  if (!scan.ended.empty()) return scan.ended;
  return "ended after its last event";
}

void CheckSetupHangs(CheckContext& ctx) {
  // Who waits inside which creation: (function, size or color, parent) -> ranks.
  using Key = std::tuple<uint16_t, int64_t, uint64_t>;
  std::map<Key, std::vector<const RankScan*>> waiting;
  for (const RankScan& s : ctx.scans)
    for (const RankScan::SetupWait& w : s.setup_waits)
      waiting[{w.fn, w.detail, w.parent_key}].push_back(&s);
  for (const auto& [key, ranks] : waiting) {
    const auto& [fn, detail, parent_key] = key;
    // Who should be there: a split's parent members; an init of the whole world, every rank.
    std::vector<int64_t> expected;
    if (parent_key) {
      if (const Comm* p = ctx.model.Find(parent_key))
        for (const Member& m : p->members) expected.push_back(m.rank);
    } else if (detail > 0 && detail == ctx.world_size) {
      for (int64_t r = 0; r < ctx.world_size; ++r) expected.push_back(r);
    }
    std::vector<int64_t> inside;
    for (const RankScan* s : ranks) inside.push_back(s->rank);
    std::vector<int64_t> absent;
    for (int64_t r : expected)
      if (std::find(inside.begin(), inside.end(), r) == inside.end()) absent.push_back(r);
    SortUnique(absent);
    SortUnique(inside);
    if (expected.empty() && detail > 0 && static_cast<int64_t>(inside.size()) >= detail) continue;
    if (!expected.empty() && absent.empty()) continue;  // everyone is there: not waiting on a peer
    // A job still starting: those not there yet may be on their way.
    bool settled = true;
    for (int64_t r : absent)
      for (const RankScan& x : ctx.scans)
        if (x.rank == r && !QuietWhenRead(x)) settled = false;
    if (!settled) continue;

    Finding f;
    f.kind = FindingKind::kHangInSetup;
    f.parent_key = parent_key;
    f.ranks = absent;
    const std::string what =
        FnName(fn) + (parent_key ? " (color " + std::to_string(detail) + " of communicator " +
                                       trace::EventPrinter::KeyHex(parent_key) + ")"
                                 : " (nranks " + std::to_string(detail) + ")");
    int64_t first = 0;
    for (const RankScan* s : ranks)
      for (const RankScan::SetupWait& w : s->setup_waits)
        if (w.fn == fn && w.detail == detail && (!first || w.since < first)) first = w.since;
    f.time_ns = first;
    const RankScan& any = *ranks.front();
    f.message = RanksWord(inside) +
                (any.live ? " wait inside " + what + " for " + WaitedSince(ctx, any, first) + "; "
                          : " were inside " + what + " when killed; ");
    if (!absent.empty()) {
      f.message += RanksWord(absent) + " never arrived (likely culprit" +
                   (absent.size() > 1 ? "s" : "") + ")";
    } else {
      f.message += std::to_string(detail - static_cast<int64_t>(inside.size())) + " of " +
                   std::to_string(detail) + " members never arrived (which ranks: not recorded)";
    }
    for (int64_t r : absent) {
      const RankScan* s = nullptr;
      for (const RankScan& x : ctx.scans)
        if (x.rank == r) s = &x;
      f.evidence.push_back("rank " + std::to_string(r) + ": " +
                           (s ? "last seen " + LastSeen(ctx, *s) : "left no rank file"));
    }
    for (const RankScan* s : ranks)
      for (const RankScan::SetupWait& w : s->setup_waits)
        if (w.fn == fn && w.detail == detail)
          f.evidence.push_back("rank " + std::to_string(s->rank) + ": inside " + what +
                               (s->live
                                    ? " for " + WaitedSince(ctx, *s, w.since) + " (still running)"
                                    : " when its trace ends (" + s->ended + ")"));
    ctx.out.push_back(std::move(f));
  }
}

}  // namespace ddrr::analysis
