#include "emu/api.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "common/log.h"
#include "emu/comm_init.h"
#include "emu/nccl_debug_log.h"
#include "emu/p2p.h"

namespace ddrr::emu {
namespace {

Result Arg(std::string msg) { return Report(Result(Code::kInvalidArgument, std::move(msg))); }

Result CheckComm(const Comm* comm, const char* opname) {
  if (comm == nullptr) return Arg(std::string(opname) + " : comm argument is NULL");
  if (!comm->IsLive()) return Arg(std::string(opname) + " : corrupted comm object detected");
  return Result::Ok();
}

// The communicator queries: `*out = value_of(*comm)` once the communicator and `out` are valid.
template <typename T, typename ValueOf>
Result QueryComm(const Comm* comm, const char* opname, const char* out_name, T* out,
                 ValueOf value_of) {
  EMU_CHECK(CheckComm(comm, opname));
  if (out == nullptr) return Arg(std::string(opname) + " : " + out_name + " argument is NULL");
  *out = value_of(*comm);
  return Result::Ok();
}

// Argument errors inside a group also make GroupEnd fail, as in NCCL.
Result GroupArg(Result r) {
  if (r.failed()) NoteGroupError(r);
  return r;
}

Result SubmitReported(std::unique_ptr<Op> op) { return Report(Submit(std::move(op))); }

}  // namespace

Result Report(Result r) {
  if (r.failed()) {
    DDRR_WARN("%s", r.message().c_str());
    DDRR_NCCL_WARN(r.message());
    SetGlobalLastError(r.message());
  }
  return r;
}

std::string LastError() { return GlobalLastError(); }

UniqueIdBytes GetUniqueId() { return NewUniqueId(); }

Result CommInitRank(Comm** out, int nranks, const UniqueIdBytes& id, int rank,
                    const CommOptions& options) {
  if (out == nullptr) return GroupArg(Arg("CommInitRank : newcomm argument is NULL"));
  *out = nullptr;
  if (nranks < 1 || rank < 0 || rank >= nranks) {
    return GroupArg(
        Arg("Invalid rank requested : " + std::to_string(rank) + "/" + std::to_string(nranks)));
  }
  UniqueId uid = DecodeUniqueId(id);
  auto comm = std::make_unique<Comm>(rank, nranks, uid.hash, uid.segment, uid.creator_pid, options);
  Comm* raw = comm.get();
  bool grouped = GroupDepth() > 0;
  Result r = SubmitReported(MakeInitOp(raw, "CommInitRank"));
  if (r.failed() && !grouped) return r;  // unique_ptr frees the comm
  *out = comm.release();
  return r;
}

Result CommInitAll(Comm** comms, int ndev, const int* devlist, const CommOptions& options) {
  if (comms == nullptr) return Arg("CommInitAll : comms argument is NULL");
  if (ndev < 1) return Arg("Invalid device count requested : " + std::to_string(ndev));
  if (devlist != nullptr) {
    for (int i = 0; i < ndev; ++i) {
      for (int j = i + 1; j < ndev; ++j) {
        if (devlist[i] == devlist[j]) {
          return Report(Result(Code::kInvalidUsage,
                               "Duplicate device found in devlist: " + std::to_string(devlist[i])));
        }
      }
    }
  }
  UniqueIdBytes id = GetUniqueId();
  GroupStart();
  Result first;
  for (int i = 0; i < ndev; ++i) {
    CommOptions o = options;
    o.device = devlist ? devlist[i] : i;
    o.device_key = -1;
    Result r = CommInitRank(&comms[i], ndev, id, i, o);
    if (r.failed() && first.ok()) first = r;
  }
  Result r = GroupEnd();
  if (first.ok()) first = r;
  if (first.failed()) {
    for (int i = 0; i < ndev; ++i) {
      delete comms[i];
      comms[i] = nullptr;
    }
  }
  return first;
}

Result CommSplit(Comm* parent, int color, int key, Comm** out, const CommOptions* options) {
  Result r = CheckComm(parent, "CommSplit");
  if (r.failed()) return GroupArg(r);
  if (out == nullptr) return GroupArg(Arg("CommSplit : newcomm argument is NULL"));
  *out = nullptr;
  if (color < 0 && color != kSplitNoColor) {
    return GroupArg(Arg("CommSplit : invalid color " + std::to_string(color)));
  }
  r = parent->CheckUsable("CommSplit");
  if (r.failed()) return GroupArg(Report(r));
  std::unique_ptr<Comm> child;
  if (color != kSplitNoColor) {
    CommOptions o = options ? *options : parent->options();
    if (options) {
      o.device = parent->device();
      o.device_key = parent->device_key();
      if (o.mem == nullptr) o.mem = parent->mem();
    }
    child = std::make_unique<Comm>(0, 1, 0, "", 0, o);
  }
  bool grouped = GroupDepth() > 0;
  r = SubmitReported(MakeSplitOp(parent, color, key, parent->options(), child.get()));
  if (r.failed() && !grouped) return r;
  *out = child.release();
  return r;
}

Result CommShrink(Comm* parent, const int* exclude, int nexclude, Comm** out,
                  const CommOptions* options, int flags) {
  Result r = CheckComm(parent, "CommShrink");
  if (r.failed()) return GroupArg(r);
  if (out == nullptr) return GroupArg(Arg("CommShrink : newcomm argument is NULL"));
  *out = nullptr;
  if (nexclude < 0 || (nexclude > 0 && exclude == nullptr)) {
    return GroupArg(Arg("CommShrink : invalid excludeRanksList"));
  }
  if (flags != 0 && flags != 1) {
    return GroupArg(Arg("CommShrink : invalid shrinkFlags " + std::to_string(flags)));
  }
  if (parent->seg() == nullptr) {
    return GroupArg(Report(
        Result(Code::kInvalidUsage, "CommShrink : " + parent->Describe() + " is not initialized")));
  }
  std::vector<bool> excluded(parent->nranks(), false);
  for (int i = 0; i < nexclude; ++i) {
    int q = exclude[i];
    if (q < 0 || q >= parent->nranks()) {
      return GroupArg(Arg("CommShrink : excluded rank " + std::to_string(q) + " out of range"));
    }
    excluded[q] = true;
  }
  if (excluded[parent->rank()]) {
    return GroupArg(
        Arg("CommShrink : rank " + std::to_string(parent->rank()) + " excludes itself"));
  }
  std::vector<uint64_t> mix = {parent->hash(), parent->NextShrinkSeq()};
  int my_rank = 0, size = 0, creator = 0;
  for (int q = 0; q < parent->nranks(); ++q) {
    if (excluded[q]) {
      mix.push_back(static_cast<uint64_t>(q));
      continue;
    }
    if (size == 0) creator = parent->seg()->rank(q)->pid;
    if (q == parent->rank()) my_rank = size;
    ++size;
  }
  uint64_t hash = Fnv1a(mix.data(), mix.size() * sizeof(uint64_t));
  CommOptions o = options ? *options : parent->options();
  o.device = parent->device();
  o.device_key = parent->device_key();
  if (o.mem == nullptr) o.mem = parent->mem();
  auto child = std::make_unique<Comm>(my_rank, size, hash, SegmentName(creator, hash), creator, o);
  bool grouped = GroupDepth() > 0;
  r = SubmitReported(MakeInitOp(child.get(), "CommShrink"));
  if (r.failed() && !grouped) return r;
  *out = child.release();
  return r;
}

Result CommFinalize(Comm* comm) {
  EMU_CHECK(CheckComm(comm, "CommFinalize"));
  if (comm->state() == CommState::kReady) comm->SetFinalized();
  return Result::Ok();
}

Result CommDestroy(Comm* comm) {
  EMU_CHECK(CheckComm(comm, "CommDestroy"));
  DDRR_NCCL_INFO(Ended(*comm, /*abort=*/false));
  delete comm;
  return Result::Ok();
}

Result CommAbort(Comm* comm) {
  if (comm == nullptr) return Result::Ok();  // NCCL accepts a null comm here
  EMU_CHECK(CheckComm(comm, "CommAbort"));
  comm->Fail(Result(Code::kRemoteError, comm->Describe() + " was aborted"), /*publish=*/true);
  DDRR_NCCL_INFO(Ended(*comm, /*abort=*/true));
  delete comm;
  return Result::Ok();
}

Result CommRevoke(Comm* comm, int flags) {
  EMU_CHECK(CheckComm(comm, "CommRevoke"));
  if (flags != 0) return Arg("CommRevoke : revokeFlags must be 0, got " + std::to_string(flags));
  comm->Revoke();
  return Result::Ok();
}

Result CommGetAsyncError(Comm* comm, Code* error) {
  return QueryComm(comm, "CommGetAsyncError", "asyncError", error, [](const Comm& c) {
    return c.state() == CommState::kInitializing ? Code::kInProgress : c.async_error();
  });
}

Result CommCount(const Comm* comm, int* count) {
  return QueryComm(comm, "CommCount", "count", count, [](const Comm& c) { return c.nranks(); });
}

Result CommDevice(const Comm* comm, int* device) {
  return QueryComm(comm, "CommCuDevice", "device", device,
                   [](const Comm& c) { return c.device(); });
}

Result CommUserRank(const Comm* comm, int* rank) {
  return QueryComm(comm, "CommUserRank", "rank", rank, [](const Comm& c) { return c.rank(); });
}

Result RedOpCreatePreMulSum(Comm* comm, DataType dtype, const void* scalar, bool on_device,
                            int* op) {
  EMU_CHECK(CheckComm(comm, "RedOpCreatePreMulSum"));
  if (op == nullptr) return Arg("RedOpCreatePreMulSum : op argument is NULL");
  if (scalar == nullptr) return Arg("RedOpCreatePreMulSum : scalar argument is NULL");
  if (!IsValidDataType(static_cast<int>(dtype))) {
    return Arg("RedOpCreatePreMulSum : invalid type " + std::to_string(static_cast<int>(dtype)));
  }
  Comm::PreMulSumOp p;
  p.dtype = dtype;
  if (on_device) {
    p.device_ptr = scalar;
  } else {
    std::memcpy(&p.raw, scalar, ElementSize(dtype));
  }
  *op = comm->AddPreMulSum(p);
  return Result::Ok();
}

Result RedOpDestroy(Comm* comm, int op) {
  EMU_CHECK(CheckComm(comm, "RedOpDestroy"));
  if (op < static_cast<int>(RedOpKind::kPreMulSum)) {
    return Report(Result(Code::kInvalidArgument, "ncclRedOpDestroy : operator is a NCCL builtin."));
  }
  if (!comm->RemovePreMulSum(op)) {
    return Arg("ncclRedOpDestroy : operator " + std::to_string(op) +
               " is unknown or was already destroyed on " + comm->Describe());
  }
  return Result::Ok();
}

Result Collective(Comm* comm, CollKind kind, const void* send, void* recv, size_t count, int dtype,
                  int redop, int root, void* stream) {
  const char* name = CollName(kind);
  Result r = CheckComm(comm, name);
  if (r.failed()) return GroupArg(r);
  if (!IsValidDataType(dtype)) {
    return GroupArg(Arg(std::string(name) + " : invalid type " + std::to_string(dtype)));
  }
  CollArgs a;
  a.kind = kind;
  a.send = send;
  a.recv = recv;
  a.count = count;
  a.dtype = static_cast<DataType>(dtype);
  a.root = root;
  a.stream = stream;
  bool reducing =
      kind == CollKind::kAllReduce || kind == CollKind::kReduce || kind == CollKind::kReduceScatter;
  if (reducing) {
    if (redop >= 0 && redop < static_cast<int>(RedOpKind::kPreMulSum)) {
      a.op = static_cast<RedOpKind>(redop);
    } else if (const Comm::PreMulSumOp* p = comm->FindPreMulSum(redop)) {
      if (p->dtype != a.dtype) {
        return GroupArg(Arg(std::string(name) + " : reduction operation " + std::to_string(redop) +
                            " was created for " + DataTypeName(p->dtype) + ", not " +
                            DataTypeName(a.dtype)));
      }
      a.op = RedOpKind::kPreMulSum;
      a.scalar = p->raw;
      a.scalar_device_ptr = p->device_ptr;
    } else {
      return GroupArg(
          Arg(std::string(name) + " : invalid reduction operation " + std::to_string(redop)));
    }
  }
  bool rooted = kind == CollKind::kBroadcast || kind == CollKind::kReduce ||
                kind == CollKind::kGather || kind == CollKind::kScatter;
  if (rooted && (root < 0 || root >= comm->nranks())) {
    return GroupArg(Arg(std::string(name) + " : invalid root " + std::to_string(root) +
                        " (root should be in the 0.." + std::to_string(comm->nranks() - 1) +
                        " range)"));
  }
  r = comm->CheckUsable(name);
  if (r.failed()) return GroupArg(Report(r));
  if (count == 0) return Result::Ok();  // NCCL drops empty collectives
  bool is_root = comm->rank() == root;
  bool needs_send = !((kind == CollKind::kBroadcast || kind == CollKind::kScatter) && !is_root);
  bool needs_recv = !((kind == CollKind::kReduce || kind == CollKind::kGather) && !is_root);
  if (needs_send && send == nullptr) {
    return GroupArg(Arg(std::string(name) + " : sendbuff argument is NULL"));
  }
  if (needs_recv && recv == nullptr) {
    return GroupArg(Arg(std::string(name) + " : recvbuff argument is NULL"));
  }
  return SubmitReported(MakeCollectiveOp(comm, a));
}

namespace {
Result PointToPoint(bool send, Comm* comm, void* buf, size_t count, int dtype, int peer,
                    void* stream) {
  const char* name = send ? "Send" : "Recv";
  Result r = CheckComm(comm, name);
  if (r.failed()) return GroupArg(r);
  if (!IsValidDataType(dtype)) {
    return GroupArg(Arg(std::string(name) + " : invalid type " + std::to_string(dtype)));
  }
  if (peer < 0 || peer >= comm->nranks()) {
    return GroupArg(Arg(std::string(name) + " : invalid peer " + std::to_string(peer) +
                        " (peer should be in the 0.." + std::to_string(comm->nranks() - 1) +
                        " range)"));
  }
  r = comm->CheckUsable(name);
  if (r.failed()) return GroupArg(Report(r));
  size_t bytes = count * ElementSize(static_cast<DataType>(dtype));
  if (bytes == 0) return Result::Ok();
  if (buf == nullptr) {
    return GroupArg(
        Arg(std::string(name) + (send ? " : sendbuff" : " : recvbuff") + " argument is NULL"));
  }
  return SubmitReported(send ? MakeSendOp(comm, buf, bytes, peer, stream)
                             : MakeRecvOp(comm, buf, bytes, peer, stream));
}
}  // namespace

Result Send(Comm* comm, const void* buf, size_t count, int dtype, int peer, void* stream) {
  return PointToPoint(true, comm, const_cast<void*>(buf), count, dtype, peer, stream);
}

Result Recv(Comm* comm, void* buf, size_t count, int dtype, int peer, void* stream) {
  return PointToPoint(false, comm, buf, count, dtype, peer, stream);
}

}  // namespace ddrr::emu
