#include "interpose/completion.h"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/mutex.h"
#include "common/params.h"
#include "interpose/data_capture.h"
#include "interpose/session.h"
#include "interpose/wrapper_support.h"
#include "trace/format.h"
#include "trace/record_encoders.h"

namespace ddrr::interpose {
namespace {

// The real CUDA runtime functions: the poller must never go through (and record) the wrappers.
struct Cuda {
  decltype(&cudaEventCreateWithFlags) event_create = DDRR_REAL(kCudart, cudaEventCreateWithFlags);
  decltype(&cudaEventRecord) event_record = DDRR_REAL(kCudart, cudaEventRecord);
  decltype(&cudaEventQuery) event_query = DDRR_REAL(kCudart, cudaEventQuery);
  decltype(&cudaStreamIsCapturing) is_capturing = DDRR_REAL(kCudart, cudaStreamIsCapturing);
  decltype(&cudaThreadExchangeStreamCaptureMode) exchange_capture_mode =
      DDRR_REAL(kCudart, cudaThreadExchangeStreamCaptureMode);
  bool ok = event_create && event_record && event_query && is_capturing;
};

const Cuda& RealCuda() {
  static const Cuda cuda;
  return cuda;
}

constexpr auto kIdlePoll = std::chrono::microseconds(100);

// One tracked op. Its event stays with the slot and is reused when the slot comes round again.
struct Slot {
  cudaEvent_t event = nullptr;
  uint64_t call_seq = 0, comm_key = 0, op_seq = 0;
  StagedBuffers data;  // buffers copied before the event (digests and payloads levels)
};

constexpr uint32_t kBlockSlots = 256;
struct Block {
  Slot slots[kBlockSlots];
  std::atomic<Block*> next{nullptr};
};

// The ops one thread issued, in issue order: a single-producer (the job's thread) single-consumer
// (the poller) queue of blocks, so that tracking an op takes no lock on the job's thread. Blocks
// the poller has finished go back to the producer with their events (`returned`), so in steady
// state no event is created: blocks in circulation are bounded by how far the poller lags. A
// thread that exits leaves its queue as an orphan, which the next new thread adopts: queues are
// bounded by the threads alive at once.
struct alignas(64) OpQueue {
  // Producer side.
  Block* write_block;
  uint32_t write_index = 0;
  Block* free_blocks = nullptr;  // linked through Block::next
  alignas(64) std::atomic<uint64_t> published{0};
  // Consumer side (poller only).
  alignas(64) Block* read_block;
  uint32_t read_index = 0;
  uint64_t consumed = 0;
  alignas(64) std::atomic<Block*> returned{nullptr};  // pushed by the poller, taken whole
  std::atomic<bool> orphan{false};
  OpQueue* next_queue = nullptr;  // all queues, newest first; never unlinked

  OpQueue() : write_block(new Block), read_block(write_block) {}
};

class Poller {
 public:
  static Poller& Get() {
    static Poller* p = new Poller;  // never destroyed: threads may still be in wrappers at exit
    return *p;
  }

  void Track(uint64_t seq, uint64_t key, uint64_t op, cudaStream_t stream, StagedBuffers data) {
    const Cuda& cuda = RealCuda();
    if ((!enabled_ && data.empty()) || !cuda.ok || failed_.load(std::memory_order_relaxed) ||
        stopping_.load(std::memory_order_relaxed))
      return ReleaseStaged(data);
    OpQueue* q = ThisThreadQueue();
    if (q->write_index == kBlockSlots) {
      if (q->free_blocks == nullptr)
        q->free_blocks = q->returned.exchange(nullptr, std::memory_order_acquire);
      Block* b = q->free_blocks;
      if (b != nullptr) {
        q->free_blocks = b->next.load(std::memory_order_relaxed);
      } else {
        b = new Block;
      }
      b->next.store(nullptr, std::memory_order_relaxed);
      q->write_block->next.store(b, std::memory_order_release);
      q->write_block = b;
      q->write_index = 0;
    }
    Slot& s = q->write_block->slots[q->write_index];
    if (s.event == nullptr && cuda.event_create(&s.event, cudaEventDisableTiming) != cudaSuccess) {
      s.event = nullptr;
      ReleaseStaged(data);
      return Fail("cudaEventCreateWithFlags");
    }
    if (cuda.event_record(s.event, stream) != cudaSuccess) {
      ReleaseStaged(data);
      return Fail("cudaEventRecord");
    }
    s.call_seq = seq;
    s.comm_key = key;
    s.op_seq = op;
    s.data = std::move(data);
    ++q->write_index;
    // No wake-up: that would be a futex call on the job's thread. The poller looks every
    // kIdlePoll instead (completion times are observed at most that late).
    q->published.store(q->published.load(std::memory_order_relaxed) + 1, std::memory_order_release);
    if (!started_.load(std::memory_order_acquire)) Start();
  }

 private:
  struct ThreadQueue {
    OpQueue* queue = nullptr;
    ~ThreadQueue() {
      if (queue) queue->orphan.store(true, std::memory_order_release);
    }
  };

  OpQueue* ThisThreadQueue() {
    thread_local ThreadQueue t;
    if (t.queue) return t.queue;
    MutexLock lock(&mu_);
    for (OpQueue* q = queues_.load(std::memory_order_relaxed); q; q = q->next_queue) {
      bool was_orphan = true;
      if (q->orphan.compare_exchange_strong(was_orphan, false, std::memory_order_acquire))
        return t.queue = q;
    }
    auto* q = new OpQueue;
    q->next_queue = queues_.load(std::memory_order_relaxed);
    queues_.store(q, std::memory_order_release);
    return t.queue = q;
  }

  void Start() {
    MutexLock lock(&mu_);
    if (started_.load(std::memory_order_relaxed)) return;
    thread_ = std::thread([this] { Run(); });
    // atexit handlers run before the CUDA runtime's teardown (registered earlier): stop polling
    // while the runtime is still there.
    std::atexit([] { Poller::Get().Stop(); });
    started_.store(true, std::memory_order_release);
  }

  void Stop() {
    {
      MutexLock lock(&mu_);
      stopping_.store(true, std::memory_order_release);
    }
    cv_.Signal();
    if (thread_.joinable()) thread_.join();
  }

  void Fail(const char* what) {
    if (!failed_.exchange(true))
      DDRR_WARN("completion tracking off (%s failed); calls are still recorded", what);
  }

  enum class Drained { kEmpty, kWaiting, kProgress };

  // Reports the ops of `q` that have completed, in order; stops at the first one still running.
  Drained Drain(OpQueue* q) {
    const Cuda& cuda = RealCuda();
    const uint64_t published = q->published.load(std::memory_order_acquire);
    Drained result = Drained::kEmpty;
    while (q->consumed < published) {
      if (q->read_index == kBlockSlots) {
        Block* done = q->read_block;
        q->read_block = done->next.load(std::memory_order_acquire);
        q->read_index = 0;
        Recycle(q, done);
      }
      Slot& s = q->read_block->slots[q->read_index];
      const cudaError_t st = cuda.event_query(s.event);
      if (st == cudaErrorNotReady) return Drained::kWaiting;  // in order: the head blocks the rest
      const uint64_t call_seq = s.call_seq, comm_key = s.comm_key, op_seq = s.op_seq;
      StagedBuffers data = std::move(s.data);
      ++q->read_index;
      ++q->consumed;
      result = Drained::kProgress;
      if (enabled_)
        Emit(call_seq, comm_key, op_seq, st == cudaSuccess ? 0 : static_cast<int32_t>(st));
      if (st == cudaSuccess) {
        EmitStaged(data);
      } else {
        ReleaseStaged(data);
      }
    }
    return result;
  }

  // A block the poller has passed goes back to its producer, events and all.
  static void Recycle(OpQueue* q, Block* done) {
    Block* head = q->returned.load(std::memory_order_relaxed);
    do {
      done->next.store(head, std::memory_order_relaxed);
    } while (!q->returned.compare_exchange_weak(head, done, std::memory_order_release,
                                                std::memory_order_relaxed));
  }

  void Run() {
    const Cuda& cuda = RealCuda();
    if (cuda.exchange_capture_mode) {  // our queries must not invalidate the job's captures
      cudaStreamCaptureMode mode = cudaStreamCaptureModeRelaxed;
      cuda.exchange_capture_mode(&mode);
    }
    auto wait = std::chrono::microseconds(20);
    // At exit, what already finished is still reported (a short, bounded drain); what has not
    // finished by then stays without a Completion, as in a hang.
    std::chrono::steady_clock::time_point drain_deadline{};
    for (;;) {
      // Read before the pass: a pass that starts after Stop sees every op published before it,
      // while one already under way at Stop may have passed a queue that filled up since.
      const bool stopping = stopping_.load(std::memory_order_acquire);
      bool waiting = false, progress = false;
      for (OpQueue* q = queues_.load(std::memory_order_acquire); q; q = q->next_queue) {
        const Drained d = Drain(q);
        waiting |= d == Drained::kWaiting;
        progress |= d == Drained::kProgress;
      }
      if (stopping) {
        if (!waiting) return;
        if (drain_deadline == std::chrono::steady_clock::time_point{})
          drain_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(200);
        if (std::chrono::steady_clock::now() > drain_deadline) return;
      }
      if (progress) wait = std::chrono::microseconds(20);
      MutexLock lock(&mu_);
      if (stopping) {
        lock.Unlock();
        std::this_thread::sleep_for(wait);
      } else {
        const auto deadline = std::chrono::steady_clock::now() + (waiting ? wait : kIdlePoll);
        while (!stopping_.load(std::memory_order_relaxed) && cv_.WaitUntil(&mu_, deadline)) {
        }
      }
      if (waiting && !progress) wait = std::min(wait * 2, std::chrono::microseconds(1000));
    }
  }

  static void Emit(uint64_t call_seq, uint64_t comm_key, uint64_t op_seq, int32_t error) {
    record::Recorder* r = RunningRecorder();
    if (!r) return;
    trace::EventMeta meta;
    r->AppendWithSeq(
        ThreadIndex(), NowNs() - SessionStartNs(),
        [&](uint64_t own_seq, trace::WireEncoder& e) {
          const uint64_t back = own_seq - call_seq;
          trace::EncodeCompletionBody(e, back, comm_key, 0, error,
                                      back > trace::kImplicitOpSeqMaxBack ? op_seq : 0);
        },
        meta);
  }

  // Serialises thread start/stop and queue registration (the state itself is atomic, read
  // without it); never taken per op.
  Mutex mu_;
  CondVar cv_;
  std::atomic<OpQueue*> queues_{nullptr};
  std::thread thread_;
  std::atomic<bool> started_{false};
  std::atomic<bool> stopping_{false};
  std::atomic<bool> failed_{false};
  // DDRR_COMPLETIONS=0 turns tracking off (calls are still recorded).
  const bool enabled_ = param::Flag(param::kCompletions);
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
