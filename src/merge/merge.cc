#include "merge/merge.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <system_error>

#include "trace/run.h"

namespace ddrr::merge {
namespace fs = std::filesystem;
namespace {

// Whether two files hold the same bytes.
StatusOr<bool> SameBytes(const std::string& a, const std::string& b) {
  std::error_code ea, eb;
  const uintmax_t size_a = fs::file_size(a, ea), size_b = fs::file_size(b, eb);
  if (ea) return Status::FromErrno("stat " + a, ea.value());
  if (eb) return Status::FromErrno("stat " + b, eb.value());
  if (size_a != size_b) return false;
  std::ifstream fa(a, std::ios::binary), fb(b, std::ios::binary);
  if (!fa) return Status::IoError("cannot read " + a);
  if (!fb) return Status::IoError("cannot read " + b);
  std::vector<char> ba(1 << 20), bb(1 << 20);
  while (fa && fb) {
    fa.read(ba.data(), static_cast<std::streamsize>(ba.size()));
    fb.read(bb.data(), static_cast<std::streamsize>(bb.size()));
    if (fa.gcount() != fb.gcount() || !std::equal(ba.begin(), ba.begin() + fa.gcount(), bb.begin()))
      return false;
  }
  return true;
}

// "rank-2.ddrr of node-b.tgz": the input as the user named it (a bundle's files live in a
// temporary folder).
std::string Where(const RankSource& s) {
  return fs::path(s.path).filename().string() + " of " + s.input;
}

}  // namespace

StatusOr<MergePlan> PlanMerge(const std::vector<MergeInput>& inputs) {
  if (inputs.empty()) return Status::InvalidArgument("no run or bundle to merge");
  MergePlan plan;
  std::map<int64_t, RankSource> by_rank;
  // The first rank file that named the run id and the world size, for conflict messages.
  const RankSource* first_id = nullptr;
  const RankSource* first_world = nullptr;
  std::vector<std::unique_ptr<RankSource>> seen;  // stable addresses for the two above
  for (const MergeInput& in : inputs) {
    DDRR_ASSIGN_OR_RETURN(trace::Run run, trace::Run::Open(in.path));
    for (const trace::RankEntry& e : run.ranks()) {
      if (!e.reader) {
        if (e.path.empty())
          return Status::Unavailable(in.name + ": rank " + std::to_string(e.rank) +
                                     " has only a spool (" + e.spool_path +
                                     "): its process still runs; merge once the job has ended");
        return Status::Corruption(fs::path(e.path).filename().string() + " of " + in.name +
                                  " cannot be read (" + e.open_status.message() + "); `ddrr info " +
                                  in.name + "` says more");
      }
      if (e.reader->still_running())
        return Status::Unavailable(in.name + ": rank " + std::to_string(e.rank) +
                                   " is still running; merge once the job has ended");
      auto source = std::make_unique<RankSource>();
      source->rank = e.rank;
      source->input = in.name;
      source->path = e.path;
      std::error_code ec;
      source->bytes = fs::file_size(e.path, ec);
      const std::string& run_id = e.reader->header().run_id();
      const uint32_t world = e.reader->header().world_size();
      if (!first_id) {
        first_id = source.get();
        plan.run_id = run_id;
      } else if (run_id != plan.run_id) {
        plan.conflict = Where(*source) + " is from run '" + run_id + "', " + Where(*first_id) +
                        " from run '" + plan.run_id +
                        "': not one job (give every node's `ddrr record` the same DDRR_RUN_ID)";
        return plan;
      }
      if (world != 0) {
        if (!first_world) {
          first_world = source.get();
          plan.world_size = world;
        } else if (world != plan.world_size) {
          plan.conflict = Where(*source) + " has world size " + std::to_string(world) + ", " +
                          Where(*first_world) + " " + std::to_string(plan.world_size) +
                          ": not one job";
          return plan;
        }
      }
      auto [it, fresh] = by_rank.emplace(e.rank, *source);
      if (!fresh) {
        DDRR_ASSIGN_OR_RETURN(bool same, SameBytes(it->second.path, e.path));
        if (!same) {
          plan.conflict = "rank " + std::to_string(e.rank) + " is in " + Where(it->second) +
                          " and in " + Where(*source) +
                          " with different contents: two recordings of that rank";
          return plan;
        }
        plan.notes.push_back("rank " + std::to_string(e.rank) + " is in " + it->second.input +
                             " and " + in.name + ", identical: copied once");
      }
      seen.push_back(std::move(source));
    }
  }
  for (auto& [rank, source] : by_rank) {
    if (plan.world_size != 0 && rank >= plan.world_size) {
      plan.conflict = Where(source) + " is rank " + std::to_string(rank) +
                      ", outside the world of " + std::to_string(plan.world_size) +
                      " the other rank files name: not one job";
      return plan;
    }
    plan.ranks.push_back(source);
  }
  const int64_t world = plan.world_size != 0 ? plan.world_size : by_rank.rbegin()->first + 1;
  for (int64_t r = 0; r < world; ++r)
    if (!by_rank.count(r)) plan.missing.push_back(static_cast<uint32_t>(r));
  return plan;
}

Status WriteMerge(const MergePlan& plan, const std::string& out_dir) {
  if (!plan.conflict.empty()) return Status::InvalidArgument(plan.conflict);
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec) return Status::FromErrno("cannot create " + out_dir, ec.value());
  for (const auto& de : fs::directory_iterator(out_dir, ec)) {
    const std::string name = de.path().filename().string();
    if (name.rfind("rank-", 0) == 0)
      return Status::InvalidArgument(out_dir + " already holds rank files (" + name +
                                     "); merge into a new directory");
  }
  if (ec) return Status::FromErrno("cannot list " + out_dir, ec.value());
  for (const RankSource& s : plan.ranks) {
    const fs::path final_path = fs::path(out_dir) / ("rank-" + std::to_string(s.rank) + ".ddrr");
    const fs::path temp_path = final_path.string() + ".part";
    fs::copy_file(s.path, temp_path, fs::copy_options::overwrite_existing, ec);
    if (!ec) fs::rename(temp_path, final_path, ec);
    if (ec) {
      fs::remove(temp_path);  // what is left is whole rank files only
      return Status::FromErrno("cannot copy " + s.path + " to " + final_path.string(), ec.value());
    }
  }
  return Status::Ok();
}

}  // namespace ddrr::merge
