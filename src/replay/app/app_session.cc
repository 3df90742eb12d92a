#include "replay/app/app_session.h"

#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "analysis/event_diff.h"
#include "analysis/finding.h"
#include "analysis/run_model.h"
#include "common/params.h"
#include "ddrr/options.pb.h"
#include "launch/installed.h"
#include "launch/launcher.h"
#include "launch/recorder_env.h"
#include "record/salvage.h"
#include "replay/app/script_writer.h"
#include "replay/monitor.h"
#include "replay/placement.h"
#include "replay/plan.h"
#include "replay/progress.h"
#include "spec/api_table.h"
#include "trace/event_printer.h"
#include "trace/run.h"

namespace ddrr::replay::app {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

AppReplayOutcome Failed(AppFailure f, std::string message) {
  AppReplayOutcome o;
  o.failure = f;
  o.message = std::move(message);
  return o;
}

// "key=value" of a result line.
std::string Field(const std::string& line, const std::string& key) {
  const std::string k = " " + key + "=";
  size_t at = (" " + line).find(k);
  if (at == std::string::npos) return "";
  at += k.size() - 1;
  if (key == "what") return line.substr(at);
  const size_t end = line.find(' ', at);
  return line.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

uint64_t Number(const std::string& s) { return s.empty() ? 0 : strtoull(s.c_str(), nullptr, 10); }

// The program's call from the "given" line of a divergence, in `ddrr dump`'s notation.
std::string ReplayedCall(uint32_t fn, const std::string& given) {
  const trace::FunctionInfo* info = trace::FindFunction(static_cast<trace::FunctionId>(fn));
  if (!info) return "";
  const auto* field = trace::ApiCall::descriptor()->FindFieldByNumber(
      static_cast<int>(trace::ApiCallField(info->id)));
  std::istringstream in(
      given.substr(given.find(' ') == std::string::npos ? given.size() : given.find(' ')));
  std::string s = std::string(info->name) + "(";
  for (size_t i = 0; i < info->args.size(); ++i) {
    std::string item;
    in >> item;
    unsigned kind = 0, flags = 0;
    unsigned long long value = 0, offset = 0;
    sscanf(item.c_str(), "%u:%u:%llu:%llu", &kind, &flags, &value, &offset);
    const trace::ArgInfo& a = info->args[i];
    std::string v = "…";
    if (kind == 1) {
      const auto* f = field ? field->message_type()->field(static_cast<int>(i)) : nullptr;
      if (a.type == trace::ArgType::kEnum && f && f->enum_type()) {
        v = trace::EnumName(f->enum_type(), static_cast<int>(value));
      } else if (a.type == trace::ArgType::kFloat) {
        double d;
        memcpy(&d, &value, sizeof(d));
        v = std::to_string(d);
      } else if (a.type == trace::ArgType::kInt) {
        v = std::to_string(static_cast<int64_t>(value));
      } else if (a.type == trace::ArgType::kFlags) {
        v = trace::EventPrinter::Hex(value);
      } else {
        v = std::to_string(value);
      }
    } else if (kind == 2) {
      v = value ? std::string(a.handle_family) + std::to_string(value) : "NULL";
    } else if (kind == 3) {
      v = value         ? "alloc" + std::to_string(value) + "+" + trace::EventPrinter::Hex(offset)
          : (flags & 2) ? "NULL"
                        : "host";
    }
    if (i) s += ", ";
    s += std::string(a.name) + "=" + v;
  }
  return s + ")";
}

// Reads rank-<r>.result: what the rank's replay mode saw.
void ReadResult(const std::string& path, AppRankResult* r, std::vector<uint32_t>* fns,
                std::vector<std::string>* givens) {
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("start ", 0) == 0) {
      r->started = true;
    } else if (line.rfind("divergence ", 0) == 0) {
      AppDivergence d;
      d.thread = static_cast<uint32_t>(Number(Field(line, "thread")));
      d.index = Number(Field(line, "index"));
      d.recorded_seq = Number(Field(line, "seq"));
      d.what = Field(line, "what");
      if (d.what.rfind("arg=", 0) == 0) d.what = d.what.substr(d.what.find(' ') + 1);
      d.at_call = Number(Field(line, "fn")) != 0;
      r->list.push_back(std::move(d));
      fns->push_back(static_cast<uint32_t>(Number(Field(line, "fn"))));
      givens->push_back("");
    } else if (line.rfind("given", 0) == 0 && !givens->empty()) {
      givens->back() = line;
    } else if (line.rfind("error ", 0) == 0) {
      r->error = Field(line, "what");
    } else if (line.rfind("end ", 0) == 0) {
      r->ended = true;
      r->matched = Number(Field(line, "matched"));
      r->divergences = Number(Field(line, "divergences"));
      r->unreached = Number(Field(line, "unreached"));
    }
  }
}

// Fills the recorded side of each divergence: the recorded call and the calls before it on its
// thread, as `ddrr dump` prints them. Threads are paired as the script pairs them: in order of
// their first call, entropy draw or RNG state.
void DescribeRecorded(trace::RankFileReader& reader, int64_t rank, AppRankResult* r) {
  constexpr size_t kBefore = 10;
  reader.Rewind();
  trace::EventPrinter printer(rank);
  std::map<uint32_t, uint32_t> order;  // recorded thread -> script thread
  std::map<uint32_t, uint64_t> calls;  // script thread -> calls so far
  std::map<uint32_t, std::deque<std::string>> recent;
  trace::Event e;
  trace::EventPosition pos;
  while (reader.Next(&e, &pos)) {
    const bool counts =
        (e.has_call() && trace::FindFunction(trace::FunctionOfField(e.call().fn_case())) &&
         trace::FindFunction(trace::FunctionOfField(e.call().fn_case()))->category != "launch") ||
        e.has_entropy() || e.has_rng();
    if (!counts) {
      printer.Observe(e);
      continue;
    }
    const uint32_t t = order.emplace(e.thread(), static_cast<uint32_t>(order.size())).first->second;
    if (!e.has_call()) {
      printer.Observe(e);
      continue;
    }
    const std::string line = printer.Text(e, pos);
    const uint64_t index = calls[t]++;
    for (AppDivergence& d : r->list) {
      if (d.thread != t) continue;
      if (index == d.index) {
        if (d.at_call) d.recorded = line;
        d.before.assign(recent[t].begin(), recent[t].end());
      }
    }
    auto& q = recent[t];
    q.push_back(line);
    if (q.size() > kBefore) q.pop_front();
  }
  for (AppDivergence& d : r->list)
    if (d.recorded.empty() && d.before.empty() && recent.count(d.thread))
      d.before.assign(recent[d.thread].begin(), recent[d.thread].end());
}

// Outputs of communicators that ran for real are the program's own: their digests, in the
// replay's trace, must be the recorded ones (compared as `ddrr diff` compares data).
void CompareData(trace::RankFileReader& recorded, trace::Run& replayed, AppRankResult* r) {
  trace::RankEntry* e = replayed.FindRank(r->rank);
  if (!e || !e->reader) return;
  recorded.Rewind();
  analysis::DiffOptions options;
  options.scope = analysis::DiffScope::kAll;
  const analysis::RankDiff diff = analysis::DiffRank(recorded, *e->reader, r->rank, options);
  if (!diff.data) return;
  const analysis::DataDifference& d = *diff.data;
  AppDivergence div;
  div.recorded_seq = d.a.call_seq();
  div.at_call = false;
  char what[200];
  snprintf(what, sizeof(what),
           "data: the %s buffer of recorded call #%" PRIu64 " has digest 0x%016" PRIx64
           " in the replay, 0x%016" PRIx64 " in the recording",
           d.a.role() == trace::BUFFER_INPUT ? "input" : "output", d.a.call_seq(), d.b.value(),
           d.a.value());
  div.what = what;
  if (d.a.nan_count() != d.b.nan_count() || d.a.inf_count() != d.b.inf_count())
    div.what += "; NaN/Inf: " + std::to_string(d.b.nan_count()) + "/" +
                std::to_string(d.b.inf_count()) + " in the replay, " +
                std::to_string(d.a.nan_count()) + "/" + std::to_string(d.a.inf_count()) +
                " in the recording";
  div.recorded = d.call_line;
  r->list.push_back(std::move(div));
}

// The recording ended without its process exiting: killed, stalled until stopped.
bool RecordingEndedAbruptly(const trace::RankFileReader& reader) {
  const trace::Footer* f = reader.footer();
  return f == nullptr || f->end_reason() == trace::END_SALVAGED;
}

}  // namespace

bool AppRankResult::reproduced() const {
  return started && error.empty() && divergences == 0 && list.empty() &&
         ((ended && unreached == 0) || stalled_as_recorded);
}

bool AppReplayReport::reproduced() const {
  for (const AppRankResult& r : ranks)
    if (!r.reproduced()) return false;
  return !ranks.empty();
}

bool AppReplayReport::input_error() const {
  for (const AppRankResult& r : ranks)
    if (!r.error.empty()) return true;
  return false;
}

AppReplayOutcome RunAppReplay(const AppReplayOptions& o) {
  if (o.argv.empty()) return Failed(AppFailure::kInput, "no program to replay: give it after --");
  auto run = trace::Run::Open(o.run);
  if (!run.ok()) return Failed(AppFailure::kInput, run.status().message());
  if (Status st = RequireEnded(*run); !st.ok()) return Failed(AppFailure::kInput, st.message());

  // The ranks: each one must be in the run, readable and intact.
  std::vector<int64_t> ranks = o.ranks;
  if (ranks.empty())
    for (const trace::RankEntry& e : run->ranks()) ranks.push_back(e.rank);
  std::vector<int64_t> present;
  for (const trace::RankEntry& e : run->ranks()) present.push_back(e.rank);
  for (int64_t r : ranks) {
    trace::RankEntry* e = run->FindRank(r);
    if (!e)
      return Failed(AppFailure::kInput, "rank " + std::to_string(r) + " is not in " + o.run +
                                            " (it has rank files for ranks " +
                                            analysis::RankRanges(present, ",") + ")");
    if (!e->reader) {
      const std::string& why = e->open_status.message();
      return Failed(AppFailure::kInput,
                    why.find(e->path) == std::string::npos ? e->path + ": " + why : why);
    }
  }
  const std::set<int64_t> running(ranks.begin(), ranks.end());
  const uint32_t world = run->world_size();
  const bool all = running.size() >= world;

  // Without its peers a rank needs the data they sent it.
  int min_level = trace::CAPTURE_PAYLOADS;
  for (int64_t r : ranks)
    min_level = std::min<int>(min_level, run->FindRank(r)->reader->header().capture().level());
  if (!all) {
    for (int64_t r : ranks) {
      const int level = run->FindRank(r)->reader->header().capture().level();
      if (level < trace::CAPTURE_PAYLOADS)
        return Failed(AppFailure::kInput,
                      "rank " + std::to_string(r) + " was recorded at the " +
                          trace::CaptureLevelName(level) +
                          " level; replaying ranks without their peers needs the payloads "
                          "level (record with ddrr record --level payloads), replaying all ranks "
                          "needs only metadata (--ranks all)");
    }
  }

  auto model = analysis::ModelRun(*run);
  if (!model.ok()) return Failed(AppFailure::kInput, model.status().message());

  launch::LaunchOptions lo;
  auto placed = PlaceRanks(o.host, o.ranks_per_gpu, o.argv0, &lo);
  if (!placed.ok()) return Failed(AppFailure::kPlacement, placed.status().message());
  auto recorder = launch::FindRecorderLibrary(o.argv0);
  if (!recorder.ok()) return Failed(AppFailure::kInput, recorder.status().message());

  const ScratchDir scratch("ddrr-app-replay-");
  const std::string& work = scratch.path();
  if (work.empty()) return Failed(AppFailure::kInput, "cannot create a temporary directory");

  AppReplayReport report;
  report.placement = *placed;
  std::vector<ScriptSummary> summaries;
  for (size_t i = 0; i < ranks.size(); ++i) {
    const std::string path = work + "/rank-" + std::to_string(ranks[i]) + ".script";
    ScriptOptions so;
    so.running = running;
    so.slot = static_cast<uint32_t>(i);
    so.resume_step = o.resume_step;
    auto s = WriteScript(*run, **model, ranks[i], so, path);
    if (!s.ok()) return Failed(AppFailure::kInput, s.status().message());
    const trace::RankEntry* e = run->FindRank(ranks[i]);
    if (!e->reader->problems().empty())
      return Failed(AppFailure::kInput, e->reader->problems().front().ToString() +
                                            "; application replay needs an intact trace");
    summaries.push_back(*s);
  }
  if (!all) {
    std::vector<int64_t> served;
    for (uint32_t r = 0; r < world; ++r)
      if (!running.count(r)) served.push_back(r);
    report.notes.push_back("rank(s) " + analysis::RankRanges(served, ",") +
                           " do not run: what the replayed ranks receive from them comes from "
                           "the recording");
  }

  auto output_dir = ReplayOutputDir(o.output);
  if (!output_dir.ok()) return Failed(AppFailure::kInput, output_dir.status().message());
  report.output = *output_dir;

  auto table = ProgressTable::Create(work + "/progress", static_cast<int>(ranks.size()));
  if (!table.ok()) return Failed(AppFailure::kInput, table.status().message());

  // Each rank runs with the rank variables it was recorded with.
  lo.nranks = static_cast<int>(ranks.size());
  lo.argv = o.argv;
  lo.world_size = static_cast<int>(std::max<uint32_t>(world, 1));
  int local_world = 0;
  for (int64_t r : ranks) {
    const trace::Header& h = run->FindRank(r)->reader->header();
    lo.rank_ids.push_back(static_cast<int>(r));
    lo.local_ranks.push_back(h.local_rank() >= 0 ? h.local_rank() : static_cast<int>(r));
    auto lws = h.env().find("LOCAL_WORLD_SIZE");
    if (lws != h.env().end()) local_world = std::max(local_world, atoi(lws->second.c_str()));
  }
  lo.local_world_size = local_world;
  lo.grace_seconds = 1e9;  // a rank that fails does not stop the others: each is judged alone
  const trace::Header& first = run->FindRank(ranks.front())->reader->header();
  if (auto d = first.env().find(param::Name(param::kHostDevices)); d != first.env().end() && o.host)
    lo.extra_env.emplace_back(param::Name(param::kHostDevices), d->second);
  const std::string level = min_level >= trace::CAPTURE_DIGESTS ? "digests" : "metadata";
  for (auto& setting : launch::RecorderEnv(*recorder, report.output, level, launch::RunId::kFresh))
    lo.extra_env.push_back(std::move(setting));
  lo.extra_env.emplace_back(param::Name(param::kDisable), "0");
  lo.extra_env.emplace_back(analysis::kAppReplayOfEnv,
                            first.run_id().empty() ? "unknown" : first.run_id());
  lo.extra_env.emplace_back(param::Name(param::kReplayDir), work);
  lo.extra_env.emplace_back(param::Name(param::kReplayProgress), work + "/progress");
  lo.extra_env.emplace_back(param::Name(param::kReplayOnDivergence),
                            o.on_divergence == OnDivergence::kStop     ? "stop"
                            : o.on_divergence == OnDivergence::kReport ? "report"
                                                                       : "ignore");
  lo.extra_env.emplace_back(param::Name(param::kReplayRestoreRng), o.restore_rng ? "1" : "0");

  Monitor monitor(*table, o.timeout_seconds, /*draw=*/false);
  lo.should_stop = [&] { return monitor.ShouldStop(); };
  lo.stop_signal = SIGKILL;
  const auto t0 = Clock::now();
  auto launched = launch::RunRanks(lo);
  report.replay_seconds = std::chrono::duration<double>(Clock::now() - t0).count();
  if (!launched.ok()) return Failed(AppFailure::kInput, launched.status().message());
  report.recorded_seconds = RecordedSeconds(**model);
  record::SalvageRun(report.output, [](const std::string&, const StatusOr<uint64_t>&) {});
  // The replay's own trace: its digests of what ran for real are compared with the recording's.
  auto replayed_run = trace::Run::Open(report.output);

  for (size_t i = 0; i < ranks.size(); ++i) {
    AppRankResult r;
    r.rank = ranks[i];
    r.calls = summaries[i].calls;
    r.served = summaries[i].served;
    r.entropy = summaries[i].entropy;
    for (const launch::RankResult& lr : launched->ranks)
      if (lr.rank == r.rank) r.exit_status = lr.exit_status;
    std::vector<uint32_t> fns;
    std::vector<std::string> givens;
    ReadResult(work + "/rank-" + std::to_string(r.rank) + ".result", &r, &fns, &givens);
    const RankSlot& slot = table->slot(static_cast<int>(i));
    if (!r.ended) {
      r.matched = slot.calls_done.load();
      r.unreached = r.calls - std::min(r.calls, r.matched);
    }
    trace::RankFileReader& reader = *run->FindRank(r.rank)->reader;
    if (monitor.still() && !r.ended) {
      r.stopped = true;
      r.stalled_as_recorded = r.unreached == 0 && RecordingEndedAbruptly(reader);
      if (!r.stalled_as_recorded) {
        AppDivergence d;
        d.index = r.matched;  // the call it did not make
        d.what = "the program made no call for " +
                 std::to_string(static_cast<int>(o.timeout_seconds)) + " s after " +
                 std::to_string(r.matched) + " matching call(s); the recording " +
                 (r.unreached ? "has " + std::to_string(r.unreached) + " more" : "went on");
        r.list.push_back(d);
        fns.push_back(0);
        givens.push_back("");
      }
    } else if (r.started && r.error.empty() && r.list.empty() && r.unreached > 0) {
      const trace::Footer* f = reader.footer();
      const bool same_signal =
          f && f->end_reason() == trace::END_SIGNAL && r.exit_status == 128 + f->signal();
      if (!same_signal) {
        AppDivergence d;
        d.index = r.matched;  // the call it did not make
        d.what = "the program ended (exit status " + std::to_string(r.exit_status) + ") after " +
                 std::to_string(r.matched) + " matching call(s); the recording has " +
                 std::to_string(r.unreached) + " more";
        r.list.push_back(d);
        fns.push_back(0);
        givens.push_back("");
      } else {
        r.stalled_as_recorded = true;  // died of the signal its recording died of
      }
    }
    if (!r.started && r.error.empty())
      r.error = "the program never reached replay mode (exit status " +
                std::to_string(r.exit_status) + "): is it an NCCL or CUDA program?";
    if (!r.list.empty()) DescribeRecorded(reader, r.rank, &r);
    for (size_t k = 0; k < r.list.size(); ++k)
      if (fns[k]) r.list[k].replayed = ReplayedCall(fns[k], givens[k]);
    if (r.reproduced() && replayed_run.ok()) CompareData(reader, *replayed_run, &r);
    report.ranks.push_back(std::move(r));
  }
  AppReplayOutcome out;
  out.report = std::move(report);
  return out;
}

std::string AppReportText(const AppReplayReport& report) {
  std::string s;
  char buf[256];
  for (const std::string& n : report.notes) s += "note: " + n + "\n";
  for (const AppRankResult& r : report.ranks) {
    const std::string who = "rank " + std::to_string(r.rank);
    if (!r.error.empty()) {
      s += who + ": " + r.error + "\n";
      continue;
    }
    if (r.reproduced()) {
      snprintf(buf, sizeof(buf),
               "%s: replayed as recorded: %" PRIu64 " call(s) matched, %" PRIu64
               " served from the recording, %" PRIu64 " entropy draw(s) handed back%s\n",
               who.c_str(), r.matched, r.served, r.entropy,
               r.stalled_as_recorded ? "; it stopped where its recording stopped" : "");
      s += buf;
      continue;
    }
    snprintf(buf, sizeof(buf),
             "%s: diverged (%" PRIu64 " difference(s)), %" PRIu64 " call(s) matched\n", who.c_str(),
             std::max<uint64_t>(r.divergences, r.list.size()), r.matched);
    s += buf;
    for (const AppDivergence& d : r.list) {
      s += "  " + d.what + "\n";
      if (!d.recorded.empty()) s += "    recorded: " + d.recorded + "\n";
      if (!d.replayed.empty()) s += "    replayed: " + d.replayed + "\n";
      if (!d.before.empty()) {
        s += "    the last " + std::to_string(d.before.size()) + " matching call(s):\n";
        for (const std::string& b : d.before) s += "      " + b + "\n";
      }
    }
  }
  // A rank in error either lacked recorded data or never reached replay mode (the program
  // failed before its first intercepted call, e.g. on its own arguments): say which.
  bool lacks_data = false;
  for (const AppRankResult& r : report.ranks)
    lacks_data = lacks_data || (r.started && !r.error.empty());
  snprintf(buf, sizeof(buf), "replay: %s, %.2f s (recording %.2f s) on %s; its trace: %s\n",
           report.input_error()  ? (lacks_data ? "stopped: the recording lacks what a rank needs"
                                               : "stopped: the program never reached replay mode")
           : report.reproduced() ? "reproduced"
                                 : "diverged",
           report.replay_seconds, report.recorded_seconds, report.placement.c_str(),
           report.output.c_str());
  s += buf;
  return s;
}

}  // namespace ddrr::replay::app
