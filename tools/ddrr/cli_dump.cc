// ddrr dump RUN: one line per event, human-readable or JSON lines.
#include <cstdio>
#include <optional>

#include "cli_common.h"
#include "trace/event_printer.h"
#include "trace/run.h"

namespace ddrr::cli {
namespace {

class DumpCommand : public Command {
 public:
  CLI::App* Register(CLI::App& app) override {
    auto* sub = app.add_subcommand(
        "dump",
        "Print every event, one per line (text or JSON lines)\n"
        "\n"
        "One line per event, every rank in rank order: [rank] #seq seconds-since-start Tthread "
        "call(args) = result [comm key, per-communicator op] duration. Handles are numbered per "
        "rank in order of first appearance, pointers inside a recorded allocation show as "
        "allocN+offset, enums and return codes by their C names.");
    sub->add_option("RUN", run_path_, "Run directory, rank-N.ddrr file or bundle")->required();
    sub->add_option("--rank", rank_, "Only this rank")
        ->check(CLI::NonNegativeNumber)
        ->default_str("every rank");
    sub->add_flag("--json", json_,
                  "JSON lines, one object per event, with stable keys (for scripts; "
                  "docs/FORMAT.md)");
    sub->add_option("--from", from_, "Start at this sequence number (#N)")
        ->check(CLI::NonNegativeNumber)
        ->default_str("the first event");
    sub->add_option("--count", count_, "Print at most N events per rank")
        ->check(CLI::NonNegativeNumber)
        ->default_str("all");
    sub->footer(
        "Exit status: 0 every rank file read to its end, 1 damage or unfinished rank files "
        "(the intact events are printed), 2 input error.\n"
        "\n"
        "Examples:\n"
        "  ddrr dump run1 --rank 2 --from 50 --count 20\n"
        "\n"
        "  ddrr dump run1 --json | jq 'select(.fn == \"ncclAllReduce\")'");
    return sub;
  }

  int Run() override {
    std::optional<trace::Run> run;
    if (int rc = OpenReadableRun(run_path_, &run)) return rc;
    if (rank_ && !run->FindRank(*rank_))
      return Fail(run_path_ + ": no readable trace for rank " + std::to_string(*rank_) +
                  "; `ddrr info " + run_path_ + "` lists the ranks");
    std::vector<trace::TraceProblem> problems = run->Problems();
    for (auto& e : run->ranks()) {
      if (rank_ && e.rank != *rank_) continue;
      if (!e.reader) continue;
      DumpRank(e);
      problems.insert(problems.end(), e.reader->problems().begin(), e.reader->problems().end());
    }
    fflush(stdout);
    for (const auto& p : problems) fprintf(stderr, "ddrr: warning: %s\n", p.ToString().c_str());
    return problems.empty() ? kExitOk : kExitFindings;
  }

 private:
  // Handles and allocations are numbered from the start of the rank, so the whole rank is read
  // even with --from: the same event prints the same way whatever the window.
  void DumpRank(trace::RankEntry& e) {
    trace::EventPrinter printer(e.rank);
    trace::Event ev;
    trace::EventPosition pos;
    uint64_t printed = 0;
    while (e.reader->Next(&ev, &pos)) {
      if (pos.seq < from_) {
        printer.Observe(ev);
        continue;
      }
      if (count_ && printed >= *count_) break;
      const std::string line = json_ ? printer.Json(ev, pos) : printer.Text(ev, pos);
      fwrite(line.data(), 1, line.size(), stdout);
      fputc('\n', stdout);
      ++printed;
    }
  }

  std::string run_path_;
  std::optional<int64_t> rank_;
  bool json_ = false;
  uint64_t from_ = 0;
  std::optional<uint64_t> count_;
};

}  // namespace

std::unique_ptr<Command> MakeDumpCommand() { return std::make_unique<DumpCommand>(); }

}  // namespace ddrr::cli
