// ddrr record [-o DIR] -- CMD ARGS: runs CMD with libddrr.so preloaded, so every process of the
// job that is a rank writes DIR/rank-<r>.ddrr; afterwards salvages what killed ranks left.
#include <cstdio>
#include <cstdlib>
#include <filesystem>

#include "cli_common.h"
#include "common/params.h"
#include "common/step_range.h"
#include "launch/installed.h"
#include "launch/recorder_env.h"
#include "launch/spawn.h"
#include "record/recorder.h"
#include "trace/run.h"

namespace ddrr::cli {
namespace {
namespace fs = std::filesystem;

class RecordCommand : public Command {
 public:
  RecordCommand()
      : Command({
            .name = "record",
            .description =
                "Run a job with every rank recorded (torchrun, mpirun, srun, ddrr run)\n"
                "\n"
                "Runs COMMAND with libddrr.so preloaded: every process of the job that calls NCCL, "
                "the CUDA runtime or cuRAND writes DIR/rank-<r>.ddrr (the rank from RANK, "
                "OMPI_COMM_WORLD_RANK, PMI_RANK or SLURM_PROCID, else from its first "
                "communicator). The job sees what it would see without ddrr; if ddrr cannot record "
                "it warns once and the job runs on. When the job ends, killed ranks' spools are "
                "salvaged and a summary says what was recorded and what was lost. Exits with the "
                "job's status.",
            .environment =
                "the job gets LD_PRELOAD, DDRR_OUT, DDRR_RUN_ID and DDRR_LEVEL, and with their "
                "options DDRR_PAYLOAD_STEPS, DDRR_PAYLOAD_MB and DDRR_KERNELS. The recorder's "
                "other variables (DDRR_SPOOL_MB, DDRR_STAGING_MB, DDRR_COMPLETIONS, DDRR_DISABLE, "
                "DDRR_DEBUG) pass through to it. DDRR_LIB: where libddrr.so is (default "
                "<ddrr>/../lib/libddrr.so).",
            .examples = {"ddrr record -o run1 -- torchrun --nproc-per-node 8 train.py",
                         "ddrr record -o run1 --level digests -- mpirun -np 4 ./train",
                         "ddrr record -o run1 -- ddrr run --host -n 4 -- ./train"},
        }) {}

 private:
  void AddOptions(CLI::App& sub) override {
    sub.add_option("-o,--output", dir_, "Run directory to write (sets DDRR_OUT for the job)")
        ->default_str("./ddrr-run-<date>-<time>");
    sub.add_option("--level", level_,
                   "Capture level (sets DDRR_LEVEL): metadata (every call), digests (+ a hash of "
                   "every collective's input and output), payloads (+ the data each rank "
                   "received)")
        ->check(CLI::IsMember({"metadata", "digests", "payloads"}));
    sub.add_option("--payload-steps", payload_steps_,
                   "With --level payloads: only for steps A-B (inclusive; steps come from "
                   "ddrr_mark; sets DDRR_PAYLOAD_STEPS)")
        ->check([](const std::string& v) -> std::string {
          int64_t a, b;
          return ParseStepRange(v, &a, &b) ? ""
                                           : "expected a step range A-B with 0 <= A <= B, "
                                             "e.g. 100-110";
        })
        ->default_str("every step");
    sub.add_option("--payload-mb", payload_mb_,
                   "With --level payloads: payload bytes per rank in MiB (sets "
                   "DDRR_PAYLOAD_MB)")
        ->check(CLI::Range(1, 1 << 20))
        ->default_str("1024");
    sub.add_option("--kernels", kernels_,
                   "Kernel launches: count (per stream between collectives) or full (every "
                   "launch recorded as a call; sets DDRR_KERNELS)")
        ->check(CLI::IsMember({"count", "full"}))
        ->default_str("count");
    sub.add_option("COMMAND", argv_, "Command and its arguments (after --)")->required();
  }

  int Run() override {
    if ((!payload_steps_.empty() || payload_mb_ > 0) && level_ != "payloads")
      return Fail("--payload-steps and --payload-mb need --level payloads");
    StatusOr<std::string> found = launch::FindRecorderLibrary(Argv0());
    if (!found.ok()) return Fail(found.status());
    const std::string& lib = *found;
    if (dir_.empty()) dir_ = LocalTimeNow("ddrr-run-%Y%m%d-%H%M%S");
    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) return Fail("cannot create " + dir_ + ": " + ec.message());
    const std::string abs_dir = fs::absolute(dir_).string();

    for (const auto& [name, value] : launch::RecorderEnv(lib, abs_dir, level_))
      setenv(name.c_str(), value.c_str(), 1);
    if (!payload_steps_.empty())
      setenv(param::Name(param::kPayloadSteps), payload_steps_.c_str(), 1);
    if (payload_mb_ > 0)
      setenv(param::Name(param::kPayloadMb), std::to_string(payload_mb_).c_str(), 1);
    if (!kernels_.empty()) setenv(param::Name(param::kKernels), kernels_.c_str(), 1);

    StatusOr<int> job = launch::RunChild(argv_);
    if (!job.ok()) return Fail(job.status());
    const int rc = *job;
    SalvageSpools(abs_dir);  // killed ranks' spools become complete rank files
    Summarize(abs_dir, rc);
    return rc;
  }

  // What was recorded, and what was not: no rank file at all, a rank that dropped events, a
  // rank file cut short (the disk filled up, the file size limit), a rank killed.
  void Summarize(const std::string& abs_dir, int rc) {
    auto run = trace::Run::Open(abs_dir);
    if (!run.ok()) {
      fprintf(stderr,
              "ddrr: nothing was recorded in %s (job exit %d): no process of the job called "
              "NCCL, the CUDA runtime or cuRAND, or the recorder could not write there (its "
              "warning above says why)\n",
              abs_dir.c_str(), rc);
      return;
    }
    uint64_t events = 0, bytes = 0;
    size_t ranks = 0;
    std::vector<std::string> notes;
    for (const auto& e : run->ranks()) {
      const std::string who = "rank " + std::to_string(e.rank);
      if (!e.reader) {
        notes.push_back(who + ": " + e.open_status.message());
        continue;
      }
      ++ranks;
      bytes += e.reader->file_size();
      const trace::Footer* f = e.reader->footer();
      if (f) events += f->event_count();
      if (f && f->dropped_events())
        notes.push_back(who + " dropped " + std::to_string(f->dropped_events()) +
                        " events: its spool was full (raise DDRR_SPOOL_MB)");
      if (f && f->end_reason() == trace::END_SALVAGED)
        notes.push_back(who + " was killed: its events came from its spool");
      if (!e.reader->problems().empty())
        notes.push_back(who + " stopped recording early (the disk full, a file size limit?): " +
                        e.reader->problems().front().ToString());
      else if (!f)
        notes.push_back(who + " has no footer: recording stopped early or its process still runs");
    }
    fprintf(stderr,
            "ddrr: recorded %zu rank file(s), %llu events, %.1f %s in %s (job exit %d); `ddrr "
            "info %s` summarises it\n",
            ranks, static_cast<unsigned long long>(events),
            bytes >= (1 << 20) ? bytes / 1048576.0 : bytes / 1024.0,
            bytes >= (1 << 20) ? "MiB" : "KiB", abs_dir.c_str(), rc, dir_.c_str());
    for (const std::string& n : notes) fprintf(stderr, "ddrr: note: %s\n", n.c_str());
  }

  std::string dir_;
  std::string level_ = "metadata";
  std::string payload_steps_;
  int payload_mb_ = 0;
  std::string kernels_;
  std::vector<std::string> argv_;
};

}  // namespace

std::unique_ptr<Command> MakeRecordCommand() { return std::make_unique<RecordCommand>(); }

}  // namespace ddrr::cli
