// ddrr info RUN: one paragraph per rank (who, where, versions, how much, which communicators,
// whether it ended cleanly), then every problem found in the run.
#include <cinttypes>
#include <cstdio>
#include <map>

#include "cli_common.h"
#include "trace/event_printer.h"
#include "trace/run.h"

namespace ddrr::cli {
namespace {

using trace::EventPrinter;

std::string NcclVersion(int code) {
  if (code <= 0) return "not loaded";
  return std::to_string(code / 10000) + "." + std::to_string(code % 10000 / 100) + "." +
         std::to_string(code % 100);
}

std::string CudaVersion(int code) {
  if (code <= 0) return "unknown";
  return std::to_string(code / 1000) + "." + std::to_string(code % 1000 / 10);
}

const char* EndName(int reason) {
  switch (reason) {
    case trace::END_EXIT:
      return "process exit";
    case trace::END_SIGNAL:
      return "fatal signal";
    case trace::END_SALVAGED:
      return "salvaged from spool";
    case trace::END_CLOSED:
      return "closed";
  }
  return "unknown";
}

struct CommSummary {
  int64_t size = -1;
  int64_t rank = -1;
  uint64_t ops = 0;
  std::string created_by;
};

struct RankSummary {
  uint64_t events = 0, calls = 0, failed_calls = 0;
  uint64_t first_seq = 0, last_seq = 0, first_time = 0, last_time = 0;
  int64_t first_step = -1, last_step = -1;
  std::map<uint64_t, CommSummary> comms;
};

RankSummary Summarize(trace::RankFileReader& r) {
  RankSummary s;
  trace::Event ev;
  trace::EventPosition pos;
  while (r.Next(&ev, &pos)) {
    if (s.events++ == 0) {
      s.first_seq = pos.seq;
      s.first_time = pos.time_ns;
    }
    s.last_seq = pos.seq;
    s.last_time = std::max(s.last_time, pos.time_ns);
    if (ev.has_mark()) {
      if (s.first_step < 0) s.first_step = ev.mark().step();
      s.last_step = ev.mark().step();
    }
    if (!ev.has_call()) continue;
    const auto& c = ev.call();
    ++s.calls;
    if (c.result() != 0) ++s.failed_calls;
    if (!c.comm_key()) continue;
    CommSummary& cs = s.comms[c.comm_key()];
    cs.ops = std::max(cs.ops, c.op_seq());
    if (c.has_nccl_comm_init_rank()) {
      cs.size = c.nccl_comm_init_rank().nranks();
      cs.rank = c.nccl_comm_init_rank().rank();
    } else if (c.has_nccl_comm_init_rank_config()) {
      cs.size = c.nccl_comm_init_rank_config().nranks();
      cs.rank = c.nccl_comm_init_rank_config().rank();
    } else if (c.has_nccl_comm_init_rank_scalable()) {
      cs.size = c.nccl_comm_init_rank_scalable().nranks();
      cs.rank = c.nccl_comm_init_rank_scalable().myrank();
    }
    if (cs.created_by.empty() && EventPrinter::FunctionName(c).find("ncclComm") == 0 &&
        (c.has_nccl_comm_init_rank() || c.has_nccl_comm_init_rank_config() ||
         c.has_nccl_comm_init_rank_scalable() || c.has_nccl_comm_split() ||
         c.has_nccl_comm_shrink() || c.has_nccl_comm_init_all()))
      cs.created_by = EventPrinter::FunctionName(c);
  }
  return s;
}

class InfoCommand : public Command {
 public:
  CLI::App* Register(CLI::App& app) override {
    auto* sub = app.add_subcommand("info",
                                   "Summarise a run: per rank who, what, how much, "
                                   "and whether it ended cleanly");
    sub->add_option("RUN", run_path_, "Run directory or rank-N.ddrr file")->required();
    return sub;
  }

  int Run() override {
    auto run = OpenRun(run_path_);
    if (!run.ok()) return Fail(run.status());
    printf("run %s: %zu rank file(s), world size %u\n", run_path_.c_str(), run->ranks().size(),
           run->world_size());
    std::vector<trace::TraceProblem> problems = run->Problems();
    for (auto& e : run->ranks()) {
      if (!e.reader) continue;
      trace::RankFileReader& r = *e.reader;
      const trace::Header& h = r.header();
      RankSummary s = Summarize(r);
      printf("\nrank %u of %u  host %s  pid %u  local rank %d  (rank from %s)\n", h.rank(),
             h.world_size(), h.host().c_str(), h.pid(), h.local_rank(),
             h.rank_source().empty() ? "?" : h.rank_source().c_str());
      printf("  file      %s (%.1f KiB, format v%u)\n", e.path.c_str(), r.file_size() / 1024.0,
             r.format_version());
      printf("  versions  NCCL %s, CUDA runtime %s, driver %s, ddrr %s\n",
             NcclVersion(h.nccl_version()).c_str(), CudaVersion(h.cuda_runtime_version()).c_str(),
             CudaVersion(h.cuda_driver_version()).c_str(), h.ddrr_version().c_str());
      for (const auto& d : h.devices())
        printf("  device    %d %s %s\n", d.ordinal(), d.name().c_str(), d.pci_bus_id().c_str());
      std::string layers;
      for (const auto& l : h.layers()) layers += (layers.empty() ? "" : ",") + l;
      std::string capture = CaptureLevelName(h.capture().level());
      if (h.capture().level() == trace::CAPTURE_PAYLOADS) {
        const auto& c = h.capture();
        if (c.payload_step_begin() || c.payload_step_end())
          capture += " (steps " + std::to_string(c.payload_step_begin()) + "-" +
                     std::to_string(c.payload_step_end()) + ")";
        if (c.payload_byte_budget())
          capture += ", budget " + std::to_string(c.payload_byte_budget() >> 20) + " MiB";
        capture += ", " + std::to_string(r.payload_frames()) + " payload frames";
      }
      if (h.capture().kernels_full()) capture += ", every kernel launch";
      printf("  capture   %s; layers %s\n", capture.c_str(),
             layers.empty() ? "none" : layers.c_str());
      printf("  events    %" PRIu64 " (seq %" PRIu64 "..%" PRIu64 "), %" PRIu64 " calls, %" PRIu64
             " failed; span %.3f s",
             s.events, s.first_seq, s.last_seq, s.calls, s.failed_calls,
             (s.last_time - s.first_time) / 1e9);
      if (s.events) printf("; %.1f bytes/event", double(r.file_size()) / double(s.events));
      printf("\n");
      if (s.first_step >= 0)
        printf("  steps     %" PRId64 "..%" PRId64 "\n", s.first_step, s.last_step);
      for (const auto& [key, c] : s.comms) {
        printf("  comm      %s", EventPrinter::KeyHex(key).c_str());
        if (c.size >= 0) printf(" size %" PRId64 " rank %" PRId64, c.size, c.rank);
        printf(", %" PRIu64 " ops", c.ops);
        if (!c.created_by.empty()) printf(", created by %s", c.created_by.c_str());
        printf("\n");
      }
      if (const trace::Footer* f = r.footer()) {
        const bool clean =
            f->end_reason() == trace::END_EXIT || f->end_reason() == trace::END_CLOSED;
        printf("  ended     %s (%s", clean ? "cleanly" : "NOT cleanly", EndName(f->end_reason()));
        if (f->end_reason() == trace::END_EXIT) printf(", status %d", f->exit_status());
        if (f->signal()) printf(", signal %d", f->signal());
        printf(")\n");
        if (f->dropped_events())
          printf("  dropped   %llu events: the spool was full (raise DDRR_SPOOL_MB)\n",
                 static_cast<unsigned long long>(f->dropped_events()));
      } else {
        printf("  ended     NOT cleanly: no footer (killed, crashed, or still running)\n");
      }
      problems.insert(problems.end(), r.problems().begin(), r.problems().end());
    }
    if (problems.empty()) return kExitOk;
    printf("\nproblems (%zu):\n", problems.size());
    for (const auto& p : problems) printf("  %s\n", p.ToString().c_str());
    return kExitFindings;
  }

 private:
  std::string run_path_;
};

}  // namespace

std::unique_ptr<Command> MakeInfoCommand() { return std::make_unique<InfoCommand>(); }

}  // namespace ddrr::cli
