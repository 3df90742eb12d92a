// ddrr help env [--markdown]: every DDRR_* environment variable, from common/param_list.h. The
// README's table is this command's Markdown output (tests/cli checks that they agree).
#include <cstdio>

#include "cli_common.h"
#include "common/params.h"

namespace ddrr::cli {
namespace {

class HelpCommand : public Command {
 public:
  CLI::App* Register(CLI::App& app) override {
    auto* sub = app.add_subcommand("help", "Reference pages beyond --help: `ddrr help env`");
    sub->add_option("TOPIC", topic_,
                    "env: every DDRR_* environment variable, who reads it, what it does, its "
                    "default")
        ->required()
        ->check(CLI::IsMember({"env"}));
    sub->add_flag("--markdown", markdown_, "The README's table (Markdown)");
    sub->footer(
        "Exit status: 0 done, 2 usage error.\n"
        "\n"
        "Example:\n"
        "  ddrr help env --markdown");
    return sub;
  }

  int Run() override {
    fputs(param::Table(markdown_).c_str(), stdout);
    return kExitOk;
  }

 private:
  std::string topic_;
  bool markdown_ = false;
};

}  // namespace

std::unique_ptr<Command> MakeHelpCommand() { return std::make_unique<HelpCommand>(); }

}  // namespace ddrr::cli
