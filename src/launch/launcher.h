// Starts the ranks of a job as local processes: `ddrr run --host -n N -- PROG ARGS`, `ddrr run
// -n N --ranks-per-gpu K -- PROG ARGS`.
//
// Each rank gets RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR=127.0.0.1 and
// MASTER_PORT (a free port unless given), runs in a process group of its own, with stdin from
// /dev/null, and, with host_runtime, ddrr's host runtime directory first on LD_LIBRARY_PATH
// (without it, emu_dir if given). With ranks_per_gpu, libddrr_gpushare.so is appended to
// LD_PRELOAD (after what is there, so a recorder preloaded by `ddrr record` sees the virtual
// devices the program asked for) and DDRR_RANKS_PER_GPU is set. The rest of the environment is
// inherited untouched.
//
// With prefix_output, each line a rank writes to stdout/stderr is copied to the launcher's
// stdout/stderr prefixed with "[rank N] ", whole lines only, in the rank's own order.
//
// SIGINT, SIGTERM and SIGHUP received by the launcher are forwarded to every rank's process
// group. When a rank exits non-zero (or is killed), or a signal arrives, the other ranks get
// `grace_seconds`, then SIGTERM, then after `kill_after_seconds` SIGKILL: a crash or a hang
// never leaves the launcher waiting forever.
//
// RunRanks installs signal handlers for its duration and restores the previous ones; it must not
// run twice at once in one process.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace ddrr::launch {

struct LaunchOptions {
  int nranks = 1;
  bool host_runtime = false;
  std::string hostrt_dir;         // required when host_runtime
  std::string emu_dir;            // without host_runtime: a directory holding only libnccl.so.2
  int ranks_per_gpu = 0;          // > 0: K ranks share each device through gpushare_lib
  std::string gpushare_lib;       // libddrr_gpushare.so; required when ranks_per_gpu > 0
  std::vector<std::string> argv;  // program and arguments; argv[0] is looked up on PATH
  bool prefix_output = true;
  int master_port = 0;            // 0: pick a free port on 127.0.0.1
  double grace_seconds = -1;      // < 0: DDRR_RUN_GRACE if set, else 10
  double kill_after_seconds = 5;  // from SIGTERM to SIGKILL
};

// Runs the ranks to completion. Returns the exit status of the first rank to fail (its exit
// code, or 128 + signal number if a signal killed it), 0 if every rank exited 0. An error Status
// only when the ranks could not be started (bad options, fork or pipe failure).
StatusOr<int> RunRanks(const LaunchOptions& options);

}  // namespace ddrr::launch
