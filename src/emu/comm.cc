#include "emu/comm.h"

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "common/log.h"
#include "common/mutex.h"
#include "common/params.h"
#include "emu/unique_id.h"

namespace ddrr::emu {
namespace {

constexpr auto kLivenessInterval = std::chrono::milliseconds(100);

Mutex g_last_error_mu;
std::string* g_last_error PT_GUARDED_BY(g_last_error_mu) =
    new std::string();  // leaked: read during exit by C callers

std::string JoinRanks(const std::vector<int>& ranks) {
  std::string s;
  for (size_t i = 0; i < ranks.size() && i < 16; ++i) {
    if (i) s += ",";
    s += std::to_string(ranks[i]);
  }
  if (ranks.size() > 16) s += ",...";
  return s;
}

std::string FormatSeconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%g", s);
  return buf;
}

}  // namespace

CommOptions ResolveOptions(CommOptions o, int nranks) {
  if (o.device_key < 0) o.device_key = o.device;
  if (o.timeout_s <= 0) o.timeout_s = param::Real(param::kEmuTimeout);
  if (o.strict_devices < 0) o.strict_devices = param::Flag(param::kEmuStrictDevices) ? 1 : 0;
  if (o.chunk_bytes == 0) {
    // A few MiB per rank keeps copies efficient while the staging area stays bounded.
    size_t fallback =
        std::clamp<size_t>((size_t{32} << 20) / std::max(nranks, 1), 256 << 10, size_t{4} << 20);
    o.chunk_bytes = static_cast<size_t>(param::Int(param::kEmuChunkBytes, fallback));
  }
  // Room for one 8-byte element per rank (all-to-all splits a slot n ways), 4 KiB aligned.
  o.chunk_bytes = std::max<size_t>(o.chunk_bytes, 8 * static_cast<size_t>(nranks));
  o.chunk_bytes = (o.chunk_bytes + 4095) / 4096 * 4096;
  if (o.direct < 0) o.direct = param::Flag(param::kEmuDirect) ? 1 : 0;
  if (o.direct_min_bytes < 0) o.direct_min_bytes = param::Int(param::kEmuDirectMinBytes);
  if (o.mem == nullptr) o.mem = HostMemoryOps();
  return o;
}

Comm::Comm(int rank, int nranks, uint64_t hash, std::string segment_name, int creator_pid,
           const CommOptions& options)
    : rank_(rank),
      nranks_(nranks),
      hash_(hash),
      segment_name_(std::move(segment_name)),
      creator_pid_(creator_pid),
      options_(ResolveOptions(options, nranks)),
      send_next_(nranks, 0),
      recv_next_(nranks, 0) {}

Comm::~Comm() { magic_ = 0; }

void Comm::Configure(int rank, int nranks, uint64_t hash, std::string segment_name,
                     int creator_pid) {
  rank_ = rank;
  nranks_ = nranks;
  hash_ = hash;
  segment_name_ = std::move(segment_name);
  creator_pid_ = creator_pid;
  send_next_.assign(nranks, 0);
  recv_next_.assign(nranks, 0);
}

std::string Comm::Describe() const {
  std::string s = "comm " + Hex64(hash_);
  if (!options_.name.empty()) s += " (" + options_.name + ")";
  return s + " rank " + std::to_string(rank_);
}

Result Comm::CheckUsable(const char* opname) const {
  switch (state_) {
    case CommState::kReady:
      return Result::Ok();
    case CommState::kInitializing:
      return Result(Code::kInvalidUsage, std::string(opname) + ": " + Describe() +
                                             " is not initialized (call ncclGroupEnd first)");
    case CommState::kFinalized:
      return Result(Code::kInvalidUsage,
                    std::string(opname) + ": " + Describe() + " was finalized");
    case CommState::kRevoked:
      return Result(Code::kInvalidUsage, std::string(opname) + ": " + Describe() + " was revoked");
    case CommState::kFailed: {
      MutexLock lock(&error_mu_);
      return Result(async_error_,
                    std::string(opname) + ": " + Describe() + " is in error state: " + last_error_);
    }
  }
  return Result::Ok();
}

void Comm::Fail(const Result& error, bool publish) {
  {
    MutexLock lock(&error_mu_);
    if (async_error_ == Code::kSuccess) {
      async_error_ = error.code();
      last_error_ = error.message();
    }
  }
  if (state_ != CommState::kRevoked) state_ = CommState::kFailed;
  if (!publish || seg_ == nullptr || !claimed_) return;
  SegmentHeader* h = seg_->header();
  uint32_t expected = 0;
  if (std::atomic_ref<uint32_t>(h->failure_claim).compare_exchange_strong(expected, 1)) {
    std::snprintf(h->failure_reason, sizeof(h->failure_reason), "%s", error.message().c_str());
    h->failure_code = static_cast<int32_t>(error.code());
    std::atomic_ref<int32_t>(h->failed_rank_plus1).store(rank_ + 1, std::memory_order_release);
  }
}

void Comm::Revoke() {
  Fail(Result(Code::kRemoteError, Describe() + " was revoked"), /*publish=*/true);
  state_ = CommState::kRevoked;
}

Code Comm::async_error() const {
  MutexLock lock(&error_mu_);
  return async_error_;
}

std::string Comm::last_error() const {
  MutexLock lock(&error_mu_);
  return last_error_;
}

uint64_t Comm::Arrive() {
  ++arrive_;
  std::atomic_ref<uint64_t>(seg_->rank(rank_)->arrive).store(arrive_, std::memory_order_release);
  return arrive_;
}

bool Comm::AllArrived(uint64_t target, std::vector<int>* missing) const {
  missing->clear();
  for (int q = 0; q < nranks_; ++q) {
    if (std::atomic_ref<uint64_t>(seg_->rank(q)->arrive).load(std::memory_order_acquire) < target) {
      missing->push_back(q);
    }
  }
  return missing->empty();
}

Result Comm::CheckWait(Waiter& waiter, const std::vector<int>& missing, const std::string& what) {
  auto now = std::chrono::steady_clock::now();
  if (waiter.since == std::chrono::steady_clock::time_point{}) {
    waiter.since = now;
    waiter.last_liveness_check = now;
    return Result::Pending();
  }
  std::string prefix = "ddrr emu: " + Describe() + " " + what + ": ";
  if (seg_ != nullptr) {
    SegmentHeader* h = seg_->header();
    int failed = std::atomic_ref<int32_t>(h->failed_rank_plus1).load(std::memory_order_acquire);
    if (failed != 0 && failed - 1 != rank_) {
      return Result(Code::kRemoteError, prefix + "rank " + std::to_string(failed - 1) +
                                            " failed: " + h->failure_reason);
    }
    if (now - waiter.last_liveness_check >= kLivenessInterval) {
      waiter.last_liveness_check = now;
      for (int q : missing) {
        const RankSlot* slot = seg_->rank(q);
        if (std::atomic_ref<uint64_t>(const_cast<RankSlot*>(slot)->ready).load() == 0) continue;
        int pid = slot->pid;
        if (ProcessGone(pid)) {
          return Result(Code::kRemoteError, prefix + "rank " + std::to_string(q) + " (pid " +
                                                std::to_string(pid) + ") exited");
        }
      }
    }
  }
  double waited = std::chrono::duration<double>(now - waiter.since).count();
  if (waited >= options_.timeout_s) {
    std::string who = missing.size() == 1 ? "rank " : "ranks ";
    return Result(Code::kRemoteError, prefix + who + JoinRanks(missing) +
                                          " did not arrive within " +
                                          FormatSeconds(options_.timeout_s) + " s");
  }
  return Result::Pending();
}

bool Comm::WantsDirect() const { return options_.direct != 0 && options_.mem->HostAccessible(); }

void Comm::AgreeDirect() {
  // Every rank computes this from the same published values, so all agree without a message.
  bool all = true;
  int64_t min_bytes = 0;
  for (int q = 0; q < nranks_; ++q) {
    const RankSlot* slot = seg_->rank(q);
    all = all && slot->direct != 0;
    min_bytes = std::max(min_bytes, slot->direct_min_bytes);
  }
  direct_mode_ = all ? DirectMode::kUntested : DirectMode::kOff;
  direct_min_bytes_ = min_bytes;
}

uint64_t Comm::ReserveSend(int peer, uint64_t chunks) {
  uint64_t first = send_next_[peer];
  send_next_[peer] += chunks;
  return first;
}

uint64_t Comm::ReserveRecv(int peer, uint64_t chunks) {
  uint64_t first = recv_next_[peer];
  recv_next_[peer] += chunks;
  return first;
}

int Comm::AddPreMulSum(const PreMulSumOp& op) {
  for (size_t i = 0; i < premulsum_.size(); ++i) {
    if (!premulsum_[i].live) {
      premulsum_[i] = op;
      premulsum_[i].live = true;
      return static_cast<int>(i) + static_cast<int>(RedOpKind::kPreMulSum);
    }
  }
  premulsum_.push_back(op);
  premulsum_.back().live = true;
  return static_cast<int>(premulsum_.size() - 1) + static_cast<int>(RedOpKind::kPreMulSum);
}

const Comm::PreMulSumOp* Comm::FindPreMulSum(int handle) const {
  int i = handle - static_cast<int>(RedOpKind::kPreMulSum);
  if (i < 0 || i >= static_cast<int>(premulsum_.size()) || !premulsum_[i].live) return nullptr;
  return &premulsum_[i];
}

bool Comm::RemovePreMulSum(int handle) {
  int i = handle - static_cast<int>(RedOpKind::kPreMulSum);
  if (i < 0 || i >= static_cast<int>(premulsum_.size()) || !premulsum_[i].live) return false;
  premulsum_[i].live = false;
  return true;
}

void SetGlobalLastError(const std::string& message) {
  MutexLock lock(&g_last_error_mu);
  *g_last_error = message;
}

std::string GlobalLastError() {
  MutexLock lock(&g_last_error_mu);
  return *g_last_error;
}

}  // namespace ddrr::emu
