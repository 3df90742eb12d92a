// Event entry points and cudaStreamWaitEvent. Work completes at issue, so a recorded event is
// complete at once; its timestamp is the host clock at record time. Inside a capture, records
// and waits carry the fork/join structure instead: a stream that waits on an event recorded in
// a capturing stream joins that capture, as in the real runtime.
#include <chrono>
#include <memory>
#include <unordered_set>

#include "common/mutex.h"
#include "hostrt/aliases.h"
#include "hostrt/errors.h"
#include "hostrt/streams.h"

struct CUevent_st {
  unsigned flags = 0;
  bool recorded GUARDED_BY(ddrr::hostrt::CaptureMutex()) = false;  // outside any capture
  std::chrono::steady_clock::time_point recorded_at GUARDED_BY(ddrr::hostrt::CaptureMutex());
  // The capture the last record happened in; such an event cannot be queried or synchronised
  // until it is recorded again outside a capture (cudaErrorCapturedEvent).
  std::weak_ptr<ddrr::hostrt::Capture> capture GUARDED_BY(ddrr::hostrt::CaptureMutex());
  bool recorded_in_capture GUARDED_BY(ddrr::hostrt::CaptureMutex()) = false;
};

namespace ddrr::hostrt {
namespace {

constexpr unsigned kEventFlags =
    cudaEventBlockingSync | cudaEventDisableTiming | cudaEventInterprocess;

struct EventRegistry {
  Mutex mutex;
  std::unordered_set<CUevent_st*> live GUARDED_BY(mutex);
};

EventRegistry& Registry() {
  static EventRegistry* registry = new EventRegistry();
  return *registry;
}

bool IsLive(cudaEvent_t event) {
  EventRegistry& registry = Registry();
  MutexLock lock(&registry.mutex);
  return registry.live.count(event) != 0;
}

cudaError_t CreateEvent(cudaEvent_t* out, unsigned flags) {
  if (out == nullptr || (flags & ~kEventFlags) != 0) return cudaErrorInvalidValue;
  // Interprocess events must disable timing (a documented requirement of the real runtime).
  if ((flags & cudaEventInterprocess) != 0 && (flags & cudaEventDisableTiming) == 0) {
    return cudaErrorInvalidValue;
  }
  auto* event = new CUevent_st();
  event->flags = flags;
  EventRegistry& registry = Registry();
  MutexLock lock(&registry.mutex);
  registry.live.insert(event);
  *out = event;
  return cudaSuccess;
}

cudaError_t RecordEvent(cudaEvent_t event, cudaStream_t handle, unsigned flags) {
  if (flags & ~cudaEventRecordExternal) return cudaErrorInvalidValue;
  if (!IsLive(event)) return cudaErrorInvalidResourceHandle;
  CUstream_st* stream = nullptr;
  cudaError_t error = ResolveStream(handle, &stream);
  if (error != cudaSuccess) return error;
  MutexLock lock(&CaptureMutex());
  if (Capture* capture = ActiveCapture(stream)) {
    event->capture = stream->capture;
    event->recorded_in_capture = true;
    if (flags & cudaEventRecordExternal) {
      // An external record is a node of its own: each replay records the event.
      capture->graph->body->nodes.push_back([event] {
        if (!IsLive(event)) return;  // destroyed since capture
        MutexLock replay_lock(&CaptureMutex());
        event->recorded = true;
        event->recorded_in_capture = false;
        event->recorded_at = std::chrono::steady_clock::now();
      });
    }
    return cudaSuccess;
  }
  event->capture.reset();
  event->recorded_in_capture = false;
  event->recorded = true;
  event->recorded_at = std::chrono::steady_clock::now();
  return cudaSuccess;
}

// Query and Synchronize: complete unless the event was last recorded inside a capture.
cudaError_t CompleteEvent(cudaEvent_t event) {
  if (!IsLive(event)) return cudaErrorInvalidResourceHandle;
  MutexLock lock(&CaptureMutex());
  return event->recorded_in_capture ? cudaErrorCapturedEvent : cudaSuccess;
}

}  // namespace
}  // namespace ddrr::hostrt

using ddrr::MutexLock;
using ddrr::hostrt::Finish;

extern "C" {

cudaError_t cudaEventCreate(cudaEvent_t* event) {
  return Finish(ddrr::hostrt::CreateEvent(event, cudaEventDefault));
}

cudaError_t cudaEventCreateWithFlags(cudaEvent_t* event, unsigned int flags) {
  return Finish(ddrr::hostrt::CreateEvent(event, flags));
}

cudaError_t cudaEventDestroy(cudaEvent_t event) {
  {
    ddrr::hostrt::EventRegistry& registry = ddrr::hostrt::Registry();
    MutexLock lock(&registry.mutex);
    if (event == nullptr || registry.live.erase(event) == 0) {
      return Finish(cudaErrorInvalidResourceHandle);
    }
  }
  delete event;
  return Finish(cudaSuccess);
}

cudaError_t cudaEventRecord(cudaEvent_t event, cudaStream_t stream) {
  return Finish(ddrr::hostrt::RecordEvent(event, stream, cudaEventRecordDefault));
}

cudaError_t cudaEventRecordWithFlags(cudaEvent_t event, cudaStream_t stream, unsigned int flags) {
  return Finish(ddrr::hostrt::RecordEvent(event, stream, flags));
}

cudaError_t cudaEventQuery(cudaEvent_t event) { return Finish(ddrr::hostrt::CompleteEvent(event)); }

cudaError_t cudaEventSynchronize(cudaEvent_t event) {
  return Finish(ddrr::hostrt::CompleteEvent(event));
}

cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t start, cudaEvent_t end) {
  if (ms == nullptr) return Finish(cudaErrorInvalidValue);
  if (!ddrr::hostrt::IsLive(start) || !ddrr::hostrt::IsLive(end)) {
    return Finish(cudaErrorInvalidResourceHandle);
  }
  MutexLock lock(&ddrr::hostrt::CaptureMutex());
  // The real runtime answers cudaErrorInvalidResourceHandle for timing-disabled or unrecorded
  // events.
  if (((start->flags | end->flags) & cudaEventDisableTiming) != 0 || !start->recorded ||
      !end->recorded) {
    return Finish(cudaErrorInvalidResourceHandle);
  }
  if (start->recorded_in_capture || end->recorded_in_capture) {
    return Finish(cudaErrorCapturedEvent);
  }
  *ms = std::chrono::duration<float, std::milli>(end->recorded_at - start->recorded_at).count();
  return Finish(cudaSuccess);
}

cudaError_t cudaStreamWaitEvent(cudaStream_t handle, cudaEvent_t event, unsigned int flags) {
  if (flags & ~cudaEventWaitExternal) return Finish(cudaErrorInvalidValue);
  if (!ddrr::hostrt::IsLive(event)) return Finish(cudaErrorInvalidResourceHandle);
  CUstream_st* stream = nullptr;
  cudaError_t error = ddrr::hostrt::ResolveStream(handle, &stream);
  if (error != cudaSuccess) return Finish(error);
  MutexLock lock(&ddrr::hostrt::CaptureMutex());
  std::shared_ptr<ddrr::hostrt::Capture> capture = event->capture.lock();
  if (event->recorded_in_capture && capture != nullptr && !capture->ended &&
      ddrr::hostrt::ActiveCapture(stream) == nullptr) {
    if (!stream->capturable) return Finish(cudaErrorStreamCaptureImplicit);
    stream->capture = capture;  // fork: this stream's work now belongs to the capture
  }
  return Finish(cudaSuccess);
}

}  // extern "C"

DDRR_HOSTRT_PTSZ(cudaEventRecord)
DDRR_HOSTRT_PTSZ(cudaEventRecordWithFlags)
DDRR_HOSTRT_PTSZ(cudaStreamWaitEvent)
