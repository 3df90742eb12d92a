// Encoders for the hand-written messages of trace.proto (header, event bodies, footer), used
// by the writer inside the job where libprotobuf must not be loaded. Field numbers follow
// proto/ddrr/trace.proto; trace_roundtrip_test.cc checks every one against libprotobuf.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "trace/wire_encoder.h"

namespace ddrr::trace {

struct DeviceInfo {
  int32_t ordinal = 0;
  std::string name;
  std::string uuid;
  std::string pci_bus_id;
  uint64_t total_memory = 0;
  int32_t cc_major = 0, cc_minor = 0;
};

struct CaptureInfo {
  int32_t level = 0;  // CaptureLevel
  int64_t payload_step_begin = 0, payload_step_end = 0;
  uint64_t payload_byte_budget = 0;
  bool kernels_full = false;
};

struct HeaderInfo {
  uint32_t rank = 0;
  uint32_t world_size = 0;
  int32_t local_rank = -1;
  std::string host;
  uint32_t pid = 0;
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
  int32_t nccl_version = 0, cuda_runtime_version = 0, cuda_driver_version = 0;
  std::vector<DeviceInfo> devices;
  CaptureInfo capture;
  std::vector<std::string> layers;
  uint64_t start_unix_ns = 0, start_mono_ns = 0;
  std::string run_id;
  std::string ddrr_version;
  std::string rank_source;
};

void EncodeHeader(WireEncoder& e, const HeaderInfo& h);

// Common fields of an ApiCall; the function-specific field comes from spec/api_encode.h.
struct CallInfo {
  int64_t result = 0;
  uint64_t duration_ns = 0;
  uint64_t comm_key = 0;  // its op_seq goes to TraceWriter::Append (EventMeta)
  uint32_t group_depth = 0;
  bool graph_captured = false;
  uint32_t call_depth = 0;
  int32_t created_nranks = 0;  // a split's or shrink's new communicator (0: not known)
  int32_t created_rank = 0;
};

// Event bodies. Each writes one field of Event.body (tag included) into `e`.
// For a call: BeginCallBody, then one Encode<Function>(e, ...), then EndCallBody.
size_t BeginCallBody(WireEncoder& e, const CallInfo& c);
// The common fields alone, inside an ApiCall message already begun (the interposer writes them
// after the function's arguments, once the call has returned).
void EncodeCallCommon(WireEncoder& e, const CallInfo& c);
inline void EndCallBody(WireEncoder& e, size_t m) { e.EndMessage(m); }
// A whole call body: `c`'s fields and the function's message, which `encode_args(e)` writes
// with one Encode<Function>.
template <typename EncodeArgs>
void EncodeCallBody(WireEncoder& e, const CallInfo& c, EncodeArgs&& encode_args) {
  const size_t m = BeginCallBody(e, c);
  encode_args(e);
  EndCallBody(e, m);
}
// `call_seq_back` = this event's seq minus the seq of the call it refers to. `op_seq` (0: left
// out) is the call's op number; readers take it from the call when that is at most
// kImplicitOpSeqMaxBack (format.h) events back, so writers send it only when the call is further.
void EncodeCompletionBody(WireEncoder& e, uint64_t call_seq_back, uint64_t comm_key,
                          int64_t observed_delta_ns, int32_t error, uint64_t op_seq = 0);
void EncodeMarkBody(WireEncoder& e, std::string_view label, int64_t step);
void EncodeRngBody(WireEncoder& e, std::string_view name, std::string_view state);
void EncodeEntropyBody(WireEncoder& e, int32_t source, std::string_view data, uint32_t flags);
void EncodeDigestBody(WireEncoder& e, uint64_t call_seq_back, int32_t role, uint64_t value,
                      uint64_t bytes, uint64_t nan_count, uint64_t inf_count);
void EncodePayloadRefBody(WireEncoder& e, uint64_t call_seq_back, int32_t role,
                          uint64_t content_hash, uint64_t bytes);
void EncodeKernelLaunchesBody(WireEncoder& e, uint64_t stream, uint64_t count);
void EncodeThreadNameBody(WireEncoder& e, uint64_t os_tid, std::string_view name);
void EncodeNoteBody(WireEncoder& e, std::string_view text, uint64_t dropped_events);
void EncodeEnterBody(WireEncoder& e, uint32_t fn, uint64_t comm_handle, int64_t detail);

struct FrameIndexInfo {
  uint64_t offset = 0;
  int32_t kind = 0;  // FrameKind
  uint64_t first_seq = 0;
  uint32_t event_count = 0;
  bool has_mark = false;
  int64_t first_mark_step = 0;
  std::string first_mark_label;
  uint64_t first_time_ns = 0;
};

struct FooterInfo {
  int32_t end_reason = 0;  // EndReason
  int32_t exit_status = 0;
  int32_t signal = 0;
  uint64_t end_time_ns = 0;
  uint64_t dropped_events = 0;
  bool has_assigned_rank = false;  // the rank came from the first communicator
  uint32_t assigned_rank = 0, assigned_world_size = 0;
};

void EncodeFooter(WireEncoder& e, const std::vector<FrameIndexInfo>& frames, uint64_t event_count,
                  uint64_t last_seq, const FooterInfo& f);

}  // namespace ddrr::trace
