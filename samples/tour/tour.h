// The operations of collectives_tour. Each one builds this rank's input on the host, copies it
// to the device, issues the NCCL call (bent by the injected fault where it lands), waits, copies
// the output back and compares it element by element with what the host computed from every
// rank's (known) inputs. The first difference ends the program with exit code 1.
#ifndef DDRR_SAMPLES_TOUR_TOUR_H_
#define DDRR_SAMPLES_TOUR_TOUR_H_

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstdint>
#include <string>
#include <vector>

#include "support/check.h"
#include "support/device_buffer.h"
#include "support/options.h"
#include "tour/elements.h"

namespace ddrr_samples {

struct Comm {
  std::string name;
  ncclComm_t handle = nullptr;
  int rank = 0;              // this process's rank in the communicator
  std::vector<int> members;  // the world rank behind each communicator rank
  int size() const { return static_cast<int>(members.size()); }
};

// Checks that NCCL agrees with `comm.rank` and `comm.size()` (e.g. a split's key ordering).
void CheckCommShape(int world_rank, const Comm& comm);

// An issued operation whose result has not been checked yet.
template <typename D>
struct Pending {
  std::string what;
  const Comm* comm = nullptr;
  DeviceBuffer<typename D::Storage> send;
  DeviceBuffer<typename D::Storage> recv;
  std::vector<double> expected;  // empty: nothing to check on this rank
  double tolerance = 0.0;        // relative; 0 means bit-exact values
};

class Tour {
 public:
  // `seed` varies the input values (not the operations).
  Tour(int world_rank, const Fault& fault, size_t count, uint64_t seed, cudaStream_t stream)
      : world_rank_(world_rank),
        fault_(fault),
        count_(count),
        value_salt_(static_cast<int>(seed % 1000)),
        stream_(stream) {}

  int operations() const { return next_op_; }
  // The `cross-order` fault fires here: the caller issues its next two operations, on two
  // communicators, in the other order.
  bool CrossesOrder() { return Trigger(FaultKind::kCrossOrder, true); }

  // Collectives. `count` elements per rank (per peer for the gathers, scatters and all-to-all).
  template <typename D>
  void AllReduce(const Comm& comm, ncclRedOp_t op, Pattern pattern = Pattern::kSmall,
                 int modulus = 11) {
    Finish(StartAllReduce<D>(comm, op, pattern, modulus));
  }
  template <typename D>
  Pending<D> StartAllReduce(const Comm& comm, ncclRedOp_t op, Pattern pattern = Pattern::kSmall,
                            int modulus = 11);
  template <typename D>
  void Broadcast(const Comm& comm, int root, bool in_place);  // in place: the legacy ncclBcast
  template <typename D>
  void Reduce(const Comm& comm, ncclRedOp_t op, int root);
  template <typename D>
  void AllGather(const Comm& comm);
  template <typename D>
  void ReduceScatter(const Comm& comm, ncclRedOp_t op);
  template <typename D>
  void AlltoAll(const Comm& comm);
  template <typename D>
  void Gather(const Comm& comm, int root);
  template <typename D>
  void Scatter(const Comm& comm, int root);

  // Point-to-point patterns (float32 / int32).
  void RingExchange(const Comm& comm);      // send to rank+1, receive from rank-1, one group
  void Pipeline(const Comm& comm);          // 0 -> 1 -> ... -> n-1, each stage adds its rank
  void SendRecvAllToAll(const Comm& comm);  // all-to-all built from sends and receives

  // Waits for `pending` and checks it.
  template <typename D>
  void Finish(const Pending<D>& pending);

 private:
  enum class Shape { kCollective, kRooted, kP2p };
  struct Call {
    size_t count;
    ncclDataType_t dtype;
    int root;
    bool skip;
  };

  // Numbers the next operation and runs the `abort` fault if it lands here. Returns the key the
  // operation's input values derive from (operation number + seed salt).
  int BeginOp(const Comm& comm, const std::string& what);
  // BeginOp, then `send_count` and `recv_count` elements allocated for `p`, and the send buffer
  // filled with this rank's inputs when `fill_send` (a scatter fills only the root's; a gather's
  // or reduce's receive buffer is only written on the root). Returns BeginOp's key.
  template <typename D>
  int StartOp(Pending<D>& p, const Comm& comm, std::string what, size_t send_count,
              size_t recv_count, bool fill_send = true, Pattern pattern = Pattern::kSmall,
              int modulus = 11);
  // True once, on the faulty rank, at the first operation at or after --fault-step where this
  // fault kind applies.
  bool Trigger(FaultKind kind, bool applicable);
  // Applies argument faults (and posts the unmatched send) for the current operation.
  Call Tamper(const Comm& comm, const void* send, Call call, Shape shape);
  void Wait(const Comm& comm, const std::string& what);
  [[noreturn]] void Mismatch(const std::string& what, size_t index, double got, double expected);

  // This rank's input: `count` values of world rank `world_rank`, starting at element `first`.
  template <typename D>
  std::vector<typename D::Storage> Inputs(int op, int world_rank, size_t first, size_t count,
                                          Pattern pattern = Pattern::kSmall, int modulus = 11);
  template <typename D>
  void Check(const std::string& what, const std::vector<typename D::Storage>& got,
             const std::vector<double>& expected, double tolerance);

  const int world_rank_;
  const Fault& fault_;
  const size_t count_;
  const int value_salt_;
  const cudaStream_t stream_;
  int next_op_ = 0;
  std::string current_;  // what the current operation is, for fault notes
  bool fired_ = false;
};

}  // namespace ddrr_samples

#include "tour/tour_inl.h"  // IWYU pragma: export

#endif  // DDRR_SAMPLES_TOUR_TOUR_H_
