// Salvage: the reader side of the recorder's files. A killed rank leaves its sealed frames and
// the spool's committed records; Salvage() rebuilds a complete rank file from them. Readers of
// a run whose ranks still run see them through snapshots (LiveView). Runs in the CLI and tools,
// never inside the recorded job: it reads the old frames with the libprotobuf reader.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

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

// What readers open while some ranks of a run still run (LiveView).
struct LiveRunView {
  // The run directory or rank file to read: a view, or the path given when nothing of it runs.
  std::string path;
  // The folder made for the view; empty when none was. The caller removes it once the rank
  // files are open (their mappings outlive it).
  std::string folder;
  std::vector<std::string> live;  // the spools read as they stand, in name order
};

// A run directory or rank file as readers see it while some of its ranks still run. When spools of
// live processes are there (for a rank file: its own), a new folder under `temp_root` holds a
// snapshot of each live rank (SnapshotLive) and a link to every other rank file and spool, and
// `path` names it (for a rank file: its snapshot). A rank that ends while it is being read is read
// from its rank file; one whose spool is still being created, not at all; one that writes a whole
// ring faster than it is read fails the view (Unavailable: read again).
StatusOr<LiveRunView> LiveView(const std::string& path, const std::string& temp_root);

// Salvages every rank-<r>.spool of a run directory whose process is gone, calling `report` with
// each spool's path and what Salvage() said (a live process's spool is left alone: its
// Salvage() fails, and says so). For a rank file, its own spool. Returns how many were salvaged.
int SalvageRun(const std::string& run_dir,
               const std::function<void(const std::string&, const StatusOr<uint64_t>&)>& report);

}  // namespace ddrr::record
