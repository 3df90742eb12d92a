// The recording session of this process: started lazily by the first intercepted call (so a
// process that never calls NCCL, such as a launcher, writes nothing), configured by DDRR_*
// variables, closed at exit. Any failure disables recording with one warning; the job goes on.
#pragma once

#include <cstdint>

#include "record/recorder.h"

namespace ddrr::interpose {

// The recorder when this process records, else nullptr (disabled, failed, forked child).
record::Recorder* ActiveRecorder();
// The recorder if it is already running, else nullptr; never starts it. For hooks that may run
// inside the recorder's own start-up (open/read of /proc/self/cmdline), where starting would
// recurse.
record::Recorder* RunningRecorder();
// A communicator was created with this rank and size: when the process had no rank variable,
// the first one gives the rank of its trace (rank-source "comm").
void AdoptRankFromComm(int rank, int nranks);
// Closes the trace now, as at exit (a replay that stops the program); idempotent.
void CloseSession();
uint64_t SessionStartNs();  // CLOCK_MONOTONIC at start; event times count from here
uint32_t ThreadIndex();     // small per-process index of the calling thread

}  // namespace ddrr::interpose
