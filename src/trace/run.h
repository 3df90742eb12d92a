// Run: the set of rank files a command reads. Accepts a run directory (rank-<r>.ddrr files,
// plus rank-<r>.spool left by killed ranks) or a single rank file. Ranks that cannot be opened
// and ranks missing from the world are reported, not fatal: diagnosis of an incomplete run is
// the point of ddrr.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "trace/trace_reader.h"

namespace ddrr::trace {

struct RankEntry {
  int64_t rank = -1;  // from the header, else from the file name
  std::string path;
  std::unique_ptr<RankFileReader> reader;  // null when the file could not be opened
  Status open_status;                      // why not
  std::string spool_path;                  // rank-<r>.spool beside it, if any
};

class Run {
 public:
  // Fails (kNotFound / kInvalidArgument) only when `path` holds no rank file at all.
  static StatusOr<Run> Open(const std::string& path);

  const std::string& path() const { return path_; }
  // Names the run `path` in messages (a view read in place of the run names the run).
  void set_path(const std::string& path) { path_ = path; }
  bool single_file() const { return single_file_; }
  std::vector<RankEntry>& ranks() { return ranks_; }
  const std::vector<RankEntry>& ranks() const { return ranks_; }
  RankEntry* FindRank(int64_t rank);

  // World size from the headers (largest seen), else highest rank + 1.
  uint32_t world_size() const;
  std::vector<uint32_t> MissingRanks() const;
  // Run-level problems: unreadable files, missing ranks, unsalvaged spools, run-id mismatch.
  std::vector<TraceProblem> Problems() const;

 private:
  std::string path_;
  bool single_file_ = false;
  std::vector<RankEntry> ranks_;
};

}  // namespace ddrr::trace
