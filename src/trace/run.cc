#include "trace/run.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

namespace ddrr::trace {
namespace fs = std::filesystem;

namespace {

// rank-<digits>.<ext> -> rank, else -1.
int64_t RankFromName(const std::string& name, const std::string& ext) {
  static const std::regex re(R"(rank-([0-9]{1,9})\.([a-z]+))");
  std::smatch m;
  if (!std::regex_match(name, m, re) || m[2] != ext) return -1;
  return std::stoll(m[1]);
}

}  // namespace

StatusOr<Run> Run::Open(const std::string& path) {
  Run run;
  run.path_ = path;
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (ec || !fs::exists(st))
    return Status::NotFound(path +
                            ": no such file or directory; pass a run directory (ddrr "
                            "record -o DIR) or a rank-N.ddrr file");
  if (fs::is_directory(st)) {
    std::map<int64_t, std::string> files, spools;
    for (const auto& de : fs::directory_iterator(path, ec)) {
      const std::string name = de.path().filename().string();
      if (int64_t r = RankFromName(name, "ddrr"); r >= 0) files[r] = de.path().string();
      if (int64_t r = RankFromName(name, "spool"); r >= 0) spools[r] = de.path().string();
    }
    if (ec) return Status::FromErrno("list " + path, ec.value());
    if (files.empty() && spools.empty())
      return Status::NotFound(path +
                              ": no rank-N.ddrr files here; is this a ddrr run "
                              "directory?");
    std::set<int64_t> all;
    for (auto& [r, _] : files) all.insert(r);
    for (auto& [r, _] : spools) all.insert(r);
    for (int64_t r : all) {
      RankEntry e;
      e.rank = r;
      if (auto it = spools.find(r); it != spools.end()) e.spool_path = it->second;
      if (auto it = files.find(r); it != files.end()) {
        e.path = it->second;
        auto reader = RankFileReader::Open(e.path);
        if (reader.ok()) {
          e.reader = std::move(reader).value();
          e.rank = e.reader->header().rank();
        } else {
          e.open_status = reader.status();
        }
      } else {
        e.open_status = Status::NotFound("rank " + std::to_string(r) + " has only a spool (" +
                                         e.spool_path + ")");
      }
      run.ranks_.push_back(std::move(e));
    }
  } else {
    run.single_file_ = true;
    RankEntry e;
    e.path = path;
    DDRR_ASSIGN_OR_RETURN(e.reader, RankFileReader::Open(path));
    e.rank = e.reader->header().rank();
    run.ranks_.push_back(std::move(e));
  }
  std::stable_sort(run.ranks_.begin(), run.ranks_.end(),
                   [](const RankEntry& a, const RankEntry& b) { return a.rank < b.rank; });
  return run;
}

RankEntry* Run::FindRank(int64_t rank) {
  for (auto& e : ranks_)
    if (e.rank == rank) return &e;
  return nullptr;
}

uint32_t Run::world_size() const {
  uint32_t ws = 0;
  int64_t max_rank = -1;
  for (const auto& e : ranks_) {
    if (e.reader) ws = std::max(ws, e.reader->header().world_size());
    max_rank = std::max(max_rank, e.rank);
  }
  return std::max<uint32_t>(ws, static_cast<uint32_t>(max_rank + 1));
}

std::vector<uint32_t> Run::MissingRanks() const {
  if (single_file_) return {};
  std::set<int64_t> present;
  for (const auto& e : ranks_) present.insert(e.rank);
  std::vector<uint32_t> missing;
  for (uint32_t r = 0; r < world_size(); ++r)
    if (!present.count(r)) missing.push_back(r);
  return missing;
}

std::vector<TraceProblem> Run::Problems() const {
  std::vector<TraceProblem> out;
  for (const auto& e : ranks_) {
    if (!e.reader) {
      out.push_back({"", 0, e.open_status.message()});
    } else if (!e.spool_path.empty()) {
      out.push_back({e.spool_path, 0,
                     "spool of a rank that has not finished (its process is alive, or it could "
                     "not be salvaged): its latest events are not read; `ddrr seal` once it "
                     "ends"});
    }
  }
  for (uint32_t r : MissingRanks())
    out.push_back(
        {path_, 0,
         "rank " + std::to_string(r) + " of " + std::to_string(world_size()) + ": no rank file"});
  std::set<std::string> run_ids;
  for (const auto& e : ranks_)
    if (e.reader && !e.reader->header().run_id().empty())
      run_ids.insert(e.reader->header().run_id());
  if (run_ids.size() > 1)
    out.push_back({path_, 0,
                   "rank files come from " + std::to_string(run_ids.size()) +
                       " different runs (run_id differs)"});
  return out;
}

}  // namespace ddrr::trace
