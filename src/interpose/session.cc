#include "interpose/session.h"

#include <dlfcn.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <mutex>
#include <random>

#include "common/log.h"
#include "common/params.h"
#include "interpose/app_replay.h"
#include "interpose/capture_config.h"
#include "interpose/data_capture.h"
#include "interpose/wrapper_support.h"
#include "trace/format.h"
#include "trace/record_encoders.h"

namespace ddrr::interpose {
namespace {

std::once_flag g_start_once;
std::atomic<record::Recorder*> g_recorder{nullptr};
std::atomic<bool> g_in_child{false};
uint64_t g_start_ns = 0;
// Wall-clock time read right beside g_start_ns: the pair puts this rank's event times on a clock
// shared with the other ranks (ddrr check compares arrival times across ranks). Read later, the
// work in between (resolving libraries, reading the environment) would skew every rank by a
// different few milliseconds.
uint64_t g_start_unix_ns = 0;
std::atomic<uint32_t> g_next_thread{0};
// No rank variable: the rank is learnt from the first communicator (AdoptRankFromComm).
std::atomic<bool> g_rank_pending{false};

// Rank and world size from the launcher's variables, most specific first.
bool DetectRank(trace::HeaderInfo* h) {
  static const char* const kRankVars[][3] = {
      {"RANK", "WORLD_SIZE", "LOCAL_RANK"},
      {"OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"},
      {"PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID"},
      {"SLURM_PROCID", "SLURM_NTASKS", "SLURM_LOCALID"},
  };
  for (const auto& v : kRankVars) {
    const char* rank = param::EnvValue(v[0]);
    if (!rank) continue;
    h->rank = static_cast<uint32_t>(strtoul(rank, nullptr, 10));
    if (const char* ws = param::EnvValue(v[1]))
      h->world_size = static_cast<uint32_t>(strtoul(ws, nullptr, 10));
    if (const char* lr = param::EnvValue(v[2]))
      h->local_rank = static_cast<int32_t>(strtol(lr, nullptr, 10));
    h->rank_source = v[0];
    return true;
  }
  return false;
}

bool KeepEnv(const std::string& name) {
  static const char* const kPrefixes[] = {"NCCL_", "CUDA_", "TORCH_", "DDRR_", "OMPI_COMM_WORLD_",
                                          "PMI_",  "SLURM_"};
  static const char* const kNames[] = {
      "RANK",        "WORLD_SIZE",  "LOCAL_RANK", "LOCAL_WORLD_SIZE",
      "MASTER_ADDR", "MASTER_PORT", "GROUP_RANK"};
  for (const char* p : kPrefixes)
    if (name.rfind(p, 0) == 0) return true;
  for (const char* n : kNames)
    if (name == n) return true;
  return false;
}

int RealVersion(Library lib, const char* fn) {
  using Fn = int (*)(int*);
  auto f = reinterpret_cast<Fn>(Resolve(lib, fn));
  int v = 0;
  if (f && f(&v) != 0) v = 0;
  return v;
}

trace::HeaderInfo MakeHeader() {
  trace::HeaderInfo h;
  if (!DetectRank(&h)) h.rank_source = "pending: first communicator";
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  h.host = host;
  h.pid = static_cast<uint32_t>(getpid());
  std::ifstream cmdline("/proc/self/cmdline", std::ios::binary);
  for (std::string arg; std::getline(cmdline, arg, '\0');) h.argv.push_back(arg);
  for (char** e = environ; e && *e; ++e) {
    const char* eq = strchr(*e, '=');
    if (!eq) continue;
    std::string name(*e, eq - *e);
    if (KeepEnv(name)) h.env[name] = eq + 1;
  }
  // Only version queries that need no driver and change nothing the job sees.
  h.nccl_version = RealVersion(Library::kNccl, "ncclGetVersion");
  h.cuda_runtime_version = RealVersion(Library::kCudart, "cudaRuntimeGetVersion");
  h.layers = {"nccl", "cudart", "curand"};
  h.start_unix_ns = g_start_unix_ns;
  h.start_mono_ns = g_start_ns;
  if (const char* id = param::Raw(param::kRunId)) h.run_id = id;
  h.ddrr_version = DDRR_VERSION_STRING;
  return h;
}

void AtForkChild() { g_in_child.store(true, std::memory_order_relaxed); }

// Fatal signals: note the signal in the spool (one atomic store: async-signal-safe), put back
// the handler that was there before us (the job's own, Python's faulthandler, or the default)
// and let the signal take its course. Everything recorded is already in the spool; the next
// ddrr command salvages it into a rank file that ends with END_SIGNAL and the signal.
constexpr int kFatalSignals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
struct sigaction g_previous[sizeof(kFatalSignals) / sizeof(int)];

void OnFatalSignal(int sig, siginfo_t* info, void*) {
  if (record::Recorder* r = g_recorder.load(std::memory_order_relaxed)) r->NoteFatalSignal(sig);
  for (size_t i = 0; i < sizeof(kFatalSignals) / sizeof(int); ++i)
    if (kFatalSignals[i] == sig) sigaction(sig, &g_previous[i], nullptr);
  // A fault re-executes its instruction on return; a sent signal (kill, raise, abort) must be
  // raised again.
  if (info == nullptr || info->si_code <= 0) raise(sig);
}

void InstallFatalSignalHandlers() {
  for (size_t i = 0; i < sizeof(kFatalSignals) / sizeof(int); ++i) {
    struct sigaction sa = {};
    sa.sa_sigaction = OnFatalSignal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaction(kFatalSignals[i], &sa, &g_previous[i]);
  }
}

void Start() {
  g_start_ns = NowNs();
  g_start_unix_ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                              std::chrono::system_clock::now().time_since_epoch())
                                              .count());
  pthread_atfork(nullptr, nullptr, AtForkChild);
  StartAppReplay();  // a replayed program is replayed whether or not it records itself
  if (param::Flag(param::kDisable)) return;
  record::RecorderConfig config;
  config.dir = param::Text(param::kOut);
  auto capture = ParseCaptureSettings();
  if (!capture.ok()) {
    DDRR_WARN("%s; recording disabled, the job runs on unrecorded",
              capture.status().message().c_str());
    return;
  }
  SetCapture(*capture);
  StatusOr<int64_t> spool_mib = param::CheckedInt(param::kSpoolMb);
  StatusOr<int64_t> seal_ms = param::CheckedInt(param::kSealIdleMs);
  for (const Status& st : {spool_mib.status(), seal_ms.status()}) {
    if (!st.ok()) {
      DDRR_WARN("%s; recording disabled, the job runs on unrecorded", st.message().c_str());
      return;
    }
  }
  config.wal_bytes = static_cast<size_t>(*spool_mib) << 20;
  config.seal_interval_ms = static_cast<uint32_t>(*seal_ms);
  config.header = MakeHeader();
  config.header.capture.level = static_cast<int32_t>(capture->level);
  if (capture->has_step_window) {
    config.header.capture.payload_step_begin = capture->step_begin;
    config.header.capture.payload_step_end = capture->step_end;
  }
  if (capture->level == CaptureLevel::kPayloads)
    config.header.capture.payload_byte_budget = capture->payload_budget_bytes;
  config.header.capture.kernels_full = capture->kernels_full;
  const bool pending = config.header.rank_source.rfind("pending", 0) == 0;
  // With no rank variable, several processes of one job may start here at once: each takes the
  // first file number that no finished process wrote and no live one holds; its rank comes later.
  const auto taken = [&](uint32_t k) {
    struct stat st;
    const std::string path = config.dir + "/rank-" + std::to_string(k) + ".ddrr";
    return pending && stat(path.c_str(), &st) == 0;
  };
  uint32_t k = 0;
  while (taken(k) && k < 4096) ++k;
  if (pending) config.header.rank = k;
  auto rec = record::Recorder::Start(config);
  while (pending && !rec.ok() && rec.status().code() == StatusCode::kUnavailable && ++k < 4096) {
    if (taken(k)) continue;
    config.header.rank = k;
    rec = record::Recorder::Start(config);
  }
  g_rank_pending.store(pending, std::memory_order_relaxed);
  if (!rec.ok()) {
    DDRR_WARN("cannot record: %s; the job runs on unrecorded", rec.status().ToString().c_str());
    return;
  }
  g_recorder.store(std::move(rec).value().release(), std::memory_order_release);
  InstallFatalSignalHandlers();
}

__attribute__((destructor)) void CloseAtExit() {
  if (!g_in_child.load()) FinishAppReplay();
  CloseSession();
}

}  // namespace

void CloseSession() {
  record::Recorder* r = g_recorder.exchange(nullptr);
  if (!r || g_in_child.load()) return;
  if (const std::string summary = DataCaptureSummary(); !summary.empty()) {
    trace::WireEncoder e;
    trace::EncodeNoteBody(e, summary, 0);
    r->Append(ThreadIndex(), NowNs() - g_start_ns, e.view(), {});
  }
  trace::FooterInfo f;
  f.end_reason = trace::kEndExit;
  f.end_time_ns = NowNs() - g_start_ns;
  Status st = r->Close(f);
  // A recorder that failed earlier has already said so, once.
  if (!st.ok() && !r->disabled()) DDRR_WARN("closing the trace: %s", st.ToString().c_str());
  // Deliberately not deleted: other threads may still be inside a wrapper at exit.
}

record::Recorder* ActiveRecorder() {
  if (g_in_child.load(std::memory_order_relaxed)) return nullptr;  // never the parent's trace
  std::call_once(g_start_once, Start);
  record::Recorder* r = g_recorder.load(std::memory_order_acquire);
  return r && !r->disabled() ? r : nullptr;
}

void AdoptRankFromComm(int rank, int nranks) {
  if (rank < 0 || nranks <= 0 || !g_rank_pending.exchange(false)) return;
  record::Recorder* r = RunningRecorder();
  if (!r) return;
  r->AssignRank(static_cast<uint32_t>(rank), static_cast<uint32_t>(nranks));
  const std::string text = "rank " + std::to_string(rank) + " of " + std::to_string(nranks) +
                           " from the first communicator (no rank variable was set)";
  trace::WireEncoder e;
  trace::EncodeNoteBody(e, text, 0);
  r->Append(ThreadIndex(), NowNs() - g_start_ns, e.view(), {});
}

record::Recorder* RunningRecorder() {
  if (g_in_child.load(std::memory_order_relaxed)) return nullptr;
  record::Recorder* r = g_recorder.load(std::memory_order_acquire);
  return r && !r->disabled() ? r : nullptr;
}

uint64_t SessionStartNs() { return g_start_ns; }

uint32_t ThreadIndex() {
  thread_local const uint32_t index = g_next_thread.fetch_add(1, std::memory_order_relaxed);
  return index;
}

}  // namespace ddrr::interpose
