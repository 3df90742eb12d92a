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
  DumpCommand()
      : Command({
            .name = "dump",
            .description =
                "Print every event, one per line (text or JSON lines)\n"
                "\n"
                "One line per event, every rank in rank order: [rank] #seq seconds-since-start "
                "Tthread call(args) = result [comm key, per-communicator op] duration. Handles are "
                "numbered per rank in order of first appearance, pointers inside a recorded "
                "allocation show as allocN+offset, enums and return codes by their C names.",
            .exit_status = "0 every rank file read to its end, 1 damage or unfinished rank files "
                           "(the intact events are printed), 2 input error.",
            .examples = {"ddrr dump run1 --rank 2 --from 50 --count 20",
                         "ddrr dump run1 --json | jq 'select(.fn == \"ncclAllReduce\")'"},
        }) {}

 private:
  void AddOptions(CLI::App& sub) override {
    AddRunArgument(sub, &run_path_);
    AddRankOption(sub, &rank_);
    sub.add_flag("--json", json_,
                 "JSON lines, one object per event, with stable keys (for scripts; "
                 "docs/FORMAT.md)");
    sub.add_option("--from", from_, "Start at this sequence number (#N)")
        ->check(CLI::NonNegativeNumber)
        ->default_str("the first event");
    sub.add_option("--count", count_, "Print at most N events per rank")
        ->check(CLI::NonNegativeNumber)
        ->default_str("all");
  }

  int Run() override {
    std::optional<trace::Run> run;
    if (int rc = OpenReadableRun(run_path_, &run)) return rc;
    // A rank file that cannot be read is reported below, with the run's problems.
    if (rank_ && !RequireRank(*run, *rank_, run_path_, /*need_reader=*/false)) return kExitUsage;
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
