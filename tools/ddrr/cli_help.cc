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
    auto* sub = app.add_subcommand("help", "Reference pages beyond --help");
    sub->require_subcommand(1);
    env_ = sub->add_subcommand("env",
                               "Every DDRR_* environment variable: who reads it, what it "
                               "does, its default");
    env_->add_flag("--markdown", markdown_, "The README's table (Markdown)");
    return sub;
  }

  int Run() override {
    fputs(param::Table(markdown_).c_str(), stdout);
    return kExitOk;
  }

 private:
  CLI::App* env_ = nullptr;
  bool markdown_ = false;
};

}  // namespace

std::unique_ptr<Command> MakeHelpCommand() { return std::make_unique<HelpCommand>(); }

}  // namespace ddrr::cli
