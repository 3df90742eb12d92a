// ddrr import: turns what a job left without ddrr (NCCL debug logs, PyTorch Flight Recorder
// dumps, ProcessGroupNCCL watchdog messages) into a run directory that `ddrr check`, `info`,
// `dump` and `export` read like a recorded one. docs/IMPORT.md describes the formats and what
// each leaves unknown.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace ddrr::import {

struct ImportOptions {
  std::vector<std::string> paths;
  std::string out_dir;
  std::string format = "auto";  // auto, fr, nccl-log, watchdog
  uint32_t world_size = 0;      // 0: from the input
};

struct ImportResult {
  std::string format;  // the format read
  uint32_t ranks = 0;  // rank files written
  uint32_t world_size = 0;
  uint64_t lines = 0;              // input lines read (text formats)
  uint64_t entries = 0;            // calls or entries taken from the input
  uint64_t events = 0;             // events written
  std::vector<std::string> notes;  // what was guessed, skipped or missing
};

// "nccl-log", "fr" or "watchdog" for the file at `path`, from its first 64 KiB (a text file
// whose head shows neither NCCL lines nor a watchdog message is searched to its end).
StatusOr<std::string> DetectFormat(const std::string& path);

StatusOr<ImportResult> Import(const ImportOptions& options);

// For the importers: the world size, at least `world` and above the highest rank in `seen` (a
// map keyed by rank), with a note "rank R has no <missing>" for each rank below it not in `seen`.
template <typename RankMap>
uint32_t WorldWithMissingRanksNoted(const RankMap& seen, uint32_t world, const std::string& missing,
                                    ImportResult* result) {
  world = std::max<uint32_t>(world, static_cast<uint32_t>(seen.rbegin()->first + 1));
  for (uint32_t r = 0; r < world; ++r)
    if (!seen.count(r)) result->notes.push_back("rank " + std::to_string(r) + " has no " + missing);
  return world;
}

}  // namespace ddrr::import
