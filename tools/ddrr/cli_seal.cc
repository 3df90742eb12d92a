// ddrr seal RUN: salvages, explicitly, every spool left by a killed rank (other commands do it
// transparently before reading).
#include <cstdio>

#include "cli_common.h"
#include "trace/run.h"

namespace ddrr::cli {
namespace {

class SealCommand : public Command {
 public:
  SealCommand()
      : Command({
            .name = "seal",
            .description =
                "Turn the spools of killed ranks into complete rank files\n"
                "\n"
                "A rank killed while recording leaves rank-<r>.spool; seal turns each into a "
                "complete rank file. `ddrr record` and every reading command do this by "
                "themselves; a spool whose process is still alive is left alone.",
            .exit_status = "0 done, 2 input error.",
            .examples = {"ddrr seal run1"},
        }) {}

 private:
  void AddOptions(CLI::App& sub) override { AddRunArgument(sub, &run_path_, "Run directory"); }

  int Run() override {
    auto run = trace::Run::Open(run_path_);  // checks the path before anything is changed
    if (!run.ok()) return Fail(run.status());
    const int n = SalvageSpools(run_path_);
    printf("ddrr seal: %d spool(s) salvaged in %s\n", n, run_path_.c_str());
    return kExitOk;
  }

  std::string run_path_;
};

}  // namespace

std::unique_ptr<Command> MakeSealCommand() { return std::make_unique<SealCommand>(); }

}  // namespace ddrr::cli
