// Test helper: writes small rank files call by call, as the recorder would (same writer, same
// encoders), so the analysis tests can state a scenario in a few lines: rank 2 sends twice,
// rank 0 receives once. Op numbers and group depth are kept per communicator handle like the
// interposer keeps them. Every call is 1 us after the previous one unless Advance() says more.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "analysis/check.h"
#include "analysis/run_model.h"
#include "common/status.h"
#include "spec/api_encode.h"
#include "spec/api_table.h"
#include "trace/format.h"
#include "trace/record_encoders.h"
#include "trace/trace_writer.h"

namespace ddrr::analysis::testing {

// ncclDataType_t / ncclRedOp_t values as the traces store them.
constexpr int kInt32 = 2, kFloat16 = 6, kFloat32 = 7;
constexpr int kSum = 0;

class RankTrace {
 public:
  explicit RankTrace(uint32_t rank, uint32_t world) : rank_(rank), world_(world) {}

  void Advance(uint64_t ns) { time_ += ns; }
  void SetLocalRank(int32_t local_rank) { local_rank_ = local_rank; }
  void SetHost(std::string host) { host_ = std::move(host); }
  void SetStartUnixNs(uint64_t ns) { start_unix_ns_ = ns; }
  void SetDigests() { digests_ = true; }
  void SetFrameBytes(size_t bytes) { writer_.frame_raw_bytes = bytes; }
  void SetEnv(const std::string& name, const std::string& value) { env_[name] = value; }

  uint64_t SetDevice(int dev, uint32_t thread = 0) {
    return Call({}, thread, [&](trace::WireEncoder& e) { trace::EncodeCudaSetDevice(e, dev); });
  }
  uint64_t CudaMalloc(int64_t result) {
    trace::CallInfo c;
    c.result = result;
    return Call(c, 0, [&](trace::WireEncoder& e) { trace::EncodeCudaMalloc(e, 0, 1 << 20); });
  }
  uint64_t InitRank(uint64_t comm, uint64_t key, int nranks, const std::string& id, int rank,
                    int64_t result = 0, uint32_t thread = 0) {
    ops_[comm] = 0;
    keys_[comm] = key;
    return Call({result, 1000, key}, thread, [&](trace::WireEncoder& e) {
      trace::EncodeNcclCommInitRank(e, comm, nranks, std::string(128, 'u') + id, rank);
    });
  }
  uint64_t InitAll(const std::vector<uint64_t>& comms, uint64_t key,
                   const std::vector<int64_t>& devlist) {
    for (uint64_t c : comms) {
      ops_[c] = 0;
      keys_[c] = key;
    }
    return Call({0, 1000, key}, 0, [&](trace::WireEncoder& e) {
      trace::EncodeNcclCommInitAll(e, comms, static_cast<int64_t>(comms.size()), devlist);
    });
  }
  uint64_t Split(uint64_t parent, uint64_t newcomm, uint64_t key, int color, int split_key) {
    ops_[newcomm] = 0;
    keys_[newcomm] = key;
    return Call({0, 1000, key}, 0, [&](trace::WireEncoder& e) {
      trace::EncodeNcclCommSplit(e, parent, color, split_key, newcomm, nullptr);
    });
  }
  uint64_t Shrink(uint64_t parent, const std::vector<int64_t>& exclude, uint64_t newcomm,
                  uint64_t key) {
    ops_[newcomm] = 0;
    keys_[newcomm] = key;
    return Call({0, 1000, key}, 0, [&](trace::WireEncoder& e) {
      trace::EncodeNcclCommShrink(e, parent, exclude, static_cast<int64_t>(exclude.size()), newcomm,
                                  nullptr, 0);
    });
  }
  uint64_t CommCount(uint64_t comm, int count) {
    return Call({0, 10, keys_[comm]}, 0,
                [&](trace::WireEncoder& e) { trace::EncodeNcclCommCount(e, comm, count); });
  }
  uint64_t UserRank(uint64_t comm, int rank) {
    return Call({0, 10, keys_[comm]}, 0,
                [&](trace::WireEncoder& e) { trace::EncodeNcclCommUserRank(e, comm, rank); });
  }
  uint64_t Abort(uint64_t comm) {
    return Call({0, 10, keys_[comm]}, 0,
                [&](trace::WireEncoder& e) { trace::EncodeNcclCommAbort(e, comm); });
  }
  uint64_t AsyncError(uint64_t comm, int error) {
    return Call({0, 10, keys_[comm]}, 0,
                [&](trace::WireEncoder& e) { trace::EncodeNcclCommGetAsyncError(e, comm, error); });
  }
  uint64_t AllReduce(uint64_t comm, uint64_t count, int dtype = kFloat32, int64_t result = 0) {
    return Op(comm, result, [&](trace::WireEncoder& e) {
      trace::EncodeNcclAllReduce(e, 0x1000, 0x1000, count, dtype, kSum, comm, 0x5);
    });
  }
  uint64_t Broadcast(uint64_t comm, uint64_t count, int root) {
    return Op(comm, 0, [&](trace::WireEncoder& e) {
      trace::EncodeNcclBroadcast(e, 0x1000, 0x1000, count, kFloat32, root, comm, 0x5);
    });
  }
  uint64_t Send(uint64_t comm, uint64_t count, int peer, int dtype = kFloat32) {
    return Op(comm, 0, [&](trace::WireEncoder& e) {
      trace::EncodeNcclSend(e, 0x1000, count, dtype, peer, comm, 0x5);
    });
  }
  uint64_t Recv(uint64_t comm, uint64_t count, int peer, int dtype = kFloat32) {
    return Op(comm, 0, [&](trace::WireEncoder& e) {
      trace::EncodeNcclRecv(e, 0x1000, count, dtype, peer, comm, 0x5);
    });
  }
  uint64_t GroupStart() {
    const uint64_t s = Call({0, 10, 0, depth_}, 0, trace::EncodeNcclGroupStart);
    ++depth_;
    return s;
  }
  uint64_t GroupEnd() {
    const uint64_t s = Call({0, 10, 0, depth_}, 0, trace::EncodeNcclGroupEnd);
    --depth_;
    return s;
  }
  void Completion(uint64_t call_seq) {
    Body([&](trace::WireEncoder& e, uint64_t seq) {
      trace::EncodeCompletionBody(e, seq - call_seq, 0, 0, 0);
    });
  }
  // Input (role 0) or output (role 1) digest of a call.
  void Digest(uint64_t call_seq, int role, uint64_t value, uint64_t nan = 0) {
    Body([&](trace::WireEncoder& e, uint64_t seq) {
      trace::EncodeDigestBody(e, seq - call_seq, role, value, 4096, nan, 0);
    });
  }

  // Any call: `encode` writes its arguments with the generated encoders (spec/api_encode.h).
  template <typename Fn>
  uint64_t Call(trace::CallInfo c, uint32_t thread, Fn&& encode, uint64_t op_seq = 0) {
    if (!c.group_depth) c.group_depth = depth_;
    trace::WireEncoder e;
    trace::EncodeCallBody(e, c, encode);
    time_ += 1000;
    events_.push_back({++seq_, time_, thread, c.comm_key, op_seq, std::string(e.view())});
    return seq_;
  }
  // A call on communicator handle `comm`: its key and its next op number.
  template <typename Fn>
  uint64_t Op(uint64_t comm, int64_t result, Fn&& encode, uint64_t duration_ns = 500) {
    trace::CallInfo c;
    c.result = result;
    c.comm_key = keys_[comm];
    c.duration_ns = duration_ns;
    return Call(c, 0, encode, ++ops_[comm]);
  }
  // A call the rank was inside when read (the `enter` event a live snapshot or a salvage
  // writes): `fn` on communicator handle `comm` (0: one being created), with its detail.
  void Enter(trace::FunctionId fn, uint64_t comm, int64_t detail = 0) {
    Body([&](trace::WireEncoder& e, uint64_t) {
      trace::EncodeEnterBody(e, static_cast<uint32_t>(fn), comm, detail);
    });
  }
  // How the rank file ends when not killed: its footer's reason and end time (ns after the last
  // event; 0: none given), as salvage writes a dead rank's last sign of life.
  void SetEnd(int32_t end_reason, uint64_t after_last_ns) {
    end_reason_ = end_reason;
    end_after_ns_ = after_last_ns;
  }
  void Mark(int64_t step) {
    Body([&](trace::WireEncoder& e, uint64_t) { trace::EncodeMarkBody(e, "step", step); });
  }
  void Entropy(const std::string& bytes) {
    Body([&](trace::WireEncoder& e, uint64_t) { trace::EncodeEntropyBody(e, 0, bytes, 0); });
  }

  // Written as a reader's snapshot of a rank still running (footer END_LIVE).
  void SetLive() { end_reason_ = trace::kEndLive; }

  // Writes <dir>/rank-<r>.ddrr; `killed`: no footer, as a killed rank leaves it.
  Status Write(const std::string& dir, bool killed = false) const {
    trace::HeaderInfo h;
    h.rank = rank_;
    h.world_size = world_;
    h.local_rank = local_rank_ >= 0 ? local_rank_ : static_cast<int32_t>(rank_);
    h.host = host_;
    h.start_unix_ns = start_unix_ns_;
    h.start_mono_ns = 1'000'000'000ull;
    h.run_id = "test";
    h.env = env_;
    h.capture.level = digests_ ? 1 : 0;
    DDRR_ASSIGN_OR_RETURN(
        auto w,
        trace::TraceWriter::Create(dir + "/rank-" + std::to_string(rank_) + ".ddrr", h, writer_));
    for (const Ev& ev : events_) {
      trace::EventMeta meta;
      meta.comm_key = ev.key;
      meta.op_seq = ev.op_seq;
      DDRR_RETURN_IF_ERROR(w->Append(ev.seq, ev.thread, ev.time, ev.body, &meta));
    }
    if (killed) return w->Abandon();
    trace::FooterInfo f;
    f.end_reason = end_reason_;
    if (end_after_ns_) f.end_time_ns = (events_.empty() ? 0 : events_.back().time) + end_after_ns_;
    return w->Close(f);
  }

 private:
  struct Ev {
    uint64_t seq, time;
    uint32_t thread;
    uint64_t key, op_seq;
    std::string body;
  };

  template <typename Fn>
  void Body(Fn&& encode) {
    trace::WireEncoder e;
    encode(e, seq_ + 1);
    time_ += 100;
    events_.push_back({++seq_, time_, 0, 0, 0, std::string(e.view())});
  }

  uint32_t rank_, world_;
  int32_t local_rank_ = -1;
  std::string host_ = "node0";
  uint64_t start_unix_ns_ = 1'800'000'000'000'000'000ull;
  std::map<std::string, std::string> env_;
  bool digests_ = false;
  trace::WriterOptions writer_;
  uint64_t seq_ = 0, time_ = 1000;
  int32_t end_reason_ = trace::kEndExit;
  uint64_t end_after_ns_ = 0;
  uint32_t depth_ = 0;
  std::map<uint64_t, uint64_t> ops_, keys_;  // by comm handle
  std::vector<Ev> events_;
};

// n ranks, each on its own device, all in one communicator (`key`, handle `comm` on every rank).
inline std::vector<RankTrace> World(uint32_t n, uint64_t comm, uint64_t key) {
  std::vector<RankTrace> ranks;
  for (uint32_t r = 0; r < n; ++r) {
    ranks.emplace_back(r, n);
    ranks[r].SetDevice(static_cast<int>(r));
    ranks[r].InitRank(comm, key, static_cast<int>(n), "world", static_cast<int>(r));
  }
  return ranks;
}

// Writes ranks[i] as rank file i into `dir`, leaving out `absent` and writing `killed` without a
// footer.
inline Status WriteRun(const std::vector<RankTrace>& ranks, const std::string& dir,
                       const std::vector<uint32_t>& killed = {},
                       const std::vector<uint32_t>& absent = {}) {
  auto has = [](const std::vector<uint32_t>& v, uint32_t r) {
    for (uint32_t x : v)
      if (x == r) return true;
    return false;
  };
  for (uint32_t r = 0; r < ranks.size(); ++r)
    if (!has(absent, r)) DDRR_RETURN_IF_ERROR(ranks[r].Write(dir, has(killed, r)));
  return Status::Ok();
}

// A run read back as the tools read it: opened, modelled and checked.
struct CheckedRun {
  std::unique_ptr<trace::Run> run;  // the model points into it
  std::unique_ptr<RunModel> model;
  std::vector<Finding> findings;
};

inline StatusOr<CheckedRun> ReadRun(const std::string& dir) {
  CheckedRun out;
  DDRR_ASSIGN_OR_RETURN(trace::Run run, trace::Run::Open(dir));
  out.run = std::make_unique<trace::Run>(std::move(run));
  DDRR_ASSIGN_OR_RETURN(out.model, ModelRun(*out.run));
  DDRR_ASSIGN_OR_RETURN(CheckResult checked, CheckModel(*out.model));
  out.findings = std::move(checked.findings);
  return out;
}

}  // namespace ddrr::analysis::testing
