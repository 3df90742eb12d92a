// ddrr diff A B [--rank R] [--scope auto|all|nccl]: for each rank, the first event where two
// traces of the same program differ, with the events before it, and the first digest whose
// data differs. What is compared, and what is not, is src/analysis/event_diff.h's contract.
// Scope auto compares NCCL communication only when either run is a replay (a replay repeats the
// communication, with buffers of its own), everything otherwise.
#include <cstdio>
#include <optional>
#include <set>

#include "analysis/event_diff.h"
#include "cli_common.h"
#include "trace/run.h"

namespace ddrr::cli {
namespace {

class DiffCommand : public Command {
 public:
  DiffCommand()
      : Command({
            .name = "diff",
            .description =
                "First difference, per rank, between two recordings of the same program\n"
                "\n"
                "Two runs of one program, or a run and its replay: for each rank, the first event "
                "where they differ, with the events before it; times, durations and raw addresses "
                "do not count. When both runs have digests, each rank's first differing digest is "
                "reported too.",
            .exit_status = "0 no difference, 1 differences, 2 input error.",
            .examples = {"ddrr diff run1 run2", "ddrr diff run1 replay1 --scope nccl --rank 3"},
        }) {}

 private:
  void AddOptions(CLI::App& sub) override {
    sub.add_option("A", a_path_, "Run directory, rank file or bundle")->required();
    sub.add_option("B", b_path_, "Run directory, rank file or bundle")->required();
    AddRankOption(sub, &rank_);
    sub.add_option("--scope", scope_,
                   "all: every event; nccl: NCCL communication only; auto: nccl when either "
                   "run is a replay, else all")
        ->check(CLI::IsMember({"auto", "all", "nccl"}))
        ->default_val("auto");
  }

  int Run() override {
    auto a = OpenRun(a_path_);
    if (!a.ok()) return Fail(a.status());
    auto b = OpenRun(b_path_);
    if (!b.ok()) return Fail(b.status());
    analysis::DiffOptions options;
    options.scope = ChooseScope(*a, *b);
    int differing = 0, compared = 0;
    std::set<analysis::Side> running;  // sides whose ranks ran out first while still running
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
      if (d.still_running) running.insert(*d.still_running);
    }
    for (auto& eb : b->ranks())
      if ((!rank_ || eb.rank == *rank_) && !a->FindRank(eb.rank)) {
        printf("rank %lld: only in %s\n", static_cast<long long>(eb.rank), b_path_.c_str());
        ++differing;
      }
    if (rank_ && compared == 0 && differing == 0)
      return Fail("rank " + std::to_string(*rank_) + " is in neither run");
    if (differing == 0) printf("no difference in %d rank(s)\n", compared);
    for (analysis::Side side : running)
      printf("%s is still running: its ranks are compared up to their last event\n",
             (side == analysis::Side::kA ? a_path_ : b_path_).c_str());
    return differing ? kExitFindings : kExitOk;
  }

  // Says which scope is used unless it is all.
  analysis::DiffScope ChooseScope(const trace::Run& a, const trace::Run& b) const {
    if (scope_ == "all") return analysis::DiffScope::kAll;
    const char* why = "--scope nccl";
    if (scope_ == "auto") {
      const bool ra = analysis::IsReplay(a), rb = analysis::IsReplay(b);
      if (!ra && !rb) return analysis::DiffScope::kAll;
      why = ra && rb ? "A and B are replays" : ra ? "A is a replay" : "B is a replay";
    }
    printf("comparing NCCL communication only (%s)\n", why);
    return analysis::DiffScope::kNccl;
  }

  std::string a_path_, b_path_;
  std::optional<int64_t> rank_;
  std::string scope_ = "auto";
};

}  // namespace

std::unique_ptr<Command> MakeDiffCommand() { return std::make_unique<DiffCommand>(); }

}  // namespace ddrr::cli
