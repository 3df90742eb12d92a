#include "emu/nccl_debug_log.h"

#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "common/debug_env.h"
#include "common/mutex.h"
#include "common/params.h"
#include "emu/comm.h"

namespace ddrr::emu::nccl_debug {

std::atomic<int> g_level{-1};

namespace {

std::once_flag g_once;
uint64_t g_mask = kInit;
FILE* g_out = nullptr;
char g_host[256] = "";

Mutex g_mu;
std::map<const Comm*, uint64_t> g_op_counts GUARDED_BY(g_mu);  // calls so far per communicator
std::map<const Comm*, uint64_t> g_splits GUARDED_BY(g_mu);     // splits so far per parent
bool g_version_said GUARDED_BY(g_mu) = false;

constexpr log::SubsysName kNames[] = {{"INIT", kInit}, {"COLL", kColl}, {"ALL", ~0ull}};
constexpr int kNumDataTypes = 12;  // ncclInt8 .. ncclFloat8e5m2

thread_local int t_device = 0;  // the device of the thread's last line: a WARN line's

void SetupOnce() {
  // NCCL cuts the host name at its first dot, in the prefix and in the file name.
  gethostname(g_host, sizeof(g_host) - 1);
  if (char* dot = strchr(g_host, '.')) *dot = '\0';
  const char* level = getenv(param::Name(param::kNcclDebug));
  int l = level ? log::ParseLevel(level, 0) : 0;
  if (const char* subsys = getenv(param::Name(param::kNcclDebugSubsys)))
    g_mask = log::ParseSubsys(subsys, kNames, sizeof(kNames) / sizeof(kNames[0]));
  g_out = stdout;
  if (const char* file = getenv(param::Name(param::kNcclDebugFile)); file && l > 0) {
    if (FILE* f = fopen(log::ExpandPath(file, g_host).c_str(), "w"))
      g_out = f;
    else
      fprintf(stderr, "%s:%d NCCL WARN cannot open NCCL_DEBUG_FILE %s: %s; logging to stdout\n",
              g_host, getpid(), file, strerror(errno));
  }
  g_level.store(l, std::memory_order_release);
}

// One whole line, so that lines of several threads never interleave.
void Line(int device, const char* where, const char* kind, const char* fmt, ...)
    __attribute__((format(printf, 4, 5)));
void Line(int device, const char* where, const char* kind, const char* fmt, ...) {
  t_device = device;
  char body[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(body, sizeof(body), fmt, ap);
  va_end(ap);
  char line[1400];
  const int n = snprintf(line, sizeof(line), "%s:%d:%ld [%d]%s%s NCCL %s %s\n", g_host, getpid(),
                         static_cast<long>(syscall(SYS_gettid)), device, *where ? " " : "", where,
                         kind, body);
  fwrite(line, 1, std::min<size_t>(static_cast<size_t>(n), sizeof(line) - 1), g_out);
  fflush(g_out);
}

bool On(uint64_t subsys) { return (g_mask & subsys) != 0; }

int64_t BusId(const Comm& c) { return c.device_key() >= 0 ? c.device_key() : c.device(); }

void SayVersion(int device) {
  {
    MutexLock lock(&g_mu);
    if (g_version_said) return;
    g_version_said = true;
  }
  Line(device, "", "INFO", "NCCL version %s+emu", DDRR_EMU_NCCL_VERSION);
}

// The function as NCCL's COLL line names it: "ncclAllReduce" -> "AllReduce".
const char* OpName(const char* fn) {
  if (strcmp(fn, "ncclBcast") == 0) return "Broadcast";
  return strncmp(fn, "nccl", 4) == 0 ? fn + 4 : fn;
}

}  // namespace

int Setup() {
  std::call_once(g_once, SetupOnce);
  return g_level.load(std::memory_order_acquire);
}

void InitStart(const Comm& comm, const std::string& what) {
  if (what == "CommSplit") return;  // SplitStart names the parent
  SayVersion(comm.device());
  if (!On(kInit)) return;
  Line(comm.device(), "", "INFO",
       "ncclCommInitRank comm %p rank %d nranks %d cudaDev %d nvmlDev %d busId %" PRIx64
       " commId 0x%" PRIx64 " - Init START",
       static_cast<const void*>(&comm), comm.rank(), comm.nranks(), comm.device(), comm.device(),
       BusId(comm), comm.hash());
}

void SplitStart(const Comm& parent, const Comm& child, int color, int key) {
  uint64_t ordinal;
  {
    MutexLock lock(&g_mu);
    ordinal = g_splits[&parent]++;
  }
  if (!On(kInit)) return;
  Line(child.device(), "", "INFO",
       "ncclCommSplit comm %p rank %d nranks %d cudaDev %d nvmlDev %d busId %" PRIx64
       " parent %p splitCount %" PRIu64 " color %d key %d - Init START",
       static_cast<const void*>(&child), child.rank(), child.nranks(), child.device(),
       child.device(), BusId(child), static_cast<const void*>(&parent), ordinal + 1, color, key);
}

void InitComplete(const Comm& comm, const std::string& what) {
  if (!On(kInit)) return;
  Line(comm.device(), "", "INFO",
       "%s comm %p rank %d nranks %d cudaDev %d nvmlDev %d busId %" PRIx64 " commId 0x%" PRIx64
       " - Init COMPLETE",
       what == "CommSplit" ? "ncclCommSplit" : "ncclCommInitRank", static_cast<const void*>(&comm),
       comm.rank(), comm.nranks(), comm.device(), comm.device(), BusId(comm), comm.hash());
}

void Ended(const Comm& comm, bool abort) {
  {
    MutexLock lock(&g_mu);
    g_op_counts.erase(&comm);
    g_splits.erase(&comm);
  }
  if (!On(kInit)) return;
  Line(comm.device(), "", "INFO",
       "comm %p rank %d nranks %d cudaDev %d busId %" PRIx64 " - %s COMPLETE",
       static_cast<const void*>(&comm), comm.rank(), comm.nranks(), comm.device(), BusId(comm),
       abort ? "Abort" : "Destroy");
}

void Op(const char* fn, const void* send, const void* recv, size_t count, int datatype, int op,
        int root, const Comm* comm, const void* stream) {
  // NCCL prints the line once its argument checks passed: a live communicator, a datatype, a
  // root or peer inside the communicator.
  if (!On(kColl) || comm == nullptr || !comm->IsLive() || datatype < 0 ||
      datatype >= kNumDataTypes || root < 0 || root >= comm->nranks())
    return;
  uint64_t op_count;
  {
    MutexLock lock(&g_mu);
    op_count = g_op_counts[comm]++;
  }
  Line(comm->device(), "", "INFO",
       "%s: opCount %" PRIx64
       " sendbuff %p recvbuff %p count %zu datatype %d op %d root %d "
       "comm %p [nranks=%d] stream %p",
       OpName(fn), op_count, send, recv, count, datatype, op, root, static_cast<const void*>(comm),
       comm->nranks(), stream);
}

void Warn(const char* file, int line, const std::string& message) {
  const char* base = strrchr(file, '/');
  char where[256];
  snprintf(where, sizeof(where), "%s:%d", base ? base + 1 : file, line);
  Line(t_device, where, "WARN", "%s", message.c_str());
}

}  // namespace ddrr::emu::nccl_debug
