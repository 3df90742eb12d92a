// ddrr replay RUN: re-issues every replayed rank's recorded communication (src/replay/session.h)
// and says whether the replay behaved as recorded. ddrr replay RUN -- PROG ARGS re-runs the
// program itself against the recording (application replay, src/replay/app/app_session.h).
// Exit 0 reproduced, 1 diverged, 2 input error, 3 the ranks cannot be placed.
#include <unistd.h>

#include <cstdio>
#include <set>

#include "cli_common.h"
#include "common/step_range.h"
#include "replay/app/app_session.h"
#include "replay/plan.h"
#include "replay/report.h"
#include "replay/session.h"

namespace ddrr::cli {
namespace {

// "all" or "0,2,5-7": each item a rank or a range of ranks, as --payload-steps takes steps.
bool ParseRanks(const std::string& text, std::vector<int64_t>* out) {
  out->clear();
  if (text == "all") return true;
  std::set<int64_t> ranks;
  for (size_t start = 0;;) {
    const size_t comma = text.find(',', start);
    int64_t a = 0, b = 0;
    const std::string_view item = std::string_view(text).substr(start, comma - start);
    if (!ParseStepRange(item, &a, &b) || b - a > 100000) return false;
    for (int64_t r = a; r <= b; ++r) ranks.insert(r);
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  out->assign(ranks.begin(), ranks.end());
  return true;
}

class ReplayCommand : public Command {
 public:
  ReplayCommand()
      : Command({
            .name = "replay",
            .description =
                "Replay a run's communication or program, on fewer GPUs or none\n"
                "\n"
                "Comm replay (no PROGRAM): re-issues the recorded NCCL communication of every rank "
                "or some, on real GPUs, with K ranks per GPU (--ranks-per-gpu) or with no GPU "
                "(--host), checks every output element, and says whether it behaves as recorded, "
                "errors and hangs included. Application replay (-- PROGRAM ARGS): re-runs the "
                "program itself for the ranks asked for, the others played from the recording, and "
                "says where it first behaves differently (docs/REPLAY.md).",
            .exit_status =
                "0 reproduced, 1 diverged, 2 input error (unreadable, damaged or truncated rank "
                "files, missing ranks without --ranks, a newer format), 3 the ranks cannot be "
                "placed.",
            .environment = "DDRR_REPLAY_DRIVER (ddrr-replay-rank), DDRR_LIB (libddrr.so), "
                           "DDRR_HOSTRT_DIR, DDRR_EMU_DIR, DDRR_GPUSHARE_LIB, DDRR_HOST_DEVICES.",
            .examples = {"ddrr replay run1 --host                       # every rank, no GPU",
                         "ddrr replay run1 --ranks-per-gpu 8            # 8 ranks per GPU",
                         "ddrr replay run1 --ranks 3 -- python train.py # rank 3's program on one "
                         "GPU"},
        }) {}

 private:
  void AddOptions(CLI::App& sub) override {
    AddRunArgument(sub, &run_);
    sub.add_option("--ranks", ranks_, "Ranks to replay: all or a list such as 0,2,4-7");
    sub.add_flag("--host", host_, "Replay on ddrr's host runtime (emu, no GPU needed)");
    sub.add_option("--ranks-per-gpu", ranks_per_gpu_,
                   "K ranks share each GPU through emu (with --host: each host device)")
        ->check(CLI::Range(1, 1024))
        ->default_str("one rank per GPU");
    sub.add_option("--timeout", timeout_,
                   "Seconds without progress after which the replay is a hang")
        ->check(CLI::Range(1.0, 86400.0));
    sub.add_option("--from", from_, "Start at step:N (from ddrr_mark) or op:[KEY:]N")
        ->default_str("the start");
    sub.add_option("--until", until_, "Stop after step:N or op:[KEY:]N")->default_str("the end");
    sub.add_option("--pace", pace_,
                   "none: flat out; recorded: keep the recorded gaps between a rank's calls")
        ->check(CLI::IsMember({"none", "recorded"}));
    sub.add_option("--data", data_,
                   "pattern: fill inputs and check every output element; zeros: no data, no "
                   "checks (fastest)")
        ->check(CLI::IsMember({"pattern", "zeros"}));
    sub.add_option("-o,--output", output_, "Where the replay records itself")
        ->default_str("a temporary directory, kept when the replay diverges");
    sub.add_flag("--json", json_, "The report as one JSON object (docs/REPLAY.md)");
    sub.add_option("--on-divergence", on_divergence_,
                   "With a program: stop ends it at the first difference with exit status 1; "
                   "report lists every difference and goes on; ignore only counts them")
        ->check(CLI::IsMember({"stop", "report", "ignore"}));
    sub.add_flag("--restore-rng", restore_rng_,
                 "With a program: hand the recorded RNG states back (ddrr_restore_rng) instead "
                 "of comparing them");
    sub.add_option("PROGRAM", program_,
                   "The program to re-run and its arguments (after --): application replay")
        ->default_str("none: comm replay");
    sub.add_flag("--no-progress", no_progress_, "No progress line, even on a terminal");
  }

  int Run() override {
    std::vector<int64_t> ranks;
    if (!ParseRanks(ranks_, &ranks))
      return Fail("--ranks " + ranks_ + ": expected all or a list such as 0,2,4-7");
    if (!program_.empty()) return RunProgram(ranks);
    if (on_divergence_ != "stop" || restore_rng_)
      return Fail("--on-divergence and --restore-rng apply to a program: add -- PROG ARGS");
    replay::ReplayOptions o;
    o.ranks = ranks;
    o.host = host_;
    o.ranks_per_gpu = ranks_per_gpu_;
    o.timeout_seconds = timeout_;
    o.from = from_;
    o.until = until_;
    o.pace_recorded = pace_ == "recorded";
    o.data = data_ == "zeros" ? replay::DATA_ZEROS : replay::DATA_PATTERN;
    o.output = output_;
    o.progress_line = !no_progress_ && !json_ && isatty(STDERR_FILENO);
    o.argv0 = Argv0();
    auto dir = RunDirectory(run_);  // a bundle unpacked, killed ranks' spools salvaged
    if (!dir.ok()) return Fail(dir.status());
    o.run = *dir;
    replay::ReplayOutcome out = replay::RunReplay(o);
    if (out.failure == replay::ReplayFailure::kPlacement) {
      fprintf(stderr, "ddrr: error: %s\n", out.message.c_str());
      return kExitNoDevices;
    }
    const bool replayed = !out.report.verdict.ranks.empty();
    if (replayed) {
      if (json_)
        printf("%s\n", replay::ReportJson(out.report).c_str());
      else
        printf("%s", replay::ReportText(out.report).c_str());
    }
    if (out.failure == replay::ReplayFailure::kInput) return Fail(out.message);
    return out.report.reproduced() ? kExitOk : kExitFindings;
  }

  int RunProgram(const std::vector<int64_t>& ranks) {
    if (!until_.empty() || pace_ != "none" || data_ != "pattern" || json_)
      return Fail("--until, --pace, --data and --json apply to comm replay, not to a program");
    replay::app::AppReplayOptions o;
    if (!from_.empty()) {
      auto from = replay::ParseWindowPoint(from_);
      if (!from.ok() || from->kind != replay::WindowPoint::kStep)
        return Fail("--from " + from_ +
                    ": with a program, --from takes step:N (the step it resumes at)");
      o.resume_step = from->step;
    }
    o.ranks = ranks;
    o.argv = program_;
    o.host = host_;
    o.ranks_per_gpu = ranks_per_gpu_;
    o.on_divergence = on_divergence_ == "report"   ? replay::app::OnDivergence::kReport
                      : on_divergence_ == "ignore" ? replay::app::OnDivergence::kIgnore
                                                   : replay::app::OnDivergence::kStop;
    o.restore_rng = restore_rng_;
    o.timeout_seconds = timeout_;
    o.output = output_;
    o.argv0 = Argv0();
    auto dir = RunDirectory(run_);
    if (!dir.ok()) return Fail(dir.status());
    o.run = *dir;
    replay::app::AppReplayOutcome out = replay::app::RunAppReplay(o);
    if (out.failure == replay::app::AppFailure::kPlacement) {
      fprintf(stderr, "ddrr: error: %s\n", out.message.c_str());
      return kExitNoDevices;
    }
    if (out.failure == replay::app::AppFailure::kInput) return Fail(out.message);
    fflush(stdout);
    printf("%s", replay::app::AppReportText(out.report).c_str());
    if (out.report.input_error()) return kExitUsage;
    return out.report.reproduced() ? kExitOk : kExitFindings;
  }

  std::string run_;
  std::string ranks_ = "all";
  bool host_ = false;
  int ranks_per_gpu_ = 0;
  double timeout_ = 60;
  std::string from_, until_;
  std::string pace_ = "none";
  std::string data_ = "pattern";
  std::string output_;
  bool json_ = false;
  bool no_progress_ = false;
  std::string on_divergence_ = "stop";
  bool restore_rng_ = false;
  std::vector<std::string> program_;
};

}  // namespace

std::unique_ptr<Command> MakeReplayCommand() { return std::make_unique<ReplayCommand>(); }

}  // namespace ddrr::cli
