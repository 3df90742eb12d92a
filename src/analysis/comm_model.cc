#include "analysis/comm_model.h"

#include <algorithm>
#include <tuple>

#include "analysis/finding.h"

namespace ddrr::analysis {
namespace {

// The value most members report (ties: the smallest); -1 when none reports one.
template <typename Get>
int64_t Majority(const std::vector<Member>& members, Get get) {
  std::map<int64_t, int> votes;
  for (const Member& m : members)
    if (const int64_t v = get(*m.facts); v > 0) ++votes[v];
  int64_t best = -1;
  int best_votes = 0;
  for (const auto& [v, n] : votes)
    if (n > best_votes) {
      best = v;
      best_votes = n;
    }
  return best;
}

enum { kUnvisited = 0, kResolving = 1, kResolved = 2 };

}  // namespace

bool Comm::SingleProcess() const {
  for (const Member& m : members)
    if (m.rank != members.front().rank) return false;
  return !members.empty();
}

const Member* Comm::ByFacts(const MemberFacts* facts) const {
  for (const Member& m : members)
    if (m.facts == facts) return &m;
  return nullptr;
}

const Member* Comm::ByCommRank(int64_t comm_rank) const {
  if (comm_rank < 0) return nullptr;
  const Member* found = nullptr;
  for (const Member& m : members) {
    if (m.comm_rank != comm_rank) continue;
    if (found) return nullptr;  // two members claim it: no answer
    found = &m;
  }
  return found;
}

std::string Comm::Label(const Member& m) const {
  std::string s = "rank " + std::to_string(m.rank);
  if (m.comm_rank >= 0 && (shared_ranks || m.comm_rank != m.rank))
    s += " (comm rank " + std::to_string(m.comm_rank) + ")";
  return s;
}

std::string Comm::Who(const std::vector<const Member*>& members) const {
  std::vector<int64_t> ranks, comm_ranks;
  for (const Member* m : members) {
    ranks.push_back(m->rank);
    comm_ranks.push_back(m->comm_rank);
  }
  std::sort(ranks.begin(), ranks.end());
  ranks.erase(std::unique(ranks.begin(), ranks.end()), ranks.end());
  if (!shared_ranks) return RanksWord(ranks);
  std::sort(comm_ranks.begin(), comm_ranks.end());
  return std::string(comm_ranks.size() == 1 ? "comm rank " : "comm ranks ") + RankList(comm_ranks) +
         " (" + RanksWord(ranks) + ")";
}

CommModel::CommModel(const std::vector<RankScan>& scans) {
  for (const RankScan& s : scans)
    for (const MemberFacts& f : s.members) {
      if (!f.comm_key || f.no_color()) continue;  // NOCOLOR: the split gave it no communicator
      Comm& c = comms_[f.comm_key];
      c.key = f.comm_key;
      if (!c.created_by) c.created_by = f.created_by;
      if (!c.parent_key) c.parent_key = f.parent_key;
      if (auto n = s.comm_names.find(f.comm_key); c.name.empty() && n != s.comm_names.end())
        c.name = n->second;
      c.members.push_back({&s, &f, s.rank, -1});
    }
  for (auto& [key, c] : comms_) {
    c.size = Majority(c.members, [](const MemberFacts& f) { return f.claimed_size; });
    if (c.size < 0)
      c.size = Majority(c.members, [](const MemberFacts& f) { return f.counted_size; });
  }
  std::map<uint64_t, int> state;
  for (auto& [key, c] : comms_) ResolveRanks(c, state);
  for (auto& [key, c] : comms_) {
    for (size_t i = 1; i < c.members.size(); ++i)
      for (size_t j = 0; j < i; ++j) c.shared_ranks |= c.members[i].rank == c.members[j].rank;
    std::sort(c.members.begin(), c.members.end(), [](const Member& a, const Member& b) {
      return std::make_tuple(a.comm_rank < 0, a.comm_rank, a.rank, a.facts->handle) <
             std::make_tuple(b.comm_rank < 0, b.comm_rank, b.rank, b.facts->handle);
    });
  }
}

const Comm* CommModel::Find(uint64_t key) const {
  auto it = comms_.find(key);
  return it == comms_.end() ? nullptr : &it->second;
}

int64_t CommModel::ParentRank(const Member& m, std::map<uint64_t, int>& state) {
  if (m.facts->parent_member < 0) return -1;
  const MemberFacts* pf = &m.scan->members[m.facts->parent_member];
  auto it = comms_.find(pf->comm_key);
  if (it == comms_.end()) return -1;
  ResolveRanks(it->second, state);
  for (const Member& p : it->second.members)
    if (p.facts == pf) return p.comm_rank;
  return -1;
}

void CommModel::ResolveRanks(Comm& c, std::map<uint64_t, int>& state) {
  int& st = state[c.key];
  if (st != kUnvisited) return;  // done, or a cycle (cannot happen with real lineage)
  st = kResolving;
  bool all_known = true;
  for (Member& m : c.members) {
    // What NCCL answered beats what the app asked for.
    m.comm_rank = m.facts->user_rank >= 0 ? m.facts->user_rank : m.facts->claimed_rank;
    all_known &= m.comm_rank >= 0;
  }
  if (!all_known && c.parent_key) {
    // A split ranks its members by (key, parent rank) within a color; a shrink keeps the
    // parent's order. Only sound when every member of the parent left a trace, since a
    // missing one would shift everyone after it.
    auto parent = comms_.find(c.parent_key);
    if (parent != comms_.end()) {
      ResolveRanks(parent->second, state);
      const Comm& p = parent->second;
      const bool parent_complete = p.size > 0 && static_cast<int64_t>(p.members.size()) == p.size;
      std::vector<std::tuple<int64_t, int64_t, Member*>> order;
      bool parents_known = true;
      for (Member& m : c.members) {
        const int64_t pr = ParentRank(m, state);
        parents_known &= pr >= 0;
        order.emplace_back(m.facts->excluded.empty() ? m.facts->split_key : 0, pr, &m);
      }
      if (parent_complete && parents_known) {
        std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
          return std::make_tuple(std::get<0>(a), std::get<1>(a)) <
                 std::make_tuple(std::get<0>(b), std::get<1>(b));
        });
        for (size_t i = 0; i < order.size(); ++i)
          if (std::get<2>(order[i])->comm_rank < 0)
            std::get<2>(order[i])->comm_rank = static_cast<int64_t>(i);
        if (c.size < 0) c.size = static_cast<int64_t>(c.members.size());
      }
    }
  }
  st = kResolved;
}

}  // namespace ddrr::analysis
