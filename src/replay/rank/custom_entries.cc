// The replay entries api_spec.py marks CUSTOM: calls whose recorded arguments cannot simply be
// mapped. Communicator creation takes fresh unique ids from the replay's rendezvous; memory is
// allocated only where NCCL uses it, sized to what it uses; devices follow the placement; polls
// become waits where the program saw the work finished.
#include <cstdio>
#include <vector>

#include "replay/rank/replay_custom.h"
#include "replay/rank/replayer.h"
#include "trace/event_printer.h"

namespace ddrr::replay::custom {
namespace {

constexpr int64_t kCudaErrorNotReady = cudaErrorNotReady;

bool RecordedOk(const Call& c) {
  const int64_t r = c.api().result();
  return r == ncclSuccess || r == ncclInProgress;
}

// Why the communicator this call creates is left out, or "" when it is replayed.
std::string LeftOut(Replayer& r, uint64_t key) {
  const PlanComm* pc = r.FindPlanComm(key);
  if (pc == nullptr)
    return "communicator " + trace::EventPrinter::KeyHex(key) + " is not in the replay plan";
  if (!pc->replayed())
    return "communicator " + trace::EventPrinter::KeyHex(key) +
           " is not replayed: " + pc->skip_reason();
  return "";
}

void BindCreated(Call& c, uint64_t recorded, ncclComm_t live, int size, int rank) {
  if (live == nullptr) return;
  c.replayer().BindComm(recorded, {live, c.api().comm_key(), size, rank});
}

// The fresh ids of the communicator this call creates (its key names the rendezvous).
StatusOr<std::vector<ncclUniqueId>> FreshIds(Call& c, int count, bool creator) {
  Replayer& r = c.replayer();
  const uint64_t key = c.api().comm_key();
  const std::string name =
      trace::EventPrinter::KeyHex(key) + "-" + std::to_string(r.NextCreation(key));
  return r.rendezvous().Ids(name, count, creator);
}

// ncclCommInitRank[Config] with a fresh id; also how a split or shrink whose parent is not
// replayed is created.
CallOutcome InitRankFresh(Call& c, uint64_t recorded_comm, int nranks, int rank,
                          const trace::NcclConfig* config) {
  auto ids = FreshIds(c, 1, rank == 0);
  if (!ids.ok()) return c.Skipped(ids.status().message());
  ncclConfig_t* cfg = c.Config(config);
  ncclComm_t comm = nullptr;
  const ncclResult_t result = cfg ? ncclCommInitRankConfig(&comm, nranks, (*ids)[0], rank, cfg)
                                  : ncclCommInitRank(&comm, nranks, (*ids)[0], rank);
  if (Call::Succeeded(result)) BindCreated(c, recorded_comm, comm, nranks, rank);
  return c.Issued(result);
}

// A split or shrink: issued on the parent when the parent is replayed; created from a fresh id
// when only the child is.
template <typename Issue>
CallOutcome CreateChild(Call& c, uint64_t recorded_parent, uint64_t recorded_child,
                        const trace::NcclConfig* config, bool gets_comm, Issue issue) {
  Replayer& r = c.replayer();
  const uint64_t key = c.api().comm_key();
  const PlanComm* child = r.FindPlanComm(key);
  if (r.FindComm(recorded_parent)) {
    ncclComm_t parent = c.Comm(recorded_parent);
    ncclComm_t comm = nullptr;
    const ncclResult_t result = issue(parent, c.Config(config), &comm);
    if (Call::Succeeded(result))
      BindCreated(c, recorded_child, comm, child ? child->size() : -1, r.PlanCommRank(key));
    return c.Issued(result);
  }
  if (!gets_comm) return c.Skipped("it joins no communicator, and its parent is not replayed");
  if (child == nullptr || !child->replayed() || !child->init_instead())
    return c.Skipped(LeftOut(r, key).empty() ? "its parent is not replayed" : LeftOut(r, key));
  const int rank = r.PlanCommRank(key);
  if (rank < 0 || child->size() <= 0)
    return c.Skipped("its rank in communicator " + trace::EventPrinter::KeyHex(key) +
                     " is unknown");
  return InitRankFresh(c, recorded_child, child->size(), rank, config);
}

using AllocFn = cudaError_t (*)(void**, size_t);

// An allocation: made only when NCCL uses the memory, sized to what it uses.
template <typename Alloc>
CallOutcome Allocate(Call& c, uint64_t recorded_ptr, uint64_t recorded_size, Alloc alloc) {
  Replayer& r = c.replayer();
  const uint64_t bytes = r.AllocationBytes(c.seq());
  if (bytes == 0) return c.Skipped("no NCCL call uses this memory");
  if (!RecordedOk(c)) return c.Skipped("it failed when recorded");
  void* live = nullptr;
  const auto result = alloc(&live, bytes);
  if (Call::Succeeded(result)) r.BindAllocation(recorded_ptr, recorded_size, live);
  return c.Issued(result);
}

template <typename Free>
CallOutcome Release(Call& c, uint64_t recorded_ptr, Free release) {
  void* live = c.replayer().UnbindAllocation(recorded_ptr);
  if (live == nullptr) return c.Skipped("the memory was not allocated in this replay");
  return c.Issued(release(live));
}

// A poll that found the work done is where the program waited for it: wait. One that found it
// unfinished changes nothing; one that failed is repeated, to fail again.
template <typename Wait, typename Poll>
CallOutcome PollAsWait(Call& c, Wait wait, Poll poll) {
  const int64_t recorded = c.api().result();
  if (recorded == kCudaErrorNotReady) return c.Skipped("the work was not finished yet");
  if (!c.resolved()) return c.Unresolved();
  return c.Issued(recorded == cudaSuccess ? wait() : poll());
}

}  // namespace

CallOutcome NcclCommInitRank(const trace::NcclCommInitRank& m, Call& c) {
  if (auto why = LeftOut(c.replayer(), c.api().comm_key()); !why.empty()) return c.Skipped(why);
  return InitRankFresh(c, m.comm(), static_cast<int>(m.nranks()), static_cast<int>(m.rank()),
                       nullptr);
}

CallOutcome NcclCommInitRankConfig(const trace::NcclCommInitRankConfig& m, Call& c) {
  if (auto why = LeftOut(c.replayer(), c.api().comm_key()); !why.empty()) return c.Skipped(why);
  return InitRankFresh(c, m.comm(), static_cast<int>(m.nranks()), static_cast<int>(m.rank()),
                       m.has_config() ? &m.config() : nullptr);
}

CallOutcome NcclCommInitRankScalable(const trace::NcclCommInitRankScalable& m, Call& c) {
  if (auto why = LeftOut(c.replayer(), c.api().comm_key()); !why.empty()) return c.Skipped(why);
  const int n_id = static_cast<int>(m.n_id());
  if (n_id < 1) {  // NCCL rejects it: issue it to fail alike
    ncclComm_t comm = nullptr;
    return c.Issued(ncclCommInitRankScalable(&comm, static_cast<int>(m.nranks()),
                                             static_cast<int>(m.myrank()), n_id, nullptr,
                                             c.Config(m.has_config() ? &m.config() : nullptr)));
  }
  auto ids = FreshIds(c, n_id, m.myrank() == 0);
  if (!ids.ok()) return c.Skipped(ids.status().message());
  ncclComm_t comm = nullptr;
  const ncclResult_t result =
      ncclCommInitRankScalable(&comm, static_cast<int>(m.nranks()), static_cast<int>(m.myrank()),
                               n_id, ids->data(), c.Config(m.has_config() ? &m.config() : nullptr));
  if (Call::Succeeded(result))
    BindCreated(c, m.newcomm(), comm, static_cast<int>(m.nranks()), static_cast<int>(m.myrank()));
  return c.Issued(result);
}

CallOutcome NcclCommInitAll(const trace::NcclCommInitAll& m, Call& c) {
  const int ndev = static_cast<int>(m.ndev());
  if (ndev < 1) {
    std::vector<ncclComm_t> none(1);
    return c.Issued(ncclCommInitAll(none.data(), ndev, nullptr));
  }
  std::vector<int> devices;
  for (int i = 0; i < ndev; ++i) {
    const int recorded = i < m.devlist_size() ? static_cast<int>(m.devlist(i)) : i;
    auto live = c.replayer().Device(recorded);
    if (!live) return c.Skipped("device " + std::to_string(recorded) + " is not placed");
    devices.push_back(*live);
  }
  std::vector<ncclComm_t> comms(static_cast<size_t>(ndev));
  const ncclResult_t result = ncclCommInitAll(comms.data(), ndev, devices.data());
  if (Call::Succeeded(result))
    for (int i = 0; i < ndev && i < m.comms_size(); ++i)
      BindCreated(c, m.comms(i), comms[static_cast<size_t>(i)], ndev, i);
  return c.Issued(result);
}

CallOutcome NcclCommSplit(const trace::NcclCommSplit& m, Call& c) {
  const int color = static_cast<int>(m.color()), key = static_cast<int>(m.key());
  return CreateChild(c, m.comm(), m.newcomm(), m.has_config() ? &m.config() : nullptr,
                     color != NCCL_SPLIT_NOCOLOR,
                     [&](ncclComm_t parent, ncclConfig_t* config, ncclComm_t* comm) {
                       return ncclCommSplit(parent, color, key, comm, config);
                     });
}

CallOutcome NcclCommShrink(const trace::NcclCommShrink& m, Call& c) {
  std::vector<int> exclude(m.exclude_ranks().begin(), m.exclude_ranks().end());
  return CreateChild(c, m.comm(), m.newcomm(), m.has_config() ? &m.config() : nullptr, true,
                     [&](ncclComm_t parent, ncclConfig_t* config, ncclComm_t* comm) {
                       return ncclCommShrink(parent, exclude.data(),
                                             static_cast<int>(m.exclude_ranks_count()), comm,
                                             config, static_cast<int>(m.shrink_flags()));
                     });
}

CallOutcome NcclCommGetAsyncError(const trace::NcclCommGetAsyncError& m, Call& c) {
  if (static_cast<int>(m.async_error()) == ncclInProgress)
    return c.Skipped("polled while still in progress");
  ncclComm_t comm = c.Comm(m.comm());
  if (!c.resolved()) return c.Unresolved();
  // The program saw the communicator settle: wait until it has here too.
  ncclResult_t async = ncclSuccess;
  const ncclResult_t result = c.replayer().WaitSettled(comm, &async);
  if (result == ncclSuccess && async == ncclInProgress)
    return c.Skipped("the communicator did not settle within the timeout");  // it hung here
  return c.Issued(result);
}

CallOutcome NcclRedOpCreatePreMulSum(const trace::NcclRedOpCreatePreMulSum& m, Call& c) {
  ncclComm_t comm = c.Comm(m.comm());
  const auto residence = static_cast<ncclScalarResidence_t>(m.residence());
  std::string scalar = m.scalar_value();  // recorded for host-immediate scalars
  void* where = nullptr;
  if (residence == ncclScalarHostImmediate) {
    scalar.resize(8, '\0');
    where = scalar.data();
  } else {
    where = c.Pointer(m.scalar());  // device memory: its replay allocation (value not recorded)
  }
  if (!c.resolved()) return c.Unresolved();
  ncclRedOp_t op{};
  const ncclResult_t result = ncclRedOpCreatePreMulSum(
      &op, where, static_cast<ncclDataType_t>(m.datatype()), residence, comm);
  if (Call::Succeeded(result)) c.replayer().BindRedOp(m.op(), op);
  return c.Issued(result);
}

CallOutcome NcclMemAlloc(const trace::NcclMemAlloc& m, Call& c) {
  return Allocate(c, m.ptr(), m.size(), [](void** p, size_t n) { return ncclMemAlloc(p, n); });
}

CallOutcome NcclMemFree(const trace::NcclMemFree& m, Call& c) {
  return Release(c, m.ptr(), [](void* p) { return ncclMemFree(p); });
}

CallOutcome CudaSetDevice(const trace::CudaSetDevice& m, Call& c) {
  auto device = c.replayer().Device(static_cast<int>(m.device()));
  if (!device) return c.Skipped("device " + std::to_string(m.device()) + " is not placed");
  return c.Issued(cudaSetDevice(*device));
}

CallOutcome CudaMalloc(const trace::CudaMalloc& m, Call& c) {
  return Allocate(c, m.dev_ptr(), m.size(), [](void** p, size_t n) { return cudaMalloc(p, n); });
}

CallOutcome CudaFree(const trace::CudaFree& m, Call& c) {
  return Release(c, m.dev_ptr(), [](void* p) { return cudaFree(p); });
}

CallOutcome CudaMallocHost(const trace::CudaMallocHost& m, Call& c) {
  return Allocate(c, m.ptr(), m.size(), [](void** p, size_t n) { return cudaMallocHost(p, n); });
}

CallOutcome CudaFreeHost(const trace::CudaFreeHost& m, Call& c) {
  return Release(c, m.ptr(), [](void* p) { return cudaFreeHost(p); });
}

CallOutcome CudaHostAlloc(const trace::CudaHostAlloc& m, Call& c) {
  const auto flags = static_cast<unsigned int>(m.flags());
  return Allocate(c, m.host_ptr(), m.size(),
                  [flags](void** p, size_t n) { return cudaHostAlloc(p, n, flags); });
}

CallOutcome CudaMallocManaged(const trace::CudaMallocManaged& m, Call& c) {
  const auto flags = static_cast<unsigned int>(m.flags());
  return Allocate(c, m.dev_ptr(), m.size(),
                  [flags](void** p, size_t n) { return cudaMallocManaged(p, n, flags); });
}

CallOutcome CudaMallocAsync(const trace::CudaMallocAsync& m, Call& c) {
  cudaStream_t stream = c.Stream(m.stream());
  if (!c.resolved()) return c.Unresolved();
  return Allocate(c, m.dev_ptr(), m.size(),
                  [stream](void** p, size_t n) { return cudaMallocAsync(p, n, stream); });
}

CallOutcome CudaFreeAsync(const trace::CudaFreeAsync& m, Call& c) {
  cudaStream_t stream = c.Stream(m.stream());
  if (!c.resolved()) return c.Unresolved();
  return Release(c, m.dev_ptr(), [stream](void* p) { return cudaFreeAsync(p, stream); });
}

CallOutcome CudaStreamQuery(const trace::CudaStreamQuery& m, Call& c) {
  cudaStream_t stream = c.Stream(m.stream());
  return PollAsWait(
      c, [&] { return cudaStreamSynchronize(stream); }, [&] { return cudaStreamQuery(stream); });
}

CallOutcome CudaEventQuery(const trace::CudaEventQuery& m, Call& c) {
  cudaEvent_t event = c.Event(m.event());
  return PollAsWait(
      c, [&] { return cudaEventSynchronize(event); }, [&] { return cudaEventQuery(event); });
}

}  // namespace ddrr::replay::custom
