// Merging the parts of one job recorded on several nodes (ddrr merge, docs/LAUNCHERS.md): each
// node's run directory (or its bundle, extracted) holds the rank files of its own ranks; the
// merged run holds them all, each copied byte for byte under the rank its header names.
//
// The inputs must be parts of one job: one run id (the header's run_id, DDRR_RUN_ID), one world
// size, and a rank found in two inputs must be the same file, byte for byte (copied once).
// Anything else is a conflict: nothing is written.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace ddrr::merge {

struct MergeInput {
  std::string name;  // as the user gave it (a bundle, a run directory), for messages
  std::string path;  // a run directory or one rank file
};

struct RankSource {
  int64_t rank = -1;
  std::string input;  // MergeInput::name
  std::string path;   // the rank file
  uint64_t bytes = 0;
};

struct MergePlan {
  std::string run_id;
  uint32_t world_size = 0;         // 0: no header says
  std::vector<RankSource> ranks;   // one per rank, in rank order
  std::vector<std::string> notes;  // ranks found twice, identical (copied once)
  std::vector<uint32_t> missing;   // ranks of the world no input holds
  // Non-empty: the inputs are not parts of one job (one line saying which files disagree on
  // what); the plan must not be written.
  std::string conflict;
};

// Reads every input's rank headers and lines them up. Errors (kNotFound, kInvalidArgument,
// kCorruption...) for input that cannot be read: a path with no rank file, an unreadable rank
// file, a rank with only a spool (its process still runs). Conflicts are in the plan.
StatusOr<MergePlan> PlanMerge(const std::vector<MergeInput>& inputs);

// Writes the plan's rank files into `out_dir` (created; it must hold no rank file yet), each
// copied through a temporary name and renamed, so a failure leaves no partial rank file.
Status WriteMerge(const MergePlan& plan, const std::string& out_dir);

}  // namespace ddrr::merge
