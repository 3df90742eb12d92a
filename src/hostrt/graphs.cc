// Stream capture and graph entry points. Capture records host work instead of running it
// (SubmitWork); instantiation shares the recorded list; a launch replays it in order.
#include "hostrt/graphs.h"

#include <atomic>

#include "common/mutex.h"
#include "hostrt/aliases.h"
#include "hostrt/allocations.h"
#include "hostrt/errors.h"
#include "hostrt/streams.h"

namespace ddrr::hostrt {
namespace {

thread_local cudaStreamCaptureMode t_capture_mode = cudaStreamCaptureModeGlobal;

bool IsCaptureMode(cudaStreamCaptureMode mode) {
  return mode == cudaStreamCaptureModeGlobal || mode == cudaStreamCaptureModeThreadLocal ||
         mode == cudaStreamCaptureModeRelaxed;
}

unsigned long long NextCaptureId() {
  static std::atomic<unsigned long long> next{1};
  return next.fetch_add(1);
}

}  // namespace

GraphBody::~GraphBody() {
  for (void* ptr : deferred_frees) {
    ReleaseTracked(ptr, KindBit(AllocationKind::kDevice) | KindBit(AllocationKind::kManaged));
  }
}

void GraphBody::Replay() const {
  for (const HostWork& node : nodes) node();
}

}  // namespace ddrr::hostrt

using ddrr::MutexLock;
using ddrr::hostrt::Capture;
using ddrr::hostrt::CaptureMutex;
using ddrr::hostrt::Finish;
using ddrr::hostrt::ResolveStream;

extern "C" {

cudaError_t cudaStreamBeginCapture(cudaStream_t handle, cudaStreamCaptureMode mode) {
  if (!ddrr::hostrt::IsCaptureMode(mode)) return Finish(cudaErrorInvalidValue);
  CUstream_st* stream = nullptr;
  cudaError_t error = ResolveStream(handle, &stream);
  if (error != cudaSuccess) return Finish(error);
  if (!stream->capturable) return Finish(cudaErrorStreamCaptureUnsupported);
  MutexLock lock(&CaptureMutex());
  if (ddrr::hostrt::ActiveCapture(stream) != nullptr) return Finish(cudaErrorIllegalState);
  auto capture = std::make_shared<Capture>();
  capture->id = ddrr::hostrt::NextCaptureId();
  capture->mode = mode;
  capture->origin = stream;
  capture->graph = new CUgraph_st();
  stream->capture = std::move(capture);
  return Finish(cudaSuccess);
}

cudaError_t cudaStreamEndCapture(cudaStream_t handle, cudaGraph_t* graph) {
  if (graph == nullptr) return Finish(cudaErrorInvalidValue);
  CUstream_st* stream = nullptr;
  cudaError_t error = ResolveStream(handle, &stream);
  if (error != cudaSuccess) return Finish(error);
  MutexLock lock(&CaptureMutex());
  Capture* capture = ddrr::hostrt::ActiveCapture(stream);
  if (capture == nullptr) return Finish(cudaErrorIllegalState);
  if (capture->origin != stream) {
    capture->invalidated = true;
    return Finish(cudaErrorStreamCaptureUnmatched);
  }
  capture->ended = true;  // every joined stream leaves with it
  cudaGraph_t captured = capture->graph;
  bool invalidated = capture->invalidated;
  stream->capture.reset();
  if (invalidated) {
    delete captured;
    *graph = nullptr;
    return Finish(cudaErrorStreamCaptureInvalidated);
  }
  *graph = captured;
  return Finish(cudaSuccess);
}

cudaError_t cudaStreamIsCapturing(cudaStream_t handle, cudaStreamCaptureStatus* status) {
  return cudaStreamGetCaptureInfo(handle, status, nullptr, nullptr, nullptr, nullptr, nullptr);
}

cudaError_t cudaStreamGetCaptureInfo(cudaStream_t handle, cudaStreamCaptureStatus* status,
                                     unsigned long long* id, cudaGraph_t* graph,
                                     const cudaGraphNode_t** dependencies,
                                     const cudaGraphEdgeData** edge_data,
                                     size_t* num_dependencies) {
  if (status == nullptr) return Finish(cudaErrorInvalidValue);
  CUstream_st* stream = nullptr;
  cudaError_t error = ResolveStream(handle, &stream);
  if (error != cudaSuccess) return Finish(error);
  MutexLock lock(&CaptureMutex());
  Capture* capture = ddrr::hostrt::ActiveCapture(stream);
  if (capture == nullptr) {
    *status = cudaStreamCaptureStatusNone;
    return Finish(cudaSuccess);
  }
  *status =
      capture->invalidated ? cudaStreamCaptureStatusInvalidated : cudaStreamCaptureStatusActive;
  if (id != nullptr) *id = capture->id;
  if (graph != nullptr) *graph = capture->graph;
  // Captured work is a list, not a DAG: there are no node handles to report as the frontier.
  if (dependencies != nullptr) *dependencies = nullptr;
  if (edge_data != nullptr) *edge_data = nullptr;
  if (num_dependencies != nullptr) *num_dependencies = 0;
  return Finish(cudaSuccess);
}

cudaError_t cudaThreadExchangeStreamCaptureMode(cudaStreamCaptureMode* mode) {
  if (mode == nullptr || !ddrr::hostrt::IsCaptureMode(*mode)) return Finish(cudaErrorInvalidValue);
  std::swap(*mode, ddrr::hostrt::t_capture_mode);
  return Finish(cudaSuccess);
}

cudaError_t cudaGraphCreate(cudaGraph_t* graph, unsigned int flags) {
  if (graph == nullptr || flags != 0) return Finish(cudaErrorInvalidValue);
  *graph = new CUgraph_st();
  return Finish(cudaSuccess);
}

cudaError_t cudaGraphClone(cudaGraph_t* clone, cudaGraph_t original) {
  if (clone == nullptr || original == nullptr) return Finish(cudaErrorInvalidValue);
  *clone = new CUgraph_st{original->body};  // graphs are never edited here, so sharing is safe
  return Finish(cudaSuccess);
}

cudaError_t cudaGraphDestroy(cudaGraph_t graph) {
  if (graph == nullptr) return Finish(cudaErrorInvalidValue);
  delete graph;
  return Finish(cudaSuccess);
}

cudaError_t cudaGraphGetNodes(cudaGraph_t graph, cudaGraphNode_t* nodes, size_t* num_nodes) {
  if (graph == nullptr || num_nodes == nullptr) return Finish(cudaErrorInvalidValue);
  if (nodes != nullptr) return ddrr::hostrt::Unsupported("cudaGraphGetNodes with a node array");
  MutexLock lock(&CaptureMutex());
  *num_nodes = graph->body->nodes.size();
  return Finish(cudaSuccess);
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t* exec, cudaGraph_t graph,
                                 unsigned long long flags) {
  if (exec == nullptr || graph == nullptr) return Finish(cudaErrorInvalidValue);
  *exec = new CUgraphExec_st{graph->body};
  return Finish(cudaSuccess);
}

cudaError_t cudaGraphInstantiateWithFlags(cudaGraphExec_t* exec, cudaGraph_t graph,
                                          unsigned long long flags) {
  return cudaGraphInstantiate(exec, graph, flags);
}

cudaError_t cudaGraphInstantiateWithParams(cudaGraphExec_t* exec, cudaGraph_t graph,
                                           cudaGraphInstantiateParams* params) {
  if (params == nullptr) return Finish(cudaErrorInvalidValue);
  cudaError_t error = cudaGraphInstantiate(exec, graph, params->flags);
  params->result_out =
      error == cudaSuccess ? cudaGraphInstantiateSuccess : cudaGraphInstantiateError;
  params->errNode_out = nullptr;
  return error;
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec) {
  if (exec == nullptr) return Finish(cudaErrorInvalidValue);
  delete exec;
  return Finish(cudaSuccess);
}

cudaError_t cudaGraphUpload(cudaGraphExec_t exec, cudaStream_t stream) {
  if (exec == nullptr) return Finish(cudaErrorInvalidValue);
  CUstream_st* resolved = nullptr;
  return Finish(ResolveStream(stream, &resolved));
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t stream) {
  if (exec == nullptr) return Finish(cudaErrorInvalidValue);
  return Finish(ddrr::hostrt::SubmitWork(stream, [body = exec->body] { body->Replay(); }));
}

}  // extern "C"

DDRR_HOSTRT_PTSZ(cudaStreamBeginCapture)
DDRR_HOSTRT_PTSZ(cudaStreamEndCapture)
DDRR_HOSTRT_PTSZ(cudaStreamIsCapturing)
DDRR_HOSTRT_PTSZ(cudaStreamGetCaptureInfo)
DDRR_HOSTRT_PTSZ(cudaGraphInstantiateWithParams)
DDRR_HOSTRT_PTSZ(cudaGraphUpload)
DDRR_HOSTRT_PTSZ(cudaGraphLaunch)
