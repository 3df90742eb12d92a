#include "replay/session.h"

#include <stdlib.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "analysis/check.h"
#include "analysis/op_record.h"
#include "analysis/run_model.h"
#include "common/params.h"
#include "launch/device_probe.h"
#include "launch/installed.h"
#include "launch/launcher.h"
#include "launch/recorder_env.h"
#include "record/salvage.h"
#include "replay/monitor.h"
#include "replay/placement.h"
#include "replay/progress.h"
#include "spec/api_table.h"
#include "trace/run.h"

namespace ddrr::replay {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

// After the last move, how much longer than the timeout a replay may sit still: the ranks' own
// timeouts (emu's wait for peers, the rendezvous) fire first and say where they hung.
constexpr double kStopMarginSeconds = 3;

ReplayOutcome Failed(ReplayFailure f, std::string message) {
  ReplayOutcome o;
  o.failure = f;
  o.message = std::move(message);
  return o;
}

std::vector<std::string> Split(const std::string& line) {
  std::vector<std::string> words;
  std::istringstream in(line);
  for (std::string w; in >> w;) words.push_back(w);
  return words;
}

RankLog ReadLog(const std::string& path, int64_t rank) {
  RankLog log;
  log.rank = rank;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    const size_t space = line.find(' ');
    const std::string kind = line.substr(0, space);
    const std::string rest = space == std::string::npos ? "" : line.substr(space + 1);
    if (kind == "mismatch") log.mismatches.push_back(rest);
    if (kind == "unresolved") log.unresolved.push_back(rest);
    if (kind == "skipped") log.skipped.push_back(rest);
    if (kind == "error") log.errors.push_back(rest);
    if (kind == "summary") {
      log.summarized = true;
      for (const std::string& w : Split(rest)) {
        const size_t eq = w.find('=');
        if (eq == std::string::npos) continue;
        const uint64_t v = strtoull(w.c_str() + eq + 1, nullptr, 10);
        const std::string k = w.substr(0, eq);
        if (k == "checked") log.checked = v;
        if (k == "unchecked") log.unchecked = v;
        if (k == "wrong") log.wrong = v;
      }
    }
  }
  return log;
}

}  // namespace

bool ReplayReport::data_wrong() const {
  for (const RankLog& l : logs)
    if (l.wrong || !l.mismatches.empty()) return true;
  return false;
}

bool ReplayReport::reproduced() const {
  bool unresolved = false;
  for (const RankLog& l : logs) unresolved |= !l.unresolved.empty() || !l.errors.empty();
  return verdict.reproduced && !data_wrong() && !unresolved;
}

ReplayOutcome RunReplay(const ReplayOptions& o) {
  auto run = trace::Run::Open(o.run);
  if (!run.ok()) return Failed(ReplayFailure::kInput, run.status().message());
  for (const trace::TraceProblem& p : run->Problems())
    if (p.message.find("newer") != std::string::npos)
      return Failed(ReplayFailure::kInput, p.ToString());
  if (Status st = RequireEnded(*run); !st.ok()) return Failed(ReplayFailure::kInput, st.message());
  bool readable = false;
  for (const auto& e : run->ranks()) readable |= e.reader != nullptr;
  if (!readable) {
    std::string why;
    for (const auto& e : run->ranks())
      if (!e.reader && why.empty()) why = e.path + ": " + e.open_status.message();
    return Failed(ReplayFailure::kInput,
                  why.empty() ? "no readable rank file in " + o.run
                              : "no readable rank file in " + o.run + " (" + why + ")");
  }
  WindowPoint from, until;
  if (!o.from.empty()) {
    auto w = ParseWindowPoint(o.from);
    if (!w.ok()) return Failed(ReplayFailure::kInput, "--from " + w.status().message());
    from = *w;
  }
  if (!o.until.empty()) {
    auto w = ParseWindowPoint(o.until);
    if (!w.ok()) return Failed(ReplayFailure::kInput, "--until " + w.status().message());
    until = *w;
  }

  // Calls in flight when the recording was killed have no arguments to re-issue: the replay,
  // and the check it is judged by, stand on the calls that returned.
  auto recorded_model = analysis::ModelRun(*run, "", /*calls_in_flight=*/false);
  if (!recorded_model.ok()) return Failed(ReplayFailure::kInput, recorded_model.status().message());
  auto recorded_check = analysis::CheckModel(**recorded_model);
  if (!recorded_check.ok()) return Failed(ReplayFailure::kInput, recorded_check.status().message());

  // Where the ranks run.
  const char* argv0 = o.argv0;
  launch::LaunchOptions lo;
  auto placed = PlaceRanks(o.host, o.ranks_per_gpu, argv0, &lo);
  if (!placed.ok()) return Failed(ReplayFailure::kPlacement, placed.status().message());
  const std::string placement = *placed;
  auto driver = launch::FindReplayDriver(argv0);
  if (!driver.ok()) return Failed(ReplayFailure::kInput, driver.status().message());
  auto recorder = launch::FindRecorderLibrary(argv0);
  if (!recorder.ok()) return Failed(ReplayFailure::kInput, recorder.status().message());

  const ScratchDir scratch("ddrr-replay-work-");
  const std::string& work = scratch.path();
  if (work.empty()) return Failed(ReplayFailure::kInput, "cannot create a temporary directory");

  PlanOptions po;
  po.ranks = o.ranks;
  po.from = from;
  po.until = until;
  po.data = o.data;
  po.pace_recorded = o.pace_recorded;
  po.timeout_seconds = o.timeout_seconds;
  po.exact_reductions = o.host || o.ranks_per_gpu > 0;
  po.work_dir = work;
  auto planned = BuildPlan(*run, **recorded_model, recorded_check->findings, po);
  if (!planned.ok()) return Failed(ReplayFailure::kInput, planned.status().message());
  const ReplayPlan& plan = planned->plan;

  // Placement: the devices the ranks use together, against what the runtime offers.
  {
    const char* host_devices = getenv(param::Name(param::kHostDevices));
    if (o.host && (host_devices == nullptr || *host_devices == '\0')) {
      // The host runtime shows as many devices as it is told to (unless the user said).
      const std::string n = std::to_string(std::max(planned->devices, 8));
      lo.extra_env.emplace_back(param::Name(param::kHostDevices), n);
      setenv(param::Name(param::kHostDevices), n.c_str(), 1);
    }
    const std::string cudart = o.host ? lo.hostrt_dir + "/libcudart.so.13" : "libcudart.so.13";
    auto count = launch::ProbeDeviceCount(cudart);
    if (!count.ok())
      return Failed(ReplayFailure::kPlacement,
                    o.host ? count.status().message()
                           : count.status().message() + "; without a GPU, replay with --host");
    const int per_device = std::max(o.ranks_per_gpu, 1);
    if (planned->devices > *count * per_device)
      return Failed(ReplayFailure::kPlacement,
                    "the replay needs " + std::to_string(planned->devices) +
                        " devices (one per device the recording used), but " +
                        std::to_string(*count) + " are visible at " + std::to_string(per_device) +
                        " rank(s) each; share them with --ranks-per-gpu K, replay fewer ranks "
                        "with --ranks, or replay with --host");
  }

  // The replay's own run directory.
  ReplayReport report;
  report.placement = placement;
  report.notes = planned->notes;
  report.damage = planned->damage;
  auto output_dir = ReplayOutputDir(o.output);
  if (!output_dir.ok()) return Failed(ReplayFailure::kInput, output_dir.status().message());
  report.output = *output_dir;

  const std::string plan_path = work + "/plan";
  {
    std::ofstream out(plan_path, std::ios::binary);
    if (!out || !plan.SerializeToOstream(&out))
      return Failed(ReplayFailure::kInput, "cannot write " + plan_path);
  }
  auto table = ProgressTable::Create(work + "/progress", plan.ranks_size());
  if (!table.ok()) return Failed(ReplayFailure::kInput, table.status().message());

  lo.nranks = plan.ranks_size();
  for (const RankPlan& rp : plan.ranks()) lo.rank_ids.push_back(static_cast<int>(rp.rank()));
  lo.world_size = std::max<int>(static_cast<int>(run->world_size()),
                                static_cast<int>(plan.ranks(plan.ranks_size() - 1).rank()) + 1);
  lo.argv = {*driver, plan_path};
  lo.grace_seconds = 1e9;  // a rank that exits with an error does not stop the others: the
                           // replay stops when nothing moves, as the recording did
  for (auto& setting :
       launch::RecorderEnv(*recorder, report.output, "metadata", launch::RunId::kFresh))
    lo.extra_env.push_back(std::move(setting));
  lo.extra_env.emplace_back(param::Name(param::kDisable),
                            "0");  // the verdict needs the replay's own trace
  lo.extra_env.emplace_back(param::Name(param::kKernels), "count");
  lo.extra_env.emplace_back(param::Name(param::kReplayOf),
                            plan.run_id().empty() ? "unknown" : plan.run_id());
  char timeout[32];
  snprintf(timeout, sizeof(timeout), "%g", o.timeout_seconds);
  lo.extra_env.emplace_back(param::Name(param::kEmuTimeout), timeout);

  Monitor monitor(*table, o.timeout_seconds + kStopMarginSeconds, o.progress_line);
  lo.should_stop = [&] { return monitor.ShouldStop(); };
  const auto t0 = Clock::now();
  auto launched = launch::RunRanks(lo);
  report.replay_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  monitor.EndLine();
  if (!launched.ok()) return Failed(ReplayFailure::kInput, launched.status().message());
  report.stopped = monitor.stopped();
  if (report.stopped) monitor.Snapshot(&report.snapshot);
  report.hang = monitor.still();
  for (const RankSnapshot& s : report.snapshot) report.hang |= s.waiting;
  report.replayed_calls = monitor.calls_done();
  report.recorded_seconds = RecordedSeconds(**recorded_model);
  for (const RankPlan& rp : plan.ranks())
    report.logs.push_back(ReadLog(work + "/rank-" + std::to_string(rp.rank()) + ".log", rp.rank()));

  // The replay's own trace, read like any run.
  record::SalvageRun(report.output, [](const std::string&, const StatusOr<uint64_t>&) {});
  auto replay = trace::Run::Open(report.output);
  if (!replay.ok())
    return Failed(ReplayFailure::kInput, "the replay recorded nothing in " + report.output + ": " +
                                             replay.status().message());
  auto replay_model = analysis::ModelRun(*replay, "", /*calls_in_flight=*/false);
  if (!replay_model.ok()) return Failed(ReplayFailure::kInput, replay_model.status().message());
  auto replay_check = analysis::CheckModel(**replay_model);
  if (!replay_check.ok()) return Failed(ReplayFailure::kInput, replay_check.status().message());
  auto verdict = Judge(*run, **recorded_model, recorded_check->findings, *replay, **replay_model,
                       replay_check->findings, plan);
  if (!verdict.ok()) return Failed(ReplayFailure::kInput, verdict.status().message());
  report.verdict = std::move(*verdict);

  if (report.reproduced() && o.output.empty()) {
    std::error_code ec;
    fs::remove_all(report.output, ec);
    report.output_kept = false;
  }
  ReplayOutcome out;
  out.report = std::move(report);
  if (!out.report.damage.empty()) {
    out.failure = ReplayFailure::kInput;
    out.message = out.report.damage.front() +
                  "; replayed what is intact up to there (the verdict covers that part only)";
  }
  return out;
}

}  // namespace ddrr::replay
