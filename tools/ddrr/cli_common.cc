#include "cli_common.h"

#include <cstdio>
#include <filesystem>

#ifdef DDRR_HAVE_RECORDER
#include "record/recorder.h"
#endif
#ifdef DDRR_HAVE_BUNDLE
#include "bundle/bundle.h"
#endif

namespace ddrr::cli {

int Fail(const std::string& message) {
  fprintf(stderr, "ddrr: error: %s\n", message.c_str());
  return kExitUsage;
}

int Fail(const Status& status) { return Fail(status.message()); }

int SalvageSpools(const std::string& run_path) {
#ifdef DDRR_HAVE_RECORDER
  return record::SalvageRun(run_path, [](const std::string& spool, const StatusOr<uint64_t>& n) {
    if (n.ok())
      fprintf(stderr, "ddrr: salvaged %s: %llu events recovered from the spool\n", spool.c_str(),
              static_cast<unsigned long long>(n.value()));
    else
      fprintf(stderr, "ddrr: note: %s\n", n.status().message().c_str());
  });
#else
  return 0;
#endif
}

StatusOr<std::string> RunDirectory(const std::string& run_path) {
#ifdef DDRR_HAVE_BUNDLE
  // A bundle is read from a private copy, removed when the command exits.
  if (bundle::LooksLikeArchive(run_path)) {
    static std::vector<std::unique_ptr<bundle::ExtractedBundle>> opened;
    auto b = bundle::ExtractedBundle::Open(run_path);
    if (!b.ok()) return b.status();
    opened.push_back(std::move(*b));
    return opened.back()->run_dir();
  }
#endif
  SalvageSpools(run_path);  // a killed rank's spool becomes a complete rank file first
  return run_path;
}

StatusOr<trace::Run> OpenRun(const std::string& run_path) {
  auto dir = RunDirectory(run_path);
  if (!dir.ok()) return dir.status();
  return trace::Run::Open(*dir);
}

int RequireReadable(const trace::Run& run, const std::string& run_path) {
  for (const auto& e : run.ranks())
    if (e.reader) return kExitOk;
  for (const auto& p : run.Problems()) fprintf(stderr, "ddrr: note: %s\n", p.ToString().c_str());
  return Fail("no readable rank file in " + run_path + ", record a run with `ddrr record`");
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
