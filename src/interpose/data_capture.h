// Digests and payloads of collective and p2p buffers (capture levels digests and payloads).
//
// Reading a buffer must neither block the job nor race with its stream, so the wrapper copies it
// with cudaMemcpyAsync into pinned staging memory, on the call's own stream: inputs right before
// the real call, outputs right after it (after the outermost ncclGroupEnd for grouped calls).
// The completion poller (completion.cc) sees the stream pass the copies, then hashes the staging
// copy (XXH64, plus NaN/Inf counts for floating types), stores it as a payload when asked, and
// appends Digest / PayloadRef events naming the call. Which buffers a function reads and writes
// is declared in src/spec/api_spec.py (BUFFERS) and generated into its wrapper.
//
// Nothing here changes what the job sees: while a stream captures a graph nothing is copied (the
// copy would become part of the job's graph); when staging memory is exhausted or a copy fails,
// the buffer is skipped and counted (RecorderNote at exit). The cost on a GPU is one
// device-to-host copy per buffer on the job's stream.
#pragma once

#include <cuda_runtime_api.h>
#include <nccl.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ddrr::interpose {

// One buffer of a recorded call on its way to the digester.
struct StagedBuffer {
  uint64_t call_seq = 0;  // the call's seq, known once it is recorded
  int32_t role = 0;       // trace BufferRole: 0 input, 1 output
  const void* source = nullptr;
  cudaStream_t stream = nullptr;
  uint64_t bytes = 0;
  ncclDataType_t datatype = ncclFloat32;
  void* staging = nullptr;
  uint32_t staging_class = 0;
  bool copied = false;   // the copy into staging is enqueued
  bool payload = false;  // store the data too
};
using StagedBuffers = std::vector<StagedBuffer>;

// Built by a collective's wrapper when it records; inactive (every method a cheap no-op) at the
// metadata level or while `stream` captures a graph.
class DataCapture {
 public:
  // Inactive unless `recording`.
  DataCapture(ncclDataType_t datatype, ncclComm_t comm, cudaStream_t stream, bool recording);
  DataCapture(const DataCapture&) = delete;
  DataCapture& operator=(const DataCapture&) = delete;
  ~DataCapture();

  bool active() const { return active_; }
  int nranks();           // the communicator's size (0 if unknown)
  bool IsRoot(int root);  // this rank is `root` of the communicator
  // `holds_data`: this rank's buffer means something (e.g. only the root's for a Broadcast input).
  void Input(const void* buff, size_t count, bool holds_data);   // before the real call
  void Output(const void* buff, size_t count, bool holds_data);  // after the real call
  // The call is recorded under `seq`; hands over its buffers (none unless `ok`).
  StagedBuffers Take(uint64_t seq, bool ok);

 private:
  StagedBuffer Stage(int32_t role, const void* buff, size_t count);

  bool active_ = false;
  ncclDataType_t datatype_;
  ncclComm_t comm_;
  cudaStream_t stream_;
  int nranks_ = -1, rank_ = -2;
  StagedBuffers buffers_;
};

// Enqueues the staging copies not made yet (outputs), each on its stream; drops what fails.
void CopyOutputs(StagedBuffers& buffers);
// Poller side, once the stream has passed the copies: digests, payloads, events; frees staging.
void EmitStaged(StagedBuffers& buffers);
// Frees staging without emitting anything.
void ReleaseStaged(StagedBuffers& buffers);

// The digest of a buffer's bytes (XXH64), as Digest events hold it.
uint64_t DigestOf(const void* data, size_t bytes);

// What was skipped and why ("" when nothing was): becomes a RecorderNote at exit.
std::string DataCaptureSummary();

}  // namespace ddrr::interpose
