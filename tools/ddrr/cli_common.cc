#include "cli_common.h"

#include <cstdio>
#include <filesystem>

#ifdef DDRR_HAVE_RECORDER
#include "record/recorder.h"
#endif

namespace ddrr::cli {

int Fail(const std::string& message) {
  fprintf(stderr, "ddrr: error: %s\n", message.c_str());
  return kExitUsage;
}

int Fail(const Status& status) { return Fail(status.message()); }

int SalvageSpools(const std::string& run_path) {
  int salvaged = 0;
#ifdef DDRR_HAVE_RECORDER
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(run_path, ec)) return 0;
  for (const auto& e : fs::directory_iterator(run_path, ec)) {
    if (e.path().extension() != ".spool") continue;
    auto n = record::Salvage(e.path().string());
    if (n.ok()) {
      ++salvaged;
      fprintf(stderr, "ddrr: salvaged %s: %llu events recovered from the spool\n", e.path().c_str(),
              static_cast<unsigned long long>(*n));
    } else {
      fprintf(stderr, "ddrr: note: %s\n", n.status().message().c_str());
    }
  }
#endif
  return salvaged;
}

StatusOr<trace::Run> OpenRun(const std::string& run_path) {
  SalvageSpools(run_path);  // a killed rank's spool becomes a complete rank file first
  return trace::Run::Open(run_path);
}

const char* CaptureLevelName(int level) {
  switch (level) {
    case trace::CAPTURE_METADATA:
      return "metadata";
    case trace::CAPTURE_DIGESTS:
      return "digests";
    case trace::CAPTURE_PAYLOADS:
      return "payloads";
  }
  return "unknown";
}

}  // namespace ddrr::cli
