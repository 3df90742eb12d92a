// Application replay from start to end, as `ddrr replay RUN --ranks R -- PROG ARGS` runs it:
// check the recording can serve the ranks asked for, compile each rank into its replay script
// (script_writer.h), start the program once per rank with ddrr's launcher under libddrr.so in
// replay mode (with the rank variables it was recorded with, recording itself), stop a program
// that no longer calls anything, and read what each rank's replay mode wrote: where it first
// behaved differently from its recording. The CLI only parses arguments and prints the report.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace ddrr::replay::app {

enum class OnDivergence { kStop, kReport, kIgnore };

struct AppReplayOptions {
  std::string run;                // run directory or rank file
  std::vector<int64_t> ranks;     // empty: all
  std::vector<std::string> argv;  // the program and its arguments
  bool host = false;              // ddrr's host runtime
  int ranks_per_gpu = 0;          // > 0: K ranks per GPU through emu
  OnDivergence on_divergence = OnDivergence::kStop;
  bool restore_rng = false;
  // The program resumes at this step from its own checkpoint (--from step:N).
  std::optional<int64_t> resume_step;
  double timeout_seconds = 60;  // a program that makes no call this long is stopped
  std::string output;           // the replay's run directory; empty: a temporary one
  const char* argv0 = nullptr;  // finds ddrr's libraries beside the binary
};

// One place where a rank behaved differently from its recording.
struct AppDivergence {
  uint64_t recorded_seq = 0;  // 0: past the recording's calls, or not a call
  uint32_t thread = 0;        // the recorded thread, in order of first call
  uint64_t index = 0;         // of the call in its thread
  std::string what;           // "argument count differs", "data: input buffer ..."
  bool at_call = true;   // at a call (else at an entropy draw, an RNG state, the program's end)
  std::string recorded;  // the recorded call as `ddrr dump` shows it
  std::string replayed;  // the program's call, in the same notation
  std::vector<std::string> before;  // the last matching calls of the thread, oldest first
};

struct AppRankResult {
  int64_t rank = -1;
  int exit_status = 0;               // the program's (128 + signal when killed)
  bool started = false;              // replay mode came up in the program
  bool ended = false;                // it wrote its end (it was not killed or stopped first)
  bool stopped = false;              // stopped after the timeout without a call
  bool stalled_as_recorded = false;  // ... having made every recorded call, as its recording did
  uint64_t matched = 0, divergences = 0, unreached = 0;
  uint64_t calls = 0, served = 0, entropy = 0;  // of the script
  std::vector<AppDivergence> list;
  std::string error;  // the replay could not go on (no payload for a served call)

  bool reproduced() const;
};

struct AppReplayReport {
  std::vector<AppRankResult> ranks;
  std::vector<std::string> notes;
  std::string placement;
  std::string output;  // the replay's own run directory
  double recorded_seconds = 0, replay_seconds = 0;

  bool reproduced() const;
  bool input_error() const;  // a rank needed data the recording does not have
};

enum class AppFailure { kNone, kInput, kPlacement };

struct AppReplayOutcome {
  AppFailure failure = AppFailure::kNone;
  std::string message;  // one line, when failure != kNone
  AppReplayReport report;
};

AppReplayOutcome RunAppReplay(const AppReplayOptions& options);

// The report as `ddrr replay` prints it; lines end in '\n'.
std::string AppReportText(const AppReplayReport& report);

}  // namespace ddrr::replay::app
