// Starts the ranks of a job as local processes: `ddrr run --host -n N -- PROG ARGS`, `ddrr run
// -n N --ranks-per-gpu K -- PROG ARGS`.
//
// The process of index i (0..nranks-1) gets RANK (rank_ids[i], or i), WORLD_SIZE (world_size,
// or nranks), LOCAL_RANK=i, LOCAL_WORLD_SIZE=nranks, MASTER_ADDR=127.0.0.1 and MASTER_PORT (a
// free port unless given), runs in a process group of its own, with stdin from /dev/null, and,
// with host_runtime, ddrr's host runtime directory first on LD_LIBRARY_PATH (without it, emu_dir
// if given). With ranks_per_gpu, libddrr_gpushare.so is appended to LD_PRELOAD (after what is
// there, so a recorder preloaded by `ddrr record` sees the virtual devices the program asked
// for) and DDRR_RANKS_PER_GPU is set. The rest of the environment is inherited, with extra_env
// replacing inherited variables of the same names (LD_LIBRARY_PATH and LD_PRELOAD given there
// are what the two additions above extend).
//
// With prefix_output, each line a rank writes to stdout/stderr is copied to the launcher's
// stdout/stderr prefixed with "[rank R] " (R its RANK), whole lines only, in the rank's own
// order.
//
// SIGINT, SIGTERM and SIGHUP received by the launcher are forwarded to every rank's process
// group. When a rank exits non-zero (or is killed), or a signal arrives, the other ranks get
// `grace_seconds`, then SIGTERM, then after `kill_after_seconds` SIGKILL: a crash or a hang
// never leaves the launcher waiting forever. should_stop, when set, is asked at least every
// 50 ms while ranks run; once it answers true every running rank's process group gets
// `stop_signal` at once, and SIGKILL `kill_after_seconds` later if it is still running.
//
// RunRanks installs signal handlers for its duration and restores the previous ones; it must not
// run twice at once in one process.
#pragma once

#include <sys/types.h>

#include <csignal>
#include <functional>
#include <string>
#include <utility>
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
  double kill_after_seconds = 5;  // from SIGTERM (or stop_signal) to SIGKILL
  // RANK of each process, distinct and >= 0; empty: 0..nranks-1. Ids of nranks or more need a
  // world_size above them.
  std::vector<int> rank_ids;
  int world_size = 0;  // WORLD_SIZE, above every rank id; 0: nranks
  // LOCAL_RANK of each process (a replay gives each rank the one it was recorded with); empty:
  // 0..nranks-1. LOCAL_WORLD_SIZE likewise; 0: nranks.
  std::vector<int> local_ranks;
  int local_world_size = 0;
  // Set in every rank's environment over the inherited values; not the launcher's own rank
  // variables (RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE, MASTER_ADDR, MASTER_PORT).
  std::vector<std::pair<std::string, std::string>> extra_env;
  std::function<bool()> should_stop;  // true: stop the job now (see above)
  int stop_signal = SIGKILL;
};

struct RankResult {
  int rank = 0;  // its RANK
  pid_t pid = -1;
  int exit_status = 0;  // exit code, or 128 + the signal that killed it
  // The launcher signalled it while it ran: after another rank failed, on a forwarded signal or
  // on should_stop. Its exit status is what followed.
  bool killed_by_launcher = false;
};

struct LaunchResult {
  // The first failing rank's exit status (128 + signal when killed), 0 if every rank exited 0.
  int exit_status = 0;
  bool stopped = false;           // should_stop answered true and the ranks were stopped
  std::vector<RankResult> ranks;  // one per process, in LOCAL_RANK order
};

// Runs the ranks to completion. An error Status only when the ranks could not be started (bad
// options, fork or pipe failure); those already started are stopped first.
StatusOr<LaunchResult> RunRanks(const LaunchOptions& options);

}  // namespace ddrr::launch
