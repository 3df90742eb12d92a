#include "ddrr-synth/synthetic_run.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <random>

#include "common/mix.h"
#include "spec/api_encode.h"
#include "trace/format.h"
#include "trace/record_encoders.h"

namespace ddrr::trace {
namespace {

constexpr uint64_t kCommKey = 0x5eed0c0ffee00001ull;
constexpr uint64_t kComm = 0x55d0c0a1b000ull;
constexpr uint64_t kStream = 0x55d0c0a1c000ull;
constexpr uint64_t kGradBase = 0x7f2a40000000ull;
constexpr uint64_t kBucketBytes = 25ull << 20;

// Synchronized ranks differ from the common schedule by at most this much per event.
constexpr uint64_t kRankJitterNs = 2000;

// Emits events with increasing seq and a jittered clock.
class Emitter {
 public:
  Emitter(TraceWriter& w, uint64_t seed, uint64_t rank, bool synchronized)
      : w_(w), rng_(seed * 1000003 + rank), common_(seed), synchronized_(synchronized) {}
  // `late_ns`: this call comes that much after the common schedule (a slow rank).
  Status Call(const CallInfo& c, auto&& encode_fn, uint64_t mean_gap_ns, uint64_t op_seq = 0,
              uint64_t late_ns = 0) {
    e_.Clear();
    EncodeCallBody(e_, c, encode_fn);
    EventMeta meta;
    meta.comm_key = c.comm_key;
    meta.op_seq = op_seq;
    return Emit(mean_gap_ns, &meta, late_ns);
  }
  Status Body(auto&& encode_body, uint64_t mean_gap_ns, const EventMeta* meta = nullptr) {
    e_.Clear();
    encode_body(e_);
    return Emit(mean_gap_ns, meta, 0);
  }
  // An event only this rank has (rank 0's ncclGetUniqueId): it must not move the schedule the
  // ranks share.
  Status LocalCall(auto&& encode_fn) {
    if (!synchronized_) return Call({}, encode_fn, 1000);
    e_.Clear();
    EncodeCallBody(e_, {}, encode_fn);
    time_ += 1 + rng_() % kRankJitterNs;
    ++seq_;
    ++count_;
    return w_.Append(seq_, 0, time_, e_.view(), nullptr);
  }
  uint64_t seq() const { return seq_; }
  uint64_t count() const { return count_; }
  uint64_t Jitter(uint64_t mean) { return mean / 2 + rng_() % (mean + 1); }

 private:
  Status Emit(uint64_t mean_gap_ns, const EventMeta* meta, uint64_t late_ns) {
    if (synchronized_) {
      common_time_ += mean_gap_ns / 2 + common_() % (mean_gap_ns + 1);
      time_ = std::max(time_ + 1, common_time_ + late_ns + rng_() % kRankJitterNs);
    } else {
      time_ += Jitter(mean_gap_ns) + late_ns;
    }
    ++seq_;
    ++count_;
    return w_.Append(seq_, 0, time_, e_.view(), meta);
  }
  TraceWriter& w_;
  std::mt19937_64 rng_;
  std::mt19937_64 common_;  // the same draws on every rank
  bool synchronized_;
  WireEncoder e_;
  uint64_t seq_ = 0, time_ = 1000, common_time_ = 1000, count_ = 0;
};

// The digests of one all-reduce on one rank, per the fault options.
Status EmitDigests(Emitter& em, const SyntheticRunOptions& o, uint32_t rank, uint64_t op_seq,
                   uint64_t bytes) {
  const uint64_t nan_op = (static_cast<uint64_t>(o.nan_step) - 1) * o.buckets_per_step + 1;
  const bool nan_on = o.nan_rank >= 0 && o.nan_step > 0;
  const bool nan_in = nan_on && (op_seq > nan_op || (op_seq == nan_op && o.nan_rank == rank));
  const bool nan_out = nan_on && op_seq >= nan_op;
  const uint64_t diverge_op = static_cast<uint64_t>(o.diverge_step) * o.buckets_per_step;
  const bool odd = o.diverge_rank == rank && o.diverge_step > 0 && op_seq >= diverge_op;
  const uint64_t in = Mix64(o.seed ^ Mix64(rank) ^ Mix64(op_seq << 20));
  const uint64_t out =
      Mix64(o.seed ^ Mix64(op_seq << 20) ^ (odd ? 0xbad : 0) ^ (nan_out ? 0x4a4e : 0));
  DDRR_RETURN_IF_ERROR(em.Body(
      [&](WireEncoder& e) {
        EncodeDigestBody(e, /*call_seq_back=*/1, /*BUFFER_INPUT*/ 0, in, bytes, nan_in, 0);
      },
      1000));
  return em.Body(
      [&](WireEncoder& e) {
        EncodeDigestBody(e, /*call_seq_back=*/2, /*BUFFER_OUTPUT*/ 1, out, bytes, nan_out, 0);
      },
      1000);
}

}  // namespace

HeaderInfo SyntheticHeader(uint32_t rank, const SyntheticRunOptions& o) {
  HeaderInfo h;
  h.rank = rank;
  h.world_size = o.world_size;
  h.local_rank = static_cast<int32_t>(rank % 8);
  h.host = "synthetic-node" + std::to_string(rank / 8);
  h.pid = 10000 + rank;
  h.argv = {"python", "train.py", "--synthetic"};
  h.env = {{"RANK", std::to_string(rank)},
           {"WORLD_SIZE", std::to_string(o.world_size)},
           {"NCCL_DEBUG", "WARN"}};
  h.nccl_version = 22809;
  h.cuda_runtime_version = 13000;
  h.cuda_driver_version = 13000;
  DeviceInfo d;
  d.ordinal = h.local_rank;
  d.name = "Synthetic GPU";
  d.pci_bus_id = "0000:" + std::to_string(10 + rank % 8) + ":00.0";
  d.uuid = std::string(16, static_cast<char>(rank));
  d.total_memory = 80ull << 30;
  d.cc_major = 9;
  h.devices.push_back(d);
  h.layers = {"nccl", "cudart", "curand", "entropy"};
  h.capture.level = o.digests ? 1 : 0;  // CAPTURE_DIGESTS
  h.start_unix_ns = 1'790'000'000'000'000'000ull;
  h.start_mono_ns = 5'000'000'000ull;
  h.run_id = "synthetic-" + std::to_string(o.seed);
  h.ddrr_version = "synthetic";
  h.rank_source = "RANK";
  return h;
}

StatusOr<uint64_t> WriteSyntheticRank(TraceWriter& w, uint32_t rank, const SyntheticRunOptions& o,
                                      bool stop_early) {
  Emitter em(w, o.seed, rank, o.synchronized);
  const int64_t ok = 0;
  DDRR_RETURN_IF_ERROR(em.Call(
      {}, [&](WireEncoder& e) { EncodeCudaSetDevice(e, rank % 8); }, 2000));
  DDRR_RETURN_IF_ERROR(em.Call(
      {},
      [&](WireEncoder& e) { EncodeCudaMalloc(e, kGradBase, kBucketBytes * o.buckets_per_step); },
      50000));
  DDRR_RETURN_IF_ERROR(em.Call(
      {}, [&](WireEncoder& e) { EncodeCudaStreamCreate(e, kStream); }, 3000));
  std::string uid(128, '\0');
  for (size_t i = 0; i < uid.size(); ++i) uid[i] = static_cast<char>((o.seed * 31 + i) & 0xff);
  if (rank == 0)
    DDRR_RETURN_IF_ERROR(em.LocalCall([&](WireEncoder& e) { EncodeNcclGetUniqueId(e, uid); }));
  CallInfo init;
  init.comm_key = kCommKey;
  init.duration_ns = 250'000'000;
  DDRR_RETURN_IF_ERROR(em.Call(
      init, [&](WireEncoder& e) { EncodeNcclCommInitRank(e, kComm, o.world_size, uid, rank); },
      300'000'000));

  uint64_t op_seq = 0;
  for (uint32_t step = 1; step <= o.steps; ++step) {
    if (stop_early && step == o.stop_at_step) return em.count();
    EventMeta mark{true, step, "step"};
    DDRR_RETURN_IF_ERROR(
        em.Body([&](WireEncoder& e) { EncodeMarkBody(e, "step", step); }, 1000, &mark));
    for (uint32_t b = 0; b < o.buckets_per_step; ++b) {
      DDRR_RETURN_IF_ERROR(em.Body(
          [&](WireEncoder& e) { EncodeKernelLaunchesBody(e, kStream, 40 + b % 3); }, 2'000'000));
      CallInfo c;
      c.result = ok;
      c.comm_key = kCommKey;
      c.duration_ns = em.Jitter(8000);
      const uint64_t buf = kGradBase + b * kBucketBytes;
      DDRR_RETURN_IF_ERROR(em.Call(
          c,
          [&](WireEncoder& e) {
            EncodeNcclAllReduce(e, buf, buf, kBucketBytes / 4, /*ncclFloat32*/ 7, /*ncclSum*/ 0,
                                kComm, kStream);
          },
          20000, ++op_seq, static_cast<int64_t>(rank) == o.slow_rank ? o.slow_ns : 0));
      if (o.digests) DDRR_RETURN_IF_ERROR(EmitDigests(em, o, rank, op_seq, kBucketBytes));
      DDRR_RETURN_IF_ERROR(em.Body(
          [&](WireEncoder& e) {
            EncodeCompletionBody(e, /*call_seq_back=*/o.digests ? 3 : 1, kCommKey,
                                 static_cast<int64_t>(em.Jitter(5000)), 0);
          },
          3'000'000));
    }
    DDRR_RETURN_IF_ERROR(em.Call(
        {},
        [&](WireEncoder& e) {
          EncodeCudaMemcpyAsync(e, 0x7f00000000ull + step * 64, kGradBase, 4, 2, kStream);
        },
        10000));
    DDRR_RETURN_IF_ERROR(em.Call(
        {}, [&](WireEncoder& e) { EncodeCudaStreamSynchronize(e, kStream); }, 20000));
  }
  CallInfo fin;
  fin.comm_key = kCommKey;
  DDRR_RETURN_IF_ERROR(em.Call(
      fin, [&](WireEncoder& e) { EncodeNcclCommDestroy(e, kComm); }, 100000));
  return em.count();
}

StatusOr<uint64_t> WriteSyntheticRun(const std::string& dir, const SyntheticRunOptions& o) {
  if (mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST)
    return Status::FromErrno("mkdir " + dir, errno);
  uint64_t total = 0;
  for (uint32_t r = 0; r < o.world_size; ++r) {
    const std::string path = dir + "/rank-" + std::to_string(r) + ".ddrr";
    DDRR_ASSIGN_OR_RETURN(auto w, TraceWriter::Create(path, SyntheticHeader(r, o), o.writer));
    const bool stop = static_cast<int64_t>(r) == o.stop_rank;
    DDRR_ASSIGN_OR_RETURN(uint64_t n, WriteSyntheticRank(*w, r, o, stop));
    total += n;
    if (stop) {
      // A killed rank: what reached disk stays, no footer.
      DDRR_RETURN_IF_ERROR(w->Abandon());
      continue;
    }
    FooterInfo f;
    f.end_reason = kEndExit;
    DDRR_RETURN_IF_ERROR(w->Close(f));
  }
  return total;
}

}  // namespace ddrr::trace
