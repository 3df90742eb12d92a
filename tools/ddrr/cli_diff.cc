// ddrr diff A B [--rank R]: for each rank, the first event where two recordings of the same
// program differ, with the events before it. Events are compared as `ddrr dump` shows them,
// less what differs between any two runs: times and durations, raw addresses (allocations and
// handles are already numbered in order of appearance), communicator keys and unique-id bytes
// (random per run). Completion events are left out: when the poller sees an op finish is
// timing, not program behaviour. A different seed shows up as the first call whose argument
// differs.
//
// Data: when both recordings have digests (capture level `digests`), digest events count as
// structure (same buffer, same role, same size) and their values are compared on the side:
// the first digest whose value or NaN/Inf counts differ is the rank's first data difference,
// reported with the call it belongs to. Structure that matches but data that does not is the
// signature of nondeterminism or corruption; a structural difference ends the comparison of
// that rank, so data is compared up to it.
#include <cstdio>
#include <deque>
#include <map>
#include <optional>
#include <regex>

#include "cli_common.h"
#include "trace/event_printer.h"
#include "trace/run.h"

namespace ddrr::cli {
namespace {

constexpr size_t kContext = 3;
constexpr size_t kRecentCalls = 256;  // calls kept to name the call a digest belongs to

// The dump line without the fields that vary between runs of one program.
std::string Normalize(std::string line) {
  static const std::regex prefix(R"(^\[\d+\] #\d+ \d+\.\d{9} )");  // rank, seq, time
  static const std::regex duration(R"( [0-9.]+(ns|us|ms|s)$)");
  static const std::regex address(R"(0x[0-9a-f]+)");
  static const std::regex key(R"(\[comm [0-9a-f]{16})");
  static const std::regex bytes(R"(<(\d+) bytes [0-9a-f.]*>)");
  line = std::regex_replace(line, prefix, "");
  line = std::regex_replace(line, duration, "");
  line = std::regex_replace(line, address, "<addr>");
  line = std::regex_replace(line, key, "[comm <key>");
  return std::regex_replace(line, bytes, "<$1 bytes>");
}

struct Item {
  std::string line;  // as ddrr dump prints it
  std::string norm;  // what structure is compared on
  bool digest = false;
  trace::Digest d;
  std::string call;  // for a digest: the dump line of its call, if still known
};

bool CapturesDigests(const trace::RankFileReader& r) {
  return r.header().capture().level() >= trace::CAPTURE_DIGESTS;
}

// Events of one rank, one at a time, normalized.
class RankStream {
 public:
  RankStream(trace::RankEntry& e, bool digests)
      : reader_(*e.reader), printer_(e.rank), digests_(digests) {}

  std::optional<Item> Next() {
    for (;;) {
      if (!reader_.Next(&ev_, &pos_)) return std::nullopt;
      if (ev_.has_completion()) continue;
      if (ev_.has_digest() && !digests_) continue;  // only one side has them: structure only
      break;
    }
    Item it;
    it.line = printer_.Text(ev_, pos_);
    if (ev_.has_call()) {
      calls_[pos_.seq] = it.line;
      if (calls_.size() > kRecentCalls) calls_.erase(calls_.begin());
    }
    if (ev_.has_digest()) {
      it.digest = true;
      it.d = ev_.digest();
      auto c = calls_.find(it.d.call_seq());
      if (c != calls_.end()) it.call = c->second;
      // Structure: which call (by its distance back), which buffer, how big; not the value.
      it.norm = "digest -" + std::to_string(pos_.seq - it.d.call_seq()) + " " +
                std::to_string(it.d.role()) + " " + std::to_string(it.d.bytes());
    } else {
      it.norm = Normalize(it.line);
    }
    return it;
  }

 private:
  trace::RankFileReader& reader_;
  trace::EventPrinter printer_;
  bool digests_;
  trace::Event ev_;
  trace::EventPosition pos_;
  std::map<uint64_t, std::string> calls_;
};

bool SameData(const trace::Digest& a, const trace::Digest& b) {
  return a.value() == b.value() && a.nan_count() == b.nan_count() && a.inf_count() == b.inf_count();
}

std::string DigestText(const trace::Digest& d) {
  std::string s = trace::EventPrinter::Hex(d.value()) + " (" + std::to_string(d.bytes()) + " bytes";
  if (d.nan_count()) s += ", " + std::to_string(d.nan_count()) + " NaN";
  if (d.inf_count()) s += ", " + std::to_string(d.inf_count()) + " Inf";
  return s + ")";
}

class DiffCommand : public Command {
 public:
  CLI::App* Register(CLI::App& app) override {
    auto* sub = app.add_subcommand(
        "diff",
        "First difference, per rank, between two recordings of the same program (structure, "
        "and data when both have digests)");
    sub->add_option("A", a_path_, "Run directory or rank file")->required();
    sub->add_option("B", b_path_, "Run directory or rank file")->required();
    sub->add_option("--rank", rank_, "Only this rank")->check(CLI::NonNegativeNumber);
    return sub;
  }

  int Run() override {
    auto a = OpenRun(a_path_);
    if (!a.ok()) return Fail(a.status());
    auto b = OpenRun(b_path_);
    if (!b.ok()) return Fail(b.status());
    int differing = 0, compared = 0;
    for (auto& ea : a->ranks()) {
      if (rank_ && ea.rank != *rank_) continue;
      trace::RankEntry* eb = b->FindRank(ea.rank);
      if (!ea.reader || !eb || !eb->reader) {
        printf("rank %lld: only in %s\n", static_cast<long long>(ea.rank),
               eb && eb->reader ? b_path_.c_str() : a_path_.c_str());
        ++differing;
        continue;
      }
      ++compared;
      differing += DiffRank(ea, *eb) ? 1 : 0;
    }
    for (auto& eb : b->ranks())
      if ((!rank_ || eb.rank == *rank_) && !a->FindRank(eb.rank)) {
        printf("rank %lld: only in %s\n", static_cast<long long>(eb.rank), b_path_.c_str());
        ++differing;
      }
    if (rank_ && compared == 0 && differing == 0)
      return Fail("rank " + std::to_string(*rank_) + " is in neither run");
    if (differing == 0) printf("no difference in %d rank(s)\n", compared);
    return differing ? kExitFindings : kExitOk;
  }

 private:
  // Prints the rank's first data difference (if both have digests) and first structural
  // difference with the events before it; false if neither.
  bool DiffRank(trace::RankEntry& ea, trace::RankEntry& eb) {
    const long long rank = static_cast<long long>(ea.rank);
    const bool da = CapturesDigests(*ea.reader), db = CapturesDigests(*eb.reader);
    if (da != db)
      printf("rank %lld: digests only in %s; data not compared\n", rank,
             da ? a_path_.c_str() : b_path_.c_str());
    RankStream sa(ea, da && db), sb(eb, da && db);
    std::deque<std::string> context;
    bool data_differs = false;
    for (uint64_t n = 0;; ++n) {
      auto x = sa.Next();
      auto y = sb.Next();
      if (!x && !y) return data_differs;
      if (x && y && x->norm == y->norm) {
        if (x->digest && !data_differs && !SameData(x->d, y->d)) {
          data_differs = true;
          printf("rank %lld: first data difference at event %llu: %s digest of #%llu\n", rank,
                 static_cast<unsigned long long>(n + 1),
                 x->d.role() == trace::BUFFER_INPUT ? "input" : "output",
                 static_cast<unsigned long long>(x->d.call_seq()));
          if (!x->call.empty()) printf("    %s\n", x->call.c_str());
          printf("  A %s\n  B %s\n", DigestText(x->d).c_str(), DigestText(y->d).c_str());
        }
        context.push_back(x->line);
        if (context.size() > kContext) context.pop_front();
        continue;
      }
      printf("rank %lld: first difference at event %llu\n", rank,
             static_cast<unsigned long long>(n + 1));
      for (const auto& c : context) printf("    %s\n", c.c_str());
      printf("  A %s\n", x ? x->line.c_str() : "(no more events)");
      printf("  B %s\n", y ? y->line.c_str() : "(no more events)");
      return true;
    }
  }

  std::string a_path_, b_path_;
  std::optional<int64_t> rank_;
};

}  // namespace

std::unique_ptr<Command> MakeDiffCommand() { return std::make_unique<DiffCommand>(); }

}  // namespace ddrr::cli
