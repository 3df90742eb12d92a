// ddrr diff A B [--rank R]: for each rank, the first event where two recordings of the same
// program differ, with the events before it. Events are compared as `ddrr dump` shows them,
// less what differs between any two runs: times and durations, raw addresses (allocations and
// handles are already numbered in order of appearance), communicator keys and unique-id bytes
// (random per run). Completion events are left out: when the poller sees an op finish is
// timing, not program behaviour. A different seed shows up as the first call whose argument
// differs.
#include <cstdio>
#include <deque>
#include <optional>
#include <regex>

#include "cli_common.h"
#include "trace/event_printer.h"
#include "trace/run.h"

namespace ddrr::cli {
namespace {

constexpr size_t kContext = 3;

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

// Events of one rank, as normalized lines, one at a time.
class RankStream {
 public:
  explicit RankStream(trace::RankEntry& e) : reader_(*e.reader), printer_(e.rank) {}
  // The next event: its dump line and its normalized form; nullopt at the end.
  std::optional<std::pair<std::string, std::string>> Next() {
    do {
      if (!reader_.Next(&ev_, &pos_)) return std::nullopt;
    } while (ev_.has_completion());
    std::string line = printer_.Text(ev_, pos_);
    std::string norm = Normalize(line);
    return std::make_pair(std::move(line), std::move(norm));
  }

 private:
  trace::RankFileReader& reader_;
  trace::EventPrinter printer_;
  trace::Event ev_;
  trace::EventPosition pos_;
};

class DiffCommand : public Command {
 public:
  CLI::App* Register(CLI::App& app) override {
    auto* sub = app.add_subcommand(
        "diff", "First difference, per rank, between two recordings of the same program");
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
  // Prints the first difference of one rank with the events before it; false if none.
  bool DiffRank(trace::RankEntry& ea, trace::RankEntry& eb) {
    RankStream sa(ea), sb(eb);
    std::deque<std::string> context;
    for (uint64_t n = 0;; ++n) {
      auto x = sa.Next();
      auto y = sb.Next();
      if (!x && !y) return false;
      if (x && y && x->second == y->second) {
        context.push_back(x->first);
        if (context.size() > kContext) context.pop_front();
        continue;
      }
      printf("rank %lld: first difference at event %llu\n", static_cast<long long>(ea.rank),
             static_cast<unsigned long long>(n + 1));
      for (const auto& c : context) printf("    %s\n", c.c_str());
      printf("  A %s\n", x ? x->first.c_str() : "(no more events)");
      printf("  B %s\n", y ? y->first.c_str() : "(no more events)");
      return true;
    }
  }

  std::string a_path_, b_path_;
  std::optional<int64_t> rank_;
};

}  // namespace

std::unique_ptr<Command> MakeDiffCommand() { return std::make_unique<DiffCommand>(); }

}  // namespace ddrr::cli
