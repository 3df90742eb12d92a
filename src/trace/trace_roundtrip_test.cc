// Round trip: every event type and every function of api_spec.py, written by the interposer-side
// encoder and TraceWriter, read back by libprotobuf through RankFileReader.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/reflection.h>
#include <gtest/gtest.h>

#include "ddrr/options.pb.h"
#include "spec/api_encode.h"
#include "spec/api_samples.h"
#include "spec/api_table.h"
#include "trace/format.h"
#include "trace/record_encoders.h"
#include "trace/test_util.h"
#include "trace/trace_reader.h"
#include "trace/trace_writer.h"

namespace ddrr::trace {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

HeaderInfo FullHeader() {
  HeaderInfo h;
  h.rank = 3;
  h.world_size = 8;
  h.local_rank = 3;
  h.host = "node7";
  h.pid = 4242;
  h.argv = {"torchrun", "", "train.py"};
  h.env = {{"NCCL_DEBUG", "INFO"}, {"RANK", "3"}};
  h.nccl_version = 22809;
  h.cuda_runtime_version = 13000;
  h.cuda_driver_version = 13010;
  DeviceInfo d;
  d.ordinal = 3;
  d.name = "H100";
  d.uuid = std::string("\x01\x00\x02", 3);
  d.pci_bus_id = "0000:1a:00.0";
  d.total_memory = 80ull << 30;
  d.cc_major = 9;
  d.cc_minor = 0;
  h.devices = {d};
  h.capture.level = 2;
  h.capture.payload_step_begin = 10;
  h.capture.payload_step_end = 20;
  h.capture.payload_byte_budget = 1 << 30;
  h.capture.kernels_full = true;
  h.layers = {"nccl", "cudart"};
  h.start_unix_ns = 1'700'000'000'123'456'789ull;
  h.start_mono_ns = 99'000'000'000ull;
  h.run_id = "run-abc";
  h.ddrr_version = "0.1.0";
  h.rank_source = "RANK";
  return h;
}

// Appends call event `seq` at `time_ns` on thread 0: `c`'s fields, the function's message as
// `encode_args` writes it, and op number `op_seq` of communicator `c.comm_key`.
template <typename EncodeArgs>
Status AppendCall(TraceWriter& w, WireEncoder& e, uint64_t seq, uint64_t time_ns, const CallInfo& c,
                  uint64_t op_seq, EncodeArgs encode_args) {
  e.Clear();
  EncodeCallBody(e, c, encode_args);
  EventMeta meta;
  meta.comm_key = c.comm_key;
  meta.op_seq = op_seq;
  return w.Append(seq, 0, time_ns, e.view(), &meta);
}

TEST(TraceRoundTripTest, HeaderEveryField) {
  testing::TempDir dir;
  const HeaderInfo h = FullHeader();
  {
    auto w = TraceWriter::Create(dir.File("rank-3.ddrr"), h);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE((*w)->Close({}).ok());
  }
  auto r = RankFileReader::Open(dir.File("rank-3.ddrr"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const Header& got = (*r)->header();
  EXPECT_EQ(got.rank(), 3u);
  EXPECT_EQ(got.world_size(), 8u);
  EXPECT_EQ(got.local_rank(), 3);
  EXPECT_EQ(got.host(), "node7");
  EXPECT_EQ(got.pid(), 4242u);
  ASSERT_EQ(got.argv_size(), 3);
  EXPECT_EQ(got.argv(1), "");
  EXPECT_EQ(got.argv(2), "train.py");
  EXPECT_EQ(got.env().at("NCCL_DEBUG"), "INFO");
  EXPECT_EQ(got.nccl_version(), 22809);
  EXPECT_EQ(got.cuda_driver_version(), 13010);
  ASSERT_EQ(got.devices_size(), 1);
  EXPECT_EQ(got.devices(0).uuid(), std::string("\x01\x00\x02", 3));
  EXPECT_EQ(got.devices(0).total_memory(), 80ull << 30);
  EXPECT_EQ(got.devices(0).cc_major(), 9);
  EXPECT_EQ(got.capture().level(), CAPTURE_PAYLOADS);
  EXPECT_EQ(got.capture().payload_step_end(), 20);
  EXPECT_TRUE(got.capture().kernels_full());
  EXPECT_EQ(got.layers(1), "cudart");
  EXPECT_EQ(got.start_unix_ns(), 1'700'000'000'123'456'789ull);
  EXPECT_EQ(got.run_id(), "run-abc");
  EXPECT_EQ(got.rank_source(), "RANK");
  ASSERT_NE((*r)->footer(), nullptr);
  EXPECT_TRUE((*r)->problems().empty());
}

TEST(TraceRoundTripTest, EveryNonCallEventTypeWithSeqAndTime) {
  testing::TempDir dir;
  const std::string path = dir.File("rank-0.ddrr");
  WriterOptions small;
  small.frame_raw_bytes = 64;  // several frames: deltas restart per frame
  {
    auto w = TraceWriter::Create(path, FullHeader(), small);
    ASSERT_TRUE(w.ok());
    WireEncoder e;
    auto put = [&](uint64_t seq, uint32_t thread, uint64_t t, auto fn,
                   const EventMeta* m = nullptr) {
      e.Clear();
      fn(e);
      ASSERT_TRUE((*w)->Append(seq, thread, t, e.view(), m).ok());
    };
    EventMeta call_meta;
    call_meta.comm_key = 0xfeedull << 40;
    call_meta.op_seq = 3;
    put(
        1, 0, 90,
        [](WireEncoder& e) {
          CallInfo c;
          c.comm_key = 0xfeedull << 40;
          EncodeCallBody(e, c, [](WireEncoder& e) { EncodeNcclGroupEnd(e); });
        },
        &call_meta);
    put(2, 0, 100, [](WireEncoder& e) { EncodeCompletionBody(e, 1, 0xfeedull << 40, -25, 6); });
    EventMeta mark{true, 12, "step"};
    put(
        3, 1, 50, [](WireEncoder& e) { EncodeMarkBody(e, "step", 12); }, &mark);  // time goes back
    put(4, 2, 5000,
        [](WireEncoder& e) { EncodeRngBody(e, "torch.cuda", std::string("\0\1\2", 3)); });
    put(10, 0, 5001, [](WireEncoder& e) { EncodeEntropyBody(e, 5, "abcdefgh", 1); });  // seq gap
    put(11, 0, 6000,
        [](WireEncoder& e) { EncodeDigestBody(e, 1, 1, 0x0123456789abcdefull, 4096, 2, 1); });
    put(12, 3, 7000, [](WireEncoder& e) { EncodePayloadRefBody(e, 2, 1, 0xdeadbeefull, 4096); });
    put(13, 0, 8000, [](WireEncoder& e) { EncodeKernelLaunchesBody(e, 0x1234, 17); });
    put(14, 0, 9000, [](WireEncoder& e) { EncodeThreadNameBody(e, 555, "pt_autograd_0"); });
    put(15, 0, 9500, [](WireEncoder& e) { EncodeNoteBody(e, "dropped", 3); });
    ASSERT_TRUE((*w)->AppendPayload(0xdeadbeefull, std::string(4096, 'p')).ok());
    ASSERT_TRUE((*w)->AppendPayload(0xdeadbeefull, std::string(4096, 'p')).ok());  // deduplicated
    FooterInfo f;
    f.end_reason = kEndExit;
    f.exit_status = 0;
    ASSERT_TRUE((*w)->Close(f).ok());
  }
  auto r = RankFileReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::vector<std::pair<EventPosition, Event>> got;
  Event ev;
  EventPosition pos;
  while ((*r)->Next(&ev, &pos)) got.emplace_back(pos, ev);
  EXPECT_TRUE((*r)->problems().empty()) << (*r)->problems()[0].ToString();
  ASSERT_EQ(got.size(), 10u);
  EXPECT_EQ((*r)->payload_frames(), 1u);
  EXPECT_EQ(got[0].second.call().op_seq(), 3u);
  EXPECT_FALSE(got[0].second.has_op_seq());  // resolved into ApiCall.op_seq
  got.erase(got.begin());
  const std::vector<uint64_t> seqs = {2, 3, 4, 10, 11, 12, 13, 14, 15};
  const std::vector<uint64_t> times = {100, 50, 5000, 5001, 6000, 7000, 8000, 9000, 9500};
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_EQ(got[i].first.seq, seqs[i]) << i;
    EXPECT_EQ(got[i].first.time_ns, times[i]) << i;
  }
  EXPECT_EQ(got[1].second.thread(), 1u);
  const auto& c = got[0].second.completion();
  EXPECT_EQ(c.call_seq(), 1u);
  EXPECT_EQ(c.comm_key(), 0xfeedull << 40);
  EXPECT_EQ(c.op_seq(), 3u);
  EXPECT_EQ(c.observed_delta_ns(), -25);
  EXPECT_EQ(c.error(), 6);
  EXPECT_EQ(got[1].second.mark().label(), "step");
  EXPECT_EQ(got[1].second.mark().step(), 12);
  EXPECT_EQ(got[2].second.rng().name(), "torch.cuda");
  EXPECT_EQ(got[2].second.rng().state(), std::string("\0\1\2", 3));
  EXPECT_EQ(got[3].second.entropy().source(), ENTROPY_SYSCALL_GETRANDOM);
  EXPECT_EQ(got[3].second.entropy().data(), "abcdefgh");
  EXPECT_EQ(got[3].second.entropy().flags(), 1u);
  const auto& d = got[4].second.digest();
  EXPECT_EQ(d.call_seq(), 10u);
  EXPECT_EQ(d.call_seq_back(), 0u);
  EXPECT_EQ(d.role(), BUFFER_OUTPUT);
  EXPECT_EQ(d.value(), 0x0123456789abcdefull);
  EXPECT_EQ(d.bytes(), 4096u);
  EXPECT_EQ(d.nan_count(), 2u);
  EXPECT_EQ(d.inf_count(), 1u);
  EXPECT_EQ(got[5].second.payload().content_hash(), 0xdeadbeefull);
  EXPECT_EQ(got[5].second.payload().call_seq(), 10u);
  EXPECT_EQ(got[5].second.thread(), 3u);
  EXPECT_EQ(got[6].second.kernels().stream(), 0x1234u);
  EXPECT_EQ(got[6].second.kernels().count(), 17u);
  EXPECT_EQ(got[7].second.thread_name().name(), "pt_autograd_0");
  EXPECT_EQ(got[8].second.note().dropped_events(), 3u);

  const Footer* footer = (*r)->footer();
  ASSERT_NE(footer, nullptr);
  EXPECT_EQ(footer->event_count(), 10u);
  EXPECT_EQ(footer->last_seq(), 15u);
  EXPECT_EQ(footer->end_reason(), END_EXIT);
  int mark_frames = 0;
  for (const auto& f : footer->frames()) {
    if (f.has_mark()) {
      ++mark_frames;
      EXPECT_EQ(f.first_mark_step(), 12);
    }
  }
  EXPECT_EQ(mark_frames, 1);
  EXPECT_GT(footer->frames_size(), 3);
}

// Expected value of sample argument `index` (1-based) of function `fn`; mirrors api_samples.
void ExpectSampleField(const Message& msg, const FieldDescriptor* f, uint32_t fn, uint64_t salt) {
  const auto* refl = msg.GetReflection();
  const uint32_t i = static_cast<uint32_t>(f->number());
  const uint64_t u = SampleU64(fn, i, salt);
  SCOPED_TRACE(std::string(msg.GetDescriptor()->name()) + "." + std::string(f->name()));
  if (f->is_repeated()) {
    if (f->cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      ASSERT_EQ(refl->FieldSize(msg, f), 3);
      for (int k = 0; k < 3; ++k)
        EXPECT_EQ(refl->GetRepeatedString(msg, f, k), SampleString(fn, i, salt * 7 + k));
      return;
    }
    ASSERT_EQ(refl->FieldSize(msg, f), 4);
    for (int k = 0; k < 4; ++k) {
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_INT32)
        EXPECT_EQ(refl->GetRepeatedInt32(msg, f, k), int64_t(SampleU64(fn, i, salt + k) % 64) - 8);
      else
        EXPECT_EQ(refl->GetRepeatedUInt64(msg, f, k), SampleU64(fn, i, salt + k));
    }
    return;
  }
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32:
      EXPECT_EQ(refl->GetInt32(msg, f), int64_t(u % 4096) - 64);
      break;
    case FieldDescriptor::CPPTYPE_INT64:
      EXPECT_EQ(refl->GetInt64(msg, f), int64_t(u % 4096) - 64);
      break;
    case FieldDescriptor::CPPTYPE_UINT32:
      EXPECT_EQ(refl->GetUInt32(msg, f), u & 0xffffffffu);
      break;
    case FieldDescriptor::CPPTYPE_UINT64:
      EXPECT_EQ(refl->GetUInt64(msg, f), u);
      break;
    case FieldDescriptor::CPPTYPE_ENUM:
      EXPECT_EQ(refl->GetEnumValue(msg, f), int(u % 3));
      break;
    case FieldDescriptor::CPPTYPE_FLOAT:
      EXPECT_EQ(refl->GetFloat(msg, f), static_cast<float>(u % 1000) / 8.0f);
      break;
    case FieldDescriptor::CPPTYPE_DOUBLE:
      EXPECT_EQ(refl->GetDouble(msg, f), static_cast<double>(u % 100000) / 16.0);
      break;
    case FieldDescriptor::CPPTYPE_STRING:
      EXPECT_EQ(refl->GetString(msg, f), SampleString(fn, i, salt));
      break;
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& sub = refl->GetMessage(msg, f);
      if (const auto* dim = dynamic_cast<const Dim3*>(&sub)) {
        EXPECT_EQ(dim->x(), u % 65536);
        EXPECT_EQ(dim->y(), 1u);
        EXPECT_EQ(dim->z(), u % 7);
      } else if (const auto* cfg = dynamic_cast<const NcclConfig*>(&sub)) {
        EXPECT_EQ(cfg->blocking(), int(salt % 2));
        EXPECT_TRUE(cfg->has_blocking());
        EXPECT_EQ(cfg->max_ctas(), 32);
        EXPECT_EQ(cfg->comm_name(), "sample-comm");
        EXPECT_FALSE(cfg->has_min_ctas());
      } else {
        ADD_FAILURE() << "unexpected message type " << sub.GetDescriptor()->full_name();
      }
      break;
    }
    default:
      ADD_FAILURE() << "unexpected field type";
  }
}

TEST(TraceRoundTripTest, EveryApiFunctionOfTheSpec) {
  testing::TempDir dir;
  const std::string path = dir.File("rank-0.ddrr");
  const auto fns = AllFunctions();
  ASSERT_GE(fns.size(), 41u + 30u);
  {
    auto w = TraceWriter::Create(path, FullHeader());
    ASSERT_TRUE(w.ok());
    WireEncoder e;
    uint64_t seq = 0;
    for (const auto& f : fns) {
      CallInfo c;
      c.result = -static_cast<int64_t>(f.id);
      c.duration_ns = 1000 + static_cast<uint64_t>(f.id);
      c.comm_key = 0xabcdef0000000000ull | static_cast<uint64_t>(f.id);
      c.group_depth = 2;
      c.graph_captured = true;
      c.call_depth = 1;
      ++seq;
      ASSERT_TRUE(AppendCall(**w, e, seq, seq * 10, c, static_cast<uint64_t>(f.id) * 3,
                             [&](WireEncoder& e) {
                               EncodeSampleCall(e, f.id, /*salt=*/static_cast<uint64_t>(f.id));
                             })
                      .ok());
    }
    ASSERT_TRUE((*w)->Close({}).ok());
  }
  auto r = RankFileReader::Open(path);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Event ev;
  EventPosition pos;
  size_t n = 0;
  while ((*r)->Next(&ev, &pos)) {
    ASSERT_LT(n, fns.size());
    const FunctionInfo& f = fns[n++];
    SCOPED_TRACE(std::string(f.name));
    ASSERT_TRUE(ev.has_call());
    const ApiCall& call = ev.call();
    EXPECT_EQ(call.result(), -static_cast<int64_t>(f.id));
    EXPECT_EQ(call.duration_ns(), 1000 + static_cast<uint64_t>(f.id));
    EXPECT_EQ(call.comm_key(), 0xabcdef0000000000ull | static_cast<uint64_t>(f.id));
    EXPECT_EQ(call.op_seq(), static_cast<uint64_t>(f.id) * 3);
    EXPECT_EQ(call.group_depth(), 2u);
    EXPECT_TRUE(call.graph_captured());
    EXPECT_EQ(call.call_depth(), 1u);
    ASSERT_EQ(static_cast<uint32_t>(call.fn_case()), ApiCallField(f.id));
    const FieldDescriptor* fn_field =
        ApiCall::descriptor()->FindFieldByNumber(static_cast<int>(ApiCallField(f.id)));
    ASSERT_NE(fn_field, nullptr);
    const Message& args = call.GetReflection()->GetMessage(call, fn_field);
    const auto* desc = args.GetDescriptor();
    EXPECT_EQ(desc->options().GetExtension(c_name), f.name);
    EXPECT_EQ(desc->options().GetExtension(result_enum), f.result_enum);
    ASSERT_EQ(static_cast<size_t>(desc->field_count()), f.args.size());
    for (int i = 0; i < desc->field_count(); ++i) {
      const FieldDescriptor* fd = desc->field(i);
      EXPECT_EQ(fd->name(), f.args[i].name);
      EXPECT_EQ(fd->options().GetExtension(out), f.args[i].out);
      ExpectSampleField(args, fd, static_cast<uint32_t>(f.id), static_cast<uint64_t>(f.id));
    }
  }
  EXPECT_EQ(n, fns.size());
  EXPECT_TRUE((*r)->problems().empty());
}

TEST(TraceRoundTripTest, NcclHasAll41PublicFunctions) {
  size_t nccl = 0;
  for (const auto& f : AllFunctions()) nccl += f.library == "nccl";
  EXPECT_EQ(nccl, 41u);
  ASSERT_NE(FindFunction("ncclAlltoAll"), nullptr);
  EXPECT_EQ(FindFunction("ncclAllReduce")->args[FindFunction("ncclAllReduce")->comm_arg].name,
            "comm");
}

// Op numbers travel implicitly when they are the previous op of the same communicator in the
// frame + 1; every other case (first in frame, gaps, resets, several comms) must survive.
TEST(TraceRoundTripTest, OpSeqResolvesAcrossCommsFramesAndGaps) {
  testing::TempDir dir;
  const std::string path = dir.File("rank-0.ddrr");
  WriterOptions small;
  small.frame_raw_bytes = 100;
  struct Op {
    uint64_t comm;
    uint64_t op;
  };
  std::vector<Op> ops = {{1, 0}, {1, 1}, {2, 1}, {1, 2}, {1, 3},  {2, 2},  {1, 7}, {1, 8},
                         {2, 0}, {2, 1}, {0, 0}, {1, 9}, {1, 10}, {1, 11}, {2, 2}, {1, 12}};
  for (int i = 0; i < 40; ++i) ops.push_back({1, 13 + static_cast<uint64_t>(i)});
  {
    auto w = TraceWriter::Create(path, FullHeader(), small);
    ASSERT_TRUE(w.ok());
    WireEncoder e;
    uint64_t seq = 0;
    for (const Op& o : ops) {
      CallInfo c;
      c.comm_key = o.comm;
      ++seq;
      ASSERT_TRUE(AppendCall(**w, e, seq, seq, c, o.op, [&](WireEncoder& e) {
                    EncodeNcclAllReduce(e, 1, 2, 3, 7, 0, o.comm, 5);
                  }).ok());
      e.Clear();
      EncodeCompletionBody(e, 1, o.comm, 10, 0);
      ++seq;
      ASSERT_TRUE((*w)->Append(seq, 0, seq, e.view()).ok());
    }
    ASSERT_TRUE((*w)->Close({}).ok());
  }
  auto r = RankFileReader::Open(path);
  ASSERT_TRUE(r.ok());
  EXPECT_GT((*r)->footer()->frames_size(), 5);
  Event ev;
  EventPosition pos;
  for (size_t i = 0; i < ops.size(); ++i) {
    ASSERT_TRUE((*r)->Next(&ev, &pos));
    EXPECT_EQ(ev.call().op_seq(), ops[i].op) << "call " << i;
    ASSERT_TRUE((*r)->Next(&ev, &pos));
    EXPECT_EQ(ev.completion().call_seq(), pos.seq - 1) << i;
    EXPECT_EQ(ev.completion().op_seq(), ops[i].op) << "completion " << i;
  }
  EXPECT_FALSE((*r)->Next(&ev, &pos));
}

TEST(TraceRoundTripTest, SeekToSeqUsesTheIndex) {
  testing::TempDir dir;
  const std::string path = dir.File("rank-0.ddrr");
  WriterOptions small;
  small.frame_raw_bytes = 256;
  {
    auto w = TraceWriter::Create(path, FullHeader(), small);
    ASSERT_TRUE(w.ok());
    WireEncoder e;
    for (uint64_t s = 1; s <= 1000; ++s) {
      e.Clear();
      EncodeMarkBody(e, "m", static_cast<int64_t>(s));
      ASSERT_TRUE((*w)->Append(s, 0, s * 100, e.view()).ok());
    }
    ASSERT_TRUE((*w)->Close({}).ok());
  }
  auto r = RankFileReader::Open(path);
  ASSERT_TRUE(r.ok());
  (*r)->SeekToSeq(777);
  Event ev;
  EventPosition pos;
  ASSERT_TRUE((*r)->Next(&ev, &pos));
  EXPECT_EQ(pos.seq, 777u);
  EXPECT_EQ(pos.time_ns, 77700u);
  EXPECT_EQ(ev.mark().step(), 777);
  EXPECT_GT(pos.frame_offset, kPreambleSize);
}

}  // namespace
}  // namespace ddrr::trace
