// ddrr-replay-rank PLAN: one rank of a comm replay (`ddrr replay` starts one per replayed rank,
// with RANK, WORLD_SIZE and LOCAL_RANK set by ddrr's launcher). It is an ordinary NCCL program,
// linked against libnccl.so.2 and libcudart.so.13, so it runs on real NCCL, on emu over the real
// CUDA runtime, or on ddrr's host runtime, whichever the loader finds. It re-issues its recorded
// rank's calls (src/replay/rank/executor.h) and then ends as the recorded process ended: with
// its exit status, of its fatal signal, or, when the recorded process stalled until it was
// killed, by staying alive until `ddrr replay` stops it.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "common/params.h"
#include "ddrr/replay.pb.h"
#include "replay/progress.h"
#include "replay/rank/executor.h"
#include "replay/rank/result_log.h"
#include "trace/trace_reader.h"

namespace {

constexpr int kExitInternal = 125;  // the replay itself failed; the log says why

int IntEnv(const char* name, int fallback) {
  const char* v = ddrr::param::EnvValue(name);
  if (v == nullptr) return fallback;
  char* end = nullptr;
  const long n = strtol(v, &end, 10);
  return *end == '\0' ? static_cast<int>(n) : fallback;
}

[[noreturn]] void Idle() {
  for (;;) pause();
}

int Fail(ddrr::replay::ResultLog* log, const std::string& message) {
  fprintf(stderr, "ddrr-replay-rank: error: %s\n", message.c_str());
  if (log) log->Write("error", message);
  return kExitInternal;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ddrr::replay;
  if (argc != 2) {
    fprintf(stderr, "usage: ddrr-replay-rank PLAN (started by `ddrr replay`)\n");
    return 2;
  }
  ReplayPlan plan;
  {
    std::ifstream in(argv[1], std::ios::binary);
    if (!in || !plan.ParseFromIstream(&in))
      return Fail(nullptr, std::string(argv[1]) + ": no plan");
  }
  const int rank = IntEnv("RANK", -1);
  const RankPlan* mine = nullptr;
  for (const RankPlan& r : plan.ranks())
    if (r.rank() == rank) mine = &r;
  if (mine == nullptr) return Fail(nullptr, "rank " + std::to_string(rank) + " is not in the plan");
  ResultLog log(plan.work_dir() + "/rank-" + std::to_string(rank) + ".log");
  auto table = ProgressTable::Open(plan.work_dir() + "/progress");
  RankSlot* slot = nullptr;
  const int local = IntEnv("LOCAL_RANK", -1);
  if (table.ok() && local >= 0 && local < table->slots()) {
    slot = &table->slot(local);
    slot->rank.store(rank);
    slot->pid.store(getpid());
  }
  ProgressWriter progress(slot);
  auto reader = ddrr::trace::RankFileReader::Open(mine->path());
  if (!reader.ok()) return Fail(&log, reader.status().message());
  auto end = ReplayRank(plan, *mine, **reader, progress, log);
  if (!end.ok()) return Fail(&log, end.status().message());
  if (*end == ReplayEnd::kHung) {
    // Stuck, as the recorded rank was: the replay decides when to stop everyone.
    Idle();
  }
  if (mine->until_seq() != 0) {
    progress.State(RankState::kFinished);
    return 0;
  }
  switch (mine->end()) {
    case END_IDLE:
      progress.State(RankState::kAtEnd);
      Idle();
    case END_SIGNAL:
      // Raised through whatever handler is installed (a recorder's writes the trace's end), then
      // with the default action in case that handler returned.
      progress.State(RankState::kFinished);
      raise(mine->signal());
      signal(mine->signal(), SIG_DFL);
      raise(mine->signal());
      return 128 + mine->signal();
    case END_EXIT:
    default:
      progress.State(RankState::kFinished);
      return mine->exit_status();
  }
}
