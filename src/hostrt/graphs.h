// CUDA graphs on the host runtime: a graph is the host work (copies, memsets, host functions,
// nested graph launches) captured from streams, in issue order. Issue order is a valid
// topological order of the real dependency graph, and all work runs synchronously, so replaying
// the list in order gives the same results as the real runtime.
#pragma once

#include <cuda_runtime_api.h>

#include <functional>
#include <memory>
#include <vector>

#include "common/mutex.h"

namespace ddrr::hostrt {

using HostWork = std::function<void()>;

struct GraphBody {
  std::vector<HostWork> nodes;
  // cudaFreeAsync issued during capture: the memory must outlive every replay, so it is freed
  // when the last graph or executable graph holding this body is destroyed.
  std::vector<void*> deferred_frees;

  GraphBody() = default;
  GraphBody(const GraphBody&) = delete;
  GraphBody& operator=(const GraphBody&) = delete;
  ~GraphBody();

  void Replay() const;
};

// Guards every capture below, every CUstream_st::capture and the node lists of graphs being
// captured.
Mutex& CaptureMutex();

// One stream capture, shared by the origin stream and every stream that joined it through
// cudaStreamWaitEvent on an event recorded inside it.
struct Capture {
  unsigned long long id GUARDED_BY(CaptureMutex()) = 0;
  cudaStreamCaptureMode mode GUARDED_BY(CaptureMutex()) = cudaStreamCaptureModeGlobal;
  cudaStream_t origin GUARDED_BY(CaptureMutex()) = nullptr;
  // Created at begin, handed to the program at end.
  cudaGraph_t graph GUARDED_BY(CaptureMutex()) = nullptr;
  // An illegal call during capture; EndCapture fails.
  bool invalidated GUARDED_BY(CaptureMutex()) = false;
  // Streams still pointing here have left the capture.
  bool ended GUARDED_BY(CaptureMutex()) = false;
};

}  // namespace ddrr::hostrt

struct CUgraph_st {
  std::shared_ptr<ddrr::hostrt::GraphBody> body = std::make_shared<ddrr::hostrt::GraphBody>();
};

struct CUgraphExec_st {
  std::shared_ptr<const ddrr::hostrt::GraphBody> body;
};
