// CUDA graphs on the host runtime: a graph is the host work (copies, memsets, host functions,
// nested graph launches) captured from streams, in issue order. Issue order is a valid
// topological order of the real dependency graph, and all work runs synchronously, so replaying
// the list in order gives the same results as the real runtime.
#pragma once

#include <cuda_runtime_api.h>

#include <functional>
#include <memory>
#include <vector>

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

// One stream capture, shared by the origin stream and every stream that joined it through
// cudaStreamWaitEvent on an event recorded inside it. Guarded by CaptureMutex().
struct Capture {
  unsigned long long id = 0;
  cudaStreamCaptureMode mode = cudaStreamCaptureModeGlobal;
  cudaStream_t origin = nullptr;
  cudaGraph_t graph = nullptr;  // created at begin, handed to the program at end
  bool invalidated = false;     // an illegal call during capture; EndCapture fails
  bool ended = false;           // streams still pointing here have left the capture
};

}  // namespace ddrr::hostrt

struct CUgraph_st {
  std::shared_ptr<ddrr::hostrt::GraphBody> body = std::make_shared<ddrr::hostrt::GraphBody>();
};

struct CUgraphExec_st {
  std::shared_ptr<const ddrr::hostrt::GraphBody> body;
};
