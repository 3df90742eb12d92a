#include "trace/trace_reader.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <optional>

#include "common/crc32c.h"
#include "trace/format.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace ddrr::trace {

static_assert(static_cast<int>(FrameKindCode::kEvents) == FRAME_EVENTS &&
              static_cast<int>(FrameKindCode::kPayloads) == FRAME_PAYLOADS);
static_assert(kEndExit == END_EXIT && kEndSignal == END_SIGNAL && kEndSalvaged == END_SALVAGED &&
              kEndClosed == END_CLOSED && kEndLive == END_LIVE);

namespace {

// Reads a varint from [p, end); returns bytes consumed, 0 when malformed or cut short.
size_t ReadVarint(const uint8_t* p, const uint8_t* end, uint64_t* out) {
  uint64_t v = 0;
  for (size_t i = 0; i < 10 && p + i < end; ++i) {
    v |= uint64_t(p[i] & 0x7f) << (7 * i);
    if (!(p[i] & 0x80)) {
      *out = v;
      return i + 1;
    }
  }
  return 0;
}

}  // namespace

std::string TraceProblem::ToString() const {
  if (file.empty()) return message;
  return file + ": offset " + std::to_string(offset) + ": " + message;
}

StatusOr<std::unique_ptr<RankFileReader>> RankFileReader::Open(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Status::FromErrno("open " + path, errno);
  struct stat st;
  if (fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return Status::FromErrno("stat " + path, err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Status::InvalidArgument(path + ": is a directory, expected a rank file");
  }
  void* map = nullptr;
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size > 0) {
    map = mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (map == MAP_FAILED) {
      int err = errno;
      ::close(fd);
      return Status::FromErrno("mmap " + path, err);
    }
    madvise(map, size, MADV_SEQUENTIAL);
  }
  ::close(fd);
  std::unique_ptr<RankFileReader> r(
      new RankFileReader(path, static_cast<const uint8_t*>(map), size, map));
  DDRR_RETURN_IF_ERROR(r->ReadPreamble());
  // The header and footer are parsed: their pages need not stay mapped until events are read
  // (a run of thousands of ranks opens every file before reading any).
  r->ReleaseMemory();
  return r;
}

StatusOr<std::unique_ptr<RankFileReader>> RankFileReader::OpenMemory(std::string name,
                                                                     std::string_view bytes) {
  std::unique_ptr<RankFileReader> r(new RankFileReader(
      std::move(name), reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), nullptr));
  DDRR_RETURN_IF_ERROR(r->ReadPreamble());
  return r;
}

RankFileReader::RankFileReader(std::string name, const uint8_t* data, uint64_t size, void* mapping)
    : name_(std::move(name)), data_(data), size_(size), mapping_(mapping) {}

RankFileReader::~RankFileReader() {
  if (mapping_) munmap(mapping_, size_);
}

void RankFileReader::AddProblem(uint64_t offset, std::string message) {
  // Rewind + re-read must not report the same damage twice; a badly damaged file must not
  // flood the report.
  constexpr size_t kMaxProblems = 1000;
  if (!seen_problems_.emplace(offset, message).second) return;
  if (problems_.size() == kMaxProblems) {
    problems_.push_back({name_, offset, "more damage follows; further problems not listed"});
    return;
  }
  if (problems_.size() > kMaxProblems) return;
  problems_.push_back({name_, offset, std::move(message)});
}

Status RankFileReader::ReadPreamble() {
  auto corrupt = [&](uint64_t off, const std::string& msg) {
    return Status::Corruption(name_ + ": offset " + std::to_string(off) + ": " + msg);
  };
  Preamble p;
  const PreambleCheck check = CheckPreamble(data_, size_, &p);
  version_ = p.version;
  const uint32_t header_len = p.header_len;
  switch (check) {
    case PreambleCheck::kOk:
      break;
    case PreambleCheck::kEmpty:
      return corrupt(0,
                     "empty file; the rank wrote nothing (killed at start?); look for its "
                     ".spool beside it");
    case PreambleCheck::kBadMagic:
      return corrupt(0, "not a ddrr trace (bad magic); pass a run directory or a rank-N.ddrr file");
    case PreambleCheck::kTruncated:
      return corrupt(size_, "file ends inside the preamble (" + std::to_string(size_) +
                                " bytes); the trace is truncated");
    case PreambleCheck::kTooNew:
      return Status::UnsupportedVersion(name_ + ": offset 8: trace format version " +
                                        std::to_string(version_) +
                                        " is newer than this ddrr reads (" +
                                        std::to_string(kFormatVersion) + "); use a newer ddrr");
    case PreambleCheck::kTooOld:
      return corrupt(8, "format version " + std::to_string(version_) + " is not a valid version");
    case PreambleCheck::kBadHeaderLength:
      return corrupt(12, "header length " + std::to_string(header_len) + " is implausible");
    case PreambleCheck::kHeaderTruncated:
      return corrupt(size_, "file ends inside the header (needs " +
                                std::to_string(kPreambleSize + header_len) +
                                " bytes); the trace is truncated");
    case PreambleCheck::kBadHeaderCrc:
      return corrupt(kPreambleSize, "header checksum mismatch; the header is damaged");
  }
  if (!header_.ParseFromArray(data_ + kPreambleSize, static_cast<int>(header_len)))
    return corrupt(kPreambleSize, "header does not decode");
  frames_begin_ = kPreambleSize + header_len;
  frames_end_ = size_;
  pos_ = frames_begin_;
  ReadFooter();
  return Status::Ok();
}

void RankFileReader::ReadFooter() {
  uint64_t footer_off = 0;
  uint32_t len = 0;
  const FooterCheck check = LocateFooter(data_, size_, frames_begin_, &footer_off, &len);
  if (check == FooterCheck::kNoTrailer) {
    AddProblem(size_,
               "no footer: the rank did not close its trace (killed, or still running); "
               "reading frames by scanning");
    return;
  }
  if (check == FooterCheck::kBadOffset) {
    AddProblem(size_ - kTrailerSize, "footer offset is damaged; reading frames by scanning");
    return;
  }
  if (check != FooterCheck::kOk ||
      !footer_.ParseFromArray(data_ + footer_off + kFooterPrefixSize, static_cast<int>(len))) {
    AddProblem(footer_off, "footer is damaged; reading frames by scanning");
    footer_.Clear();
    frames_end_ = footer_off;
    return;
  }
  has_footer_ = true;
  // A process with no rank variable learnt its rank from its first communicator after the
  // header was written: readers see the rank it really had.
  if (footer_.has_assigned_rank()) {
    header_.set_rank(footer_.assigned_rank());
    header_.set_world_size(footer_.assigned_world_size());
    header_.set_rank_source("first communicator");
  }
  frames_end_ = footer_off;
}

bool RankFileReader::ValidFrameAt(uint64_t off, FrameHeader* h) const {
  return FrameVerifies(data_, off, frames_end_, h);  // off may come from the index
}

// Finds the next frame at or after `from` that verifies; the index gives candidates directly.
void RankFileReader::Resync(uint64_t from) {
  FrameHeader h;
  if (has_footer_) {
    for (const auto& f : footer_.frames()) {
      if (f.offset() >= from && ValidFrameAt(f.offset(), &h)) {
        pos_ = f.offset();
        return;
      }
    }
    done_ = true;
    return;
  }
  for (uint64_t off = from; off + kFrameHeaderSize <= frames_end_; ++off) {
    const void* hit = memchr(data_ + off, 'D', frames_end_ - off);
    if (!hit) break;
    off = static_cast<const uint8_t*>(hit) - data_;
    if (ValidFrameAt(off, &h)) {
      pos_ = off;
      return;
    }
  }
  done_ = true;
}

bool RankFileReader::LoadNextFrame() {
  if (recent_ops_.empty()) recent_ops_.resize(kRecentCalls);
  while (!done_) {
    if (pos_ >= frames_end_) {
      done_ = true;
      return false;
    }
    const uint64_t off = pos_;
    if (off + 4 <= frames_end_ && Load32(data_ + off) == kFooterMagic && !has_footer_) {
      done_ = true;  // a footer that did not verify; already reported
      return false;
    }
    if (off + kFrameHeaderSize > frames_end_) {
      AddProblem(off, "file ends inside a frame header (" + std::to_string(frames_end_ - off) +
                          " bytes left); the trace is truncated");
      done_ = true;
      return false;
    }
    FrameHeader h = UnpackFrameHeader(data_ + off);
    if (h.magic != kFrameMagic) {
      AddProblem(off, "bad frame magic; skipping to the next intact frame");
      Resync(off + 1);
      continue;
    }
    if (h.compressed_len > frames_end_ - off - kFrameHeaderSize) {
      AddProblem(off, "frame truncated (needs " + std::to_string(h.compressed_len) + " bytes, " +
                          std::to_string(frames_end_ - off - kFrameHeaderSize) +
                          " left): " + std::to_string(h.event_count) + " events from seq " +
                          std::to_string(h.first_seq) + " lost");
      Resync(off + 1);
      continue;
    }
    FrameHeader checked;
    if (!ValidFrameAt(off, &checked)) {
      AddProblem(off, "frame checksum mismatch: skipped, " + std::to_string(h.event_count) +
                          " events from seq " + std::to_string(h.first_seq) + " lost");
      Resync(off + 1);
      continue;
    }
    pos_ = off + kFrameHeaderSize + h.compressed_len;
    if (h.kind == static_cast<uint8_t>(FrameKindCode::kPayloads)) {
      ++payload_frames_;
      continue;
    }
    if (h.kind != static_cast<uint8_t>(FrameKindCode::kEvents)) continue;  // newer kinds: skip
    if (h.raw_len > kMaxFrameRawBytes) {
      AddProblem(off, "frame claims " + std::to_string(h.raw_len) + " bytes; skipped");
      continue;
    }
    raw_.resize(h.raw_len);
    size_t n =
        ZSTD_decompress(raw_.data(), raw_.size(), data_ + off + kFrameHeaderSize, h.compressed_len);
    if (ZSTD_isError(n) || n != h.raw_len) {
      AddProblem(off, std::string("frame does not decompress (") +
                          (ZSTD_isError(n) ? ZSTD_getErrorName(n) : "size mismatch") +
                          "): skipped, " + std::to_string(h.event_count) + " events lost");
      continue;
    }
    cursor_ = 0;
    frame_offset_ = off;
    frame_first_ = true;
    frame_last_op_.clear();
    return true;
  }
  return false;
}

StatusOr<std::string> RankFileReader::CallPayload(uint64_t call_seq, int role) {
  Rewind();
  std::optional<uint64_t> hash;
  Event ev;
  EventPosition pos;
  while (!hash && Next(&ev, &pos)) {
    if (ev.has_payload() && ev.payload().call_seq() == call_seq && ev.payload().role() == role)
      hash = ev.payload().content_hash();
  }
  Rewind();
  if (!hash) return Status::NotFound("no payload recorded for call #" + std::to_string(call_seq));
  DDRR_ASSIGN_OR_RETURN(std::string data, Payload(*hash));
  if (XXH64(data.data(), data.size(), 0) != *hash) {
    return Status::Corruption(name_ + ": payload of call #" + std::to_string(call_seq) +
                              " does not match its recorded hash; the file is damaged");
  }
  return data;
}

StatusOr<std::string> RankFileReader::Payload(uint64_t content_hash) const {
  FrameHeader h;
  std::string raw;
  ddrr::trace::Payload entry;
  // Every intact payload frame in file order; damaged bytes are stepped over one at a time.
  for (uint64_t off = frames_begin_; off + kFrameHeaderSize <= frames_end_;) {
    if (!ValidFrameAt(off, &h)) {
      ++off;
      continue;
    }
    const uint64_t next = off + kFrameHeaderSize + h.compressed_len;
    if (h.kind == static_cast<uint8_t>(FrameKindCode::kPayloads) &&
        h.raw_len <= kMaxFrameRawBytes) {
      raw.resize(h.raw_len);
      const size_t n =
          ZSTD_decompress(raw.data(), raw.size(), data_ + off + kFrameHeaderSize, h.compressed_len);
      if (!ZSTD_isError(n) && n == h.raw_len) {
        const auto* p = reinterpret_cast<const uint8_t*>(raw.data());
        const auto* end = p + raw.size();
        while (p < end) {
          uint64_t len = 0;
          const size_t used = ReadVarint(p, end, &len);
          if (used == 0 || len > uint64_t(end - p) - used ||
              !entry.ParseFromArray(p + used, static_cast<int>(len)))
            break;
          if (entry.content_hash() == content_hash) return std::move(*entry.mutable_data());
          p += used + len;
        }
      }
    }
    off = next;
  }
  char hex[17];
  snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(content_hash));
  return Status::NotFound(name_ + ": no payload " + hex + " in its payload frames");
}

bool RankFileReader::Next(Event* event, EventPosition* pos) {
  for (;;) {
    if (cursor_ >= raw_.size()) {
      raw_.clear();
      cursor_ = 0;
      if (!LoadNextFrame()) return false;
    }
    const auto* p = reinterpret_cast<const uint8_t*>(raw_.data()) + cursor_;
    const auto* end = reinterpret_cast<const uint8_t*>(raw_.data()) + raw_.size();
    uint64_t len = 0;
    size_t used = ReadVarint(p, end, &len);
    if (used == 0 || len > uint64_t(end - p) - used ||
        !event->ParseFromArray(p + used, static_cast<int>(len))) {
      AddProblem(frame_offset_, "malformed event at byte " + std::to_string(cursor_) +
                                    " of the frame; rest of the frame skipped");
      cursor_ = raw_.size();
      continue;
    }
    cursor_ += used + len;
    const uint64_t seq = event->has_seq() ? event->seq() : prev_seq_ + 1;
    const uint64_t time = (frame_first_ ? 0 : prev_time_) + event->time_delta_ns();
    frame_first_ = false;
    prev_seq_ = seq;
    prev_time_ = time;
    ResolveWireFields(event, seq);
    if (seq < skip_below_seq_) continue;
    skip_below_seq_ = 0;
    if (pos) {
      pos->seq = seq;
      pos->time_ns = time;
      pos->frame_offset = frame_offset_;
    }
    return true;
  }
}

// Turns the wire forms (relative call references, implicit op numbers) into the plain fields
// consumers read: ApiCall.op_seq, Completion/Digest/PayloadRef.call_seq, Completion.op_seq.
void RankFileReader::ResolveWireFields(Event* event, uint64_t seq) {
  switch (event->body_case()) {
    case Event::kCall: {
      ApiCall* call = event->mutable_call();
      if (!call->comm_key()) break;
      auto [it, fresh] = frame_last_op_.try_emplace(call->comm_key(), 0);
      const uint64_t op = event->has_op_seq() ? event->op_seq() : (fresh ? 0 : it->second + 1);
      it->second = op;
      call->set_op_seq(op);
      event->clear_op_seq();
      recent_ops_[seq % kRecentCalls] = {seq, op};
      break;
    }
    case Event::kCompletion: {
      Completion* c = event->mutable_completion();
      if (c->call_seq_back() && c->call_seq_back() <= seq) {
        c->set_call_seq(seq - c->call_seq_back());
        c->clear_call_seq_back();
      }
      const auto& recent = recent_ops_[c->call_seq() % kRecentCalls];
      if (!c->op_seq() && recent.first == c->call_seq() && c->call_seq())
        c->set_op_seq(recent.second);
      break;
    }
    case Event::kDigest:
      if (auto* d = event->mutable_digest(); d->call_seq_back() && d->call_seq_back() <= seq) {
        d->set_call_seq(seq - d->call_seq_back());
        d->clear_call_seq_back();
      }
      break;
    case Event::kPayload:
      if (auto* p = event->mutable_payload(); p->call_seq_back() && p->call_seq_back() <= seq) {
        p->set_call_seq(seq - p->call_seq_back());
        p->clear_call_seq_back();
      }
      break;
    default:
      break;
  }
}

void RankFileReader::Rewind() {
  pos_ = frames_begin_;
  raw_.clear();
  cursor_ = 0;
  done_ = false;
  skip_below_seq_ = 0;
  payload_frames_ = 0;
}

void RankFileReader::ReleaseMemory() {
  std::string().swap(raw_);
  cursor_ = 0;
  std::vector<std::pair<uint64_t, uint64_t>>().swap(recent_ops_);
  // A read-only private mapping: dropping the pages loses nothing, the next access faults them
  // back in from the page cache.
  if (mapping_) madvise(mapping_, size_, MADV_DONTNEED);
}

void RankFileReader::SeekToSeq(uint64_t seq) {
  Rewind();
  skip_below_seq_ = seq;
  if (!has_footer_) return;
  uint64_t best = frames_begin_;
  for (const auto& f : footer_.frames()) {
    if (f.kind() == FRAME_EVENTS && f.first_seq() <= seq) best = std::max(best, f.offset());
  }
  pos_ = best;
}

std::string CaptureLevelName(int level) {
  if (!CaptureLevel_IsValid(level)) return "unknown";
  std::string name = CaptureLevel_Name(static_cast<CaptureLevel>(level));
  name.erase(0, std::string_view("CAPTURE_").size());
  for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return name;
}

FooterInfo EndFactsOf(const Footer& footer) {
  FooterInfo info;
  info.end_reason = footer.end_reason();
  info.exit_status = footer.exit_status();
  info.signal = footer.signal();
  info.end_time_ns = footer.end_time_ns();
  info.dropped_events = footer.dropped_events();
  info.has_assigned_rank = footer.has_assigned_rank();
  info.assigned_rank = footer.assigned_rank();
  info.assigned_world_size = footer.assigned_world_size();
  return info;
}

}  // namespace ddrr::trace
