#include "replay/rank/replayer.h"

#include <chrono>
#include <thread>

#include "common/log.h"
#include "replay/hang.h"

namespace ddrr::replay {

namespace {

// The handle tables; the caller holds the one lock that guards them all.
template <typename Map>
auto FindIn(const Map& map, typename Map::key_type key)
    -> std::optional<typename Map::mapped_type> {
  auto it = map.find(key);
  if (it == map.end()) return std::nullopt;
  return it->second;
}

template <typename Map>
void PutIn(Map& map, typename Map::key_type key, typename Map::mapped_type value) {
  map[key] = value;
}

}  // namespace

Replayer::Replayer(const ReplayPlan& plan, const RankPlan& rank)
    : plan_(plan), rank_(rank), rendezvous_(plan.work_dir(), plan.timeout_seconds()) {
  for (const PlanComm& c : plan.comms()) plan_comms_[c.key()] = &c;
  for (const PlanAllocation& a : rank.allocations()) allocation_bytes_[a.call_seq()] = a.bytes();
  for (const PlanDevice& d : rank.devices()) devices_[d.recorded()] = d.replay();
}

Status Replayer::AllocateRegions() {
  for (const PlanRegion& region : rank_.regions()) {
    void* live = nullptr;
    const cudaError_t r = cudaMalloc(&live, region.bytes());
    if (r != cudaSuccess)
      return Status::Unavailable("cannot allocate " + std::to_string(region.bytes()) +
                                 " bytes for recorded memory at " + std::to_string(region.base()) +
                                 ": " + cudaGetErrorString(r));
    BindAllocation(region.base(), region.bytes(), live);
  }
  return Status::Ok();
}

const PlanComm* Replayer::FindPlanComm(uint64_t key) const {
  auto it = plan_comms_.find(key);
  return it == plan_comms_.end() ? nullptr : it->second;
}

bool Replayer::CommReplayed(uint64_t key) const {
  const PlanComm* c = FindPlanComm(key);
  return c != nullptr && c->replayed();
}

int Replayer::PlanCommRank(uint64_t key) const {
  const PlanComm* c = FindPlanComm(key);
  if (c == nullptr) return -1;
  int found = -1;
  for (int i = 0; i < c->member_ranks_size(); ++i) {
    if (c->member_ranks(i) != rank()) continue;
    if (found >= 0) return -1;  // this process holds several members: the plan cannot tell
    found = i;
  }
  return found;
}

void Replayer::BindComm(uint64_t recorded, const CommBinding& binding) {
  MutexLock lock(&mu_);
  PutIn(comms_, recorded, binding);
}

std::optional<CommBinding> Replayer::FindComm(uint64_t recorded) const {
  MutexLock lock(&mu_);
  return FindIn(comms_, recorded);
}

uint32_t Replayer::NextCreation(uint64_t key) {
  MutexLock lock(&mu_);
  return creations_[key]++;
}

ncclResult_t Replayer::WaitSettled(ncclComm_t comm, ncclResult_t* state) const {
  const auto deadline = DeadlineAfter(plan_.timeout_seconds());
  *state = ncclSuccess;
  ncclResult_t result = ncclCommGetAsyncError(comm, state);
  while (result == ncclSuccess && *state == ncclInProgress &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::microseconds(100));
    result = ncclCommGetAsyncError(comm, state);
  }
  return result;
}

std::optional<cudaStream_t> Replayer::Stream(uint64_t recorded) {
  // The legacy default stream (0), cudaStreamLegacy (1) and cudaStreamPerThread (2) are the
  // same in every process.
  if (recorded <= 2) return reinterpret_cast<cudaStream_t>(recorded);
  {
    MutexLock lock(&mu_);
    if (auto known = FindIn(streams_, recorded)) return known;
  }
  cudaStream_t s = nullptr;
  if (cudaStreamCreate(&s) != cudaSuccess) return std::nullopt;
  DDRR_INFO(log::kAll, "replay: a stream the recording did not create is created on first use");
  BindStream(recorded, s);
  return s;
}

std::optional<cudaEvent_t> Replayer::Event(uint64_t recorded) {
  {
    MutexLock lock(&mu_);
    if (auto known = FindIn(events_, recorded)) return known;
  }
  cudaEvent_t e = nullptr;
  if (cudaEventCreateWithFlags(&e, cudaEventDisableTiming) != cudaSuccess) return std::nullopt;
  BindEvent(recorded, e);
  return e;
}

std::optional<void*> Replayer::Registration(uint64_t recorded) const {
  MutexLock lock(&mu_);
  return FindIn(registrations_, recorded);
}
std::optional<ncclWindow_t> Replayer::Window(uint64_t recorded) const {
  MutexLock lock(&mu_);
  return FindIn(windows_, recorded);
}
std::optional<ncclRedOp_t> Replayer::RedOp(int64_t recorded) const {
  if (recorded >= 0 && recorded < ncclNumOps) return static_cast<ncclRedOp_t>(recorded);
  MutexLock lock(&mu_);
  return FindIn(redops_, recorded);
}

void Replayer::BindStream(uint64_t recorded, cudaStream_t live) {
  MutexLock lock(&mu_);
  PutIn(streams_, recorded, live);
}
void Replayer::BindEvent(uint64_t recorded, cudaEvent_t live) {
  MutexLock lock(&mu_);
  PutIn(events_, recorded, live);
}
void Replayer::BindRegistration(uint64_t recorded, void* live) {
  MutexLock lock(&mu_);
  PutIn(registrations_, recorded, live);
}
void Replayer::BindWindow(uint64_t recorded, ncclWindow_t live) {
  MutexLock lock(&mu_);
  PutIn(windows_, recorded, live);
}
void Replayer::BindRedOp(int64_t recorded, ncclRedOp_t live) {
  MutexLock lock(&mu_);
  PutIn(redops_, recorded, live);
}

uint64_t Replayer::AllocationBytes(uint64_t seq) const {
  auto it = allocation_bytes_.find(seq);
  return it == allocation_bytes_.end() ? 0 : it->second;
}

void Replayer::BindAllocation(uint64_t recorded_base, uint64_t recorded_size, void* live) {
  MutexLock lock(&mu_);
  memory_[recorded_base] = {recorded_size, live};
}

void* Replayer::UnbindAllocation(uint64_t recorded_base) {
  MutexLock lock(&mu_);
  auto it = memory_.find(recorded_base);
  if (it == memory_.end()) return nullptr;
  void* live = it->second.live;
  memory_.erase(it);
  return live;
}

std::optional<void*> Replayer::Translate(uint64_t recorded) const {
  if (recorded == 0) return nullptr;
  MutexLock lock(&mu_);
  auto it = memory_.upper_bound(recorded);
  if (it == memory_.begin()) return std::nullopt;
  --it;
  const uint64_t offset = recorded - it->first;
  if (offset > it->second.recorded_size) return std::nullopt;  // one past the end: empty buffers
  return static_cast<char*>(it->second.live) + offset;
}

std::optional<int> Replayer::Device(int recorded) const {
  auto it = devices_.find(recorded);
  if (it == devices_.end()) return std::nullopt;
  return it->second;
}

int Replayer::InitialDevice() const {
  auto d = Device(rank_.initial_device());
  if (d) return *d;
  return devices_.empty() ? 0 : devices_.begin()->second;
}

const char* Replayer::Keep(const std::string& text) {
  MutexLock lock(&mu_);
  kept_.push_back(text);
  return kept_.back().c_str();
}

}  // namespace ddrr::replay
