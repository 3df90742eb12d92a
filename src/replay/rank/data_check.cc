#include "replay/rank/data_check.h"

#include <cstdio>
#include <vector>

#include "common/mix.h"
#include "common/mutex.h"
#include "trace/event_printer.h"

namespace ddrr::replay {
namespace {

// Host memory the data of one op passes through, kept per thread between ops: large buffers are
// not faulted in afresh each time.
char* Staging(size_t bytes) {
  thread_local std::vector<char> staging;
  if (staging.size() < bytes) staging.resize(bytes);
  return staging.data();
}

uint64_t Combine(uint64_t a, uint64_t b) { return Mix64(a ^ Mix64(b)); }

}  // namespace

DataChecker::DataChecker(Replayer& replayer, ResultLog& log) : replayer_(replayer), log_(log) {
  for (const PlanOp& op : replayer.plan().unchecked_ops()) {
    auto [it, fresh] = unchecked_from_.emplace(op.comm_key(), op.op_seq());
    if (!fresh && op.op_seq() < it->second) it->second = op.op_seq();
  }
}

bool DataChecker::Unchecked(uint64_t comm_key, uint64_t op_seq) const {
  auto it = unchecked_from_.find(comm_key);
  return it != unchecked_from_.end() && op_seq >= it->second;
}

uint64_t DataChecker::NextSeed(uint64_t comm_key, const trace::OpView& view, int rank) {
  MutexLock lock(&mu_);
  // Every member counts the collectives it takes part in (one process may hold several members),
  // and each side counts the messages between two ranks (a rank may send to itself).
  if (!view.p2p()) return Combine(Combine(comm_key, 1), collectives_[{comm_key, rank}]++);
  const bool send = view.fn == trace::FunctionId::kNcclSend;
  const int src = send ? rank : view.peer, dst = send ? view.peer : rank;
  const uint64_t n = messages_[{comm_key, src, dst, send}]++;
  return Combine(Combine(Combine(comm_key, 2), Combine(static_cast<uint64_t>(src), dst)), n);
}

std::optional<PendingCheck> DataChecker::Prepare(const trace::ApiCall& call,
                                                 const trace::OpView& view, uint64_t seq) {
  const auto comm = replayer_.FindComm(view.comm);
  if (!comm) return std::nullopt;  // not issued: unresolved
  PatternOp op;
  op.fn = view.fn;
  op.datatype = view.datatype;
  op.redop = view.redop;
  op.count = view.count;
  op.nranks = comm->size;
  op.rank = comm->rank;
  op.root = view.root;
  op.peer = view.peer;
  op.seed = NextSeed(comm->key, view, comm->rank);
  const bool checkable = Checkable(op) && !Unchecked(call.comm_key(), call.op_seq());
  auto stream = replayer_.Stream(view.stream);
  const size_t bytes = ElementBytes(op.datatype);
  if (!checkable || !stream || bytes == 0) {
    MutexLock lock(&mu_);
    ++counts_.unchecked;
    return std::nullopt;
  }
  PendingCheck check{op, seq, call.comm_key(), call.op_seq(), nullptr, 0, *stream, comm->live};
  // Earlier work on the stream may still use these buffers (NCCL is asynchronous).
  cudaStreamSynchronize(*stream);
  for (uint32_t b = 0; b < view.nbuffers; ++b) {
    const trace::BufferView& buf = view.buffers[b];
    const uint64_t elements = buf.Elements(op.nranks);
    auto live = replayer_.Translate(buf.ptr);
    if (!live || *live == nullptr || elements == 0) continue;
    if (buf.output) {
      if (HasOutput(op)) {
        check.output = *live;
        check.elements = elements;
      }
    } else if (HasInput(op)) {
      char* host = Staging(elements * bytes);
      FillInput(op, op.rank, 0, elements, host);
      cudaMemcpy(*live, host, elements * bytes, cudaMemcpyHostToDevice);
    }
  }
  if (check.output == nullptr) {
    // A Send, or a Reduce/Gather off the root: nothing comes back to check here.
    return std::nullopt;
  }
  return check;
}

void DataChecker::Check(const PendingCheck& check, bool in_progress) {
  const size_t bytes = ElementBytes(check.op.datatype);
  char* host = Staging(check.elements * bytes);
  if (in_progress) {
    // A non-blocking communicator enqueues in the background: only once it settles is the op
    // on its stream. Bounded like any wait of a replay rank.
    ncclResult_t state = ncclSuccess;
    if (replayer_.WaitSettled(check.comm, &state) != ncclSuccess || state != ncclSuccess) {
      MutexLock lock(&mu_);
      ++counts_.unchecked;
      return;
    }
  }
  cudaStreamSynchronize(check.stream);
  const cudaError_t copied =
      cudaMemcpy(host, check.output, check.elements * bytes, cudaMemcpyDeviceToHost);
  std::optional<Mismatch> wrong;
  if (copied == cudaSuccess)
    wrong = CheckOutput(check.op, host, check.elements, replayer_.plan().exact_reductions());
  MutexLock lock(&mu_);
  if (copied != cudaSuccess) {
    ++counts_.unchecked;
    return;
  }
  ++counts_.checked;
  if (!wrong) return;
  ++counts_.wrong;
  log_.Write("mismatch", std::to_string(check.seq) + " " +
                             trace::EventPrinter::KeyHex(check.comm_key) + " " +
                             std::to_string(check.op_seq) + " " + std::to_string(wrong->index) +
                             " " + wrong->got + " " + wrong->expected);
}

DataCounts DataChecker::counts() const {
  MutexLock lock(&mu_);
  return counts_;
}

}  // namespace ddrr::replay
