// Bug-report bundles (ddrr bundle, docs/BUNDLES.md): one .tgz or .zip that GitHub accepts as an
// attachment, holding a folder with the run's rank files (headers redacted, payloads left out
// unless asked for), report.md, the Perfetto timeline and manifest.json (every file's size and
// SHA-256, versions, what was redacted or left out). Reading one back: ExtractedBundle.
#pragma once

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "bundle/archive.h"
#include "bundle/rank_copy.h"
#include "common/status.h"
#include "trace/run.h"

namespace ddrr::bundle {

struct BundleOptions {
  std::string out_path;  // .tgz, .tar.gz or .zip
  RedactOptions redact;
  bool with_payloads = false;
  bool timeline = true;
  std::vector<int64_t> ranks;  // only these rank files; empty: all
  bool has_steps = false;      // only the events of `steps` (CopyRankFileSteps)
  StepWindow steps;
  std::string ddrr_version;  // written into the manifest
  std::string temp_dir;      // for staging; empty: $TMPDIR, else /tmp
};

struct BundleFile {
  std::string name;  // relative to the bundle's folder
  uint64_t bytes = 0;
  std::string sha256;  // hex
};

struct BundleSummary {
  uint64_t archive_bytes = 0;
  std::vector<BundleFile> files;
  size_t rank_files = 0;
  std::set<std::string> redacted_env;
  uint64_t payload_frames_dropped = 0;
  uint64_t payload_bytes_dropped = 0;
  uint64_t events_kept = 0, events_cut = 0;  // with steps
  std::vector<std::string> left_out;         // rank files that could not be read, with why
};

// GitHub's limit for a non-media attachment.
inline constexpr uint64_t kAttachmentLimitBytes = 25'000'000;

// Writes the bundle of `run` (spools already salvaged). Refuses a run with a live rank.
StatusOr<BundleSummary> CreateBundle(const trace::Run& run, const BundleOptions& options);

// The SHA-256 of a file's bytes, as 64 hex digits.
StatusOr<std::string> Sha256OfFile(const std::string& path);

// A bundle extracted into a private temporary folder, removed when this object goes.
class ExtractedBundle {
 public:
  // Extracts `archive` safely (archive.h) and finds the run in it: the `run` folder beside
  // manifest.json, else the first folder holding rank-<r>.ddrr files.
  static StatusOr<std::unique_ptr<ExtractedBundle>> Open(const std::string& archive,
                                                         const std::string& temp_dir = "");
  ~ExtractedBundle();
  const std::string& run_dir() const { return run_dir_; }

 private:
  std::string root_;
  std::string run_dir_;
};

}  // namespace ddrr::bundle
