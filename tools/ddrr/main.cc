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
#ifdef DDRR_HAVE_BUNDLE
std::unique_ptr<Command> MakeBundleCommand();
#endif
#ifdef DDRR_HAVE_LAUNCHER
std::unique_ptr<Command> MakeRunCommand(const char* argv0);
#endif
#ifdef DDRR_HAVE_REPLAY
std::unique_ptr<Command> MakeReplayCommand(const char* argv0);
#endif
#if defined(DDRR_HAVE_RECORDER) && defined(DDRR_HAVE_LAUNCHER)
std::unique_ptr<Command> MakeRecordCommand(const char* argv0);
#endif
#ifdef DDRR_HAVE_RECORDER
std::unique_ptr<Command> MakeSealCommand();
#endif

std::vector<std::unique_ptr<Command>> MakeCommands(const char* argv0) {
  std::vector<std::unique_ptr<Command>> c;
#if defined(DDRR_HAVE_RECORDER) && defined(DDRR_HAVE_LAUNCHER)
  c.push_back(MakeRecordCommand(argv0));
#endif
  c.push_back(MakeInfoCommand());
  c.push_back(MakeImportCommand());
  c.push_back(MakeDumpCommand());
  c.push_back(MakePayloadCommand());
  c.push_back(MakeDiffCommand());
  c.push_back(MakeCheckCommand());
  c.push_back(MakeWatchCommand());
  c.push_back(MakeExportCommand());
  c.push_back(MakeReportCommand());
#ifdef DDRR_HAVE_BUNDLE
  c.push_back(MakeBundleCommand());
#endif
#ifdef DDRR_HAVE_RECORDER
  c.push_back(MakeSealCommand());
#endif
#ifdef DDRR_HAVE_LAUNCHER
  c.push_back(MakeRunCommand(argv0));
#endif
#ifdef DDRR_HAVE_REPLAY
  c.push_back(MakeReplayCommand(argv0));
#endif
  c.push_back(MakeHelpCommand());
  return c;
}
}  // namespace ddrr::cli

int main(int argc, char** argv) {
  using namespace ddrr::cli;
  CLI::App app{
      "ddrr records what every rank of a distributed training job does at the NCCL / CUDA / RNG\n"
      "boundary, and reads it back offline.\n\n"
      "Exit codes: 0 ok, 1 findings or problems found in the run (replay: diverged), 2 usage or\n"
      "input error, 3 the ranks cannot be placed (run, replay)."};
  app.set_version_flag("--version", "ddrr " DDRR_VERSION);
  AddCommandTableFlag(app);
  app.require_subcommand(1);
  app.fallthrough(false);
  auto commands = MakeCommands(argv[0]);
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
