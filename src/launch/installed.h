// Where the files ddrr runs jobs with are: each can be named by an environment variable, and is
// otherwise looked for where an install puts it, then where the build tree has it, relative to
// the directory of the running executable (bin/ddrr beside lib/). /proc/self/exe gives that
// directory; argv0's is the fallback when it is unreadable. Each lookup is NotFound, naming the
// places looked at and the variable to set, unless the file is there. Installed layout (<lib> is
// the install's library directory, docs/INSTALL.md): <lib>/libddrr.so,
// <lib>/libddrr_gpushare.so, <lib>/ddrr/hostrt, <lib>/ddrr/emu, libexec/ddrr/ddrr-replay-rank.
#pragma once

#include <string>

#include "common/status.h"

namespace ddrr::launch {

// The host runtime's directory (holding libcudart.so.13): $DDRR_HOSTRT_DIR, else
// <lib>/ddrr/hostrt, else <exe dir>/../lib/hostrt.
StatusOr<std::string> FindHostRuntimeDir(const char* argv0);

// A directory holding emu's libnccl.so.2 alone, for --ranks-per-gpu over the real CUDA runtime:
// $DDRR_EMU_DIR, else <lib>/ddrr/emu, else <exe dir>/../lib/emu.
StatusOr<std::string> FindEmuNcclDir(const char* argv0);

// libddrr_gpushare.so: $DDRR_GPUSHARE_LIB, else <lib>/libddrr_gpushare.so, else
// <exe dir>/../lib/libddrr_gpushare.so.
StatusOr<std::string> FindGpushareLibrary(const char* argv0);

// The recorder, libddrr.so: $DDRR_LIB, else <lib>/libddrr.so, else <exe dir>/../lib/libddrr.so.
StatusOr<std::string> FindRecorderLibrary(const char* argv0);

// The program that replays one rank: $DDRR_REPLAY_DRIVER, else libexec/ddrr/ddrr-replay-rank,
// else <exe dir>/ddrr-replay-rank.
StatusOr<std::string> FindReplayDriver(const char* argv0);

}  // namespace ddrr::launch
