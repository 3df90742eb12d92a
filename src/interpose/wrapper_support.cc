#include "interpose/wrapper_support.h"

#include <dlfcn.h>
#include <unistd.h>

#include <atomic>
#include <climits>
#include <cstddef>
#include <ctime>
#include <mutex>
#include <string>
#include <unordered_map>

#include "common/enum_names.h"
#include "common/fast_clock.h"
#include "common/fnv1a.h"
#include "common/log.h"
#include "common/mutex.h"
#include "common/symbol_resolver.h"
#include "interpose/app_replay.h"
#include "interpose/completion.h"
#include "interpose/dl_hooks.h"
#include "interpose/session.h"
#include "trace/format.h"
#include "trace/record_encoders.h"

namespace ddrr::interpose {
namespace {

thread_local int t_depth = 0;
thread_local uint32_t t_group_depth = 0;

const char* SonameOf(Library lib) {
  static constexpr const char* kSonames[] = {"libnccl.so.2", "libcudart.so.13", "libcurand.so.10"};
  static_assert(std::size(kSonames) == static_cast<size_t>(Library::kCurand) + 1);
  return NameIn(kSonames, lib, "");
}

// FNV-1a, then a finalizer so nearby inputs spread.
struct KeyHasher {
  uint64_t h = kFnv1aSeed;
  KeyHasher& Add(const void* data, size_t n) {
    h = Fnv1a(data, n, h);
    return *this;
  }
  template <typename T>
  KeyHasher& Add(const T& v) {
    return Add(&v, sizeof(v));
  }
  uint64_t Done() const {
    uint64_t x = h;
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    return x ? x : 1;  // 0 means "no communicator"
  }
};

struct CommState {
  uint64_t key = 0;
  uint64_t ops = 0;     // collectives and p2p issued so far
  uint64_t splits = 0;  // ncclCommSplit calls on this parent (all ranks make them alike)
  uint64_t shrinks = 0;
};

Mutex g_comms_mu;
std::unordered_map<ncclComm_t, CommState> g_comms GUARDED_BY(g_comms_mu);

CommState& StateOf(ncclComm_t comm) EXCLUSIVE_LOCKS_REQUIRED(g_comms_mu) {
  auto [it, fresh] = g_comms.try_emplace(comm);
  if (fresh) it->second.key = KeyHasher().Add("unknown-comm", 12).Add(comm).Done();
  return it->second;
}

}  // namespace

bool InLibddrr(const void* p) { return SameObject(reinterpret_cast<const void*>(&InLibddrr), p); }

void* Resolve(Library lib, const char* name) {
  const void* self = reinterpret_cast<const void*>(&InLibddrr);
  if (lib != Library::kNccl) return FindNextDefinition({name}, SonameOf(lib), self, RealDlsym);
  const std::string profiling = std::string("p") + name;  // NCCL's strong pncclX behind ncclX
  return FindNextDefinition({profiling.c_str(), name}, SonameOf(lib), self, RealDlsym);
}

namespace {
void WarnMissing(const char* name) {
  DDRR_WARN_ONCE("cannot find the real %s (is its library loaded?); returning an error", name);
}
}  // namespace

template <>
ncclResult_t Missing<ncclResult_t>(const char* name) {
  WarnMissing(name);
  return ncclSystemError;
}
template <>
const char* Missing<const char*>(const char* name) {
  WarnMissing(name);
  return "ddrr: the real NCCL library was not found";
}
template <>
cudaError_t Missing<cudaError_t>(const char* name) {
  WarnMissing(name);
  return cudaErrorUnknown;
}
template <>
curandStatus_t Missing<curandStatus_t>(const char* name) {
  WarnMissing(name);
  return CURAND_STATUS_INTERNAL_ERROR;
}
void Missing(const char* name) { WarnMissing(name); }

uint64_t NowNs() { return FastClock::Get().NowNs(); }

bool InsideInterceptedCall() { return t_depth > 0; }

namespace {
// This thread's slot of the in-flight table (nullptr beyond it, or not recording).
record::InFlightSlot* ThreadSlot() {
  thread_local record::InFlightSlot* slot = nullptr;
  thread_local bool looked = false;
  if (!looked) {
    record::Recorder* r = RunningRecorder();
    if (!r) return nullptr;  // not yet: look again next time
    slot = r->InFlight(ThreadIndex());
    looked = true;
  }
  return slot;
}
}  // namespace

InFlightCall::InFlightCall(bool recording, trace::FunctionId fn, const void* comm, int64_t detail,
                           uint64_t t0) {
  if (!recording) return;
  record::InFlightSlot* s = ThreadSlot();
  if (!s) return;
  s->comm_handle.store(reinterpret_cast<uintptr_t>(comm), std::memory_order_relaxed);
  s->detail.store(static_cast<uint64_t>(detail), std::memory_order_relaxed);
  s->since_ns.store(t0 - SessionStartNs(), std::memory_order_relaxed);
  s->fn.store(static_cast<uint32_t>(fn), std::memory_order_release);
  slot_ = s;
}

InFlightCall::~InFlightCall() {
  if (slot_) static_cast<record::InFlightSlot*>(slot_)->fn.store(0, std::memory_order_release);
}

CallGuard::CallGuard() {
  const bool outer = t_depth++ == 0;
  recording_ = outer && ActiveRecorder() != nullptr;
  replaying_ = outer && ReplayLoaded();  // the session started just above, with the recorder
}
CallGuard::~CallGuard() { --t_depth; }

namespace {
trace::WireEncoder& ThreadEncoder() {
  thread_local trace::WireEncoder e;
  return e;
}
}  // namespace

CallEvent::CallEvent(trace::FunctionId fn, uint64_t t0, int64_t result)
    : fn_(fn),
      t0_(t0),
      t1_(NowNs()),
      result_(result),
      group_depth_(t_group_depth),
      encoder_(ThreadEncoder()) {
  encoder_.Clear();
  body_ = encoder_.BeginMessage(trace::field::kEventCall);
}

void CallEvent::OnComm(ncclComm_t comm, bool counts_op) {
  if (comm == nullptr) return;  // e.g. ncclGetLastError(NULL): no communicator involved
  MutexLock lock(&g_comms_mu);
  CommState& s = StateOf(comm);
  comm_key_ = s.key;
  if (counts_op) {
    op_seq_ = ++s.ops;
    counts_op_ = true;
  }
}

void CallEvent::OnCreated(ncclComm_t comm, uint64_t key, int nranks, int rank) {
  comm_key_ = key;
  if (comm == nullptr) return;
  {
    MutexLock lock(&g_comms_mu);
    g_comms[comm] = CommState{key, 0, 0, 0};
  }
  if (nranks < 0 && succeeded()) AskShape(comm);
}

// A split's or shrink's size and this rank's place in it are NCCL's to say: asked once it is
// ready (a non-blocking communicator may still be in progress: then not asked). Queries only,
// through the real functions: the job sees nothing of them. Not under application replay, whose
// communicators may be ones NCCL never made.
void CallEvent::AskShape(ncclComm_t comm) {
  if (ReplayLoaded()) return;
  static const auto async_error = DDRR_REAL(kNccl, ncclCommGetAsyncError);
  static const auto count = DDRR_REAL(kNccl, ncclCommCount);
  static const auto user_rank = DDRR_REAL(kNccl, ncclCommUserRank);
  ncclResult_t state = ncclInProgress;
  int n = 0, r = 0;
  if (!async_error || !count || !user_rank || async_error(comm, &state) != ncclSuccess ||
      state != ncclSuccess || count(comm, &n) != ncclSuccess || user_rank(comm, &r) != ncclSuccess)
    return;
  created_nranks_ = n;
  created_rank_ = r;
}

void CallEvent::OnStream(cudaStream_t stream) {
  stream_ = stream;
  graph_captured_ = StreamIsCapturing(stream);
}

void CallEvent::OnGroup(trace::FunctionId fn) {
  // NCCL leaves a group even when its ncclGroupEnd fails (only an unmatched one changes nothing).
  if (fn == trace::FunctionId::kNcclGroupEnd && t_group_depth > 0) --t_group_depth;
  if (result_ != ncclSuccess && result_ != ncclInProgress) return;
  if (fn == trace::FunctionId::kNcclGroupStart) ++t_group_depth;
}

void CallEvent::Commit(DataCapture* data) {
  record::Recorder* r = RunningRecorder();  // CallGuard started it; no second call_once here
  if (!r) return;
  trace::CallInfo c;
  c.result = result_;
  c.duration_ns = t1_ > t0_ ? t1_ - t0_ : 0;
  c.comm_key = comm_key_;
  c.group_depth = group_depth_;
  c.graph_captured = graph_captured_;
  c.created_nranks = created_nranks_;
  c.created_rank = created_rank_;
  trace::EncodeCallCommon(encoder_, c);
  encoder_.EndMessage(body_);
  if (counts_op_) FlushLaunchCounts(t0_ - SessionStartNs());  // launches since the last one
  trace::EventMeta meta;
  meta.comm_key = comm_key_;
  meta.op_seq = op_seq_;
  const uint64_t seq = r->Append(ThreadIndex(), t0_ - SessionStartNs(), encoder_.view(), meta);
  const bool ok = result_ == ncclSuccess || result_ == ncclInProgress;
  StagedBuffers staged = data ? data->Take(seq, ok && !graph_captured_) : StagedBuffers();
  if (counts_op_ && ok && !graph_captured_)
    OnCollectiveIssued(seq, comm_key_, op_seq_, stream_, group_depth_, std::move(staged));
  if (fn_ == trace::FunctionId::kNcclGroupEnd) OnGroupEnded(seq, t_group_depth, ok);
}

std::string_view UniqueIdBytes(const ncclUniqueId* id) {
  return id ? std::string_view(id->internal, NCCL_UNIQUE_ID_BYTES) : std::string_view();
}

std::span<const std::string_view> UniqueIds(const ncclUniqueId* ids, int n) {
  thread_local std::vector<std::string_view> v;
  v.clear();
  for (int i = 0; ids && i < n; ++i) v.push_back(UniqueIdBytes(&ids[i]));
  return v;
}

std::span<const int64_t> Ints(const int* p, int n) {
  thread_local std::vector<int64_t> v;
  v.assign(p && n > 0 ? p : nullptr, p && n > 0 ? p + n : nullptr);
  return v;
}

std::span<const uint64_t> Handles(const ncclComm_t* p, int n) {
  thread_local std::vector<uint64_t> v;
  v.clear();
  for (int i = 0; p && i < n; ++i) v.push_back(Scalar(p[i]));
  return v;
}

// ncclConfig_t grew over NCCL versions: read only the fields the caller's struct has (`size`).
const trace::NcclConfigValue* Config(const ncclConfig_t* config) {
  if (config == nullptr) return nullptr;
  thread_local trace::NcclConfigValue v;
  v = trace::NcclConfigValue{};
  const size_t size = config->size;
  auto has = [&](size_t offset, size_t bytes) { return offset + bytes <= size; };
#define DDRR_CONFIG_INT(i, field)                                                                  \
  if (has(offsetof(ncclConfig_t, field), sizeof(int)) && config->field != NCCL_CONFIG_UNDEF_INT) { \
    v.has[i] = true;                                                                               \
    v.value[i] = config->field;                                                                    \
  }
#define DDRR_CONFIG_STR(i, field)                                           \
  if (has(offsetof(ncclConfig_t, field), sizeof(char*)) && config->field) { \
    v.has[i] = true;                                                        \
    v.text[i] = config->field;                                              \
  }
  DDRR_CONFIG_INT(0, blocking)
  DDRR_CONFIG_INT(1, cgaClusterSize)
  DDRR_CONFIG_INT(2, minCTAs)
  DDRR_CONFIG_INT(3, maxCTAs)
  DDRR_CONFIG_STR(4, netName)
  DDRR_CONFIG_INT(5, splitShare)
  DDRR_CONFIG_INT(6, trafficClass)
  DDRR_CONFIG_STR(7, commName)
  DDRR_CONFIG_INT(8, collnetEnable)
  DDRR_CONFIG_INT(9, CTAPolicy)
  DDRR_CONFIG_INT(10, shrinkShare)
  DDRR_CONFIG_INT(11, nvlsCTAs)
  DDRR_CONFIG_INT(12, nChannelsPerNetPeer)
  DDRR_CONFIG_INT(13, nvlinkCentricSched)
#undef DDRR_CONFIG_INT
#undef DDRR_CONFIG_STR
  return &v;
}

// A host-immediate PreMulSum scalar is read now (it is a value the job chose); a device one is
// not (reading device memory would synchronise the job).
std::string_view ScalarBytes(const void* scalar, ncclDataType_t datatype,
                             ncclScalarResidence_t residence) {
  if (scalar == nullptr || residence != ncclScalarHostImmediate) return {};
  return {static_cast<const char*>(scalar), DatatypeBytes(datatype)};
}

namespace hooks {

void NcclCommInitRank(CallEvent& ev, ncclComm_t* comm, int nranks, ncclUniqueId id, int rank) {
  const uint64_t key = KeyHasher().Add(id.internal, NCCL_UNIQUE_ID_BYTES).Add(nranks).Done();
  ev.OnCreated(comm ? *comm : nullptr, key, nranks, rank);
  if (ev.succeeded()) AdoptRankFromComm(rank, nranks);
}

void NcclCommInitRankConfig(CallEvent& ev, ncclComm_t* comm, int nranks, ncclUniqueId id, int rank,
                            ncclConfig_t*) {
  NcclCommInitRank(ev, comm, nranks, id, rank);
}

void NcclCommInitRankScalable(CallEvent& ev, ncclComm_t* comm, int nranks, int rank, int n_id,
                              ncclUniqueId* ids, ncclConfig_t*) {
  KeyHasher h;
  for (int i = 0; ids && i < n_id; ++i) h.Add(ids[i].internal, NCCL_UNIQUE_ID_BYTES);
  ev.OnCreated(comm ? *comm : nullptr, h.Add(nranks).Done(), nranks, rank);
  if (ev.succeeded()) AdoptRankFromComm(rank, nranks);
}

// All ranks of an InitAll communicator live in this process: one key for all of them.
void NcclCommInitAll(CallEvent& ev, ncclComm_t* comms, int ndev, const int*) {
  static std::atomic<uint64_t> ordinal{0};
  const uint64_t n = ordinal.fetch_add(1);
  const uint64_t key =
      KeyHasher().Add("initall", 7).Add(static_cast<uint64_t>(getpid())).Add(n).Add(ndev).Done();
  for (int i = 0; comms && i < ndev; ++i) ev.OnCreated(comms[i], key, ndev, i);
  ev.OnCreated(nullptr, key, ndev, -1);
}

// A split's key = parent key + color + how many splits the parent has seen: the same on every
// rank, because splits are collective over the parent.
void NcclCommSplit(CallEvent& ev, ncclComm_t parent, int color, int, ncclComm_t* newcomm,
                   ncclConfig_t*) {
  uint64_t parent_key, ordinal;
  {
    MutexLock lock(&g_comms_mu);
    CommState& p = StateOf(parent);
    parent_key = p.key;
    ordinal = ++p.splits;
  }
  const uint64_t key = KeyHasher().Add(parent_key).Add(color).Add(ordinal).Done();
  ev.OnCreated(newcomm ? *newcomm : nullptr, key, -1, -1);
}

void NcclCommShrink(CallEvent& ev, ncclComm_t parent, int*, int, ncclComm_t* newcomm, ncclConfig_t*,
                    int) {
  uint64_t parent_key, ordinal;
  {
    MutexLock lock(&g_comms_mu);
    CommState& p = StateOf(parent);
    parent_key = p.key;
    ordinal = ++p.shrinks;
  }
  const uint64_t key = KeyHasher().Add(parent_key).Add("shrink", 6).Add(ordinal).Done();
  ev.OnCreated(newcomm ? *newcomm : nullptr, key, -1, -1);
}

}  // namespace hooks
}  // namespace ddrr::interpose
