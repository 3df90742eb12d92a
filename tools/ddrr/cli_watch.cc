// ddrr watch RUN [--interval S] [--stall S]: beside a running job, a line per interval and the
// hang diagnosis (ddrr check's findings) as soon as nothing has moved for --stall seconds; ends
// when every rank has ended. Exit 0 the job ended with no hang seen, 1 a hang was diagnosed.
#include <chrono>
#include <cstdio>
#include <thread>

#include "analysis/check.h"
#include "analysis/report.h"
#include "analysis/watch.h"
#include "cli_common.h"

namespace ddrr::cli {
namespace {

std::string Clock() { return LocalTimeNow("%H:%M:%S"); }

class WatchCommand : public Command {
 public:
  WatchCommand()
      : Command({
            .name = "watch",
            .description =
                "Watch a running job and diagnose a hang as soon as nothing moves\n"
                "\n"
                "Beside a job recording into RUN: every interval one line (ranks live, the "
                "furthest op of each communicator and its slowest rank, how long nothing has "
                "moved) and, once nothing has moved for the stall time, the hang diagnosis of "
                "`ddrr check`. Ends when every rank has ended.",
            .exit_status = "0 every rank ended and no hang was seen, 1 a hang was diagnosed, 2 "
                           "input error.",
            // One example, two commands: the job, then watch beside it.
            .examples = {"ddrr record -o run1 -- torchrun --nproc-per-node 8 train.py &\n"
                         "\n"
                         "ddrr watch run1 --stall 60"},
        }) {}

 private:
  void AddOptions(CLI::App& sub) override {
    AddRunArgument(sub, &run_path_, "Run directory the job records into");
    sub.add_option("--interval", interval_, "Seconds between looks")
        ->check(CLI::Range(0.1, 3600.0));
    sub.add_option("--stall", stall_, "Seconds without progress after which the job hangs")
        ->check(CLI::Range(0.1, 86400.0));
  }

  int Run() override {
    using SteadyClock = std::chrono::steady_clock;
    uint64_t last_progress = UINT64_MAX;
    auto last_move = SteadyClock::now();
    bool diagnosed = false, reported_this_stall = false, saw_live = false;
    for (;;) {
      ReleaseViews();  // the previous pass's snapshots: its run is closed
      std::optional<trace::Run> run;
      std::unique_ptr<analysis::RunModel> model;
      if (int rc = OpenModeledRun(run_path_, &run, &model)) return rc;
      const analysis::WatchSummary w = analysis::SummarizeForWatch(*model);
      const auto now = SteadyClock::now();
      if (w.progress != last_progress) {
        last_progress = w.progress;
        last_move = now;
        reported_this_stall = false;
      }
      const double still = std::chrono::duration<double>(now - last_move).count();
      printf(
          "%s %s%s\n", Clock().c_str(), w.line.c_str(),
          still >= interval_
              ? (" — nothing moved for " + std::to_string(static_cast<int>(still)) + " s").c_str()
              : "");
      fflush(stdout);
      saw_live = saw_live || w.live > 0;
      if (w.live == 0) {
        printf("%s every rank has ended\n", Clock().c_str());
        return diagnosed ? kExitFindings : kExitOk;
      }
      if (still >= stall_ && !reported_this_stall) {
        reported_this_stall = true;
        auto checked = analysis::CheckModel(*model);
        if (!checked.ok()) return Fail(checked.status());
        printf("%s no progress for %.0f s: diagnosis\n", Clock().c_str(), still);
        for (const analysis::Finding& f : checked->findings)
          if (f.severity == analysis::Severity::kError) {
            diagnosed = true;
            printf("%s", analysis::FindingText(f).c_str());
          }
        if (!diagnosed) printf("(no error found: the ranks may be busy in their own code)\n");
        fflush(stdout);
      }
      std::this_thread::sleep_for(std::chrono::duration<double>(interval_));
    }
  }

  std::string run_path_;
  double interval_ = 5;
  double stall_ = 30;
};

}  // namespace

std::unique_ptr<Command> MakeWatchCommand() { return std::make_unique<WatchCommand>(); }

}  // namespace ddrr::cli
