// PyTorch ProcessGroupNCCL's watchdog messages: the line each rank logs when a collective
// outlives its timeout, in every format PyTorch has printed it:
//   [Rank 3] Watchdog caught collective operation timeout: WorkNCCL(SeqNum=5, OpType=ALLREDUCE,
//       NumelIn=1024, NumelOut=1024, Timeout(ms)=600000) ran for 600081 milliseconds before
//       timing out.
// with the rank prefix absent, "[Rank N]", "[PG 1 Rank N]" or "[PG ID 1 PG GUID 3(desc) Rank N]",
// torchrun's "[rankN]:" in front, and WorkNCCL's fields from the oldest (OpType, Timeout(ms),
// TensorShape) to the newest (SeqNum, OpType, NumelIn, NumelOut, Timeout(ms)). Each rank's
// message names the operation it timed out in: written as that operation of its process group,
// numbered by SeqNum, never completed; what the message lacks stays unknown (docs/IMPORT.md).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace ddrr::import {

struct ImportResult;

// One watchdog message, as ParseWatchdogLine() reads it; -1 / empty where the line has none.
struct WatchdogLine {
  int64_t global_rank = -1;  // torchrun's "[rankN]:"
  int64_t pg_rank = -1;      // "[... Rank N]": the rank in the process group
  std::string pg;            // the group's GUID (its name), else its ID; empty: not named
  std::string pg_desc;       // "default_pg", ...
  int64_t seq = -1;          // SeqNum
  std::string op_type;       // ALLREDUCE, _ALLGATHER_BASE, ...
  int64_t numel_in = -1, numel_out = -1;
  int64_t timeout_ms = -1, ran_ms = -1;
  // The rank in the job: torchrun's, or the group rank of the default group (or of an unnamed
  // one, which old versions only had); -1 when the line does not tell.
  int64_t Rank() const;
  // "watchdog: process group 0 (default_pg) timed out in ALLREDUCE SeqNum 5 ... after 600081 ms"
  std::string Summary() const;
};

// False when `line` holds no watchdog message.
bool ParseWatchdogLine(std::string_view line, WatchdogLine* out);

struct WatchdogOptions {
  uint32_t world_size = 0;  // 0: the highest rank seen + 1
};

Status ImportWatchdog(const std::vector<std::string>& paths, const std::string& out_dir,
                      const WatchdogOptions& options, ImportResult* result);

}  // namespace ddrr::import
