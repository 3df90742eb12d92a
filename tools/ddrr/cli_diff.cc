// ddrr diff A B [--rank R]: for each rank, the first event where two traces of the same program
// differ, with the events before it, and the first digest whose data differs. What is
// compared, and what is not, is src/analysis/event_diff.h's contract.
#include <cstdio>
#include <optional>

#include "analysis/event_diff.h"
#include "cli_common.h"
#include "trace/run.h"

namespace ddrr::cli {
namespace {

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
    const analysis::DiffOptions options;
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
      const analysis::RankDiff d = analysis::DiffRank(*ea.reader, *eb->reader, ea.rank, options);
      fputs(analysis::FormatRankDiff(d, a_path_, b_path_).c_str(), stdout);
      differing += d.differs() ? 1 : 0;
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
  std::string a_path_, b_path_;
  std::optional<int64_t> rank_;
};

}  // namespace

std::unique_ptr<Command> MakeDiffCommand() { return std::make_unique<DiffCommand>(); }

}  // namespace ddrr::cli
