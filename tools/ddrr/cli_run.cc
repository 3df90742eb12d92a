// ddrr run --host -n N -- PROG ARGS: starts N ranks of PROG as local processes on ddrr's host
// runtime (no GPU), with the launcher variables torchrun would set.
#include <cstdio>

#include "cli_common.h"
#include "hostrt/launcher.h"

namespace ddrr::cli {
namespace {

class RunCommand : public Command {
 public:
  explicit RunCommand(const char* argv0) : argv0_(argv0) {}

  CLI::App* Register(CLI::App& app) override {
    auto* sub = app.add_subcommand(
        "run",
        "Start N ranks of a program as local processes (RANK, WORLD_SIZE, LOCAL_RANK, "
        "LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT set); exits with the first failing "
        "rank's status");
    sub->add_flag("--host", host_,
                  "Run on ddrr's host runtime: libcudart.so.13, libnccl.so.2 (emu) and "
                  "libcurand.so.10 on host memory, no GPU needed")
        ->required();
    sub->add_option("-n,--nranks", nranks_, "Number of ranks")
        ->required()
        ->check(CLI::Range(1, 1024));
    sub->add_option("--master-port", port_, "MASTER_PORT (default: a free port)")
        ->check(CLI::Range(1, 65535));
    sub->add_flag("--no-prefix", no_prefix_, "Do not prefix output lines with [rank N]");
    sub->add_option("PROGRAM", argv_, "Program and its arguments (after --)")->required();
    sub->footer(
        "Environment: DDRR_HOSTRT_DIR (host runtime libraries), DDRR_RUN_GRACE (seconds "
        "the other ranks get after one fails, default 10).");
    return sub;
  }

  int Run() override {
    auto dir = hostrt::FindHostRuntimeDir(argv0_);
    if (!dir.ok())
      return Fail(dir.status().message() +
                  "; set DDRR_HOSTRT_DIR to the directory "
                  "holding ddrr's libcudart.so.13");
    hostrt::LaunchOptions o;
    o.nranks = nranks_;
    o.host_runtime = host_;
    o.hostrt_dir = *dir;
    o.argv = argv_;
    o.prefix_output = !no_prefix_;
    o.master_port = port_;
    auto status = hostrt::RunRanks(o);
    if (!status.ok()) return Fail(status.status());
    return *status;
  }

 private:
  const char* argv0_;
  bool host_ = false;
  int nranks_ = 1;
  int port_ = 0;
  bool no_prefix_ = false;
  std::vector<std::string> argv_;
};

}  // namespace

std::unique_ptr<Command> MakeRunCommand(const char* argv0) {
  return std::make_unique<RunCommand>(argv0);
}

}  // namespace ddrr::cli
