#include "tour/tour.h"

#include <cstdio>
#include <cstdlib>

#include "support/wait.h"

namespace ddrr_samples {
namespace {

// A type of half the width: the `wrong-dtype` fault never makes NCCL touch memory beyond the
// buffers, so the symptom is the mismatch itself, not a crash.
ncclDataType_t NarrowerType(ncclDataType_t dtype) {
  switch (dtype) {
    case ncclFloat32:
    case ncclInt32:
    case ncclUint32:
      return ncclFloat16;
    default:
      return ncclInt8;
  }
}

}  // namespace

void CheckCommShape(int world_rank, const Comm& comm) {
  int count = 0;
  int rank = 0;
  NCCL_CHECK(ncclCommCount(comm.handle, &count));
  NCCL_CHECK(ncclCommUserRank(comm.handle, &rank));
  if (count != comm.size() || rank != comm.rank) {
    printf(
        "collectives_tour: MISMATCH on rank %d: NCCL reports rank %d of %d in %s, expected %d of "
        "%d\n",
        world_rank, rank, count, comm.name.c_str(), comm.rank, comm.size());
    exit(kExitFailure);
  }
}

int Tour::BeginOp(const Comm& comm, const std::string& what) {
  current_ = what;
  const int id = next_op_++;
  if (Trigger(FaultKind::kAbort, true)) {
    NCCL_CHECK(ncclCommAbort(comm.handle));
    fprintf(stderr, "%saborted %s before operation %d; exiting\n", LogPrefix(), comm.name.c_str(),
            id);
    exit(kExitAborted);
  }
  if (Trigger(FaultKind::kStall, true)) StallForever(("operation " + std::to_string(id)).c_str());
  return id + value_salt_;
}

bool Tour::Trigger(FaultKind kind, bool applicable) {
  if (fired_ || !applicable || !fault_.Here(kind) || next_op_ - 1 < fault_.step()) return false;
  fired_ = true;
  fprintf(stderr, "%sinjecting fault '%s' on rank %d at operation %d (%s)\n", LogPrefix(),
          FaultName(kind), world_rank_, next_op_ - 1, current_.c_str());
  return true;
}

Tour::Call Tour::Tamper(const Comm& comm, const void* send, Call call, Shape shape) {
  const bool collective = shape != Shape::kP2p;
  if (Trigger(FaultKind::kUnmatchedSend, true)) {
    // An extra send to the next rank, which never posts a receive for it.
    NCCL_CHECK(ncclSend(send, call.count, call.dtype, (comm.rank + 1) % comm.size(), comm.handle,
                        stream_));
  }
  if (Trigger(FaultKind::kSkipCollective, collective)) call.skip = true;
  if (Trigger(FaultKind::kWrongCount, collective && call.count > 1)) call.count -= 1;
  if (Trigger(FaultKind::kWrongDtype, collective)) call.dtype = NarrowerType(call.dtype);
  if (Trigger(FaultKind::kWrongRoot, shape == Shape::kRooted && comm.size() > 1)) {
    call.root = (call.root + 1) % comm.size();
  }
  return call;
}

void Tour::Wait(const Comm& comm, const std::string& what) {
  WaitStream(stream_, comm.handle, what.c_str());
}

void Tour::Mismatch(const std::string& what, size_t index, double got, double expected) {
  printf(
      "collectives_tour: MISMATCH on rank %d in operation %d (%s): element %zu is %g, expected "
      "%g\n",
      world_rank_, next_op_ - 1, what.c_str(), index, got, expected);
  fflush(stdout);
  exit(kExitFailure);
}

void Tour::RingExchange(const Comm& comm) {
  Pending<Float32> p;
  const int id =
      StartOp(p, comm, "ring exchange (send/recv) float32 on " + comm.name, count_, count_);
  const int next = (comm.rank + 1) % comm.size();
  const int prev = (comm.rank + comm.size() - 1) % comm.size();
  Tamper(comm, p.send.get(), {count_, ncclFloat32, 0, false}, Shape::kP2p);
  // Grouped, so that every rank's send and receive progress together instead of deadlocking.
  NCCL_CHECK(ncclGroupStart());
  NCCL_CHECK(ncclSend(p.send.get(), count_, ncclFloat32, next, comm.handle, stream_));
  NCCL_CHECK(ncclRecv(p.recv.get(), count_, ncclFloat32, prev, comm.handle, stream_));
  NCCL_CHECK(ncclGroupEnd());
  p.expected.resize(count_);
  for (size_t i = 0; i < count_; ++i) p.expected[i] = SmallValue(id, comm.members[prev], i);
  Finish(p);
}

void Tour::Pipeline(const Comm& comm) {
  const std::string what = "pipeline 0->1->...->n-1 (send/recv) int32 on " + comm.name;
  const int id = BeginOp(comm, what);
  DeviceBuffer<int32_t> stage(count_);
  std::vector<int32_t> values;
  if (comm.rank == 0) {
    values = Inputs<Int32>(id, comm.members[0], 0, count_);
  } else {
    NCCL_CHECK(ncclRecv(stage.get(), count_, ncclInt32, comm.rank - 1, comm.handle, stream_));
    Wait(comm, what);
    values = stage.ToHost();
    // Stage k received rank 0's values plus 1 + 2 + ... + (k-1).
    const double added = comm.rank * (comm.rank - 1) / 2.0;
    std::vector<double> expected(count_);
    for (size_t i = 0; i < count_; ++i) expected[i] = SmallValue(id, comm.members[0], i) + added;
    Check<Int32>(what, values, expected, 0.0);
  }
  if (comm.rank + 1 < comm.size()) {
    for (int32_t& value : values) value += comm.rank;
    stage.CopyFrom(values);
    Tamper(comm, stage.get(), {count_, ncclInt32, 0, false}, Shape::kP2p);
    NCCL_CHECK(ncclSend(stage.get(), count_, ncclInt32, comm.rank + 1, comm.handle, stream_));
    Wait(comm, what);
  }
}

void Tour::SendRecvAllToAll(const Comm& comm) {
  const size_t n = static_cast<size_t>(comm.size());
  Pending<Float32> p;
  const int id = StartOp(p, comm, "all-to-all by grouped send/recv float32 on " + comm.name,
                         n * count_, n * count_);
  Tamper(comm, p.send.get(), {count_, ncclFloat32, 0, false}, Shape::kP2p);
  NCCL_CHECK(ncclGroupStart());
  for (size_t peer = 0; peer < n; ++peer) {
    const int to = static_cast<int>(peer);
    NCCL_CHECK(
        ncclSend(p.send.get() + peer * count_, count_, ncclFloat32, to, comm.handle, stream_));
    NCCL_CHECK(
        ncclRecv(p.recv.get() + peer * count_, count_, ncclFloat32, to, comm.handle, stream_));
  }
  NCCL_CHECK(ncclGroupEnd());
  p.expected = BlocksFromEveryMember(comm, id, count_, static_cast<size_t>(comm.rank) * count_);
  Finish(p);
}

}  // namespace ddrr_samples
