#include "trace/record_encoders.h"

#include <algorithm>

#include "trace/format.h"

namespace ddrr::trace {

void EncodeHeader(WireEncoder& e, const HeaderInfo& h) {
  e.Varint(1, h.rank);
  e.Varint(2, h.world_size);
  e.Int(3, h.local_rank);
  e.Bytes(4, h.host);
  e.Varint(5, h.pid);
  // Repeated strings: empty elements must still be written.
  for (const auto& a : h.argv) e.BytesAlways(6, a);
  for (const auto& [k, v] : h.env) {  // map entry = message {key = 1; value = 2}
    NestedMessage body(e, 7);
    e.Bytes(1, k);
    e.Bytes(2, v);
  }
  e.Int(8, h.nccl_version);
  e.Int(9, h.cuda_runtime_version);
  e.Int(10, h.cuda_driver_version);
  for (const auto& d : h.devices) {
    NestedMessage body(e, 11);
    e.Int(1, d.ordinal);
    e.Bytes(2, d.name);
    e.Bytes(3, d.uuid);
    e.Bytes(4, d.pci_bus_id);
    e.Varint(5, d.total_memory);
    e.Int(6, d.cc_major);
    e.Int(7, d.cc_minor);
  }
  {
    NestedMessage body(e, 12);
    e.Int(1, h.capture.level);
    e.Int(2, h.capture.payload_step_begin);
    e.Int(3, h.capture.payload_step_end);
    e.Varint(4, h.capture.payload_byte_budget);
    e.Bool(5, h.capture.kernels_full);
  }
  for (const auto& l : h.layers) e.BytesAlways(13, l);
  e.Varint(14, h.start_unix_ns);
  e.Varint(15, h.start_mono_ns);
  e.Bytes(16, h.run_id);
  e.Bytes(17, h.ddrr_version);
  e.Bytes(18, h.rank_source);
}

size_t BeginCallBody(WireEncoder& e, const CallInfo& c) {
  const size_t m = e.BeginMessage(field::kEventCall);
  EncodeCallCommon(e, c);
  return m;
}

void EncodeCallCommon(WireEncoder& e, const CallInfo& c) {
  e.Sint(1, c.result);
  e.Varint(2, c.duration_ns);
  e.Fixed64(3, c.comm_key);
  e.Varint(5, c.group_depth);
  e.Bool(6, c.graph_captured);
  e.Varint(7, c.call_depth);
  e.Varint(8, static_cast<uint64_t>(std::max(c.created_nranks, 0)));
  e.Varint(9, static_cast<uint64_t>(std::max(c.created_rank, 0)));
}

void EncodeCompletionBody(WireEncoder& e, uint64_t call_seq_back, uint64_t comm_key,
                          int64_t observed_delta_ns, int32_t error, uint64_t op_seq) {
  NestedMessage body(e, field::kEventCompletion);
  e.Fixed64(2, comm_key);
  if (op_seq) e.Varint(3, op_seq);
  e.Sint(4, observed_delta_ns);
  e.Sint(5, error);
  e.Varint(6, call_seq_back);
}

void EncodeMarkBody(WireEncoder& e, std::string_view label, int64_t step) {
  NestedMessage body(e, field::kEventMark);
  e.Bytes(1, label);
  e.Int(2, step);
}

void EncodeRngBody(WireEncoder& e, std::string_view name, std::string_view state) {
  NestedMessage body(e, field::kEventRng);
  e.Bytes(1, name);
  e.Bytes(2, state);
}

void EncodeEntropyBody(WireEncoder& e, int32_t source, std::string_view data, uint32_t flags) {
  NestedMessage body(e, field::kEventEntropy);
  e.Int(1, source);
  e.Bytes(2, data);
  e.Varint(3, flags);
}

void EncodeDigestBody(WireEncoder& e, uint64_t call_seq_back, int32_t role, uint64_t value,
                      uint64_t bytes, uint64_t nan_count, uint64_t inf_count) {
  NestedMessage body(e, field::kEventDigest);
  e.Varint(8, call_seq_back);
  e.Int(2, role);
  e.Fixed64(3, value);
  e.Varint(4, bytes);
  e.Varint(6, nan_count);
  e.Varint(7, inf_count);
}

void EncodePayloadRefBody(WireEncoder& e, uint64_t call_seq_back, int32_t role,
                          uint64_t content_hash, uint64_t bytes) {
  NestedMessage body(e, field::kEventPayload);
  e.Varint(5, call_seq_back);
  e.Int(2, role);
  e.Fixed64(3, content_hash);
  e.Varint(4, bytes);
}

void EncodeKernelLaunchesBody(WireEncoder& e, uint64_t stream, uint64_t count) {
  NestedMessage body(e, field::kEventKernels);
  e.Fixed64(1, stream);
  e.Varint(2, count);
}

void EncodeThreadNameBody(WireEncoder& e, uint64_t os_tid, std::string_view name) {
  NestedMessage body(e, field::kEventThreadName);
  e.Varint(1, os_tid);
  e.Bytes(2, name);
}

void EncodeNoteBody(WireEncoder& e, std::string_view text, uint64_t dropped_events) {
  NestedMessage body(e, field::kEventNote);
  e.Bytes(1, text);
  e.Varint(2, dropped_events);
}

void EncodeEnterBody(WireEncoder& e, uint32_t fn, uint64_t comm_handle, int64_t detail) {
  NestedMessage body(e, field::kEventEnter);
  e.Varint(1, fn);
  e.Fixed64(2, comm_handle);
  e.Int(3, detail);
}

void EncodeFooter(WireEncoder& e, const std::vector<FrameIndexInfo>& frames, uint64_t event_count,
                  uint64_t last_seq, const FooterInfo& f) {
  for (const auto& fr : frames) {
    NestedMessage body(e, 1);
    e.Varint(1, fr.offset);
    e.Int(2, fr.kind);
    e.Varint(3, fr.first_seq);
    e.Varint(4, fr.event_count);
    e.Bool(5, fr.has_mark);
    e.Int(6, fr.first_mark_step);
    e.Bytes(7, fr.first_mark_label);
    e.Varint(8, fr.first_time_ns);
  }
  e.Varint(2, event_count);
  e.Varint(3, last_seq);
  e.Int(4, f.end_reason);
  e.Int(5, f.exit_status);
  e.Int(6, f.signal);
  e.Varint(7, f.end_time_ns);
  e.Varint(8, f.dropped_events);
  if (f.has_assigned_rank) {
    e.VarintAlways(9, f.assigned_rank);
    e.Varint(10, f.assigned_world_size);
  }
}

}  // namespace ddrr::trace
