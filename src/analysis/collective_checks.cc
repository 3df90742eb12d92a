#include "analysis/collective_checks.h"

#include <algorithm>
#include <map>
#include <tuple>

#include "analysis/hang_checks.h"
#include "spec/api_table.h"

namespace ddrr::analysis {
namespace {

// What members must agree on at one position.
auto Shape(const OpRecord& r) {
  return std::make_tuple(r.fn, r.count, r.datatype, r.redop, r.root);
}

// Which argument makes `odd` differ from `usual`, for the message.
std::string Difference(const OpRecord& odd, const OpRecord& usual) {
  if (odd.fn != usual.fn) return "function";
  std::string d;
  auto add = [&](bool differs, const char* what) {
    if (differs) d += (d.empty() ? "" : ", ") + std::string(what);
  };
  add(odd.count != usual.count, "count");
  add(odd.datatype != usual.datatype, "datatype");
  add(odd.redop != usual.redop, "reduction op");
  add(odd.root != usual.root, "root");
  return d.empty() ? "arguments" : d;
}

std::string Describe(const Comm& c, const OpRecord& r) {
  return FromRecord(r, -1, c.key).Describe();
}

// Only the first disagreement per communicator is reported: once one rank is off by an op,
// every later op would disagree too and bury the cause.
Finding Mismatch(const Comm& c, const std::vector<Aligned>& ops) {
  std::vector<std::vector<size_t>> groups;  // indexes into ops, one group per shape
  for (size_t i = 0; i < ops.size(); ++i) {
    auto g = std::find_if(groups.begin(), groups.end(), [&](const std::vector<size_t>& g) {
      return Shape(*ops[g.front()].rec) == Shape(*ops[i].rec);
    });
    if (g == groups.end())
      groups.push_back({i});
    else
      g->push_back(i);
  }
  // The majority is taken as intended; ties go to the group holding the first member.
  size_t major = 0;
  for (size_t g = 1; g < groups.size(); ++g)
    if (groups[g].size() > groups[major].size()) major = g;
  const OpRecord& usual = *ops[groups[major].front()].rec;
  auto members_of = [&](const std::vector<size_t>& g) {
    std::vector<const Member*> m;
    for (size_t i : g) m.push_back(ops[i].member);
    return m;
  };
  Finding f;
  f.kind = FindingKind::kMismatchedCollective;
  SetComm(f, c);
  f.op_seq = usual.op_seq;
  f.time_ns = usual.time_ns;
  std::string odd_text;
  std::vector<bool> odd(ops.size(), false);
  for (size_t g = 0; g < groups.size(); ++g) {
    if (g == major) continue;
    for (size_t i : groups[g]) {
      odd[i] = true;
      f.ranks.push_back(ops[i].member->rank);
    }
    if (!odd_text.empty()) odd_text += "; ";
    const OpRecord& rec = *ops[groups[g].front()].rec;
    odd_text += c.Who(members_of(groups[g])) + " called " + Describe(c, rec) + " (" +
                Difference(rec, usual) + " differs)";
  }
  SortUnique(f.ranks);
  f.message =
      odd_text + " while " + c.Who(members_of(groups[major])) + " called " + Describe(c, usual);
  for (size_t i = 0; i < ops.size(); ++i) {
    f.calls.push_back(SideOf(c, *ops[i].member, ops[i].rec, odd[i] ? "odd one out" : ""));
    f.evidence.push_back(c.Label(*ops[i].member) + ": #" + std::to_string(ops[i].rec->seq) + " " +
                         Describe(c, *ops[i].rec) + " (op " + std::to_string(ops[i].rec->op_seq) +
                         ")");
  }
  return f;
}

// A member's side quoting the op it is inside (not returned: no result).
RankCall InFlightSide(const Comm& c, const Member& m, std::string note) {
  RankCall rc = SideOf(c, m, nullptr, std::move(note));
  const MemberFacts& f = *m.facts;
  const trace::FunctionInfo* info =
      trace::FindFunction(static_cast<trace::FunctionId>(f.in_flight_fn));
  rc.has_call = true;
  rc.call.rank = m.rank;
  rc.call.seq = f.in_flight_seq;
  rc.call.time_ns = f.in_flight_since;
  rc.call.comm_key = c.key;
  rc.call.op_seq = f.last_op;
  rc.call.fn = info ? info->name : "function#" + std::to_string(f.in_flight_fn);
  rc.call.has_count = f.in_flight_count >= 0;
  rc.call.count = rc.call.has_count ? static_cast<uint64_t>(f.in_flight_count) : 0;
  rc.call.has_peer = f.in_flight_peer >= 0;
  rc.call.peer = f.in_flight_peer;
  rc.call.nccl = true;
  rc.call.returned = false;
  return rc;
}

// A member stopped early when it issued fewer collectives than the others (send/recv counts
// may differ legitimately); the evidence quotes the last op each member reached.
void CheckMissing(CheckContext& ctx, const Comm& c) {
  // A collective a rank was inside when last read counts as issued (it waits there for its
  // peers), unless a peer returned from that collective: then the rank died or stalled inside
  // it and never completed its part. (Counted in collectives: op numbers count send/recv too,
  // which members need not issue alike.)
  std::map<const Member*, uint64_t> dropped;
  auto inside_collective = [](const Member& m) {
    const trace::FunctionInfo* info =
        trace::FindFunction(static_cast<trace::FunctionId>(m.facts->in_flight_fn));
    return info && info->category == "collective";
  };
  for (const Member& m : c.members) {
    if (!inside_collective(m)) continue;
    for (const Member& o : c.members)
      if (&o != &m && !o.facts->in_flight_fn && o.facts->collectives >= m.facts->collectives) {
        dropped[&m] = 1;
        break;
      }
  }
  // Ops missing from a trace (lost to damage, or not in an imported source) were issued too.
  auto issued = [&](const Member* m) {
    return m->facts->collectives + m->facts->lost_ops - dropped[m];
  };
  auto reached_op = [&](const Member* m) { return m->facts->last_op - dropped[m]; };
  std::map<uint64_t, std::vector<const Member*>> by_count;  // collectives issued -> members
  for (const Member& m : c.members) by_count[issued(&m)].push_back(&m);
  if (by_count.size() < 2) return;
  const uint64_t full = by_count.rbegin()->first;
  const std::vector<const Member*>& culprits = by_count.begin()->second;
  // Live ranks read one after another are at different ops of a job that runs: behind is
  // stopped only when quiet.
  for (const Member* m : culprits)
    if (!QuietWhenRead(*m->scan)) return;
  std::map<uint64_t, std::vector<const Member*>, std::greater<>> by_last;  // furthest first
  for (const Member& m : c.members) by_last[reached_op(&m)].push_back(&m);
  Finding f;
  f.kind = FindingKind::kMissingParticipant;
  SetComm(f, c);
  uint64_t first_stop = UINT64_MAX;
  for (const Member* m : culprits) {
    f.ranks.push_back(m->rank);
    first_stop = std::min(first_stop, reached_op(m));
  }
  SortUnique(f.ranks);
  f.op_seq = first_stop + 1;
  std::string reached;
  for (const auto& [last, members] : by_last) {
    if (!reached.empty()) reached += "; ";
    reached += c.Who(members) +
               (issued(members.front()) == full ? " reached op " : " stopped at op ") +
               std::to_string(last);
  }
  f.message = reached;
  f.blame = c.Who(culprits) + " stopped first";  // ChainWaits concludes
  for (const auto& [n, members] : by_count)
    for (const Member* m : members) {
      const bool culprit = n != full;
      // Where it is: the waiting ones inside the op, the culprits wherever they were last seen.
      std::string where;
      if (m->facts->in_flight_fn && !culprit && !dropped[m]) {
        f.waiting.push_back(m->rank);
        const std::string waited = WaitedFor(ctx, *m->scan, m->facts->in_flight_since);
        where = m->scan->live ? "; waits inside it " + waited
                              : "; was inside it " + waited + " (" + m->scan->ended + ")";
      } else if (culprit) {
        where = "; last seen " + LastSeen(ctx, *m->scan);
      } else if (std::string inside = InsideCall(ctx, *m->scan); !inside.empty()) {
        where = "; now " + inside;
      } else if (!m->scan->ended.empty()) {
        where = "; " + m->scan->ended;
      }
      f.evidence.push_back(c.Label(*m) + " issued " + std::to_string(n) + " of " +
                           std::to_string(full) + " collectives" + where +
                           (m->facts->lost_ops ? "; " + std::to_string(m->facts->lost_ops) +
                                                     " ops are missing from its trace"
                                               : ""));
    }
  if (c.size > 0 && static_cast<size_t>(c.size) > c.members.size())
    f.evidence.push_back(std::to_string(c.size - c.members.size()) + " of " +
                         std::to_string(c.size) + " members left no trace of this communicator");
  for (const Member& m : c.members) {
    const bool culprit = std::find(culprits.begin(), culprits.end(), &m) != culprits.end();
    if (m.facts->in_flight_fn && !dropped[&m]) {
      f.calls.push_back(InFlightSide(c, m, culprit ? "stopped first" : ""));
      continue;
    }
    const OpRecord* last = m.facts->last_record.seq ? &m.facts->last_record : nullptr;
    f.calls.push_back(SideOf(c, m, last, culprit ? "stopped first" : ""));
    if (culprit && !f.time_ns && last) f.time_ns = last->time_ns;
  }
  ctx.out.push_back(std::move(f));
}

}  // namespace

Status CheckCollectives(CheckContext& ctx, const Comm& c,
                        const std::vector<PositionObserver*>& observers) {
  if (c.members.size() < 2) return Status::Ok();
  const size_t n = c.members.size();
  std::vector<OpStore::Cursor> cursors;
  std::vector<uint64_t> limit(n);  // positions a member's stream can be trusted for
  uint64_t longest = 0;
  for (size_t i = 0; i < n; ++i) {
    const MemberFacts& f = *c.members[i].facts;
    cursors.push_back(ctx.store.Read(f.coll_stream));
    // After ops were lost to damage the member's positions no longer line up.
    limit[i] = f.first_gap >= 0 ? static_cast<uint64_t>(f.first_gap) : f.collectives;
    longest = std::max(longest, limit[i]);
  }
  std::vector<OpRecord> recs(n);
  std::vector<Aligned> ops;
  ops.reserve(n);
  bool aligned = true;
  for (uint64_t k = 0; k < longest && aligned; ++k) {
    ops.clear();
    for (size_t i = 0; i < n; ++i) {
      if (k >= limit[i] || !cursors[i].Next(&recs[i])) continue;
      ops.push_back({&c.members[i], &recs[i]});
    }
    if (ops.empty()) break;
    const auto shape = Shape(*ops.front().rec);
    bool agree = true;
    for (const Aligned& a : ops) agree &= Shape(*a.rec) == shape;
    if (!agree) {
      ctx.out.push_back(Mismatch(c, ops));
      aligned = false;  // later positions are shifted: nothing more to compare
      break;
    }
    for (PositionObserver* o : observers) o->OnPosition(c, k, ops);
  }
  for (const OpStore::Cursor& cur : cursors) DDRR_RETURN_IF_ERROR(cur.status());
  for (PositionObserver* o : observers) o->OnCommEnd(c);
  CheckMissing(ctx, c);
  return Status::Ok();
}

}  // namespace ddrr::analysis
