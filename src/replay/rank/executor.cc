#include "replay/rank/executor.h"

#include <array>
#include <atomic>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "common/mutex.h"
#include "replay/hang.h"
#include "replay/rank/call.h"
#include "replay/rank/data_check.h"
#include "replay/rank/placeholders.h"
#include "replay/rank/replayer.h"
#include "replay/window.h"
#include "spec/api_table.h"
#include "spec/api_views.h"

namespace ddrr::replay {
namespace {

using trace::FunctionId;
using trace::FunctionInfo;

constexpr size_t kMaxQueued = 1 << 16;  // recorded calls read ahead of the replay threads

// How the executor treats each function, looked up by id on every call.
struct FunctionFacts {
  const FunctionInfo* info = nullptr;
  bool replayed = false;
  bool setup = false;    // replayed before a --from window: it builds what the window uses
  bool creates = false;  // it hands back a handle or memory other calls use
  bool nccl = false;
};

class FactTable {
 public:
  FactTable() {
    for (const FunctionInfo& f : trace::AllFunctions()) {
      const auto id = static_cast<size_t>(f.id);
      if (id >= facts_.size()) continue;
      FunctionFacts& x = facts_[id];
      x.info = &f;
      x.replayed = f.replay != "skip";
      x.setup = ReplayedBeforeWindow(f.category);
      for (const auto& a : f.args)
        x.creates |= a.out && (a.type == trace::ArgType::kHandle ||
                               a.type == trace::ArgType::kPointer || f.category == "redop");
      x.nccl = f.library == "nccl";
    }
  }
  const FunctionFacts& operator[](FunctionId id) const {
    static const FunctionFacts kNone;
    const auto i = static_cast<size_t>(id);
    return i < facts_.size() ? facts_[i] : kNone;
  }

 private:
  std::array<FunctionFacts, 512> facts_{};
};

const FactTable& Facts() {
  static const FactTable table;
  return table;
}

bool ResultOk(const FunctionFacts& f, int64_t result) {
  return result == 0 || (f.nccl && result == ncclInProgress);
}

// One recorded call waiting for its replay thread.
struct Item {
  trace::Event event;
  trace::EventPosition pos;
};

// What a replay thread keeps between its calls.
struct ThreadState {
  uint32_t group_depth = 0;
  std::vector<PendingCheck> group_checks;
  int64_t recorded_end = -1;  // --pace recorded: end of the previous call, recorded and replayed
  int64_t replay_end = 0;
  Placeholders placeholders;  // rank files without buffer pointers
};

class Runner {
 public:
  Runner(const ReplayPlan& plan, const RankPlan& rank, ProgressWriter progress, ResultLog& log)
      : plan_(plan), rank_(rank), replayer_(plan, rank), progress_(progress), log_(log) {
    if (plan.data() == DATA_PATTERN) data_ = std::make_unique<DataChecker>(replayer_, log);
  }

  Replayer& replayer() { return replayer_; }
  std::atomic<bool>& stop() { return stop_; }

  // Whether the reader hands this call to a replay thread at all.
  bool Wanted(const trace::Event& ev, const trace::EventPosition& pos) {
    if (!ev.has_call()) return false;
    const FunctionFacts& f = Facts()[trace::FunctionOfField(ev.call().fn_case())];
    if (!f.replayed) return false;
    // Captured into a CUDA graph: it ran at each graph launch, which a comm replay leaves out.
    if (ev.call().graph_captured()) {
      captured_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    if (pos.seq < rank_.from_seq() && !f.setup) {
      window_skipped_.fetch_add(1, std::memory_order_relaxed);
      return false;
    }
    // Calls on a communicator the plan leaves out (a member is not replayed) are left out too;
    // the creation call says why, once.
    if (const uint64_t key = ev.call().comm_key(); key && f.info->category != "comm_create") {
      const PlanComm* pc = replayer_.FindPlanComm(key);
      if (pc && !pc->replayed()) {
        left_out_.fetch_add(1, std::memory_order_relaxed);
        return false;
      }
    }
    return true;
  }

  static bool Creates(const trace::Event& ev) {
    return Facts()[trace::FunctionOfField(ev.call().fn_case())].creates;
  }

  // Replays one call; false when the rank must stop (the call hung).
  bool Execute(const Item& item, ThreadState& ts) {
    const trace::ApiCall& api = item.event.call();
    const FunctionId id = trace::FunctionOfField(api.fn_case());
    const FunctionFacts& f = Facts()[id];
    const uint64_t seq = item.pos.seq;
    Pace(item, ts);
    progress_.Enter(static_cast<uint32_t>(id), seq, api.comm_key(), api.op_seq());
    trace::OpView view;
    const bool is_op = trace::ViewOp(api, &view);
    // No pointers recorded: the op runs on placeholders of its size.
    trace::ApiCall patched;
    const trace::ApiCall& sent =
        is_op && rank_.placeholder_buffers() &&
                ts.placeholders.Patch(replayer_, api, ts.group_depth > 0, &patched, &view)
            ? patched
            : api;
    std::optional<PendingCheck> check;
    if (is_op && data_) check = data_->Prepare(sent, view, seq);
    const int64_t t0 = MonotonicNs();
    Call call(replayer_, sent, seq);
    const CallOutcome out = ReplayCall(sent, call);
    const double seconds = static_cast<double>(MonotonicNs() - t0) * 1e-9;
    auto what = [&] { return std::to_string(seq) + " " + std::string(f.info->name); };
    const bool issued = out.kind == CallOutcome::kIssued;
    const bool ok = issued && ResultOk(f, out.result);
    switch (out.kind) {
      case CallOutcome::kIssued:
        issued_.fetch_add(1, std::memory_order_relaxed);
        if (ok != ResultOk(f, api.result()) || (!ok && out.result != api.result())) {
          diverged_.fetch_add(1, std::memory_order_relaxed);
          log_.Write("diverged", what() + " " + std::to_string(api.result()) + " " +
                                     std::to_string(out.result));
        }
        break;
      case CallOutcome::kSkipped:
        skipped_.fetch_add(1, std::memory_order_relaxed);
        if (f.nccl) log_.Write("skipped", what() + " " + out.note);
        break;
      case CallOutcome::kUnresolved:
        unresolved_.fetch_add(1, std::memory_order_relaxed);
        log_.Write("unresolved", what() + " " + out.note);
        break;
      case CallOutcome::kNotReplayed:
        break;
    }
    if (issued && id == FunctionId::kNcclGroupStart && ok) ++ts.group_depth;
    if (issued && id == FunctionId::kNcclGroupEnd && ts.group_depth > 0) {
      // NCCL leaves the group even when ncclGroupEnd fails: the group's ops are settled.
      if (--ts.group_depth == 0) {
        if (ok)
          for (const PendingCheck& c : ts.group_checks)
            data_->Check(c, out.result == ncclInProgress);
        ts.group_checks.clear();
      }
    }
    if (check && ok) {
      if (ts.group_depth > 0)
        ts.group_checks.push_back(*check);
      else
        data_->Check(*check, out.result == ncclInProgress);
    }
    if (BlockedUntilTimeout(static_cast<uint64_t>(seconds * 1e9), plan_.timeout_seconds()) &&
        (out.kind == CallOutcome::kSkipped || (issued && !ok))) {
      char text[64];
      snprintf(text, sizeof(text), " %016llx %llu %.1f",
               static_cast<unsigned long long>(api.comm_key()),
               static_cast<unsigned long long>(api.op_seq()), seconds);
      log_.Write("hung", what() + text);
      progress_.State(RankState::kStopped);
      stop_.store(true);
      return false;
    }
    progress_.Leave();
    if (plan_.pace_recorded()) {
      ts.recorded_end = static_cast<int64_t>(item.pos.time_ns + api.duration_ns());
      ts.replay_end = MonotonicNs();
    }
    return true;
  }

  void Summary() {
    const DataCounts d = data_ ? data_->counts() : DataCounts{};
    log_.Write("summary",
               "issued=" + std::to_string(issued_) + " skipped=" + std::to_string(skipped_) +
                   " unresolved=" + std::to_string(unresolved_) +
                   " diverged=" + std::to_string(diverged_) + " window_skipped=" +
                   std::to_string(window_skipped_) + " left_out=" + std::to_string(left_out_) +
                   " graph_captured=" + std::to_string(captured_) + " checked=" +
                   std::to_string(d.checked) + " unchecked=" + std::to_string(d.unchecked) +
                   " wrong=" + std::to_string(d.wrong));
  }

 private:
  // --pace recorded: the gap the program spent between its previous call and this one.
  void Pace(const Item& item, const ThreadState& ts) {
    if (!plan_.pace_recorded() || ts.recorded_end < 0) return;
    const int64_t gap = static_cast<int64_t>(item.pos.time_ns) - ts.recorded_end;
    const int64_t wait = ts.replay_end + gap - MonotonicNs();
    if (wait > 0) std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
  }

  const ReplayPlan& plan_;
  const RankPlan& rank_;
  Replayer replayer_;
  ProgressWriter progress_;
  ResultLog& log_;
  std::unique_ptr<DataChecker> data_;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> issued_{0}, skipped_{0}, unresolved_{0}, diverged_{0}, window_skipped_{0},
      left_out_{0}, captured_{0};
};

// Several recorded threads: one replay thread each, fed by the reader.
class ThreadPool {
 public:
  explicit ThreadPool(Runner& runner) : runner_(runner) {}
  ~ThreadPool() { Finish(); }

  // Queues a call for the replay thread of recorded thread `thread`; false once stopped.
  bool Push(uint32_t thread, Item item) {
    MutexLock lock(&mu_);
    while (queued_ >= kMaxQueued && !runner_.stop().load()) cv_.Wait(&mu_);
    if (runner_.stop().load()) return false;
    auto [it, fresh] = index_.try_emplace(thread, workers_.size());
    if (fresh) {
      workers_.push_back(std::make_unique<Worker>());
      Worker* w = workers_.back().get();
      const size_t idx = it->second;
      w->thread = std::thread([this, idx] { Work(idx); });
    }
    Schedule& schedule = ScheduleOf(it->second);
    if (Runner::Creates(item.event)) schedule.creating.insert(item.pos.seq);
    schedule.queue.push_back(std::move(item));
    ++queued_;
    cv_.SignalAll();
    return true;
  }

  void Finish() {
    std::vector<Worker*> workers;
    {
      MutexLock lock(&mu_);
      done_ = true;
      cv_.SignalAll();
      for (auto& w : workers_) workers.push_back(w.get());
    }
    for (Worker* w : workers)
      if (w->thread.joinable()) w->thread.join();
  }

 private:
  // What the workers share about one worker: reached only through ScheduleOf, under mu_.
  struct Schedule {
    std::deque<Item> queue;
    std::set<uint64_t> creating;  // seqs of queued or running calls that create
    bool running = false;         // its queue's front is being replayed
  };
  struct Worker {
    std::thread thread;
    ThreadState state;  // the worker's own
    Schedule schedule;  // through ScheduleOf only
  };

  Schedule& ScheduleOf(size_t worker) EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return workers_[worker]->schedule;
  }
  const Schedule& ScheduleOf(size_t worker) const EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return workers_[worker]->schedule;
  }

  // The recorded order across threads (seq, the order calls returned) is kept for starts: a call
  // starts once every earlier call of another thread has started (a thread blocked in a call
  // holds up no one), and once every earlier call that creates a handle has returned (its
  // handle may be what this call uses).
  bool MayStart(size_t self, uint64_t seq) const EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    for (size_t i = 0; i < workers_.size(); ++i) {
      if (i == self) continue;
      const Schedule& other = ScheduleOf(i);
      if (!other.creating.empty() && *other.creating.begin() < seq) return false;
      const size_t first_unstarted = other.running ? 1 : 0;
      if (other.queue.size() > first_unstarted && other.queue[first_unstarted].pos.seq < seq)
        return false;
    }
    return true;
  }

  void Work(size_t self) {
    // A thread starts on the device the recorded thread started on, as CUDA starts it on 0.
    cudaSetDevice(runner_.replayer().InitialDevice());
    Worker* w;
    {
      MutexLock lock(&mu_);
      w = workers_[self].get();
    }
    for (;;) {
      Item* item;
      {
        MutexLock lock(&mu_);
        Schedule& mine = ScheduleOf(self);
        while (!(runner_.stop().load() || (mine.queue.empty() && done_) ||
                 (!mine.queue.empty() && MayStart(self, mine.queue.front().pos.seq)))) {
          cv_.Wait(&mu_);
        }
        if (runner_.stop().load() || mine.queue.empty()) return;
        item = &mine.queue.front();  // deque: stays put while others are pushed behind it
        mine.running = true;
        cv_.SignalAll();  // started: later calls of other threads may start too
      }
      const bool go_on = runner_.Execute(*item, w->state);
      MutexLock lock(&mu_);
      Schedule& mine = ScheduleOf(self);
      mine.running = false;
      mine.creating.erase(item->pos.seq);
      mine.queue.pop_front();
      --queued_;
      cv_.SignalAll();
      if (!go_on) return;
    }
  }

  Runner& runner_;
  Mutex mu_;
  CondVar cv_;
  std::vector<std::unique_ptr<Worker>> workers_ GUARDED_BY(mu_);  // the vector, not the workers
  std::map<uint32_t, size_t> index_ GUARDED_BY(mu_);              // recorded thread -> worker
  size_t queued_ GUARDED_BY(mu_) = 0;
  bool done_ GUARDED_BY(mu_) = false;
};

}  // namespace

StatusOr<ReplayEnd> ReplayRank(const ReplayPlan& plan, const RankPlan& rank,
                               trace::RankFileReader& reader, ProgressWriter progress,
                               ResultLog& log) {
  Runner runner(plan, rank, progress, log);
  cudaSetDevice(runner.replayer().InitialDevice());
  DDRR_RETURN_IF_ERROR(runner.replayer().AllocateRegions());
  progress.Total(rank.calls());
  progress.State(RankState::kReplaying);
  const bool threaded = rank.threads() > 1;
  std::unique_ptr<ThreadPool> pool;
  if (threaded) pool = std::make_unique<ThreadPool>(runner);
  ThreadState inline_state;
  Item item;
  while (!runner.stop().load() && reader.Next(&item.event, &item.pos)) {
    if (rank.damage_seq() && item.pos.seq >= rank.damage_seq()) break;
    if (rank.until_seq() && item.pos.seq > rank.until_seq()) break;
    if (!runner.Wanted(item.event, item.pos)) continue;
    if (!threaded) {
      if (!runner.Execute(item, inline_state)) break;
      continue;
    }
    if (!pool->Push(item.event.thread(), item)) break;
  }
  if (pool) pool->Finish();
  runner.Summary();
  return runner.stop().load() ? ReplayEnd::kHung : ReplayEnd::kCompleted;
}

}  // namespace ddrr::replay
