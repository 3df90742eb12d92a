// ddrr: multi-device record and replay for distributed deep-learning training.
#include <cstdio>

#include "cli_common.h"
#include "command_table.h"

namespace ddrr::cli {
std::unique_ptr<Command> MakeInfoCommand();
std::unique_ptr<Command> MakeHelpCommand();
std::unique_ptr<Command> MakeImportCommand();
std::unique_ptr<Command> MakeDumpCommand();
std::unique_ptr<Command> MakePayloadCommand();
std::unique_ptr<Command> MakeDiffCommand();
std::unique_ptr<Command> MakeCheckCommand();
std::unique_ptr<Command> MakeWatchCommand();
std::unique_ptr<Command> MakeExportCommand();
std::unique_ptr<Command> MakeReportCommand();
std::unique_ptr<Command> MakeMergeCommand();
// Built with their component only (CMakeLists.txt leaves their file out otherwise): weak, so
// that a command not built is null here.
[[gnu::weak]] std::unique_ptr<Command> MakeBundleCommand();
[[gnu::weak]] std::unique_ptr<Command> MakeRunCommand();
[[gnu::weak]] std::unique_ptr<Command> MakeReplayCommand();
[[gnu::weak]] std::unique_ptr<Command> MakeRecordCommand();
[[gnu::weak]] std::unique_ptr<Command> MakeSealCommand();

std::vector<std::unique_ptr<Command>> MakeCommands() {
  std::vector<std::unique_ptr<Command>> commands;
  // In the order of `ddrr --help`.
  for (auto* make : {MakeRecordCommand, MakeInfoCommand, MakeImportCommand, MakeDumpCommand,
                     MakePayloadCommand, MakeDiffCommand, MakeCheckCommand, MakeWatchCommand,
                     MakeExportCommand, MakeReportCommand, MakeMergeCommand, MakeBundleCommand,
                     MakeSealCommand, MakeRunCommand, MakeReplayCommand, MakeHelpCommand})
    if (make) commands.push_back(make());
  return commands;
}
}  // namespace ddrr::cli

int main(int argc, char** argv) {
  using namespace ddrr::cli;
  CLI::App app{
      "ddrr records what every rank of a distributed training job does at the NCCL / CUDA "
      "runtime / cuRAND boundary, and reads it back offline: summarise, diagnose a failure or a "
      "hang, compare two runs, replay the communication or one rank's program on fewer GPUs or "
      "none, export a timeline, pack a bug report.",
      "ddrr"};
  app.formatter(std::make_shared<HelpFormatter>());
  app.option_defaults()->always_capture_default();  // every option's help shows its default
  app.footer(
      "Every command that reads a run takes a run directory (rank-<r>.ddrr files), one rank file "
      "or a bundle made by `ddrr bundle`. `ddrr COMMAND --help` shows a command's options.\n"
      "\n"
      "Exit codes:\n"
      "  0  success, nothing to report\n"
      "  1  findings or problems found in the run (replay: diverged; watch: a hang)\n"
      "  2  usage or input error: nothing was analysed\n"
      "  3  the ranks cannot be placed (run, replay)\n"
      "  4  the inputs are not parts of one job (merge)\n"
      "\n"
      "Examples:\n"
      "  ddrr record -o run1 -- torchrun --nproc-per-node 8 train.py\n"
      "\n"
      "  ddrr check run1\n"
      "\n"
      "  ddrr replay run1 --host");
  app.set_version_flag("--version", "ddrr " DDRR_VERSION);
  AddCommandTableFlag(app);
  app.require_subcommand(1);
  app.fallthrough(false);
  auto commands = MakeCommands();
  std::vector<std::pair<CLI::App*, Command*>> subs;
  for (auto& c : commands) subs.emplace_back(c->Register(app), c.get());
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  for (auto& [sub, cmd] : subs)
    if (sub->parsed()) return cmd->Run();
  return kExitUsage;
}
