// What comm replay and application replay share when they start a replay: where the ranks run
// (ddrr's host runtime, emu sharing GPUs, or one rank per GPU on the machine's NCCL), a private
// temporary directory, and how long the recording took.
#pragma once

#include <string>

#include "analysis/run_model.h"
#include "common/status.h"
#include "launch/launcher.h"

namespace ddrr::replay {

// Sets the runtime of `lo` (host runtime, emu directory, gpushare) and returns its description
// ("ddrr's host runtime (emu, no GPU)"). NotFound, naming the variable to set, when a file it
// needs is missing.
StatusOr<std::string> PlaceRanks(bool host, int ranks_per_gpu, const char* argv0,
                                 launch::LaunchOptions* lo);

// A new directory under $TMPDIR (else /tmp) named prefix + 6 random characters; "" on failure.
std::string TempDir(const std::string& prefix);

// Wall time of a recording: from its first rank's start to its last rank's last sign of life
// (its footer's end, or its last event when the footer has none).
double RecordedSeconds(const analysis::RunModel& model);

}  // namespace ddrr::replay
