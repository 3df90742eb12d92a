// ddrr run -n N [--host] [--ranks-per-gpu K] -- PROG ARGS: starts N ranks of PROG as local
// processes, with the launcher variables torchrun would set, on ddrr's host runtime (--host, no
// GPU) and/or with K ranks sharing each device through emu's libnccl.so.2 and
// libddrr_gpushare.so (--ranks-per-gpu).
#include <cstdio>

#include "cli_common.h"
#include "gpushare/device_map.h"
#include "launch/device_probe.h"
#include "launch/installed.h"
#include "launch/launcher.h"

namespace ddrr::cli {
namespace {

class RunCommand : public Command {
 public:
  RunCommand()
      : Command({
            .name = "run",
            .description =
                "Start N ranks of a program as local processes, on GPUs or with none\n"
                "\n"
                "Starts N ranks of PROGRAM with the variables torchrun sets (RANK, WORLD_SIZE, "
                "LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT), output lines prefixed "
                "[rank N], signals forwarded, LD_PRELOAD passed on (so `ddrr record` composes with "
                "it). When a rank fails the others get DDRR_RUN_GRACE seconds, then SIGTERM, then "
                "SIGKILL. Needs --host, --ranks-per-gpu K, or both.",
            .exit_status =
                "the first failing rank's (128 + signal when it was killed), 0 when every rank "
                "succeeded, 2 usage error, 3 the ranks cannot be placed (no usable GPU or driver, "
                "or fewer than N/K devices).",
            .environment =
                "DDRR_HOSTRT_DIR (the host runtime's libraries, default <ddrr>/../lib/hostrt), "
                "DDRR_EMU_DIR (emu's libnccl.so.2 alone), DDRR_GPUSHARE_LIB "
                "(libddrr_gpushare.so), DDRR_RUN_GRACE (seconds the other ranks get after one "
                "fails, default 10), DDRR_HOST_DEVICES (devices the host runtime shows, default "
                "8).",
            .examples = {"ddrr run --host -n 4 -- ./train --steps 20",
                         "ddrr run -n 16 --ranks-per-gpu 4 -- ./train       # 16 ranks on 4 GPUs"},
        }) {}

 private:
  void AddOptions(CLI::App& sub) override {
    sub.add_flag("--host", host_,
                 "Run on ddrr's host runtime: libcudart.so.13, libnccl.so.2 (emu) and "
                 "libcurand.so.10 on host memory, no GPU needed");
    sub.add_option("--ranks-per-gpu", ranks_per_gpu_,
                   "Let K ranks share each device: the CUDA runtime shows K virtual devices per "
                   "real one (libddrr_gpushare.so) and NCCL is emu's; without --host, on the "
                   "real GPUs")
        ->check(CLI::Range(1, gpushare::kMaxRanksPerGpu))
        ->default_str("one rank per device");
    sub.add_option("-n,--nranks", nranks_, "Number of ranks")
        ->required()
        ->check(CLI::Range(1, 1024));
    sub.add_option("--master-port", port_, "MASTER_PORT")
        ->check(CLI::Range(1, 65535))
        ->default_str("a free port");
    sub.add_flag("--no-prefix", no_prefix_, "Do not prefix output lines with [rank N]");
    sub.add_option("PROGRAM", argv_, "Program and its arguments (after --)")->required();
  }

  int Run() override {
    if (!host_ && ranks_per_gpu_ == 0) {
      return Fail(
          "ddrr run needs --host (ddrr's host runtime, no GPU) or --ranks-per-gpu K (K ranks "
          "per GPU through emu), or both");
    }
    launch::LaunchOptions o;
    o.nranks = nranks_;
    o.host_runtime = host_;
    if (host_) {
      auto dir = launch::FindHostRuntimeDir(Argv0());
      if (!dir.ok())
        return Fail(dir.status().message() +
                    "; set DDRR_HOSTRT_DIR to the directory "
                    "holding ddrr's libcudart.so.13");
      o.hostrt_dir = *dir;
    } else {
      auto dir = launch::FindEmuNcclDir(Argv0());
      if (!dir.ok()) return Fail(dir.status());
      o.emu_dir = *dir;
    }
    if (ranks_per_gpu_ > 0) {
      auto lib = launch::FindGpushareLibrary(Argv0());
      if (!lib.ok()) return Fail(lib.status());
      o.ranks_per_gpu = ranks_per_gpu_;
      o.gpushare_lib = *lib;
      if (int rc = CheckPlacement(o); rc != kExitOk) return rc;
    }
    o.argv = argv_;
    o.prefix_output = !no_prefix_;
    o.master_port = port_;
    StatusOr<launch::LaunchResult> job = launch::RunRanks(o);
    if (!job.ok()) return Fail(job.status());
    return job->exit_status;
  }

  // Refuses a job that does not fit on the devices before any rank starts.
  int CheckPlacement(const launch::LaunchOptions& o) {
    Status placed = launch::CheckPlacement(o);
    if (placed.ok()) return kExitOk;
    const bool no_runtime = placed.code() == StatusCode::kUnavailable;
    fprintf(stderr, "ddrr: error: %s%s\n", placed.message().c_str(),
            no_runtime && !host_ ? "; without a GPU, run on ddrr's host runtime with --host" : "");
    return kExitNoDevices;
  }

  bool host_ = false;
  int ranks_per_gpu_ = 0;
  int nranks_ = 1;
  int port_ = 0;
  bool no_prefix_ = false;
  std::vector<std::string> argv_;
};

}  // namespace

std::unique_ptr<Command> MakeRunCommand() { return std::make_unique<RunCommand>(); }

}  // namespace ddrr::cli
