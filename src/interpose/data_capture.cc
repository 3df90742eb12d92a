#include "interpose/data_capture.h"

#include <atomic>
#include <cmath>
#include <cstring>
#include <unordered_set>

#include "common/log.h"
#include "common/mutex.h"
#include "interpose/app_replay.h"
#include "interpose/capture_config.h"
#include "interpose/completion.h"
#include "interpose/session.h"
#include "interpose/wrapper_support.h"
#include "trace/record_encoders.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace ddrr::interpose {
namespace {

// The real functions: the digester's own calls are never recorded.
struct Real {
  decltype(&cudaMemcpyAsync) memcpy_async = DDRR_REAL(kCudart, cudaMemcpyAsync);
  // cudaHostAlloc has C++ overloads: the C one's type by hand.
  cudaError_t (*host_alloc)(void**, size_t, unsigned int) =
      interpose::Real<cudaError_t (*)(void**, size_t, unsigned int)>(Library::kCudart,
                                                                     "cudaHostAlloc");
  decltype(&cudaGetLastError) get_last_error = DDRR_REAL(kCudart, cudaGetLastError);
  decltype(&cudaThreadExchangeStreamCaptureMode) exchange_capture_mode =
      DDRR_REAL(kCudart, cudaThreadExchangeStreamCaptureMode);
  decltype(&ncclCommCount) comm_count = DDRR_REAL(kNccl, ncclCommCount);
  decltype(&ncclCommUserRank) comm_user_rank = DDRR_REAL(kNccl, ncclCommUserRank);
  bool ok = memcpy_async && host_alloc && get_last_error;
};

const Real& Fns() {
  static const Real real = [] {
    Real r;
    if (!r.ok) DDRR_WARN("digests off: the CUDA runtime's copy functions were not found");
    return r;
  }();
  return real;
}

// Why buffers were not digested or stored; reported once at exit.
struct Skips {
  std::atomic<uint64_t> staging_full{0}, copy_failed{0}, payload_budget{0}, payload_spool_full{0};
  std::atomic<uint64_t> digested{0}, payloads{0}, payload_bytes{0};
};
Skips g_skips;
std::atomic<uint64_t> g_payload_reserved{0};

// Pinned staging buffers in power-of-two classes from 4 KiB, reused, never more than
// DDRR_STAGING_MB in all. Freeing pinned memory can synchronise the device, so nothing is ever
// given back to the runtime.
class StagingPool {
 public:
  static StagingPool& Get() {
    static StagingPool* pool = new StagingPool;  // never destroyed: the poller may run at exit
    return *pool;
  }

  void* Take(uint64_t bytes, uint32_t* cls) {
    uint32_t c = 0;
    while ((kMinBytes << c) < bytes) ++c;
    *cls = c;
    const uint64_t size = kMinBytes << c;
    {
      MutexLock lock(&mu_);
      if (c < kClasses && !free_[c].empty()) {
        void* p = free_[c].back();
        free_[c].pop_back();
        return p;
      }
      if (c >= kClasses || allocated_ + size > Capture().staging_bytes) return nullptr;
      allocated_ += size;
    }
    void* p = nullptr;
    const Real& real = Fns();
    // A global-mode graph capture on another thread must not see our allocation.
    cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
    if (real.exchange_capture_mode) real.exchange_capture_mode(&mode);
    const cudaError_t st = real.host_alloc(&p, size, cudaHostAllocDefault);
    if (real.exchange_capture_mode) real.exchange_capture_mode(&mode);
    if (st != cudaSuccess) {
      real.get_last_error();  // the job must not see our failure
      MutexLock lock(&mu_);
      allocated_ -= size;
      return nullptr;
    }
    return p;
  }

  void Give(void* p, uint32_t cls) {
    MutexLock lock(&mu_);
    free_[cls].push_back(p);
  }

 private:
  static constexpr uint64_t kMinBytes = 4096;
  static constexpr uint32_t kClasses = 40;
  Mutex mu_;
  uint64_t allocated_ GUARDED_BY(mu_) = 0;
  std::vector<void*> free_[kClasses] GUARDED_BY(mu_);
};

// NaN and Inf elements of a floating-point buffer (integers have none).
struct NonFinite {
  uint64_t nan = 0, inf = 0;
};

template <typename Bits>
NonFinite CountBits(const void* data, uint64_t n, Bits exp_mask, Bits mantissa_mask) {
  NonFinite r;
  const auto* p = static_cast<const unsigned char*>(data);
  for (uint64_t i = 0; i < n; ++i) {
    Bits v;
    memcpy(&v, p + i * sizeof(Bits), sizeof(Bits));
    if ((v & exp_mask) != exp_mask) continue;
    if (v & mantissa_mask) {
      ++r.nan;
    } else {
      ++r.inf;
    }
  }
  return r;
}

NonFinite CountNonFinite(const void* data, uint64_t bytes, ncclDataType_t t) {
  switch (t) {
    case ncclFloat16:
      return CountBits<uint16_t>(data, bytes / 2, 0x7c00, 0x03ff);
    case ncclBfloat16:
      return CountBits<uint16_t>(data, bytes / 2, 0x7f80, 0x007f);
    case ncclFloat32:
      return CountBits<uint32_t>(data, bytes / 4, 0x7f800000u, 0x007fffffu);
    case ncclFloat64:
      return CountBits<uint64_t>(data, bytes / 8, 0x7ff0000000000000ull, 0x000fffffffffffffull);
    case ncclFloat8e5m2:
      return CountBits<uint8_t>(data, bytes, 0x7c, 0x03);
    case ncclFloat8e4m3: {  // no infinities; NaN is S.1111.111
      NonFinite r;
      const auto* p = static_cast<const unsigned char*>(data);
      for (uint64_t i = 0; i < bytes; ++i) r.nan += (p[i] & 0x7f) == 0x7f;
      return r;
    }
    default:
      return {};
  }
}

bool Enqueue(StagedBuffer& b) {
  const Real& real = Fns();
  if (real.memcpy_async(b.staging, b.source, b.bytes, cudaMemcpyDefault, b.stream) != cudaSuccess) {
    real.get_last_error();  // our failure must not surface in the job's cudaGetLastError
    g_skips.copy_failed.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  b.copied = true;
  return true;
}

bool PayloadWanted(uint64_t bytes) {
  const CaptureSettings& c = Capture();
  if (c.level < CaptureLevel::kPayloads) return false;
  if (c.has_step_window) {
    const int64_t step = CurrentStep();
    if (step < c.step_begin || step > c.step_end) return false;
  }
  if (g_payload_reserved.fetch_add(bytes, std::memory_order_relaxed) + bytes >
      c.payload_budget_bytes) {
    g_payload_reserved.fetch_sub(bytes, std::memory_order_relaxed);
    g_skips.payload_budget.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

void Release(StagedBuffer& b) {
  if (b.staging) StagingPool::Get().Give(b.staging, b.staging_class);
  b.staging = nullptr;
}

}  // namespace

DataCapture::DataCapture(ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream,
                         bool recording)
    : datatype_(datatype), comm_(comm), stream_(stream) {
  active_ = recording && Capture().level >= CaptureLevel::kDigests && Fns().ok &&
            !StreamIsCapturing(stream);
}

uint64_t DigestOf(const void* data, size_t bytes) { return XXH64(data, bytes, 0); }

DataCapture::~DataCapture() { ReleaseStaged(buffers_); }

int DataCapture::nranks() {
  if (nranks_ < 0) {
    nranks_ = 0;
    int n = 0;
    if (VirtualCommShape(comm_, &nranks_, nullptr)) return nranks_;  // served from a recording
    if (Fns().comm_count && comm_ && Fns().comm_count(comm_, &n) == ncclSuccess) nranks_ = n;
  }
  return nranks_;
}

bool DataCapture::IsRoot(int root) {
  if (rank_ == -2) {
    rank_ = -1;
    int r = -1;
    if (VirtualCommShape(comm_, nullptr, &rank_)) return rank_ == root;
    if (Fns().comm_user_rank && comm_ && Fns().comm_user_rank(comm_, &r) == ncclSuccess) rank_ = r;
  }
  return rank_ == root;
}

StagedBuffer DataCapture::Stage(int32_t role, const void* buff, size_t count) {
  StagedBuffer b;
  b.role = role;
  b.source = buff;
  b.stream = stream_;
  b.datatype = datatype_;
  b.bytes = static_cast<uint64_t>(count) * DatatypeBytes(datatype_);
  if (buff == nullptr || b.bytes == 0) return b;
  b.staging = StagingPool::Get().Take(b.bytes, &b.staging_class);
  if (b.staging == nullptr) g_skips.staging_full.fetch_add(1, std::memory_order_relaxed);
  return b;
}

void DataCapture::Input(const void* buff, size_t count, bool holds_data) {
  if (!active_ || !holds_data) return;
  StagedBuffer b = Stage(0, buff, count);
  if (b.staging && Enqueue(b)) {
    buffers_.push_back(b);
  } else {
    Release(b);
  }
}

void DataCapture::Output(const void* buff, size_t count, bool holds_data) {
  if (!active_ || !holds_data) return;
  StagedBuffer b = Stage(1, buff, count);
  if (b.staging == nullptr) return;
  b.payload = PayloadWanted(b.bytes);
  buffers_.push_back(b);
}

StagedBuffers DataCapture::Take(uint64_t seq, bool ok) {
  StagedBuffers out;
  if (!ok || seq == 0) {
    ReleaseStaged(buffers_);
    return out;
  }
  out.swap(buffers_);
  for (auto& b : out) b.call_seq = seq;
  return out;
}

void CopyOutputs(StagedBuffers& buffers) {
  for (auto& b : buffers)
    if (!b.copied && b.staging && !Enqueue(b)) Release(b);
}

void EmitStaged(StagedBuffers& buffers) {
  record::Recorder* r = RunningRecorder();
  // Touched by the poller thread only: payloads already handed to the spool, by content hash.
  static std::unordered_set<uint64_t>* stored = new std::unordered_set<uint64_t>;
  thread_local trace::WireEncoder scratch;
  for (auto& b : buffers) {
    if (r && b.copied && b.staging) {
      const uint64_t hash = DigestOf(b.staging, b.bytes);
      const NonFinite nf = CountNonFinite(b.staging, b.bytes, b.datatype);
      const uint64_t now = NowNs() - SessionStartNs();
      r->AppendWithSeq(ThreadIndex(), now,
                       [&](uint64_t own_seq, trace::WireEncoder& e) {
                         trace::EncodeDigestBody(e, own_seq - b.call_seq, b.role, hash, b.bytes,
                                                 nf.nan, nf.inf);
                       },
                       {});
      g_skips.digested.fetch_add(1, std::memory_order_relaxed);
      if (b.payload) {
        bool have = stored->count(hash) != 0;
        if (!have) {
          have = r->AppendPayload(hash, {static_cast<const char*>(b.staging), b.bytes}).ok();
          if (have) {
            stored->insert(hash);
            g_skips.payload_bytes.fetch_add(b.bytes, std::memory_order_relaxed);
          } else {
            g_skips.payload_spool_full.fetch_add(1, std::memory_order_relaxed);
          }
        }
        if (have) {
          g_skips.payloads.fetch_add(1, std::memory_order_relaxed);
          r->AppendWithSeq(ThreadIndex(), now,
                           [&](uint64_t own_seq, trace::WireEncoder& e) {
                             trace::EncodePayloadRefBody(e, own_seq - b.call_seq, b.role, hash,
                                                         b.bytes);
                           },
                           {});
        }
      }
    }
    Release(b);
  }
  buffers.clear();
}

void ReleaseStaged(StagedBuffers& buffers) {
  for (auto& b : buffers) Release(b);
  buffers.clear();
}

std::string DataCaptureSummary() {
  if (Capture().level < CaptureLevel::kDigests) return "";
  const auto n = [](const std::atomic<uint64_t>& v) {
    return std::to_string(v.load(std::memory_order_relaxed));
  };
  std::string s = "data capture: " + n(g_skips.digested) + " buffers digested, " +
                  n(g_skips.payloads) + " payload references (" + n(g_skips.payload_bytes) +
                  " bytes stored)";
  if (g_skips.staging_full.load())
    s += "; " + n(g_skips.staging_full) + " skipped: staging memory full (raise DDRR_STAGING_MB)";
  if (g_skips.copy_failed.load()) s += "; " + n(g_skips.copy_failed) + " skipped: copy failed";
  if (g_skips.payload_budget.load())
    s += "; " + n(g_skips.payload_budget) + " payloads over budget (raise DDRR_PAYLOAD_MB)";
  if (g_skips.payload_spool_full.load())
    s += "; " + n(g_skips.payload_spool_full) +
         " payloads dropped: spool full (raise DDRR_SPOOL_MB)";
  return s;
}

}  // namespace ddrr::interpose
