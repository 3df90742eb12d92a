#include "replay/monitor.h"

#include <cinttypes>
#include <cstdio>

#include "spec/api_table.h"
#include "trace/event_printer.h"

namespace ddrr::replay {
Monitor::Monitor(ProgressTable& table, double still_seconds, bool draw)
    : table_(table), still_seconds_(still_seconds), draw_(draw), started_(Clock::now()) {}

bool Monitor::AllStarted() const {
  for (int i = 0; i < table_.slots(); ++i)
    if (table_.slot(i).rank.load() < 0) return false;
  return true;
}

bool Monitor::ShouldStop() {
  int64_t last_change = 0;
  int live = 0, waiting = 0;
  uint64_t done = 0, total = 0;
  for (int i = 0; i < table_.slots(); ++i) {
    const RankSlot& s = table_.slot(i);
    const auto state = static_cast<RankState>(s.state.load());
    last_change = std::max(last_change, s.changed_ns.load());
    done += s.calls_done.load();
    total += s.calls_total.load();
    if (state == RankState::kFinished) continue;
    ++live;
    if (state == RankState::kAtEnd || state == RankState::kStopped) ++waiting;
  }
  done_ = done;
  Draw(done, total);
  if (live > 0 && waiting == live && AllStarted()) {
    stopped_ = true;
    return true;
  }
  const double still = last_change ? static_cast<double>(MonotonicNs() - last_change) * 1e-9
                                   : std::chrono::duration<double>(Clock::now() - started_).count();
  if (still > still_seconds_) {
    stopped_ = still_ = true;
    return true;
  }
  return false;
}

void Monitor::Snapshot(std::vector<RankSnapshot>* out) const {
  const int64_t now = MonotonicNs();
  for (int i = 0; i < table_.slots(); ++i) {
    const RankSlot& s = table_.slot(i);
    RankSnapshot r;
    r.rank = s.rank.load();
    const auto state = static_cast<RankState>(s.state.load());
    r.state = RankStateName(state);
    r.seconds = s.changed_ns.load() ? static_cast<double>(now - s.changed_ns.load()) * 1e-9 : 0;
    r.waiting = state == RankState::kInCall || state == RankState::kStopped;
    r.hung = state == RankState::kStopped;
    r.at_end = state == RankState::kAtEnd;
    if (r.waiting) {
      const auto* f = trace::FindFunction(static_cast<trace::FunctionId>(s.fn.load()));
      r.call = std::string(f ? f->name : "a call") + " (#" + std::to_string(s.seq.load()) + ")";
      if (s.op_seq.load())
        r.call += " op " + std::to_string(s.op_seq.load()) + " of communicator " +
                  trace::EventPrinter::KeyHex(s.comm_key.load());
      else if (s.comm_key.load())
        r.call += " on communicator " + trace::EventPrinter::KeyHex(s.comm_key.load());
    }
    out->push_back(r);
  }
}

void Monitor::EndLine() {
  if (drew_) fprintf(stderr, "\n");
}

void Monitor::Draw(uint64_t done, uint64_t total) {
  if (!draw_) return;
  const auto now = Clock::now();
  if (drew_ && now - last_draw_ < std::chrono::milliseconds(250)) return;
  last_draw_ = now;
  drew_ = true;
  const double secs = std::chrono::duration<double>(now - started_).count();
  fprintf(stderr, "\rddrr replay: %" PRIu64 "/%" PRIu64 " calls (%.0f%%), %.1f s   ", done, total,
          total ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 0.0, secs);
  fflush(stderr);
}

}  // namespace ddrr::replay
