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

int64_t LastEventUnixNs(const RankScan& scan) {
  return scan.start_unix_ns + static_cast<int64_t>(scan.last_time_ns);
}

// The end of a rank's waits: now while it runs; else its own last sign of life when its footer
// gives one, else the run's.
int64_t WaitsEnd(const CheckContext& ctx, const RankScan& scan) {
  if (scan.live)
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  if (scan.end_unix_ns) return std::max(scan.end_unix_ns, LastEventUnixNs(scan));
  int64_t last = 0;
  for (const RankScan& s : ctx.scans) last = std::max({last, s.end_unix_ns, LastEventUnixNs(s)});
  return last;
}

std::string CreationText(uint16_t fn, int64_t detail, uint64_t parent_key) {
  return FnName(fn) + (parent_key ? " (color " + std::to_string(detail) + " of communicator " +
                                        trace::EventPrinter::KeyHex(parent_key) + ")"
                                  : " (nranks " + std::to_string(detail) + ")");
}

bool IsHang(const Finding& f) {
  return (f.kind == FindingKind::kHangInSetup || f.kind == FindingKind::kMissingParticipant) &&
         !f.blame.empty();
}

std::string CulpritWord(size_t n) { return n == 1 ? "the likely culprit" : "the likely culprits"; }

// Who waits for whom: a rank inside a hang's op or call waits for the ranks that hang blames; a
// rank inside a send or receive waits for its peer. Ranks with no edge wait for nobody: in their
// own code, dead, ended, or inside a call whose peers the trace does not name.
class WaitGraph {
 public:
  WaitGraph(const CheckContext& ctx, const std::vector<Finding>& findings) : ctx_(ctx) {
    for (const Finding& f : findings)
      if (IsHang(f))
        for (int64_t r : f.waiting) waits_for_.emplace(r, f.ranks);  // a rank's first wait
    // A rank inside a call whose peers the trace does not name (ncclGroupEnd, a
    // synchronisation) waits for the peers that never matched its sends and receives.
    for (const Finding& f : findings)
      if (f.kind == FindingKind::kUnmatchedP2p && f.silent_peer >= 0 && f.ranks.size() == 1)
        if (const RankScan* s = FindScan(ctx.scans, f.ranks.front());
            s && !s->blocked.empty() && !waits_for_.count(s->rank))
          blocked_on_[s->rank].push_back(f.silent_peer);
    for (const RankScan& s : ctx.scans) {
      if (waits_for_.count(s.rank)) continue;
      for (const MemberFacts& m : s.members) {
        if (!m.in_flight_fn || m.in_flight_peer < 0) continue;
        const Comm* c = ctx.model.Find(m.comm_key);
        const Member* peer = c ? c->ByCommRank(m.in_flight_peer) : nullptr;
        if (peer && peer->rank != s.rank) waits_for_[s.rank] = {peer->rank};
        break;
      }
    }
    for (auto& [rank, peers] : blocked_on_) {
      SortUnique(peers);
      waits_for_.emplace(rank, peers);
    }
  }

  // The ranks `rank` waits for; null: nobody.
  const std::vector<int64_t>* WaitsFor(int64_t rank) const {
    auto it = waits_for_.find(rank);
    return it == waits_for_.end() ? nullptr : &it->second;
  }

  // "rank 5 is inside ncclAllReduce op 3 of communicator KEY, waiting for rank 9"
  std::string Hop(int64_t rank) const {
    const RankScan* s = FindScan(ctx_.scans, rank);
    const std::string where = s ? WaitPlace(*s) : "";
    return "rank " + std::to_string(rank) + " is " + (where.empty() ? "waiting" : where) +
           ", waiting for " + RanksWord(*WaitsFor(rank));
  }

  struct Walk {
    std::vector<int64_t> roots;  // ranks at the ends of the chains
    std::vector<int64_t> cycle;  // ranks on a loop, when a chain comes back on itself
    int depth = 0;               // waits passed through to the deepest root
  };

  // Follows every chain that starts at `ranks`.
  Walk From(const std::vector<int64_t>& ranks) const {
    Walk w;
    std::vector<int64_t> path;
    for (int64_t r : ranks) Follow(r, path, w);
    SortUnique(w.roots);
    SortUnique(w.cycle);
    return w;
  }

 private:
  void Follow(int64_t rank, std::vector<int64_t>& path, Walk& w) const {
    if (const auto at = std::find(path.begin(), path.end(), rank); at != path.end()) {
      w.cycle.insert(w.cycle.end(), at, path.end());  // everyone on the loop waits for another
      return;
    }
    const std::vector<int64_t>* next = WaitsFor(rank);
    if (!next) {
      w.roots.push_back(rank);
      w.depth = std::max(w.depth, static_cast<int>(path.size()));
      return;
    }
    path.push_back(rank);
    for (int64_t r : *next) Follow(r, path, w);
    path.pop_back();
  }

  const CheckContext& ctx_;
  std::map<int64_t, std::vector<int64_t>> waits_for_;
  std::map<int64_t, std::vector<int64_t>> blocked_on_;  // from unmatched send/recv
};

// A rank that stopped while its peers went on: not one that ended its program normally.
bool Stopped(const CheckContext& ctx, int64_t rank) {
  const RankScan* s = FindScan(ctx.scans, rank);
  return s && (s->live || !s->has_footer || s->end_reason == trace::END_SALVAGED ||
               s->end_reason == trace::END_SIGNAL);
}

// An unmatched send/recv whose peer never posted its side because it stopped, or waits behind
// a rank that did, is a consequence of that hang rather than a mismatch: said so, and ordered
// after the hangs. Kept as a mismatch when the chain leads back to the rank that posted.
void ExplainUnmatched(const CheckContext& ctx, const WaitGraph& graph, Finding& f) {
  if (f.silent_peer < 0) return;
  const WaitGraph::Walk walk = graph.From({f.silent_peer});
  if (walk.roots.empty() || !walk.cycle.empty()) return;
  for (int64_t r : walk.roots)
    if (!Stopped(ctx, r) || std::find(f.ranks.begin(), f.ranks.end(), r) != f.ranks.end()) return;
  f.chain_depth = walk.depth + 1;
  for (int64_t r : f.ranks)
    if (const RankScan* s = FindScan(ctx.scans, r); s && !s->blocked.empty())
      f.evidence.push_back("rank " + std::to_string(r) + ": " + InsideCall(ctx, *s));
  if (graph.WaitsFor(f.silent_peer))
    f.message += "; " + graph.Hop(f.silent_peer) + "; " + RanksWord(walk.roots) + " " +
                 (walk.roots.size() > 1 ? "are " : "is ") + CulpritWord(walk.roots.size());
  else
    f.message +=
        "; rank " + std::to_string(f.silent_peer) + " stopped before it (" + CulpritWord(1) + ")";
}

}  // namespace

bool QuietWhenRead(const RankScan& scan) {
  constexpr int64_t kQuietNs = 1000000000;
  return !scan.live || !scan.read_unix_ns || scan.read_unix_ns - LastEventUnixNs(scan) >= kQuietNs;
}

std::string WaitedFor(const CheckContext& ctx, const RankScan& scan, int64_t since) {
  if (scan.live) return "for " + SecondsText(WaitsEnd(ctx, scan) - since);
  if (!scan.end_unix_ns) return "when its trace ends";
  return "for " + SecondsText(WaitsEnd(ctx, scan) - since) + " " + scan.until;
}

std::string WaitPlace(const RankScan& scan, int64_t* since) {
  int64_t at = 0;
  std::string where;
  if (!scan.setup_waits.empty()) {
    const RankScan::SetupWait& w = scan.setup_waits.front();
    where = "inside " + CreationText(w.fn, w.detail, w.parent_key);
    at = w.since;
  } else {
    for (const MemberFacts& m : scan.members)
      if (m.in_flight_fn) {
        where = "inside " + FnName(m.in_flight_fn) + " op " + std::to_string(m.last_op) +
                " of communicator " + trace::EventPrinter::KeyHex(m.comm_key);
        at = m.in_flight_since;
        break;
      }
    if (where.empty() && !scan.blocked.empty()) {
      where = "inside " + FnName(scan.blocked.front().fn);
      at = scan.blocked.front().since;
    }
  }
  if (since) *since = at;
  return where;
}

std::string InsideCall(const CheckContext& ctx, const RankScan& scan) {
  int64_t since = 0;
  const std::string where = WaitPlace(scan, &since);
  return where.empty() ? where : where + " " + WaitedFor(ctx, scan, since);
}

std::string LastSeen(const CheckContext& ctx, const RankScan& scan) {
  if (std::string inside = InsideCall(ctx, scan); !inside.empty()) return inside;
  const int64_t last = LastEventUnixNs(scan);
  if (scan.live)
    return "in its own code for " + SecondsText(WaitsEnd(ctx, scan) - last) +
           " since its last event (still running)";
  if (scan.end_unix_ns && scan.end_reason == trace::END_SALVAGED)
    return "in its own code for " + SecondsText(WaitsEnd(ctx, scan) - last) +
           " after its last event, " + scan.until;
  if (!scan.ended.empty()) return scan.ended;
  return "ended after its last event";
}

void CheckSetupHangs(CheckContext& ctx) {
  // Who waits inside which creation: (function, size or color, parent) -> ranks.
  using Key = std::tuple<uint16_t, int64_t, uint64_t>;
  std::map<Key, std::vector<const RankScan*>> waiting;
  // A split or shrink is one call over its parent whatever color each member passes.
  auto detail_of = [](const RankScan::SetupWait& w) { return w.parent_key ? 0 : w.detail; };
  for (const RankScan& s : ctx.scans)
    for (const RankScan::SetupWait& w : s.setup_waits)
      waiting[{w.fn, detail_of(w), w.parent_key}].push_back(&s);
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
      if (const RankScan* x = FindScan(ctx.scans, r); x && !QuietWhenRead(*x)) settled = false;
    if (!settled) continue;

    Finding f;
    f.kind = FindingKind::kHangInSetup;
    f.parent_key = parent_key;
    f.ranks = absent;
    f.waiting = inside;
    const std::string what =
        parent_key ? FnName(fn) + " of communicator " + trace::EventPrinter::KeyHex(parent_key)
                   : CreationText(fn, detail, parent_key);
    const Key group = key;  // a lambda may not capture a structured binding (clang 14)
    auto same_call = [&detail_of, &group](const RankScan::SetupWait& w) {
      return Key{w.fn, detail_of(w), w.parent_key} == group;
    };
    int64_t first = 0;
    const RankScan* first_in = ranks.front();
    for (const RankScan* s : ranks)
      for (const RankScan::SetupWait& w : s->setup_waits)
        if (same_call(w) && (!first || w.since < first)) {
          first = w.since;
          first_in = s;
        }
    f.time_ns = first;
    const bool one = inside.size() == 1;
    f.message = RanksWord(inside) +
                (first_in->live ? (one ? " waits inside " : " wait inside ")
                                : (one ? " was inside " : " were inside ")) +
                what + " " + WaitedFor(ctx, *first_in, first);
    f.blame = absent.empty() ? std::to_string(detail - static_cast<int64_t>(inside.size())) +
                                   " of " + std::to_string(detail) +
                                   " members never arrived (which ranks: not recorded)"
                             : RanksWord(absent) + " never arrived";
    for (int64_t r : absent) {
      const RankScan* s = FindScan(ctx.scans, r);
      f.evidence.push_back("rank " + std::to_string(r) + ": " +
                           (s ? "last seen " + LastSeen(ctx, *s) : "left no rank file"));
    }
    for (const RankScan* s : ranks)
      for (const RankScan::SetupWait& w : s->setup_waits)
        if (same_call(w))
          f.evidence.push_back("rank " + std::to_string(s->rank) + ": inside " +
                               CreationText(w.fn, w.detail, w.parent_key) + " " +
                               WaitedFor(ctx, *s, w.since) +
                               (s->live ? " (still running)" : " (" + s->ended + ")"));
    ctx.out.push_back(std::move(f));
  }
}

void ChainWaits(const CheckContext& ctx, std::vector<Finding>& findings) {
  const WaitGraph graph(ctx, findings);
  for (Finding& f : findings) {
    if (f.kind == FindingKind::kUnmatchedP2p) ExplainUnmatched(ctx, graph, f);
    if (!IsHang(f)) continue;
    std::string conclusion = f.blame;
    std::vector<int64_t> chained;  // blamed ranks that themselves wait for others
    for (int64_t b : f.ranks)
      if (graph.WaitsFor(b)) chained.push_back(b);
    if (f.ranks.empty()) {
      // Nobody to blame by rank (the trace does not say which members never came).
    } else if (chained.empty()) {
      conclusion += f.ranks.size() > 1 ? " (likely culprits)" : " (likely culprit)";
    } else {
      const WaitGraph::Walk walk = graph.From(f.ranks);
      std::string chain;
      for (int64_t b : chained) chain += (chain.empty() ? "" : "; ") + graph.Hop(b);
      for (int64_t b : chained) f.evidence.push_back("wait chain: " + graph.Hop(b));
      if (!walk.cycle.empty()) {
        conclusion +=
            "; deadlock: " + chain + " (" + RanksWord(walk.cycle) + " wait for each other)";
        f.ranks = walk.cycle;
      } else {
        f.chain_depth = walk.depth;
        conclusion += "; " + chain + "; " + RanksWord(walk.roots) + " " +
                      (walk.roots.size() > 1 ? "are " : "is ") + CulpritWord(walk.roots.size());
        f.ranks = walk.roots;
        for (int64_t r : walk.roots)
          if (const RankScan* s = FindScan(ctx.scans, r))
            f.evidence.push_back("rank " + std::to_string(r) + " (end of the chain): last seen " +
                                 LastSeen(ctx, *s));
      }
      for (RankCall& rc : f.calls)
        if (graph.WaitsFor(rc.rank) && !rc.note.empty()) rc.note = "waits elsewhere";
    }
    f.message += "; " + conclusion;
  }
}

}  // namespace ddrr::analysis
