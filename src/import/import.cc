#include "import/import.h"

#include "import/flight_recorder.h"
#include "import/nccl_log.h"
#include "import/text_input.h"

namespace ddrr::import {

StatusOr<std::string> DetectFormat(const std::string& path) {
  DDRR_ASSIGN_OR_RETURN(std::string head, ReadHead(path, 64 << 10));
  if (head.empty()) return Status::InvalidArgument(path + " is empty: nothing to import");
  // Flight Recorder dumps: a pickle (PROTO opcode first) or a JSON object with entries.
  if (static_cast<uint8_t>(head[0]) == 0x80) return std::string("fr");
  const size_t first = head.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && head[first] == '{' &&
      (head.find("\"entries\"") != std::string::npos ||
       head.find("\"pg_config\"") != std::string::npos ||
       head.find("\"version\"") != std::string::npos))
    return std::string("fr");
  if (!LooksLikeText(head))
    return Status::InvalidArgument("cannot tell what " + path +
                                   " is (binary data that is not a known dump); pass --format "
                                   "if it is one of the formats ddrr imports");
  if (head.find("NCCL INFO") != std::string::npos || head.find("NCCL WARN") != std::string::npos ||
      head.find(": opCount ") != std::string::npos)
    return std::string("nccl-log");
  return Status::InvalidArgument("cannot tell what " + path +
                                 " is: no NCCL INFO line in its first 64 KiB; pass --format");
}

StatusOr<ImportResult> Import(const ImportOptions& options) {
  if (options.paths.empty()) return Status::InvalidArgument("no input: name the files to import");
  if (options.out_dir.empty())
    return Status::InvalidArgument("no output: name the run directory to write with -o");
  std::string format = options.format;
  if (format == "auto") {
    DDRR_ASSIGN_OR_RETURN(format, DetectFormat(options.paths[0]));
  }
  ImportResult result;
  result.format = format;
  if (format == "nccl-log") {
    NcclLogOptions o;
    o.world_size = options.world_size;
    DDRR_RETURN_IF_ERROR(ImportNcclLogs(options.paths, options.out_dir, o, &result));
    return result;
  }
  if (format == "fr") {
    FlightRecorderOptions o;
    o.world_size = options.world_size;
    DDRR_RETURN_IF_ERROR(ImportFlightRecorder(options.paths, options.out_dir, o, &result));
    return result;
  }
  return Status::InvalidArgument("unknown format '" + format +
                                 "': pass --format auto, fr or nccl-log");
}

}  // namespace ddrr::import
