// Stream entry points and the dispatch every stream-ordered call goes through (SubmitWork).
#include "hostrt/streams.h"

#include <unordered_set>

#include "common/mutex.h"
#include "hostrt/aliases.h"
#include "hostrt/device.h"
#include "hostrt/errors.h"

namespace ddrr::hostrt {
namespace {

struct StreamRegistry {
  Mutex mutex;
  std::unordered_set<CUstream_st*> live GUARDED_BY(mutex);
};

StreamRegistry& Registry() {
  static StreamRegistry* registry = new StreamRegistry();  // used until the very end of exit
  return *registry;
}

CUstream_st* LegacyStream() {
  static CUstream_st* stream = [] {
    auto* s = new CUstream_st();
    s->capturable = false;
    return s;
  }();
  return stream;
}

CUstream_st* PerThreadStream() {
  thread_local CUstream_st stream;
  return &stream;
}

cudaError_t CreateStream(cudaStream_t* out, unsigned flags, int priority) {
  if (out == nullptr || (flags & ~cudaStreamNonBlocking) != 0) return cudaErrorInvalidValue;
  auto* stream = new CUstream_st();
  stream->device = CurrentDevice();
  stream->flags = flags;
  stream->priority = priority;
  {
    StreamRegistry& registry = Registry();
    MutexLock lock(&registry.mutex);
    registry.live.insert(stream);
  }
  *out = stream;
  return cudaSuccess;
}

}  // namespace

Mutex& CaptureMutex() {
  static Mutex* mutex = new Mutex();
  return *mutex;
}

Capture* ActiveCapture(CUstream_st* stream) {
  if (stream->capture != nullptr && stream->capture->ended) stream->capture.reset();
  return stream->capture.get();
}

cudaError_t ResolveStream(cudaStream_t handle, CUstream_st** stream) {
  if (handle == nullptr || handle == cudaStreamLegacy) {
    *stream = LegacyStream();
    return cudaSuccess;
  }
  if (handle == cudaStreamPerThread) {
    *stream = PerThreadStream();
    return cudaSuccess;
  }
  StreamRegistry& registry = Registry();
  MutexLock lock(&registry.mutex);
  if (registry.live.count(handle) == 0) return cudaErrorInvalidResourceHandle;
  *stream = handle;
  return cudaSuccess;
}

cudaError_t SubmitWork(cudaStream_t handle, HostWork work) {
  CUstream_st* stream = nullptr;
  cudaError_t error = ResolveStream(handle, &stream);
  if (error != cudaSuccess) return error;
  {
    MutexLock lock(&CaptureMutex());
    if (Capture* capture = ActiveCapture(stream)) {
      if (capture->invalidated) return cudaErrorStreamCaptureInvalidated;
      capture->graph->body->nodes.push_back(std::move(work));
      return cudaSuccess;
    }
  }
  work();  // outside the lock: host functions may call back into the runtime
  return cudaSuccess;
}

void InvalidateCapture(CUstream_st* stream) {
  MutexLock lock(&CaptureMutex());
  if (Capture* capture = ActiveCapture(stream)) capture->invalidated = true;
}

}  // namespace ddrr::hostrt

using ddrr::MutexLock;
using ddrr::hostrt::Finish;
using ddrr::hostrt::ResolveStream;

namespace {

// Synchronize and Query fail on a capturing stream and invalidate its capture, as in the real
// runtime; otherwise there is nothing pending.
cudaError_t CompleteStream(cudaStream_t handle) {
  CUstream_st* stream = nullptr;
  cudaError_t error = ResolveStream(handle, &stream);
  if (error != cudaSuccess) return Finish(error);
  bool capturing;
  {
    MutexLock lock(&ddrr::hostrt::CaptureMutex());
    capturing = ddrr::hostrt::ActiveCapture(stream) != nullptr;
  }
  if (capturing) {
    ddrr::hostrt::InvalidateCapture(stream);
    return Finish(cudaErrorStreamCaptureUnsupported);
  }
  return Finish(cudaSuccess);
}

// The stream attribute getters: `*out = field(stream)` for a live stream, the runtime's errors
// for a null `out` or an unknown stream.
template <typename T, typename Field>
cudaError_t ReadStream(cudaStream_t handle, T* out, Field field) {
  if (out == nullptr) return Finish(cudaErrorInvalidValue);
  CUstream_st* stream = nullptr;
  cudaError_t error = ResolveStream(handle, &stream);
  if (error == cudaSuccess) *out = field(*stream);
  return Finish(error);
}

}  // namespace

extern "C" {

cudaError_t cudaStreamCreate(cudaStream_t* stream) {
  return Finish(ddrr::hostrt::CreateStream(stream, cudaStreamDefault, 0));
}

cudaError_t cudaStreamCreateWithFlags(cudaStream_t* stream, unsigned int flags) {
  return Finish(ddrr::hostrt::CreateStream(stream, flags, 0));
}

cudaError_t cudaStreamCreateWithPriority(cudaStream_t* stream, unsigned int flags, int priority) {
  return Finish(ddrr::hostrt::CreateStream(stream, flags, priority));
}

cudaError_t cudaStreamDestroy(cudaStream_t handle) {
  if (handle == nullptr || handle == cudaStreamLegacy || handle == cudaStreamPerThread) {
    return Finish(cudaErrorInvalidResourceHandle);
  }
  {
    ddrr::hostrt::StreamRegistry& registry = ddrr::hostrt::Registry();
    MutexLock lock(&registry.mutex);
    if (registry.live.erase(handle) == 0) return Finish(cudaErrorInvalidResourceHandle);
  }
  delete handle;
  return Finish(cudaSuccess);
}

cudaError_t cudaStreamSynchronize(cudaStream_t stream) { return CompleteStream(stream); }

cudaError_t cudaStreamQuery(cudaStream_t stream) { return CompleteStream(stream); }

cudaError_t cudaStreamGetFlags(cudaStream_t handle, unsigned int* flags) {
  return ReadStream(handle, flags, [](const CUstream_st& s) { return s.flags; });
}

cudaError_t cudaStreamGetPriority(cudaStream_t handle, int* priority) {
  return ReadStream(handle, priority, [](const CUstream_st& s) { return s.priority; });
}

cudaError_t cudaStreamGetDevice(cudaStream_t handle, int* device) {
  CUstream_st* stream = nullptr;
  if (device == nullptr) return Finish(cudaErrorInvalidValue);
  cudaError_t error = ResolveStream(handle, &stream);
  if (error != cudaSuccess) return Finish(error);
  // The default streams belong to whichever device is current.
  bool is_default =
      handle == nullptr || handle == cudaStreamLegacy || handle == cudaStreamPerThread;
  *device = is_default ? ddrr::hostrt::CurrentDevice() : stream->device;
  return Finish(cudaSuccess);
}

cudaError_t cudaStreamGetId(cudaStream_t handle, unsigned long long* stream_id) {
  return ReadStream(handle, stream_id,
                    [](const CUstream_st& s) { return reinterpret_cast<uintptr_t>(&s); });
}

cudaError_t cudaLaunchHostFunc(cudaStream_t stream, cudaHostFn_t fn, void* user_data) {
  if (fn == nullptr) return Finish(cudaErrorInvalidValue);
  return Finish(ddrr::hostrt::SubmitWork(stream, [fn, user_data] { fn(user_data); }));
}

cudaError_t cudaStreamAddCallback(cudaStream_t stream, cudaStreamCallback_t callback,
                                  void* user_data, unsigned int flags) {
  if (callback == nullptr || flags != 0) return Finish(cudaErrorInvalidValue);
  return Finish(ddrr::hostrt::SubmitWork(
      stream, [stream, callback, user_data] { callback(stream, cudaSuccess, user_data); }));
}

cudaError_t cudaStreamAttachMemAsync(cudaStream_t stream, void* dev_ptr, size_t length,
                                     unsigned int flags) {
  CUstream_st* resolved = nullptr;
  return Finish(ResolveStream(stream, &resolved));
}

}  // extern "C"

DDRR_HOSTRT_PTSZ(cudaStreamSynchronize)
DDRR_HOSTRT_PTSZ(cudaStreamQuery)
DDRR_HOSTRT_PTSZ(cudaStreamGetFlags)
DDRR_HOSTRT_PTSZ(cudaStreamGetPriority)
DDRR_HOSTRT_PTSZ(cudaStreamGetDevice)
DDRR_HOSTRT_PTSZ(cudaStreamGetId)
DDRR_HOSTRT_PTSZ(cudaLaunchHostFunc)
DDRR_HOSTRT_PTSZ(cudaStreamAddCallback)
DDRR_HOSTRT_PTSZ(cudaStreamAttachMemAsync)
