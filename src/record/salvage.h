// Salvage: the reader side of the recorder's files. A killed rank leaves its sealed frames and
// the spool's committed records; Salvage() rebuilds a complete rank file from them. Readers of
// a run whose ranks still run see them through snapshots (LiveView). Runs in the CLI and tools,
// never inside the recorded job: it reads the old frames with the libprotobuf reader.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

#include "common/status.h"

namespace ddrr::record {

// Rebuilds <rank>.ddrr from what a killed rank left: the intact frames of the .ddrr (if any)
// plus every committed spool record with a higher seq, then a footer with END_SALVAGED. The
// spool is removed only after the rank file is complete. Returns the number of events recovered
// from the spool.
StatusOr<uint64_t> Salvage(const std::string& spool_path);

// A reader's view of a rank whose process is still running: writes to `out_path` a complete rank
// file with the intact frames of its .ddrr and every committed spool record after them, ending
// with END_LIVE. Reads the spool and the .ddrr only: never locks, salvages or writes them, and
// skips records still being written. Unavailable when the rank wrote a whole ring while it was
// being read (read again).
Status SnapshotLive(const std::string& spool_path, const std::string& out_path);

// A run directory as readers see it while some of its ranks still run: when `run_dir` holds spools
// of live processes, a new directory under `scratch` with a snapshot of each live rank
// (SnapshotLive) and a link to every other rank file; else `run_dir` itself.
StatusOr<std::string> LiveView(const std::string& run_dir, const std::string& scratch);

// Salvages every rank-<r>.spool of a run directory whose process is gone, calling `report` with
// each spool's path and what Salvage() said (a live process's spool is left alone: its
// Salvage() fails, and says so). Returns how many were salvaged; 0 for anything but a directory.
int SalvageRun(const std::string& run_dir,
               const std::function<void(const std::string&, const StatusOr<uint64_t>&)>& report);

}  // namespace ddrr::record
