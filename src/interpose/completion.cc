#include "interpose/completion.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "common/log.h"
#include "interpose/data_capture.h"
#include "interpose/session.h"
#include "interpose/wrapper_support.h"
#include "trace/record_encoders.h"

namespace ddrr::interpose {
namespace {

// The real CUDA runtime functions: the poller must never go through (and record) the wrappers.
struct Cuda {
  cudaError_t (*event_create)(cudaEvent_t*, unsigned int);
  cudaError_t (*event_record)(cudaEvent_t, cudaStream_t);
  cudaError_t (*event_query)(cudaEvent_t);
  cudaError_t (*is_capturing)(cudaStream_t, cudaStreamCaptureStatus*);
  cudaError_t (*exchange_capture_mode)(cudaStreamCaptureMode*);
  bool ok = false;
};

const Cuda& RealCuda() {
  static const Cuda cuda = [] {
    Cuda c{};
    c.event_create = reinterpret_cast<decltype(c.event_create)>(
        Resolve(Library::kCudart, "cudaEventCreateWithFlags"));
    c.event_record =
        reinterpret_cast<decltype(c.event_record)>(Resolve(Library::kCudart, "cudaEventRecord"));
    c.event_query =
        reinterpret_cast<decltype(c.event_query)>(Resolve(Library::kCudart, "cudaEventQuery"));
    c.is_capturing = reinterpret_cast<decltype(c.is_capturing)>(
        Resolve(Library::kCudart, "cudaStreamIsCapturing"));
    c.exchange_capture_mode = reinterpret_cast<decltype(c.exchange_capture_mode)>(
        Resolve(Library::kCudart, "cudaThreadExchangeStreamCaptureMode"));
    c.ok = c.event_create && c.event_record && c.event_query && c.is_capturing;
    return c;
  }();
  return cuda;
}

constexpr auto kIdlePoll = std::chrono::microseconds(100);

struct Pending {
  cudaEvent_t event;
  uint64_t call_seq, comm_key, op_seq;
  StagedBuffers data;  // buffers copied before the event (digests and payloads levels)
};

class Poller {
 public:
  static Poller& Get() {
    static Poller* p = new Poller;  // never destroyed: threads may still be in wrappers at exit
    return *p;
  }

  void Track(uint64_t seq, uint64_t key, uint64_t op, cudaStream_t stream, StagedBuffers data) {
    const Cuda& cuda = RealCuda();
    if ((!enabled_ && data.empty()) || !cuda.ok || failed_.load(std::memory_order_relaxed))
      return ReleaseStaged(data);
    cudaEvent_t event = TakeEvent();
    if (event == nullptr) return ReleaseStaged(data);
    if (cuda.event_record(event, stream) != cudaSuccess) {
      ReleaseStaged(data);
      return Fail("cudaEventRecord");
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return ReleaseStaged(data);
    if (!thread_.joinable()) Start();
    // No notify: waking the poller is a futex call on the job's thread. The poller checks the
    // queue every kIdlePoll instead (completion times are observed at most that late).
    queue_.push_back({event, seq, key, op, std::move(data)});
  }

 private:
  void Start() {  // mu_ held
    thread_ = std::thread([this] { Run(); });
    // atexit handlers run before the CUDA runtime's teardown (registered earlier): stop polling
    // while the runtime is still there.
    std::atexit([] { Poller::Get().Stop(); });
  }

  void Stop() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stopping_ = true;
    }
    cv_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

  void Fail(const char* what) {
    if (!failed_.exchange(true))
      DDRR_WARN("completion tracking off (%s failed); calls are still recorded", what);
  }

  cudaEvent_t TakeEvent() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!free_.empty()) {
        cudaEvent_t e = free_.back();
        free_.pop_back();
        return e;
      }
    }
    cudaEvent_t e = nullptr;
    if (RealCuda().event_create(&e, cudaEventDisableTiming) != cudaSuccess) {
      Fail("cudaEventCreateWithFlags");
      return nullptr;
    }
    return e;
  }

  void Run() {
    const Cuda& cuda = RealCuda();
    if (cuda.exchange_capture_mode) {  // our queries must not invalidate the job's captures
      cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
      cuda.exchange_capture_mode(&mode);
    }
    std::unique_lock<std::mutex> lock(mu_);
    auto wait = std::chrono::microseconds(20);
    // At exit, what already finished is still reported (a short, bounded drain); what has not
    // finished by then stays without a Completion, as in a hang.
    std::chrono::steady_clock::time_point drain_deadline{};
    for (;;) {
      while (!stopping_ && queue_.empty()) cv_.wait_for(lock, kIdlePoll);
      if (stopping_) {
        if (queue_.empty()) return;
        if (drain_deadline == std::chrono::steady_clock::time_point{})
          drain_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
        if (std::chrono::steady_clock::now() > drain_deadline) return;
      }
      cudaEvent_t head = queue_.front().event;
      lock.unlock();
      const cudaError_t st = cuda.event_query(head);
      lock.lock();
      if (st == cudaErrorNotReady) {  // in order: the head blocks the rest
        if (stopping_) {
          lock.unlock();
          std::this_thread::sleep_for(wait);
          lock.lock();
        } else {
          cv_.wait_for(lock, wait, [this] { return stopping_; });
        }
        wait = std::min(wait * 2, std::chrono::microseconds(1000));
        continue;
      }
      wait = std::chrono::microseconds(20);
      Pending p = std::move(queue_.front());
      queue_.pop_front();
      free_.push_back(p.event);
      lock.unlock();
      if (enabled_) Emit(p, st == cudaSuccess ? 0 : static_cast<int32_t>(st));
      if (st == cudaSuccess) {
        EmitStaged(p.data);
      } else {
        ReleaseStaged(p.data);
      }
      lock.lock();
    }
  }

  static void Emit(const Pending& p, int32_t error) {
    record::Recorder* r = RunningRecorder();
    if (!r) return;
    trace::EventMeta meta;
    r->AppendWithSeq(
        ThreadIndex(), NowNs() - SessionStartNs(),
        [&](uint64_t own_seq, trace::WireEncoder& e) {
          trace::EncodeCompletionBody(e, own_seq - p.call_seq, p.comm_key, 0, error);
        },
        meta);
  }

  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  std::vector<cudaEvent_t> free_;
  std::thread thread_;
  bool stopping_ = false;
  std::atomic<bool> failed_{false};
  // DDRR_COMPLETIONS=0 turns tracking off (calls are still recorded).
  const bool enabled_ = [] {
    const char* v = std::getenv("DDRR_COMPLETIONS");
    return v == nullptr || std::string_view(v) != "0";
  }();
};

// Collectives issued inside a group complete with the group: remember their streams until the
// outermost ncclGroupEnd.
struct GroupStream {
  cudaStream_t stream;
  uint64_t comm_key, op_seq;
  StagedBuffers data;  // outputs are copied once the group has been launched
};
thread_local std::vector<GroupStream> t_group_streams;

}  // namespace

bool StreamIsCapturing(cudaStream_t stream) {
  const Cuda& cuda = RealCuda();
  cudaStreamCaptureStatus capture = cudaStreamCaptureStatusNone;
  return cuda.is_capturing && cuda.is_capturing(stream, &capture) == cudaSuccess &&
         capture != cudaStreamCaptureStatusNone;
}

void OnCollectiveIssued(uint64_t seq, uint64_t comm_key, uint64_t op_seq, cudaStream_t stream,
                        uint32_t group_depth, StagedBuffers data) {
  if (seq == 0) return ReleaseStaged(data);  // not recorded (dropped): nothing to refer to
  if (group_depth == 0) {
    CopyOutputs(data);
    Poller::Get().Track(seq, comm_key, op_seq, stream, std::move(data));
    return;
  }
  for (auto& g : t_group_streams) {
    if (g.stream == stream) {
      g.comm_key = comm_key;
      g.op_seq = op_seq;
      for (auto& b : data) g.data.push_back(b);
      return;
    }
  }
  t_group_streams.push_back({stream, comm_key, op_seq, std::move(data)});
}

void OnGroupEnded(uint64_t seq, uint32_t depth_after, bool ok) {
  if (depth_after != 0) return;
  for (auto& g : t_group_streams) {
    if (!ok) {  // nothing was launched: no completion to wait for, no output to read
      ReleaseStaged(g.data);
      continue;
    }
    CopyOutputs(g.data);
    Poller::Get().Track(seq, g.comm_key, g.op_seq, g.stream, std::move(g.data));
  }
  t_group_streams.clear();
}

}  // namespace ddrr::interpose
