#include "interpose/app_replay.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "common/crc32c.h"
#include "common/log.h"
#include "common/mutex.h"
#include "common/params.h"
#include "interpose/data_capture.h"
#include "interpose/session.h"
#include "interpose/wrapper_support.h"
#include "replay/app/script_format.h"
#include "replay/progress.h"

namespace ddrr::interpose {
namespace {

using replay::app::ScriptArg;
using replay::app::ScriptCall;
using replay::app::ScriptEntropy;
using replay::app::ScriptHeader;
using replay::app::ScriptRng;
using replay::app::ScriptThread;
namespace sf = replay::app;

enum class Policy { kStop, kReport, kIgnore };  // DDRR_REPLAY_ON_DIVERGENCE's choices

struct Script {
  const uint8_t* base = nullptr;
  const ScriptHeader* header = nullptr;
  const ScriptThread* threads = nullptr;
  const ScriptCall* calls = nullptr;
  const ScriptArg* args = nullptr;
  const ScriptEntropy* entropy = nullptr;
  const ScriptRng* rngs = nullptr;
  const char* blob = nullptr;
  std::string_view Blob(uint64_t offset, uint64_t bytes) const {
    return {blob + offset, static_cast<size_t>(bytes)};
  }
};

Script g_script;
std::atomic<bool> g_active{false};
Policy g_policy = Policy::kStop;
bool g_restore_rng = false;
int g_result_fd = -1;
std::atomic<uint32_t> g_next_thread{0};
std::atomic<uint64_t> g_matched{0};
std::atomic<uint64_t> g_divergences{0};
std::atomic<bool> g_failed{false};  // a replay error (missing data): the end says so
// Where the CLI sees this rank move (a program that stops calling is stopped after a timeout).
replay::ProgressWriter g_progress(nullptr);

Mutex g_mu;  // numbering, allocations, virtual handles, RNG states, the result file
// By family: the generated wrappers pass string literals, so views of them stay valid.
std::unordered_map<std::string_view, std::unordered_map<const void*, uint64_t>> g_handles
    GUARDED_BY(g_mu);
struct Allocation {
  uint64_t id, size;
};
std::map<uintptr_t, Allocation> g_allocations GUARDED_BY(g_mu);
uint64_t g_next_allocation GUARDED_BY(g_mu) = 1;
struct VirtualComm {
  int nranks, rank;
};
std::unordered_map<const void*, VirtualComm> g_virtual_comms GUARDED_BY(g_mu);
std::unordered_map<std::string, std::string> g_restored_rng GUARDED_BY(g_mu);
// A resumed program (--from step:N) makes its own setup and allocations: recorded handles and
// allocations correspond to its own one to one, as first seen (apitrace's handle maps).
std::unordered_map<std::string, std::unordered_map<uint64_t, uint64_t>> g_recorded_to_replay
    GUARDED_BY(g_mu);
std::unordered_map<std::string, std::unordered_map<uint64_t, uint64_t>> g_replay_to_recorded
    GUARDED_BY(g_mu);

bool g_resuming = false;             // the script starts at a resume step
std::atomic<bool> g_resumed{false};  // ... and the program has marked it
uint64_t g_expected_calls = 0;       // calls the program is to make: setup, then from the step

constexpr uint32_t kNoThread = UINT32_MAX;
struct ThreadCursor {
  uint32_t script = kNoThread;
  bool paired = false;
  bool at_resume = false;  // moved to the resume point
  uint64_t call = 0;
  uint64_t entropy[8] = {};
  uint64_t rng = 0;
};
__attribute__((tls_model("initial-exec"))) thread_local ThreadCursor t_cursor;

ThreadCursor& Cursor() {
  if (!t_cursor.paired) {
    t_cursor.paired = true;
    const uint32_t k = g_next_thread.fetch_add(1);
    t_cursor.script = k < g_script.header->thread_count ? k : kNoThread;
  }
  if (g_resuming && !t_cursor.at_resume && t_cursor.script != kNoThread &&
      g_resumed.load(std::memory_order_acquire)) {
    const ScriptThread& t = g_script.threads[t_cursor.script];
    t_cursor.at_resume = true;
    t_cursor.call = std::max(t_cursor.call, t.resume_call);
    for (uint64_t& e : t_cursor.entropy) e = t.resume_entropy;
    t_cursor.rng = t.resume_rng;
  }
  return t_cursor;
}

// Before a resumed program marks its resume step: only its communicator setup is replayed.
bool InSetup() { return g_resuming && !g_resumed.load(std::memory_order_acquire); }

// Whether recorded number `recorded` of `family` is the program's `replayed` (resumed programs).
bool Corresponds(const std::string& family, uint64_t recorded, uint64_t replayed)
    EXCLUSIVE_LOCKS_REQUIRED(g_mu) {
  if (recorded == 0 || replayed == 0) return recorded == replayed;
  auto& forward = g_recorded_to_replay[family];
  auto& backward = g_replay_to_recorded[family];
  auto f = forward.find(recorded);
  if (f != forward.end()) return f->second == replayed;
  if (backward.count(replayed)) return false;
  forward[recorded] = replayed;
  backward[replayed] = recorded;
  return true;
}

// Appends one line to the result file (the CLI's report reads it).
void WriteLine(const std::string& line) {
  if (g_result_fd < 0) return;
  const std::string text = line + "\n";
  [[maybe_unused]] ssize_t n = write(g_result_fd, text.data(), text.size());
}

std::string FunctionName(uint32_t fn) {
  const trace::FunctionInfo* info = trace::FindFunction(static_cast<trace::FunctionId>(fn));
  return info ? std::string(info->name) : "function#" + std::to_string(fn);
}

// Ends the program after a divergence under --on-divergence stop: the replay's own trace is
// closed first, so `ddrr diff` and `ddrr check` can read it.
[[noreturn]] void StopProgram(const char* why) {
  WriteLine(std::string("end status=") + why + " matched=" + std::to_string(g_matched.load()) +
            " divergences=" + std::to_string(g_divergences.load()));
  if (g_result_fd >= 0) close(g_result_fd);
  g_result_fd = -1;
  CloseSession();
  _exit(1);
}

// Notes a divergence; under stop, ends the program.
void Divergence(uint32_t thread, uint64_t index, uint64_t seq, uint32_t fn, const std::string& what,
                const std::string& given = "") {
  g_divergences.fetch_add(1);
  if (g_policy == Policy::kIgnore) return;
  {
    MutexLock lock(&g_mu);
    static uint64_t written = 0;
    if (written++ < 100) {
      char head[160];
      snprintf(head, sizeof(head), "divergence thread=%u index=%llu seq=%llu fn=%u ", thread,
               static_cast<unsigned long long>(index), static_cast<unsigned long long>(seq), fn);
      WriteLine(head + std::string("what=") + what);
      if (!given.empty()) WriteLine(given);
    }
  }
  if (g_policy == Policy::kStop) StopProgram("diverged");
}

bool MapScript(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    DDRR_WARN("application replay: cannot open %s; the program runs unreplayed", path.c_str());
    return false;
  }
  struct stat st;
  void* map = MAP_FAILED;
  if (fstat(fd, &st) == 0 && st.st_size >= static_cast<off_t>(sizeof(ScriptHeader)))
    map = mmap(nullptr, static_cast<size_t>(st.st_size), PROT_READ, MAP_PRIVATE, fd, 0);
  close(fd);
  if (map == MAP_FAILED) {
    DDRR_WARN("application replay: %s is not a replay script", path.c_str());
    return false;
  }
  const auto* base = static_cast<const uint8_t*>(map);
  const auto* h = reinterpret_cast<const ScriptHeader*>(base);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  auto fits = [&](uint64_t offset, uint64_t count, uint64_t each) {
    return offset <= size && count <= (size - offset) / each;
  };
  const bool ok = memcmp(h->magic, sf::kScriptMagic, sizeof(h->magic)) == 0 &&
                  h->version == sf::kScriptVersion && h->file_bytes == size &&
                  fits(h->threads_offset, h->thread_count, sizeof(ScriptThread)) &&
                  fits(h->calls_offset, h->call_count, sizeof(ScriptCall)) &&
                  fits(h->args_offset, h->arg_count, sizeof(ScriptArg)) &&
                  fits(h->entropy_offset, h->entropy_count, sizeof(ScriptEntropy)) &&
                  fits(h->rng_offset, h->rng_count, sizeof(ScriptRng)) &&
                  fits(h->blob_offset, h->blob_bytes, 1) &&
                  Crc32c(base + sizeof(ScriptHeader), size - sizeof(ScriptHeader)) == h->crc;
  if (!ok) {
    DDRR_WARN(
        "application replay: %s is damaged or of another version; the program runs "
        "unreplayed",
        path.c_str());
    munmap(map, size);
    return false;
  }
  g_script.base = base;
  g_script.header = h;
  g_script.threads = reinterpret_cast<const ScriptThread*>(base + h->threads_offset);
  g_script.calls = reinterpret_cast<const ScriptCall*>(base + h->calls_offset);
  g_script.args = reinterpret_cast<const ScriptArg*>(base + h->args_offset);
  g_script.entropy = reinterpret_cast<const ScriptEntropy*>(base + h->entropy_offset);
  g_script.rngs = reinterpret_cast<const ScriptRng*>(base + h->rng_offset);
  g_script.blob = reinterpret_cast<const char*>(base + h->blob_offset);
  return true;
}

uint64_t NumberHandle(const char* family, const void* h) EXCLUSIVE_LOCKS_REQUIRED(g_mu) {
  if (h == nullptr) return 0;
  auto& ids = g_handles[family];
  return ids.emplace(h, ids.size() + 1).first->second;
}

std::string Hex(uint64_t v) {
  char buf[24];
  snprintf(buf, sizeof(buf), "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

}  // namespace

void StartAppReplay() {
  const char* dir = param::Raw(param::kReplayDir);
  const char* rank = param::EnvValue("RANK");
  if (!dir) return;
  const std::string prefix = std::string(dir) + "/rank-" + (rank ? rank : "0");
  if (!MapScript(prefix + ".script")) return;
  // The choices of DDRR_REPLAY_ON_DIVERGENCE are the Policy values in order.
  g_policy = static_cast<Policy>(param::Choice(param::kReplayOnDivergence));
  g_restore_rng = param::Flag(param::kReplayRestoreRng);
  g_resuming = g_script.header->resume_step != INT64_MIN;
  for (uint32_t i = 0; i < g_script.header->thread_count; ++i) {
    const ScriptThread& t = g_script.threads[i];
    g_expected_calls += t.call_count - (g_resuming ? t.resume_call : 0);
    for (uint64_t k = 0; g_resuming && k < t.resume_call; ++k)
      if (g_script.calls[t.first_call + k].flags & sf::kCallSetup) ++g_expected_calls;
  }
  if (const char* table_path = param::Raw(param::kReplayProgress)) {
    auto table = replay::ProgressTable::Open(table_path);
    if (table.ok() && g_script.header->slot < static_cast<uint32_t>(table->slots())) {
      auto* kept = new replay::ProgressTable(std::move(*table));  // lives as long as the process
      replay::RankSlot& slot = kept->slot(static_cast<int>(g_script.header->slot));
      slot.rank.store(g_script.header->rank);
      slot.pid.store(getpid());
      g_progress = replay::ProgressWriter(&slot);
      g_progress.Total(g_expected_calls);
      g_progress.State(replay::RankState::kReplaying);
    }
  }
  const std::string result = prefix + ".result";
  g_result_fd = open(result.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  WriteLine("start pid=" + std::to_string(getpid()));
  g_active.store(true, std::memory_order_release);
}

bool Replaying() {
  ActiveRecorder();  // the session's start loads the script
  return g_active.load(std::memory_order_acquire);
}

bool ReplayLoaded() { return g_active.load(std::memory_order_acquire); }

void FinishAppReplay() {
  if (!g_active.load() || g_result_fd < 0) return;
  // Calls the recording has and the program never made: it ended early.
  const uint64_t left = g_expected_calls - std::min(g_expected_calls, g_matched.load());
  const char* status = g_failed.load() ? "error" : g_divergences.load() > 0 ? "diverged" : "ok";
  WriteLine(std::string("end status=") + status + " matched=" + std::to_string(g_matched.load()) +
            " divergences=" + std::to_string(g_divergences.load()) +
            " unreached=" + std::to_string(left));
  g_progress.State(replay::RankState::kFinished);
}

bool VirtualCommShape(ncclComm_t comm, int* nranks, int* rank) {
  if (!g_active.load(std::memory_order_acquire) || comm == nullptr) return false;
  MutexLock lock(&g_mu);
  auto it = g_virtual_comms.find(comm);
  if (it == g_virtual_comms.end()) return false;
  if (nranks) *nranks = it->second.nranks;
  if (rank) *rank = it->second.rank;
  return true;
}

bool ReplayEntropy(int32_t source, void* buf, size_t len, size_t* served) {
  if (!g_active.load(std::memory_order_acquire) || InSetup()) return false;
  ThreadCursor& c = Cursor();
  const int slot = source >= 0 && source < 8 ? source : 7;
  if (c.script == kNoThread) {
    Divergence(kNoThread, 0, 0, 0, "entropy drawn on a thread the recording does not have");
    return false;
  }
  const ScriptThread& t = g_script.threads[c.script];
  for (uint64_t i = c.entropy[slot]; i < t.entropy_count; ++i) {
    const ScriptEntropy& e = g_script.entropy[t.first_entropy + i];
    if (static_cast<int32_t>(e.source) != source) continue;
    c.entropy[slot] = i + 1;
    const size_t n = std::min<size_t>(len, e.bytes);
    memcpy(buf, g_script.blob + e.blob, n);
    *served = n;
    if (e.bytes != len)
      Divergence(c.script, c.call, 0, 0,
                 "entropy: " + std::to_string(len) + " bytes asked for where the recording drew " +
                     std::to_string(e.bytes));
    return true;
  }
  c.entropy[slot] = t.entropy_count;
  Divergence(c.script, c.call, 0, 0, "entropy: the program draws more than the recording did");
  return false;
}

void ReplayMark(int64_t step) {
  if (g_active.load(std::memory_order_acquire) && g_resuming &&
      step >= g_script.header->resume_step)
    g_resumed.store(true, std::memory_order_release);
}

void ReplayRng(const char* name, const void* bytes, size_t len) {
  if (!g_active.load(std::memory_order_acquire) || InSetup()) return;
  ThreadCursor& c = Cursor();
  if (c.script == kNoThread) return;
  const ScriptThread& t = g_script.threads[c.script];
  const std::string_view wanted = name ? name : "";
  for (uint64_t i = c.rng; i < t.rng_count; ++i) {
    const ScriptRng& r = g_script.rngs[t.first_rng + i];
    if (g_script.Blob(r.name_blob, r.name_bytes) != wanted) continue;
    c.rng = i + 1;
    const std::string_view state = g_script.Blob(r.state_blob, r.state_bytes);
    if (g_restore_rng) {
      MutexLock lock(&g_mu);
      g_restored_rng[std::string(wanted)] = std::string(state);
    } else if (state != std::string_view(static_cast<const char*>(bytes), bytes ? len : 0)) {
      Divergence(c.script, c.call, 0, 0, "RNG state '" + std::string(wanted) + "' differs");
    }
    return;
  }
  Divergence(c.script, c.call, 0, 0,
             "RNG state '" + std::string(wanted) + "' recorded where the recording has none");
}

size_t ReplayRestoreRng(const char* name, void* bytes, size_t capacity) {
  if (!g_active.load(std::memory_order_acquire) || !g_restore_rng) return 0;
  MutexLock lock(&g_mu);
  auto it = g_restored_rng.find(name ? name : "");
  if (it == g_restored_rng.end()) return 0;
  if (bytes && capacity >= it->second.size()) memcpy(bytes, it->second.data(), it->second.size());
  return it->second.size();
}

// ---- ReplayStep ----------------------------------------------------------------------------

ReplayStep::ReplayStep(trace::FunctionId fn, bool replaying) : fn_(fn) {
  if (!replaying) return;
  active_ = true;
  memset(given_, 0, sizeof(given_));
  ThreadCursor& c = Cursor();
  thread_ = c.script;
  if (c.script == kNoThread) return;  // Check() says so
  const ScriptThread& t = g_script.threads[c.script];
  uint64_t end = t.call_count;
  if (InSetup()) {
    // Only communicator setup is matched, with the recorded setup; the rest runs for real.
    const trace::FunctionInfo* info = trace::FindFunction(fn);
    if (!info || (info->category != "comm_create" && fn != trace::FunctionId::kNcclGetUniqueId)) {
      passthrough_ = true;
      return;
    }
    end = t.resume_call;
    while (c.call < end && !(g_script.calls[t.first_call + c.call].flags & sf::kCallSetup))
      ++c.call;
  }
  index_ = c.call;
  if (c.call >= end) return;
  const ScriptCall& call = g_script.calls[t.first_call + c.call++];
  call_ = &call;
  matched_ = call.fn == static_cast<uint32_t>(fn);
  if (matched_) {
    serve_ = call.mode == sf::kModeServe;
    result_ = call.result;
  }
  g_progress.Enter(call.fn, call.seq, call.comm_key, call.op_seq);
}

void ReplayStep::Value(int i, uint64_t v) {
  if (i < 0 || i >= kMaxArgs) return;
  given_[i] = {sf::kArgScalar, 0, v, 0, nullptr, nullptr};
}

void ReplayStep::Scalar(int i, double v) {
  uint64_t bits;
  memcpy(&bits, &v, sizeof(bits));
  Value(i, bits);
}

void ReplayStep::Pointer(int i, const void* p) {
  if (i < 0 || i >= kMaxArgs) return;
  given_[i] = {sf::kArgPointer, p ? 0u : static_cast<uint32_t>(sf::kArgNull), 0, 0, p, nullptr};
}

void ReplayStep::Handle(int i, const char* family, const void* h) {
  if (i < 0 || i >= kMaxArgs) return;
  given_[i] = {sf::kArgHandle, 0, 0, 0, h, family};
}

// Pointers and handles as the recording numbers them, under one lock for the whole call.
void ReplayStep::Number() {
  if (numbered_) return;
  numbered_ = true;
  MutexLock lock(&g_mu);
  for (Given& g : given_) {
    if (g.kind == sf::kArgHandle) {
      g.value = NumberHandle(g.family, g.raw);
      if (strcmp(g.family, "comm") != 0) continue;
      auto it = g_virtual_comms.find(g.raw);
      if (it == g_virtual_comms.end()) continue;
      touches_virtual_ = true;
      shape_nranks_ = it->second.nranks;
      shape_rank_ = it->second.rank;
    } else if (g.kind == sf::kArgPointer && g.raw) {
      const auto addr = reinterpret_cast<uintptr_t>(g.raw);
      auto it = g_allocations.upper_bound(addr);
      if (it == g_allocations.begin()) continue;
      --it;
      if (addr - it->first < std::max<uint64_t>(it->second.size, 1)) {
        g.value = it->second.id;
        g.offset = addr - it->first;
      }
    }
  }
}

void ReplayStep::Input(int i, const void* buffer, cudaStream_t stream) {
  const auto* call = static_cast<const ScriptCall*>(call_);
  if (!serves() || !matched_ || !call || !(call->flags & sf::kCallHasInputDigest) || !buffer)
    return;
  // Arguments first: a count that differs would read past the program's buffer.
  for (uint32_t j = 0; j < call->arg_count && j < kMaxArgs; ++j) {
    const ScriptArg& a = g_script.args[call->first_arg + j];
    if (a.kind == sf::kArgScalar && !(a.flags & sf::kArgOut) && given_[j].value != a.value) return;
  }
  static const auto sync = DDRR_REAL(kCudart, cudaStreamSynchronize);
  static const auto copy = DDRR_REAL(kCudart, cudaMemcpy);
  if (!sync || !copy) return;
  std::string host(call->input_bytes, '\0');
  if (sync(stream) != cudaSuccess ||
      copy(host.data(), buffer, host.size(), cudaMemcpyDefault) != cudaSuccess)
    return;
  const uint64_t digest = DigestOf(host.data(), host.size());
  if (digest != call->input_digest) {
    const trace::FunctionInfo* info = trace::FindFunction(fn_);
    const std::string name =
        info && i < static_cast<int>(info->args.size()) ? std::string(info->args[i].name) : "input";
    args_differ_ = true;
    Diverge(("data: input buffer " + name + " has digest " + Hex(digest) + ", the recording " +
             Hex(call->input_digest) + " (" + std::to_string(call->input_bytes) + " bytes)")
                .c_str(),
            i);
  }
}

void ReplayStep::Diverge(const char* what, int arg) {
  Number();
  const auto* call = static_cast<const ScriptCall*>(call_);
  std::string given = "given";
  const trace::FunctionInfo* info = trace::FindFunction(fn_);
  const int n = info ? std::min<int>(static_cast<int>(info->args.size()), kMaxArgs) : 0;
  for (int j = 0; j < n; ++j) {
    char item[96];
    snprintf(item, sizeof(item), " %u:%u:%llu:%llu", given_[j].kind, given_[j].flags,
             static_cast<unsigned long long>(given_[j].value),
             static_cast<unsigned long long>(given_[j].offset));
    given += item;
  }
  std::string text;
  if (arg >= 0) text.append("arg=").append(std::to_string(arg)).append(" ");
  text.append(what);
  Divergence(thread_, index_, call ? call->seq : 0, static_cast<uint32_t>(fn_), text, given);
}

void ReplayStep::Check() {
  if (!active_) return;
  Number();
  const auto* call = static_cast<const ScriptCall*>(call_);
  if (touches_virtual_ && !matched_) {
    // Nothing recorded answers it, and NCCL never made that communicator: never call NCCL.
    serve_ = true;
    result_ = ncclInvalidUsage;
    const trace::FunctionInfo* info = trace::FindFunction(fn_);
    if (passthrough_ && info && info->category == "comm_query") {
      shape_answers_ = true;  // before the resume point: the communicator's shape answers
      result_ = ncclSuccess;
      return;
    }
    if (passthrough_)
      return Diverge((FunctionName(static_cast<uint32_t>(fn_)) +
                      " before the resume step, on a communicator served from the recording: "
                      "the recording has nothing to answer it with")
                         .c_str());
  }
  if (passthrough_) return;
  // Whatever the script says, NCCL never sees a communicator it did not make.
  if (touches_virtual_ && !serve_) serve_ = true;
  if (thread_ == kNoThread) return Diverge("a thread the recording does not have makes calls");
  if (!call) return Diverge("the recording has no more calls on this thread");
  if (!matched_)
    return Diverge(("called " + FunctionName(static_cast<uint32_t>(fn_)) +
                    " where the recording has " + FunctionName(call->fn))
                       .c_str());
  const trace::FunctionInfo* info = trace::FindFunction(fn_);
  for (uint32_t j = 0; j < call->arg_count && j < kMaxArgs; ++j) {
    const ScriptArg& a = g_script.args[call->first_arg + j];
    if (a.flags & sf::kArgOut) continue;
    const Given& g = given_[j];
    bool same = true;
    if (a.kind == sf::kArgScalar) {
      same = g.value == a.value;
    } else if (a.kind == sf::kArgHandle) {
      MutexLock lock(&g_mu);
      same = g_resuming && info
                 ? Corresponds(std::string(info->args[j].handle_family), a.value, g.value)
                 : g.value == a.value;
    } else if (a.kind == sf::kArgPointer) {
      MutexLock lock(&g_mu);
      if (a.value || g.value) {
        same = (g_resuming ? Corresponds("alloc", a.value, g.value) : a.value == g.value) &&
               a.offset == g.offset;
      } else {
        same = (a.flags & sf::kArgNull) == (g.flags & sf::kArgNull);
      }
    }
    if (!same) {
      args_differ_ = true;
      const std::string name = info ? std::string(info->args[j].name) : std::to_string(j);
      return Diverge(("argument " + name + " differs").c_str(), static_cast<int>(j));
    }
  }
  g_matched.fetch_add(1, std::memory_order_relaxed);
}

int64_t ReplayStep::recorded_result() const { return result_; }

bool ReplayStep::writes_outputs() const {
  const auto* call = static_cast<const ScriptCall*>(call_);
  return shape_answers_ || (serves() && matched_ && call && !(call->flags & sf::kCallFailed));
}

int ReplayStep::MapDevice(int device) const {
  static const auto count_fn = DDRR_REAL(kCudart, cudaGetDeviceCount);
  int count = 0;
  if (!count_fn || count_fn(&count) != cudaSuccess || count <= 0 || device < 0) return device;
  return device % count;
}

void ReplayStep::WaitForQuery(cudaStream_t stream) const {
  static const auto sync = DDRR_REAL(kCudart, cudaStreamSynchronize);
  if (active_ && matched_ && !serve_ && sync) sync(stream);
}

void ReplayStep::WaitForQuery(cudaEvent_t event) const {
  static const auto sync = DDRR_REAL(kCudart, cudaEventSynchronize);
  if (active_ && matched_ && !serve_ && sync) sync(event);
}

int64_t ReplayStep::OutScalar(int i) const {
  const auto* call = static_cast<const ScriptCall*>(call_);
  if (shape_answers_) {  // a query of a served communicator before the resume point
    switch (fn_) {
      case trace::FunctionId::kNcclCommCount:
        return shape_nranks_;
      case trace::FunctionId::kNcclCommUserRank:
        return shape_rank_;
      case trace::FunctionId::kNcclCommCuDevice: {
        static const auto get = DDRR_REAL(kCudart, cudaGetDevice);
        int device = 0;
        if (get) get(&device);
        return device;
      }
      default:
        return ncclSuccess;  // ncclCommGetAsyncError's asyncError
    }
  }
  if (!call || !matched_ || static_cast<uint32_t>(i) >= call->arg_count) return 0;
  return static_cast<int64_t>(g_script.args[call->first_arg + i].raw);
}

double ReplayStep::OutFloat(int i) const {
  const uint64_t bits = static_cast<uint64_t>(OutScalar(i));
  double d;
  memcpy(&d, &bits, sizeof(d));
  return d;
}

void ReplayStep::OutBytes(int i, void* dst, size_t n) const {
  const auto* call = static_cast<const ScriptCall*>(call_);
  if (!call || !matched_ || static_cast<uint32_t>(i) >= call->arg_count || !dst) return;
  const ScriptArg& a = g_script.args[call->first_arg + i];
  if (!(a.flags & sf::kArgBytes)) return;
  memcpy(dst, g_script.blob + a.raw, std::min<size_t>(n, a.raw_bytes));
}

void* ReplayStep::NewHandle(int i, const char* family, int element) const {
  const auto* call = static_cast<const ScriptCall*>(call_);
  // The recording got NULL (a split with NCCL_SPLIT_NOCOLOR): so does the program.
  if (call && static_cast<uint32_t>(i) < call->arg_count) {
    const ScriptArg& a = g_script.args[call->first_arg + i];
    if (a.kind == sf::kArgHandle && a.raw == 0) return nullptr;
  }
  // A distinct address no library made: NCCL never sees it.
  void* h = new char[1];
  if (strcmp(family, "comm") == 0) {
    VirtualComm shape{call ? call->comm_size : -1, call ? call->comm_rank : -1};
    if (fn_ == trace::FunctionId::kNcclCommInitAll) shape.rank = element;
    MutexLock lock(&g_mu);
    g_virtual_comms[h] = shape;
  }
  return h;
}

void ReplayStep::WriteOutput(void* buffer, cudaStream_t stream) {
  const auto* call = static_cast<const ScriptCall*>(call_);
  if (!serves() || !matched_ || !call || (call->flags & sf::kCallFailed)) return;
  if (call->flags & sf::kCallMissingOutput) {
    g_failed.store(true);
    const ScriptHeader& h = *g_script.header;
    std::string window = "the recording holds no payloads";
    if (h.payload_step_begin || h.payload_step_end)
      window = "payloads were recorded for steps " + std::to_string(h.payload_step_begin) + "-" +
               std::to_string(h.payload_step_end) +
               " only; replay with --from step:" + std::to_string(h.payload_step_begin) +
               ", the program resuming from its own checkpoint of that step";
    WriteLine("error seq=" + std::to_string(call->seq) + " what=no payload for " +
              FunctionName(call->fn) + " op " + std::to_string(call->op_seq) +
              (call->step != INT64_MIN ? " at step " + std::to_string(call->step) : "") + ": " +
              window);
    StopProgram("error");
  }
  if (!(call->flags & sf::kCallHasOutput) || !buffer) return;
  static const auto copy = DDRR_REAL(kCudart, cudaMemcpyAsync);
  if (copy)
    copy(buffer, g_script.blob + call->output_blob, call->output_bytes, cudaMemcpyDefault, stream);
}

void ReplayStep::OutHandle(int i, const char* family, const void* h) {
  if (!active_) return;
  (void)i;
  const auto* call = static_cast<const ScriptCall*>(call_);
  if (call && (call->flags & sf::kCallFailed)) return;  // as the recording numbered it
  MutexLock lock(&g_mu);
  NumberHandle(family, h);
}

void ReplayStep::Allocated(const void* p, size_t size) {
  if (!active_ || p == nullptr) return;
  MutexLock lock(&g_mu);
  g_allocations[reinterpret_cast<uintptr_t>(p)] = {g_next_allocation++, size};
}

void ReplayStep::Freed(const void* p) {
  if (!active_) return;
  MutexLock lock(&g_mu);
  g_allocations.erase(reinterpret_cast<uintptr_t>(p));
}

int64_t ReplayStep::After(int64_t result) {
  const auto* call = static_cast<const ScriptCall*>(call_);
  if (call) g_progress.Leave();
  if (!active_ || !matched_ || !call) return result;
  if (serve_ || call->mode == sf::kModeCallServe) return call->result;
  if (result != call->result && !args_differ_) {
    Diverge(("returned " + std::to_string(result) + " where the recording returned " +
             std::to_string(call->result))
                .c_str());
  }
  return result;
}

}  // namespace ddrr::interpose
