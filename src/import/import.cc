#include "import/import.h"

#include "import/flight_recorder.h"
#include "import/nccl_log.h"
#include "import/text_input.h"
#include "import/watchdog.h"

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
  // A log with NCCL lines is an NCCL log (its watchdog messages are read along); one with only
  // watchdog messages is read for those. A training log may print them only at its end: the
  // rest of the file is searched when its head has neither.
  auto kind = [](std::string_view text) -> const char* {
    if (text.find("NCCL INFO") != std::string_view::npos ||
        text.find("NCCL WARN") != std::string_view::npos ||
        text.find(": opCount ") != std::string_view::npos)
      return "nccl-log";
    if (text.find("Watchdog caught collective operation timeout") != std::string_view::npos)
      return "watchdog";
    return nullptr;
  };
  if (const char* k = kind(head)) return std::string(k);
  DDRR_ASSIGN_OR_RETURN(LineReader reader, LineReader::Open(path));
  std::string_view line;
  while (reader.Next(&line))
    if (const char* k = kind(line)) return std::string(k);
  DDRR_RETURN_IF_ERROR(reader.status());
  return Status::InvalidArgument("cannot tell what " + path +
                                 " is: no NCCL INFO line or watchdog message in it; pass --format");
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
  if (format == "watchdog") {
    WatchdogOptions o;
    o.world_size = options.world_size;
    DDRR_RETURN_IF_ERROR(ImportWatchdog(options.paths, options.out_dir, o, &result));
    return result;
  }
  return Status::InvalidArgument("unknown format '" + format +
                                 "': pass --format auto, fr, nccl-log or watchdog");
}

}  // namespace ddrr::import
