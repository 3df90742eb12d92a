#include "analysis/data_checks.h"

#include <algorithm>
#include <cstdio>

namespace ddrr::analysis {
namespace {

std::string NonFinite(const OpRecord& r) {
  std::string s;
  if (r.in_nan) s = std::to_string(r.in_nan) + " NaN";
  if (r.in_inf) s += (s.empty() ? "" : ", ") + std::to_string(r.in_inf) + " Inf";
  return s;
}

Finding NanFinding(const Comm* c,
                   const std::vector<std::pair<const Member*, const OpRecord*>>& feeds,
                   const std::vector<std::pair<const Member*, const OpRecord*>>& receivers) {
  Finding f;
  f.kind = FindingKind::kNanAppeared;
  if (c) SetComm(f, *c);
  const OpRecord& first = *feeds.front().second;
  f.op_seq = first.op_seq;
  f.time_ns = first.time_ns;
  const std::string what =
      FromRecord(first, -1, f.comm_key).Describe() + " (op " + std::to_string(first.op_seq) + ")";
  std::vector<int64_t> fed;
  std::vector<const Member*> fed_members, got_members;
  for (const auto& [m, r] : feeds) {
    fed.push_back(m->rank);
    fed_members.push_back(m);
    f.evidence.push_back((c ? c->Label(*m) : "rank " + std::to_string(m->rank)) + ": #" +
                         std::to_string(r->seq) + " input digest counted " + NonFinite(*r) +
                         "; no output of this rank had any before");
    if (c) {
      f.calls.push_back(SideOf(*c, *m, r, "fed " + NonFinite(*r)));
    } else {
      const CallSummary call = FromRecord(*r, m->rank, m->facts->comm_key);
      f.calls.push_back(SideOf(*m->scan, m->scan->fed_member, &call, "fed " + NonFinite(*r)));
    }
  }
  for (const auto& [m, r] : receivers) {
    got_members.push_back(m);
    f.calls.push_back(SideOf(*c, *m, r, "received NaN/Inf"));
  }
  SortUnique(fed);
  f.ranks = fed;
  f.message = (c ? c->Who(fed_members) : RanksWord(fed)) + " fed NaN/Inf into " + what;
  if (!got_members.empty())
    f.message += "; " + c->Who(got_members) + " received it in their output";
  return f;
}

}  // namespace

bool DataChecker::IsFeed(const Member& m, const OpRecord& r) const {
  const RankScan& s = *m.scan;
  return s.fed_nonfinite && m.facts == &s.members[s.fed_member] && r.seq == s.fed_record.seq;
}

void DataChecker::OnPosition(const Comm& c, uint64_t, const std::vector<Aligned>& ops) {
  std::vector<std::pair<const Member*, const OpRecord*>> feeds, receivers;
  for (const Aligned& a : ops) {
    if (IsFeed(*a.member, *a.rec))
      feeds.emplace_back(a.member, a.rec);
    else if (a.rec->flags & kOpOutNonFinite)
      receivers.emplace_back(a.member, a.rec);
  }
  if (!feeds.empty()) {
    for (const auto& [m, r] : feeds) reported_feeds_.insert(m->scan);
    ctx_.out.push_back(NanFinding(&c, feeds, receivers));
  }

  if (!OutputMustAgree(ops.front().rec->fn)) return;
  std::vector<std::pair<uint64_t, std::vector<const Aligned*>>> groups;  // digest -> members
  for (const Aligned& a : ops) {
    if (!(a.rec->flags & kOpHasOut)) continue;
    auto g = std::find_if(groups.begin(), groups.end(),
                          [&](const auto& g) { return g.first == a.rec->out_digest; });
    if (g == groups.end())
      groups.push_back({a.rec->out_digest, {&a}});
    else
      g->second.push_back(&a);
  }
  if (groups.size() < 2) return;
  ++divergent_ops_;
  if (diverged_) return;  // the first divergence is reported, later ones counted
  diverged_ = true;
  size_t major = 0;
  for (size_t g = 1; g < groups.size(); ++g)
    if (groups[g].second.size() > groups[major].second.size()) major = g;
  const bool tie = std::count_if(groups.begin(), groups.end(), [&](const auto& g) {
                     return g.second.size() == groups[major].second.size();
                   }) > 1;
  Finding& f = divergence_;
  f = Finding{};
  f.kind = FindingKind::kDataDivergence;
  SetComm(f, c);
  const OpRecord& usual = *groups[major].second.front()->rec;
  f.op_seq = usual.op_seq;
  f.time_ns = usual.time_ns;
  auto members_of = [](const std::vector<const Aligned*>& g) {
    std::vector<const Member*> m;
    for (const Aligned* a : g) m.push_back(a->member);
    return m;
  };
  std::string odd;
  for (size_t g = 0; g < groups.size(); ++g) {
    for (const Aligned* a : groups[g].second) {
      if (g != major) f.ranks.push_back(a->member->rank);
      f.calls.push_back(SideOf(c, *a->member, a->rec,
                               g == major ? "output " + Hex16(groups[g].first)
                                          : "odd output " + Hex16(groups[g].first)));
    }
    const std::string who = c.Who(members_of(groups[g].second));
    f.evidence.push_back(who + ": output digest " + Hex16(groups[g].first));
    if (g == major) continue;
    if (!odd.empty()) odd += "; ";
    odd += who + " got " + Hex16(groups[g].first);
  }
  SortUnique(f.ranks);
  f.message = FromRecord(usual, -1, c.key).Describe() + " (op " + std::to_string(usual.op_seq) +
              ") must give every rank the same output, but " + odd + " while " +
              c.Who(members_of(groups[major].second)) + " got " + Hex16(groups[major].first);
  if (tie) f.message += " (no majority: the odd side is a guess)";
}

void DataChecker::OnCommEnd(const Comm&) {
  if (diverged_) {
    divergence_.evidence.push_back(std::to_string(divergent_ops_) +
                                   " op(s) with divergent outputs on this communicator");
    ctx_.out.push_back(std::move(divergence_));
  }
  diverged_ = false;
  divergent_ops_ = 0;
}

void DataChecker::Finish() {
  for (const RankScan& s : ctx_.scans) {
    if (!s.fed_nonfinite || reported_feeds_.count(&s)) continue;
    const MemberFacts& mf = s.members[s.fed_member];
    const Comm* c = ctx_.model.Find(mf.comm_key);
    Member self{&s, &mf, s.rank, -1};
    const Member* m = &self;
    if (c)
      for (const Member& cm : c->members)
        if (cm.facts == &mf) m = &cm;
    ctx_.out.push_back(NanFinding(c, {{m, &s.fed_record}}, {}));
  }
}

}  // namespace ddrr::analysis
