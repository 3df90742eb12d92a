#include "analysis/setup_checks.h"

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

#include "spec/api_table.h"

namespace ddrr::analysis {
namespace {

std::string CreatedAt(const Member& m) {
  if (!m.facts->created_by) return "creation not recorded";
  return m.facts->create_call.fn + " #" + std::to_string(m.facts->create_call.seq);
}

// Inits from one unique id (the n-th use of that id on each rank) that asked for different
// sizes: the recorder's key includes nranks, so they ended in different communicators.
void SizeAcrossKeys(CheckContext& ctx) {
  struct Init {
    const Member* m;
    const Comm* c;
  };
  std::map<std::pair<uint64_t, uint32_t>, std::vector<Init>> by_id;
  for (const auto& [key, c] : ctx.model.comms())
    for (const Member& m : c.members)
      if (m.facts->id_hash) by_id[{m.facts->id_hash, m.facts->id_occurrence}].push_back({&m, &c});
  for (const auto& [id, inits] : by_id) {
    std::map<int64_t, std::vector<Init>> by_size;
    for (const Init& i : inits) by_size[i.m->facts->claimed_size].push_back(i);
    if (by_size.size() < 2) continue;
    auto major = std::max_element(by_size.begin(), by_size.end(), [](const auto& a, const auto& b) {
      return a.second.size() < b.second.size();
    });
    Finding f;
    f.kind = FindingKind::kCommSizeMismatch;
    SetComm(f, *major->second.front().c);
    std::string odd;
    std::vector<int64_t> usual;
    for (const auto& [size, list] : by_size) {
      std::vector<int64_t> ranks;
      for (const Init& i : list) {
        ranks.push_back(i.m->rank);
        f.calls.push_back(CreationSide(*i.c, *i.m, "nranks " + std::to_string(size)));
        f.evidence.push_back(i.c->Label(*i.m) + ": " + CreatedAt(*i.m) + " nranks " +
                             std::to_string(size) + " -> comm " + Hex16(i.c->key));
      }
      SortUnique(ranks);
      if (size == major->first) {
        usual = ranks;
        continue;
      }
      f.ranks.insert(f.ranks.end(), ranks.begin(), ranks.end());
      odd += (odd.empty() ? "" : "; ") + RanksWord(ranks) + " asked for " + std::to_string(size);
    }
    SortUnique(f.ranks);
    f.message = "one unique id, different sizes: " + RanksWord(usual) + " asked for nranks " +
                std::to_string(major->first) + ", " + odd + "; they cannot form one communicator";
    ctx.out.push_back(std::move(f));
  }
}

// NCCL's own answer (ncclCommCount) against the size the ranks asked for.
void CountedSize(CheckContext& ctx, const Comm& c) {
  if (c.size <= 0) return;
  std::vector<int64_t> odd;
  for (const Member& m : c.members)
    if (m.facts->counted_size > 0 && m.facts->counted_size != c.size) odd.push_back(m.rank);
  if (odd.empty()) return;
  SortUnique(odd);
  Finding f;
  f.kind = FindingKind::kCommSizeMismatch;
  SetComm(f, c);
  f.ranks = odd;
  f.message = "ncclCommCount answered a size other than " + std::to_string(c.size) + " on " +
              RanksWord(odd);
  for (const Member& m : c.members)
    if (m.facts->counted_size > 0)
      f.evidence.push_back(c.Label(m) +
                           ": ncclCommCount = " + std::to_string(m.facts->counted_size));
  for (const Member& m : c.members)
    f.calls.push_back(CreationSide(c, m, "count " + std::to_string(m.facts->counted_size)));
  ctx.out.push_back(std::move(f));
}

void DuplicateRanks(CheckContext& ctx, const Comm& c) {
  std::map<int64_t, std::vector<const Member*>> by_rank;
  for (const Member& m : c.members)
    if (m.comm_rank >= 0) by_rank[m.comm_rank].push_back(&m);
  for (const auto& [rank, members] : by_rank) {
    if (members.size() < 2) continue;
    Finding f;
    f.kind = FindingKind::kDuplicateRank;
    SetComm(f, c);
    for (const Member* m : members) {
      f.ranks.push_back(m->rank);
      f.calls.push_back(CreationSide(c, *m, "claims rank " + std::to_string(rank)));
      f.evidence.push_back("rank " + std::to_string(m->rank) + ": " + CreatedAt(*m) + " as rank " +
                           std::to_string(rank));
    }
    SortUnique(f.ranks);
    f.message = std::to_string(members.size()) + " members (" + RanksWord(f.ranks) +
                ") joined as rank " + std::to_string(rank) + " of this communicator";
    ctx.out.push_back(std::move(f));
  }
}

// How the member's device was learned, for the evidence.
std::string DeviceSource(const Member& m) {
  const MemberFacts& f = *m.facts;
  if (f.cu_device >= 0) return "ncclCommCuDevice = " + std::to_string(f.cu_device);
  if (f.created_by == static_cast<uint16_t>(trace::FunctionId::kNcclCommInitAll))
    return "ncclCommInitAll devlist entry " + std::to_string(f.claimed_rank) + " = " +
           std::to_string(f.device);
  if (f.parent_member >= 0) return "device of the parent communicator, " + std::to_string(f.device);
  return "current device " + std::to_string(f.device) + " at " + CreatedAt(m);
}

void DuplicateDevices(CheckContext& ctx, const Comm& c) {
  std::map<std::string, std::vector<const Member*>> by_device;
  for (const Member& m : c.members)
    if (m.facts->device_used() >= 0 && m.facts->created_by)
      by_device[DeviceIdentity(*m.scan, m.facts->device_used())].push_back(&m);
  for (const auto& [device, members] : by_device) {
    if (members.size() < 2) continue;
    Finding f;
    f.kind = FindingKind::kDuplicateDevice;
    SetComm(f, c);
    std::vector<std::string> labels;
    for (const Member* m : members) {
      f.ranks.push_back(m->rank);
      labels.push_back(c.Label(*m));
      // In one process per GPU jobs the device normally equals the local rank: the member
      // whose device does not is the likely mistake.
      std::string note;
      const int64_t lr = m->scan->local_rank;
      if (!c.SingleProcess() && lr >= 0 && lr != m->facts->device_used())
        note = "device " + std::to_string(m->facts->device_used()) + " but local rank " +
               std::to_string(lr);
      f.calls.push_back(CreationSide(c, *m, note));
      f.evidence.push_back(c.Label(*m) + ": " + DeviceSource(*m));
    }
    SortUnique(f.ranks);
    std::string who;
    for (size_t i = 0; i < labels.size(); ++i)
      who += (i == 0 ? "" : i + 1 == labels.size() ? " and " : ", ") + labels[i];
    f.message = who + " of this communicator use the same GPU (" + device +
                "); NCCL refuses it (\"Duplicate GPU detected\", ncclInvalidUsage)";
    ctx.out.push_back(std::move(f));
  }
}

void MissingFromInit(CheckContext& ctx, const Comm& c) {
  if (!ctx.world_complete || c.size <= 0 || c.parent_key) return;
  std::set<int64_t> present;
  bool ranks_known = true;
  for (const Member& m : c.members) {
    ranks_known &= m.comm_rank >= 0;
    present.insert(m.comm_rank);
  }
  const int64_t have =
      ranks_known ? static_cast<int64_t>(present.size()) : static_cast<int64_t>(c.members.size());
  if (have >= c.size) return;
  Finding f;
  f.kind = FindingKind::kMissingFromInit;
  SetComm(f, c);
  std::vector<int64_t> missing_comm;
  for (int64_t r = 0; ranks_known && r < c.size; ++r)
    if (!present.count(r)) missing_comm.push_back(r);
  // A world-sized communicator whose ranks are the global ranks: the absent comm ranks are the
  // ranks that never created it.
  bool global = c.size == ctx.world_size;
  for (const Member& m : c.members) global &= m.comm_rank == m.rank;
  std::string created_by = c.created_by ? FunctionName(c.created_by) : "its creation";
  f.message = "size " + std::to_string(c.size) + " but only " + std::to_string(have) +
              " member(s) created it";
  if (!missing_comm.empty()) f.message += "; comm rank(s) " + RankList(missing_comm) + " never did";
  if (global) {
    f.ranks = missing_comm;
    f.message += " (" + RanksWord(missing_comm) + " never called " + created_by +
                 " for it, though every rank file is present)";
    for (int64_t r : missing_comm)
      for (const RankScan& s : ctx.scans)
        if (s.rank == r) {
          f.evidence.push_back("rank " + std::to_string(r) + ": " + std::to_string(s.events) +
                               " events, no member of this comm" +
                               (s.ended.empty() ? "" : "; " + s.ended));
          RankCall rc;
          rc.rank = r;
          rc.note = "never created it";
          f.calls.push_back(rc);
        }
  }
  for (const Member& m : c.members) {
    f.calls.push_back(CreationSide(c, m, "created it"));
  }
  ctx.out.push_back(std::move(f));
}

// Splits (not shrinks) of one parent, round by round: the n-th ncclCommSplit of the parent on
// every rank is one collective call.
void Splits(CheckContext& ctx) {
  struct Split {
    const RankScan* scan;
    const MemberFacts* facts;
  };
  std::map<std::pair<uint64_t, uint32_t>, std::vector<Split>> rounds;
  for (const RankScan& s : ctx.scans)
    for (const MemberFacts& f : s.members)
      if (f.parent_member >= 0 &&
          f.created_by != static_cast<uint16_t>(trace::FunctionId::kNcclCommShrink) && f.created_by)
        rounds[{f.parent_key, f.split_ordinal}].push_back({&s, &f});

  // Participation: members of a parent that split it fewer times than the others.
  std::set<uint64_t> parents;
  for (const auto& [round, list] : rounds) parents.insert(round.first);
  for (uint64_t pk : parents) {
    const Comm* p = ctx.model.Find(pk);
    if (!p) continue;
    std::map<uint64_t, std::vector<const Member*>> by_count;
    // A rank whose trace was cut short made fewer splits for that reason alone: the
    // missing-participant finding covers it.
    for (const Member& m : p->members)
      if (m.scan->has_footer) by_count[m.facts->splits_made].push_back(&m);
    if (by_count.size() < 2) continue;
    Finding f;
    f.kind = FindingKind::kSplitInconsistent;
    SetComm(f, *p);
    const uint64_t most = by_count.rbegin()->first;
    for (const auto& [n, members] : by_count)
      for (const Member* m : members) {
        if (n < most) f.ranks.push_back(m->rank);
        f.calls.push_back(SideOf(*p, *m, nullptr, std::to_string(n) + " split(s)"));
        f.evidence.push_back(p->Label(*m) + " split it " + std::to_string(n) + " time(s)" +
                             (m->scan->ended.empty() ? "" : "; " + m->scan->ended));
      }
    SortUnique(f.ranks);
    f.message = RanksWord(f.ranks) + " called ncclCommSplit on this communicator fewer times (" +
                std::to_string(by_count.begin()->first) + ") than the others (" +
                std::to_string(most) +
                "): later splits pair the wrong calls and their new communicators disagree";
    ctx.out.push_back(std::move(f));
  }

  // Within a round, the ranks of one color must form one communicator of that many ranks.
  for (const auto& [round, list] : rounds) {
    // A color's size can only be judged when every member of the parent left a trace.
    const Comm* parent = ctx.model.Find(round.first);
    const bool parent_complete =
        parent && parent->size > 0 && static_cast<int64_t>(parent->members.size()) == parent->size;
    std::map<int64_t, std::vector<Split>> by_color;
    for (const Split& s : list)
      if (s.facts->split_color >= 0) by_color[s.facts->split_color].push_back(s);
    for (const auto& [color, group] : by_color) {
      std::set<uint64_t> keys;
      int64_t counted = -1;
      for (const Split& s : group) {
        keys.insert(s.facts->comm_key);
        if (parent_complete && s.facts->counted_size > 0 &&
            s.facts->counted_size != static_cast<int64_t>(group.size()))
          counted = s.facts->counted_size;
      }
      if (keys.size() == 1 && counted < 0) continue;
      const Comm* nc = ctx.model.Find(*keys.begin());
      Finding f;
      f.kind = FindingKind::kSplitInconsistent;
      if (nc) SetComm(f, *nc);
      f.parent_key = round.first;
      for (const Split& s : group) {
        f.ranks.push_back(s.scan->rank);
        RankCall rc;
        rc.rank = s.scan->rank;
        rc.has_call = true;
        rc.call = s.facts->create_call;
        rc.note =
            "color " + std::to_string(color) + " -> comm " + Hex16(s.facts->comm_key) +
            (s.facts->counted_size > 0 ? ", ncclCommCount " + std::to_string(s.facts->counted_size)
                                       : "");
        f.calls.push_back(rc);
      }
      SortUnique(f.ranks);
      f.message = "split #" + std::to_string(round.second) + " of comm " + Hex16(round.first) +
                  ": " + std::to_string(group.size()) + " rank(s) chose color " +
                  std::to_string(color);
      if (keys.size() > 1)
        f.message += " but ended in " + std::to_string(keys.size()) + " different communicators";
      else
        f.message += " but NCCL reports a communicator of " + std::to_string(counted) + " rank(s)";
      ctx.out.push_back(std::move(f));
    }
  }
}

}  // namespace

void CheckSetup(CheckContext& ctx) {
  SizeAcrossKeys(ctx);
  for (const auto& [key, c] : ctx.model.comms()) {
    CountedSize(ctx, c);
    DuplicateRanks(ctx, c);
    DuplicateDevices(ctx, c);
    MissingFromInit(ctx, c);
  }
  Splits(ctx);
}

}  // namespace ddrr::analysis
