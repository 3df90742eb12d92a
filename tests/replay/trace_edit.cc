// trace_edit IN OUT FN NTH FIELD VALUE: writes a copy of rank file IN to OUT in which the NTH
// (from 1) call of function FN has its integer argument FIELD set to VALUE: a deliberately
// edited trace, for tests that a replay notices. The copy keeps the header, calls, marks and
// the footer's end; completions, digests, payloads and kernel counts are left out.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>

#include "ddrr/trace.pb.h"
#include "trace/event_printer.h"
#include "trace/trace_reader.h"
#include "trace/trace_writer.h"
#include "trace/wire_encoder.h"

namespace {

int Die(const std::string& m) {
  fprintf(stderr, "trace_edit: %s\n", m.c_str());
  return 1;
}

// Event.body field `field` holding `message`, as the writer takes it.
std::string Body(int field, const google::protobuf::Message& message) {
  ddrr::trace::WireEncoder e;
  const std::string bytes = message.SerializeAsString();
  e.Bytes(static_cast<uint32_t>(field), bytes);
  return std::string(e.view());
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ddrr::trace;
  if (argc != 7) return Die("usage: trace_edit IN OUT FN NTH FIELD VALUE");
  const std::string fn = argv[3], field = argv[5];
  const long nth = strtol(argv[4], nullptr, 10);
  const long long value = strtoll(argv[6], nullptr, 10);
  auto reader = RankFileReader::Open(argv[1]);
  if (!reader.ok()) return Die(reader.status().message());
  const Footer* footer = (*reader)->footer();
  if (!footer || footer->frames_size() == 0) return Die("needs a rank file with a footer");
  std::ifstream in(argv[1], std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const std::string preamble = bytes.substr(0, footer->frames(0).offset());
  auto writer = TraceWriter::CreateWithPreamble(argv[2], preamble);
  if (!writer.ok()) return Die(writer.status().message());
  Event ev;
  EventPosition pos;
  long seen = 0;
  bool edited = false;
  while ((*reader)->Next(&ev, &pos)) {
    std::string body;
    EventMeta meta;
    if (ev.has_call()) {
      ApiCall call = ev.call();
      meta.comm_key = call.comm_key();
      meta.op_seq = call.op_seq();
      call.clear_op_seq();  // travels in the meta, as the recorder writes it
      if (EventPrinter::FunctionName(call) == fn && ++seen == nth) {
        google::protobuf::Message* args = call.GetReflection()->MutableMessage(
            &call, call.GetDescriptor()->FindFieldByNumber(call.fn_case()));
        const auto* f = args->GetDescriptor()->FindFieldByName(field);
        if (!f) return Die(fn + " has no argument " + field);
        if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_UINT64)
          args->GetReflection()->SetUInt64(args, f, static_cast<uint64_t>(value));
        else if (f->cpp_type() == google::protobuf::FieldDescriptor::CPPTYPE_INT32)
          args->GetReflection()->SetInt32(args, f, static_cast<int32_t>(value));
        else
          return Die(field + " is not an integer argument");
        edited = true;
      }
      body = Body(Event::kCall, call);
    } else if (ev.has_mark()) {
      meta.is_mark = true;
      meta.mark_step = ev.mark().step();
      meta.mark_label = ev.mark().label();
      body = Body(Event::kMark, ev.mark());
    } else {
      continue;
    }
    auto st = (*writer)->Append(pos.seq, ev.thread(), pos.time_ns, body, &meta);
    if (!st.ok()) return Die(st.message());
  }
  if (!edited) return Die("no call " + std::to_string(nth) + " of " + fn);
  auto st = (*writer)->Close(EndFactsOf(*footer));
  if (!st.ok()) return Die(st.message());
  return 0;
}
