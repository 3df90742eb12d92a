#include "bundle/bundle.h"

#include <nettle/sha2.h>
#include <stdlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "analysis/check.h"
#include "analysis/run_model.h"
#include "common/hex.h"
#include "export/timeline.h"
#include "report/markdown_report.h"
#include "trace/event_printer.h"

namespace ddrr::bundle {
namespace {

namespace fs = std::filesystem;
using trace::EventPrinter;

std::string TempBase(const std::string& temp_dir) {
  if (!temp_dir.empty()) return temp_dir;
  const char* t = getenv("TMPDIR");
  return t && *t ? t : "/tmp";
}

StatusOr<std::string> MakeTempDir(const std::string& temp_dir, const char* prefix) {
  std::string templ = TempBase(temp_dir) + "/" + prefix + "XXXXXX";
  if (!mkdtemp(templ.data()))
    return Status::FromErrno("cannot create a temporary folder in " + TempBase(temp_dir) +
                                 " (set TMPDIR to a writable folder)",
                             errno);
  return templ;
}

// Removes a folder and what it holds when it goes out of scope.
struct TempDir {
  std::string path;
  ~TempDir() {
    std::error_code ec;
    if (!path.empty()) fs::remove_all(path, ec);
  }
};

// "bug" for bug.tgz, bug.tar.gz or bug.zip.
std::string Stem(const std::string& out_path) {
  std::string name = fs::path(out_path).filename().string();
  for (const char* ext : {".tar.gz", ".tgz", ".zip"}) {
    const std::string e(ext);
    if (name.size() > e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0)
      return name.substr(0, name.size() - e.size());
  }
  return name.empty() ? "ddrr-bundle" : name;
}

Status WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  out << text;
  out.close();
  if (!out) return Status::IoError("cannot write " + path);
  return Status::Ok();
}

std::string Manifest(const trace::Run& staged, const BundleOptions& o, const BundleSummary& s,
                     const std::vector<int64_t>& ranks) {
  const trace::Header* h = nullptr;
  for (const auto& e : staged.ranks())
    if (e.reader && (!h || e.reader->header().rank() == 0)) h = &e.reader->header();
  std::string j = "{\n  \"bundle_format\": 1,\n  \"ddrr_version\": " +
                  EventPrinter::JsonString(o.ddrr_version) +
                  ",\n  \"trace_format_version\": " + std::to_string(trace::kFormatVersion) +
                  ",\n  \"created_unix\": " + std::to_string(time(nullptr)) +
                  ",\n  \"run_id\": " + EventPrinter::JsonString(h ? h->run_id() : "") +
                  ",\n  \"world_size\": " + std::to_string(staged.world_size()) +
                  ",\n  \"ranks\": [";
  for (size_t i = 0; i < ranks.size(); ++i) {
    if (i) j += ',';
    j += std::to_string(ranks[i]);
  }
  j += "],\n  \"redacted\": {\"env\": [";
  size_t n = 0;
  for (const std::string& name : s.redacted_env)
    j += (n++ ? ", " : "") + EventPrinter::JsonString(name);
  j += std::string("], \"env_rule\": ") +
       EventPrinter::JsonString(
           "names containing TOKEN, SECRET, KEY, PASSWORD, PASSWD, CREDENTIAL, AUTH, PRIVATE or "
           "BEARER") +
       ", \"hosts\": " + (o.redact.hosts ? "true" : "false") +
       ", \"paths\": " + (o.redact.paths ? "true" : "false") +
       ", \"cmdline\": " + (o.redact.cmdline ? "true" : "false") + "},\n";
  j += std::string("  \"payloads\": {\"included\": ") + (o.with_payloads ? "true" : "false") +
       ", \"frames_left_out\": " + std::to_string(s.payload_frames_dropped) +
       ", \"bytes_left_out\": " + std::to_string(s.payload_bytes_dropped) + "},\n";
  if (o.has_steps)
    j += "  \"steps\": {\"first\": " + std::to_string(o.steps.first) +
         ", \"last\": " + std::to_string(o.steps.last) +
         ", \"events_kept\": " + std::to_string(s.events_kept) +
         ", \"events_cut\": " + std::to_string(s.events_cut) + ", \"kept\": " +
         EventPrinter::JsonString(
             "the steps' events (a step runs from its mark to the next); everything before the "
             "first mark; communicator creation and destruction outside the window; completions, "
             "digests and payloads of kept calls; thread names") +
         "},\n";
  j += "  \"left_out\": [";
  for (size_t i = 0; i < s.left_out.size(); ++i)
    j += (i ? ", " : "") + EventPrinter::JsonString(s.left_out[i]);
  j += "],\n  \"files\": [\n";
  for (size_t i = 0; i < s.files.size(); ++i)
    j += "    {\"name\": " + EventPrinter::JsonString(s.files[i].name) +
         ", \"bytes\": " + std::to_string(s.files[i].bytes) +
         ", \"sha256\": " + EventPrinter::JsonString(s.files[i].sha256) + "}" +
         (i + 1 < s.files.size() ? ",\n" : "\n");
  return j + "  ]\n}\n";
}

}  // namespace

StatusOr<std::string> Sha256OfFile(const std::string& path) {
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return Status::FromErrno("cannot read " + path, errno);
  sha256_ctx ctx;
  sha256_init(&ctx);
  std::vector<uint8_t> buf(1 << 20);
  size_t n;
  while ((n = std::fread(buf.data(), 1, buf.size(), f)) > 0) sha256_update(&ctx, n, buf.data());
  const bool failed = std::ferror(f);
  std::fclose(f);
  if (failed) return Status::IoError("cannot read " + path);
  uint8_t digest[SHA256_DIGEST_SIZE];
  sha256_digest(&ctx, SHA256_DIGEST_SIZE, digest);
  return HexBytes(std::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

StatusOr<BundleSummary> CreateBundle(const trace::Run& run, const BundleOptions& o) {
  ArchiveFormat format;
  if (!ArchiveFormatOf(o.out_path, &format))
    return Status::InvalidArgument(o.out_path +
                                   ": GitHub takes .tgz, .tar.gz or .zip attachments; name the "
                                   "bundle with one of these endings");
  // A bundle is what a job left: a rank still running has not left it yet.
  if (const std::string running = analysis::StillRunning(run); !running.empty())
    return Status::InvalidArgument(running +
                                   "; bundle the run once the job has ended or is killed (`ddrr "
                                   "report " +
                                   run.path() + "` describes it now)");
  std::vector<const trace::RankEntry*> chosen;
  for (const auto& e : run.ranks())
    if (o.ranks.empty() || std::count(o.ranks.begin(), o.ranks.end(), e.rank)) chosen.push_back(&e);
  for (int64_t r : o.ranks)
    if (std::none_of(chosen.begin(), chosen.end(),
                     [&](const trace::RankEntry* e) { return e->rank == r; }))
      return Status::InvalidArgument("no rank file for rank " + std::to_string(r) + " in " +
                                     run.path() + "; `ddrr info` lists the ranks");

  DDRR_ASSIGN_OR_RETURN(std::string stage_path, MakeTempDir(o.temp_dir, "ddrr-bundle-"));
  TempDir stage{stage_path};
  const std::string name = Stem(o.out_path);
  const std::string folder = stage.path + "/" + name;
  std::error_code ec;
  fs::create_directories(folder + "/run", ec);
  if (ec) return Status::IoError("cannot create " + folder + "/run: " + ec.message());

  BundleSummary s;
  report::Pseudonyms names;
  std::vector<std::string> members;  // relative to `folder`
  std::vector<int64_t> ranks;
  uint64_t window_marks = 0;
  for (const trace::RankEntry* e : chosen) {
    const std::string rel = "run/" + fs::path(e->path).filename().string();
    if (!e->reader) {
      s.left_out.push_back(rel + ": " + e->open_status.message());
      continue;
    }
    auto copied = o.has_steps
                      ? CopyRankFileSteps(e->path, folder + "/" + rel, o.redact, o.with_payloads,
                                          names, o.steps)
                      : CopyRankFile(e->path, folder + "/" + rel, o.redact, o.with_payloads, names);
    if (!copied.ok()) {
      s.left_out.push_back(rel + ": " + copied.status().message());
      continue;
    }
    s.redacted_env.insert(copied->redacted_env.begin(), copied->redacted_env.end());
    s.payload_frames_dropped += copied->payload_frames_dropped;
    s.payload_bytes_dropped += copied->payload_bytes_dropped;
    s.events_kept += copied->events_kept;
    s.events_cut += copied->events_cut;
    window_marks += copied->window_marks;
    members.push_back(rel);
    ranks.push_back(e->rank);
    ++s.rank_files;
  }
  if (members.empty())
    return Status::InvalidArgument("no readable rank file to bundle in " + run.path());
  if (o.has_steps && window_marks == 0)
    return Status::InvalidArgument("no rank marked a step in " + std::to_string(o.steps.first) +
                                   "-" + std::to_string(o.steps.last) +
                                   " (ddrr_mark); `ddrr dump` shows the marks recorded");

  // The report and the timeline are made from the copies: they show what the bundle holds,
  // redacted as it is.
  DDRR_ASSIGN_OR_RETURN(trace::Run staged, trace::Run::Open(folder + "/run"));
  DDRR_ASSIGN_OR_RETURN(std::unique_ptr<analysis::RunModel> model,
                        analysis::ModelRun(staged, TempBase(o.temp_dir)));
  analysis::CheckOptions check_options;
  check_options.temp_dir = TempBase(o.temp_dir);
  DDRR_ASSIGN_OR_RETURN(analysis::CheckResult checked, analysis::CheckModel(*model, check_options));
  report::ReportOptions ro;
  ro.run_name = fs::path(o.out_path).filename().string();
  DDRR_RETURN_IF_ERROR(
      WriteText(folder + "/report.md", report::MarkdownReport(staged, *model, checked, ro)));
  members.push_back("report.md");
  if (o.timeline) {
    const std::string path = folder + "/timeline.perfetto-trace";
    std::FILE* out = std::fopen(path.c_str(), "wb");
    if (!out) return Status::FromErrno("cannot write " + path, errno);
    auto sink = timeline::MakePerfettoSink(out);
    auto written = timeline::WriteTimeline(staged, *model, checked.findings, *sink);
    const bool closed = std::fclose(out) == 0;
    if (!written.ok()) return written.status();
    if (!closed) return Status::IoError("cannot write " + path);
    members.push_back("timeline.perfetto-trace");
  }
  for (const std::string& rel : members) {
    DDRR_ASSIGN_OR_RETURN(std::string sha, Sha256OfFile(folder + "/" + rel));
    s.files.push_back({rel, static_cast<uint64_t>(fs::file_size(folder + "/" + rel, ec)), sha});
  }
  DDRR_RETURN_IF_ERROR(WriteText(folder + "/manifest.json", Manifest(staged, o, s, ranks)));
  members.push_back("manifest.json");

  std::vector<ArchiveMember> archive_members;
  for (const std::string& rel : members)
    archive_members.push_back({name + "/" + rel, folder + "/" + rel});
  // Written beside the destination and renamed into place: a failed write leaves no half file.
  const std::string partial = o.out_path + ".partial";
  Status written = WriteArchive(partial, format, archive_members);
  if (!written.ok()) {
    fs::remove(partial, ec);
    return written;
  }
  fs::rename(partial, o.out_path, ec);
  if (ec) {
    fs::remove(partial, ec);
    return Status::IoError("cannot write " + o.out_path + ": " + ec.message());
  }
  s.archive_bytes = fs::file_size(o.out_path, ec);
  return s;
}

StatusOr<std::unique_ptr<ExtractedBundle>> ExtractedBundle::Open(const std::string& archive,
                                                                 const std::string& temp_dir) {
  DDRR_ASSIGN_OR_RETURN(std::string root, MakeTempDir(temp_dir, "ddrr-open-"));
  std::unique_ptr<ExtractedBundle> b(new ExtractedBundle());
  b->root_ = root;
  DDRR_RETURN_IF_ERROR(SafeExtract(archive, root + "/x"));
  // The run folder: `run` beside manifest.json, else the first folder with rank files.
  std::string with_ranks;
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(root + "/x", ec);
       it != fs::recursive_directory_iterator(); it.increment(ec)) {
    if (ec) break;
    if (it.depth() > 3) {
      it.disable_recursion_pending();
      continue;
    }
    const fs::path p = it->path();
    if (p.filename() == "manifest.json" && fs::is_directory(p.parent_path() / "run")) {
      b->run_dir_ = (p.parent_path() / "run").string();
      break;
    }
    const std::string f = p.filename().string();
    if (with_ranks.empty() && f.rfind("rank-", 0) == 0 && p.extension() == ".ddrr")
      with_ranks = p.parent_path().string();
  }
  if (b->run_dir_.empty()) b->run_dir_ = with_ranks;
  if (b->run_dir_.empty())
    return Status::InvalidArgument(archive +
                                   " holds no rank files (rank-<r>.ddrr); make a bundle with "
                                   "`ddrr bundle RUN -o FILE.tgz`");
  return b;
}

ExtractedBundle::~ExtractedBundle() {
  std::error_code ec;
  if (!root_.empty()) fs::remove_all(root_, ec);
}

}  // namespace ddrr::bundle
