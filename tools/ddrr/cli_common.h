// What every ddrr subcommand shares: exit codes, the Command interface and its help, the options
// several commands take, opening a run, error printing.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "analysis/run_model.h"
#include "common/status.h"
#include "trace/run.h"

namespace ddrr::cli {

// Documented in README.md ("Exit codes"); scripts rely on them.
enum ExitCode : int {
  kExitOk = 0,         // success, nothing to report
  kExitFindings = 1,   // ran, and found problems (damage, missing ranks, faults)
  kExitUsage = 2,      // bad arguments or unreadable input: nothing was analysed
  kExitNoDevices = 3,  // ddrr run: the ranks cannot be placed (no usable GPU, too few devices)
  kExitConflict = 4,   // ddrr merge: the inputs are not parts of one job
};

// What `ddrr CMD --help` says besides the options. The footer is the paragraphs given, in this
// order: "Exit status: ...", "Environment: ...", then "Example:" (or "Examples:") and each example.
struct CommandHelp {
  const char* name;
  // Its first line is the command's line in `ddrr --help`; the rest, after a blank line, opens
  // `ddrr CMD --help`.
  const char* description;
  const char* exit_status = nullptr;  // null: no such paragraph
  const char* environment = nullptr;  // null: no such paragraph
  // Command lines, shown indented; an example of several commands separates them by a blank line.
  std::vector<std::string> examples;
};

// A subcommand: its help, given to the constructor, its options (AddOptions) and what it does
// (Run). Each command overrides these privately: only main calls them, through Command.
class Command {
 public:
  explicit Command(CommandHelp help) : help_(std::move(help)) {}
  virtual ~Command() = default;
  // Adds the subcommand, its help and its options to `app`.
  CLI::App* Register(CLI::App& app);
  virtual int Run() = 0;  // returns the process exit code

 private:
  virtual void AddOptions(CLI::App& sub) = 0;

  const CommandHelp help_;
};

// The RUN argument of a command that reads a run, required.
constexpr const char* kRunArgumentHelp = "Run directory, rank-N.ddrr file or bundle";
void AddRunArgument(CLI::App& sub, std::string* run_path,
                    const char* description = kRunArgumentHelp);
// --rank R, to read one rank of the run only; unset: every rank.
void AddRankOption(CLI::App& sub, std::optional<int64_t>* rank);

// Help for people and for help2man: text wrapped to 100 columns, each option's default (or
// REQUIRED) after its type, and in `ddrr --help` one line per command (the first line of its
// description; the rest, after a blank line, opens `ddrr CMD --help`).
class HelpFormatter : public CLI::Formatter {
 public:
  std::string make_option(const CLI::Option* opt, bool is_positional) const override;
  std::string make_option_opts(const CLI::Option* opt) const override;
  std::string make_option_desc(const CLI::Option* opt) const override;
  std::string make_description(const CLI::App* app) const override;
  std::string make_subcommand(const CLI::App* sub) const override;
  std::string make_footer(const CLI::App* app) const override;
};

std::vector<std::unique_ptr<Command>> MakeCommands();

// This process's argv[0]: the commands that start programs find the files installed beside the
// binary with it (launch/installed.h).
const char* Argv0();

// Turns every rank-<r>.spool left by a killed rank in `run_path` (a run directory) into a
// complete rank file, reporting each on stderr; spools of live ranks are left alone. Returns
// the number of spools salvaged. For a single rank file, its own spool.
int SalvageSpools(const std::string& run_path);

// One note on stderr naming the spools of live ranks read as they stand (each spool once per
// command, however often the run is read).
void NoteLiveSpools(std::vector<std::string> spools);

// Where a run's rank files are, for commands that hand the path on: a bundle is extracted to a
// private copy; a run directory has its killed ranks' spools salvaged first, and its live ranks
// are read from snapshots (record::LiveView) in a folder removed when the command ends (at exit
// or by a signal).
StatusOr<std::string> RunDirectory(const std::string& run_path);

// What every reading command does first: RunDirectory, then open the run; the files of a live
// view are named as the run's own.
StatusOr<trace::Run> OpenRun(const std::string& run_path);

// Removes `file` if the command is ended by a signal (Ctrl-C, kill, a closed pipe) or when it
// exits: a file a command writes and renames when done.
void RemoveIfKilled(const std::string& file);

// Removes the live views made so far, for a command that reads a run again and again (ddrr
// watch): the runs opened from them must be closed first.
void ReleaseViews();

// kExitOk when some rank file of `run` is readable; else prints why on stderr and returns
// kExitUsage: nothing can be analysed.
int RequireReadable(const trace::Run& run, const std::string& run_path);

// What every analysing command does first: OpenRun into *run, then RequireReadable. kExitOk, or
// the exit code to end with after printing why.
int OpenReadableRun(const std::string& run_path, std::optional<trace::Run>* run);
// OpenReadableRun, then analysis::ModelRun into *model (what `ddrr check` scans): what the
// commands that describe a run do first. kExitOk, or the exit code after printing why.
int OpenModeledRun(const std::string& run_path, std::optional<trace::Run>* run,
                   std::unique_ptr<analysis::RunModel>* model);

// Rank `rank`'s entry in `run` (with `need_reader`, only one that has a reader); else prints that
// `run_path` has no readable trace for that rank and returns null: end with kExitUsage.
trace::RankEntry* RequireRank(trace::Run& run, int64_t rank, const std::string& run_path,
                              bool need_reader);

// The local time now, as strftime writes it with `format`.
std::string LocalTimeNow(const char* format);

// "ddrr: error: <message>" on stderr; returns kExitUsage.
int Fail(const Status& status);
int Fail(const std::string& message);

}  // namespace ddrr::cli
