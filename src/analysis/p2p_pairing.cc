#include "analysis/p2p_pairing.h"

#include <deque>
#include <map>
#include <queue>
#include <unordered_map>

#include "analysis/hang_checks.h"

namespace ddrr::analysis {
namespace {

struct Posted {
  OpRecord rec;
  const Member* member;
  uint64_t ordinal;  // 1 = the first op of its direction in this pair
};

// One direction of traffic, sender -> receiver (comm ranks).
struct Pair {
  uint64_t sends = 0, recvs = 0;  // posted so far
};

uint64_t PairKey(int64_t from, int64_t to) {
  return (static_cast<uint64_t>(from) << 32) | static_cast<uint32_t>(to);
}

std::string Amount(const OpRecord& r) {
  std::string s = std::to_string(r.count) + " " + DatatypeName(r.datatype);
  if (const uint64_t b = DatatypeBytes(r.datatype))
    s += " (" + std::to_string(r.count * b) + " bytes)";
  return s;
}

std::string Ordinal(uint64_t n) {
  const uint64_t t = n % 100;
  const char* suffix = (t >= 11 && t <= 13) ? "th"
                       : n % 10 == 1        ? "st"
                       : n % 10 == 2        ? "nd"
                       : n % 10 == 3        ? "rd"
                                            : "th";
  return std::to_string(n) + suffix;
}

class Pairing {
 public:
  Pairing(CheckContext& ctx, const Comm& c) : ctx_(ctx), c_(c) {}

  Status Run() {
    struct Head {
      int64_t time;
      size_t member;
      bool operator>(const Head& o) const {
        return time != o.time ? time > o.time : member > o.member;
      }
    };
    // Peers are comm ranks: a member whose own is unknown (a split whose parent left no
    // complete trace) would leave its peers' operations looking unmatched. Pair nothing then.
    for (const Member& m : c_.members)
      if (m.facts->p2p && m.comm_rank < 0) {
        ctx_.notes.push_back("comm " + Hex16(c_.key) + ": send/recv not paired: the rank of " +
                             c_.Label(m) + " in the communicator is unknown");
        return Status::Ok();
      }
    std::vector<OpStore::Cursor> cursors;
    std::vector<OpRecord> heads(c_.members.size());
    std::priority_queue<Head, std::vector<Head>, std::greater<>> next;
    for (size_t i = 0; i < c_.members.size(); ++i) {
      cursors.push_back(ctx_.store.Read(c_.members[i].facts->p2p_stream));
      if (c_.members[i].facts->p2p && cursors[i].Next(&heads[i])) next.push({heads[i].time_ns, i});
    }
    // Earliest call first across members: a send and its receive are posted close in time.
    while (!next.empty()) {
      const size_t i = next.top().member;
      next.pop();
      Post(heads[i], c_.members[i]);
      if (cursors[i].Next(&heads[i])) next.push({heads[i].time_ns, i});
    }
    for (const OpStore::Cursor& cur : cursors) DDRR_RETURN_IF_ERROR(cur.status());
    ReportUnmatched();
    if (mismatched_) {
      mismatch_.evidence.push_back(std::to_string(mismatched_) +
                                   " mis-sized pair(s) on this communicator in all");
      ctx_.out.push_back(std::move(mismatch_));
    }
    return Status::Ok();
  }

 private:
  void Post(const OpRecord& r, const Member& m) {
    if (!NcclOk(r.result)) return;  // never posted: NCCL refused it (an nccl-error)
    const bool send = IsSend(r.fn);
    const int64_t from = send ? m.comm_rank : r.root;
    const int64_t to = send ? r.root : m.comm_rank;
    const uint64_t key = PairKey(from, to);
    Pair& p = pairs_[key];
    const uint64_t ordinal = send ? ++p.sends : ++p.recvs;
    auto& mine = send ? sends_[key] : recvs_[key];
    auto other = send ? recvs_.find(key) : sends_.find(key);
    auto& other_map = send ? recvs_ : sends_;
    if (other == other_map.end() || other->second.empty()) {
      mine.push_back({r, &m, ordinal});
      return;
    }
    const Posted peer = other->second.front();
    other->second.pop_front();
    if (other->second.empty()) other_map.erase(other);
    if (mine.empty()) (send ? sends_ : recvs_).erase(key);
    if (send)
      Match({r, &m, ordinal}, peer);
    else
      Match(peer, {r, &m, ordinal});
  }

  void Match(const Posted& s, const Posted& r) {
    const uint64_t sb = s.rec.count * DatatypeBytes(s.rec.datatype);
    const uint64_t rb = r.rec.count * DatatypeBytes(r.rec.datatype);
    if (s.rec.datatype == r.rec.datatype && s.rec.count == r.rec.count && sb == rb) return;
    if (mismatched_++) return;  // the first one is reported, the rest counted
    Finding& f = mismatch_;
    f.kind = FindingKind::kMismatchedP2p;
    SetComm(f, c_);
    f.op_seq = s.rec.op_seq;
    f.time_ns = std::min(s.rec.time_ns, r.rec.time_ns);
    f.ranks = {s.member->rank, r.member->rank};
    SortUnique(f.ranks);
    const std::string what = s.rec.datatype != r.rec.datatype ? "datatype" : "size";
    f.message = c_.Label(*s.member) + " sent " + Amount(s.rec) + " to " + c_.Label(*r.member) +
                ", which received it as " + Amount(r.rec) + " (" + what + " differs; the " +
                Ordinal(s.ordinal) + " send/recv between them)";
    f.calls.push_back(SideOf(c_, *s.member, &s.rec, "sender"));
    f.calls.push_back(SideOf(c_, *r.member, &r.rec, "receiver"));
    f.evidence.push_back(c_.Label(*s.member) + ": #" + std::to_string(s.rec.seq) + " ncclSend op " +
                         std::to_string(s.rec.op_seq));
    f.evidence.push_back(c_.Label(*r.member) + ": #" + std::to_string(r.rec.seq) + " ncclRecv op " +
                         std::to_string(r.rec.op_seq));
  }

  void ReportUnmatched() {
    for (const bool send : {true, false}) {
      for (const auto& [key, left] : send ? sends_ : recvs_) {
        if (left.empty()) continue;
        const Posted& first = left.front();
        const int64_t peer_rank = first.rec.root;
        const Member* peer = c_.ByCommRank(peer_rank);
        const Pair& p = pairs_[key];
        const std::string me = c_.Label(*first.member);
        const std::string fn = send ? "ncclSend" : "ncclRecv";
        if (!peer) {
          ctx_.notes.push_back("comm " + Hex16(c_.key) + ": " + std::to_string(left.size()) + " " +
                               fn + "(s) of " + me + " with peer " + std::to_string(peer_rank) +
                               ", which left no trace of this communicator, not paired");
          continue;
        }
        // A peer still running and busy may post its side next: read one after another, ranks
        // are at different points of a job that runs.
        if (!QuietWhenRead(*peer->scan)) continue;
        const std::string them = c_.Label(*peer);
        Finding f;
        f.kind = FindingKind::kUnmatchedP2p;
        SetComm(f, c_);
        f.op_seq = first.rec.op_seq;
        f.time_ns = first.rec.time_ns;
        f.ranks = {first.member->rank};
        f.silent_peer = peer->rank;
        f.message = me + "'s " + Ordinal(first.ordinal) + " " + fn + " " +
                    (send ? "to " : "from ") + them + " (" + Amount(first.rec) + ", op " +
                    std::to_string(first.rec.op_seq) + ") has no matching " +
                    (send ? "ncclRecv" : "ncclSend") + ": " + them + " posted " +
                    std::to_string(send ? p.recvs : p.sends) + ", " + me + " posted " +
                    std::to_string(send ? p.sends : p.recvs);
        if (left.size() > 1) f.message += " (" + std::to_string(left.size()) + " unmatched)";
        f.calls.push_back(SideOf(c_, *first.member, &first.rec, "unmatched"));
        f.calls.push_back(SideOf(c_, *peer, nullptr,
                                 "posted " + std::to_string(send ? p.recvs : p.sends) + " " +
                                     (send ? "ncclRecv" : "ncclSend")));
        // Where the peer is: in its own code, inside another call, dead (a hang's culprit).
        if (peer->scan->live || !peer->scan->ended.empty())
          f.evidence.push_back(them + ": last seen " + LastSeen(ctx_, *peer->scan));
        for (size_t i = 0; i < left.size() && i < 3; ++i)
          f.evidence.push_back(me + ": #" + std::to_string(left[i].rec.seq) + " " + fn + " op " +
                               std::to_string(left[i].rec.op_seq) + " unmatched");
        ctx_.out.push_back(std::move(f));
      }
    }
  }

  CheckContext& ctx_;
  const Comm& c_;
  std::unordered_map<uint64_t, Pair> pairs_;
  // Posted and not yet paired, per direction; entries exist only while non-empty (plus the
  // ones that stay unmatched), so a busy all-to-all does not hold a queue per pair.
  std::map<uint64_t, std::deque<Posted>> sends_, recvs_;
  uint64_t mismatched_ = 0;
  Finding mismatch_;
};

}  // namespace

Status CheckP2p(CheckContext& ctx, const Comm& c) {
  bool any = false;
  for (const Member& m : c.members) any |= m.facts->p2p > 0;
  if (!any) return Status::Ok();
  return Pairing(ctx, c).Run();
}

}  // namespace ddrr::analysis
