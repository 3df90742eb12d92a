// Template definitions for tour.h (included from it; do not include directly).
#ifndef DDRR_SAMPLES_TOUR_TOUR_INL_H_
#define DDRR_SAMPLES_TOUR_TOUR_INL_H_

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

namespace ddrr_samples {

// The reference for one element of a reduction: every member's contribution, `value_of(world
// rank)`, folded in rank order.
template <typename ValueOf>
double FoldMembers(const Comm& comm, ncclRedOp_t op, ValueOf value_of) {
  double accumulated = value_of(comm.members[0]);
  for (int j = 1; j < comm.size(); ++j) {
    accumulated = Combine(op, accumulated, value_of(comm.members[j]));
  }
  return accumulated;
}

// The reference for a concatenation of one block per member (AllGather, AlltoAll, Gather):
// block j is member j's small values from element `first` on.
inline std::vector<double> BlocksFromEveryMember(const Comm& comm, int op, size_t count,
                                                 size_t first) {
  const size_t n = static_cast<size_t>(comm.size());
  std::vector<double> expected(n * count);
  for (size_t j = 0; j < n; ++j) {
    for (size_t i = 0; i < count; ++i) {
      expected[j * count + i] = SmallValue(op, comm.members[j], first + i);
    }
  }
  return expected;
}

template <typename D>
std::vector<typename D::Storage> Tour::Inputs(int op, int world_rank, size_t first, size_t count,
                                              Pattern pattern, int modulus) {
  std::vector<typename D::Storage> values(count);
  for (size_t i = 0; i < count; ++i) {
    values[i] = D::FromDouble(InputValue(op, world_rank, first + i, pattern, modulus));
  }
  // The `nan` fault poisons the first input of a floating-point operation. Inputs are only
  // built for data this rank actually sends, so the NaN always reaches the result.
  if (D::kFloating && count > 0 && Trigger(FaultKind::kNan, true)) values[0] = D::Nan();
  return values;
}

template <typename D>
void Tour::Check(const std::string& what, const std::vector<typename D::Storage>& got,
                 const std::vector<double>& expected, double tolerance) {
  for (size_t i = 0; i < expected.size(); ++i) {
    const double value = D::ToDouble(got[i]);
    const bool ok = tolerance == 0.0 ? value == expected[i]
                                     : std::fabs(value - expected[i]) <=
                                           tolerance * std::max(1.0, std::fabs(expected[i]));
    if (!ok) Mismatch(what, i, value, expected[i]);
  }
}

template <typename D>
void Tour::Finish(const Pending<D>& pending) {
  Wait(*pending.comm, pending.what);
  if (!pending.expected.empty()) {
    Check<D>(pending.what, pending.recv.ToHost(), pending.expected, pending.tolerance);
  }
}

template <typename D>
int Tour::StartOp(Pending<D>& p, const Comm& comm, std::string what, size_t send_count,
                  size_t recv_count, bool fill_send, Pattern pattern, int modulus) {
  p.comm = &comm;
  p.what = std::move(what);
  const int id = BeginOp(comm, p.what);
  p.send = DeviceBuffer<typename D::Storage>(send_count);
  p.recv = DeviceBuffer<typename D::Storage>(recv_count);
  if (fill_send) {
    p.send.CopyFrom(Inputs<D>(id, comm.members[comm.rank], 0, send_count, pattern, modulus));
  }
  return id;
}

template <typename D>
Pending<D> Tour::StartAllReduce(const Comm& comm, ncclRedOp_t op, Pattern pattern, int modulus) {
  Pending<D> p;
  const int id =
      StartOp(p, comm, std::string("AllReduce ") + D::kName + " " + OpName(op) + " on " + comm.name,
              count_, count_, /*fill_send=*/true, pattern, modulus);
  const Call call = Tamper(comm, p.send.get(), {count_, D::kNccl, 0, false}, Shape::kCollective);
  if (call.skip) return p;
  NCCL_CHECK(
      ncclAllReduce(p.send.get(), p.recv.get(), call.count, call.dtype, op, comm.handle, stream_));
  p.expected.resize(count_);
  for (size_t i = 0; i < count_; ++i) {
    double accumulated = FoldMembers(
        comm, op, [&](int member) { return InputValue(id, member, i, pattern, modulus); });
    p.expected[i] = op == ncclAvg ? accumulated / comm.size() : accumulated;
  }
  // NCCL may compute an average as a sum of pre-scaled values: not bit-exact.
  if (op == ncclAvg) p.tolerance = 1e-5;
  return p;
}

template <typename D>
void Tour::Broadcast(const Comm& comm, int root, bool in_place) {
  Pending<D> p;
  p.comm = &comm;
  p.what = std::string(in_place ? "Bcast (in place) " : "Broadcast ") + D::kName + " root " +
           std::to_string(root) + " on " + comm.name;
  const int id = BeginOp(comm, p.what);
  p.recv = DeviceBuffer<typename D::Storage>(count_);
  void* send = p.recv.get();
  if (comm.rank == root) {
    std::vector<typename D::Storage> input = Inputs<D>(id, comm.members[root], 0, count_);
    if (in_place) {
      p.recv.CopyFrom(input);
    } else {
      p.send = DeviceBuffer<typename D::Storage>(count_);
      p.send.CopyFrom(input);
      send = p.send.get();
    }
  }
  const Call call = Tamper(comm, send, {count_, D::kNccl, root, false}, Shape::kRooted);
  if (call.skip) return Finish(p);
  if (in_place) {
    NCCL_CHECK(ncclBcast(p.recv.get(), call.count, call.dtype, call.root, comm.handle, stream_));
  } else {
    NCCL_CHECK(
        ncclBroadcast(send, p.recv.get(), call.count, call.dtype, call.root, comm.handle, stream_));
  }
  p.expected.resize(count_);
  for (size_t i = 0; i < count_; ++i) p.expected[i] = SmallValue(id, comm.members[root], i);
  Finish(p);
}

template <typename D>
void Tour::Reduce(const Comm& comm, ncclRedOp_t op, int root) {
  Pending<D> p;
  const int id = StartOp(p, comm,
                         std::string("Reduce ") + D::kName + " " + OpName(op) + " root " +
                             std::to_string(root) + " on " + comm.name,
                         count_, count_);
  const Call call = Tamper(comm, p.send.get(), {count_, D::kNccl, root, false}, Shape::kRooted);
  if (call.skip) return Finish(p);
  NCCL_CHECK(ncclReduce(p.send.get(), p.recv.get(), call.count, call.dtype, op, call.root,
                        comm.handle, stream_));
  if (comm.rank == root) {
    p.expected.resize(count_);
    for (size_t i = 0; i < count_; ++i) {
      p.expected[i] = FoldMembers(comm, op, [&](int member) { return SmallValue(id, member, i); });
    }
  }
  Finish(p);
}

template <typename D>
void Tour::AllGather(const Comm& comm) {
  const size_t n = static_cast<size_t>(comm.size());
  Pending<D> p;
  const int id = StartOp(p, comm, std::string("AllGather ") + D::kName + " on " + comm.name, count_,
                         n * count_);
  const Call call = Tamper(comm, p.send.get(), {count_, D::kNccl, 0, false}, Shape::kCollective);
  if (call.skip) return Finish(p);
  NCCL_CHECK(
      ncclAllGather(p.send.get(), p.recv.get(), call.count, call.dtype, comm.handle, stream_));
  p.expected = BlocksFromEveryMember(comm, id, count_, 0);
  Finish(p);
}

template <typename D>
void Tour::ReduceScatter(const Comm& comm, ncclRedOp_t op) {
  const size_t n = static_cast<size_t>(comm.size());
  Pending<D> p;
  const int id = StartOp(
      p, comm, std::string("ReduceScatter ") + D::kName + " " + OpName(op) + " on " + comm.name,
      n * count_, count_);
  const Call call = Tamper(comm, p.send.get(), {count_, D::kNccl, 0, false}, Shape::kCollective);
  if (call.skip) return Finish(p);
  NCCL_CHECK(ncclReduceScatter(p.send.get(), p.recv.get(), call.count, call.dtype, op, comm.handle,
                               stream_));
  // This rank receives block `rank` of the reduction.
  const size_t first = static_cast<size_t>(comm.rank) * count_;
  p.expected.resize(count_);
  for (size_t i = 0; i < count_; ++i) {
    p.expected[i] =
        FoldMembers(comm, op, [&](int member) { return SmallValue(id, member, first + i); });
  }
  Finish(p);
}

template <typename D>
void Tour::AlltoAll(const Comm& comm) {
  const size_t n = static_cast<size_t>(comm.size());
  Pending<D> p;
  const int id = StartOp(p, comm, std::string("AlltoAll ") + D::kName + " on " + comm.name,
                         n * count_, n * count_);
  const Call call = Tamper(comm, p.send.get(), {count_, D::kNccl, 0, false}, Shape::kCollective);
  if (call.skip) return Finish(p);
  NCCL_CHECK(
      ncclAlltoAll(p.send.get(), p.recv.get(), call.count, call.dtype, comm.handle, stream_));
  // Block j comes from rank j, which sent us its block number `rank`.
  p.expected = BlocksFromEveryMember(comm, id, count_, static_cast<size_t>(comm.rank) * count_);
  Finish(p);
}

template <typename D>
void Tour::Gather(const Comm& comm, int root) {
  const size_t n = static_cast<size_t>(comm.size());
  Pending<D> p;
  const int id = StartOp(
      p, comm,
      std::string("Gather ") + D::kName + " root " + std::to_string(root) + " on " + comm.name,
      count_, n * count_);
  const Call call = Tamper(comm, p.send.get(), {count_, D::kNccl, root, false}, Shape::kRooted);
  if (call.skip) return Finish(p);
  NCCL_CHECK(ncclGather(p.send.get(), p.recv.get(), call.count, call.dtype, call.root, comm.handle,
                        stream_));
  if (comm.rank == root) {
    p.expected = BlocksFromEveryMember(comm, id, count_, 0);
  }
  Finish(p);
}

template <typename D>
void Tour::Scatter(const Comm& comm, int root) {
  const size_t n = static_cast<size_t>(comm.size());
  Pending<D> p;
  const int id = StartOp(
      p, comm,
      std::string("Scatter ") + D::kName + " root " + std::to_string(root) + " on " + comm.name,
      n * count_, count_, /*fill_send=*/comm.rank == root);
  const Call call = Tamper(comm, p.send.get(), {count_, D::kNccl, root, false}, Shape::kRooted);
  if (call.skip) return Finish(p);
  NCCL_CHECK(ncclScatter(p.send.get(), p.recv.get(), call.count, call.dtype, call.root, comm.handle,
                         stream_));
  const size_t first = static_cast<size_t>(comm.rank) * count_;
  p.expected.resize(count_);
  for (size_t i = 0; i < count_; ++i) {
    p.expected[i] = SmallValue(id, comm.members[root], first + i);
  }
  Finish(p);
}

}  // namespace ddrr_samples

#endif  // DDRR_SAMPLES_TOUR_TOUR_INL_H_
