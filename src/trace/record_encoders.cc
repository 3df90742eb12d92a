#include "trace/record_encoders.h"

#include "trace/format.h"

namespace ddrr::trace {

void EncodeHeader(WireEncoder& e, const HeaderInfo& h) {
  e.Varint(1, h.rank);
  e.Varint(2, h.world_size);
  e.Varint(3, static_cast<uint64_t>(static_cast<int64_t>(h.local_rank)));
  e.Bytes(4, h.host);
  e.Varint(5, h.pid);
  for (const auto& a : h.argv) {  // repeated string: empty elements must still be written
    e.Tag(6, 2);
    e.RawVarint(a.size());
    e.RawBytes(a.data(), a.size());
  }
  for (const auto& [k, v] : h.env) {  // map entry = message {key = 1; value = 2}
    const size_t m = e.BeginMessage(7);
    e.Bytes(1, k);
    e.Bytes(2, v);
    e.EndMessage(m);
  }
  e.Varint(8, static_cast<uint64_t>(static_cast<int64_t>(h.nccl_version)));
  e.Varint(9, static_cast<uint64_t>(static_cast<int64_t>(h.cuda_runtime_version)));
  e.Varint(10, static_cast<uint64_t>(static_cast<int64_t>(h.cuda_driver_version)));
  for (const auto& d : h.devices) {
    const size_t m = e.BeginMessage(11);
    e.Varint(1, static_cast<uint64_t>(static_cast<int64_t>(d.ordinal)));
    e.Bytes(2, d.name);
    e.Bytes(3, d.uuid);
    e.Bytes(4, d.pci_bus_id);
    e.Varint(5, d.total_memory);
    e.Varint(6, static_cast<uint64_t>(static_cast<int64_t>(d.cc_major)));
    e.Varint(7, static_cast<uint64_t>(static_cast<int64_t>(d.cc_minor)));
    e.EndMessage(m);
  }
  {
    const size_t m = e.BeginMessage(12);
    e.Varint(1, static_cast<uint64_t>(static_cast<int64_t>(h.capture.level)));
    e.Varint(2, static_cast<uint64_t>(h.capture.payload_step_begin));
    e.Varint(3, static_cast<uint64_t>(h.capture.payload_step_end));
    e.Varint(4, h.capture.payload_byte_budget);
    e.Bool(5, h.capture.kernels_full);
    e.EndMessage(m);
  }
  for (const auto& l : h.layers) {
    e.Tag(13, 2);
    e.RawVarint(l.size());
    e.RawBytes(l.data(), l.size());
  }
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
}

void EncodeCompletionBody(WireEncoder& e, uint64_t call_seq_back, uint64_t comm_key,
                          int64_t observed_delta_ns, int32_t error, uint64_t op_seq) {
  const size_t m = e.BeginMessage(field::kEventCompletion);
  e.Fixed64(2, comm_key);
  if (op_seq) e.Varint(3, op_seq);
  e.Sint(4, observed_delta_ns);
  e.Sint(5, error);
  e.Varint(6, call_seq_back);
  e.EndMessage(m);
}

void EncodeMarkBody(WireEncoder& e, std::string_view label, int64_t step) {
  const size_t m = e.BeginMessage(field::kEventMark);
  e.Bytes(1, label);
  e.Varint(2, static_cast<uint64_t>(step));
  e.EndMessage(m);
}

void EncodeRngBody(WireEncoder& e, std::string_view name, std::string_view state) {
  const size_t m = e.BeginMessage(field::kEventRng);
  e.Bytes(1, name);
  e.Bytes(2, state);
  e.EndMessage(m);
}

void EncodeEntropyBody(WireEncoder& e, int32_t source, std::string_view data, uint32_t flags) {
  const size_t m = e.BeginMessage(field::kEventEntropy);
  e.Varint(1, static_cast<uint64_t>(static_cast<int64_t>(source)));
  e.Bytes(2, data);
  e.Varint(3, flags);
  e.EndMessage(m);
}

void EncodeDigestBody(WireEncoder& e, uint64_t call_seq_back, int32_t role, uint64_t value,
                      uint64_t bytes, uint64_t nan_count, uint64_t inf_count) {
  const size_t m = e.BeginMessage(field::kEventDigest);
  e.Varint(8, call_seq_back);
  e.Varint(2, static_cast<uint64_t>(static_cast<int64_t>(role)));
  e.Fixed64(3, value);
  e.Varint(4, bytes);
  e.Varint(6, nan_count);
  e.Varint(7, inf_count);
  e.EndMessage(m);
}

void EncodePayloadRefBody(WireEncoder& e, uint64_t call_seq_back, int32_t role,
                          uint64_t content_hash, uint64_t bytes) {
  const size_t m = e.BeginMessage(field::kEventPayload);
  e.Varint(5, call_seq_back);
  e.Varint(2, static_cast<uint64_t>(static_cast<int64_t>(role)));
  e.Fixed64(3, content_hash);
  e.Varint(4, bytes);
  e.EndMessage(m);
}

void EncodeKernelLaunchesBody(WireEncoder& e, uint64_t stream, uint64_t count) {
  const size_t m = e.BeginMessage(field::kEventKernels);
  e.Fixed64(1, stream);
  e.Varint(2, count);
  e.EndMessage(m);
}

void EncodeThreadNameBody(WireEncoder& e, uint64_t os_tid, std::string_view name) {
  const size_t m = e.BeginMessage(field::kEventThreadName);
  e.Varint(1, os_tid);
  e.Bytes(2, name);
  e.EndMessage(m);
}

void EncodeNoteBody(WireEncoder& e, std::string_view text, uint64_t dropped_events) {
  const size_t m = e.BeginMessage(field::kEventNote);
  e.Bytes(1, text);
  e.Varint(2, dropped_events);
  e.EndMessage(m);
}

void EncodeEnterBody(WireEncoder& e, uint32_t fn, uint64_t comm_handle, int64_t detail) {
  const size_t m = e.BeginMessage(field::kEventEnter);
  e.Varint(1, fn);
  e.Fixed64(2, comm_handle);
  e.Varint(3, static_cast<uint64_t>(detail));
  e.EndMessage(m);
}

void EncodeFooter(WireEncoder& e, const std::vector<FrameIndexInfo>& frames, uint64_t event_count,
                  uint64_t last_seq, const FooterInfo& f) {
  for (const auto& fr : frames) {
    const size_t m = e.BeginMessage(1);
    e.Varint(1, fr.offset);
    e.Varint(2, static_cast<uint64_t>(static_cast<int64_t>(fr.kind)));
    e.Varint(3, fr.first_seq);
    e.Varint(4, fr.event_count);
    e.Bool(5, fr.has_mark);
    e.Varint(6, static_cast<uint64_t>(fr.first_mark_step));
    e.Bytes(7, fr.first_mark_label);
    e.Varint(8, fr.first_time_ns);
    e.EndMessage(m);
  }
  e.Varint(2, event_count);
  e.Varint(3, last_seq);
  e.Varint(4, static_cast<uint64_t>(static_cast<int64_t>(f.end_reason)));
  e.Varint(5, static_cast<uint64_t>(static_cast<int64_t>(f.exit_status)));
  e.Varint(6, static_cast<uint64_t>(static_cast<int64_t>(f.signal)));
  e.Varint(7, f.end_time_ns);
  e.Varint(8, f.dropped_events);
  if (f.has_assigned_rank) {
    e.VarintAlways(9, f.assigned_rank);
    e.Varint(10, f.assigned_world_size);
  }
}

}  // namespace ddrr::trace
