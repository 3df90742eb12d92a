// How many CUDA devices the ranks of a job will see, asked before they start, so that `ddrr run
// -n N --ranks-per-gpu K` can refuse a job that does not fit (N > K * devices) or a machine with
// no usable GPU with one clear line instead of N failing ranks.
#pragma once

#include <string>

#include "common/status.h"
#include "launch/launcher.h"

namespace ddrr::launch {

// cudaGetDeviceCount of the CUDA runtime `cudart` (a soname such as "libcudart.so.13", found
// as the ranks would find it, or a path), asked in a forked child: CUDA initialised in the
// launcher would be inherited by the ranks it forks, and CUDA does not survive fork. Unavailable,
// with the runtime's own words (and the likely cause for a missing driver or device), when the
// runtime cannot be loaded, the call fails, or the child dies or takes longer than
// `timeout_seconds`.
StatusOr<int> ProbeDeviceCount(const std::string& cudart, double timeout_seconds = 60);

// OK when `nranks` ranks fit on `devices` devices at `ranks_per_gpu` each; else
// InvalidArgument saying how many devices they need and how to fix it.
Status CheckRanksFit(int nranks, int ranks_per_gpu, int devices);

// Whether the ranks of `options` can be placed, asked before any starts: the device count of the
// CUDA runtime they will load (the host runtime's with host_runtime, else NVIDIA's by soname)
// against CheckRanksFit at ranks_per_gpu per device (1 when 0). Unavailable, in
// ProbeDeviceCount's words, when the runtime cannot tell; CheckRanksFit's InvalidArgument when
// they do not fit.
Status CheckPlacement(const LaunchOptions& options, double timeout_seconds = 60);

}  // namespace ddrr::launch
