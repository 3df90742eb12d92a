#include "bundle/rank_copy.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <unordered_set>

#include "common/crc32c.h"
#include "ddrr/trace.pb.h"
#include "spec/api_table.h"
#include "trace/format.h"
#include "trace/trace_reader.h"
#include "trace/trace_writer.h"

namespace ddrr::bundle {
namespace {

using namespace ddrr::trace;

// The input, mapped read-only.
class Mapped {
 public:
  ~Mapped() {
    if (data_) munmap(const_cast<uint8_t*>(data_), size_);
  }
  Status Open(const std::string& path) {
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return Status::FromErrno("cannot read " + path, errno);
    struct stat st {};
    if (fstat(fd, &st) != 0 || st.st_size == 0) {
      close(fd);
      return Status::Corruption(path + ": empty or unreadable rank file");
    }
    size_ = static_cast<uint64_t>(st.st_size);
    void* p = mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (p == MAP_FAILED) return Status::FromErrno("cannot map " + path, errno);
    data_ = static_cast<const uint8_t*>(p);
    return Status::Ok();
  }
  const uint8_t* data() const { return data_; }
  uint64_t size() const { return size_; }

 private:
  const uint8_t* data_ = nullptr;
  uint64_t size_ = 0;
};

class Output {
 public:
  ~Output() {
    if (f_) std::fclose(f_);
  }
  Status Open(const std::string& path) {
    path_ = path;
    f_ = std::fopen(path.c_str(), "wb");
    if (!f_) return Status::FromErrno("cannot write " + path, errno);
    return Status::Ok();
  }
  void Write(const void* p, size_t n) {
    std::fwrite(p, 1, n, f_);
    offset_ += n;
  }
  void Write32(uint32_t v) { Write(&v, 4); }
  void Write64(uint64_t v) { Write(&v, 8); }
  uint64_t offset() const { return offset_; }
  Status Close() {
    const bool ok = !std::ferror(f_) && std::fclose(f_) == 0;
    f_ = nullptr;
    if (!ok) return Status::FromErrno("cannot write " + path_, errno);
    return Status::Ok();
  }

 private:
  std::string path_;
  std::FILE* f_ = nullptr;
  uint64_t offset_ = 0;
};

void RedactHeader(Header& h, const RedactOptions& o, report::Pseudonyms& names,
                  CopyResult& result) {
  auto& env = *h.mutable_env();
  for (auto& [name, value] : env) {
    if (report::IsSecretName(name)) {
      if (value != report::kRedacted) result.redacted_env.insert(name);
      value = std::string(report::kRedacted);
    } else if (o.paths) {
      value = names.Paths(value);
    }
  }
  if (o.hosts) h.set_host(names.Host(h.host()));
  for (int i = 0; i < h.argv_size(); ++i) {
    std::string a = h.argv(i);
    if (o.cmdline && i > 0)
      a = names.Arg(a);
    else if (o.paths)
      a = names.Paths(a);
    h.set_argv(i, a);
  }
}

// The file's first bytes with the header redacted: magic and format version as they were, the
// new header's length and CRC, the header. `header_len` is the original header's length.
StatusOr<std::string> RedactedPreamble(const Mapped& m, const std::string& in,
                                       const RedactOptions& redact, report::Pseudonyms& names,
                                       CopyResult& result, uint32_t* header_len) {
  const uint8_t* d = m.data();
  const uint64_t size = m.size();
  auto damaged = [&](const std::string& what) {
    return Status::Corruption(in + ": " + what + "; `ddrr info` says what is wrong with it");
  };
  if (size < kPreambleSize || std::memcmp(d, kFileMagic, 8) != 0)
    return damaged("not a ddrr rank file");
  *header_len = Load32(d + 12);
  if (*header_len > kMaxHeaderBytes || kPreambleSize + *header_len > size)
    return damaged("header cut short");
  Header h;
  if (!h.ParseFromArray(d + kPreambleSize, static_cast<int>(*header_len)))
    return damaged("header does not decode");
  RedactHeader(h, redact, names, result);
  const std::string header = h.SerializeAsString();
  std::string preamble(reinterpret_cast<const char*>(d), 12);
  const uint32_t len = static_cast<uint32_t>(header.size()), crc = Crc32c(header.data(), len);
  preamble.append(reinterpret_cast<const char*>(&len), 4);
  preamble.append(reinterpret_cast<const char*>(&crc), 4);
  return preamble + header;
}

}  // namespace

StatusOr<CopyResult> CopyRankFile(const std::string& in, const std::string& out,
                                  const RedactOptions& redact, bool keep_payloads,
                                  report::Pseudonyms& names) {
  Mapped m;
  DDRR_RETURN_IF_ERROR(m.Open(in));
  const uint8_t* d = m.data();
  const uint64_t size = m.size();
  CopyResult result;
  uint32_t header_len = 0;
  DDRR_ASSIGN_OR_RETURN(std::string preamble,
                        RedactedPreamble(m, in, redact, names, result, &header_len));

  // Where the frames end: at the footer when it is intact, else at the end of the file.
  const uint64_t frames_begin = kPreambleSize + header_len;
  uint64_t frames_end = size;
  Footer footer;
  bool has_footer = false;
  uint64_t old_footer_at = 0;
  uint32_t footer_len = 0;
  if (LocateFooter(d, size, frames_begin, &old_footer_at, &footer_len) == FooterCheck::kOk &&
      footer.ParseFromArray(d + old_footer_at + kFooterPrefixSize, static_cast<int>(footer_len))) {
    has_footer = true;
    frames_end = old_footer_at;
  }

  Output o;
  DDRR_RETURN_IF_ERROR(o.Open(out));
  o.Write(preamble.data(), preamble.size());

  // Frames: walked by their headers; event frames copied, payload frames kept only when asked.
  // From the first frame header that does not hold together, the rest is copied as it is
  // (readers resynchronise past damage).
  std::map<uint64_t, uint64_t> moved;  // old offset -> new offset
  uint64_t pos = frames_begin;
  while (pos < frames_end) {
    if (pos + kFrameHeaderSize > frames_end) break;
    const FrameHeader fh = UnpackFrameHeader(d + pos);
    const uint64_t len = kFrameHeaderSize + uint64_t{fh.compressed_len};
    if (fh.magic != kFrameMagic || pos + len > frames_end) break;
    if (fh.kind == static_cast<uint8_t>(FrameKindCode::kPayloads) && !keep_payloads) {
      ++result.payload_frames_dropped;
      result.payload_bytes_dropped += len;
    } else {
      moved[pos] = o.offset();
      o.Write(d + pos, len);
    }
    pos += len;
  }
  const uint64_t tail_old = pos, tail_new = o.offset();
  if (pos < frames_end) o.Write(d + pos, frames_end - pos);

  if (has_footer) {
    Footer rebased = footer;
    rebased.clear_frames();
    for (const FrameIndexEntry& e : footer.frames()) {
      uint64_t to;
      if (auto it = moved.find(e.offset()); it != moved.end())
        to = it->second;
      else if (e.offset() >= tail_old && e.offset() < frames_end)
        to = tail_new + (e.offset() - tail_old);  // in the part copied as it was
      else
        continue;  // a payload frame left out
      FrameIndexEntry* n = rebased.add_frames();
      *n = e;
      n->set_offset(to);
    }
    const std::string fb = rebased.SerializeAsString();
    const uint64_t footer_at = o.offset();
    o.Write32(kFooterMagic);
    o.Write32(static_cast<uint32_t>(fb.size()));
    o.Write32(Crc32c(fb.data(), fb.size()));
    o.Write(fb.data(), fb.size());
    o.Write64(footer_at);
    o.Write(kTrailerMagic, 8);
  }
  result.bytes = o.offset();
  DDRR_RETURN_IF_ERROR(o.Close());
  return result;
}

namespace {

// Calls kept outside the window: what creates and ends communicators (a reader pairs them).
bool IsCommLifecycle(const ApiCall& c) {
  const FunctionInfo* f = FindFunction(FunctionOfField(static_cast<uint32_t>(c.fn_case())));
  return f && (f->category == "comm_create" || f->category == "comm_destroy");
}

// The call a completion, digest or payload reference belongs to; 0 for other events.
uint64_t CallOf(const Event& ev) {
  switch (ev.body_case()) {
    case Event::kCompletion:
      return ev.completion().call_seq();
    case Event::kDigest:
      return ev.digest().call_seq();
    case Event::kPayload:
      return ev.payload().call_seq();
    default:
      return 0;
  }
}

}  // namespace

StatusOr<CopyResult> CopyRankFileSteps(const std::string& in, const std::string& out,
                                       const RedactOptions& redact, bool keep_payloads,
                                       report::Pseudonyms& names, const StepWindow& window) {
  Mapped m;
  DDRR_RETURN_IF_ERROR(m.Open(in));
  CopyResult result;
  uint32_t header_len = 0;
  DDRR_ASSIGN_OR_RETURN(std::string preamble,
                        RedactedPreamble(m, in, redact, names, result, &header_len));
  DDRR_ASSIGN_OR_RETURN(std::unique_ptr<RankFileReader> reader, RankFileReader::Open(in));
  DDRR_ASSIGN_OR_RETURN(std::unique_ptr<TraceWriter> writer,
                        TraceWriter::CreateWithPreamble(out, preamble));

  // Where the events are: before the first mark (setup), before the window, in it, after it.
  enum Phase { kSetup, kBefore, kIn, kAfter } phase = kSetup;
  std::unordered_set<uint64_t> kept_calls;  // for their completions, digests and payloads
  Event ev, body;
  EventPosition pos;
  std::string bytes;
  while (reader->Next(&ev, &pos)) {
    bool keep = phase == kSetup || phase == kIn;
    switch (ev.body_case()) {
      case Event::kMark:
        phase = ev.mark().step() < window.first   ? kBefore
                : ev.mark().step() <= window.last ? kIn
                                                  : kAfter;
        keep = phase == kIn;
        result.window_marks += keep;
        break;
      case Event::kCall:
        keep = keep || IsCommLifecycle(ev.call());
        if (keep) kept_calls.insert(pos.seq);
        break;
      case Event::kCompletion:
      case Event::kDigest:
      case Event::kPayload:
        keep = kept_calls.count(CallOf(ev)) > 0;
        break;
      case Event::kThreadName:
        keep = true;
        break;
      default:
        break;
    }
    if (!keep) {
      ++result.events_cut;
      continue;
    }
    ++result.events_kept;
    // The body alone, in its plain form: the writer puts back seq, thread, time and op number.
    body = ev;
    body.clear_seq();
    body.clear_thread();
    body.clear_time_delta_ns();
    body.clear_op_seq();
    EventMeta meta;
    if (body.has_call()) {
      meta.comm_key = body.call().comm_key();
      meta.op_seq = body.call().op_seq();
      body.mutable_call()->clear_op_seq();
    } else if (body.has_mark()) {
      meta.is_mark = true;
      meta.mark_step = body.mark().step();
      meta.mark_label = body.mark().label();
    }
    body.SerializeToString(&bytes);
    DDRR_RETURN_IF_ERROR(writer->Append(pos.seq, ev.thread(), pos.time_ns, bytes, &meta));
    if (keep_payloads && ev.has_payload()) {
      auto data = reader->Payload(ev.payload().content_hash());
      if (data.ok())
        DDRR_RETURN_IF_ERROR(writer->AppendPayload(ev.payload().content_hash(), *data));
    }
  }
  const Footer* f = reader->footer();
  if (!f) {  // the rank's file had no footer: neither has its copy
    DDRR_RETURN_IF_ERROR(writer->Abandon());
  } else {
    DDRR_RETURN_IF_ERROR(writer->Close(trace::EndFactsOf(*f)));
  }
  result.bytes = writer->bytes_written();
  return result;
}

}  // namespace ddrr::bundle
