// RankWriter: writes one rank file of an imported run with ddrr's own trace writer and the
// generated call encoders, as the recorder would: one seq per event, calls on a communicator
// numbered per communicator key, the source of the data in the header environment
// (DDRR_IMPORT_*) and in a RecorderNote that opens the rank's events.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "trace/import_source.h"
#include "trace/record_encoders.h"
#include "trace/trace_writer.h"
#include "trace/wire_encoder.h"

namespace ddrr::import {

// Where an imported rank's events came from.
struct Source {
  std::string format;   // "nccl-log", "fr", "fr-json", "watchdog"
  std::string version;  // of the source format, when it says ("2.10", NCCL "2.21.5")
  std::string file;
  std::vector<std::string> unknown;  // fields the source does not have
};

// The header environment keys an imported rank file carries.
inline constexpr const char* kEnvFormat = trace::kImportFormatEnv;
inline constexpr const char* kEnvVersion = trace::kImportVersionEnv;
inline constexpr const char* kEnvFile = trace::kImportFileEnv;
inline constexpr const char* kEnvUnknown = trace::kImportUnknownEnv;

// The NCCL operations imported traces hold, and one call's arguments as the source gives them
// (0 where it has none: pointers of a Flight Recorder dump).
enum class OpFn : uint8_t {
  kAllReduce,
  kBroadcast,
  kReduce,
  kAllGather,
  kReduceScatter,
  kAlltoAll,
  kGather,
  kScatter,
  kSend,
  kRecv,
};

struct OpArgs {
  OpFn fn = OpFn::kAllReduce;
  uint64_t sendbuff = 0, recvbuff = 0;
  uint64_t count = 0;    // NCCL's count argument: sendcount, recvcount, per-peer count
  int64_t datatype = 0;  // ncclDataType_t
  int64_t op = 0;        // ncclRedOp_t
  int64_t root = 0;      // the root, or the peer of a send/recv
  uint64_t comm = 0, stream = 0;
};

// The call's ApiCall field (spec/api_encode.h); Send writes sendbuff, Recv recvbuff.
void EncodeOp(trace::WireEncoder& e, const OpArgs& a);

// The operation a PyTorch name gives: a Flight Recorder profiling name ("nccl:all_reduce",
// "nccl:_allgather_base", "nccl:send 0->3": `*peer` 3, "nccl:recv 3<-0": 0) or, lower-cased, a
// watchdog's OpType ("allreduce", "_reduce_scatter_base"); false for the kinds ddrr does not model.
bool TorchOpFn(const std::string& name, OpFn* fn, int64_t* peer);

// The rank a file's name ends with (nccl_trace_rank_3, dump7.pkl, rank2.log -> 3, 7, 2); -1.
int64_t RankFromFileName(const std::string& path);

// Creates `dir` for a new run; refuses one that already holds rank files.
Status PrepareRunDir(const std::string& dir);

// A 64-bit communicator key from parts that are the same on every member (never 0).
uint64_t CommKey(uint64_t a, uint64_t b = 0, uint64_t c = 0);

class RankWriter {
 public:
  // `header` gives rank, world size, host, pid, versions; the source is added to it.
  static StatusOr<std::unique_ptr<RankWriter>> Create(const std::string& dir,
                                                      trace::HeaderInfo header,
                                                      const Source& source);

  // Moves this rank's clock (ns since the header's start); it never goes back.
  void SetTime(uint64_t time_ns);
  // A call; `c.comm_key` set: a call about that communicator that is not an operation
  // (creation, destroy, abort).
  template <typename Fn>
  StatusOr<uint64_t> Call(const trace::CallInfo& c, Fn&& encode) {
    scratch_.Clear();
    trace::EncodeCallBody(scratch_, c, encode);
    return Append(c.comm_key, 0);
  }
  // An operation (collective or send/recv) on communicator `comm_key`: numbered after the
  // previous one of that communicator on this rank.
  template <typename Fn>
  StatusOr<uint64_t> Op(uint64_t comm_key, Fn&& encode) {
    trace::CallInfo c;
    c.comm_key = comm_key;
    scratch_.Clear();
    trace::EncodeCallBody(scratch_, c, encode);
    return Append(comm_key, ++ops_[comm_key]);
  }
  StatusOr<uint64_t> Operation(uint64_t comm_key, const OpArgs& a) {
    return Op(comm_key, [&](trace::WireEncoder& e) { EncodeOp(e, a); });
  }
  // An operation the source numbers itself (`op_seq`, above the communicator's previous one):
  // the ops between are not in the source, and readers see them as lost.
  StatusOr<uint64_t> OperationAt(uint64_t comm_key, uint64_t op_seq, const OpArgs& a) {
    uint64_t& last = ops_[comm_key];
    if (op_seq > last + 1) last = op_seq - 1;
    return Operation(comm_key, a);
  }
  // The operation at `call_seq` (op number `op_seq` of `comm_key`) completed.
  Status Completion(uint64_t call_seq, uint64_t comm_key, uint64_t op_seq);
  Status Note(std::string_view text);
  // With a footer (the source covers the rank to its end) or without (it stops mid-run).
  Status Close(bool ended);

  uint64_t events() const { return seq_; }

 private:
  explicit RankWriter(std::unique_ptr<trace::TraceWriter> w) : w_(std::move(w)) {}
  StatusOr<uint64_t> Append(uint64_t comm_key, uint64_t op_seq);

  std::unique_ptr<trace::TraceWriter> w_;
  trace::WireEncoder scratch_;
  std::unordered_map<uint64_t, uint64_t> ops_;  // comm key -> last op number
  uint64_t seq_ = 0, time_ = 0, last_time_ = 0;
};

}  // namespace ddrr::import
