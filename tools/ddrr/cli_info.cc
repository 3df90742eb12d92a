// ddrr info RUN: one paragraph per rank (who, where, versions, how much, which communicators,
// whether it ended cleanly), then every problem found in the run.
#include <cinttypes>
#include <cstdio>
#include <map>

#include "analysis/run_model.h"
#include "cli_common.h"
#include "common/enum_names.h"
#include "trace/event_printer.h"
#include "trace/import_source.h"
#include "trace/run.h"

namespace ddrr::cli {
namespace {

using trace::EventPrinter;

// How a rank's file ended, by its footer's EndReason (END_LIVE is told apart before).
const char* EndName(int reason) {
  static constexpr const char* kNames[] = {"unknown", "process exit", "fatal signal",
                                           "salvaged from spool", "closed"};
  static_assert(std::size(kNames) == trace::END_CLOSED + 1);
  return NameIn(kNames, reason, "unknown");
}

class InfoCommand : public Command {
 public:
  InfoCommand()
      : Command({
            .name = "info",
            .description =
                "Summarise a run: per rank who, what, how much, and how it ended\n"
                "\n"
                "Per rank: rank and world size, where the rank came from, host, pid, file size and "
                "format version, NCCL / CUDA runtime / driver versions, devices, capture level, "
                "event and call counts, failed calls, time span, steps, every communicator "
                "(job-wide key, size, this rank's rank in it, operations, how it was created) and "
                "whether the rank ended cleanly. Then every problem in the run: unreadable rank "
                "files, ranks missing from the world, spools left by killed ranks, damage (file "
                "and offset). Ranks still running are read up to now.",
            .exit_status = "0 no problem, 1 problems found (damaged or unfinished rank files, "
                           "missing ranks), 2 input error.",
            .examples = {"ddrr info run1"},
        }) {}

 private:
  void AddOptions(CLI::App& sub) override { AddRunArgument(sub, &run_path_); }

  int Run() override {
    std::optional<trace::Run> run;
    std::unique_ptr<analysis::RunModel> model;
    // One pass per rank: what `ddrr check` scans (communicators with their sizes and ranks,
    // splits included) is what this prints.
    if (int rc = OpenModeledRun(run_path_, &run, &model)) return rc;
    printf("run %s: %zu rank file(s), world size %u\n", run_path_.c_str(), run->ranks().size(),
           run->world_size());
    std::vector<trace::TraceProblem> problems = run->Problems();
    size_t next_scan = 0;
    for (auto& e : run->ranks()) {
      if (!e.reader) continue;
      trace::RankFileReader& r = *e.reader;
      const trace::Header& h = r.header();
      const analysis::RankScan& s = model->scans[next_scan++];
      printf("\nrank %u of %u  host %s  pid %u  local rank %d  (rank from %s)\n", h.rank(),
             h.world_size(), h.host().c_str(), h.pid(), h.local_rank(),
             h.rank_source().empty() ? "?" : h.rank_source().c_str());
      printf("  file      %s (%.1f KiB, format v%u)\n", e.path.c_str(), r.file_size() / 1024.0,
             r.format_version());
      // Runs written by `ddrr import` say where their data came from (trace/import_source.h).
      if (auto f = h.env().find(trace::kImportFormatEnv); f != h.env().end()) {
        auto v = h.env().find(trace::kImportVersionEnv), src = h.env().find(trace::kImportFileEnv),
             u = h.env().find(trace::kImportUnknownEnv);
        printf("  imported  %s%s%s from %s\n", f->second.c_str(), v == h.env().end() ? "" : " ",
               v == h.env().end() ? "" : v->second.c_str(),
               src == h.env().end() ? "?" : src->second.c_str());
        if (u != h.env().end()) printf("  unknown   %s\n", u->second.c_str());
      }
      printf("  versions  NCCL %s, CUDA runtime %s, driver %s, ddrr %s\n",
             EventPrinter::NcclVersion(h.nccl_version()).c_str(),
             EventPrinter::CudaVersion(h.cuda_runtime_version()).c_str(),
             EventPrinter::CudaVersion(h.cuda_driver_version()).c_str(), h.ddrr_version().c_str());
      for (const auto& d : h.devices())
        printf("  device    %d %s %s\n", d.ordinal(), d.name().c_str(), d.pci_bus_id().c_str());
      std::string layers;
      for (const auto& l : h.layers()) layers += (layers.empty() ? "" : ",") + l;
      std::string capture = trace::CaptureLevelName(h.capture().level());
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
             (s.last_time_ns - s.first_time_ns) / 1e9);
      if (s.events) printf("; %.1f bytes/event", double(r.file_size()) / double(s.events));
      printf("\n");
      if (s.first_step >= 0)
        printf("  steps     %" PRId64 "..%" PRId64 "\n", s.first_step, s.last_step);
      for (const analysis::MemberFacts& m : s.members) {
        if (!m.comm_key || m.no_color()) continue;
        const analysis::Comm* c = model->comms->Find(m.comm_key);
        const analysis::Member* member = c ? c->ByFacts(&m) : nullptr;
        const int64_t comm_rank = member ? member->comm_rank : -1;
        printf("  comm      %s", EventPrinter::KeyHex(m.comm_key).c_str());
        if (c && c->size >= 0) {
          printf(" size %" PRId64, c->size);
          if (comm_rank >= 0) printf(" rank %" PRId64, comm_rank);
        }
        printf(", %" PRIu64 " ops", m.last_op);
        if (m.created_by) printf(", created by %s", analysis::FunctionName(m.created_by).c_str());
        printf("\n");
      }
      const trace::Footer* f = r.footer();
      if (r.still_running()) {
        printf("  ended     no: still running (pid %u), last event %s ago\n", r.header().pid(),
               analysis::SinceLastEvent(r.header(), *f).c_str());
      } else if (f) {
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

  std::string run_path_;
};

}  // namespace

std::unique_ptr<Command> MakeInfoCommand() { return std::make_unique<InfoCommand>(); }

}  // namespace ddrr::cli
