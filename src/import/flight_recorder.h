// PyTorch Flight Recorder dumps (ProcessGroupNCCL's ring of recent collectives, one file per
// rank: TORCH_FR_DUMP_TEMP_FILE<rank> / nccl_trace_rank_<r>), pickle or JSON, format versions
// 2.2 to 2.10, written as a ddrr run. Pickles are read by the restricted reader (pickle.h):
// plain data only, nothing executed.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"
#include "import/value.h"

namespace ddrr::import {

struct ImportResult;

struct FlightRecorderOptions {
  uint32_t world_size = 0;  // 0: the largest process group's size, else the number of files
};

// The entry keys a dump of the newest format has; a note lists the ones a dump lacks.
extern const char* const kFlightRecorderEntryKeys[];

// Reads a dump from `bytes` (pickle when it starts with the PROTO opcode, else JSON).
StatusOr<ValuePtr> ReadFlightRecorderDump(const std::string& bytes, const std::string& path);

Status ImportFlightRecorder(const std::vector<std::string>& paths, const std::string& out_dir,
                            const FlightRecorderOptions& options, ImportResult* result);

}  // namespace ddrr::import
