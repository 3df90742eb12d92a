#include "emu/group.h"

#include <sched.h>
#include <time.h>

#include <algorithm>

#include "common/log.h"
#include "emu/comm.h"

namespace ddrr::emu {
namespace {

struct GroupState {
  int depth = 0;
  std::vector<std::unique_ptr<Op>> ops;
  Result error;
};
thread_local GroupState g_group;
thread_local uint64_t g_ticks = 0;

// Spin briefly (peers on other cores answer in microseconds), then yield (cheap, and lets an
// oversubscribed peer run), and only after tens of milliseconds sleep: a sleep costs ~100 us of
// timer slack per wake-up, which would dominate chunk times. With more ranks than cores the
// peer we wait for may need this very core, so spinning only delays it: yield at once.
class Backoff {
 public:
  explicit Backoff(bool oversubscribed) : spin_rounds_(oversubscribed ? 0 : 64) {}
  void Reset() { rounds_ = 0; }
  void Pause() {
    ++rounds_;
    if (rounds_ < spin_rounds_) {
      for (int i = 0; i < 32; ++i) __builtin_ia32_pause();
    } else if (rounds_ < 64 + 20000) {
      sched_yield();
    } else {
      timespec ts{0, 50 * 1000};
      nanosleep(&ts, nullptr);
    }
  }

 private:
  int spin_rounds_;
  int rounds_ = 0;
};

int UsableCpus() {
  static const int cpus = [] {
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(CPU_COUNT(&set), 1);
    return 1;
  }();
  return cpus;
}

// Ranks of one comm all live on this host; more of them than usable cores means time-sharing.
bool Oversubscribed(const std::vector<std::unique_ptr<Op>>& ops) {
  int ranks = 0;
  for (const auto& op : ops) {
    if (op != nullptr && op->comm() != nullptr) ranks = std::max(ranks, op->comm()->nranks());
  }
  return ranks > UsableCpus();
}

void Abandon(std::vector<std::unique_ptr<Op>>& ops, const Result& cause) {
  for (auto& op : ops) {
    if (op != nullptr && op->comm() != nullptr) op->comm()->Fail(cause, /*publish=*/true);
  }
}

}  // namespace

void NoteProgress() { ++g_ticks; }
uint64_t ProgressTicks() { return g_ticks; }

Result GroupStart() {
  ++g_group.depth;
  return Result::Ok();
}

int GroupDepth() { return g_group.depth; }

Result GroupEnd() {
  if (g_group.depth == 0) {
    return Result(Code::kInvalidUsage, "ncclGroupEnd: not in a group call.");
  }
  if (--g_group.depth > 0) return Result::Ok();
  std::vector<std::unique_ptr<Op>> ops = std::move(g_group.ops);
  g_group.ops.clear();
  Result error = std::move(g_group.error);
  g_group.error = Result::Ok();
  if (error.failed()) {
    Abandon(ops, error);
    return error;
  }
  return RunToCompletion(std::move(ops));
}

Result Submit(std::unique_ptr<Op> op) {
  if (g_group.depth > 0) {
    g_group.ops.push_back(std::move(op));
    return Result::Ok();
  }
  std::vector<std::unique_ptr<Op>> ops;
  ops.push_back(std::move(op));
  return RunToCompletion(std::move(ops));
}

void NoteGroupError(const Result& error) {
  if (g_group.depth > 0 && g_group.error.ok()) g_group.error = error;
}

Result RunToCompletion(std::vector<std::unique_ptr<Op>> ops) {
  size_t remaining = ops.size();
  Backoff backoff(Oversubscribed(ops));
  while (remaining > 0) {
    uint64_t before = ProgressTicks();
    for (auto& op : ops) {
      if (op == nullptr) continue;
      Result r = op->Progress();
      if (r.pending()) continue;
      if (r.failed()) {
        op->comm()->Fail(r, /*publish=*/true);
        op.reset();
        Abandon(ops, r);
        return r;
      }
      op.reset();
      --remaining;
      NoteProgress();
    }
    if (ProgressTicks() == before) {
      backoff.Pause();
    } else {
      backoff.Reset();
    }
  }
  return Result::Ok();
}

}  // namespace ddrr::emu
