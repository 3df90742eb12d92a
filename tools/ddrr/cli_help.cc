// ddrr help env [--markdown]: every DDRR_* environment variable, from common/param_list.h. The
// README's table is this command's Markdown output (tests/cli checks that they agree).
#include <cstdio>

#include "cli_common.h"
#include "common/params.h"

namespace ddrr::cli {
namespace {

class HelpCommand : public Command {
 public:
  HelpCommand()
      : Command({
            .name = "help",
            .description = "Reference pages beyond --help: `ddrr help env`",
            .exit_status = "0 done, 2 usage error.",
            .examples = {"ddrr help env --markdown"},
        }) {}

 private:
  void AddOptions(CLI::App& sub) override {
    sub.add_option("TOPIC", topic_,
                   "env: every DDRR_* environment variable, who reads it, what it does, its "
                   "default")
        ->required()
        ->check(CLI::IsMember({"env"}));
    sub.add_flag("--markdown", markdown_, "The README's table (Markdown)");
  }

  int Run() override {
    fputs(param::Table(markdown_).c_str(), stdout);
    return kExitOk;
  }

  std::string topic_;
  bool markdown_ = false;
};

}  // namespace

std::unique_ptr<Command> MakeHelpCommand() { return std::make_unique<HelpCommand>(); }

}  // namespace ddrr::cli
